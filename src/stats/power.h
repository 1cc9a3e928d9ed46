// Power, sample size and minimum detectable effect (MDE) for a two-arm z test.
//
// With effect delta = mu_T - mu_C, n_C control users and n_T = ratio * n_C treatment
// users, the test statistic is approximately normal with standard error SE1 under the
// alternative and SE0 under H0:
//   means:       SE0 = SE1 = sigma sqrt(1/n_C + 1/n_T)          (common sigma)
//   proportions: SE0 = sqrt(pbar (1 - pbar) (1/n_C + 1/n_T)),  pbar = (n_C p_C + n_T p_T)/(n_C +
//   n_T)
//                SE1 = sqrt(p_C (1 - p_C)/n_C + p_T (1 - p_T)/n_T)
// Power (both rejection regions count for a two-sided test, q = z_{1-alpha/2}):
//   two-sided: 1 - Phi((q SE0 - delta)/SE1) + Phi((-q SE0 - delta)/SE1)
//   greater:   1 - Phi((z_{1-alpha} SE0 - delta)/SE1);  less: Phi((-z_{1-alpha} SE0 - delta)/SE1)
// Sample size solves power(n_C) = target and the MDE solves power(delta) = target, by
// bisection (both are monotone in the searched quantity). These equal statsmodels'
// NormalIndPower (means) and power_proportions_2indep (proportions).
// Assumes the normal approximation is adequate (n p >= ~10 for proportions).
#pragma once

#include <limits>
#include <string>

#include "stats/fixed_horizon.h"

namespace causeway::stats {

enum class MetricKind { kProportion, kMean };

struct PowerInputs {
  MetricKind kind = MetricKind::kProportion;
  double baseline = 0.0;  // proportions: control rate p_C in (0, 1); means: unused
  double sigma = 0.0;     // means: per-user standard deviation (> 0); proportions: unused
  double effect = 0.0;    // absolute effect delta (for MDE only its sign is used; 0 = upward)
  double n_control = 0.0;
  double ratio = 1.0;  // n_T / n_C, > 0
  double alpha = 0.05;
  Alternative alternative = Alternative::kTwoSided;

  bool IsValid(std::string* error) const;
};

struct PowerResult {
  bool valid = false;
  std::string reason;
  double value = std::numeric_limits<double>::quiet_NaN();
};

// Power at inputs.n_control for inputs.effect.
PowerResult Power(const PowerInputs& inputs);
// Control-arm users needed for `power` (fractional; round up to plan). Total users =
// n_C (1 + ratio).
PowerResult SampleSize(const PowerInputs& inputs, double power);
// Smallest |delta| in the direction of sign(inputs.effect) (or the alternative) with
// the given power at inputs.n_control; returned with its sign.
PowerResult MinimumDetectableEffect(const PowerInputs& inputs, double power);

}  // namespace causeway::stats
