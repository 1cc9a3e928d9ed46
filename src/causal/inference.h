// Small distribution helpers shared by the causal estimators (Boost.Math, no-throw
// policy: out-of-domain input yields NaN instead of an exception).
#pragma once

#include <cmath>
#include <limits>

#include "causal/did_types.h"

namespace causeway::causal {

inline constexpr double kInfiniteDf = std::numeric_limits<double>::infinity();

// Two-sided test and CI for estimate/se with Student t(df) (df = +inf: standard normal).
Inference MakeInference(double estimate, double se, double df, double confidence);

// Upper tail probabilities.
double ChiSquareSurvival(double statistic, double df);
double FSurvival(double statistic, double df1, double df2);
// Two-sided critical value: P(|T| > c) = 1 - confidence.
double CriticalValue(double df, double confidence);

}  // namespace causeway::causal
