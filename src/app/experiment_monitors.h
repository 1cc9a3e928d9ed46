// Experiment monitors (issue 21, part 3; docs/alerts.md "Experiment monitors",
// docs/statistics.md "Monitors"): the pure evaluation of the health checks that
// run on every running experiment, by default every 5 minutes.
//
//   EvaluateExperimentMonitors(config, experiment, guardrail metrics,
//                              aggregates of the events before as_of,
//                              previous states, as_of)  ->  per monitor: its new
//                              state, the statistic, the transition if any
//
// Every evaluation is a function of the stored events before `as_of`
// (MonitorQuery: the report's one pass with ReportQuery::until_ms = as_of), the
// configuration and the previous states only: a scheduler calls it at wall-clock
// time; a replay calls it at any as_of. The conditions use no memory of earlier
// looks (an always-valid test bounds the chance that its current p-value ever
// falls to alpha, so a condition on the current value keeps the guarantee); the
// previous state only drives the state machine.
//
// Monitors (MonitorStateRow::monitor names):
//   "srm"                 sequential SRM: Dirichlet-multinomial Bayes factor
//                         (Lindon & Malek 2022; stats/sequential_srm.h) of the
//                         analysed users per variant against the weights; holds
//                         when 1/BF <= alpha.
//   "guardrail:<metric>"  harm beyond the non-inferiority margin: one-sided
//                         normal-mixture confidence sequence (stats/always_valid.h)
//                         on the relative effect (delta method) in the harmful
//                         direction; holds when some treatment's bound lies beyond
//                         -margin (0 without a margin), i.e. its always-valid
//                         one-sided p-value of H0 "harm <= margin" is <= alpha.
//   "no_traffic"          no exposure for `no_traffic.window_ms`: holds when
//                         as_of - max(latest exposure before as_of, start of the
//                         current phase, last configuration change) >= window.
//   "multi_exposure"      users seen in more than one variant / exposed users >
//                         threshold, with at least min_users such users.
//
// States (Prometheus alerting rules, as app/alert_rules.h):
//   inactive/resolved --holds--> pending (for_ms > 0) or firing (for_ms == 0)
//   pending --holds for for_ms--> firing;   pending --stops--> inactive
//   firing --stops--> resolved;             resolved --stops--> inactive
// "Not enough data" counts as "does not hold". An experiment that is not running
// is not evaluated: its states stay as they were (a stopped experiment keeps the
// alert that stopped it), with reason "not running".
//
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/ab_analysis.h"
#include "app/alert_rules.h"
#include "app/experiment.h"
#include "common/status.h"
#include "store/report_aggregates.h"

namespace causeway::app {

enum class MonitorKind { kSrm, kGuardrail, kNoTraffic, kMultiExposure };
// "srm", "guardrail", "no_traffic", "multi_exposure" (the alert kinds).
const char* MonitorKindName(MonitorKind kind);

// Defaults and why: docs/alerts.md, "Experiment monitors".
struct ExperimentMonitorConfig {
  int64_t interval_ms = 5 * kMinuteMs;  // how often the scheduler evaluates

  struct Srm {
    bool enabled = true;
    double alpha = 1e-3;         // the report's SRM threshold
    double concentration = 1e4;  // Dirichlet prior a = k p0 (ssrm's default)
    int64_t min_users = 100;     // analysed users in all variants before testing
    int64_t for_ms = 0;
  } srm;

  struct Guardrail {
    bool enabled = true;
    double alpha = 0.05;  // one-sided, per guardrail metric (the report's alpha)
    // Mixture tuning N* (users of control + treatment): the experiment's
    // planned_sample_size when set, else this (the report's default).
    double expected_n = 5000;
    int64_t min_users_per_variant = 100;
    int64_t for_ms = 0;
  } guardrail;

  struct NoTraffic {
    bool enabled = true;
    int64_t window_ms = 60 * kMinuteMs;
    int64_t for_ms = 0;
  } no_traffic;

  struct MultiExposure {
    bool enabled = true;
    double threshold = 0.01;  // fraction of exposed users
    int64_t min_users = 50;   // multi-variant users needed before it can hold
    int64_t for_ms = 0;
  } multi_exposure;
};

// InvalidArgument naming the field ("srm.alpha", "no_traffic.window_ms", ...).
Status ValidateMonitorConfig(const ExperimentMonitorConfig& config);

// A monitor's stored state (MonitorStateRow without the subject and detail).
struct MonitorState {
  std::string monitor;  // "srm", "guardrail:<metric>", "no_traffic", "multi_exposure"
  AlertStateKind state = AlertStateKind::kInactive;
  int64_t since_ms = 0;  // when the state was entered (an as_of)
};

struct MonitorTransition {
  int64_t at_ms = 0;  // the as_of of the evaluation
  AlertStateKind from = AlertStateKind::kInactive;
  AlertStateKind to = AlertStateKind::kInactive;
};

// What a monitor measured at as_of. Members that do not apply are NaN / empty.
struct MonitorStatistic {
  // srm: log Bayes factor; guardrail: relative effect (treatment / control - 1)
  // of the treatment closest to harm; no_traffic: minutes since the clock's
  // start; multi_exposure: the rate.
  double estimate = kNaN;
  double std_error = kNaN;  // guardrail: of the relative effect (delta method)
  double p_value = kNaN;    // srm: min(1, 1/BF); guardrail: always-valid one-sided
  double e_value = kNaN;    // srm: the Bayes factor
  // The value the statistic is compared with: srm and guardrail: alpha (on
  // p_value); no_traffic: the window in minutes; multi_exposure: the threshold.
  double boundary = kNaN;
  // guardrail: the confidence sequence's end on the harmful side (relative
  // effect) and the margin it is compared with (-margin for higher-is-better
  // metrics, +margin for lower-is-better ones).
  double bound = kNaN;
  double margin = kNaN;
  std::string variant;              // guardrail: the treatment it describes
  int64_t users = 0;                // users behind the statistic
  std::vector<int64_t> counts;      // srm: analysed users per variant
  std::vector<double> expected;     // srm: the configured shares
  int64_t last_exposure_ms = 0;     // no_traffic: latest exposure before as_of (0: none)
  int64_t multi_variant_users = 0;  // multi_exposure
};

struct MonitorEvaluation {
  std::string monitor;  // as MonitorState::monitor
  MonitorKind kind = MonitorKind::kSrm;
  bool evaluated = false;  // false: not running, or the monitor cannot apply
  std::string reason;      // why not evaluated, or "not enough data"
  bool condition = false;  // the monitor's condition held at as_of
  MonitorState state;      // the new state
  MonitorStatistic statistic;
  std::optional<MonitorTransition> transition;
};

// The store query whose answer EvaluateExperimentMonitors reads: the events of
// the current phase before as_of, the guardrail metrics (in the order given; no
// CUPED covariate).
store::ReportQuery MonitorQuery(const Experiment& experiment,
                                const std::vector<MetricDefinition>& guardrails, int64_t as_of_ms);

// REQUIRES: aggregates answer MonitorQuery(experiment, guardrails, as_of_ms);
// guardrails are the definitions of (some of) experiment.guardrail_metrics.
// `previous` may miss monitors (then inactive). One evaluation per enabled
// monitor, in the order srm, guardrail:<metric> (as given), no_traffic,
// multi_exposure. An invalid config evaluates nothing (every entry has reason
// set and the previous state).
std::vector<MonitorEvaluation> EvaluateExperimentMonitors(
    const ExperimentMonitorConfig& config, const Experiment& experiment,
    const std::vector<MetricDefinition>& guardrails, const store::ReportAggregates& aggregates,
    const std::vector<MonitorState>& previous, int64_t as_of_ms);

// The state machine alone (header comment): the state after a look at as_of
// where the condition held or not, and the transition if the state changed.
MonitorState NextMonitorState(const MonitorState& previous, bool condition, int64_t for_ms,
                              int64_t as_of_ms, std::optional<MonitorTransition>* transition);

// The guardrail test on one comparison (exposed for the reference tests):
// relative effect and its standard error, users of control + treatment.
struct GuardrailHarmTest {
  bool valid = false;
  std::string reason;
  double p_value = kNaN;  // always-valid one-sided p of H0: good-direction effect >= -margin
  double bound = kNaN;    // upper end of the good-direction effect's one-sided sequence
  double rho = kNaN;
  bool harm = false;  // p_value <= alpha (equivalently bound < -margin)
};
GuardrailHarmTest TestGuardrailHarm(double relative, double relative_std_error, double total_n,
                                    bool higher_is_better, double margin, double alpha,
                                    double expected_n);

}  // namespace causeway::app
