// The incrementality of an experiment whose control is a holdout
// (GET /v1/experiments/{key}/lift): which arms are compared and with which per-user
// value, from the events stored for the experiment's current phase.
//
//   ExperimentLiftOptions {holdout, test, spend, reach, confidence} + metric
//     -> PrepareExperimentLift -> ExperimentLift {test, holdout, causal::LiftInput}
//     -> causal::EstimateLift (the caller's; its errors are causal::Error)
//
// Policy held here:
// - the holdout defaults to the variant "control"; the test variant defaults to the
//   only other variant and must be named when there are several;
// - only per-user metrics (binomial, mean, count) have a lift; ratio metrics do not;
// - a group's "conversions" are its users with at least one conversion; its
//   "revenue" is the metric's per-user value summed over users: the sum of event
//   values, or the number of events for count metrics (with the matching sum of
//   squares), from first exposure and within the metric's window;
// - a group without exposed users is InsufficientData naming "test" or "holdout".
// No I/O but the store's reads; no JSON. Thread-safe when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/experiment.h"
#include "causal/lift.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

struct ExperimentLiftOptions {
  std::string holdout = "control";  // a variant of the experiment
  std::optional<std::string> test;  // default: the only variant other than the holdout
  std::optional<double> spend;      // >= 0, money spent on the test group
  std::optional<double> reach;      // in (0, 1], share of the test group actually exposed
  double confidence = 0.95;         // 1 - alpha
};

// The experiment as the lift needs it.
struct LiftExperiment {
  std::string key;
  std::vector<std::string> variants;  // keys, in configuration order
  int64_t since_ms = 0;               // start of the current phase (Experiment::SinceMs)
};

// The two arms compared: InvalidArgument naming "holdout" or "test" when the holdout
// is not a variant, the test is the holdout or not a variant, or the test is not
// given and the experiment has more than one other variant.
struct LiftArms {
  std::string test;
  std::string holdout;
};
StatusOr<LiftArms> ChooseLiftArms(const LiftExperiment& experiment,
                                  const ExperimentLiftOptions& options);

// The group of `variant` from per-variant statistics of `metric` (see above); an
// empty group (no users) when the variant has no row.
causal::LiftGroup LiftGroupOf(const std::vector<store::VariantMetricStats>& stats,
                              const std::string& variant, MetricType type);

struct ExperimentLift {
  LiftArms arms;
  causal::LiftInput input;  // test and holdout groups, spend, reach, confidence
};

// REQUIRES: NormalizeMetric(&metric).ok().
// InvalidArgument("metric") for a ratio metric, ChooseLiftArms' errors, the store's
// errors, InsufficientData("test" / "holdout") when a group has no exposed users.
StatusOr<ExperimentLift> PrepareExperimentLift(store::Store& store,
                                               const LiftExperiment& experiment,
                                               const MetricDefinition& metric,
                                               const ExperimentLiftOptions& options);

}  // namespace causeway::app
