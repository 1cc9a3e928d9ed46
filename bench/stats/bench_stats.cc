// Benchmarks for the statistics core (numbers go to docs/performance.md).
//   analysis: 50 metrics x 5 variants (4 comparisons each): fixed-horizon effect with
//             relative lift, always-valid interval, Bayesian summary, per-metric
//             Holm correction, one SRM check. Goal < 1 ms.
//   boundaries: Lan-DeMets O'Brien-Fleming boundaries for 10 looks. Goal < 20 ms.
//   handler: the same analysis through the JSON endpoint logic (parse excluded).
// Run: build-stats/bench/stats/bench_stats
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "api/resources/analyses_ab.h"
#include "stats/always_valid.h"
#include "stats/bayesian.h"
#include "stats/fixed_horizon.h"
#include "stats/group_sequential.h"
#include "stats/multiple_testing.h"
#include "stats/ratio_cuped.h"
#include "stats/srm.h"

namespace st = causeway::stats;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kMetrics = 50, kVariants = 5;

struct MetricData {
  int kind;  // 0 binomial, 1 mean, 2 ratio with CUPED
  std::vector<int64_t> n, conversions;
  std::vector<st::MomentStats> moments;
  std::vector<st::CupedRatioStats> ratio;
};

std::vector<MetricData> MakeData() {
  std::mt19937_64 rng(1);
  auto u = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<MetricData> data(kMetrics);
  for (int m = 0; m < kMetrics; ++m) {
    MetricData& d = data[m];
    d.kind = m % 3;
    for (int v = 0; v < kVariants; ++v) {
      const int64_t n = 20000 + static_cast<int64_t>(u() * 500);
      d.n.push_back(n);
      d.conversions.push_back(static_cast<int64_t>(n * (0.1 + 0.005 * u())));
      d.moments.push_back(st::MomentStats::FromMeanVariance(n, 10 + u(), 9 + u()));
      st::CupedRatioStats r;
      r.n = n;
      r.mean << 20 + u(), 2 + 0.1 * u(), 19 + u(), 2 + 0.1 * u();
      Eigen::Matrix4d cov;
      cov << 100, 10, 60, 6, 10, 1.5, 6, 0.8, 60, 6, 100, 10, 6, 0.8, 10, 1.5;
      r.m2 = cov * static_cast<double>(n - 1);
      d.ratio.push_back(r);
    }
  }
  return data;
}

// Returns a checksum so the work cannot be optimised away.
double AnalyseAll(const std::vector<MetricData>& data) {
  double checksum = 0;
  const st::TestOptions options;
  const st::AlwaysValidOptions av{0.05, 100000, st::Alternative::kTwoSided};
  std::vector<double> p(kVariants - 1);
  for (const MetricData& d : data) {
    for (int v = 1; v < kVariants; ++v) {
      st::EffectResult e;
      switch (d.kind) {
        case 0:
          e = st::CompareProportions(d.n[0], d.conversions[0], d.n[v], d.conversions[v], options);
          break;
        case 1:
          e = st::CompareMeans(d.moments[0], d.moments[v], options);
          break;
        default:
          e = st::CompareRatiosCuped(d.ratio[0], d.ratio[v], options).effect;
      }
      const st::AlwaysValidResult s = st::AlwaysValid(e, static_cast<double>(d.n[0] + d.n[v]), av);
      const st::BayesianSummary b = st::SummarizePosterior(e.difference, e.std_error);
      p[v - 1] = e.p_value;
      checksum += e.ci.lower + e.relative_ci.upper + s.ci.upper + b.chance_to_beat_control;
    }
    for (double a : st::AdjustPValues(p, st::Correction::kHolm)) checksum += a;
  }
  const st::SrmResult srm = st::SampleRatioMismatch(data[0].n, std::vector<double>(kVariants, 1.0));
  return checksum + srm.p_value;
}

template <typename F>
void Time(const char* name, int reps, F&& f, double goal_ms) {
  std::vector<double> ms;
  double sink = 0;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    sink += f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-58s median %8.4f ms  p90 %8.4f ms  min %8.4f ms  (goal < %g ms)  [%g]\n", name,
              ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.front(), goal_ms,
              sink != 0 ? 1.0 : 0.0);
}

}  // namespace

int main() {
  const std::vector<MetricData> data = MakeData();
  Time(
      "analysis: 50 metrics x 5 variants (core)", 200, [&] { return AnalyseAll(data); }, 1.0);

  // The same through the JSON handler, one request per metric (JSON parse excluded).
  std::vector<causeway::api::Json> bodies;
  for (const MetricData& d : data) {
    causeway::api::Json body = {
        {"metric_type", d.kind == 0 ? "binomial" : "mean"},
        {"sequential", {{"method", "always_valid"}, {"expected_n", 100000}}},
        {"variants", causeway::api::Json::array()}};
    for (int v = 0; v < kVariants; ++v) {
      causeway::api::Json variant = {
          {"key", "v" + std::to_string(v)}, {"n", d.n[v]}, {"weight", 1}};
      if (d.kind == 0) {
        variant["conversions"] = d.conversions[v];
      } else {
        variant["mean"] = d.moments[v].mean;
        variant["variance"] = d.moments[v].Variance();
      }
      body["variants"].push_back(variant);
    }
    bodies.push_back(body);
  }
  Time(
      "analysis: 50 metrics x 5 variants (JSON handler, 50 calls)", 100,
      [&] {
        double s = 0;
        for (const auto& b : bodies) s += causeway::api::HandleAnalysesAb(b).ok();
        return s;
      },
      1.0);

  for (int looks : {5, 10, 30}) {
    st::GroupSequentialDesign design;
    for (int k = 1; k <= looks; ++k)
      design.information_fractions.push_back(static_cast<double>(k) / looks);
    char name[80];
    std::snprintf(name, sizeof(name), "boundaries: Lan-DeMets OBF, %d looks", looks);
    Time(
        name, 50, [&] { return st::LanDeMetsBoundaries(design).z.back(); }, 20.0);
  }
  return 0;
}
