// Monitor evaluation over HTTP (issue 21; docs/alerts.md, "Evaluation"):
// POST /v1/monitors/evaluate replays imported history call by call; a harmed
// guardrail fires, rolls a rollout back and /v1/assign then serves control; a
// healthy rollout advances a step; GET /v1/experiments/{key}/health and
// GET /v1/alerts show what happened; a late as_of never rewinds a stored state;
// dry_run writes nothing; bad input is a 400 naming the parameter.
#include <catch2/catch.hpp>
#include <string>

#include "api/http/log.h"
#include "test_server.h"

namespace causeway {
namespace {

using Json = nlohmann::json;
using testing::TestServer;
constexpr int64_t kMin = 60'000;

api::ServerOptions NoScheduler() {
  api::ServerOptions o;
  o.monitor_scheduler = false;  // the test decides every as_of
  return o;
}

Json Rollout(const std::string& key, Json steps, double min_hours) {
  return {
      {"key", key},
      {"variants", {{{"key", "old"}}, {{"key", "new"}}}},
      {"status", "running"},
      {"guardrail_metrics", {{{"metric", "buy"}, {"margin", 0.01}}}},
      {"rollout",
       {{"steps", std::move(steps)}, {"min_hours_per_step", min_hours}, {"auto_rollback", true}}}};
}

// `users` exposures one second apart from t0, alternating variants; a user of
// "old" buys with probability old_rate, of "new" new_rate (by a fixed pattern).
Json History(const std::string& experiment, int64_t t0, int users, int old_per_10, int new_per_10) {
  Json events = Json::array();
  for (int i = 0; i < users; ++i) {
    const bool is_new = i % 2 == 1;
    const std::string user = experiment + "_u" + std::to_string(i);
    const int64_t ts = t0 + i * 1000;
    events.push_back({{"type", "exposure"},
                      {"id", "x" + user},
                      {"experiment", experiment},
                      {"user", user},
                      {"variant", is_new ? "new" : "old"},
                      {"ts", ts}});
    if ((i / 2) % 10 < (is_new ? new_per_10 : old_per_10)) {
      events.push_back({{"type", "conversion"},
                        {"id", "c" + user},
                        {"user", user},
                        {"event", "buy"},
                        {"ts", ts + 500}});
    }
  }
  return {{"events", std::move(events)}};
}

void Setup(const TestServer& s, const Json& experiment) {
  REQUIRE(
      s.Post("/v1/metrics", s.admin_key, {{"key", "buy"}, {"type", "binomial"}, {"event", "buy"}})
          .status == 201);
  auto r = s.Post("/v1/experiments", s.admin_key, experiment);
  INFO(r.raw);
  REQUIRE(r.status == 201);
}

TestServer::Reply Evaluate(const TestServer& s, const std::string& query) {
  return s.Call("POST", "/v1/monitors/evaluate?" + query, s.admin_key);
}

const Json* FindMonitor(const Json& run, const std::string& monitor) {
  for (const auto& m : run["monitors"]) {
    if (m["monitor"] == monitor) return &m;
  }
  return nullptr;
}

TEST_CASE("evaluate replays history: a harmed guardrail rolls the rollout back") {
  TestServer s(NoScheduler());
  Setup(s, Rollout("ramp", {0.5, 1.0}, 24));
  const int64_t t0 = api::NowMs() / kMin * kMin - 6 * 60 * kMin;
  // 2000 users over 33 minutes: "old" buys 30 %, "new" 10 %.
  auto posted = s.Post("/v1/events", s.sdk_key, History("ramp", t0, 2000, 3, 1));
  REQUIRE(posted.status == 200);

  // Before any traffic: nothing to test yet, everything inactive.
  auto r = Evaluate(s, "as_of=" + std::to_string(t0));
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(r.body["dry_run"] == false);
  const Json* g = FindMonitor(r.body, "guardrail:buy");
  REQUIRE(g);
  CHECK((*g)["state"] == "inactive");
  CHECK((*g)["condition"] == false);
  CHECK((*g)["committed"] == true);
  CHECK((*g)["experiment"] == "ramp");
  CHECK(r.body["alerts"].empty());

  // Every 5 minutes through the history until the guardrail fires.
  int64_t fired_at = 0;
  for (int64_t t = t0 + 5 * kMin; t <= t0 + 40 * kMin && !fired_at; t += 5 * kMin) {
    r = Evaluate(s, "as_of=" + std::to_string(t));
    REQUIRE(r.status == 200);
    CHECK(r.body["errors"].empty());
    g = FindMonitor(r.body, "guardrail:buy");
    REQUIRE(g);
    if ((*g)["state"] == "firing") fired_at = t;
    CHECK(FindMonitor(r.body, "srm")->at("state") != "firing");  // alternating: no SRM
  }
  INFO(r.raw);
  REQUIRE(fired_at > 0);
  CHECK((*g)["transition"] == true);
  CHECK((*g)["statistic"]["p_value"].get<double>() < 0.05);
  CHECK((*g)["statistic"]["estimate"].get<double>() < 0);
  REQUIRE(r.body["rollouts"].size() == 1);
  CHECK(r.body["rollouts"][0]["action"] == "rollback");
  CHECK(r.body["rollouts"][0]["applied"] == true);
  bool guardrail_alert = false, rollout_alert = false;
  for (const auto& a : r.body["alerts"]) {
    guardrail_alert |= a["kind"] == "guardrail" && a["state"] == "firing";
    rollout_alert |= a["kind"] == "rollout" && a["state"] == "rollback";
  }
  CHECK(guardrail_alert);
  CHECK(rollout_alert);

  // The configuration is the truth: stopped, rolled back, control served.
  auto x = s.Get("/v1/experiments/ramp", s.admin_key);
  CHECK(x.body["status"] == "stopped");
  CHECK(x.body["rollout"]["status"] == "rolled_back");
  for (int u = 0; u < 20; ++u) {
    auto a = s.Get("/v1/assign?experiment=ramp&user=v" + std::to_string(u), s.sdk_key);
    REQUIRE(a.status == 200);
    CHECK(a.body["variant"] == "old");
    CHECK(a.body["reason"] == "released");
  }

  // Health: unhealthy, the firing guardrail, the alerts newest first.
  auto h = s.Get("/v1/experiments/ramp/health", s.admin_key);
  INFO(h.raw);
  REQUIRE(h.status == 200);
  CHECK(h.body["status"] == "unhealthy");
  CHECK(h.body["experiment_status"] == "stopped");
  CHECK(h.body["evaluated_at_ms"] == fired_at);
  CHECK(h.body["rollout"]["status"] == "rolled_back");
  bool firing = false;
  for (const auto& m : h.body["monitors"])
    firing |= m["monitor"] == "guardrail:buy" && m["state"] == "firing";
  CHECK(firing);
  REQUIRE(h.body["recent_alerts"].size() >= 2);
  // The history lists both with their statistic.
  auto alerts = s.Get("/v1/alerts?since=" + std::to_string(t0), s.admin_key);
  REQUIRE(alerts.status == 200);
  int kinds = 0;
  for (const auto& a : alerts.body["alerts"]) {
    kinds += a["kind"] == "guardrail" || a["kind"] == "rollout";
    CHECK(a["subject"] == "ramp");
  }
  CHECK(kinds >= 2);

  // A stopped experiment is not monitored any more.
  r = Evaluate(s, "as_of=" + std::to_string(fired_at + 5 * kMin));
  CHECK(r.body["monitors"].empty());
}

TEST_CASE("evaluate: a healthy rollout advances after its step's time") {
  TestServer s(NoScheduler());
  Setup(s, Rollout("ramp2", {0.1, 0.5, 1.0}, 0.25));  // 15 minutes a step
  const int64_t now = api::NowMs() / kMin * kMin;
  REQUIRE(s.Post("/v1/events", s.sdk_key, History("ramp2", now - 10 * kMin, 600, 3, 3)).status ==
          200);
  // Within the step's 15 minutes: hold.
  auto r = Evaluate(s, "as_of=" + std::to_string(now + 5 * kMin));
  INFO(r.raw);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["rollouts"].size() == 1);
  CHECK(r.body["rollouts"][0]["action"] == "hold");
  CHECK(s.Get("/v1/experiments/ramp2", s.admin_key).body["coverage"] == 0.1);
  // After it, with every monitor healthy: the next step, and an alert saying so.
  r = Evaluate(s, "as_of=" + std::to_string(now + 20 * kMin));
  INFO(r.raw);
  CHECK(r.body["rollouts"][0]["action"] == "advance");
  CHECK(r.body["rollouts"][0]["applied"] == true);
  auto x = s.Get("/v1/experiments/ramp2", s.admin_key);
  CHECK(x.body["coverage"] == 0.5);
  CHECK(x.body["status"] == "running");
  CHECK(x.body["rollout"]["step"] == 1);
  bool alert = false;
  for (const auto& a : r.body["alerts"]) alert |= a["kind"] == "rollout" && a["state"] == "advance";
  CHECK(alert);
  auto h = s.Get("/v1/experiments/ramp2/health", s.admin_key);
  CHECK(h.body["status"] == "healthy");
}

TEST_CASE("evaluate: a late as_of never rewinds; dry_run writes nothing; subject filters") {
  TestServer s(NoScheduler());
  Setup(s, Rollout("late", {0.5, 1.0}, 24));
  const int64_t now = api::NowMs() / kMin * kMin;
  REQUIRE(s.Post("/v1/events", s.sdk_key, History("late", now - 60 * kMin, 400, 3, 3)).status ==
          200);
  CHECK(s.Get("/v1/experiments/late/health", s.admin_key).body["status"] == "unknown");

  auto dry = Evaluate(s, "as_of=" + std::to_string(now) + "&dry_run=true");
  REQUIRE(dry.status == 200);
  CHECK(dry.body["dry_run"] == true);
  REQUIRE(!dry.body["monitors"].empty());
  for (const auto& m : dry.body["monitors"]) CHECK(m["committed"] == false);
  CHECK(s.Get("/v1/experiments/late/health", s.admin_key).body["status"] == "unknown");

  auto r = Evaluate(s, "as_of=" + std::to_string(now) + "&subject=experiment:late");
  REQUIRE(r.status == 200);
  for (const auto& m : r.body["monitors"]) CHECK(m["committed"] == true);
  auto h = s.Get("/v1/experiments/late/health", s.admin_key);
  CHECK(h.body["status"] == "healthy");
  CHECK(h.body["evaluated_at_ms"] == now);

  // An earlier as_of is evaluated and answered, not stored.
  r = Evaluate(s, "as_of=" + std::to_string(now - 30 * kMin));
  REQUIRE(r.status == 200);
  REQUIRE(!r.body["monitors"].empty());
  for (const auto& m : r.body["monitors"]) {
    CHECK(m["committed"] == false);
    CHECK(m["reason"] == "a later evaluation is stored");
  }
  CHECK(s.Get("/v1/experiments/late/health", s.admin_key).body["evaluated_at_ms"] == now);

  // Only the rules: no experiment monitor.
  r = Evaluate(s, "as_of=" + std::to_string(now + kMin) + "&subject=rule:none");
  REQUIRE(r.status == 200);
  CHECK(r.body["monitors"].empty());
}

TEST_CASE("evaluate and health: bad input is a 400 or 404 naming what is wrong") {
  TestServer s(NoScheduler());
  auto check = [&](const TestServer::Reply& r, int status, const std::string& field) {
    INFO(r.raw);
    CHECK(r.status == status);
    CHECK(r.body["error"]["field"] == field);
  };
  check(Evaluate(s, "as_of=12"), 400, "as_of");
  check(Evaluate(s, "as_of=soon"), 400, "as_of");
  check(Evaluate(s, "dry_run=maybe"), 400, "dry_run");
  check(Evaluate(s, "subject=everything"), 400, "subject");
  check(Evaluate(s, "as_off=1"), 400, "as_off");
  check(s.Call("POST", "/v1/monitors/evaluate", s.admin_key, R"({"as_of": 1})"), 400, "as_of");
  check(s.Get("/v1/experiments/nope/health", s.admin_key), 404, "key");
  CHECK(s.Call("POST", "/v1/monitors/evaluate", s.sdk_key).status == 403);
  CHECK(s.Get("/v1/experiments/nope/health", "").status == 401);
  // Without a body or with {}: evaluated now.
  auto r = s.Call("POST", "/v1/monitors/evaluate", s.admin_key, "{}");
  CHECK(r.status == 200);
  CHECK(r.body["as_of_ms"].get<int64_t>() % kMin == 0);
}

TEST_CASE("GET /metrics: Prometheus text, the page for a browser; delivery counters listed") {
  TestServer s;
  httplib::Client c = s.Client();
  auto text = c.Get("/metrics");
  REQUIRE(text);
  CHECK(text->status == 200);
  CHECK(text->get_header_value("Content-Type").find("text/plain") == 0);
  CHECK(text->body.find("causeway_webhook_attempts_total") != std::string::npos);
  CHECK(text->body.find("causeway_webhook_delivered_total") != std::string::npos);
  CHECK(text->body.find("causeway_monitor_evaluations_total") != std::string::npos);
  auto page = c.Get("/metrics", {{"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}});
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type").find("text/html") == 0);
  CHECK(page->body.find("<html") != std::string::npos);
}

}  // namespace
}  // namespace causeway
