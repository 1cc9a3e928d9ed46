#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "stats/moments.h"

namespace causeway::stats {
namespace {

// Two-pass textbook mean and M2, the definition the streaming forms must match.
void TwoPass(const std::vector<double>& x, double* mean, double* m2) {
  double s = 0;
  for (double v : x) s += v;
  *mean = s / static_cast<double>(x.size());
  *m2 = 0;
  for (double v : x) *m2 += (v - *mean) * (v - *mean);
}

TEST_CASE("MomentStats: Add, Combine and FromSums agree with the two-pass definition",
          "[stats][moments]") {
  std::mt19937_64 rng(7);
  std::vector<double> x;
  for (int i = 0; i < 1000; ++i) x.push_back(1e3 + static_cast<double>(rng() % 100000) / 1000.0);
  double mean, m2;
  TwoPass(x, &mean, &m2);

  MomentStats a, b, all;
  double sum = 0, sum_sq = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    (i < 377 ? a : b).Add(x[i]);
    all.Add(x[i]);
    sum += x[i];
    sum_sq += x[i] * x[i];
  }
  MomentStats merged = a;
  merged.Combine(b);
  CHECK(merged.n == 1000);
  CHECK(merged.mean == Approx(mean).epsilon(1e-14));
  CHECK(merged.m2 == Approx(m2).epsilon(1e-10));
  CHECK(all.m2 == Approx(m2).epsilon(1e-10));
  const MomentStats from_sums = MomentStats::FromSums(1000, sum, sum_sq);
  CHECK(from_sums.mean == Approx(mean).epsilon(1e-14));
  CHECK(from_sums.m2 == Approx(m2).epsilon(1e-6));  // raw sums lose digits by cancellation
  CHECK(merged.Variance() == Approx(m2 / 999).epsilon(1e-10));

  MomentStats empty;
  empty.Combine(a);
  CHECK(empty.n == a.n);
  a.Combine(MomentStats{});
  CHECK(a.n == 377);
  CHECK(std::isnan(MomentStats::FromSums(1, 3, 9).Variance()));
}

TEST_CASE("MomentStats::FromConversions is the Bernoulli variance", "[stats][moments]") {
  const MomentStats s = MomentStats::FromConversions(10, 3);
  CHECK(s.mean == Approx(0.3));
  CHECK(s.Variance() == Approx(0.3 * 0.7 * 10 / 9));
}

TEST_CASE("CoMoments: Combine equals sequential accumulation and FromSums", "[stats][moments]") {
  std::mt19937_64 rng(11);
  CoMoments<2> a, b, all;
  Eigen::Vector2d sums = Eigen::Vector2d::Zero();
  Eigen::Matrix2d cross = Eigen::Matrix2d::Zero();
  for (int i = 0; i < 500; ++i) {
    const double d = 1.0 + static_cast<double>(rng() % 5);
    const double y = d * (3.0 + static_cast<double>(rng() % 1000) / 100.0);
    const Eigen::Vector2d v(y, d);
    (i % 3 == 0 ? a : b).Add(v);
    all.Add(v);
    sums += v;
    cross += v * v.transpose();
  }
  CoMoments<2> merged = a;
  merged.Combine(b);
  const CoMoments<2> from_sums = CoMoments<2>::FromSums(500, sums, cross);
  for (int i = 0; i < 2; ++i) {
    CHECK(merged.mean(i) == Approx(all.mean(i)).epsilon(1e-13));
    CHECK(from_sums.mean(i) == Approx(all.mean(i)).epsilon(1e-13));
    for (int j = 0; j < 2; ++j) {
      CHECK(merged.m2(i, j) == Approx(all.m2(i, j)).epsilon(1e-10));
      CHECK(from_sums.m2(i, j) == Approx(all.m2(i, j)).epsilon(1e-8));
    }
  }
  CHECK(merged.Marginal(1).m2 == Approx(all.m2(1, 1)).epsilon(1e-10));
}

}  // namespace
}  // namespace causeway::stats
