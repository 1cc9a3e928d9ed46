#include "stats/ratio_cuped.h"

#include <cmath>

namespace causeway::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per arm: metric estimate m, covariate estimate q, per-user covariance S of the
// (linearised) pair with denominator n - 1, and the covariate's numerator and
// denominator totals for pooling q across arms.
struct LinearizedArm {
  int64_t n = 0;
  double m = kNaN, q = kNaN;
  Eigen::Matrix2d s = Eigen::Matrix2d::Constant(kNaN);
  double q_numerator = 0.0, q_denominator = 0.0;
};

LinearizedArm LinearizeMean(const CupedMeanStats& a) {
  LinearizedArm l;
  l.n = a.n;
  l.m = a.mean(0);
  l.q = a.mean(1);
  l.s = a.Covariance();
  l.q_numerator = a.mean(1) * static_cast<double>(a.n);
  l.q_denominator = static_cast<double>(a.n);
  return l;
}

// Returns false when a denominator mean is 0.
bool LinearizeRatio(const CupedRatioStats& a, LinearizedArm* l) {
  l->n = a.n;
  const double dbar = a.mean(1), ebar = a.mean(3);
  if (dbar == 0.0 || ebar == 0.0) return false;
  l->m = a.mean(0) / dbar;
  l->q = a.mean(2) / ebar;
  Eigen::Matrix<double, 2, 4> g = Eigen::Matrix<double, 2, 4>::Zero();
  g(0, 0) = 1.0 / dbar;
  g(0, 1) = -l->m / dbar;
  g(1, 2) = 1.0 / ebar;
  g(1, 3) = -l->q / ebar;
  l->s = g * a.Covariance() * g.transpose();
  l->q_numerator = a.mean(2) * static_cast<double>(a.n);
  l->q_denominator = a.mean(3) * static_cast<double>(a.n);
  return true;
}

CupedResult Cuped(const LinearizedArm& c, const LinearizedArm& t, const TestOptions& options) {
  CupedResult r;
  if (c.n < 2 || t.n < 2) {
    r.effect.reason =
        c.n < 2 ? "control has fewer than 2 users" : "treatment has fewer than 2 users";
    return r;
  }
  const double wc = static_cast<double>(c.n - 1), wt = static_cast<double>(t.n - 1);
  const double sxx = wc * c.s(1, 1) + wt * t.s(1, 1);
  const double sxy = wc * c.s(0, 1) + wt * t.s(0, 1);
  // A constant covariate carries no information: theta = 0 (no adjustment).
  r.theta = sxx > 0.0 ? sxy / sxx : 0.0;
  const double q_pool = (c.q_numerator + t.q_numerator) / (c.q_denominator + t.q_denominator);
  auto adjusted = [&](const LinearizedArm& a) {
    const double th = r.theta;
    const double var = std::max(0.0, a.s(0, 0) - 2.0 * th * a.s(0, 1) + th * th * a.s(1, 1));
    return ArmEstimate{a.m - th * (a.q - q_pool), var / static_cast<double>(a.n), a.n};
  };
  r.effect = CompareArmEstimates(adjusted(c), adjusted(t), options, /*use_welch_df=*/false);
  const double unadjusted_var =
      c.s(0, 0) / static_cast<double>(c.n) + t.s(0, 0) / static_cast<double>(t.n);
  r.unadjusted_std_error = std::sqrt(unadjusted_var);
  if (r.effect.valid && unadjusted_var > 0.0) {
    r.variance_reduction = 1.0 - r.effect.std_error * r.effect.std_error / unadjusted_var;
  }
  return r;
}

}  // namespace

ArmEstimate RatioArmEstimate(const RatioStats& stats, std::string* reason) {
  ArmEstimate a{kNaN, kNaN, stats.n};
  if (stats.n < 2) {
    if (reason) *reason = "fewer than 2 users";
    return a;
  }
  const double ybar = stats.mean(0), dbar = stats.mean(1);
  if (dbar == 0.0) {
    if (reason) *reason = "denominator sum is 0: ratio undefined";
    return a;
  }
  const Eigen::Matrix2d cov = stats.Covariance();
  const double r = ybar / dbar;
  a.estimate = r;
  a.variance = std::max(0.0, (cov(0, 0) - 2.0 * r * cov(0, 1) + r * r * cov(1, 1)) /
                                 (static_cast<double>(stats.n) * dbar * dbar));
  return a;
}

EffectResult CompareRatios(const RatioStats& control, const RatioStats& treatment,
                           const TestOptions& options) {
  std::string reason;
  const ArmEstimate c = RatioArmEstimate(control, &reason);
  if (!reason.empty()) {
    EffectResult r;
    r.reason = "control: " + reason;
    return r;
  }
  const ArmEstimate t = RatioArmEstimate(treatment, &reason);
  if (!reason.empty()) {
    EffectResult r;
    r.reason = "treatment: " + reason;
    return r;
  }
  return CompareArmEstimates(c, t, options, /*use_welch_df=*/false);
}

CupedResult CompareMeansCuped(const CupedMeanStats& control, const CupedMeanStats& treatment,
                              const TestOptions& options) {
  return Cuped(LinearizeMean(control), LinearizeMean(treatment), options);
}

CupedResult CompareRatiosCuped(const CupedRatioStats& control, const CupedRatioStats& treatment,
                               const TestOptions& options) {
  LinearizedArm c, t;
  if (control.n < 2 || treatment.n < 2) {
    CupedResult r;
    r.effect.reason =
        control.n < 2 ? "control has fewer than 2 users" : "treatment has fewer than 2 users";
    return r;
  }
  if (!LinearizeRatio(control, &c) || !LinearizeRatio(treatment, &t)) {
    CupedResult r;
    r.effect.reason = "a denominator sum is 0: ratio undefined";
    return r;
  }
  return Cuped(c, t, options);
}

}  // namespace causeway::stats
