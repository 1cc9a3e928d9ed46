#include "stats/moments.h"

#include <algorithm>

namespace causeway::stats {

MomentStats MomentStats::FromSums(int64_t n, double sum, double sum_squares) {
  MomentStats s;
  s.n = n;
  if (n <= 0) return s;
  s.mean = sum / static_cast<double>(n);
  s.m2 = std::max(0.0, sum_squares - sum * s.mean);
  return s;
}

MomentStats MomentStats::FromMeanVariance(int64_t n, double mean, double variance) {
  MomentStats s;
  s.n = n;
  s.mean = mean;
  s.m2 = n >= 2 ? variance * static_cast<double>(n - 1) : 0.0;
  return s;
}

MomentStats MomentStats::FromConversions(int64_t n, int64_t conversions) {
  // x in {0,1}: sum = sum of squares = conversions.
  const double c = static_cast<double>(conversions);
  return FromSums(n, c, c);
}

void MomentStats::Add(double x) {
  ++n;
  const double delta = x - mean;
  mean += delta / static_cast<double>(n);
  m2 += delta * (x - mean);
}

void MomentStats::Combine(const MomentStats& other) {
  if (other.n == 0) return;
  if (n == 0) {
    *this = other;
    return;
  }
  const double na = static_cast<double>(n);
  const double nb = static_cast<double>(other.n);
  const double total = na + nb;
  const double delta = other.mean - mean;
  mean += delta * nb / total;
  m2 += other.m2 + delta * delta * na * nb / total;
  n += other.n;
}

}  // namespace causeway::stats
