#include "stats/sequential_srm.h"

#include <algorithm>
#include <cmath>

namespace causeway::stats {

SequentialSrmResult SequentialSrmBayesFactor(const SequentialSrmInput& in) {
  SequentialSrmResult r;
  const size_t k = in.counts.size();
  if (k != in.weights.size()) {
    r.reason = "counts and weights differ in length";
    return r;
  }
  if (k < 2) {
    r.reason = "need at least 2 variants";
    return r;
  }
  if (!(in.concentration > 0.0) || !std::isfinite(in.concentration)) {
    r.reason = "concentration must be positive";
    return r;
  }
  if (!(in.alpha > 0.0 && in.alpha < 1.0)) {
    r.reason = "alpha must be in (0, 1)";
    return r;
  }
  double wsum = 0.0;
  for (size_t i = 0; i < k; ++i) {
    if (in.counts[i] < 0) {
      r.reason = "negative count";
      return r;
    }
    if (!(in.weights[i] > 0.0) || !std::isfinite(in.weights[i])) {
      r.reason = "weights must be positive";
      return r;
    }
    wsum += in.weights[i];
  }
  if (std::fabs(wsum - 1.0) > 1e-9) {
    r.reason = "weights must sum to 1";
    return r;
  }
  double n_total = 0.0, lb = 0.0;
  for (size_t i = 0; i < k; ++i) {
    const double a = in.concentration * in.weights[i];
    const double n = static_cast<double>(in.counts[i]);
    n_total += n;
    lb += std::lgamma(a + n) - std::lgamma(a) - n * std::log(in.weights[i]);
  }
  lb -= std::lgamma(in.concentration + n_total) - std::lgamma(in.concentration);
  r.log_bayes_factor = lb;
  r.e_value = std::exp(lb);
  r.p_value = std::min(1.0, std::exp(-lb));
  for (size_t i = 0; i < k; ++i)
    r.posterior_mean.push_back((in.concentration * in.weights[i] + in.counts[i]) /
                               (in.concentration + n_total));
  r.reject = r.p_value <= in.alpha;
  r.valid = true;
  return r;
}

SequentialSrmResult SequentialSrmState::Update(const SequentialSrmInput& in) {
  SequentialSrmResult r = SequentialSrmBayesFactor(in);
  if (!r.valid) return r;
  min_p_value = std::min(min_p_value, r.p_value);
  r.p_value = min_p_value;
  r.reject = r.p_value <= in.alpha;
  return r;
}

}  // namespace causeway::stats
