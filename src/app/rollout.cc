#include "app/rollout.h"

#include <cmath>

namespace causeway::app {
namespace {

constexpr double kMsPerHour = 3'600'000.0;
constexpr size_t kMaxSteps = 100;

}  // namespace

Status CheckRolloutPlan(const RolloutPlan& plan) {
  if (plan.steps.empty() || plan.steps.size() > kMaxSteps) {
    return Status::InvalidArgument("rollout.steps", "1 to 100 coverages in (0, 1]");
  }
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const double c = plan.steps[i];
    const std::string field = "rollout.steps[" + std::to_string(i) + "]";
    if (!std::isfinite(c) || c <= 0.0 || c > 1.0) {
      return Status::InvalidArgument(field, "a coverage in (0, 1]");
    }
    if (i > 0 && c <= plan.steps[i - 1]) {
      return Status::InvalidArgument(field, "steps must increase strictly");
    }
  }
  if (!std::isfinite(plan.min_hours_per_step) || plan.min_hours_per_step <= 0.0 ||
      plan.min_hours_per_step > 24.0 * 365) {
    return Status::InvalidArgument("rollout.min_hours_per_step", "hours in (0, 8760]");
  }
  return Status::Ok();
}

const char* RolloutStatusName(RolloutStatus status) {
  switch (status) {
    case RolloutStatus::kRamping:
      return "ramping";
    case RolloutStatus::kPaused:
      return "paused";
    case RolloutStatus::kCompleted:
      return "completed";
    case RolloutStatus::kRolledBack:
      return "rolled_back";
  }
  return "ramping";
}

const char* RolloutActionName(RolloutAction action) {
  switch (action) {
    case RolloutAction::kHold:
      return "hold";
    case RolloutAction::kAdvance:
      return "advance";
    case RolloutAction::kComplete:
      return "complete";
    case RolloutAction::kPause:
      return "pause";
    case RolloutAction::kRollback:
      return "rollback";
  }
  return "hold";
}

RolloutDecision DecideRollout(const RolloutPlan& plan, const RolloutState& state,
                              const RolloutHealth& health, int64_t as_of_ms) {
  RolloutDecision d;
  d.next_step = state.step;
  d.coverage = plan.steps[static_cast<size_t>(state.step)];
  if (state.status == RolloutStatus::kCompleted || state.status == RolloutStatus::kRolledBack) {
    if (state.status == RolloutStatus::kRolledBack) d.coverage = 0.0;
    d.reason = RolloutStatusName(state.status);
    return d;
  }
  if (health.harm || health.srm) {
    d.reason = health.reason.empty() ? (health.harm ? "guardrail harm" : "sample ratio mismatch")
                                     : health.reason;
    if (plan.auto_rollback) {
      d.action = RolloutAction::kRollback;
      d.coverage = 0.0;
    } else if (state.status != RolloutStatus::kPaused) {
      d.action = RolloutAction::kPause;
    }
    return d;
  }
  if (state.status == RolloutStatus::kPaused) {
    d.reason = "paused: resumed by a PATCH of the rollout";
    return d;
  }
  if (health.unhealthy) {
    d.reason = health.reason.empty() ? "a monitor is not healthy" : health.reason;
    return d;
  }
  const double hours = static_cast<double>(as_of_ms - state.step_started_ms) / kMsPerHour;
  if (hours < plan.min_hours_per_step) {
    d.reason = "step not yet lasted min_hours_per_step";
    return d;
  }
  if (static_cast<size_t>(state.step) + 1 < plan.steps.size()) {
    d.action = RolloutAction::kAdvance;
    d.next_step = state.step + 1;
    d.coverage = plan.steps[static_cast<size_t>(d.next_step)];
    d.reason = "monitors healthy for the step's minimum time";
  } else {
    d.action = RolloutAction::kComplete;
    d.reason = "last step healthy for its minimum time";
  }
  return d;
}

void ApplyRolloutDecision(const RolloutDecision& decision, int64_t as_of_ms, RolloutState* state) {
  if (decision.action == RolloutAction::kHold) return;
  RolloutEvent e;
  e.at_ms = as_of_ms;
  e.action = decision.action;
  e.from_step = state->step;
  e.to_step = decision.next_step;
  e.coverage = decision.coverage;
  e.reason = decision.reason;
  switch (decision.action) {
    case RolloutAction::kAdvance:
      state->step = decision.next_step;
      state->step_started_ms = as_of_ms;
      state->status = RolloutStatus::kRamping;
      break;
    case RolloutAction::kComplete:
      state->status = RolloutStatus::kCompleted;
      break;
    case RolloutAction::kPause:
      state->status = RolloutStatus::kPaused;
      break;
    case RolloutAction::kRollback:
      state->status = RolloutStatus::kRolledBack;
      break;
    case RolloutAction::kHold:
      break;
  }
  state->history.push_back(std::move(e));
}

}  // namespace causeway::app
