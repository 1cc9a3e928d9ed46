// Sample ratio mismatch (SRM) check.
//
// Pearson chi-square goodness of fit of the observed users per variant against the
// configured allocation weights: E_i = N w_i / sum(w), X^2 = sum (O_i - E_i)^2 / E_i,
// p = P(chi^2_{k-1} >= X^2). A mismatch is flagged when p < threshold (default
// 0.001, as GrowthBook and Statsig do, to keep false alarms rare when checked often).
// Assumes independent assignment of users; reference: scipy.stats.chisquare.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace causeway::stats {

struct SrmResult {
  bool valid = false;
  std::string reason;
  double chi_square = std::numeric_limits<double>::quiet_NaN();
  int df = 0;
  double p_value = std::numeric_limits<double>::quiet_NaN();
  bool mismatch = false;                // p_value < threshold
  std::vector<double> expected_counts;  // N w_i / sum(w)
};

// REQUIRES (else !valid): same sizes, >= 2 variants, counts >= 0, weights > 0, N > 0.
SrmResult SampleRatioMismatch(const std::vector<int64_t>& counts,
                              const std::vector<double>& weights, double threshold = 0.001);

}  // namespace causeway::stats
