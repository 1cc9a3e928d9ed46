// Welch t and two-proportion z comparisons against scipy / statsmodels
// (tests/reference/stats/make_fixtures.py).
#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include "fixtures.h"
#include "stats/fixed_horizon.h"

namespace causeway::stats {
namespace {

using testing::LoadFixture;
using testing::OrInfinity;

Alternative ParseAlternative(const std::string& s) {
  if (s == "greater") return Alternative::kGreater;
  if (s == "less") return Alternative::kLess;
  return Alternative::kTwoSided;
}

// Relative tolerance on statistics; absolute floor for p-values and bounds near 0.
constexpr double kRel = 1e-9;

void CheckInterval(const Interval& got, const nlohmann::json& want, double margin) {
  const double lo = OrInfinity(want[0], -1), hi = OrInfinity(want[1], 1);
  if (std::isinf(lo)) {
    CHECK(std::isinf(got.lower));
  } else {
    CHECK(got.lower == Approx(lo).epsilon(kRel).margin(margin));
  }
  if (std::isinf(hi)) {
    CHECK(std::isinf(got.upper));
  } else {
    CHECK(got.upper == Approx(hi).epsilon(kRel).margin(margin));
  }
}

TEST_CASE("CompareMeans matches statsmodels CompareMeans(usevar='unequal')", "[stats][fixed]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["means"]) {
    CAPTURE(index++);
    const auto& e = c["expected"];
    const TestOptions options{c["alpha"].get<double>(), ParseAlternative(c["alternative"])};
    // Both constructors (raw SQL sums, reported mean/variance) must give the answer.
    const MomentStats control_sums =
        MomentStats::FromSums(c["control"]["n"], c["control"]["sum"], c["control"]["sum_squares"]);
    const MomentStats treatment_sums = MomentStats::FromSums(
        c["treatment"]["n"], c["treatment"]["sum"], c["treatment"]["sum_squares"]);
    const MomentStats control_mv = MomentStats::FromMeanVariance(
        c["control"]["n"], c["control"]["mean"], c["control"]["variance"]);
    const MomentStats treatment_mv = MomentStats::FromMeanVariance(
        c["treatment"]["n"], c["treatment"]["mean"], c["treatment"]["variance"]);
    for (const auto& [control, treatment, tol] : {std::tuple{control_sums, treatment_sums, 1e-7},
                                                  std::tuple{control_mv, treatment_mv, 1e-9}}) {
      const EffectResult r = CompareMeans(control, treatment, options);
      REQUIRE(r.valid);
      CHECK(r.difference == Approx(e["difference"].get<double>()).epsilon(tol));
      CHECK(r.std_error == Approx(e["std_error"].get<double>()).epsilon(tol));
      CHECK(r.df == Approx(e["df"].get<double>()).epsilon(tol));
      CHECK(r.statistic == Approx(e["statistic"].get<double>()).epsilon(tol));
      CHECK(r.p_value == Approx(e["p_value"].get<double>()).epsilon(1e-6).margin(1e-12));
      CheckInterval(r.ci, e["ci"], 1e-8);
      REQUIRE(r.relative_valid);
      CHECK(r.relative == Approx(e["relative"].get<double>()).epsilon(tol));
      CHECK(r.relative_std_error == Approx(e["relative_std_error"].get<double>()).epsilon(tol));
      CheckInterval(r.relative_ci, e["relative_ci"], 1e-8);
    }
  }
}

TEST_CASE("CompareProportions matches statsmodels proportions_ztest / Wald interval",
          "[stats][fixed]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["proportions"]) {
    CAPTURE(index++);
    const auto& e = c["expected"];
    const TestOptions options{c["alpha"].get<double>(), ParseAlternative(c["alternative"])};
    const EffectResult r =
        CompareProportions(c["control"]["n"], c["control"]["conversions"], c["treatment"]["n"],
                           c["treatment"]["conversions"], options);
    REQUIRE(r.valid);
    CHECK(r.difference == Approx(e["difference"].get<double>()).epsilon(kRel));
    CHECK(r.statistic == Approx(e["statistic"].get<double>()).epsilon(kRel));
    CHECK(r.p_value == Approx(e["p_value"].get<double>()).epsilon(1e-8).margin(1e-14));
    CheckInterval(r.ci, e["ci"], 1e-12);
    REQUIRE(r.relative_valid);
    CHECK(r.relative == Approx(e["relative"].get<double>()).epsilon(kRel));
    CHECK(r.relative_std_error == Approx(e["relative_std_error"].get<double>()).epsilon(kRel));
    CheckInterval(r.relative_ci, e["relative_ci"], 1e-12);
  }
}

TEST_CASE("Degenerate comparisons return a reason instead of numbers", "[stats][fixed]") {
  const TestOptions options;
  CHECK_FALSE(CompareMeans(MomentStats::FromMeanVariance(1, 3, 0),
                           MomentStats::FromMeanVariance(10, 3, 1), options)
                  .valid);
  const EffectResult zero_var = CompareMeans(MomentStats::FromMeanVariance(10, 3, 0),
                                             MomentStats::FromMeanVariance(10, 4, 0), options);
  CHECK_FALSE(zero_var.valid);
  CHECK(zero_var.reason.find("zero variance") != std::string::npos);
  CHECK_FALSE(CompareProportions(100, 0, 100, 0, options).valid);
  CHECK_FALSE(CompareProportions(100, 101, 100, 1, options).valid);
  CHECK_FALSE(CompareMeans(MomentStats::FromMeanVariance(10, 3, 1),
                           MomentStats::FromMeanVariance(10, 4, 1),
                           TestOptions{1.5, Alternative::kTwoSided})
                  .valid);
  // Control mean 0: absolute effect fine, relative lift unavailable with a reason.
  const EffectResult zero_control = CompareMeans(MomentStats::FromMeanVariance(10, 0, 1),
                                                 MomentStats::FromMeanVariance(10, 1, 1), options);
  CHECK(zero_control.valid);
  CHECK_FALSE(zero_control.relative_valid);
  CHECK_FALSE(zero_control.relative_reason.empty());
}

}  // namespace
}  // namespace causeway::stats
