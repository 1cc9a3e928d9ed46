// Safe rollouts (issue 21 part 4; docs/alerts.md, "Safe rollouts").
//
// A rollout is an experiment whose control is the old behaviour and whose coverage
// follows a ramp: `steps` are coverages (the share of users in the test, split by
// the experiment's weights as GrowthBook's coverage splits them), e.g. 0.01, 0.05,
// 0.1, 0.25, 0.5, 1.0. Raising coverage keeps every user in the bucket they had:
// a variant's range is [start, start + coverage * weight), so it only grows
// (assign/engine.h, BucketRanges).
//
// The decision is a pure function of the plan, the rollout's state and the health
// of the experiment's monitors at `as_of`:
//   - completed or rolled back: nothing changes;
//   - a guardrail harm or a sample-ratio mismatch is firing: with auto_rollback the
//     experiment stops and serves control (kRollback); without, the ramp pauses
//     (kPause) and stays paused until someone PATCHes the rollout;
//   - any monitor is not healthy (pending or firing: no traffic, multi-exposure, a
//     guardrail not yet confirmed): the ramp holds;
//   - otherwise, once the step has lasted min_hours_per_step: the next step
//     (kAdvance), or kComplete after the last one.
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace causeway::app {

struct RolloutPlan {
  std::vector<double> steps;       // coverages, strictly increasing, in (0, 1]
  double min_hours_per_step = 24;  // > 0
  bool auto_rollback = true;
};

// InvalidArgument naming the field ("rollout.steps[2]").
Status CheckRolloutPlan(const RolloutPlan& plan);

enum class RolloutStatus { kRamping, kPaused, kCompleted, kRolledBack };
// "ramping", "paused", "completed", "rolled_back".
const char* RolloutStatusName(RolloutStatus status);

enum class RolloutAction { kHold, kAdvance, kComplete, kPause, kRollback };
// "hold", "advance", "complete", "pause", "rollback".
const char* RolloutActionName(RolloutAction action);

// One entry of a rollout's history: every step change, pause and rollback.
struct RolloutEvent {
  int64_t at_ms = 0;
  RolloutAction action = RolloutAction::kHold;
  int from_step = 0;
  int to_step = 0;
  double coverage = 0.0;  // after the change
  std::string reason;
};

// Kept by the service with the experiment.
struct RolloutState {
  int step = 0;  // index into plan.steps
  int64_t step_started_ms = 0;
  RolloutStatus status = RolloutStatus::kRamping;
  std::vector<RolloutEvent> history;
};

// What the monitors say at as_of (app/experiment_monitors.h fills it).
struct RolloutHealth {
  bool harm = false;       // a guardrail monitor is firing
  bool srm = false;        // the sample-ratio monitor is firing
  bool unhealthy = false;  // any monitor pending or firing (harm and srm included)
  std::string reason;      // which monitor, for the history
};

struct RolloutDecision {
  RolloutAction action = RolloutAction::kHold;
  int next_step = 0;
  double coverage = 0.0;  // coverage to serve after the decision (0 after a rollback)
  std::string reason;
};

// REQUIRES: CheckRolloutPlan(plan).ok(), 0 <= state.step < plan.steps.size().
RolloutDecision DecideRollout(const RolloutPlan& plan, const RolloutState& state,
                              const RolloutHealth& health, int64_t as_of_ms);

// Applies a decision other than kHold: step, status, step start and one history entry.
void ApplyRolloutDecision(const RolloutDecision& decision, int64_t as_of_ms, RolloutState* state);

}  // namespace causeway::app
