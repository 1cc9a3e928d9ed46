#include "api/resources/monitors.h"

#include "api/codec/field_reader.h"
#include "api/codec/time_text.h"

namespace causeway::api {
namespace {

constexpr int64_t kHealthAlertsWindowMs = 7 * app::kDayMs;
constexpr size_t kHealthAlerts = 20;

// Stored detail text is ours (MonitorService writes it); unreadable reads as null.
Json Detail(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

Json RenderOutcome(const app::MonitorOutcome& o) {
  Json j = {{"subject_kind", o.subject_kind},
            {"subject", o.subject},
            {"monitor", o.monitor},
            {"kind", o.kind},
            {"previous_state", o.previous_state},
            {"state", o.state},
            {"since_ms", o.since_ms},
            {"evaluated", o.evaluated},
            {"condition", o.condition},
            {"transition", o.transition},
            {"committed", o.committed},
            {"statistic", Detail(o.detail)}};
  j[o.subject_kind] = o.subject;  // "rule": key or "experiment": key
  if (!o.reason.empty()) j["reason"] = o.reason;
  return j;
}

Json RenderAlert(const store::AlertRow& a) {
  Json j = {{"id", a.id},           {"kind", a.kind},         {"subject_kind", a.subject_kind},
            {"subject", a.subject}, {"monitor", a.monitor},   {"state", a.state},
            {"at_ms", a.at_ms},     {"at", IsoTime(a.at_ms)}, {"statistic", Detail(a.payload)}};
  j[a.subject_kind] = a.subject;
  return j;
}

Json RenderState(const store::MonitorStateRow& s) {
  return {{"monitor", s.monitor},
          {"state", s.state},
          {"since_ms", s.since_ms},
          {"since", IsoTime(s.since_ms)},
          {"evaluated_at_ms", s.evaluated_ms},
          {"statistic", Detail(s.detail)}};
}

}  // namespace

HandlerResult EvaluateMonitors(app::MonitorService& monitors, const QueryParams& query,
                               std::string_view body, int64_t now_ms) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  FieldReader r = FieldReader::Query(query);
  int64_t as_of = now_ms / app::kMinuteMs * app::kMinuteMs;
  app::MonitorRunOptions options;
  std::optional<std::string> subject;
  r.Optional("as_of", &as_of).Optional("dry_run", &options.dry_run).Optional("subject", &subject);
  if (subject) {
    r.Check(subject->rfind("rule:", 0) == 0 || subject->rfind("experiment:", 0) == 0, "subject",
            "must be rule:<key> or experiment:<key>");
    options.only_subject = subject;
    options.rules = subject->rfind("rule:", 0) == 0;
    options.experiments = !options.rules;
  }
  if (Status s = r.Finish(); !s.ok()) return s;
  auto run = monitors.Evaluate(as_of, options);
  if (!run.ok()) return run.status();
  Json outcomes = Json::array(), rollouts = Json::array(), alerts = Json::array();
  for (const auto& o : run->outcomes) outcomes.push_back(RenderOutcome(o));
  for (const auto& ro : run->rollouts) {
    rollouts.push_back({{"experiment", ro.experiment},
                        {"action", app::RolloutActionName(ro.decision.action)},
                        {"to_step", ro.decision.next_step},
                        {"coverage", ro.decision.coverage},
                        {"reason", ro.decision.reason},
                        {"applied", ro.applied}});
  }
  for (const auto& a : run->alerts) alerts.push_back(RenderAlert(a));
  return Json{{"as_of_ms", run->as_of_ms},
              {"as_of", IsoTime(run->as_of_ms)},
              {"dry_run", run->dry_run},
              {"monitors", std::move(outcomes)},
              {"rollouts", std::move(rollouts)},
              {"alerts", std::move(alerts)},
              {"errors", run->errors}};
}

HandlerResult ExperimentHealth(store::Store& store, const app::ExperimentService& experiments,
                               std::string_view key, int64_t now_ms) {
  auto x = experiments.Get(key);
  if (!x.ok()) return x.status();
  auto h = app::ReadExperimentHealth(store, key, now_ms - kHealthAlertsWindowMs, kHealthAlerts);
  if (!h.ok()) return h.status();
  Json monitors = Json::array(), alerts = Json::array();
  for (const auto& s : h->monitors) monitors.push_back(RenderState(s));
  for (const auto& a : h->recent_alerts) alerts.push_back(RenderAlert(a));
  Json out = {{"experiment", std::string(key)},
              {"status", h->status},
              {"experiment_status", app::StatusName(x->status)},
              {"evaluated_at_ms", h->evaluated_ms ? Json(h->evaluated_ms) : Json()},
              {"monitors", std::move(monitors)},
              {"recent_alerts", std::move(alerts)}};
  if (x->rollout) {
    out["rollout"] = {{"step", x->rollout_state.step},
                      {"coverage", x->coverage},
                      {"status", app::RolloutStatusName(x->rollout_state.status)}};
  }
  return out;
}

}  // namespace causeway::api
