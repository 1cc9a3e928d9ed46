// HTTP integration tests: every endpoint's success and error paths, and auth.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "assign/hash.h"
#include "openapi_doc.h"
#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::TestServer;

namespace {

Json AbExperiment(const std::string& key) {
  return {{"key", key},
          {"name", "Checkout button"},
          {"variants",
           {{{"key", "control"}, {"weight", 0.5}}, {{"key", "treatment"}, {"weight", 0.5}}}},
          {"status", "running"}};
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CheckError(const TestServer::Reply& r, int status, const std::string& field) {
  INFO(r.raw);
  CHECK(r.status == status);
  REQUIRE(r.body.is_object());
  REQUIRE(r.body.contains("error"));
  CHECK(r.body["error"]["code"].is_string());
  CHECK(r.body["error"]["message"].is_string());
  if (!field.empty()) CHECK(r.body["error"].value("field", "") == field);
}

}  // namespace

TEST_CASE("healthz and metrics are public") {
  TestServer s;
  auto h = s.Get("/healthz", "");
  CHECK(h.status == 200);
  CHECK(h.body["status"] == "ok");
  s.Get("/v1/experiments", s.admin_key);
  auto m = s.Get("/metrics", "");
  CHECK(m.status == 200);
  CHECK(m.raw.find("causeway_http_requests_total{method=\"GET\",route=\"/v1/experiments\","
                   "status=\"2xx\"} 1") != std::string::npos);
  CHECK(m.raw.find("causeway_http_request_duration_seconds_bucket") != std::string::npos);
}

TEST_CASE("auth: missing key 401, unknown key 401, sdk key on admin route 403") {
  TestServer s;
  REQUIRE_FALSE(s.admin_key.empty());
  REQUIRE_FALSE(s.sdk_key.empty());
  CHECK(s.admin_key.rfind("cw_admin_", 0) == 0);
  CheckError(s.Get("/v1/experiments", ""), 401, "Authorization");
  CheckError(s.Get("/v1/experiments", "cw_admin_0000"), 401, "Authorization");
  CheckError(s.Get("/v1/experiments", s.sdk_key), 403, "Authorization");
  CheckError(s.Post("/v1/experiments", s.sdk_key, AbExperiment("x")), 403, "Authorization");
  CHECK(s.Get("/v1/experiments", s.admin_key).status == 200);
  // sdk keys may assign and send events.
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("x")).status == 201);
  CHECK(s.Get("/v1/assign?experiment=x&user=1", s.sdk_key).status == 200);
  CHECK(s.Post("/v1/events", s.sdk_key, {{"events", Json::array()}}).status == 200);
  CheckError(s.Get("/v1/assign?experiment=x&user=1", ""), 401, "Authorization");
}

TEST_CASE("insecure-no-auth disables key checks") {
  causeway::api::ServerOptions o;
  o.insecure_no_auth = true;
  TestServer s(o);
  CHECK(s.Get("/v1/experiments", "").status == 200);
}

TEST_CASE("unknown routes answer JSON 404") {
  TestServer s;
  CheckError(s.Get("/v1/nope", s.admin_key), 404, "");
}

TEST_CASE("experiments: create, get, list, defaults") {
  TestServer s;
  auto c = s.Post("/v1/experiments", s.admin_key, AbExperiment("checkout"));
  INFO(c.raw);
  REQUIRE(c.status == 201);
  CHECK(c.body["key"] == "checkout");
  CHECK(c.body["seed"] == "checkout");
  CHECK(c.body["hash_version"] == 2);
  CHECK(c.body["coverage"] == 1.0);
  CHECK(c.body["phase"] == 1);
  CHECK(c.body["phases"].size() == 1);
  auto g = s.Get("/v1/experiments/checkout", s.admin_key);
  CHECK(g.status == 200);
  CHECK(g.body["variants"][1]["key"] == "treatment");
  auto l = s.Get("/v1/experiments", s.admin_key);
  CHECK(l.body["experiments"].size() == 1);
  CheckError(s.Get("/v1/experiments/missing", s.admin_key), 404, "key");
  CheckError(s.Post("/v1/experiments", s.admin_key, AbExperiment("checkout")), 409, "key");
  // Weights may be omitted entirely: equal split.
  Json eq = {{"key", "eq"}, {"variants", {{{"key", "a"}}, {{"key", "b"}}, {{"key", "c"}}}}};
  auto e = s.Post("/v1/experiments", s.admin_key, eq);
  REQUIRE(e.status == 201);
  CHECK(e.body["variants"][2]["weight"].get<double>() == Approx(1.0 / 3));
  CHECK(e.body["status"] == "draft");
}

TEST_CASE("experiments: validation names the field") {
  TestServer s;
  struct Case {
    const char* name;
    std::function<void(Json&)> mutate;
    const char* field;
  };
  std::vector<Case> cases = {
      {"no key", [](Json& j) { j.erase("key"); }, "key"},
      {"bad key", [](Json& j) { j["key"] = "has space"; }, "key"},
      {"one variant",
       [](Json& j) {
         j["variants"] = {{{"key", "a"}, {"weight", 1}}};
       },
       "variants"},
      {"dup variant", [](Json& j) { j["variants"][1]["key"] = "control"; }, "variants[1].key"},
      {"negative weight", [](Json& j) { j["variants"][0]["weight"] = -0.5; }, "variants[0].weight"},
      {"weights sum", [](Json& j) { j["variants"][0]["weight"] = 0.6; }, "variants"},
      {"coverage", [](Json& j) { j["coverage"] = 1.5; }, "coverage"},
      {"hash version", [](Json& j) { j["hash_version"] = 3; }, "hash_version"},
      {"namespace range",
       [](Json& j) {
         j["namespace"] = {{"name", "n"}, {"start", 0.5}, {"end", 0.5}};
       },
       "namespace"},
      {"namespace name",
       [](Json& j) {
         j["namespace"] = {{"start", 0}, {"end", 0.5}};
       },
       "namespace.name"},
      {"condition not object", [](Json& j) { j["condition"] = 3; }, "condition"},
      {"condition bad operator",
       [](Json& j) {
         j["condition"] = {{"age", {{"$bogus", 1}}}};
       },
       "condition"},
      {"override unknown variant",
       [](Json& j) {
         j["overrides"] = {{"u1", "nope"}};
       },
       "overrides.u1"},
      {"status", [](Json& j) { j["status"] = "paused"; }, "status"},
      {"unknown field", [](Json& j) { j["colour"] = "red"; }, "colour"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      Json body = AbExperiment("v");
      c.mutate(body);
      CheckError(s.Post("/v1/experiments", s.admin_key, body), 400, c.field);
    }
  }
  SECTION("not JSON") {
    CheckError(s.Call("POST", "/v1/experiments", s.admin_key, "{nope"), 400, "");
  }
}

TEST_CASE("experiments: running experiments refuse re-randomisation without a new phase") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("p")).status == 201);
  Json reweight = {
      {"variants",
       {{{"key", "control"}, {"weight", 0.2}}, {{"key", "treatment"}, {"weight", 0.8}}}}};
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, reweight), 409, "variants");
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, {{"seed", "other"}}), 409, "seed");
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, {{"coverage", 0.5}}), 409, "coverage");
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, {{"hash_version", 1}}), 409, "hash_version");
  // Harmless changes are fine.
  auto n = s.Patch("/v1/experiments/p", s.admin_key, {{"name", "Renamed"}});
  CHECK(n.status == 200);
  CHECK(n.body["name"] == "Renamed");
  CHECK(n.body["phase"] == 1);
  // With new_phase: a new phase with a new seed.
  Json with_phase = reweight;
  with_phase["new_phase"] = true;
  auto r = s.Patch("/v1/experiments/p", s.admin_key, with_phase);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["phase"] == 2);
  CHECK(r.body["seed"] != "p");
  CHECK(r.body["phases"].size() == 2);
  CHECK(r.body["variants"][0]["weight"] == 0.2);
  // A stopped experiment may be edited freely.
  REQUIRE(s.Patch("/v1/experiments/p", s.admin_key, {{"status", "stopped"}}).status == 200);
  CHECK(s.Patch("/v1/experiments/p", s.admin_key, {{"coverage", 0.5}}).status == 200);
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, {{"key", "q"}}), 400, "key");
  CheckError(s.Patch("/v1/experiments/p", s.admin_key, {{"new_phase", "yes"}}), 400, "new_phase");
  CheckError(s.Patch("/v1/experiments/missing", s.admin_key, {{"name", "x"}}), 404, "key");
}

TEST_CASE("assign: GET matches the GrowthBook hash and is deterministic") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("hx")).status == 201);
  for (int u = 0; u < 50; ++u) {
    std::string user = "user-" + std::to_string(u);
    auto r = s.Get("/v1/assign?experiment=hx&user=" + user, s.sdk_key);
    REQUIRE(r.status == 200);
    double h = *causeway::assign::Hash("hx", user, 2);
    CHECK(r.body["hash_value"].get<double>() == h);
    CHECK(r.body["variant"] == (h < 0.5 ? "control" : "treatment"));
    CHECK(r.body["variant_index"] == (h < 0.5 ? 0 : 1));
    CHECK(r.body["in_experiment"] == true);
    CHECK(r.body["reason"] == "hashed");
    CHECK(r.body["experiment"] == "hx");
    CHECK(r.body["user"] == user);
    CHECK(s.Get("/v1/assign?experiment=hx&user=" + user, s.sdk_key).raw == r.raw);
  }
}

TEST_CASE("assign: reasons, overrides, conditions and errors") {
  TestServer s;
  Json x = AbExperiment("r");
  x["overrides"] = {{"vip", "treatment"}};
  x["condition"] = {{"country", {{"$in", {"US", "CA"}}}}};
  REQUIRE(s.Post("/v1/experiments", s.admin_key, x).status == 201);
  auto o = s.Get("/v1/assign?experiment=r&user=vip", s.sdk_key);
  CHECK(o.body["reason"] == "override");
  CHECK(o.body["hash_value"].is_null());
  CHECK(o.body["variant"] == "treatment");
  // GET carries no attributes: a targeted experiment does not match.
  auto g = s.Get("/v1/assign?experiment=r&user=u1", s.sdk_key);
  CHECK(g.body["reason"] == "not_targeted");
  CHECK(g.body["variant"].is_null());
  CHECK(g.body["in_experiment"] == false);
  auto p = s.Post("/v1/assign", s.sdk_key,
                  {{"user", "u1"}, {"attributes", {{"country", "US"}}}, {"experiments", {"r"}}});
  REQUIRE(p.status == 200);
  CHECK(p.body["user"] == "u1");
  REQUIRE(p.body["assignments"].size() == 1);
  CHECK(p.body["assignments"][0]["reason"] == "hashed");
  auto p2 = s.Post("/v1/assign", s.sdk_key, {{"user", "u1"}, {"attributes", {{"country", "FR"}}}});
  REQUIRE(p2.body["assignments"].size() == 1);  // default: all running experiments
  CHECK(p2.body["assignments"][0]["reason"] == "not_targeted");

  REQUIRE(s.Patch("/v1/experiments/r", s.admin_key, {{"status", "stopped"}}).status == 200);
  auto st = s.Get("/v1/assign?experiment=r&user=u1", s.sdk_key);
  CHECK(st.body["reason"] == "not_running");
  auto p3 = s.Post("/v1/assign", s.sdk_key, {{"user", "u1"}});
  CHECK(p3.body["assignments"].empty());

  CheckError(s.Get("/v1/assign?experiment=nope&user=u1", s.sdk_key), 404, "experiment");
  CheckError(s.Get("/v1/assign?user=u1", s.sdk_key), 400, "experiment");
  CheckError(s.Get("/v1/assign?experiment=r", s.sdk_key), 400, "user");
  CheckError(s.Get("/v1/assign?experiment=r&user=u&colour=1", s.sdk_key), 400, "colour");
  CheckError(s.Get("/v1/assign?experiment=r&user=u&log_exposure=maybe", s.sdk_key), 400,
             "log_exposure");
  CheckError(s.Post("/v1/assign", s.sdk_key, {{"attributes", Json::object()}}), 400, "user");
  CheckError(s.Post("/v1/assign", s.sdk_key, {{"user", "u"}, {"attributes", 3}}), 400,
             "attributes");
  CheckError(s.Post("/v1/assign", s.sdk_key, {{"user", "u"}, {"experiments", {"nope"}}}), 404,
             "experiments[0]");
  CheckError(s.Post("/v1/assign", s.sdk_key, {{"user", "u"}, {"extra", 1}}), 400, "extra");
}

TEST_CASE("assign: coverage and namespaces") {
  TestServer s;
  Json a = AbExperiment("na");
  a["namespace"] = {{"name", "checkout"}, {"start", 0.0}, {"end", 0.5}};
  Json b = AbExperiment("nb");
  b["namespace"] = {{"name", "checkout"}, {"start", 0.5}, {"end", 1.0}};
  Json c = AbExperiment("cov");
  c["coverage"] = 0.0;
  for (const auto& x : {a, b, c}) REQUIRE(s.Post("/v1/experiments", s.admin_key, x).status == 201);
  int in_a = 0, in_b = 0;
  for (int u = 0; u < 200; ++u) {
    auto r = s.Post("/v1/assign", s.sdk_key, {{"user", "u" + std::to_string(u)}});
    REQUIRE(r.body["assignments"].size() == 3);
    int in = 0;
    for (const auto& one : r.body["assignments"]) {
      if (one["experiment"] == "cov") {
        CHECK(one["reason"] == "coverage");
        continue;
      }
      if (one["in_experiment"] == true) {
        ++in;
        (one["experiment"] == "na" ? in_a : in_b)++;
      } else {
        CHECK(one["reason"] == "not_in_namespace");
      }
    }
    CHECK(in == 1);  // exactly one of the two halves of the namespace
  }
  CHECK(in_a > 50);
  CHECK(in_b > 50);
}

TEST_CASE("events: accepted, duplicates, and idempotent retries") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("ev")).status == 201);
  int64_t now = NowMs();
  Json batch = {
      {"events",
       {{{"type", "exposure"},
         {"id", "e1"},
         {"experiment", "ev"},
         {"user", "u1"},
         {"variant", "treatment"},
         {"ts", now}},
        {{"type", "conversion"},
         {"id", "c1"},
         {"user", "u1"},
         {"event", "purchase"},
         {"value", 19.99},
         {"ts", now},
         {"attributes", {{"plan", "pro"}}}},
        {{"type", "conversion"}, {"id", "c2"}, {"user", "u1"}, {"event", "signup"}, {"ts", now}}}}};
  auto r = s.Post("/v1/events", s.sdk_key, batch);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["accepted"] == 3);
  CHECK(r.body["duplicates"] == 0);
  auto again = s.Post("/v1/events", s.sdk_key, batch);
  CHECK(again.body["accepted"] == 0);
  CHECK(again.body["duplicates"] == 3);
  auto ex = s.Get("/v1/experiments/ev/exposures", s.admin_key);
  REQUIRE(ex.status == 200);
  CHECK(ex.body["total_exposures"] == 1);
  CHECK(ex.body["unique_users"] == 1);
  CHECK(ex.body["variants"][1]["variant"] == "treatment");
  CHECK(ex.body["variants"][1]["users"] == 1);
  CHECK(ex.body["variants"][0]["users"] == 0);
  CheckError(s.Get("/v1/experiments/nope/exposures", s.admin_key), 404, "key");
}

TEST_CASE("events: a bad event rejects the whole batch and every problem is listed") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("bad")).status == 201);
  int64_t now = NowMs();
  Json good = {{"type", "conversion"}, {"id", "ok1"}, {"user", "u"}, {"event", "e"}, {"ts", now}};
  auto with = [&](std::function<void(Json&)> f) {
    Json e = good;
    f(e);
    return e;
  };
  Json events = {
      good,
      with([](Json& e) { e["type"] = "click"; }),
      with([](Json& e) { e.erase("id"); }),
      with([](Json& e) { e["id"] = std::string(129, 'x'); }),
      with([&](Json& e) { e["ts"] = now / 1000; }),
      with([&](Json& e) { e["ts"] = now + 2LL * 24 * 3600 * 1000; }),
      with([](Json& e) { e["value"] = "12"; }),
      with([](Json& e) {
        e["attributes"] = {{"nested", {{"a", 1}}}};
      }),
      {{"type", "exposure"},
       {"id", "x1"},
       {"experiment", "nope"},
       {"user", "u"},
       {"variant", "control"},
       {"ts", now}},
      {{"type", "exposure"},
       {"id", "x2"},
       {"experiment", "bad"},
       {"user", "u"},
       {"variant", "purple"},
       {"ts", now}},
      with([](Json& e) { e["surprise"] = 1; }),
      with([](Json& e) { e["ts"] = 1.5e12; }),
  };
  auto r = s.Post("/v1/events", s.sdk_key, {{"events", events}});
  INFO(r.raw);
  CheckError(r, 400, "events[1].type");
  const Json& list = r.body["error"]["details"]["errors"];
  std::set<std::string> fields;
  for (const auto& e : list) fields.insert(e["field"].get<std::string>());
  for (const char* f :
       {"events[1].type", "events[2].id", "events[3].id", "events[4].ts", "events[5].ts",
        "events[6].value", "events[7].attributes.nested", "events[8].experiment",
        "events[9].variant", "events[10].surprise", "events[11].ts"}) {
    CHECK(fields.count(f) == 1);
  }
  CHECK(fields.count("events[0].id") == 0);
  // Nothing from the batch was stored: the good event is still new.
  auto g = s.Post("/v1/events", s.sdk_key, {{"events", {good}}});
  CHECK(g.body["accepted"] == 1);

  CheckError(s.Post("/v1/events", s.sdk_key, Json::object()), 400, "events");
  CheckError(s.Post("/v1/events", s.sdk_key, {{"events", 3}}), 400, "events");
  CheckError(s.Call("POST", "/v1/events", s.sdk_key, "[1,2]"), 400, "");
}

TEST_CASE("events: limits answer 413") {
  TestServer s;
  int64_t now = NowMs();
  Json many = Json::array();
  for (int i = 0; i < 10001; ++i) {
    many.push_back({{"type", "conversion"},
                    {"id", std::to_string(i)},
                    {"user", "u"},
                    {"event", "e"},
                    {"ts", now}});
  }
  auto r = s.Post("/v1/events", s.sdk_key, {{"events", many}});
  CheckError(r, 413, "events");
  std::string big = "{\"events\":[" + std::string(6 * 1024 * 1024, ' ') + "]}";
  CheckError(s.Call("POST", "/v1/events", s.sdk_key, big), 413, "");
}

TEST_CASE("assign with log_exposure records one exposure per user and phase") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("lx")).status == 201);
  for (int i = 0; i < 3; ++i) {
    auto r = s.Get("/v1/assign?experiment=lx&user=u1&log_exposure=true", s.sdk_key);
    CHECK(r.body["exposure_logged"] == true);
  }
  auto p = s.Post("/v1/assign", s.sdk_key, {{"user", "u2"}, {"log_exposure", true}});
  CHECK(p.body["assignments"][0]["exposure_logged"] == true);
  auto ex = s.Get("/v1/experiments/lx/exposures", s.admin_key);
  CHECK(ex.body["total_exposures"] == 2);
  CHECK(ex.body["unique_users"] == 2);
}

TEST_CASE("metric definitions: create, list, get, validation") {
  TestServer s;
  Json m = {{"key", "purchase_rate"},
            {"type", "binomial"},
            {"event", "purchase"},
            {"window_hours", 72},
            {"higher_is_better", true}};
  auto c = s.Post("/v1/metrics", s.admin_key, m);
  INFO(c.raw);
  REQUIRE(c.status == 201);
  CHECK(c.body["key"] == "purchase_rate");
  CHECK(s.Get("/v1/metrics", s.admin_key).body["metrics"].size() == 1);
  CHECK(s.Get("/v1/metrics/purchase_rate", s.admin_key).body["window_hours"] == 72);
  CheckError(s.Get("/v1/metrics/nope", s.admin_key), 404, "key");
  CheckError(s.Post("/v1/metrics", s.admin_key, m), 409, "key");
  Json ratio = {{"key", "rpo"}, {"type", "ratio"}, {"event", "revenue"}};
  CheckError(s.Post("/v1/metrics", s.admin_key, ratio), 400, "denominator_event");
  ratio["denominator_event"] = "order";
  CHECK(s.Post("/v1/metrics", s.admin_key, ratio).status == 201);
  CheckError(s.Post("/v1/metrics", s.admin_key, {{"key", "k"}, {"type", "median"}, {"event", "e"}}),
             400, "type");
  CheckError(s.Post("/v1/metrics", s.admin_key,
                    {{"key", "k"}, {"type", "mean"}, {"event", "e"}, {"window_hours", -1}}),
             400, "window_hours");
  CheckError(s.Post("/v1/metrics", s.sdk_key, m), 403, "Authorization");
}

TEST_CASE("analysis endpoints are routed, admin-only, and validate") {
  TestServer s;
  Json ab = {{"metric_type", "binomial"},
             {"variants",
              {{{"key", "control"}, {"n", 10000}, {"conversions", 1000}},
               {{"key", "treatment"}, {"n", 10000}, {"conversions", 1100}}}},
             {"alpha", 0.05}};
  auto r = s.Post("/v1/analyses/ab", s.admin_key, ab);
  INFO(r.raw);
  CHECK(r.status == 200);
  CheckError(s.Post("/v1/analyses/ab", s.sdk_key, ab), 403, "Authorization");
  ab["variants"][1]["conversions"] = 20000;
  CHECK(s.Post("/v1/analyses/ab", s.admin_key, ab).status == 400);
  auto seq = s.Post("/v1/design/sequential", s.admin_key,
                    {{"looks", {0.2, 0.4, 0.6, 0.8, 1.0}},
                     {"alpha", 0.05},
                     {"spending", "obrien_fleming"},
                     {"sides", 2}});
  INFO(seq.raw);
  CHECK(seq.status == 200);
  CHECK(s.Post("/v1/design/sequential", s.admin_key, {{"looks", {0.5, 0.4}}}).status == 400);
  auto lift = s.Post("/v1/analyses/lift", s.admin_key,
                     {{"test", {{"users", 10000}, {"conversions", 600}, {"revenue", 30000}}},
                      {"holdout", {{"users", 10000}, {"conversions", 500}, {"revenue", 25000}}},
                      {"spend", 2000}});
  INFO(lift.raw);
  CHECK(lift.status == 200);
  // Treated units rise by 2, controls by 0.5: the 2x2 DiD is 1.5.
  std::string csv =
      "unit,time,outcome,treated,post\n1,1,1.0,1,0\n1,2,3.0,1,1\n2,1,2.0,1,0\n2,2,4.0,1,1\n"
      "3,1,1.0,0,0\n3,2,1.5,0,1\n4,1,2.0,0,0\n4,2,2.5,0,1\n5,1,0.0,0,0\n5,2,0.5,0,1\n";
  auto did = s.Call("POST", "/v1/analyses/did?method=2x2", s.admin_key, csv, "text/csv");
  INFO(did.raw);
  CHECK(did.status == 200);
  CHECK(did.body["estimate"].get<double>() == Approx(1.5));
  CHECK(s.Call("POST", "/v1/analyses/did?method=2x2", s.admin_key, "unit,time\n1,x\n", "text/csv")
            .status == 400);
}

TEST_CASE("experiment lift from stored events") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("promo")).status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "revenue"}, {"type", "mean"}, {"event", "purchase"}})
              .status == 201);
  // 200 users per arm; treatment users convert 30% (value 10), control 20% (value 10).
  int64_t now = NowMs() + 1000;  // exposures count from the phase start on
  Json events = Json::array();
  int conv_t = 0, conv_c = 0;
  for (int u = 0; u < 400; ++u) {
    bool treated = u % 2 == 1;
    std::string user = "u" + std::to_string(u);
    events.push_back({{"type", "exposure"},
                      {"id", "x" + user},
                      {"experiment", "promo"},
                      {"user", user},
                      {"variant", treated ? "treatment" : "control"},
                      {"ts", now}});
    bool converts = (u / 2) % 10 < (treated ? 3 : 2);
    if (converts) {
      (treated ? conv_t : conv_c)++;
      events.push_back({{"type", "conversion"},
                        {"id", "c" + user},
                        {"user", user},
                        {"event", "purchase"},
                        {"value", 10.0},
                        {"ts", now + 1000}});
    }
  }
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", events}}).status == 200);
  REQUIRE(conv_t == 60);
  REQUIRE(conv_c == 40);
  auto r =
      s.Get("/v1/experiments/promo/lift?metric=revenue&holdout=control&spend=100", s.admin_key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["test"] == "treatment");
  CHECK(r.body["test_users"] == 200);
  CHECK(r.body["holdout_users"] == 200);
  // Incremental conversions (p_t - p_h) n_t = (0.3 - 0.2) * 200 = 20; revenue 200; iROAS 2.
  CHECK(r.body.dump().find("\"incremental_conversions\"") != std::string::npos);
  CHECK(r.body["incremental_conversions"]["estimate"].get<double>() == Approx(20.0));
  CHECK(r.body["incremental_revenue"]["estimate"].get<double>() == Approx(200.0));
  CHECK(r.body["iroas"]["estimate"].get<double>() == Approx(2.0));
  CHECK(r.body["relative_lift"]["estimate"].get<double>() == Approx(0.5));

  CheckError(s.Get("/v1/experiments/promo/lift", s.admin_key), 400, "metric");
  CheckError(s.Get("/v1/experiments/promo/lift?metric=nope", s.admin_key), 404, "metric");
  CheckError(s.Get("/v1/experiments/promo/lift?metric=revenue&holdout=x", s.admin_key), 400,
             "holdout");
  CheckError(s.Get("/v1/experiments/promo/lift?metric=revenue&spend=abc", s.admin_key), 400,
             "spend");
  CheckError(s.Get("/v1/experiments/nope/lift?metric=revenue", s.admin_key), 404, "key");
  CheckError(s.Get("/v1/experiments/promo/lift?metric=revenue&colour=1", s.admin_key), 400,
             "colour");
}

TEST_CASE("api/openapi.yaml documents every route the server serves") {
  // Served: every Route() the server registers has a request counter and a latency
  // histogram in /metrics, labelled with its method and its documented pattern.
  TestServer s;
  const std::string metrics = s.Get("/metrics", "").raw;
  const std::regex series(
      "^causeway_http_(?:requests_total|request_duration_seconds_(?:bucket|sum|count))"
      "\\{method=\"([A-Z]+)\",route=\"([^\"]+)\"[,}]");
  std::set<std::pair<std::string, std::string>> served;
  std::istringstream lines(metrics);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (line.starts_with("causeway_http_")) {
      INFO(line);
      CHECK(std::regex_search(line, m, series));  // a route label without its method
      if (!m.empty()) served.insert({m[1], m[2]});
    }
  }
  CHECK(served.size() >= 25);

  // Documented: every operation of every path item.
  const causeway::testing::OpenApiOperations doc = causeway::testing::ReadOpenApiOperations();
  for (const std::string& l : doc.unread) FAIL_CHECK("api/openapi.yaml: line not read: " << l);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& op : doc.operations) documented.insert({op.method, op.path});
  CHECK(documented.size() == doc.operations.size());  // no operation twice
  CHECK(documented.size() >= 25);

  for (const auto& [method, route] : served) {
    if (!documented.contains({method, route})) {
      FAIL_CHECK("served but not documented in api/openapi.yaml: " << method << " " << route);
    }
  }
  for (const auto& [method, path] : documented) {
    if (!served.contains({method, path})) {
      FAIL_CHECK("documented in api/openapi.yaml but not served: " << method << " " << path);
    }
  }
}

namespace {

// Exposures for `users` users per variant of `key` and, for a share of them, one
// purchase of value 10 and two "visit" events. Returns the events.
Json ReportEvents(const std::string& key, const std::vector<std::pair<std::string, int>>& arms,
                  const std::vector<double>& conversion_share, int64_t ts) {
  Json events = Json::array();
  int id = 0;
  for (size_t a = 0; a < arms.size(); ++a) {
    for (int u = 0; u < arms[a].second; ++u) {
      std::string user = key + "-" + arms[a].first + "-" + std::to_string(u);
      events.push_back({{"type", "exposure"},
                        {"id", "x" + std::to_string(id++)},
                        {"experiment", key},
                        {"user", user},
                        {"variant", arms[a].first},
                        {"ts", ts}});
      for (int k = 0; k < 2; ++k) {
        events.push_back({{"type", "conversion"},
                          {"id", "v" + std::to_string(id++)},
                          {"user", user},
                          {"event", "visit"},
                          {"ts", ts + 10}});
      }
      if ((u % 100) < conversion_share[a] * 100) {
        events.push_back({{"type", "conversion"},
                          {"id", "c" + std::to_string(id++)},
                          {"user", user},
                          {"event", "purchase"},
                          {"value", 10.0},
                          {"ts", ts + 20}});
      }
    }
  }
  return events;
}

}  // namespace

TEST_CASE("experiment report: metrics, corrections, SRM and a decision from stored events") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("rep")).status == 201);
  for (Json m : {Json{{"key", "purchase_rate"}, {"type", "binomial"}, {"event", "purchase"}},
                 Json{{"key", "revenue"}, {"type", "mean"}, {"event", "purchase"}},
                 Json{{"key", "revenue_per_visit"},
                      {"type", "ratio"},
                      {"event", "purchase"},
                      {"denominator_event", "visit"}}}) {
    REQUIRE(s.Post("/v1/metrics", s.admin_key, m).status == 201);
  }
  int64_t ts = NowMs() + 1000;
  Json events = ReportEvents("rep", {{"control", 1500}, {"treatment", 1500}}, {0.10, 0.20}, ts);
  REQUIRE(events.size() < 10000);
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", events}}).status == 200);

  auto r = s.Get("/v1/experiments/rep/report", s.admin_key);
  INFO(r.raw.substr(0, 3000));
  REQUIRE(r.status == 200);
  CHECK(r.body["control"] == "control");
  CHECK(r.body["exposures"][0]["users"] == 1500);
  CHECK(r.body["srm"]["mismatch"] == false);
  CHECK(r.body["data_quality"]["multi_variant_users"] == 0);
  CHECK(r.body["multiple_testing"]["comparisons"] == 3);
  REQUIRE(r.body["metrics"].size() == 3);
  std::map<std::string, Json> by_key;
  for (const auto& m : r.body["metrics"]) by_key[m["metric"]] = m;
  const Json& rate = by_key["purchase_rate"]["comparisons"][0];
  CHECK(rate["absolute"]["estimate"].get<double>() == Approx(0.10));  // 20% - 10%
  CHECK(rate["relative"]["estimate"].get<double>() == Approx(1.0));
  CHECK(rate["conclusion"] == "better");
  CHECK(rate["p_value_adjusted"].get<double>() >= rate["p_value"].get<double>());
  const Json& revenue = by_key["revenue"]["comparisons"][0];
  CHECK(revenue["absolute"]["estimate"].get<double>() == Approx(1.0));  // 2.0 - 1.0 per user
  const Json& rpv = by_key["revenue_per_visit"]["comparisons"][0];
  CHECK(rpv["absolute"]["estimate"].get<double>() == Approx(0.5));  // 1.0 - 0.5 per visit
  REQUIRE(r.body["decisions"].size() == 1);
  CHECK(r.body["decisions"][0]["decision"] == "ship");

  // Only the named metric, and bad parameters.
  auto one = s.Get("/v1/experiments/rep/report?metrics=revenue&multiple_testing=none", s.admin_key);
  REQUIRE(one.status == 200);
  CHECK(one.body["metrics"].size() == 1);
  CHECK(one.body["metrics"][0]["comparisons"][0]["p_value_adjusted"] ==
        one.body["metrics"][0]["comparisons"][0]["p_value"]);
  CheckError(s.Get("/v1/experiments/rep/report?metrics=nope", s.admin_key), 404, "metrics");
  CheckError(s.Get("/v1/experiments/rep/report?alpha=2", s.admin_key), 400, "alpha");
  CheckError(s.Get("/v1/experiments/rep/report?multiple_testing=x", s.admin_key), 400,
             "multiple_testing");
  CheckError(s.Get("/v1/experiments/nope/report", s.admin_key), 404, "key");
  CheckError(s.Get("/v1/experiments/rep/report", s.sdk_key), 403, "Authorization");
}

TEST_CASE("experiment report: a sample ratio mismatch overrides every decision") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("srm")).status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "purchase_rate"}, {"type", "binomial"}, {"event", "purchase"}})
              .status == 201);
  // Weights say 50/50; 1400 vs 1000 users were logged.
  Json events =
      ReportEvents("srm", {{"control", 1400}, {"treatment", 1000}}, {0.10, 0.30}, NowMs() + 1000);
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", events}}).status == 200);
  auto r = s.Get("/v1/experiments/srm/report", s.admin_key);
  INFO(r.raw.substr(0, 2000));
  REQUIRE(r.status == 200);
  CHECK(r.body["srm"]["mismatch"] == true);
  CHECK(r.body["srm"]["p_value"].get<double>() < 0.001);
  CHECK(r.body["decisions"][0]["decision"] == "invalid_srm");
}

TEST_CASE("experiment report before any event says so instead of failing") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("empty")).status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "purchase_rate"}, {"type", "binomial"}, {"event", "purchase"}})
              .status == 201);
  auto r = s.Get("/v1/experiments/empty/report", s.admin_key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["decisions"][0]["decision"] == "keep_running");
  CHECK(r.body["srm"]["valid"] == false);
}

TEST_CASE("phase 1 counts every exposure; a new phase counts only its own") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("ph")).status == 201);
  const int64_t old_ts = NowMs() - 7LL * 24 * 3600 * 1000;  // backfilled, a week ago
  auto exposure = [&](const std::string& id, const std::string& user, int64_t ts) {
    return Json{{"type", "exposure"},   {"id", id}, {"experiment", "ph"}, {"user", user},
                {"variant", "control"}, {"ts", ts}};
  };
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", {exposure("a", "u1", old_ts)}}}).status ==
          200);
  auto one = s.Get("/v1/experiments/ph/exposures", s.admin_key);
  CHECK(one.body["phase"] == 1);
  CHECK(one.body["since"].is_null());
  CHECK(one.body["total_exposures"] == 1);
  Json reweight = {
      {"variants",
       {{{"key", "control"}, {"weight", 0.3}}, {{"key", "treatment"}, {"weight", 0.7}}}},
      {"new_phase", true}};
  REQUIRE(s.Patch("/v1/experiments/ph", s.admin_key, reweight).status == 200);
  REQUIRE(
      s.Post("/v1/events", s.sdk_key, {{"events", {exposure("b", "u2", NowMs() + 1000)}}}).status ==
      200);
  auto two = s.Get("/v1/experiments/ph/exposures", s.admin_key);
  CHECK(two.body["phase"] == 2);
  CHECK(two.body["since"].is_string());
  CHECK(two.body["total_exposures"] == 1);  // only u2's, from phase 2
  CHECK(two.body["unique_users"] == 1);
}

TEST_CASE("exposures carry each variant's weight and the report's SRM check") {
  TestServer s;
  REQUIRE(s.Post("/v1/experiments", s.admin_key, AbExperiment("srm")).status == 201);
  auto none = s.Get("/v1/experiments/srm/exposures", s.admin_key);
  INFO(none.raw);
  REQUIRE(none.status == 200);
  CHECK(none.body["srm"]["valid"] == false);
  CHECK(none.body["srm"]["reason"].is_string());
  CHECK(none.body["variants"][0]["weight"] == 0.5);

  // 300 vs 200 users at 50/50: X^2 = 2 * 50^2 / 250 = 20, p = erfc(sqrt(10)) < 0.001.
  Json events = ReportEvents("srm", {{"control", 300}, {"treatment", 200}}, {0.1, 0.1}, NowMs());
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", events}}).status == 200);
  auto ex = s.Get("/v1/experiments/srm/exposures", s.admin_key);
  auto report = s.Get("/v1/experiments/srm/report", s.admin_key);
  INFO(ex.raw);
  REQUIRE(ex.status == 200);
  REQUIRE(report.status == 200);
  const Json& srm = ex.body["srm"];
  CHECK(srm["valid"] == true);
  CHECK(srm["mismatch"] == true);
  CHECK(srm["df"] == 1);
  CHECK(srm["chi_square"].get<double>() == Approx(20.0).epsilon(1e-12));
  CHECK(srm["p_value"].get<double>() == Approx(7.744216e-06).epsilon(1e-6));
  // The same check as the report's, threshold included.
  CHECK(srm["p_value"] == report.body["srm"]["p_value"]);
  CHECK(srm["threshold"] == report.body["srm"]["threshold"]);
  CHECK(srm["expected_users"] == report.body["srm"]["expected_users"]);
}

TEST_CASE("the web page: public HTML with a self-only policy; embedded files revalidated by ETag") {
  TestServer s;
  for (const char* path : {"/", "/experiments", "/experiments/checkout-button"}) {
    INFO(path);
    auto r = s.Get(path, "");
    REQUIRE(r.status == 200);
    CHECK(r.raw.find("<script src=\"/static/app.js\"") != std::string::npos);
    auto header = [&](const char* name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    CHECK(header("Content-Type") == "text/html; charset=utf-8");
    CHECK(header("Content-Security-Policy").starts_with("default-src 'self'"));
    CHECK(header("Content-Security-Policy").find("unsafe") == std::string::npos);
    CHECK(header("X-Content-Type-Options") == "nosniff");
  }
  httplib::Client c = s.Client();
  auto plot = c.Get("/static/plot.umd.min.js");
  REQUIRE(plot);
  CHECK(plot->status == 200);
  CHECK(plot->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(plot->body.starts_with("// @observablehq/plot v0.6.17"));
  const std::string etag = plot->get_header_value("ETag");
  CHECK(etag.size() > 10);
  auto again = c.Get("/static/plot.umd.min.js", {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->body.empty());
  auto css = c.Get("/static/style.css");
  REQUIRE(css);
  CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");
  CheckError(s.Get("/static/nope.js", ""), 404, "file");
  CheckError(s.Get("/static/index.html", ""), 404, "file");
  CheckError(s.Get("/static/..%2Fsecret", ""), 404, "");
  CheckError(s.Get("/experiments?key=cw_admin_x", ""), 400, "key");
}

// ---- issue 21: metric series and alert rules ----

TEST_CASE("metric series: per bucket from ingested events, segments, validation") {
  TestServer s;
  const int64_t hour = 3'600'000;
  const int64_t t0 = (NowMs() / hour - 3) * hour;  // three whole hours ago
  Json events = Json::array();
  for (int i = 0; i < 40; ++i) {
    const bool click = i % 4 == 0;
    events.push_back({{"type", "conversion"},
                      {"id", "s" + std::to_string(i)},
                      {"user", "u" + std::to_string(i % 5)},
                      {"event", click ? "click" : "impression"},
                      {"ts", t0 + (i % 2) * hour + i},
                      {"attributes", {{"platform", i % 3 == 0 ? "ios" : "web"}}}});
  }
  REQUIRE(s.Post("/v1/events", s.sdk_key, {{"events", events}}).status == 200);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "ctr"},
                  {"type", "ratio"},
                  {"event", "click"},
                  {"denominator_event", "impression"}})
              .status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "converted"}, {"type", "binomial"}, {"event", "click"}})
              .status == 201);
  const std::string range =
      "from=" + std::to_string(t0) + "&to=" + std::to_string(t0 + 3 * hour) + "&step=1h";
  auto r = s.Get("/v1/metrics/ctr/series?" + range, s.admin_key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["type"] == "ratio");
  CHECK(r.body["step"] == "1h");
  REQUIRE(r.body["points"].size() == 3);
  const Json& p0 = r.body["points"][0];
  CHECK(p0["start_ms"] == t0);
  CHECK(p0["events"] == 10);              // every click is at an even i: hour 0
  CHECK(p0["denominator_events"] == 10);  // impressions at i % 4 == 2
  CHECK(p0["value"].get<double>() == Approx(1.0));
  CHECK(r.body["points"][1]["value"] == 0.0);     // 20 impressions, no click
  CHECK(r.body["points"][2]["value"].is_null());  // nothing in the third hour
  CHECK(r.body["segments"].is_null());

  auto seg = s.Get("/v1/metrics/ctr/series?" + range + "&segment=platform", s.admin_key);
  REQUIRE(seg.status == 200);
  CHECK(seg.body["segments"]["by"] == "platform");
  REQUIRE(seg.body["segments"]["levels"].size() == 2);
  CHECK(seg.body["segments"]["levels"][0]["segment"] == "ios");
  // ISO times are accepted too.
  CHECK(s.Get("/v1/metrics/ctr/series?from=2026-01-01T00:00:00Z&to=2026-01-02&step=1h", s.admin_key)
            .status == 200);

  CheckError(s.Get("/v1/metrics/ctr/series?" + range + "&bogus=1", s.admin_key), 400, "bogus");
  CheckError(s.Get("/v1/metrics/ctr/series?from=1&to=0&step=1h", s.admin_key), 400, "to");
  CheckError(s.Get("/v1/metrics/ctr/series?from=x&to=0&step=1h", s.admin_key), 400, "from");
  CheckError(s.Get("/v1/metrics/ctr/series?to=5", s.admin_key), 400, "from");
  CheckError(s.Get("/v1/metrics/ctr/series?from=0&to=5&step=2h", s.admin_key), 400, "step");
  CheckError(s.Get("/v1/metrics/ctr/series?from=0&to=86400000&step=1m&segment=a%20b", s.admin_key),
             400, "segment");
  // 30 days at 1m is 43 200 buckets: refused, naming step.
  CheckError(s.Get("/v1/metrics/ctr/series?from=0&to=2592000000&step=1m", s.admin_key), 400,
             "step");
  CheckError(s.Get("/v1/metrics/converted/series?" + range, s.admin_key), 400, "key");
  CheckError(s.Get("/v1/metrics/nope/series?" + range, s.admin_key), 404, "key");
  CheckError(s.Get("/v1/metrics/ctr/series?" + range, s.sdk_key), 403, "Authorization");
}

TEST_CASE("alert rules: create with defaults, list, get, patch, delete, validation") {
  TestServer s;
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "cvr"},
                  {"type", "ratio"},
                  {"event", "purchase"},
                  {"denominator_event", "session"}})
              .status == 201);
  REQUIRE(s.Post("/v1/metrics", s.admin_key,
                 {{"key", "order_value"}, {"type", "mean"}, {"event", "purchase"}})
              .status == 201);
  auto c = s.Post("/v1/alerts/rules", s.admin_key, {{"key", "cvr_change"}, {"metric", "cvr"}});
  INFO(c.raw);
  REQUIRE(c.status == 201);
  CHECK(c.body["window"] == "15m");
  CHECK(c.body["for"] == "10m");
  CHECK(c.body["enabled"] == true);
  CHECK(c.body["metric_kind"] == "proportion");
  CHECK(c.body["condition"] == Json{{"type", "change"},
                                    {"baseline", "same_time_days"},
                                    {"baseline_windows", 7},
                                    {"direction", "both"},
                                    {"alpha", 0.005},
                                    {"min_volume", 2000.0}});
  CHECK(c.body["created_ms"].is_number_integer());
  CHECK(c.body["updated_ms"] == c.body["created_ms"]);
  CheckError(s.Post("/v1/alerts/rules", s.admin_key, {{"key", "cvr_change"}, {"metric", "cvr"}}),
             409, "key");

  Json threshold = {{"key", "aov_low"},
                    {"metric", "order_value"},
                    {"window", "1h"},
                    {"for", "0m"},
                    {"condition", {{"type", "threshold"}, {"op", "below"}, {"value", 20}}}};
  auto t = s.Post("/v1/alerts/rules", s.admin_key, threshold);
  INFO(t.raw);
  REQUIRE(t.status == 201);
  CHECK(t.body["condition"]["min_volume"] == 0.0);
  CHECK(t.body["window"] == "1h");
  CHECK(s.Get("/v1/alerts/rules", s.admin_key).body["rules"].size() == 2);
  CHECK(s.Get("/v1/alerts/rules/aov_low", s.admin_key).body["metric"] == "order_value");

  auto p =
      s.Patch("/v1/alerts/rules/cvr_change", s.admin_key,
              {{"enabled", false},
               {"condition", {{"type", "change"}, {"baseline", "week"}, {"direction", "drop"}}}});
  INFO(p.raw);
  REQUIRE(p.status == 200);
  CHECK(p.body["enabled"] == false);
  CHECK(p.body["condition"]["baseline"] == "week");
  CHECK_FALSE(p.body["condition"].contains("baseline_windows"));
  CHECK(p.body["window"] == "15m");  // kept
  CHECK(s.Get("/v1/alerts/rules/cvr_change", s.admin_key).body["condition"]["direction"] == "drop");

  auto post = [&](Json body) { return s.Post("/v1/alerts/rules", s.admin_key, body); };
  CheckError(post({{"key", "x"}, {"metric", "cvr"}, {"windw", "5m"}}), 400, "windw");
  CheckError(post({{"key", "x"}, {"metric", "missing"}}), 400, "metric");
  CheckError(post({{"metric", "cvr"}}), 400, "key");
  CheckError(post({{"key", "x"}, {"metric", "cvr"}, {"window", "15 minutes"}}), 400, "window");
  CheckError(post({{"key", "x"}, {"metric", "cvr"}, {"window", "90s"}}), 400, "window");
  CheckError(post({{"key", "x"}, {"metric", "order_value"}}), 400, "condition.type");
  CheckError(post({{"key", "x"}, {"metric", "cvr"}, {"condition", {{"type", "spike"}}}}), 400,
             "condition.type");
  CheckError(post({{"key", "x"},
                   {"metric", "cvr"},
                   {"condition", {{"type", "threshold"}, {"op", "above"}, {"alpha", 0.1}}}}),
             400, "condition.alpha");  // not a threshold's member
  CheckError(
      post({{"key", "x"},
            {"metric", "cvr"},
            {"condition", {{"type", "change"}, {"baseline", "day"}, {"baseline_windows", 3}}}}),
      400, "condition.baseline_windows");
  CheckError(
      post({{"key", "x"}, {"metric", "cvr"}, {"condition", {{"type", "change"}, {"alpha", 2}}}}),
      400, "condition.alpha");
  CheckError(s.Patch("/v1/alerts/rules/cvr_change", s.admin_key, {{"key", "other"}}), 400, "key");
  CheckError(s.Patch("/v1/alerts/rules/nope", s.admin_key, {{"enabled", true}}), 404, "key");
  CheckError(s.Get("/v1/alerts/rules", s.sdk_key), 403, "Authorization");

  auto d = s.Delete("/v1/alerts/rules/cvr_change", s.admin_key);
  REQUIRE(d.status == 200);
  CHECK(d.body["deleted"] == true);
  CheckError(s.Delete("/v1/alerts/rules/cvr_change", s.admin_key), 404, "key");
  CheckError(s.Get("/v1/alerts/rules/cvr_change", s.admin_key), 404, "key");
  CHECK(s.Get("/v1/alerts/rules", s.admin_key).body["rules"].size() == 1);
}
