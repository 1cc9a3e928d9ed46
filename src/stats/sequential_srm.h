// Sequential (anytime-valid) sample ratio mismatch test.
//
// Lindon & Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS 2022
// (the test in Optimizely's `ssrm` package). H0: users fall in variants with the
// configured probabilities p0. Alternative: a Dirichlet(a) mixture, a_i = k p0_i.
// From cumulative counts n (N = sum n_i) the Bayes factor is
//   log BF = log B(a + n) - log B(a) - sum n_i log p0_i,
//   log B(x) = sum lgamma(x_i) - lgamma(sum x_i)
// (multinomial coefficients cancel). By conjugacy this equals the product of the
// one-step posterior-predictive ratios, so BF_t is a nonnegative H0-martingale and
// by Ville's inequality P(sup_t BF_t >= 1/alpha) <= alpha. The anytime-valid
// p-value is the running minimum p_t = min(p_{t-1}, 1/BF_t); reject when p_t <= alpha.
// Assumes independent assignment of users. Default k = 10000 and prior mean p0:
// Optimizely's ssrm defaults (dirichlet_concentration = 10000,
// dirichlet_probability = the null probabilities), checked against its source
// and its numbers (tests/reference/stats/ssrm_crosscheck.py, docs/statistics.md).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace causeway::stats {

struct SequentialSrmInput {
  std::vector<int64_t> counts;  // cumulative users per variant
  std::vector<double> weights;  // p0, must sum to 1 (within 1e-9)
  double concentration = 1e4;   // k in a = k p0
  double alpha = 0.05;
};

struct SequentialSrmResult {
  bool valid = false;
  std::string reason;
  double log_bayes_factor = std::numeric_limits<double>::quiet_NaN();
  double e_value = std::numeric_limits<double>::quiet_NaN();  // BF
  double p_value = std::numeric_limits<double>::quiet_NaN();  // running min of 1/BF
  bool reject = false;                                        // p_value <= alpha
  std::vector<double> posterior_mean;                         // (a_i + n_i)/(k + N)
};

// Carries the running minimum between looks. Not thread-safe.
struct SequentialSrmState {
  double min_p_value = 1.0;
  SequentialSrmResult Update(const SequentialSrmInput& input);
};

// Log Bayes factor only (no state); !valid on degenerate input.
SequentialSrmResult SequentialSrmBayesFactor(const SequentialSrmInput& input);

}  // namespace causeway::stats
