// Lift against lift_reference.py (expected values computed from simulated per-user data).
#include <catch2/catch.hpp>

#include <cmath>

#include "causal/lift.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

using testing::ReadReference;
using testing::RelativeError;

LiftInput FromFixture(const std::map<std::string, double>& r, const std::string& c) {
  LiftInput in;
  for (auto [g, name] : {std::pair{&in.test, "test"}, std::pair{&in.holdout, "holdout"}}) {
    const std::string k = c + "." + name + ".";
    g->users = r.at(k + "users");
    g->conversions = r.at(k + "conversions");
    g->revenue = r.at(k + "revenue");
    g->revenue_sum_squares = r.at(k + "revenue_sum_squares");
  }
  in.spend = r.at(c + ".spend");
  in.reach = r.at(c + ".reach");
  return in;
}

TEST_CASE("Lift matches the per-user reference computation", "[causal][lift]") {
  const auto r = ReadReference("lift_reference.txt");
  for (const std::string c : {"strong", "weak"}) {
    INFO(c);
    auto result = EstimateLift(FromFixture(r, c));
    REQUIRE(result.ok());
    const LiftSummary& s = result.value();
    CHECK(RelativeError(s.incremental_conversions.estimate,
                        r.at(c + ".incremental_conversions.estimate")) < 1e-9);
    CHECK(RelativeError(*s.incremental_conversions.se, r.at(c + ".incremental_conversions.se")) <
          1e-9);
    // p-value of the rate difference: Python's math.erfc (lift_reference.py).
    REQUIRE(s.rate_difference.p);
    CHECK(RelativeError(*s.rate_difference.p, r.at(c + ".rate_difference.p_value")) < 1e-9);
    CHECK(RelativeError(s.relative_lift.estimate, r.at(c + ".relative_lift.estimate")) < 1e-9);
    CHECK(RelativeError(s.relative_lift.se, r.at(c + ".relative_lift.se")) < 1e-9);
    CHECK(RelativeError(s.relative_lift.ci_lower, r.at(c + ".relative_lift.ci_lower")) < 1e-9);
    CHECK(RelativeError(s.incremental_revenue.estimate, r.at(c + ".incremental_revenue.estimate")) <
          1e-9);
    CHECK(RelativeError(*s.incremental_revenue.se, r.at(c + ".incremental_revenue.se")) < 1e-7);
    REQUIRE(s.iroas);
    CHECK(RelativeError(s.iroas->estimate, r.at(c + ".iroas.estimate")) < 1e-9);
    CHECK(RelativeError(*s.iroas->ci_upper, r.at(c + ".iroas.ci_upper")) < 1e-7);
    REQUIRE(s.cost_per_incremental_conversion);
    CHECK(RelativeError(s.cost_per_incremental_conversion->estimate, r.at(c + ".cpic.estimate")) <
          1e-9);
    if (r.count(c + ".cpic.ci_lower")) {
      CHECK(RelativeError(*s.cost_per_incremental_conversion->ci_lower,
                          r.at(c + ".cpic.ci_lower")) < 1e-9);
      CHECK(RelativeError(*s.cost_per_incremental_conversion->ci_upper,
                          r.at(c + ".cpic.ci_upper")) < 1e-9);
    } else {
      CHECK_FALSE(s.cost_per_incremental_conversion->ci_upper);
    }
    REQUIRE(s.tot_rate_difference);
    CHECK(RelativeError(s.tot_rate_difference->estimate,
                        r.at(c + ".tot_rate_difference.estimate")) < 1e-9);
    CHECK(RelativeError(*s.tot_rate_difference->se, r.at(c + ".tot_rate_difference.se")) < 1e-9);
  }
}

TEST_CASE("Lift rejects impossible inputs by field", "[causal][lift]") {
  LiftInput in;
  in.test = {1000, 50, 500, std::nullopt};
  in.holdout = {1000, 40, 400, std::nullopt};
  REQUIRE(EstimateLift(in).ok());
  CHECK_FALSE(EstimateLift(in).value().incremental_revenue.se);
  // Malformed input and data that cannot answer are told apart by kind.
  struct Case {
    const char* name;
    void (*change)(LiftInput*);
    const char* field;
    ErrorKind kind;
  };
  const Case cases[] = {
      {"conversions > users", [](LiftInput* x) { x->test.conversions = 2000; }, "test.conversions",
       ErrorKind::kInvalidInput},
      {"negative users", [](LiftInput* x) { x->holdout.users = -1; }, "holdout.users",
       ErrorKind::kInvalidInput},
      {"reach > 1", [](LiftInput* x) { x->reach = 1.5; }, "reach", ErrorKind::kInvalidInput},
      {"inconsistent sum of squares", [](LiftInput* x) { x->test.revenue_sum_squares = 1.0; },
       "test.revenue_sum_squares", ErrorKind::kInvalidInput},
      {"no users",
       [](LiftInput* x) {
         x->holdout.users = 0;
         x->holdout.conversions = 0;
       },
       "holdout.users", ErrorKind::kInsufficientData},
      {"no holdout conversions", [](LiftInput* x) { x->holdout.conversions = 0; },
       "holdout.conversions", ErrorKind::kInsufficientData},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    LiftInput bad = in;
    c.change(&bad);
    auto r = EstimateLift(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == c.field);
    CHECK(r.error().kind == c.kind);
  }
}

TEST_CASE("Lift intervals carry the two-sided normal p-value of a zero effect", "[causal][lift]") {
  LiftInput in;
  in.test = {1000, 60, 600, 900.0};
  in.holdout = {1000, 40, 400, 500.0};
  in.spend = 100;
  in.reach = 0.5;
  auto r = EstimateLift(in);
  REQUIRE(r.ok());
  const LiftSummary& s = r.value();
  const double z = s.rate_difference.estimate / *s.rate_difference.se;
  REQUIRE(s.rate_difference.p);
  CHECK(*s.rate_difference.p == Approx(std::erfc(std::fabs(z) / std::sqrt(2.0))).epsilon(1e-14));
  // Known multipliers (n_t, spend, reach) do not change the test.
  CHECK(*s.incremental_conversions.p == Approx(*s.rate_difference.p).epsilon(1e-12));
  CHECK(*s.tot_rate_difference->p == Approx(*s.rate_difference.p).epsilon(1e-12));
  CHECK(*s.iroas->p == Approx(*s.incremental_revenue.p).epsilon(1e-12));
  CHECK_FALSE(s.cost_per_incremental_conversion->p);
}

}  // namespace
}  // namespace causeway::causal
