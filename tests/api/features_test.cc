// Features over HTTP (issue 22): /v1/features CRUD and evaluate, the SDK payload at
// /api/features/{clientKey} (ETag, CORS, encryption, revocation), the /sub stream,
// and exposures posted with a client key. The payload's evaluation by the real
// npm GrowthBook SDK is web/test/sdk_test.mjs; its rules' equivalence with the
// SDK's JavaScript is tests/app/feature_test.cc.
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "crypto/crypto.h"
#include "test_server.h"

namespace causeway {
namespace {

using Json = nlohmann::json;
using testing::TestServer;

void CreateRunningExperiment(const TestServer& s, const std::string& key) {
  auto r = s.Post("/v1/experiments", s.admin_key,
                  {{"key", key}, {"variants", {{{"key", "control"}}, {{"key", "blue"}}}}});
  REQUIRE(r.status == 201);
  REQUIRE(s.Patch("/v1/experiments/" + key, s.admin_key, {{"status", "running"}}).status == 200);
}

Json ColourFeature() {
  return {{"key", "button-colour"},
          {"value_type", "string"},
          {"default_value", "grey"},
          {"rules",
           {{{"type", "force"}, {"value", "red"}, {"condition", {{"country", "FR"}}}},
            {{"type", "experiment"}, {"experiment", "btn"}, {"values", {"grey", "blue"}}}}}};
}

struct ClientKey {
  std::string id, key, decryption_key;
};

ClientKey NewClientKey(const TestServer& s, bool encrypt) {
  Json body = {{"scope", "client"}, {"name", "web"}};
  if (encrypt) body["encrypt_payload"] = true;
  auto r = s.Post("/v1/keys", s.admin_key, body);
  REQUIRE(r.status == 201);
  REQUIRE(r.body["scope"] == "client");
  ClientKey k{r.body["id"], r.body["key"], ""};
  if (encrypt) {
    REQUIRE(r.body["decryption_key"].is_string());
    k.decryption_key = r.body["decryption_key"];
  } else {
    CHECK(r.body["decryption_key"].is_null());
  }
  return k;
}

std::string Header(const TestServer::Reply& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

TEST_CASE("features: create, list, patch, delete; each bad field named", "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  auto created = s.Post("/v1/features", s.admin_key, ColourFeature());
  REQUIRE(created.status == 201);
  CHECK(created.body["key"] == "button-colour");
  CHECK(created.body["rules"].size() == 2);
  CHECK(s.Post("/v1/features", s.admin_key, ColourFeature()).status == 409);
  CHECK(s.Get("/v1/features", s.admin_key).body["features"].size() == 1);
  CHECK(s.Get("/v1/features/button-colour", s.sdk_key).status == 403);  // admin only

  struct Bad {
    Json patch;
    const char* field;
  };
  const Bad bad[] = {
      {{{"default_value", 3}}, "default_value"},
      {{{"colour", 1}}, "colour"},
      {{{"rules", {{{"type", "experiment"}, {"experiment", "btn"}, {"values", {"a"}}}}}},
       "rules[0].values"},
      {{{"rules", {{{"type", "experiment"}, {"experiment", "nope"}, {"values", {"a", "b"}}}}}},
       "rules[0].experiment"},
      {{{"rules", {{{"type", "rollout"}, {"value", "x"}, {"coverage", 1.5}}}}},
       "rules[0].coverage"},
      {{{"rules", {{{"type", "force"}, {"value", 7}}}}}, "rules[0].value"},
      {{{"rules", {{{"type", "teleport"}}}}}, "rules[0].type"},
  };
  for (const Bad& b : bad) {
    INFO(b.patch.dump());
    auto r = s.Patch("/v1/features/button-colour", s.admin_key, b.patch);
    // An unknown experiment is a 404 (a named thing that does not exist).
    CHECK(r.status == (std::string(b.field) == "rules[0].experiment" ? 404 : 400));
    CHECK(r.body["error"]["field"] == b.field);
  }
  // Nothing of a refused patch was stored.
  CHECK(s.Get("/v1/features/button-colour", s.admin_key).body == created.body);

  auto patched = s.Patch("/v1/features/button-colour", s.admin_key, {{"default_value", "green"}});
  REQUIRE(patched.status == 200);
  CHECK(patched.body["default_value"] == "green");
  CHECK(s.Delete("/v1/features/button-colour", s.admin_key).status == 200);
  CHECK(s.Get("/v1/features/button-colour", s.admin_key).status == 404);
}

TEST_CASE("features: evaluate answers a value and why", "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  REQUIRE(s.Post("/v1/features", s.admin_key, ColourFeature()).status == 201);
  auto forced =
      s.Get("/v1/features/button-colour/evaluate?user=u1&attributes=%7B%22country%22%3A%22FR%22%7D",
            s.sdk_key);
  REQUIRE(forced.status == 200);
  CHECK(forced.body["value"] == "red");
  CHECK(forced.body["source"] == "force");
  CHECK(forced.body["rule_index"] == 0);
  // Elsewhere the experiment decides, as /v1/assign does.
  int seen_blue = 0;
  for (int u = 0; u < 40; ++u) {
    const std::string user = "u" + std::to_string(u);
    auto e = s.Get("/v1/features/button-colour/evaluate?user=" + user, s.sdk_key);
    REQUIRE(e.status == 200);
    CHECK(e.body["source"] == "experiment");
    auto a = s.Get("/v1/assign?experiment=btn&user=" + user, s.sdk_key);
    REQUIRE(a.status == 200);
    CHECK(e.body["variant"] == a.body["variant"]);
    CHECK(e.body["value"] == (a.body["variant"] == "blue" ? "blue" : "grey"));
    CHECK(a.body["features"] == Json{{"button-colour", e.body["value"]}});
    seen_blue += e.body["variant"] == "blue";
  }
  CHECK(seen_blue > 5);
  CHECK(seen_blue < 35);
  CHECK(s.Get("/v1/features/nope/evaluate?user=u1", s.sdk_key).status == 404);
  auto no_user = s.Get("/v1/features/button-colour/evaluate", s.sdk_key);
  CHECK(no_user.status == 400);
  CHECK(no_user.body["error"]["field"] == "user");
  auto bad_attrs =
      s.Get("/v1/features/button-colour/evaluate?user=u&attributes=%5B1%5D", s.sdk_key);
  CHECK(bad_attrs.status == 400);
  CHECK(bad_attrs.body["error"]["field"] == "attributes");
}

TEST_CASE("payload: GrowthBook's shape, ETag and 304, CORS, revocation at once", "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  REQUIRE(s.Post("/v1/features", s.admin_key, ColourFeature()).status == 201);
  const ClientKey client = NewClientKey(s, false);
  auto p = s.Get("/api/features/" + client.key, "");
  REQUIRE(p.status == 200);
  const Json& rules = p.body["features"]["button-colour"]["rules"];
  REQUIRE(rules.size() == 2);
  CHECK(rules[0]["force"] == "red");
  CHECK(rules[0]["condition"] == Json{{"country", "FR"}});
  CHECK(rules[1]["key"] == "btn");
  CHECK(rules[1]["variations"] == Json{"grey", "blue"});
  CHECK(rules[1]["weights"] == Json{0.5, 0.5});
  CHECK(rules[1]["hashAttribute"] == "id");
  CHECK(p.body["features"]["button-colour"]["defaultValue"] == "grey");
  CHECK(p.body["dateUpdated"].is_string());
  CHECK(Header(p, "Access-Control-Allow-Origin") == "*");
  CHECK(Header(p, "x-sse-support") == "enabled");
  const std::string etag = Header(p, "ETag");
  REQUIRE_FALSE(etag.empty());

  httplib::Client c = s.Client();
  auto again = c.Get("/api/features/" + client.key, {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->body.empty());
  // A change makes a new ETag.
  REQUIRE(s.Patch("/v1/features/button-colour", s.admin_key, {{"default_value", "green"}}).status ==
          200);
  auto changed = c.Get("/api/features/" + client.key, {{"If-None-Match", etag}});
  REQUIRE(changed);
  CHECK(changed->status == 200);
  CHECK(changed->get_header_value("ETag") != etag);

  // Other scopes' keys and unknown keys do not open the payload; a client key opens
  // nothing but the payload and exposures.
  CHECK(s.Get("/api/features/" + s.sdk_key, "").status == 401);
  CHECK(s.Get("/api/features/cw_client_00000000000000000000000000000000", "").status == 401);
  CHECK(s.Get("/v1/assign?experiment=btn&user=u", client.key).status == 403);
  CHECK(s.Get("/v1/features", client.key).status == 403);

  REQUIRE(s.Call("POST", "/v1/keys/" + client.id + "/revoke", s.admin_key).status == 200);
  auto revoked = s.Get("/api/features/" + client.key, "");
  CHECK(revoked.status == 401);
  CHECK(revoked.body["error"]["field"] == "clientKey");
}

TEST_CASE("payload: encrypted per client key, decrypts to the plain payload's features",
          "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  REQUIRE(s.Post("/v1/features", s.admin_key, ColourFeature()).status == 201);
  const ClientKey plain = NewClientKey(s, false);
  const ClientKey secret = NewClientKey(s, true);
  auto p = s.Get("/api/features/" + plain.key, "");
  auto e = s.Get("/api/features/" + secret.key, "");
  REQUIRE(p.status == 200);
  REQUIRE(e.status == 200);
  CHECK(e.body["features"] == Json::object());
  const std::string text = e.body["encryptedFeatures"];
  const size_t dot = text.find('.');
  REQUIRE(dot != std::string::npos);
  auto key = crypto::Base64Decode(secret.decryption_key);
  auto iv = crypto::Base64Decode(text.substr(0, dot));
  auto ct = crypto::Base64Decode(text.substr(dot + 1));
  REQUIRE(key);
  REQUIRE(key->size() == 16);
  REQUIRE(iv);
  REQUIRE(ct);
  auto features = crypto::Aes128CbcDecrypt(*key, *iv, *ct);
  REQUIRE(features);
  CHECK(Json::parse(*features) == p.body["features"]);
  // The same payload encrypts the same (a cached answer, a stable ETag).
  CHECK(s.Get("/api/features/" + secret.key, "").body["encryptedFeatures"] == text);
  // The admin list shows it again (the SDK configuration needs it; it is no secret
  // from a browser that holds it); keys without encryption show null.
  const auto keys = s.Get("/v1/keys", s.admin_key);
  int client_keys = 0;
  for (const Json& k : keys.body["keys"]) {
    if (k["scope"] != "client") {
      CHECK_FALSE(k.contains("decryption_key"));
      continue;
    }
    client_keys++;
    CHECK(k["decryption_key"] == (k["id"] == secret.id ? Json(secret.decryption_key) : Json()));
  }
  CHECK(client_keys == 2);
}

TEST_CASE("stream: /sub/{clientKey} sends the payload, then each change", "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  REQUIRE(s.Post("/v1/features", s.admin_key, ColourFeature()).status == 201);
  const ClientKey client = NewClientKey(s, false);
  std::mutex mu;
  std::string received;
  bool done = false;
  std::thread reader([&] {
    httplib::Client c = s.Client();
    c.Get("/sub/" + client.key, [&](const char* data, size_t n) {
      std::lock_guard lock(mu);
      received.append(data, n);
      return !done;
    });
  });
  auto wait_for = [&](const std::string& needle, int ms) {
    for (int waited = 0; waited < ms; waited += 10) {
      {
        std::lock_guard lock(mu);
        if (received.find(needle) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  CHECK(wait_for("event: features\ndata: {", 2000));
  CHECK(wait_for("\"defaultValue\":\"grey\"", 100));
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(s.Patch("/v1/features/button-colour", s.admin_key, {{"default_value", "green"}}).status ==
          200);
  CHECK(wait_for("\"defaultValue\":\"green\"", 2000));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  {
    std::lock_guard lock(mu);
    done = true;
  }
  // The stream ends at the next event; another change sends one.
  REQUIRE(s.Patch("/v1/features/button-colour", s.admin_key, {{"default_value", "blue"}}).status ==
          200);
  reader.join();
  CHECK(s.Get("/sub/cw_client_00000000000000000000000000000000", "").status == 401);
}

TEST_CASE("exposures: a client key may post exposures, by variant key or index, nothing else",
          "[features]") {
  TestServer s;
  CreateRunningExperiment(s, "btn");
  const ClientKey client = NewClientKey(s, false);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Json events = Json::array();
  events.push_back({{"type", "exposure"},
                    {"id", "btn:u1"},
                    {"experiment", "btn"},
                    {"user", "u1"},
                    {"variant", "blue"},
                    {"ts", now}});
  events.push_back({{"type", "exposure"},
                    {"id", "btn:u2"},
                    {"experiment", "btn"},
                    {"user", "u2"},
                    {"variant", 0},
                    {"ts", now}});
  auto ok = s.Post("/v1/events", client.key, {{"events", events}});
  REQUIRE(ok.status == 200);
  CHECK(ok.body["accepted"] == 2);
  CHECK(Header(ok, "Access-Control-Allow-Origin") == "*");

  Json conversion = {
      {"events",
       {{{"type", "conversion"}, {"id", "c1"}, {"user", "u1"}, {"event", "buy"}, {"ts", now}}}}};
  auto refused = s.Post("/v1/events", client.key, conversion);
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["field"] == "events[0].type");
  CHECK(s.Post("/v1/events", s.sdk_key, conversion).status == 200);

  auto exposures = s.Get("/v1/experiments/btn/exposures", s.admin_key);
  REQUIRE(exposures.status == 200);
  int control = 0, blue = 0;
  for (const Json& v : exposures.body["variants"]) {
    (v["variant"] == "control" ? control : blue) = v["users"];
  }
  CHECK(control == 1);
  CHECK(blue == 1);

  // The browser's preflight.
  httplib::Client c = s.Client();
  auto pre = c.Options("/v1/events", {{"Origin", "https://shop.example"},
                                      {"Access-Control-Request-Method", "POST"},
                                      {"Access-Control-Request-Headers", "authorization"}});
  REQUIRE(pre);
  CHECK(pre->status == 204);
  CHECK(pre->get_header_value("Access-Control-Allow-Origin") == "*");
  CHECK(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization") !=
        std::string::npos);
}

}  // namespace
}  // namespace causeway
