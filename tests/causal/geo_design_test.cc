// The geo design's power curve against brute force: lifts injected into the history and
// analysed with EstimateSynthetic, window by window.
#include <catch2/catch.hpp>

#include <cmath>

#include "causal/geo_design.h"
#include "causal/inference.h"

namespace causeway::causal {
namespace {

// Seeded history: 16 markets x 40 weeks, level 100 + unit effect + shared trend + noise.
Panel History() {
  uint64_t state = 99;
  auto uniform = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  };
  Panel p;
  std::vector<double> trend(40);
  double level = 0;
  for (double& t : trend) t = level += uniform() - 0.5;
  for (int i = 0; i < 16; ++i) {
    const double a = 100 + 20 * uniform(), l = 0.5 + uniform();
    for (int t = 0; t < 40; ++t) {
      p.unit.push_back(100 + i);
      p.time.push_back(t);
      p.outcome.push_back(a + l * trend[static_cast<size_t>(t)] + 2 * (uniform() - 0.5));
      p.treatment_start.push_back(kNeverTreated);
    }
  }
  return p;
}

TEST_CASE("geo design: the power curve is the analysis run on injected lifts",
          "[causal][synthetic][design]") {
  const Panel history = History();
  GeoDesignOptions o;
  o.test_length = 4;
  o.simulations = 6;
  o.analysis.placebo_replications = 30;
  o.lifts = {0, 0.005, 0.01, 0.02, 0.05};
  const std::vector<int64_t> treated = {103, 110};
  auto r = DesignGeoTest(history, treated, o);
  REQUIRE(r.ok());
  const GeoDesignSummary& s = r.value();
  REQUIRE(s.windows.size() == 6);
  CHECK(s.treated_units == 2);
  CHECK(s.control_units == 14);
  CHECK(s.windows[0].last_period == 39);
  CHECK(s.windows[0].first_period == 36);
  CHECK(s.windows[5].last_period == 34);
  const double z = CriticalValue(kInfiniteDf, 0.95);

  // Brute force: inject d into the treated window cells, cut the panel, analyse.
  for (double d : o.lifts) {
    int detected = 0;
    for (const GeoWindow& w : s.windows) {
      Panel p;
      for (size_t k = 0; k < history.rows(); ++k) {
        if (history.time[k] > w.last_period) continue;
        const bool is_treated = history.unit[k] == 103 || history.unit[k] == 110;
        p.unit.push_back(history.unit[k]);
        p.time.push_back(history.time[k]);
        p.outcome.push_back(history.outcome[k] *
                            (is_treated && history.time[k] >= w.first_period ? 1 + d : 1));
        p.treatment_start.push_back(is_treated ? w.first_period : kNeverTreated);
      }
      auto a = EstimateSynthetic(p, o.analysis);
      REQUIRE(a.ok());
      CHECK(a.value().att.estimate == Approx(w.estimate + d * w.baseline).epsilon(1e-9));
      CHECK(a.value().att.se == Approx(w.se).epsilon(1e-9));
      const double t = a.value().att.estimate;
      const bool rejected = a.value().att.p < 0.05;
      CHECK(rejected == (std::fabs(t) > z * a.value().att.se));
      detected += d == 0 ? rejected : rejected && t > 0;
    }
    double power = -1;
    for (const PowerPoint& pt : s.power_curve) {
      if (pt.lift == d) power = pt.power;
    }
    CHECK(power == Approx(detected / 6.0));
  }
  // The minimum detectable lift is where the power first reaches 0.8 (5 of 6 windows).
  CHECK(std::isfinite(s.minimum_detectable_lift));
  CHECK(s.minimum_detectable_att == Approx(s.minimum_detectable_lift * s.baseline));
  GeoDesignOptions probe = o;
  probe.lifts = {s.minimum_detectable_lift * (1 + 1e-9) + 1e-12,
                 s.minimum_detectable_lift * (1 - 1e-6)};
  auto q = DesignGeoTest(history, treated, probe);
  REQUIRE(q.ok());
  CHECK(q.value().power_curve[0].power >= 0.8);
  if (s.minimum_detectable_lift > 0) CHECK(q.value().power_curve[1].power < 0.8);
  CHECK(q.value().false_positive_rate == s.false_positive_rate);
}

TEST_CASE("geo design: input errors name the field", "[causal][synthetic][design]") {
  const Panel history = History();
  GeoDesignOptions o;
  o.test_length = 4;
  o.simulations = 2;
  o.analysis.placebo_replications = 5;
  auto missing = DesignGeoTest(history, {999}, o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().field == "treated_units");
  o.test_length = 39;
  auto too_long = DesignGeoTest(history, {103}, o);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().kind == ErrorKind::kInsufficientData);
  o.test_length = 0;
  auto bad = DesignGeoTest(history, {103}, o);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().field == "options.test_length");
}

}  // namespace
}  // namespace causeway::causal
