// Always-valid inference by the normal-mixture sequential probability ratio test
// (mSPRT; Robbins 1970; Johari, Koomen, Pekelis & Walsh 2017) and its confidence
// sequence (Howard, Ramdas, McAuliffe & Sekhon 2021; Waudby-Smith et al. 2023,
// arXiv:2103.06476).
//
// Let N be the total number of users so far (both arms), Delta_hat the estimated
// effect and SE its standard error, so s^2 = SE^2 N is the per-user variance scale
// and S_N = Delta_hat N / s the standardised sum. With a N(0, rho^2) mixture over the
// effect (in units of s), the mixture likelihood ratio (an e-value) is
//   E_N = exp(rho^2 S_N^2 / (2 (N rho^2 + 1))) / sqrt(N rho^2 + 1),
// the always-valid p-value is p_N = min(1, 1/E_N), and the two-sided (1 - alpha)
// confidence sequence is
//   Delta_hat -/+ s sqrt( 2 (N rho^2 + 1) / (N rho)^2 * ln( sqrt(N rho^2 + 1) / alpha ) ).
// One-sided (Waudby-Smith et al. eq. 134): half-width
//   s sqrt( 2 (N rho^2 + 1) / (N rho)^2 * ln( 1 + sqrt(N rho^2 + 1) / (2 alpha) ) ),
// and its p-value is the alpha at which the bound reaches 0 (closed form).
//
// Tuning: rho is chosen so the boundary is tightest at the expected total sample
// size N* (Waudby-Smith et al. eq. 161), exactly as GrowthBook's gbstats does
// (packages/stats/gbstats/frequentist/tests.py, `sequential_rho`, with
// `sequential_tuning_parameter` = N*):
//   rho = sqrt( (-2 ln a + ln(-2 ln a + 1)) / N* ),  a = alpha (two-sided), 2 alpha (one-sided).
// The relative lift uses the same half-width formula with its delta-method SE.
//
// Guarantee: P_H0(exists N: p_N <= alpha) <= alpha, so the test may be peeked at any
// time. Validity is asymptotic (CLT for the running means). Callers that peek should
// report the running minimum of p_N and the running intersection of the intervals;
// this function evaluates a single look.
#pragma once

#include <limits>
#include <string>

#include "stats/fixed_horizon.h"

namespace causeway::stats {

struct AlwaysValidOptions {
  double alpha = 0.05;
  double expected_n = 0.0;  // N*: expected total users across both arms; > 0
  Alternative alternative = Alternative::kTwoSided;

  bool IsValid(std::string* error) const;
};

struct AlwaysValidResult {
  bool valid = false;
  std::string reason;
  double rho = std::numeric_limits<double>::quiet_NaN();
  Interval ci;  // for the absolute difference
  double p_value = std::numeric_limits<double>::quiet_NaN();
  bool relative_valid = false;
  Interval relative_ci;  // for the relative lift
};

// rho for a (1 - alpha) sequence tuned to total sample size expected_n.
double MixtureRho(double alpha, double expected_n, bool two_sided);

// Always-valid interval and p-value at the current look from a fixed-horizon
// comparison (uses difference, std_error, relative, relative_std_error) with
// total_n users in both arms.
AlwaysValidResult AlwaysValid(const EffectResult& effect, double total_n,
                              const AlwaysValidOptions& options);

}  // namespace causeway::stats
