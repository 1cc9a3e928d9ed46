// Alert rules (src/app/alert_rules.h): the test statistics against statsmodels/scipy
// (tests/reference/app/alert_tests.py -> alert_tests.json, tolerance 1e-9) and every
// transition of the state machine on hand-made series.
#include "app/alert_rules.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace causeway::app {
namespace {

const std::string kDir = std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/app/";

nlohmann::json Fixture() {
  std::ifstream in(kDir + "alert_tests.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

TEST_CASE("two-proportion z matches statsmodels proportions_ztest", "[alerts]") {
  const nlohmann::json ref = Fixture();
  REQUIRE(ref.at("two_proportion").size() == 20);
  for (const auto& c : ref.at("two_proportion")) {
    const double z = TwoProportionZ(c.at("x1"), c.at("n1"), c.at("x0"), c.at("n0"));
    CHECK(z == Approx(c.at("z").get<double>()).margin(1e-9));
    const double p_two = std::erfc(std::fabs(z) / std::sqrt(2.0));
    CHECK(p_two == Approx(c.at("p_two_sided").get<double>()).margin(1e-9));
  }
}

TEST_CASE("Poisson rate-ratio z matches statsmodels test_poisson_2indep (score)", "[alerts]") {
  const nlohmann::json ref = Fixture();
  REQUIRE(ref.at("poisson").size() == 20);
  for (const auto& c : ref.at("poisson")) {
    const double z = PoissonRateRatioZ(c.at("x1"), c.at("t1"), c.at("x0"), c.at("t0"));
    CHECK(z == Approx(c.at("z").get<double>()).margin(1e-9));
    CHECK(z == Approx(c.at("z_conditional").get<double>()).margin(1e-9));
  }
}

// A proportion series at 1-minute buckets: `trials` per minute, rate `cvr` except on
// minutes [drop_from, drop_to) where it is `cvr_drop`. Deterministic counts.
std::vector<MetricBucket> Series(int minutes, double trials, double cvr, int drop_from = -1,
                                 int drop_to = -1, double cvr_drop = 0.0) {
  std::vector<MetricBucket> s;
  for (int m = 0; m < minutes; ++m) {
    const double r = (m >= drop_from && m < drop_to) ? cvr_drop : cvr;
    s.push_back({m * kMinuteMs, r * trials, trials});
  }
  return s;
}

AlertRule TrailingRule() {
  AlertRule rule;
  rule.key = "cvr";
  rule.window_ms = 5 * kMinuteMs;
  rule.baseline = BaselineKind::kTrailingWindows;
  rule.baseline_windows = 4;
  rule.direction = ChangeDirection::kDrop;
  rule.alpha = 1e-3;
  rule.min_volume = 1000;
  rule.for_ms = 3 * kMinuteMs;
  return rule;
}

TEST_CASE("state machine: every transition on a hand-made series", "[alerts]") {
  const AlertRule rule = TrailingRule();
  // 1000 trials/min at 10 %; drop to 5 % on minutes [40, 60).
  const auto series = Series(120, 1000, 0.10, 40, 60, 0.05);
  AlertState st;
  auto at = [&](int minute) {
    RuleEvaluation e = EvaluateRule(rule, series, minute * kMinuteMs, st);
    REQUIRE(e.valid);
    st = e.state;
    return e;
  };
  CHECK(at(30).state.state == AlertStateKind::kInactive);
  RuleEvaluation e = at(41);  // window [36, 41): one minute at 5 % -> not yet
  CHECK_FALSE(e.condition);
  e = at(43);  // three of five minutes dropped
  REQUIRE(e.condition);
  CHECK(e.z < -3.0);
  CHECK(e.state.state == AlertStateKind::kPending);
  REQUIRE(e.transition);
  CHECK(e.transition->from == AlertStateKind::kInactive);
  CHECK(at(45).state.state == AlertStateKind::kPending);  // held 2 min < for
  e = at(46);                                             // held 3 min = for
  CHECK(e.state.state == AlertStateKind::kFiring);
  CHECK(e.transition->from == AlertStateKind::kPending);
  CHECK(at(50).state.state == AlertStateKind::kFiring);
  // At 64 the window [59, 64) is mostly back at 10 % while its baseline [39, 59)
  // is low: no drop.
  e = at(64);
  CHECK_FALSE(e.condition);
  CHECK(e.state.state == AlertStateKind::kResolved);
  CHECK(at(65).state.state == AlertStateKind::kInactive);

  SECTION("pending -> inactive when the condition stops before for") {
    // A 3-minute zero blip holds the condition ~7 minutes (the window's 5 + 2), less
    // than a 10-minute `for`.
    const auto blip = Series(120, 1000, 0.10, 40, 43, 0.0);
    AlertRule slow = rule;
    slow.for_ms = 10 * kMinuteMs;
    AlertState s;
    std::vector<AlertStateKind> seen;
    for (int m = 35; m < 60; ++m) {
      RuleEvaluation r = EvaluateRule(slow, blip, m * kMinuteMs, s);
      s = r.state;
      if (r.transition) seen.push_back(r.transition->to);
    }
    REQUIRE(seen.size() >= 2);
    CHECK(seen.front() == AlertStateKind::kPending);
    CHECK(seen[1] == AlertStateKind::kInactive);
  }
  SECTION("resolved -> pending when the condition holds again") {
    AlertState s;
    s.state = AlertStateKind::kResolved;
    RuleEvaluation r = EvaluateRule(rule, series, 43 * kMinuteMs, s);
    CHECK(r.state.state == AlertStateKind::kPending);
  }
  SECTION("for = 0 fires at once") {
    AlertRule now = rule;
    now.for_ms = 0;
    RuleEvaluation r = EvaluateRule(now, series, 43 * kMinuteMs, AlertState{});
    CHECK(r.state.state == AlertStateKind::kFiring);
  }
}

TEST_CASE("not enough data makes the condition false", "[alerts]") {
  AlertRule rule = TrailingRule();
  const auto quiet = Series(120, 100, 0.10, 40, 60, 0.0);  // 500 per window < 1000
  RuleEvaluation e = EvaluateRule(rule, quiet, 45 * kMinuteMs, AlertState{});
  CHECK_FALSE(e.enough_data);
  CHECK_FALSE(e.condition);
  CHECK(e.reason == "not enough data");
  rule.min_volume = 100;
  CHECK(EvaluateRule(rule, quiet, 45 * kMinuteMs, AlertState{}).condition);
}

TEST_CASE("threshold above / below, counts, invalid rules", "[alerts]") {
  AlertRule rule;
  rule.condition = ConditionKind::kThreshold;
  rule.kind = MetricKind::kCount;
  rule.window_ms = 5 * kMinuteMs;
  rule.min_volume = 0;
  rule.for_ms = 0;
  rule.threshold = 30;                     // events per minute
  const auto s = Series(20, 1000, 0.035);  // 35 events per minute
  RuleEvaluation e = EvaluateRule(rule, s, 10 * kMinuteMs, AlertState{});
  CHECK(e.value == Approx(35.0));
  CHECK(e.condition);
  rule.op = ThresholdOp::kBelow;
  CHECK_FALSE(EvaluateRule(rule, s, 10 * kMinuteMs, AlertState{}).condition);
  rule.condition = ConditionKind::kChange;
  rule.kind = MetricKind::kMean;
  std::string why;
  CHECK_FALSE(rule.IsValid(&why));
  CHECK_FALSE(EvaluateRule(rule, s, 10 * kMinuteMs, AlertState{}).valid);
}

}  // namespace
}  // namespace causeway::app
