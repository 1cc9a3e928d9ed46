// Power / sample size / MDE against statsmodels (NormalIndPower,
// power_proportions_2indep) and Bayesian summaries against scipy quadrature.
#include <catch2/catch.hpp>

#include "fixtures.h"
#include "stats/bayesian.h"
#include "stats/power.h"

namespace causeway::stats {
namespace {

using testing::LoadFixture;

TEST_CASE("Power, sample size and MDE match statsmodels", "[stats][power]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["power"]) {
    CAPTURE(index++);
    PowerInputs in;
    if (c["metric_type"] == "binomial") {
      in.kind = MetricKind::kProportion;
      in.baseline = c["baseline"];
    } else {
      in.kind = MetricKind::kMean;
      in.sigma = c["sigma"];
    }
    in.effect = c["effect"];
    in.n_control = c["n_control"];
    in.ratio = c["ratio"];
    in.alpha = c["alpha"];
    in.alternative = c["alternative"] == "greater" ? Alternative::kGreater : Alternative::kTwoSided;
    const auto& e = c["expected"];
    const PowerResult power = Power(in);
    REQUIRE(power.valid);
    CHECK(power.value == Approx(e["power"].get<double>()).epsilon(1e-9));
    const PowerResult n = SampleSize(in, c["power_target"]);
    REQUIRE(n.valid);
    CHECK(n.value == Approx(e["n_control_for_target"].get<double>()).epsilon(1e-6));
    const PowerResult mde = MinimumDetectableEffect(in, c["power_target"]);
    REQUIRE(mde.valid);
    CHECK(mde.value == Approx(e["mde_at_n"].get<double>()).epsilon(1e-6));
  }
}

TEST_CASE("Power rejects invalid inputs", "[stats][power]") {
  PowerInputs in;
  in.baseline = 0.1;
  in.effect = 0.01;
  in.n_control = 1000;
  in.alpha = 0;
  CHECK_FALSE(Power(in).valid);
  in.alpha = 0.05;
  in.baseline = 1.2;
  CHECK_FALSE(Power(in).valid);
  in.baseline = 0.1;
  in.effect = 0.0;
  CHECK_FALSE(SampleSize(in, 0.8).valid);
  in.effect = -0.01;
  in.alternative = Alternative::kGreater;
  CHECK_FALSE(SampleSize(in, 0.8).valid);
}

TEST_CASE("Bayesian summaries match numerical integration", "[stats][bayesian]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["bayesian"]) {
    CAPTURE(index++);
    const BayesianSummary s = SummarizePosterior(c["difference"], c["std_error"]);
    REQUIRE(s.valid);
    const auto& e = c["expected"];
    CHECK(s.chance_to_beat_control ==
          Approx(e["chance_to_beat_control"].get<double>()).epsilon(1e-8).margin(1e-12));
    CHECK(s.expected_loss_treatment ==
          Approx(e["expected_loss_treatment"].get<double>()).epsilon(1e-7).margin(1e-12));
    CHECK(s.expected_loss_control ==
          Approx(e["expected_loss_control"].get<double>()).epsilon(1e-7).margin(1e-12));
  }
  CHECK_FALSE(SummarizePosterior(1.0, 0.0).valid);
}

}  // namespace
}  // namespace causeway::stats
