#include "stats/fixed_horizon.h"

#include <cmath>
#include <limits>

#include "stats/distributions.h"

namespace causeway::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

EffectResult Invalid(std::string reason) {
  EffectResult r;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

bool TestOptions::IsValid(std::string* error) const {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    if (error) *error = "alpha must be in (0, 1)";
    return false;
  }
  return true;
}

namespace internal {

double PValue(double statistic, double df, Alternative alternative) {
  if (std::isnan(statistic)) return kNaN;
  switch (alternative) {
    case Alternative::kGreater:
      return StudentTSf(statistic, df);
    case Alternative::kLess:
      return StudentTCdf(statistic, df);
    case Alternative::kTwoSided:
      break;
  }
  return std::min(1.0, 2.0 * StudentTSf(std::fabs(statistic), df));
}

Interval ConfidenceInterval(double estimate, double se, double df, double alpha,
                            Alternative alternative) {
  Interval ci;
  switch (alternative) {
    case Alternative::kTwoSided: {
      const double q = StudentTQuantile(1.0 - alpha / 2.0, df);
      ci.lower = estimate - q * se;
      ci.upper = estimate + q * se;
      break;
    }
    case Alternative::kGreater:
      ci.lower = estimate - StudentTQuantile(1.0 - alpha, df) * se;
      ci.upper = kInf;
      break;
    case Alternative::kLess:
      ci.lower = -kInf;
      ci.upper = estimate + StudentTQuantile(1.0 - alpha, df) * se;
      break;
  }
  return ci;
}

}  // namespace internal

EffectResult CompareArmEstimates(const ArmEstimate& control, const ArmEstimate& treatment,
                                 const TestOptions& options, bool use_welch_df) {
  std::string error;
  if (!options.IsValid(&error)) return Invalid(error);
  if (control.n < 2) return Invalid("control has fewer than 2 users");
  if (treatment.n < 2) return Invalid("treatment has fewer than 2 users");
  if (!std::isfinite(control.estimate) || !std::isfinite(treatment.estimate) ||
      !std::isfinite(control.variance) || !std::isfinite(treatment.variance) ||
      control.variance < 0 || treatment.variance < 0) {
    return Invalid("non-finite estimate or variance");
  }
  const double var = control.variance + treatment.variance;
  if (!(var > 0.0)) return Invalid("zero variance in both arms: no test is possible");

  EffectResult r;
  r.valid = true;
  r.control_estimate = control.estimate;
  r.treatment_estimate = treatment.estimate;
  r.difference = treatment.estimate - control.estimate;
  r.std_error = std::sqrt(var);
  if (use_welch_df) {
    // Welch-Satterthwaite.
    const double vc = control.variance, vt = treatment.variance;
    r.df = var * var /
           (vc * vc / static_cast<double>(control.n - 1) +
            vt * vt / static_cast<double>(treatment.n - 1));
  } else {
    r.df = kInf;
  }
  r.statistic = r.difference / r.std_error;
  r.p_value = internal::PValue(r.statistic, r.df, options.alternative);
  r.ci = internal::ConfidenceInterval(r.difference, r.std_error, r.df, options.alpha,
                                      options.alternative);

  // Relative lift by the delta method (see header).
  const double mc = control.estimate, mt = treatment.estimate;
  if (mc == 0.0) {
    r.relative_reason = "control estimate is 0: relative lift undefined";
  } else {
    r.relative_valid = true;
    r.relative = mt / mc - 1.0;
    r.relative_std_error = std::sqrt(treatment.variance / (mc * mc) +
                                     mt * mt * control.variance / (mc * mc * mc * mc));
    r.relative_ci = internal::ConfidenceInterval(r.relative, r.relative_std_error, r.df,
                                                 options.alpha, options.alternative);
  }
  return r;
}

EffectResult CompareMeans(const MomentStats& control, const MomentStats& treatment,
                          const TestOptions& options) {
  if (control.n < 2) return Invalid("control has fewer than 2 users");
  if (treatment.n < 2) return Invalid("treatment has fewer than 2 users");
  const ArmEstimate c{control.mean, control.Variance() / static_cast<double>(control.n), control.n};
  const ArmEstimate t{treatment.mean, treatment.Variance() / static_cast<double>(treatment.n),
                      treatment.n};
  return CompareArmEstimates(c, t, options, /*use_welch_df=*/true);
}

EffectResult CompareProportions(int64_t control_n, int64_t control_conversions, int64_t treatment_n,
                                int64_t treatment_conversions, const TestOptions& options) {
  if (control_n < 1 || treatment_n < 1) return Invalid("an arm has no users");
  if (control_conversions < 0 || control_conversions > control_n || treatment_conversions < 0 ||
      treatment_conversions > treatment_n) {
    return Invalid("conversions must be in [0, n]");
  }
  const double nc = static_cast<double>(control_n), nt = static_cast<double>(treatment_n);
  const double pc = static_cast<double>(control_conversions) / nc;
  const double pt = static_cast<double>(treatment_conversions) / nt;
  const double pooled =
      static_cast<double>(control_conversions + treatment_conversions) / (nc + nt);
  if (pooled <= 0.0 || pooled >= 1.0) {
    return Invalid(pooled <= 0.0 ? "no conversions in either arm: no test is possible"
                                 : "every user converted in both arms: no test is possible");
  }
  // Unpooled (Wald) variances drive the intervals and the relative lift.
  const ArmEstimate c{pc, pc * (1.0 - pc) / nc, control_n};
  const ArmEstimate t{pt, pt * (1.0 - pt) / nt, treatment_n};
  EffectResult r;
  if (c.variance + t.variance > 0.0) {
    r = CompareArmEstimates(c, t, options, /*use_welch_df=*/false);
    if (!r.valid) return r;
  } else {
    // 0% vs 100%: the Wald interval degenerates to a point; the pooled test still works.
    r.valid = true;
    r.control_estimate = pc;
    r.treatment_estimate = pt;
    r.difference = pt - pc;
    r.std_error = 0.0;
    r.ci = Interval{r.difference, r.difference};
    r.relative_reason = "zero variance in both arms";
  }
  // The test uses the pooled standard error under H0.
  const double se0 = std::sqrt(pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nt));
  r.statistic = r.difference / se0;
  r.df = kInf;
  r.p_value = internal::PValue(r.statistic, kInf, options.alternative);
  return r;
}

}  // namespace causeway::stats
