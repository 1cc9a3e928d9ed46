// Sequential SRM (Lindon & Malek 2022) against tests/reference/stats/sequential_srm.json
// and seeded A/A and power simulations.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "fixtures.h"
#include "stats/sequential_srm.h"
#include "stats/srm.h"

namespace causeway::stats {
namespace {

TEST_CASE("Sequential SRM log Bayes factor matches the reference script",
          "[stats][sequential_srm]") {
  int index = 0;
  for (const auto& c : testing::LoadFixture("sequential_srm.json")["cases"]) {
    CAPTURE(index++);
    SequentialSrmInput in;
    in.counts = c["counts"].get<std::vector<int64_t>>();
    in.weights = c["weights"].get<std::vector<double>>();
    in.concentration = c["concentration"];
    const auto r = SequentialSrmBayesFactor(in);
    REQUIRE(r.valid);
    const double ref = c["log_bf"];
    CHECK(r.log_bayes_factor == Approx(ref).epsilon(1e-9).margin(1e-6));
  }
}

TEST_CASE("Sequential SRM along 5-minute looks matches the reference script's paths",
          "[stats][sequential_srm]") {
  // Cumulative counts at successive looks: the log Bayes factor at each and the
  // running-minimum p-value (sequential_srm.py; ssrm agrees to 1e-9,
  // ssrm_crosscheck.py and docs/statistics.md).
  for (const auto& path : testing::LoadFixture("sequential_srm.json")["paths"]) {
    CAPTURE(path["name"].get<std::string>());
    SequentialSrmState state;
    int look = 0;
    for (const auto& step : path["looks"]) {
      CAPTURE(look++);
      SequentialSrmInput in;
      in.counts = step["counts"].get<std::vector<int64_t>>();
      in.weights = path["weights"].get<std::vector<double>>();
      in.concentration = path["concentration"];
      const auto r = state.Update(in);
      REQUIRE(r.valid);
      CHECK(r.log_bayes_factor == Approx(step["log_bf"].get<double>()).epsilon(1e-9).margin(1e-9));
      CHECK(r.p_value == Approx(step["p_value"].get<double>()).epsilon(1e-9).margin(1e-12));
    }
  }
}

TEST_CASE("Sequential SRM p-value is a running minimum; bad input is invalid",
          "[stats][sequential_srm]") {
  SequentialSrmState s;
  auto r1 = s.Update({{5000, 4000}, {0.5, 0.5}});
  REQUIRE(r1.valid);
  CHECK(r1.reject);
  auto r2 = s.Update({{5000, 5000}, {0.5, 0.5}});
  CHECK(r2.p_value == r1.p_value);
  CHECK(r2.reject);
  CHECK(!SequentialSrmBayesFactor({{1, 2}, {0.5, 0.6}}).valid);
  CHECK(!SequentialSrmBayesFactor({{-1, 2}, {0.5, 0.5}}).valid);
  CHECK(!SequentialSrmBayesFactor({{1}, {1.0}}).valid);
  CHECK(!SequentialSrmBayesFactor({{1, 2}, {0.0, 1.0}}).valid);
}

// 14 days, 20 000 users/day, a look every 5 minutes (4032 looks); returns the look
// index of the first rejection or -1.
int FirstRejection(std::mt19937_64& rng, double p_treat) {
  std::poisson_distribution<int64_t> arrivals(20000.0 / 288.0);
  SequentialSrmState s;
  int64_t a = 0, b = 0;
  for (int look = 0; look < 4032; ++look) {
    const int64_t n = arrivals(rng);
    const int64_t x = std::binomial_distribution<int64_t>(n, p_treat)(rng);
    a += x;
    b += n - x;
    if (s.Update({{a, b}, {0.5, 0.5}}).reject) return look;
  }
  return -1;
}

TEST_CASE("Sequential SRM: A/A false alarms and power under 5-minute looks",
          "[stats][sequential_srm][slow]") {
  std::mt19937_64 rng(20221128);
  const int reps = 400;
  int alarms = 0;
  for (int i = 0; i < reps; ++i) alarms += FirstRejection(rng, 0.5) >= 0;
  const double rate = static_cast<double>(alarms) / reps;
  // alpha + 3 binomial standard errors at 400 replications: 0.05 + 3*0.0109.
  CHECK(rate <= 0.05 + 3 * std::sqrt(0.05 * 0.95 / reps));
  WARN("A/A false-alarm rate " << rate);
  // Classic chi-square SRM at p < 0.001 looked at every 5 minutes (not asserted).
  int chi_alarms = 0;
  for (int i = 0; i < 100; ++i) {
    std::poisson_distribution<int64_t> arrivals(20000.0 / 288.0);
    int64_t a = 0, b = 0;
    for (int look = 0; look < 4032; ++look) {
      const int64_t n = arrivals(rng);
      const int64_t x = std::binomial_distribution<int64_t>(n, 0.5)(rng);
      a += x;
      b += n - x;
      if (a + b > 0 && SampleRatioMismatch({a, b}, {0.5, 0.5}).mismatch) {
        ++chi_alarms;
        break;
      }
    }
  }
  WARN("chi-square p<0.001 every 5 min: A/A false alarms " << chi_alarms << "/100");
  int detected = 0;
  for (int i = 0; i < 100; ++i) detected += FirstRejection(rng, 0.52) >= 0;
  CHECK(detected >= 90);
  WARN("52/48 detected in " << detected << "/100");
  int detected_small = 0;
  std::vector<int> delays;
  for (int i = 0; i < 100; ++i) {
    const int look = FirstRejection(rng, 0.505);
    if (look >= 0) {
      ++detected_small;
      delays.push_back(look);
    }
  }
  std::sort(delays.begin(), delays.end());
  WARN("50.5/49.5 detected in " << detected_small << "/100, median delay hours "
                                << (delays.empty() ? -1.0 : delays[delays.size() / 2] / 12.0));
}

}  // namespace
}  // namespace causeway::stats
