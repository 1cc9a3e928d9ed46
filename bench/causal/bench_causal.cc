// TWFE with cluster-robust SEs and Callaway & Sant'Anna on 10 000 units x 100 periods
// (1 000 000 rows, 10 cohorts + never treated). The panel is a deterministic function of
// (unit, period) via splitmix64, reproduced by statsmodels_twfe.py.
//
//   bench_causal [units] [periods] [repeats]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "api/resources/analyses_did.h"
#include "bench_util.h"
#include "causal/did.h"

namespace {

using causeway::bench::MedianSeconds;
using causeway::bench::SplitMix64;
using causeway::bench::Uniform;

using causeway::causal::DidMethod;
using causeway::causal::DidOptions;
using causeway::causal::Panel;

// Cohort c = unit % 11 (0 = never treated) starts at period 5 + 9c; effect grows with
// exposure: 0.5 + 0.01 (t - start).
Panel MakePanel(int64_t units, int64_t periods) {
  Panel p;
  const size_t n = static_cast<size_t>(units * periods);
  p.unit.reserve(n);
  p.time.reserve(n);
  p.outcome.reserve(n);
  p.treatment_start.reserve(n);
  for (int64_t i = 0; i < units; ++i) {
    const int64_t c = i % 11;
    const int64_t start = c == 0 ? causeway::causal::kNeverTreated : 5 + 9 * c;
    const double alpha = 2.0 * Uniform(1000000000ull + static_cast<uint64_t>(i));
    for (int64_t t = 1; t <= periods; ++t) {
      const double effect = t >= start ? 0.5 + 0.01 * static_cast<double>(t - start) : 0.0;
      const double noise = Uniform(static_cast<uint64_t>(i * 1000 + t)) - 0.5;
      p.unit.push_back(i);
      p.time.push_back(t);
      p.outcome.push_back(alpha + 0.01 * static_cast<double>(t) + effect + noise);
      p.treatment_start.push_back(start);
    }
  }
  return p;
}

std::string ToCsv(const Panel& p) {
  std::string s = "unit,time,outcome,treatment_start\n";
  s.reserve(p.rows() * 40);
  char buf[96];
  for (size_t r = 0; r < p.rows(); ++r) {
    const int64_t g = p.treatment_start[r];
    int len =
        g == causeway::causal::kNeverTreated
            ? std::snprintf(buf, sizeof buf, "%lld,%lld,%.17g,\n",
                            static_cast<long long>(p.unit[r]), static_cast<long long>(p.time[r]),
                            p.outcome[r])
            : std::snprintf(buf, sizeof buf, "%lld,%lld,%.17g,%lld\n",
                            static_cast<long long>(p.unit[r]), static_cast<long long>(p.time[r]),
                            p.outcome[r], static_cast<long long>(g));
    s.append(buf, static_cast<size_t>(len));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t units = argc > 1 ? std::atoll(argv[1]) : 10000;
  const int64_t periods = argc > 2 ? std::atoll(argv[2]) : 100;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  Panel panel = MakePanel(units, periods);
  std::printf("panel: %lld units x %lld periods = %zu rows, 10 cohorts + never treated\n",
              static_cast<long long>(units), static_cast<long long>(periods), panel.rows());

  const std::string csv = ToCsv(panel);
  causeway::api::PanelColumns columns;
  size_t parsed_rows = 0;
  const double parse_s = MedianSeconds(repeats, [&] {
    auto r = causeway::api::ParsePanelCsv(csv, columns);
    parsed_rows = std::get<Panel>(r).rows();
  });
  std::printf("csv_parse_seconds %.4f (%.1f MB, %zu rows)\n", parse_s,
              static_cast<double>(csv.size()) / 1e6, parsed_rows);

  DidOptions twfe;
  twfe.method = DidMethod::kTwfe;
  double estimate = 0, se = 0;
  auto time_twfe = [&](int threads) {
    twfe.threads = threads;
    return MedianSeconds(repeats, [&] {
      auto r = causeway::causal::EstimateDid(panel, twfe);
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        std::exit(1);
      }
      estimate = r.value().att.estimate;
      se = r.value().att.se;
    });
  };
  const double twfe_s = time_twfe(0);
  std::printf("twfe_seconds %.4f estimate %.12g se %.12g (every core: %u)\n", twfe_s, estimate, se,
              std::thread::hardware_concurrency());
  const double twfe_1_s = time_twfe(1);
  std::printf("twfe_one_thread_seconds %.4f estimate %.12g se %.12g\n", twfe_1_s, estimate, se);
  {
    // The same panel with rows in a scrambled order (balanced route without the grouped
    // layout) and with unit weights (the alternating-projections route).
    const Panel sorted = panel;
    std::vector<size_t> order(sorted.rows());
    for (size_t r = 0; r < order.size(); ++r) order[r] = r;
    std::sort(order.begin(), order.end(),
              [](size_t a, size_t b) { return SplitMix64(a) < SplitMix64(b); });
    Panel& scrambled = panel;
    for (size_t r = 0; r < order.size(); ++r) {
      scrambled.unit[r] = sorted.unit[order[r]];
      scrambled.time[r] = sorted.time[order[r]];
      scrambled.outcome[r] = sorted.outcome[order[r]];
      scrambled.treatment_start[r] = sorted.treatment_start[order[r]];
    }
    std::printf("twfe_scrambled_rows_seconds %.4f estimate %.12g se %.12g\n", time_twfe(0),
                estimate, se);
    scrambled = sorted;
    scrambled.weight.assign(sorted.rows(), 1.0);
    std::printf("twfe_weighted_seconds %.4f estimate %.12g se %.12g (alternating projections)\n",
                time_twfe(0), estimate, se);
    scrambled = sorted;
  }

  DidOptions cs;
  cs.method = DidMethod::kCallawaySantAnna;
  size_t cells = 0;
  double cs_att = 0;
  const double cs_s = MedianSeconds(std::max(1, repeats / 2), [&] {
    auto r = causeway::causal::EstimateDid(panel, cs);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      std::exit(1);
    }
    cells = r.value().group_time.size();
    cs_att = r.value().att.estimate;
  });
  std::printf("callaway_santanna_seconds %.4f group_time_cells %zu att %.6g\n", cs_s, cells,
              cs_att);
  return 0;
}
