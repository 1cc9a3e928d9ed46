// Seeded simulation of the default `change` rule ([slow]): false alarms on stable
// weeks and detection delay of a 20 % CVR drop lasting 60 minutes (docs/alerts.md).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "app/alert_rules.h"

namespace causeway::app {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Sessions per minute: peak 2000 at 14:00, 3:1 day/night (cosine), weekend x 0.7
// (days 5 and 6 of each week). Sessions ~ Poisson, conversions ~ Binomial(CVR 3 %).
std::vector<MetricBucket> Simulate(int days, std::mt19937_64& rng, int drop_from, int drop_to) {
  std::vector<MetricBucket> s;
  s.reserve(static_cast<size_t>(days) * 1440);
  for (int m = 0; m < days * 1440; ++m) {
    const double hour = (m % 1440) / 60.0;
    const int day = m / 1440;
    double mean = 2000.0 * (2.0 / 3.0 + (1.0 / 3.0) * std::cos(2 * kPi * (hour - 14.0) / 24.0));
    if (day % 7 >= 5) mean *= 0.7;
    const double cvr = (m >= drop_from && m < drop_to) ? 0.03 * 0.8 : 0.03;
    const int sessions = std::poisson_distribution<int>(mean)(rng);
    const int conversions = std::binomial_distribution<int>(sessions, cvr)(rng);
    s.push_back({m * kMinuteMs, static_cast<double>(conversions), static_cast<double>(sessions)});
  }
  return s;
}

TEST_CASE("default change rule: false alarms per stable week", "[alerts][slow]") {
  const AlertRule rule;  // the defaults
  std::mt19937_64 rng(20261207);
  constexpr int kReplications = 50;
  int total = 0;
  int worst = 0;
  for (int r = 0; r < kReplications; ++r) {
    const auto series = Simulate(14, rng, -1, -1);  // 7 days of baseline + the week
    const auto tr = ReplayRule(rule, series, 7 * kDayMs, 14 * kDayMs, rule.step_ms);
    const int firings = static_cast<int>(std::count_if(
        tr.begin(), tr.end(), [](const auto& t) { return t.to == AlertStateKind::kFiring; }));
    total += firings;
    worst = std::max(worst, firings);
  }
  const double mean = static_cast<double>(total) / kReplications;
  std::printf("false alarms per stable week: mean %.3f, max %d (%d replications)\n", mean, worst,
              kReplications);
  CHECK(mean <= 0.5);  // the contract is <= 1 per week; margin 2x
}

TEST_CASE("default change rule: a 20 % drop for 60 minutes fires within 30 min", "[alerts][slow]") {
  const AlertRule rule;
  std::mt19937_64 rng(20261208);
  constexpr int kReplications = 100;
  std::vector<double> delays;
  for (int r = 0; r < kReplications; ++r) {
    // The drop starts at a random minute of day 7 to 13 (weekday or weekend).
    const int start = 7 * 1440 + std::uniform_int_distribution<int>(0, 7 * 1440 - 200)(rng);
    const auto series = Simulate(14, rng, start, start + 60);
    const auto tr =
        ReplayRule(rule, series, start * kMinuteMs, (start + 75) * kMinuteMs, rule.step_ms);
    for (const auto& t : tr) {
      if (t.to == AlertStateKind::kFiring) {
        delays.push_back(static_cast<double>(t.at_ms / kMinuteMs - start));
        break;
      }
    }
  }
  std::sort(delays.begin(), delays.end());
  const double detected = static_cast<double>(delays.size()) / kReplications;
  const double median = delays.empty() ? 1e9 : delays[delays.size() / 2];
  std::printf("drop detected in %.0f %% of %d; delay min %.0f, median %.0f, p90 %.0f, max %.0f\n",
              100 * detected, kReplications, delays.empty() ? -1 : delays.front(), median,
              delays.empty() ? -1 : delays[delays.size() * 9 / 10],
              delays.empty() ? -1 : delays.back());
  CHECK(detected >= 0.90);
  CHECK(median <= 30.0);
}

}  // namespace
}  // namespace causeway::app
