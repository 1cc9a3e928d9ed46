// Mergeable sufficient statistics for per-variant metrics.
//
// Per-user values are aggregated (in SQL, in a stream, or in a test) into these
// small structs; every estimator in src/stats/ reads only them. They merge with
// Chan et al.'s pairwise update, so partial aggregates (per day, per shard) can be
// combined exactly:
//   n = n_a + n_b,  delta = mean_b - mean_a,
//   mean = mean_a + delta * n_b / n,
//   M2 = M2_a + M2_b + delta delta^T * n_a n_b / n.
// Chan, Golub & LeVeque (1983), "Algorithms for computing the sample variance";
// Welford (1962), DOI: 10.2307/1266577. Same shape as DuckDB's StddevState.
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include <Eigen/Core>

namespace causeway::stats {

// Count, mean and centred sum of squares M2 = sum (x_i - mean)^2 of one metric.
struct MomentStats {
  int64_t n = 0;
  double mean = 0.0;
  double m2 = 0.0;

  // From raw SQL aggregates: n, sum x, sum x^2. M2 = sum_squares - sum * mean,
  // clamped at 0 (the subtraction can cancel; centred inputs avoid that).
  static MomentStats FromSums(int64_t n, double sum, double sum_squares);
  // From a reported mean and sample variance (denominator n - 1).
  static MomentStats FromMeanVariance(int64_t n, double mean, double variance);
  // Binary metric: n users of whom `conversions` converted (x in {0, 1}).
  static MomentStats FromConversions(int64_t n, int64_t conversions);

  void Add(double x);
  void Combine(const MomentStats& other);

  // Sample variance M2 / (n - 1); NaN when n < 2.
  double Variance() const {
    return n < 2 ? std::numeric_limits<double>::quiet_NaN() : m2 / static_cast<double>(n - 1);
  }
  double Sum() const { return mean * static_cast<double>(n); }
};

// Joint moments of K metrics measured on the same users: means and the centred
// cross-product matrix M2[i][j] = sum (x_i - mean_i)(x_j - mean_j).
// Ratio metrics use K = 2 (numerator, denominator); CUPED on a mean uses K = 2
// (metric, pre-period covariate); CUPED on a ratio uses K = 4 (numerator,
// denominator, covariate numerator, covariate denominator).
template <int K>
struct CoMoments {
  using Vector = Eigen::Matrix<double, K, 1>;
  using Matrix = Eigen::Matrix<double, K, K>;

  int64_t n = 0;
  Vector mean = Vector::Zero();
  Matrix m2 = Matrix::Zero();

  // From raw SQL aggregates: sums[i] = sum x_i, cross_sums(i, j) = sum x_i x_j.
  // Diagonal terms are clamped at 0.
  static CoMoments FromSums(int64_t n, const Vector& sums, const Matrix& cross_sums) {
    CoMoments s;
    s.n = n;
    if (n <= 0) return s;
    s.mean = sums / static_cast<double>(n);
    s.m2 = cross_sums - sums * s.mean.transpose();
    s.m2 = (0.5 * (s.m2 + s.m2.transpose())).eval();
    for (int i = 0; i < K; ++i) s.m2(i, i) = std::max(0.0, s.m2(i, i));
    return s;
  }

  void Add(const Vector& x) {
    ++n;
    const Vector delta = x - mean;
    mean += delta / static_cast<double>(n);
    m2 += delta * (x - mean).transpose();
  }

  void Combine(const CoMoments& other) {
    if (other.n == 0) return;
    if (n == 0) {
      *this = other;
      return;
    }
    const double na = static_cast<double>(n);
    const double nb = static_cast<double>(other.n);
    const double total = na + nb;
    const Vector delta = other.mean - mean;
    mean += delta * (nb / total);
    m2 += other.m2 + delta * delta.transpose() * (na * nb / total);
    n += other.n;
  }

  // Sample covariance M2 / (n - 1); NaN when n < 2.
  Matrix Covariance() const {
    if (n < 2) return Matrix::Constant(std::numeric_limits<double>::quiet_NaN());
    return m2 / static_cast<double>(n - 1);
  }

  // Marginal moments of metric i.
  MomentStats Marginal(int i) const { return MomentStats{n, mean(i), m2(i, i)}; }
};

using RatioStats = CoMoments<2>;  // (numerator, denominator) per user

}  // namespace causeway::stats
