// One evaluation of everything Causeway watches, at `as_of` (issue 21; docs/alerts.md,
// "Evaluation"): every enabled metric alert rule (app/alert_rule_service.h), every
// running experiment's monitors (app/experiment_monitors.h) and, for a rollout, the
// ramp's decision (app/rollout.h). The scheduler calls it at wall-clock time (as_of
// aligned down to the minute, so several instances evaluating the same minute write
// the same states and the same alert ids); `POST /v1/monitors/evaluate?as_of=`
// calls the same function with any as_of, so a fortnight replays in seconds.
//
// Thread-safe: evaluations run one at a time.
//
// Rules for the stored state:
//   - A subject's previous state is its stored one when that was evaluated before
//     as_of; otherwise it is not used, and nothing is written for that subject
//     (`committed` false, reason "a later evaluation is stored"): a late or repeated
//     call never rewinds a monitor.
//   - States and the alerts of their transitions (to firing and to resolved, as
//     Prometheus notifies) are written in one commit (AlertService::Record), which
//     queues their webhook deliveries.
//   - A rollout's step change or rollback is applied to the experiment first
//     (ExperimentService::ApplyRollout: the configuration is the truth), then
//     recorded as an alert of kind "rollout".
//   - dry_run: everything is evaluated from the stored states, nothing is written.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/alert_rule_service.h"
#include "app/alerts.h"
#include "app/experiment_monitors.h"
#include "app/rollout.h"
#include "app/services.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

// One monitor of one subject after the evaluation.
struct MonitorOutcome {
  std::string subject_kind;  // "rule" or "experiment"
  std::string subject;       // the rule's or experiment's key
  std::string monitor;       // "rule", "srm", "guardrail:<metric>", "no_traffic", ...
  std::string kind;          // the alert kind: "rule", "srm", "guardrail", ...
  std::string previous_state;
  std::string state;
  int64_t since_ms = 0;
  bool evaluated = false;  // false: reason says why (not running, not enough data, ...)
  std::string reason;
  bool condition = false;
  bool transition = false;
  bool committed = false;
  std::string detail;  // JSON text: the statistic (stored with the state)
};

struct RolloutOutcome {
  std::string experiment;
  RolloutDecision decision;
  bool applied = false;
};

struct MonitorRun {
  int64_t as_of_ms = 0;
  bool dry_run = false;
  std::vector<MonitorOutcome> outcomes;
  std::vector<RolloutOutcome> rollouts;
  std::vector<store::AlertRow> alerts;  // raised and stored by this run
  std::vector<std::string> errors;      // per subject, e.g. "experiment:x: <status>"
};

struct MonitorRunOptions {
  bool dry_run = false;
  bool rules = true;
  bool experiments = true;
  std::optional<std::string> only_subject;  // "rule:<key>" or "experiment:<key>"
};

class MonitorService {
 public:
  // REQUIRES: the arguments outlive the service.
  MonitorService(store::Store* store, ExperimentService* experiments, const MetricService* metrics,
                 const AlertRuleService* rules, AlertService* alerts,
                 ExperimentMonitorConfig config = {})
      : store_(store),
        experiments_(experiments),
        metrics_(metrics),
        rules_(rules),
        alerts_(alerts),
        config_(config) {}

  // InvalidArgument naming "as_of" for an as_of before 2000 or after 2200; Internal
  // when the stored states cannot be read. Failures of one subject are in `errors`.
  StatusOr<MonitorRun> Evaluate(int64_t as_of_ms, const MonitorRunOptions& options = {});

  const ExperimentMonitorConfig& config() const { return config_; }

 private:
  void EvaluateRules(int64_t as_of_ms, const MonitorRunOptions& options,
                     const std::vector<store::MonitorStateRow>& stored, MonitorRun* run);
  void EvaluateExperiment(const Experiment& x, int64_t as_of_ms, const MonitorRunOptions& options,
                          const std::vector<store::MonitorStateRow>& stored, MonitorRun* run);
  void Commit(const std::vector<store::MonitorStateRow>& states,
              const std::vector<NewAlert>& alerts, const std::string& subject, MonitorRun* run);

  store::Store* const store_;
  ExperimentService* const experiments_;
  const MetricService* const metrics_;
  const AlertRuleService* const rules_;
  AlertService* const alerts_;
  const ExperimentMonitorConfig config_;
  std::mutex mu_;  // one evaluation at a time (the scheduler's and the endpoint's)
};

// A summary of one experiment's stored monitor states and recent alerts, for
// GET /v1/experiments/{key}/health: "healthy" (every monitor inactive or
// resolved), "warning" (one pending), "unhealthy" (one firing), or "unknown"
// (never evaluated).
struct ExperimentHealth {
  std::string status = "unknown";
  int64_t evaluated_ms = 0;  // latest evaluation (0: never)
  std::vector<store::MonitorStateRow> monitors;
  std::vector<store::AlertRow> recent_alerts;  // newest first
};
StatusOr<ExperimentHealth> ReadExperimentHealth(store::Store& store, std::string_view experiment,
                                                int64_t alerts_since_ms, size_t max_alerts);

// Parses a stored state name ("inactive", "pending", "firing", "resolved");
// anything else reads as inactive.
AlertStateKind ParseAlertState(std::string_view name);

}  // namespace causeway::app
