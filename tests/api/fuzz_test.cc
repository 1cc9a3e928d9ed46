// Seeded mutation test: every JSON endpoint, fed valid bodies with one or two
// fields replaced by values of the wrong kind, answers a well-formed JSON success
// or error (never 5xx, never a crash or a hang). Run under ASan+UBSan in CI too.
#include <catch2/catch.hpp>

#include <random>

#include "api/codec/json_util.h"
#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

// Values that break assumptions: wrong types, extremes, deep nesting, odd strings.
std::vector<Json> Hostile() {
  Json deep = 1;
  for (int i = 0; i < 200; ++i) deep = Json::array({deep});
  return {nullptr,
          true,
          0,
          -1,
          1e308,
          -1e308,
          9223372036854775807LL,
          18446744073709551615ULL,
          0.5,
          "",
          "x",
          std::string(5000, 'a'),
          "\xc3\x28",  // invalid UTF-8
          Json::array(),
          Json::array({1, "a", nullptr}),
          Json::object(),
          Json{{"$gt", Json::array()}},
          deep};
}

// Replaces a random node (object member or array element) of j by `value`.
void MutateRandomNode(Json& j, std::mt19937_64& rng, const Json& value, int depth = 0) {
  if ((!j.is_object() && !j.is_array()) || j.empty() || depth > 6) {
    j = value;
    return;
  }
  std::uniform_int_distribution<size_t> pick(0, j.size() - 1);
  size_t k = pick(rng);
  Json* child = nullptr;
  if (j.is_array()) {
    child = &j[k];
  } else {
    auto it = j.begin();
    std::advance(it, static_cast<long>(k));
    child = &it.value();
  }
  if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
    *child = value;
  } else {
    MutateRandomNode(*child, rng, value, depth + 1);
  }
}

}  // namespace

TEST_CASE("every JSON endpoint answers hostile bodies with JSON, never 5xx", "[slow]") {
  TestServer s;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Json experiment = {
      {"key", "fz"},
      {"variants", {{{"key", "a"}, {"weight", 0.5}}, {{"key", "b"}, {"weight", 0.5}}}},
      {"namespace", {{"name", "n"}, {"start", 0}, {"end", 0.5}}},
      {"condition", {{"country", {{"$in", {"US"}}}}}},
      {"overrides", {{"u", "a"}}},
      {"status", "running"}};
  REQUIRE(s.Post("/v1/experiments", s.admin_key, experiment).status == 201);
  struct Endpoint {
    std::string method, path;
    Json body;
  };
  std::vector<Endpoint> endpoints = {
      {"POST", "/v1/experiments", experiment},
      {"PATCH", "/v1/experiments/fz", {{"variants", experiment["variants"]}, {"new_phase", true}}},
      {"POST",
       "/v1/assign",
       {{"user", "u1"}, {"attributes", {{"country", "US"}}}, {"experiments", {"fz"}}}},
      {"POST",
       "/v1/events",
       {{"events",
         {{{"type", "exposure"},
           {"id", "e"},
           {"experiment", "fz"},
           {"user", "u"},
           {"variant", "a"},
           {"ts", now}},
          {{"type", "conversion"},
           {"id", "c"},
           {"user", "u"},
           {"event", "p"},
           {"value", 2},
           {"ts", now},
           {"attributes", {{"k", 1}}}}}}}},
      {"POST",
       "/v1/metrics",
       {{"key", "m"},
        {"type", "ratio"},
        {"event", "a"},
        {"denominator_event", "b"},
        {"window_hours", 24}}},
      {"POST",
       "/v1/analyses/ab",
       {{"metric_type", "mean"},
        {"variants",
         {{{"key", "c"}, {"n", 100}, {"mean", 1}, {"variance", 2}, {"weight", 1}},
          {{"key", "t"}, {"n", 100}, {"mean", 1.2}, {"variance", 2}, {"weight", 1}}}},
        {"sequential", {{"method", "always_valid"}, {"expected_n", 1000}}}}},
      {"POST",
       "/v1/analyses/ab",
       {{"metric_type", "binomial"},
        {"variants",
         {{{"key", "c"}, {"n", 100}, {"conversions", 10}},
          {{"key", "t"}, {"n", 100}, {"conversions", 12}}}},
        {"sequential",
         {{"method", "group_sequential"}, {"looks", {0.5, 1.0}}, {"current_look", 1}}}}},
      {"POST",
       "/v1/design/sample-size",
       {{"metric_type", "binomial"}, {"baseline_rate", 0.1}, {"relative_mde", 0.05}}},
      {"POST",
       "/v1/design/sequential",
       {{"looks", {0.25, 0.5, 1.0}}, {"alpha", 0.05}, {"spending", "pocock"}}},
      {"POST",
       "/v1/analyses/lift",
       {{"test", {{"users", 100}, {"conversions", 10}, {"revenue", 50}}},
        {"holdout", {{"users", 100}, {"conversions", 8}, {"revenue", 40}}},
        {"spend", 10},
        {"reach", 0.5}}},
      {"POST",
       "/v1/analyses/did",
       {{"method", "event_study"},
        {"rows",
         {{{"unit", 1}, {"time", 1}, {"outcome", 1.0}, {"treatment_start", 2}},
          {{"unit", 1}, {"time", 2}, {"outcome", 2.0}, {"treatment_start", 2}},
          {{"unit", 2}, {"time", 1}, {"outcome", 1.0}, {"treatment_start", nullptr}},
          {{"unit", 2}, {"time", 2}, {"outcome", 1.5}, {"treatment_start", nullptr}},
          {{"unit", 3}, {"time", 1}, {"outcome", 0.5}, {"treatment_start", nullptr}},
          {{"unit", 3}, {"time", 2}, {"outcome", 1.0}, {"treatment_start", nullptr}}}}}},
  };
  const std::vector<Json> hostile = Hostile();
  std::mt19937_64 rng(20261123);
  int calls = 0;
  for (const auto& e : endpoints) {
    for (int round = 0; round < 40; ++round) {
      Json body = e.body;
      const int mutations = 1 + static_cast<int>(rng() % 2);
      for (int m = 0; m < mutations; ++m) {
        MutateRandomNode(body, rng, hostile[rng() % hostile.size()]);
      }
      std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
      auto r = s.Call(e.method, e.path, s.admin_key, text);
      ++calls;
      INFO(e.method << " " << e.path << " " << text.substr(0, 300));
      INFO(r.raw.substr(0, 300));
      REQUIRE(r.status >= 200);
      REQUIRE(r.status < 500);
      REQUIRE(r.body.is_object());
      if (r.status >= 400) {
        REQUIRE(r.body.contains("error"));
        CHECK(r.body["error"]["message"].is_string());
      }
    }
  }
  CHECK(calls == 40 * static_cast<int>(endpoints.size()));
  CHECK(s.Get("/healthz", "").status == 200);
}

TEST_CASE("invalid UTF-8 in a query parameter or a body is a 400, not broken JSON") {
  TestServer s;
  Json x = {{"key", "u8"}, {"variants", {{{"key", "a"}}, {{"key", "b"}}}}, {"status", "running"}};
  REQUIRE(s.Post("/v1/experiments", s.admin_key, x).status == 201);
  auto g = s.Get("/v1/assign?experiment=u8&user=%C3%28", s.sdk_key);
  INFO(g.raw);
  CHECK(g.status == 400);
  REQUIRE(g.body.is_object());
  CHECK(g.body["error"]["field"] == "user");
  // A valid multi-byte id is fine and echoed intact.
  auto ok = s.Get("/v1/assign?experiment=u8&user=%C3%A9t%C3%A9", s.sdk_key);
  CHECK(ok.status == 200);
  CHECK(ok.body["user"] == "\xc3\xa9t\xc3\xa9");
  std::string bad_body =
      "{\"events\":[{\"type\":\"conversion\",\"id\":\"\xc3\x28\",\"user\":\"u\",\"event\":\"e\","
      "\"ts\":1732300000000}]}";
  auto e = s.Call("POST", "/v1/events", s.sdk_key, bad_body);
  CHECK(e.status == 400);
  CHECK(e.body.is_object());
}

TEST_CASE("DiD CSV bodies damaged at random get JSON answers, never 5xx", "[slow]") {
  TestServer s;
  std::string csv = "unit,time,outcome,treatment_start\n";
  for (int u = 1; u <= 8; ++u) {
    for (int t = 1; t <= 4; ++t) {
      csv += std::to_string(u) + "," + std::to_string(t) + "," + std::to_string(u + t * 0.5) + "," +
             (u <= 3 ? "3" : "") + "\n";
    }
  }
  for (std::string method : {"twfe", "event_study", "callaway_santanna", "2x2"}) {
    auto clean = s.Call("POST", "/v1/analyses/did?method=" + method, s.admin_key, csv, "text/csv");
    CHECK(clean.status < 500);
  }
  const std::string alphabet = ",\n\"\r x-1e9NA0.\xc3";
  std::mt19937_64 rng(7);
  const char* methods[] = {"twfe", "event_study", "callaway_santanna", "2x2"};
  for (int round = 0; round < 120; ++round) {
    std::string body = csv;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          body.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          body.erase(at, 1 + rng() % 5);
      }
      if (body.empty()) body = "x";
    }
    auto r = s.Call("POST", std::string("/v1/analyses/did?method=") + methods[round % 4],
                    s.admin_key, body, "text/csv");
    INFO(body);
    INFO(r.raw.substr(0, 300));
    REQUIRE(r.status >= 200);
    REQUIRE(r.status < 500);
    REQUIRE(r.body.is_object());
  }
}
