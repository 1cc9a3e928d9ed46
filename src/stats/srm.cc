#include "stats/srm.h"

#include <cmath>

#include "stats/distributions.h"

namespace causeway::stats {

SrmResult SampleRatioMismatch(const std::vector<int64_t>& counts,
                              const std::vector<double>& weights, double threshold) {
  SrmResult r;
  if (counts.size() != weights.size()) {
    r.reason = "counts and weights differ in length";
    return r;
  }
  if (counts.size() < 2) {
    r.reason = "need at least 2 variants";
    return r;
  }
  double total = 0.0, weight_sum = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] < 0) {
      r.reason = "negative count";
      return r;
    }
    if (!(weights[i] > 0.0) || !std::isfinite(weights[i])) {
      r.reason = "weights must be positive";
      return r;
    }
    total += static_cast<double>(counts[i]);
    weight_sum += weights[i];
  }
  if (total <= 0.0) {
    r.reason = "no users";
    return r;
  }
  r.chi_square = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = total * weights[i] / weight_sum;
    const double d = static_cast<double>(counts[i]) - expected;
    r.chi_square += d * d / expected;
    r.expected_counts.push_back(expected);
  }
  r.df = static_cast<int>(counts.size()) - 1;
  r.p_value = internal::ChiSquareSf(r.chi_square, r.df);
  r.mismatch = r.p_value < threshold;
  r.valid = true;
  return r;
}

}  // namespace causeway::stats
