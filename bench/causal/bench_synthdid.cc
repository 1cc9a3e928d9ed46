// Synthetic DiD with its placebo standard error (200 replications, synthdid's default)
// on 1 000 markets x 365 days: 10 treated markets, the last 30 days treated. The panel is
// a deterministic function of (market, day) via splitmix64. Also times California
// Proposition 99 (38 donors x 31 years), the size the R package is compared on
// (bench/causal/synthdid_time.R).
//
//   bench_synthdid [markets] [days] [repeats] [prop99.csv]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "causal/synthetic_control.h"

namespace {

using causeway::bench::MedianSeconds;
using causeway::bench::SplitMix64;
using causeway::bench::Uniform;

using causeway::causal::BlockPanel;
using causeway::causal::EstimateSynthetic;
using causeway::causal::MakeBlockPanel;
using causeway::causal::Panel;
using causeway::causal::SyntheticOptions;

// Sales of market i on day t: level 1000 (1 + u_i) x (1 + 0.1 weekly season x l_i +
// 0.05 trend shared by market groups) + noise; treated markets get +3% from day T - 30.
BlockPanel MakeMarkets(int markets, int days, int treated, int test_days) {
  BlockPanel b;
  b.n0 = markets - treated;
  b.t0 = days - test_days;
  b.y.resize(markets, days);
  for (int i = 0; i < markets; ++i) {
    const double level = 1000 * (1 + Uniform(1000000u + i));
    const double season = Uniform(2000000u + i);
    const int group = i % 7;
    for (int t = 0; t < days; ++t) {
      const double trend = 0.05 * std::sin(0.01 * t * (1 + group));
      const double weekly = 0.1 * season * std::sin(6.283185307179586 * t / 7);
      const double noise = 0.02 * (Uniform(static_cast<uint64_t>(i) * 100000u + t) - 0.5);
      const bool on = i >= b.n0 && t >= b.t0;
      b.y(i, t) = level * (1 + weekly + trend + noise) * (on ? 1.03 : 1.0);
    }
    b.unit_ids.push_back(i);
  }
  for (int t = 0; t < days; ++t) b.times.push_back(t);
  return b;
}

// CPU time of the process (every thread): on a shared machine it shows the work apart
// from the waiting for a core.
double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double Time(const BlockPanel& b, SyntheticOptions o, int repeats, const char* name) {
  double tau = 0, se = 0;
  int iterations = 0;
  const double cpu0 = ProcessCpuSeconds();
  const double s = MedianSeconds(repeats, [&] {
    auto r = EstimateSynthetic(b, o);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      std::exit(1);
    }
    tau = r.value().att.estimate;
    se = r.value().att.se;
    iterations = r.value().weights.omega_iterations + r.value().weights.lambda_iterations;
  });
  const double cpu = (ProcessCpuSeconds() - cpu0) / repeats;
  std::printf(
      "%s %.4f estimate %.10g se %.10g fw_iterations %d (threads %d, replications %d; cpu %.4f "
      "per run)\n",
      name, s, tau, se, iterations, o.threads, o.placebo_replications, cpu);
  return s;
}

// State;Year;PacksPerCapita;treated
BlockPanel LoadProp99(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::exit(1);
  }
  Panel p;
  std::map<std::string, int64_t> ids;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string state, year, y, d;
    std::getline(ss, state, ';');
    std::getline(ss, year, ';');
    std::getline(ss, y, ';');
    std::getline(ss, d, ';');
    if (state.empty()) continue;
    const int64_t id = ids.emplace(state, static_cast<int64_t>(ids.size())).first->second;
    p.unit.push_back(id);
    p.time.push_back(std::stoll(year));
    p.outcome.push_back(std::stod(y));
    p.treated.push_back(d[0] == '1');
    p.post.push_back(d[0] == '1');
  }
  auto b = MakeBlockPanel(p);
  if (!b.ok()) std::exit(1);
  return b.value();
}

}  // namespace

int main(int argc, char** argv) {
  const int markets = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int days = argc > 2 ? std::atoi(argv[2]) : 365;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const BlockPanel b = MakeMarkets(markets, days, 10, 30);
  std::printf("panel: %d markets x %d days, 10 treated for the last 30 days (+3%%)\n", markets,
              days);
  SyntheticOptions o;
  o.threads = 0;
  Time(b, o, repeats, "sdid_placebo_seconds");
  o.threads = 1;
  Time(b, o, repeats, "sdid_placebo_one_thread_seconds");
  o.threads = 0;
  o.method = causeway::causal::SyntheticMethod::kSyntheticControl;
  Time(b, o, repeats, "sc_placebo_seconds");
  if (argc > 4) {
    const BlockPanel prop99 = LoadProp99(argv[4]);
    SyntheticOptions p;
    p.threads = 1;
    Time(prop99, p, 5, "prop99_sdid_placebo_seconds");
  }
  return 0;
}
