// Typed experiment configurations and metric definitions, and their product rules:
// defaults, validation, the re-randomisation rule and the assignment spec.
//
// The API decodes a request (or a stored configuration) into these structs once;
// everything after that works on typed values. The store keeps configurations as
// opaque text written by a ConfigCodec (src/app/services.h).
//
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/rollout.h"
#include "assign/engine.h"
#include "assign/value.h"
#include "common/status.h"

namespace causeway::app {

// The syntax of experiment, variant, metric and feature keys: 1-128 bytes of
// [A-Za-z0-9_.-].
bool IsKey(std::string_view s);

// ---------------------------------------------------------------- experiments

struct ExperimentVariant {
  std::string key;               // 1-128 of [A-Za-z0-9_.-], unique
  std::optional<double> weight;  // >= 0; all or none; after Normalize: always set
  std::optional<std::string> name;
  std::optional<std::string> description;
};

struct ExperimentNamespace {
  std::string name;
  double start = 0.0;  // 0 <= start < end <= 1
  double end = 1.0;
};

struct Phase {
  int phase = 1;
  std::string seed;
  int64_t started_ms = 0;
};

// A guardrail metric and its non-inferiority margin: the relative change in the
// harmful direction the team accepts ("revenue may not fall by more than 1 %":
// margin 0.01). None: only a significant harm counts.
struct GuardrailMetric {
  std::string metric;
  std::optional<double> margin;  // in (0, 1]
};

struct Experiment {
  // The configuration (what a client sends).
  std::string key;
  std::optional<std::string> name;  // default: the key
  std::optional<std::string> description;
  std::vector<ExperimentVariant> variants;  // 2..100; the first is the control
  std::optional<std::string> seed;          // default: the key
  int hash_version = 2;                     // 1 or 2 (GrowthBook)
  double coverage = 1.0;                    // in [0, 1]
  std::optional<ExperimentNamespace> ns;
  std::optional<assign::Value> condition;        // GrowthBook condition syntax (an object)
  std::map<std::string, std::string> overrides;  // user id -> variant key
  assign::ExperimentStatus status = assign::ExperimentStatus::kDraft;

  // Metric roles (metric keys; a metric has at most one role) and the plan.
  std::vector<std::string> goal_metrics;
  std::vector<std::string> secondary_metrics;
  std::vector<GuardrailMetric> guardrail_metrics;
  std::optional<int64_t> planned_sample_size;  // total users over all variants, >= 2
  std::optional<int64_t> planned_end_ms;       // an instant (ms since the epoch, UTC)
  // A safe rollout (app/rollout.h): coverage follows rollout->steps[rollout_state.step].
  std::optional<RolloutPlan> rollout;

  // State kept by the service.
  RolloutState rollout_state;  // meaningful only with a rollout
  int phase = 1;
  std::vector<Phase> phases;  // in order; the last is the current one
  int64_t created_ms = 0;
  int64_t updated_ms = 0;

  // Lower bound on exposure timestamps for analyses: the start of the current
  // phase, or 0 in phase 1 (no earlier phase to separate from, so backfilled
  // history and slightly early client clocks still count).
  int64_t SinceMs() const;
};

// Fills the defaults (name, seed, equal weights) and checks every rule of a
// configuration; InvalidArgument naming the field ("variants[1].key").
Status NormalizeExperiment(Experiment* experiment);

// The metric roles and the plan: keys, one role per metric, margins in (0, 1],
// planned_sample_size >= 2 (part of NormalizeExperiment). Whether the metrics
// exist is checked by the caller that knows them (CheckMetricsExist).
Status CheckRolesAndPlan(const Experiment& experiment);

// A change to a configuration: each member, when set, replaces the current value.
struct ExperimentPatch {
  std::optional<std::string> key;  // may only repeat the current key
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<ExperimentVariant>> variants;
  std::optional<std::string> seed;
  std::optional<int> hash_version;
  std::optional<double> coverage;
  std::optional<std::optional<ExperimentNamespace>> ns;   // set to nullopt: removed
  std::optional<std::optional<assign::Value>> condition;  // set to nullopt: removed
  std::optional<std::map<std::string, std::string>> overrides;
  std::optional<assign::ExperimentStatus> status;
  std::optional<std::vector<std::string>> goal_metrics;
  std::optional<std::vector<std::string>> secondary_metrics;
  std::optional<std::vector<GuardrailMetric>> guardrail_metrics;
  std::optional<std::optional<int64_t>> planned_sample_size;  // set to nullopt: removed
  std::optional<std::optional<int64_t>> planned_end_ms;       // set to nullopt: removed
  // Set: replaces the plan (the step is kept, a paused ramp resumes with the step's
  // clock restarted); set to nullopt: the rollout is removed (coverage stays).
  std::optional<std::optional<RolloutPlan>> rollout;
  bool new_phase = false;  // start a new phase (new random seed unless `seed` is given)
};

// The re-randomisation rule: changing variants (keys or weights), seed, coverage or
// hash_version of a running experiment moves users between variants, so it is
// FailedPrecondition naming the field unless a new phase is started. A rollout's
// coverage may rise: every user keeps the bucket they had.
Status CheckRerandomisation(const Experiment& before, const Experiment& after, bool new_phase);

// The assignment engine's view. REQUIRES: NormalizeExperiment(&e).ok()
assign::ExperimentSpec ToAssignSpec(const Experiment& e);

// "draft", "running", "stopped".
const char* StatusName(assign::ExperimentStatus status);

// ---------------------------------------------------------------- metrics

enum class MetricType {
  kBinomial,  // did the user convert (>= 1 event)
  kMean,      // sum of the user's event values
  kCount,     // number of the user's events
  kRatio,     // sum of event values / sum of denominator_event values, over users
};

struct MetricDefinition {
  std::string key;                  // 1-128 of [A-Za-z0-9_.-]
  std::optional<std::string> name;  // default: the key
  std::optional<std::string> description;
  MetricType type = MetricType::kBinomial;
  std::string event;                             // conversion event name, 1-128 bytes
  std::optional<std::string> denominator_event;  // ratio metrics only (and required)
  std::optional<double> window_hours;            // from first exposure; none: unlimited
  bool higher_is_better = true;
  // CUPED covariate: the same metric over this many days before each user's first
  // exposure (0: no covariate). Default 14.
  double cuped_lookback_days = 14;
  int64_t created_ms = 0;  // kept by the service
};

// Fills the defaults and checks the rules; InvalidArgument naming the field.
Status NormalizeMetric(MetricDefinition* metric);

// "binomial", "mean", "count", "ratio".
const char* MetricTypeName(MetricType type);

}  // namespace causeway::app
