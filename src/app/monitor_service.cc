#include "app/monitor_service.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace causeway::app {
namespace {

// 2000-01-01 and 2200-01-01 in ms since the epoch.
constexpr int64_t kMinAsOfMs = 946'684'800'000;
constexpr int64_t kMaxAsOfMs = 7'258'118'400'000;

// A JSON object written member by member (the application layer has no JSON
// library; the values here are numbers and strings this file chooses).
class JsonObject {
 public:
  JsonObject& Number(const char* name, double v) {
    Key(name);
    if (!std::isfinite(v)) {
      text_ += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      text_ += buf;
    }
    return *this;
  }
  JsonObject& Integer(const char* name, int64_t v) {
    Key(name);
    text_ += std::to_string(v);
    return *this;
  }
  JsonObject& Bool(const char* name, bool v) {
    Key(name);
    text_ += v ? "true" : "false";
    return *this;
  }
  JsonObject& String(const char* name, std::string_view v) {
    Key(name);
    Quote(v);
    return *this;
  }
  JsonObject& Raw(const char* name, std::string_view json) {
    Key(name);
    text_ += json;
    return *this;
  }
  std::string Done() { return text_ + "}"; }

 private:
  void Key(const char* name) {
    text_ += text_.size() > 1 ? "," : "";
    Quote(name);
    text_ += ':';
  }
  void Quote(std::string_view s) {
    text_ += '"';
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        text_ += '\\';
        text_ += c;
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        text_ += buf;
      } else {
        text_ += c;
      }
    }
    text_ += '"';
  }
  std::string text_ = "{";
};

std::string NumberArray(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", values[i]);
    out += (i ? "," : "") + std::string(std::isfinite(values[i]) ? buf : "null");
  }
  return out + "]";
}

std::string IntegerArray(const std::vector<int64_t>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

// Prometheus notifies on firing and on resolved; pending and inactive are states only.
bool Notifies(AlertStateKind to) {
  return to == AlertStateKind::kFiring || to == AlertStateKind::kResolved;
}

const store::MonitorStateRow* FindState(const std::vector<store::MonitorStateRow>& stored,
                                        const std::string& subject, std::string_view monitor) {
  for (const auto& s : stored) {
    if (s.subject == subject && s.monitor == monitor) return &s;
  }
  return nullptr;
}

// True when a stored evaluation of `subject` is at or after as_of (any monitor).
bool StoredLater(const std::vector<store::MonitorStateRow>& stored, const std::string& subject,
                 int64_t as_of_ms) {
  return std::any_of(stored.begin(), stored.end(), [&](const store::MonitorStateRow& s) {
    return s.subject == subject && s.evaluated_ms >= as_of_ms;
  });
}

std::string RuleDetail(const RuleEvaluation& e) {
  return JsonObject()
      .Number("value", e.value)
      .Number("baseline", e.baseline)
      .Number("volume", e.volume)
      .Number("baseline_volume", e.baseline_volume)
      .Number("z", e.z)
      .Number("p_value", e.p)
      .Bool("enough_data", e.enough_data)
      .Bool("condition", e.condition)
      .String("reason", e.reason)
      .Done();
}

std::string MonitorDetail(const MonitorEvaluation& e) {
  const MonitorStatistic& s = e.statistic;
  JsonObject j;
  j.Number("estimate", s.estimate)
      .Number("std_error", s.std_error)
      .Number("p_value", s.p_value)
      .Number("e_value", s.e_value)
      .Number("boundary", s.boundary)
      .Number("bound", s.bound)
      .Number("margin", s.margin)
      .Integer("users", s.users);
  if (!s.variant.empty()) j.String("variant", s.variant);
  if (!s.counts.empty()) j.Raw("counts", IntegerArray(s.counts));
  if (!s.expected.empty()) j.Raw("expected", NumberArray(s.expected));
  if (e.kind == MonitorKind::kNoTraffic) j.Integer("last_exposure_ms", s.last_exposure_ms);
  if (e.kind == MonitorKind::kMultiExposure)
    j.Integer("multi_variant_users", s.multi_variant_users);
  return j.Bool("evaluated", e.evaluated)
      .Bool("condition", e.condition)
      .String("reason", e.reason)
      .Done();
}

std::string RolloutDetail(const RolloutDecision& d, int from_step) {
  return JsonObject()
      .String("action", RolloutActionName(d.action))
      .Integer("from_step", from_step)
      .Integer("to_step", d.next_step)
      .Number("coverage", d.coverage)
      .String("reason", d.reason)
      .Done();
}

}  // namespace

AlertStateKind ParseAlertState(std::string_view name) {
  for (auto s : {AlertStateKind::kInactive, AlertStateKind::kPending, AlertStateKind::kFiring,
                 AlertStateKind::kResolved}) {
    if (name == AlertStateName(s)) return s;
  }
  return AlertStateKind::kInactive;
}

StatusOr<MonitorRun> MonitorService::Evaluate(int64_t as_of_ms, const MonitorRunOptions& options) {
  if (as_of_ms < kMinAsOfMs || as_of_ms > kMaxAsOfMs) {
    return Status::InvalidArgument("as_of", "ms since the epoch between 2000 and 2200");
  }
  std::lock_guard lock(mu_);
  auto stored = store_->ListMonitorStates("");
  if (!stored.ok()) return stored.status();
  MonitorRun run;
  run.as_of_ms = as_of_ms;
  run.dry_run = options.dry_run;
  if (options.rules) EvaluateRules(as_of_ms, options, *stored, &run);
  if (options.experiments) {
    for (const Experiment& x : experiments_->List()) {
      if (x.status != assign::ExperimentStatus::kRunning) continue;
      if (options.only_subject && *options.only_subject != "experiment:" + x.key) continue;
      EvaluateExperiment(x, as_of_ms, options, *stored, &run);
    }
  }
  return run;
}

void MonitorService::Commit(const std::vector<store::MonitorStateRow>& states,
                            const std::vector<NewAlert>& alerts, const std::string& subject,
                            MonitorRun* run) {
  auto stored = alerts_->Record(states, alerts);
  if (!stored.ok()) {
    run->errors.push_back(subject + ": " + stored.status().message());
    return;
  }
  for (auto& a : *stored) run->alerts.push_back(std::move(a));
}

void MonitorService::EvaluateRules(int64_t as_of_ms, const MonitorRunOptions& options,
                                   const std::vector<store::MonitorStateRow>& stored,
                                   MonitorRun* run) {
  auto rules = rules_->List();
  if (!rules.ok()) {
    run->errors.push_back("rules: " + rules.status().message());
    return;
  }
  for (const AlertRuleConfig& config : *rules) {
    const std::string subject = "rule:" + config.rule.key;
    if (!config.enabled) continue;
    if (options.only_subject && *options.only_subject != subject) continue;
    auto metric = rules_->MetricOf(config);
    if (!metric.ok()) {
      run->errors.push_back(subject + ": " + metric.status().message());
      continue;
    }
    const bool later = StoredLater(stored, subject, as_of_ms);
    AlertState previous;
    if (const auto* s = FindState(stored, subject, "rule"); s && !later) {
      previous.state = ParseAlertState(s->state);
      previous.since_ms = s->since_ms;
    }
    auto e = EvaluateRuleAt(config.rule, *metric, *store_, as_of_ms, previous);
    if (!e.ok()) {
      run->errors.push_back(subject + ": " + e.status().message());
      continue;
    }
    MonitorOutcome o;
    o.subject_kind = "rule";
    o.subject = config.rule.key;
    o.monitor = o.kind = "rule";
    o.previous_state = AlertStateName(previous.state);
    o.state = AlertStateName(e->state.state);
    o.since_ms = e->state.since_ms;
    o.evaluated = e->valid && e->enough_data;
    o.reason = later ? "a later evaluation is stored" : e->reason;
    o.condition = e->condition;
    o.transition = e->transition.has_value();
    o.detail = RuleDetail(*e);
    if (!options.dry_run && !later) {
      std::vector<NewAlert> alerts;
      if (e->transition && Notifies(e->transition->to)) {
        alerts.push_back({"rule", "rule", config.rule.key, "rule", o.state, as_of_ms, o.detail});
      }
      const size_t before = run->errors.size();
      Commit({{subject, "rule", o.state, o.since_ms, as_of_ms, o.detail}}, alerts, subject, run);
      o.committed = run->errors.size() == before;
    }
    run->outcomes.push_back(std::move(o));
  }
}

void MonitorService::EvaluateExperiment(const Experiment& x, int64_t as_of_ms,
                                        const MonitorRunOptions& options,
                                        const std::vector<store::MonitorStateRow>& stored,
                                        MonitorRun* run) {
  const std::string subject = "experiment:" + x.key;
  std::vector<MetricDefinition> guardrails;
  for (const auto& g : x.guardrail_metrics) {
    if (auto m = metrics_->Get(g.metric); m.ok()) guardrails.push_back(std::move(*m));
  }
  auto aggregates = store_->AggregateReport(MonitorQuery(x, guardrails, as_of_ms));
  if (!aggregates.ok()) {
    run->errors.push_back(subject + ": " + aggregates.status().message());
    return;
  }
  const bool later = StoredLater(stored, subject, as_of_ms);
  std::vector<MonitorState> previous;
  if (!later) {
    for (const auto& s : stored) {
      if (s.subject == subject)
        previous.push_back({s.monitor, ParseAlertState(s.state), s.since_ms});
    }
  }
  const auto evaluations =
      EvaluateExperimentMonitors(config_, x, guardrails, *aggregates, previous, as_of_ms);

  std::vector<store::MonitorStateRow> states;
  std::vector<NewAlert> alerts;
  RolloutHealth health;
  for (const MonitorEvaluation& e : evaluations) {
    MonitorOutcome o;
    o.subject_kind = "experiment";
    o.subject = x.key;
    o.monitor = e.monitor;
    o.kind = MonitorKindName(e.kind);
    o.previous_state = "inactive";
    for (const auto& p : previous) {
      if (p.monitor == e.monitor) o.previous_state = AlertStateName(p.state);
    }
    o.state = AlertStateName(e.state.state);
    o.since_ms = e.state.since_ms;
    o.evaluated = e.evaluated;
    o.reason = later ? "a later evaluation is stored" : e.reason;
    o.condition = e.condition;
    o.transition = e.transition.has_value();
    o.detail = MonitorDetail(e);
    if (e.state.state == AlertStateKind::kPending || e.state.state == AlertStateKind::kFiring) {
      health.unhealthy = true;
      if (health.reason.empty()) health.reason = e.monitor + " " + o.state;
      if (e.state.state == AlertStateKind::kFiring) {
        health.harm = health.harm || e.kind == MonitorKind::kGuardrail;
        health.srm = health.srm || e.kind == MonitorKind::kSrm;
        if (e.kind == MonitorKind::kGuardrail || e.kind == MonitorKind::kSrm) {
          health.reason = e.monitor + " firing";
        }
      }
    }
    states.push_back({subject, e.monitor, o.state, o.since_ms, as_of_ms, o.detail});
    if (e.transition && Notifies(e.transition->to)) {
      alerts.push_back({o.kind, "experiment", x.key, e.monitor, o.state, as_of_ms, o.detail});
    }
    run->outcomes.push_back(std::move(o));
  }
  if (x.rollout && !later) {
    RolloutOutcome r;
    r.experiment = x.key;
    r.decision = DecideRollout(*x.rollout, x.rollout_state, health, as_of_ms);
    if (!options.dry_run && r.decision.action != RolloutAction::kHold) {
      // The configuration first: it is what assignment serves.
      auto applied = experiments_->ApplyRollout(x.key, r.decision, as_of_ms, as_of_ms);
      if (applied.ok()) {
        r.applied = true;
        alerts.push_back({"rollout", "experiment", x.key, "rollout",
                          RolloutActionName(r.decision.action), as_of_ms,
                          RolloutDetail(r.decision, x.rollout_state.step)});
      } else {
        run->errors.push_back(subject + ": rollout: " + applied.status().message());
      }
    }
    run->rollouts.push_back(std::move(r));
  }
  if (!options.dry_run && !later) {
    const size_t before = run->errors.size();
    Commit(states, alerts, subject, run);
    const bool ok = run->errors.size() == before;
    for (auto& o : run->outcomes) {
      if (o.subject_kind == "experiment" && o.subject == x.key) o.committed = ok;
    }
  }
}

StatusOr<ExperimentHealth> ReadExperimentHealth(store::Store& store, std::string_view experiment,
                                                int64_t alerts_since_ms, size_t max_alerts) {
  const std::string subject = "experiment:" + std::string(experiment);
  auto states = store.ListMonitorStates(subject);
  if (!states.ok()) return states.status();
  ExperimentHealth h;
  for (auto& s : *states) {
    if (s.subject != subject) continue;  // the prefix also matches longer keys
    h.evaluated_ms = std::max(h.evaluated_ms, s.evaluated_ms);
    h.monitors.push_back(std::move(s));
  }
  if (!h.monitors.empty()) {
    h.status = "healthy";
    for (const auto& s : h.monitors) {
      const AlertStateKind k = ParseAlertState(s.state);
      if (k == AlertStateKind::kFiring) h.status = "unhealthy";
      if (k == AlertStateKind::kPending && h.status == "healthy") h.status = "warning";
    }
  }
  auto alerts = store.ListAlerts(alerts_since_ms, 100'000);
  if (!alerts.ok()) return alerts.status();
  for (auto it = alerts->rbegin(); it != alerts->rend() && h.recent_alerts.size() < max_alerts;
       ++it) {
    if (it->subject_kind == "experiment" && it->subject == experiment) {
      h.recent_alerts.push_back(*it);
    }
  }
  return h;
}

}  // namespace causeway::app
