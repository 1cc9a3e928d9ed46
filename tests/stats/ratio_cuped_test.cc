// Ratio metrics and CUPED against statsmodels-derived references
// (tests/reference/stats/make_fixtures.py, ratio_cuped_cases).
#include <catch2/catch.hpp>

#include "fixtures.h"
#include "stats/ratio_cuped.h"

namespace causeway::stats {
namespace {

using testing::LoadFixture;

RatioStats Ratio(const nlohmann::json& a) {
  Eigen::Vector2d sums(a["numerator_sum"].get<double>(), a["denominator_sum"].get<double>());
  Eigen::Matrix2d cross;
  cross << a["numerator_sum_squares"].get<double>(),
      a["numerator_denominator_sum_product"].get<double>(),
      a["numerator_denominator_sum_product"].get<double>(),
      a["denominator_sum_squares"].get<double>();
  return RatioStats::FromSums(a["n"], sums, cross);
}

CupedMeanStats CupedMean(const nlohmann::json& a) {
  Eigen::Vector2d sums(a["numerator_sum"].get<double>(), a["covariate_sum"].get<double>());
  Eigen::Matrix2d cross;
  cross << a["numerator_sum_squares"].get<double>(),
      a["covariate_numerator_sum_product"].get<double>(),
      a["covariate_numerator_sum_product"].get<double>(), a["covariate_sum_squares"].get<double>();
  return CupedMeanStats::FromSums(a["n"], sums, cross);
}

CupedRatioStats CupedRatio(const nlohmann::json& a) {
  // Order: numerator y, denominator d, covariate numerator x, covariate denominator e.
  const auto& xp = a["cross_products"];
  Eigen::Vector4d sums(a["numerator_sum"].get<double>(), a["denominator_sum"].get<double>(),
                       a["covariate_sum"].get<double>(),
                       a["covariate_denominator_sum"].get<double>());
  Eigen::Matrix4d c;
  c(0, 0) = a["numerator_sum_squares"];
  c(1, 1) = a["denominator_sum_squares"];
  c(2, 2) = a["covariate_sum_squares"];
  c(3, 3) = a["covariate_denominator_sum_squares"];
  c(0, 1) = c(1, 0) = a["numerator_denominator_sum_product"];
  c(0, 2) = c(2, 0) = xp["y_x"];
  c(0, 3) = c(3, 0) = xp["y_e"];
  c(1, 2) = c(2, 1) = xp["d_x"];
  c(1, 3) = c(3, 1) = xp["d_e"];
  c(2, 3) = c(3, 2) = xp["x_e"];
  return CupedRatioStats::FromSums(a["n"], sums, c);
}

// Sums of squares of ~1e4 values around 1e2 lose ~8 digits to cancellation in
// FromSums; 1e-7 relative is what raw SQL sums support.
constexpr double kTol = 1e-7;

TEST_CASE("Ratio metric delta method matches the linearised statsmodels SE", "[stats][ratio]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["ratio_cuped"]) {
    CAPTURE(index++);
    const auto& e = c["expected"]["ratio"];
    std::string reason;
    const ArmEstimate control = RatioArmEstimate(Ratio(c["control"]), &reason);
    REQUIRE(reason.empty());
    CHECK(control.estimate == Approx(e["control"].get<double>()).epsilon(1e-12));
    CHECK(std::sqrt(control.variance) ==
          Approx(e["control_std_error"].get<double>()).epsilon(kTol));
    const EffectResult r = CompareRatios(Ratio(c["control"]), Ratio(c["treatment"]), TestOptions{});
    REQUIRE(r.valid);
    CHECK(r.difference == Approx(e["difference"].get<double>()).epsilon(1e-10));
    CHECK(r.std_error == Approx(e["std_error"].get<double>()).epsilon(kTol));
  }
}

TEST_CASE("CUPED on a mean matches statsmodels OLS y ~ arm + x", "[stats][cuped]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["ratio_cuped"]) {
    CAPTURE(index++);
    const auto& e = c["expected"]["cuped"];
    const CupedResult r =
        CompareMeansCuped(CupedMean(c["control"]), CupedMean(c["treatment"]), TestOptions{});
    REQUIRE(r.effect.valid);
    CHECK(r.theta == Approx(e["theta"].get<double>()).epsilon(kTol));
    CHECK(r.effect.difference == Approx(e["difference"].get<double>()).epsilon(kTol));
    CHECK(r.effect.std_error == Approx(e["std_error"].get<double>()).epsilon(kTol));
    CHECK(r.unadjusted_std_error == Approx(e["unadjusted_std_error"].get<double>()).epsilon(kTol));
    CHECK(r.variance_reduction == Approx(e["variance_reduction"].get<double>()).epsilon(1e-6));
    CHECK(r.effect.control_estimate ==
          Approx(e["control_adjusted_mean"].get<double>()).epsilon(kTol));
    CHECK(r.effect.treatment_estimate ==
          Approx(e["treatment_adjusted_mean"].get<double>()).epsilon(kTol));
  }
}

TEST_CASE("CUPED on a ratio metric matches the linearised statsmodels OLS",
          "[stats][cuped][ratio]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["ratio_cuped"]) {
    CAPTURE(index++);
    const auto& e = c["expected"]["ratio_cuped"];
    const CupedResult r =
        CompareRatiosCuped(CupedRatio(c["control"]), CupedRatio(c["treatment"]), TestOptions{});
    REQUIRE(r.effect.valid);
    CHECK(r.theta == Approx(e["theta"].get<double>()).epsilon(kTol));
    CHECK(r.effect.difference == Approx(e["difference"].get<double>()).epsilon(kTol));
    CHECK(r.effect.std_error == Approx(e["std_error"].get<double>()).epsilon(kTol));
    CHECK(r.effect.control_estimate == Approx(e["control_adjusted"].get<double>()).epsilon(kTol));
    CHECK(r.effect.treatment_estimate ==
          Approx(e["treatment_adjusted"].get<double>()).epsilon(kTol));
    CHECK(r.variance_reduction > 0.0);
  }
}

TEST_CASE("Ratio and CUPED degenerate inputs give reasons", "[stats][ratio][cuped]") {
  RatioStats zero_denominator;
  zero_denominator.n = 10;
  std::string reason;
  RatioArmEstimate(zero_denominator, &reason);
  CHECK_FALSE(reason.empty());
  CHECK_FALSE(CompareRatios(zero_denominator, zero_denominator, TestOptions{}).valid);
  CHECK_FALSE(CompareMeansCuped(CupedMeanStats{}, CupedMeanStats{}, TestOptions{}).effect.valid);
  // A constant covariate leaves the estimate unadjusted (theta = 0).
  CupedMeanStats a, b;
  for (int i = 0; i < 20; ++i) {
    a.Add(Eigen::Vector2d(i % 5, 1.0));
    b.Add(Eigen::Vector2d(i % 7, 1.0));
  }
  const CupedResult r = CompareMeansCuped(a, b, TestOptions{});
  REQUIRE(r.effect.valid);
  CHECK(r.theta == 0.0);
  CHECK(r.variance_reduction == Approx(0.0).margin(1e-12));
}

}  // namespace
}  // namespace causeway::stats
