// Fixed-horizon (single look) comparisons of a treatment arm with control.
//
// Estimand: the difference in per-user means Delta = mu_T - mu_C (absolute), and
// the relative lift mu_T / mu_C - 1.
//
// Means (Welch 1947): t = (xbar_T - xbar_C) / SE, SE^2 = s_T^2/n_T + s_C^2/n_C,
// Welch-Satterthwaite df = SE^4 / (v_T^2/(n_T-1) + v_C^2/(n_C-1)) with v = s^2/n.
// CI: Delta_hat -/+ t_{df, 1-alpha/2} SE (one-sided: t_{df,1-alpha}, other end infinite).
// Assumes independent users, finite variances; the mean is approximately normal.
// Reference: scipy.stats.ttest_ind(equal_var=False), statsmodels CompareMeans.
//
// Proportions (two-proportion z test): z = (p_T - p_C) / sqrt(pbar(1-pbar)(1/n_T+1/n_C))
// with the pooled rate pbar under H0 (statsmodels proportions_ztest); the CI is the
// unpooled Wald interval Delta_hat -/+ z_{1-alpha/2} sqrt(p_T q_T/n_T + p_C q_C/n_C)
// (statsmodels confint_proportions_2indep(method="wald")). The test and the interval can
// disagree in rare borderline cases; `significant` follows the test's p-value.
//
// Relative lift: delta method for the ratio of two independent means,
//   Var(xbar_T / xbar_C) ~= v_T / mu_C^2 + mu_T^2 v_C / mu_C^4,
// interval symmetric on the lift scale (not log-transformed), with the same
// reference distribution (Welch t or normal) as the absolute interval. This is the
// form GrowthBook's gbstats uses. Requires mu_C != 0; unreliable when the control
// mean's CV is large (|SE_C / mu_C| > ~0.1).
#pragma once

#include <limits>
#include <string>

#include "stats/moments.h"

namespace causeway::stats {

enum class Alternative {
  kTwoSided,  // H1: Delta != 0
  kGreater,   // H1: Delta > 0 (treatment greater)
  kLess,      // H1: Delta < 0
};

struct Interval {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
};

struct TestOptions {
  double alpha = 0.05;  // in (0, 1)
  Alternative alternative = Alternative::kTwoSided;

  // False with a message when alpha is outside (0, 1).
  bool IsValid(std::string* error) const;
};

// One arm's point estimate of its mean (or ratio, or adjusted mean), the estimated
// variance of that estimate (squared standard error), and the number of users, which
// the Welch-Satterthwaite df uses (n - 1 per arm).
struct ArmEstimate {
  double estimate = 0.0;
  double variance = 0.0;  // Var(estimate), i.e. squared standard error
  int64_t n = 0;
};

// What a comparison reports. When !valid, `reason` says why (e.g. "control has fewer
// than 2 users") and the numbers are NaN. Relative-lift fields can be unavailable
// (relative_valid == false, relative_reason set) while the absolute effect is valid.
struct EffectResult {
  bool valid = false;
  std::string reason;

  double control_estimate = std::numeric_limits<double>::quiet_NaN();
  double treatment_estimate = std::numeric_limits<double>::quiet_NaN();

  double difference = std::numeric_limits<double>::quiet_NaN();  // treatment - control
  double std_error = std::numeric_limits<double>::quiet_NaN();   // of `difference`
  double df = std::numeric_limits<double>::infinity();           // +inf: normal reference
  double statistic = std::numeric_limits<double>::quiet_NaN();   // t or z
  double p_value = std::numeric_limits<double>::quiet_NaN();
  Interval ci;

  bool relative_valid = false;
  std::string relative_reason;
  double relative = std::numeric_limits<double>::quiet_NaN();  // treatment/control - 1
  double relative_std_error = std::numeric_limits<double>::quiet_NaN();
  Interval relative_ci;
};

// Generic comparison of two independent arm estimates. With use_welch_df the
// reference distribution is Student t with the Welch-Satterthwaite df (arm variances
// are s^2/n); otherwise standard normal.
EffectResult CompareArmEstimates(const ArmEstimate& control, const ArmEstimate& treatment,
                                 const TestOptions& options, bool use_welch_df);

// Welch t test and intervals for a difference in means.
EffectResult CompareMeans(const MomentStats& control, const MomentStats& treatment,
                          const TestOptions& options);

// Two-proportion z test (pooled) with unpooled Wald intervals.
// REQUIRES (else !valid): 0 <= conversions <= n, n >= 1.
EffectResult CompareProportions(int64_t control_n, int64_t control_conversions, int64_t treatment_n,
                                int64_t treatment_conversions, const TestOptions& options);

namespace internal {
// p-value of a statistic with reference distribution t_df (df = inf: normal).
double PValue(double statistic, double df, Alternative alternative);
// Interval estimate -/+ q * se for the alternative; q from t_df (or normal).
Interval ConfidenceInterval(double estimate, double se, double df, double alpha,
                            Alternative alternative);
}  // namespace internal

}  // namespace causeway::stats
