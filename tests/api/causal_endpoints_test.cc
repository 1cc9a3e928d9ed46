// The causal endpoints over HTTP: GET /v1/experiments/{key}/lift from stored events,
// and the request contract of POST /v1/analyses/did and /v1/analyses/lift (unknown
// fields and query parameters refused, alpha or its synonym confidence, 422 for data
// that cannot answer, the shared inference names).
#include <catch2/catch.hpp>

#include <chrono>

#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CheckError(const TestServer::Reply& r, int status, const std::string& code,
                const std::string& field) {
  INFO(r.raw);
  CHECK(r.status == status);
  REQUIRE(r.body.is_object());
  REQUIRE(r.body.contains("error"));
  CHECK(r.body["error"]["code"] == code);
  CHECK(r.body["error"].value("field", "") == field);
}

// An experiment "promo" (control = holdout, treatment = test) and a mean metric
// "revenue"; with `events`, 200 users per arm, converting 30% (test) and 20% (holdout)
// with value 10.
void SetUpPromo(const TestServer& s, bool events) {
  REQUIRE(s.Post("/v1/experiments", s.admin_key,
                 {{"key", "promo"},
                  {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                  {"status", "running"}})
              .status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "revenue"}, {"type", "mean"}, {"event", "purchase"}})
              .status == 201);
  if (!events) return;
  const int64_t now = NowMs() + 1000;
  Json batch = Json::array();
  for (int u = 0; u < 400; ++u) {
    const bool treated = u % 2 == 1;
    const std::string user = "u" + std::to_string(u);
    batch.push_back({{"type", "exposure"},
                     {"id", "x" + user},
                     {"experiment", "promo"},
                     {"user", user},
                     {"variant", treated ? "treatment" : "control"},
                     {"ts", now}});
    if ((u / 2) % 10 < (treated ? 3 : 2)) {
      batch.push_back({{"type", "conversion"},
                       {"id", "c" + user},
                       {"user", user},
                       {"event", "purchase"},
                       {"value", 10.0},
                       {"ts", now + 1000}});
    }
  }
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", batch}}).status == 200);
}

}  // namespace

TEST_CASE("experiment lift: shared names, alpha or confidence, unknown parameters refused") {
  TestServer s;
  SetUpPromo(s, /*events=*/true);
  const std::string path = "/v1/experiments/promo/lift?metric=revenue&spend=100";
  auto r = s.Get(path, s.admin_key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  for (const char* name : {"rate_difference", "relative_lift", "incremental_conversions",
                           "incremental_revenue", "iroas"}) {
    INFO(name);
    const Json& x = r.body[name];
    CHECK(x["std_error"].is_number());
    CHECK(x["p_value"].is_number());
    CHECK(x["ci"]["level"] == 0.95);
    CHECK_FALSE(x.contains("se"));
    CHECK_FALSE(x.contains("p"));
  }
  auto by_alpha = s.Get(path + "&alpha=0.1", s.admin_key);
  auto by_level = s.Get(path + "&confidence=0.9", s.admin_key);
  REQUIRE(by_alpha.status == 200);
  REQUIRE(by_level.status == 200);
  CHECK(by_alpha.body == by_level.body);
  CHECK(by_alpha.body["relative_lift"]["ci"]["level"].get<double>() == Approx(0.9));

  CheckError(s.Get(path + "&alpha=0.1&confidence=0.9", s.admin_key), 400, "invalid_argument",
             "confidence");
  CheckError(s.Get(path + "&alpha=1", s.admin_key), 400, "invalid_argument", "alpha");
  CheckError(s.Get(path + "&spnd=5", s.admin_key), 400, "invalid_argument", "spnd");
  CheckError(s.Get(path + "&metric=orders", s.admin_key), 400, "invalid_argument", "metric");
  CheckError(s.Get(path + "&reach=2", s.admin_key), 400, "invalid_argument", "reach");
  CheckError(s.Get("/v1/experiments/promo/lift?metric=", s.admin_key), 400, "invalid_argument",
             "metric");
}

TEST_CASE("experiment lift with no exposed users is 422 insufficient_data") {
  TestServer s;
  SetUpPromo(s, /*events=*/false);
  CheckError(s.Get("/v1/experiments/promo/lift?metric=revenue", s.admin_key), 422,
             "insufficient_data", "test");
}

TEST_CASE("analysis endpoints refuse unknown fields and parameters over HTTP") {
  TestServer s;
  const std::string csv =
      "unit,time,outcome,treated,post\n1,1,1.0,1,0\n1,2,3.0,1,1\n2,1,2.0,1,0\n2,2,4.1,1,1\n"
      "3,1,1.0,0,0\n3,2,1.5,0,1\n4,1,2.0,0,0\n4,2,2.4,0,1\n5,1,0.0,0,0\n5,2,0.6,0,1\n";
  auto did = s.Call("POST", "/v1/analyses/did?method=2x2&alpha=0.1", s.admin_key, csv, "text/csv");
  INFO(did.raw);
  REQUIRE(did.status == 200);
  CHECK(did.body["ci"]["level"].get<double>() == Approx(0.9));
  CHECK(did.body["p_value"].is_number());
  CHECK(did.body["std_error"].is_number());
  CheckError(s.Call("POST", "/v1/analyses/did?method=2x2&contrl_group=not_yet_treated", s.admin_key,
                    csv, "text/csv"),
             400, "invalid_argument", "contrl_group");
  CheckError(
      s.Call("POST", "/v1/analyses/did?method=2x2&method=twfe", s.admin_key, csv, "text/csv"), 400,
      "invalid_argument", "method");
  // Everyone treated: a well-formed panel with no control unit.
  std::string treated_only = "unit,time,outcome,treated,post\n";
  for (int u = 1; u <= 3; ++u) {
    treated_only += std::to_string(u) + ",1," + std::to_string(u) + ",1,0\n";
    treated_only += std::to_string(u) + ",2," + std::to_string(u + 2) + ".5,1,1\n";
  }
  CheckError(s.Call("POST", "/v1/analyses/did?method=2x2", s.admin_key, treated_only, "text/csv"),
             422, "insufficient_data", "panel");
  CheckError(s.Post("/v1/analyses/did", s.admin_key,
                    {{"method", "callaway_santanna"},
                     {"contrl_group", "not_yet_treated"},
                     {"rows", Json::array()}}),
             400, "invalid_argument", "contrl_group");

  const Json lift = {{"test", {{"users", 1000}, {"conversions", 60}, {"revenue", 3000}}},
                     {"holdout", {{"users", 1000}, {"conversions", 50}, {"revenue", 2500}}}};
  REQUIRE(s.Post("/v1/analyses/lift", s.admin_key, lift).status == 200);
  Json typo = lift;
  typo["confidance"] = 0.9;
  CheckError(s.Post("/v1/analyses/lift", s.admin_key, typo), 400, "invalid_argument", "confidance");
  CheckError(s.Call("POST", "/v1/analyses/lift?alpha=0.1", s.admin_key, lift.dump()), 400,
             "invalid_argument", "alpha");
  Json empty = lift;
  empty["test"]["users"] = 0;
  empty["test"]["conversions"] = 0;
  CheckError(s.Post("/v1/analyses/lift", s.admin_key, empty), 422, "insufficient_data",
             "test.users");
}
