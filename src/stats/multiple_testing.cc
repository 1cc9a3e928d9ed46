#include "stats/multiple_testing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace causeway::stats {

std::vector<double> AdjustPValues(const std::vector<double>& p_values, Correction correction) {
  const size_t m = p_values.size();
  std::vector<double> p(m);
  for (size_t i = 0; i < m; ++i)
    p[i] = std::isnan(p_values[i]) ? 1.0 : std::clamp(p_values[i], 0.0, 1.0);
  if (correction == Correction::kNone || m == 0) return p;

  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(m);
  const double dm = static_cast<double>(m);
  if (correction == Correction::kHolm) {
    double running = 0.0;
    for (size_t rank = 0; rank < m; ++rank) {
      const size_t i = order[rank];
      running = std::max(running, std::min(1.0, (dm - static_cast<double>(rank)) * p[i]));
      adjusted[i] = running;
    }
  } else {
    double running = 1.0;
    for (size_t rank = m; rank-- > 0;) {
      const size_t i = order[rank];
      running = std::min(running, std::min(1.0, dm * p[i] / static_cast<double>(rank + 1)));
      adjusted[i] = running;
    }
  }
  return adjusted;
}

}  // namespace causeway::stats
