// Safe rollouts: the ramp's decision rule (app/rollout.h), without HTTP.
#include "app/rollout.h"

#include <catch2/catch.hpp>

namespace causeway::app {
namespace {

constexpr int64_t kHour = 3'600'000;

RolloutPlan Plan(bool auto_rollback = true) {
  RolloutPlan p;
  p.steps = {0.01, 0.05, 0.1, 0.25, 0.5, 1.0};
  p.min_hours_per_step = 24;
  p.auto_rollback = auto_rollback;
  return p;
}

TEST_CASE("a rollout plan is checked field by field", "[rollout]") {
  CHECK(CheckRolloutPlan(Plan()).ok());
  RolloutPlan p = Plan();
  p.steps = {};
  CHECK(CheckRolloutPlan(p).field() == "rollout.steps");
  p.steps = {0.1, 0.1};
  CHECK(CheckRolloutPlan(p).field() == "rollout.steps[1]");
  p.steps = {0.1, 1.5};
  CHECK(CheckRolloutPlan(p).field() == "rollout.steps[1]");
  p.steps = {0.0};
  CHECK(CheckRolloutPlan(p).field() == "rollout.steps[0]");
  p = Plan();
  p.min_hours_per_step = 0;
  CHECK(CheckRolloutPlan(p).field() == "rollout.min_hours_per_step");
}

TEST_CASE("the ramp advances only when healthy and the step has lasted", "[rollout]") {
  const RolloutPlan plan = Plan();
  RolloutState s;
  s.step_started_ms = 0;
  RolloutHealth healthy;

  RolloutDecision d = DecideRollout(plan, s, healthy, 23 * kHour);
  CHECK(d.action == RolloutAction::kHold);
  CHECK(d.coverage == 0.01);

  RolloutHealth pending;
  pending.unhealthy = true;
  pending.reason = "no_traffic pending";
  d = DecideRollout(plan, s, pending, 30 * kHour);
  CHECK(d.action == RolloutAction::kHold);
  CHECK(d.reason == "no_traffic pending");

  d = DecideRollout(plan, s, healthy, 24 * kHour);
  REQUIRE(d.action == RolloutAction::kAdvance);
  CHECK(d.next_step == 1);
  CHECK(d.coverage == 0.05);
  ApplyRolloutDecision(d, 24 * kHour, &s);
  CHECK(s.step == 1);
  CHECK(s.step_started_ms == 24 * kHour);
  REQUIRE(s.history.size() == 1);
  CHECK(s.history[0].from_step == 0);
  CHECK(s.history[0].to_step == 1);

  // The clock restarts at each step.
  CHECK(DecideRollout(plan, s, healthy, 47 * kHour).action == RolloutAction::kHold);
  // Walk to the end: 4 more advances, then complete.
  int64_t t = 24 * kHour;
  for (int i = 0; i < 4; ++i) {
    t += 24 * kHour;
    d = DecideRollout(plan, s, healthy, t);
    REQUIRE(d.action == RolloutAction::kAdvance);
    ApplyRolloutDecision(d, t, &s);
  }
  CHECK(s.step == 5);
  CHECK(DecideRollout(plan, s, healthy, t + kHour).action == RolloutAction::kHold);
  d = DecideRollout(plan, s, healthy, t + 24 * kHour);
  REQUIRE(d.action == RolloutAction::kComplete);
  CHECK(d.coverage == 1.0);
  ApplyRolloutDecision(d, t + 24 * kHour, &s);
  CHECK(s.status == RolloutStatus::kCompleted);
  CHECK(DecideRollout(plan, s, healthy, t + 100 * kHour).action == RolloutAction::kHold);
  CHECK(s.history.size() == 6);
}

TEST_CASE("harm or SRM rolls back with auto_rollback, else pauses until resumed", "[rollout]") {
  RolloutState s;
  s.step = 2;
  RolloutHealth harm;
  harm.harm = true;
  harm.unhealthy = true;
  harm.reason = "guardrail:revenue firing";

  RolloutDecision d = DecideRollout(Plan(true), s, harm, kHour);
  REQUIRE(d.action == RolloutAction::kRollback);
  CHECK(d.coverage == 0.0);
  CHECK(d.reason == "guardrail:revenue firing");
  RolloutState rolled = s;
  ApplyRolloutDecision(d, kHour, &rolled);
  CHECK(rolled.status == RolloutStatus::kRolledBack);
  // Final: healthy monitors do not restart it.
  d = DecideRollout(Plan(true), rolled, RolloutHealth{}, 1000 * kHour);
  CHECK(d.action == RolloutAction::kHold);
  CHECK(d.coverage == 0.0);

  RolloutHealth srm;
  srm.srm = true;
  srm.unhealthy = true;
  d = DecideRollout(Plan(false), s, srm, kHour);
  REQUIRE(d.action == RolloutAction::kPause);
  CHECK(d.reason == "sample ratio mismatch");
  RolloutState paused = s;
  ApplyRolloutDecision(d, kHour, &paused);
  CHECK(paused.status == RolloutStatus::kPaused);
  // Paused: no second pause entry, no advance even when healthy again.
  CHECK(DecideRollout(Plan(false), paused, srm, 2 * kHour).action == RolloutAction::kHold);
  CHECK(DecideRollout(Plan(false), paused, RolloutHealth{}, 500 * kHour).action ==
        RolloutAction::kHold);
}

}  // namespace
}  // namespace causeway::app
