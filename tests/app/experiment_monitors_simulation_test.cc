// Seeded replays of the experiment monitors at the level of sufficient statistics:
// 14 days looked at every 5 minutes (4032 looks) through EvaluateExperimentMonitors
// itself, with the default configuration but for what each scenario names.
// Figures (false-alarm rates, detection delays) are printed and recorded in
// docs/alerts.md; reproduce with
//   build/dev/tests/app/app_experiment_monitor_tests "[simulation]" -s | grep -A2 "warning:"
// Traffic: Poisson arrivals, 100 000 users a day (347 per look), split by the
// weights; a binomial guardrail metric with a 10 % baseline, decided on arrival.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "app/experiment_monitors.h"

namespace causeway::app {
namespace {

constexpr int64_t kT0 = 1'760'000'000'000;
constexpr int kLooks = 14 * 288;
constexpr double kUsersPerDay = 100'000;

struct Scenario {
  double treatment_share = 0.5;  // true share of users in the treatment
  double control_rate = 0.10;
  double relative_effect = 0.0;  // treatment rate = control * (1 + effect)
  std::optional<double> margin;
  bool guardrail = true;
  bool srm = false;
  double srm_alpha = 1e-3;
  std::optional<int64_t> planned_sample_size =
      static_cast<int64_t>(14 * kUsersPerDay);  // the planned fortnight
};

// The look (0-based) at which the scenario's monitor first fires, or -1.
int FirstFiring(const Scenario& s, std::mt19937_64& rng) {
  Experiment x;
  x.key = "sim";
  x.variants = {{"control", 0.5, {}, {}}, {"treatment", 0.5, {}, {}}};
  x.status = assign::ExperimentStatus::kRunning;
  x.created_ms = x.updated_ms = kT0;
  x.planned_sample_size = s.planned_sample_size;
  x.guardrail_metrics = {{"cvr", s.margin}};
  MetricDefinition cvr;
  cvr.key = cvr.event = "cvr";
  std::vector<MetricDefinition> guardrails;
  if (s.guardrail) guardrails.push_back(cvr);
  ExperimentMonitorConfig config;
  config.srm.enabled = s.srm;
  config.srm.alpha = s.srm_alpha;
  config.no_traffic.enabled = config.multi_exposure.enabled = false;
  const std::string monitor = s.srm ? "srm" : "guardrail:cvr";

  store::ReportAggregates a;
  a.variants.assign(2, {});
  a.totals.assign(1, std::vector<store::UserMoments>(2));
  std::poisson_distribution<int64_t> arrivals(kUsersPerDay / 288.0);
  const double rates[2] = {s.control_rate, s.control_rate * (1.0 + s.relative_effect)};
  std::vector<MonitorState> states;
  for (int look = 0; look < kLooks; ++look) {
    const int64_t n = arrivals(rng);
    const int64_t nt = std::binomial_distribution<int64_t>(n, s.treatment_share)(rng);
    const int64_t per[2] = {n - nt, nt};
    for (size_t v = 0; v < 2; ++v) {
      const int64_t c = std::binomial_distribution<int64_t>(per[v], rates[v])(rng);
      store::UserMoments& m = a.totals[0][v];
      m.n += per[v];
      m.sum[0] += static_cast<double>(c);
      m.cross[0] += static_cast<double>(c);
      a.variants[v].users += per[v];
      a.variants[v].exposures += per[v];
    }
    a.unique_users += n;
    const int64_t as_of = kT0 + (look + 1) * 5 * kMinuteMs;
    a.latest_exposure_ms = as_of - 1;
    const auto all = EvaluateExperimentMonitors(config, x, guardrails, a, states, as_of);
    states.clear();
    for (const MonitorEvaluation& e : all) {
      if (e.monitor == monitor && e.state.state == AlertStateKind::kFiring) return look;
      states.push_back(e.state);
    }
  }
  return -1;
}

struct Summary {
  int reps = 0, fired = 0;
  double median_hours = NAN, p90_hours = NAN;
  double rate() const { return static_cast<double>(fired) / reps; }
};

Summary Run(const Scenario& s, int reps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Summary out;
  out.reps = reps;
  std::vector<double> hours;
  for (int i = 0; i < reps; ++i) {
    const int look = FirstFiring(s, rng);
    if (look >= 0) hours.push_back((look + 1) * 5.0 / 60.0);
  }
  out.fired = static_cast<int>(hours.size());
  if (!hours.empty()) {
    std::sort(hours.begin(), hours.end());
    auto q = [&](double p) {  // quantile over all replications (never = +inf)
      const size_t k = static_cast<size_t>(std::ceil(p * reps)) - 1;
      return k < hours.size() ? hours[k] : INFINITY;
    };
    out.median_hours = q(0.5);
    out.p90_hours = q(0.9);
  }
  return out;
}

double Limit(double alpha, int reps) { return alpha + 3 * std::sqrt(alpha * (1 - alpha) / reps); }

TEST_CASE("guardrail monitor: A/A false alarms under 5-minute looks for 14 days",
          "[app][monitors][simulation][slow]") {
  const int reps = 400;
  Scenario no_margin;  // harm = any significant drop: A/A is the null's boundary
  const Summary aa = Run(no_margin, reps, 1);
  WARN("guardrail A/A, no margin, alpha 0.05: false alarms " << aa.fired << "/" << reps << " = "
                                                             << aa.rate());
  CHECK(aa.rate() <= Limit(0.05, reps));
  Scenario at_margin;  // the true effect exactly at the margin (-1 %): the null's boundary
  at_margin.margin = 0.01;
  at_margin.relative_effect = -0.01;
  const Summary m = Run(at_margin, reps, 2);
  WARN("guardrail, true effect = -margin (-1 %), alpha 0.05: false alarms "
       << m.fired << "/" << reps << " = " << m.rate());
  CHECK(m.rate() <= Limit(0.05, reps));
  Scenario aa_margin;
  aa_margin.margin = 0.01;
  const Summary am = Run(aa_margin, reps, 3);
  WARN("guardrail A/A, margin 1 %: false alarms " << am.fired << "/" << reps << " = " << am.rate());
  CHECK(am.rate() <= Limit(0.05, reps));
}

TEST_CASE("guardrail monitor: a true harm beyond the margin is caught, with its delay",
          "[app][monitors][simulation][slow]") {
  const int reps = 200;
  Scenario harm;
  harm.margin = 0.01;
  harm.relative_effect = -0.05;  // 10 % -> 9.5 %, 4 points beyond the margin
  const Summary h = Run(harm, reps, 4);
  WARN("guardrail harm -5 % (margin 1 %), tuned to the planned 1.4 M users: caught "
       << h.fired << "/" << reps << ", delay median " << h.median_hours << " h, p90 " << h.p90_hours
       << " h");
  CHECK(h.rate() >= 0.95);
  CHECK(h.p90_hours < 7 * 24);
  harm.planned_sample_size.reset();  // the default tuning (N* = 5000)
  const Summary d = Run(harm, reps, 5);
  WARN("guardrail harm -5 % (margin 1 %), default tuning N* = 5000: caught "
       << d.fired << "/" << reps << ", delay median " << d.median_hours << " h, p90 " << d.p90_hours
       << " h");
  CHECK(d.rate() >= 0.9);
  Scenario big;
  big.margin = 0.01;
  big.relative_effect = -0.2;  // a broken treatment
  const Summary b = Run(big, reps, 6);
  WARN("guardrail harm -20 % (margin 1 %): caught " << b.fired << "/" << reps << ", delay median "
                                                    << b.median_hours << " h, p90 " << b.p90_hours
                                                    << " h");
  CHECK(b.rate() == 1.0);
  CHECK(b.p90_hours < 24);
}

TEST_CASE("sequential SRM monitor: A/A false alarms and a 50.5/49.5 split detected",
          "[app][monitors][simulation][slow]") {
  Scenario aa;
  aa.guardrail = false;
  aa.srm = true;
  aa.srm_alpha = 0.05;  // a level whose false-alarm rate 1000 replications can measure
  const int reps = 1000;
  const Summary a05 = Run(aa, reps, 7);
  WARN("SRM A/A, alpha 0.05: false alarms " << a05.fired << "/" << reps << " = " << a05.rate());
  CHECK(a05.rate() <= Limit(0.05, reps));
  aa.srm_alpha = 1e-3;  // the default
  const Summary a001 = Run(aa, reps, 8);
  WARN("SRM A/A, alpha 0.001 (default): false alarms " << a001.fired << "/" << reps << " = "
                                                       << a001.rate());
  CHECK(a001.rate() <= Limit(1e-3, reps));
  Scenario srm = aa;
  srm.treatment_share = 0.495;  // 50.5 / 49.5
  const Summary s = Run(srm, 200, 9);
  WARN("SRM 50.5/49.5 at 100 000 users/day, alpha 0.001: caught "
       << s.fired << "/200, delay median " << s.median_hours << " h, p90 " << s.p90_hours << " h");
  CHECK(s.rate() >= 0.9);
  srm.treatment_share = 0.49;  // 51 / 49
  const Summary s2 = Run(srm, 200, 10);
  WARN("SRM 51/49 at 100 000 users/day, alpha 0.001: caught "
       << s2.fired << "/200, delay median " << s2.median_hours << " h, p90 " << s2.p90_hours
       << " h");
  CHECK(s2.rate() == 1.0);
}

}  // namespace
}  // namespace causeway::app
