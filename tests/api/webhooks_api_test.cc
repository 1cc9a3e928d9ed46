// /v1/webhooks and /v1/alerts over HTTP: validation (every field, unknown fields
// named), the URL policy at creation, the secret shown once, deletion, the history.
// Deliveries themselves: tests/notify and web/test/webhooks_test.mjs.
#include <catch2/catch.hpp>

#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

TestServer::Reply Delete(const TestServer& s, const std::string& path, const std::string& body) {
  httplib::Client c = s.Client();
  httplib::Result r =
      c.Delete(path, {{"Authorization", "Bearer " + s.admin_key}}, body, "application/json");
  TestServer::Reply out;
  if (!r) return out;
  out.status = r->status;
  out.body = Json::parse(r->body, nullptr, false);
  return out;
}

std::string FieldOf(const TestServer::Reply& r) { return r.body["error"].value("field", ""); }

}  // namespace

TEST_CASE("webhooks: every field is validated and unknown fields are named") {
  causeway::api::ServerOptions o;
  o.webhooks.allow_private = true;
  TestServer s(o);
  const std::pair<Json, std::string> bad[] = {
      {Json::object(), "url"},
      {{{"url", "http://127.0.0.1:9/"}, {"kind", Json::array({"srm"})}}, "kind"},
      {{{"url", 5}}, "url"},
      {{{"url", "ftp://127.0.0.1/"}}, "url"},
      {{{"url", "http://u:p@127.0.0.1/"}}, "url"},
      {{{"url", "http://127.0.0.1:9/"}, {"kinds", Json::array({"srm", "nope"})}}, "kinds[1]"},
      {{{"url", "http://127.0.0.1:9/"}, {"kinds", Json::array({"srm", "srm"})}}, "kinds[1]"},
      {{{"url", "http://127.0.0.1:9/"}, {"kinds", Json::array()}}, "kinds"},
      {{{"url", "http://127.0.0.1:9/"}, {"kinds", "srm"}}, "kinds"},
      {{{"url", "http://127.0.0.1:9/"}, {"format", "teams"}}, "format"},
      {{{"url", "http://127.0.0.1:9/"}, {"description", std::string(201, 'x')}}, "description"},
      {{{"url", "http://127.0.0.1:9/"}, {"description", "a\nb"}}, "description"},
  };
  for (const auto& [body, field] : bad) {
    INFO(body.dump());
    auto r = s.Call("POST", "/v1/webhooks", s.admin_key, body.dump());
    CHECK(r.status == 400);
    CHECK(FieldOf(r) == field);
  }
  CHECK(s.Call("POST", "/v1/webhooks", s.sdk_key, R"({"url":"http://127.0.0.1:9/"})").status ==
        403);

  auto created = s.Call("POST", "/v1/webhooks", s.admin_key,
                        R"({"url":"http://127.0.0.1:9/h","kinds":["srm","rule"],)"
                        R"("format":"slack","description":"growth team"})");
  REQUIRE(created.status == 201);
  const std::string id = created.body["id"];
  CHECK(created.body["secret"].get<std::string>().rfind("whsec_", 0) == 0);
  CHECK(created.body["kinds"] == Json::array({"srm", "rule"}));
  CHECK(created.body["format"] == "slack");
  auto list = s.Get("/v1/webhooks", s.admin_key);
  REQUIRE(list.body["webhooks"].size() == 1);
  CHECK_FALSE(list.body["webhooks"][0].contains("secret"));
  CHECK(list.raw.find("whsec_") == std::string::npos);

  CHECK(s.Call("POST", "/v1/webhooks/" + id + "/test", s.admin_key, R"({"x":1})").status == 400);
  CHECK(s.Call("POST", "/v1/webhooks/wh_nope/test", s.admin_key).status == 404);
  auto test = s.Call("POST", "/v1/webhooks/" + id + "/test", s.admin_key);
  REQUIRE(test.status == 202);
  CHECK(test.body["alert"]["kind"] == "test");
  CHECK(test.body["alert"]["webhook"] == id);
  CHECK(test.body["alert"]["deliveries"][0]["webhook_id"] == id);
  auto alerts = s.Get("/v1/alerts?since=0", s.admin_key);
  REQUIRE(alerts.status == 200);
  REQUIRE(alerts.body["alerts"].size() == 1);
  CHECK(alerts.body["alerts"][0]["statistic"].is_object());

  CHECK(Delete(s, "/v1/webhooks/" + id, R"({"force":true})").status == 400);
  CHECK(Delete(s, "/v1/webhooks/" + id, "").status == 200);
  CHECK(Delete(s, "/v1/webhooks/" + id, "").status == 404);
  CHECK(s.Get("/v1/webhooks", s.admin_key).body["webhooks"].empty());
}

TEST_CASE("webhooks: loopback, private and metadata addresses are refused by default") {
  TestServer s;
  for (const char* url : {"http://127.0.0.1:9/", "http://localhost/", "http://10.0.0.1/",
                          "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                          "http://192.168.1.10/", "http://0.0.0.0/", "http://[fd00::1]/"}) {
    INFO(url);
    auto r = s.Call("POST", "/v1/webhooks", s.admin_key, Json{{"url", url}}.dump());
    CHECK(r.status == 400);
    CHECK(FieldOf(r) == "url");
  }
}

TEST_CASE("alerts: query parameters are validated") {
  TestServer s;
  for (const char* q : {"since=-1", "since=x", "limit=0", "limit=1001", "limit=2.5", "sinse=0"}) {
    INFO(q);
    auto r = s.Get(std::string("/v1/alerts?") + q, s.admin_key);
    CHECK(r.status == 400);
  }
  CHECK(FieldOf(s.Get("/v1/alerts?sinse=0", s.admin_key)) == "sinse");
  auto r = s.Get("/v1/alerts?since=0&limit=5", s.admin_key);
  CHECK(r.status == 200);
  CHECK(r.body["alerts"].empty());
}
