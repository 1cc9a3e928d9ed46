// Ratio metrics and CUPED variance reduction, by the delta method.
//
// Ratio metric (e.g. revenue per order): R = sum(y) / sum(d) = ybar / dbar per arm,
// where y (numerator) and d (denominator) are per-user totals and users are the
// randomisation unit. Delta method (Deng, Knoblich & Lu 2018, "Applying the delta
// method in metric analytics", KDD):
//   Var(R_hat) ~= (s_y^2 - 2 R s_yd + R^2 s_d^2) / (n dbar^2),
// i.e. the variance of the mean of the linearised values (y - R d)/dbar. Arms are
// compared with the normal reference (absolute and relative lift as in
// fixed_horizon.h). Requires dbar != 0.
//
// CUPED (Deng, Xu, Kohavi & Walker 2013, WSDM) with a pre-exposure covariate x:
//   theta = sum_arms M2_a(y, x) / sum_arms M2_a(x, x)
// is the pooled within-arm regression slope, identical to the coefficient of x in
// the OLS fit y ~ arm + x (ANCOVA; Lin 2013). Per arm the adjusted mean is
//   ybar_a - theta (xbar_a - xbar_pooled),  Var = (s_y^2 - 2 theta s_yx + theta^2 s_x^2) / n_a,
// so the adjusted difference equals the OLS treatment coefficient, and its standard
// error is the unequal-variance (Welch-form) SE of y - theta x. theta is treated as
// known (its estimation error is O(1/n)). Variance reduction reported as
//   1 - Var(adjusted difference) / Var(unadjusted difference)  (~ rho^2 when arms are alike).
// For a ratio metric the same is applied to the linearised metric ratio
// (y - R d)/dbar and the linearised pre-period ratio (x - Q e)/ebar, Q = xbar/ebar.
// The covariate must not be affected by treatment (measured before exposure).
#pragma once

#include <limits>

#include "stats/fixed_horizon.h"
#include "stats/moments.h"

namespace causeway::stats {

using CupedMeanStats = CoMoments<2>;  // (metric y, covariate x)
using CupedRatioStats =
    CoMoments<4>;  // (numerator y, denominator d, covariate numerator x, covariate denominator e)

// The arm's ratio and its delta-method variance; n < 2 or dbar == 0 leave
// *reason set and return a NaN estimate.
ArmEstimate RatioArmEstimate(const RatioStats& stats, std::string* reason);

EffectResult CompareRatios(const RatioStats& control, const RatioStats& treatment,
                           const TestOptions& options);

struct CupedResult {
  EffectResult effect;  // on the adjusted estimates (normal reference)
  double theta = std::numeric_limits<double>::quiet_NaN();
  double unadjusted_std_error = std::numeric_limits<double>::quiet_NaN();
  double variance_reduction = std::numeric_limits<double>::quiet_NaN();  // in [-inf, 1)
};

CupedResult CompareMeansCuped(const CupedMeanStats& control, const CupedMeanStats& treatment,
                              const TestOptions& options);
CupedResult CompareRatiosCuped(const CupedRatioStats& control, const CupedRatioStats& treatment,
                               const TestOptions& options);

}  // namespace causeway::stats
