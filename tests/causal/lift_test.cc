// Lift against lift_reference.py (expected values computed from simulated per-user data).
#include <catch2/catch.hpp>

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
  auto bad = in;
  bad.test.conversions = 2000;
  CHECK(EstimateLift(bad).error().field == "test.conversions");
  bad = in;
  bad.holdout.users = 0;
  CHECK(EstimateLift(bad).error().field == "holdout.users");
  bad = in;
  bad.reach = 1.5;
  CHECK(EstimateLift(bad).error().field == "reach");
  bad = in;
  bad.holdout.conversions = 0;
  CHECK(EstimateLift(bad).error().field == "holdout.conversions");
  bad = in;
  bad.test.revenue_sum_squares = 1.0;  // < 500^2/1000
  CHECK(EstimateLift(bad).error().field == "test.revenue_sum_squares");
}

}  // namespace
}  // namespace causeway::causal
