// Seeded Monte-Carlo checks of the operating characteristics:
//  (i) A/A tests peeked daily for 30 days: always-valid and group sequential
//      false-positive rates stay <= alpha + 3 MC SE; naive repeated fixed-horizon
//      testing exceeds it.
// (ii) 95% intervals cover the true effect 95% +- 3 MC SE (absolute and relative,
//      means, proportions, ratio metrics and CUPED).
// Random numbers: std::mt19937_64 with our own uniform and normal transforms, so the
// streams are identical on every standard library.
#include <cmath>
#include <cstdint>
#include <random>

#include <catch2/catch.hpp>

#include "stats/always_valid.h"
#include "stats/fixed_horizon.h"
#include "stats/group_sequential.h"
#include "stats/ratio_cuped.h"

namespace causeway::stats {
namespace {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform on (0, 1).
  double Uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
  // Standard normal by the Marsaglia polar method.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  double Exponential(double mean) { return -mean * std::log(Uniform()); }
  int64_t Binomial(int64_t n, double p) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) k += Uniform() < p;
    return k;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

double McBound(double p, int reps) { return 3.0 * std::sqrt(p * (1.0 - p) / reps); }

TEST_CASE("A/A peeking: sequential methods hold alpha, naive peeking does not",
          "[stats][simulation][slow]") {
  constexpr int kReps = 3000, kDays = 30, kUsersPerArmPerDay = 200;
  constexpr double kAlpha = 0.05, kRate = 0.10;
  GroupSequentialDesign design;
  for (int d = 1; d <= kDays; ++d)
    design.information_fractions.push_back(static_cast<double>(d) / kDays);
  design.alpha = kAlpha;
  const GroupSequentialBoundaries bounds = LanDeMetsBoundaries(design);
  REQUIRE(bounds.valid);
  const AlwaysValidOptions av{kAlpha, 2.0 * kDays * kUsersPerArmPerDay, Alternative::kTwoSided};

  Random rng(20261123);
  int naive = 0, always_valid = 0, group_sequential = 0;
  for (int rep = 0; rep < kReps; ++rep) {
    int64_t n = 0, xc = 0, xt = 0;
    bool naive_hit = false, av_hit = false, gs_hit = false;
    for (int day = 0; day < kDays; ++day) {
      n += kUsersPerArmPerDay;
      xc += rng.Binomial(kUsersPerArmPerDay, kRate);
      xt += rng.Binomial(kUsersPerArmPerDay, kRate);
      const EffectResult r =
          CompareProportions(n, xc, n, xt, TestOptions{kAlpha, Alternative::kTwoSided});
      if (!r.valid) continue;
      naive_hit |= r.p_value < kAlpha;
      gs_hit |= std::fabs(r.statistic) >= bounds.z[day];
      const AlwaysValidResult s = AlwaysValid(r, 2.0 * static_cast<double>(n), av);
      av_hit |= s.valid && s.p_value < kAlpha;
    }
    naive += naive_hit;
    always_valid += av_hit;
    group_sequential += gs_hit;
  }
  const double bound = kAlpha + McBound(kAlpha, kReps);
  const double fpr_naive = static_cast<double>(naive) / kReps;
  const double fpr_av = static_cast<double>(always_valid) / kReps;
  const double fpr_gs = static_cast<double>(group_sequential) / kReps;
  INFO("naive " << fpr_naive << ", always-valid " << fpr_av << ", group sequential " << fpr_gs
                << ", bound " << bound);
  CHECK(fpr_av <= bound);
  CHECK(fpr_gs <= bound);
  // Group sequential boundaries should spend (nearly) all of alpha, not be conservative.
  CHECK(fpr_gs >= kAlpha - 4.0 * std::sqrt(kAlpha * (1 - kAlpha) / kReps));
  CHECK(fpr_naive > bound);
}

TEST_CASE("95% intervals cover the true effect", "[stats][simulation][slow]") {
  constexpr int kReps = 2000;
  constexpr double kLevel = 0.95;
  const TestOptions options{1.0 - kLevel, Alternative::kTwoSided};
  Random rng(424242);
  int prop_abs = 0, prop_rel = 0, mean_abs = 0, mean_rel = 0, ratio_abs = 0, ratio_rel = 0,
      cuped_abs = 0, av_final = 0;
  // Proportions 10% vs 12%; exponential means 2.0 vs 2.2; ratio v/d with E[v] = 5 vs 5.5;
  // CUPED y = 10 + 2x + e with a 0.3 treatment effect.
  constexpr double kPc = 0.10, kPt = 0.12, kMc = 2.0, kMt = 2.2, kRc = 5.0, kRt = 5.5,
                   kCupedEffect = 0.3;
  for (int rep = 0; rep < kReps; ++rep) {
    const int64_t np = 5000;
    const EffectResult p =
        CompareProportions(np, rng.Binomial(np, kPc), np, rng.Binomial(np, kPt), options);
    REQUIRE(p.valid);
    prop_abs += p.ci.lower <= kPt - kPc && kPt - kPc <= p.ci.upper;
    prop_rel += p.relative_ci.lower <= kPt / kPc - 1 && kPt / kPc - 1 <= p.relative_ci.upper;

    MomentStats mc, mt;
    for (int i = 0; i < 1000; ++i) mc.Add(rng.Exponential(kMc));
    for (int i = 0; i < 1100; ++i) mt.Add(rng.Exponential(kMt));
    const EffectResult m = CompareMeans(mc, mt, options);
    REQUIRE(m.valid);
    mean_abs += m.ci.lower <= kMt - kMc && kMt - kMc <= m.ci.upper;
    mean_rel += m.relative_ci.lower <= kMt / kMc - 1 && kMt / kMc - 1 <= m.relative_ci.upper;
    const AlwaysValidResult s =
        AlwaysValid(m, 2100.0, AlwaysValidOptions{1.0 - kLevel, 2100.0, Alternative::kTwoSided});
    av_final += s.ci.lower <= kMt - kMc && kMt - kMc <= s.ci.upper;

    RatioStats rc, rt;
    for (int i = 0; i < 1000; ++i) {
      const double d = 1.0 + static_cast<double>(rng.Binomial(3, 0.5));
      rc.Add(Eigen::Vector2d(d * (kRc + 2.0 * rng.Normal()), d));
      const double d2 = 1.0 + static_cast<double>(rng.Binomial(3, 0.5));
      rt.Add(Eigen::Vector2d(d2 * (kRt + 2.0 * rng.Normal()), d2));
    }
    const EffectResult r = CompareRatios(rc, rt, options);
    REQUIRE(r.valid);
    ratio_abs += r.ci.lower <= kRt - kRc && kRt - kRc <= r.ci.upper;
    ratio_rel += r.relative_ci.lower <= kRt / kRc - 1 && kRt / kRc - 1 <= r.relative_ci.upper;

    CupedMeanStats cc, ct;
    for (int i = 0; i < 500; ++i) {
      const double x = rng.Normal();
      cc.Add(Eigen::Vector2d(10 + 2 * x + rng.Normal(), x));
      const double x2 = rng.Normal();
      ct.Add(Eigen::Vector2d(10 + kCupedEffect + 2 * x2 + rng.Normal(), x2));
    }
    const CupedResult cu = CompareMeansCuped(cc, ct, options);
    REQUIRE(cu.effect.valid);
    cuped_abs += cu.effect.ci.lower <= kCupedEffect && kCupedEffect <= cu.effect.ci.upper;
  }
  const double tol = McBound(kLevel, kReps);
  auto rate = [&](int hits) { return static_cast<double>(hits) / kReps; };
  INFO("coverage: prop " << rate(prop_abs) << "/" << rate(prop_rel) << ", mean " << rate(mean_abs)
                         << "/" << rate(mean_rel) << ", ratio " << rate(ratio_abs) << "/"
                         << rate(ratio_rel) << ", cuped " << rate(cuped_abs) << ", always-valid "
                         << rate(av_final));
  CHECK(std::fabs(rate(prop_abs) - kLevel) <= tol);
  CHECK(std::fabs(rate(prop_rel) - kLevel) <= tol);
  CHECK(std::fabs(rate(mean_abs) - kLevel) <= tol);
  CHECK(std::fabs(rate(mean_rel) - kLevel) <= tol);
  CHECK(std::fabs(rate(ratio_abs) - kLevel) <= tol);
  CHECK(std::fabs(rate(ratio_rel) - kLevel) <= tol);
  CHECK(std::fabs(rate(cuped_abs) - kLevel) <= tol);
  // The confidence sequence is valid uniformly over time, hence conservative at one look.
  CHECK(rate(av_final) >= kLevel - tol);
}

}  // namespace
}  // namespace causeway::stats
