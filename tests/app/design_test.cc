// app::SolveSampleSize and app::DesignSequential: the /v1/design/* policy on plain
// structs, checked against the committed statsmodels references
// (tests/reference/stats/fixtures.json, "power") and rpact
// (tests/reference/stats/rpact_boundaries.json).
#include "app/design.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "fixtures.h"

namespace causeway::app {
namespace {

using stats::testing::LoadFixture;

// The design of fixture `f` without effect or sample size.
SampleSizeOptions FromFixture(const nlohmann::json& f) {
  SampleSizeOptions o;
  if (f["metric_type"] == "binomial") {
    o.kind = stats::MetricKind::kProportion;
    o.baseline_rate = f["baseline"];
  } else {
    o.kind = stats::MetricKind::kMean;
    o.standard_deviation = f["sigma"];
  }
  o.ratio = f["ratio"];
  o.alpha = f["alpha"];
  o.power = f["power_target"];
  o.alternative =
      f["alternative"] == "greater" ? stats::Alternative::kGreater : stats::Alternative::kTwoSided;
  return o;
}

TEST_CASE("SolveSampleSize: the quantity solved for follows from what is given (statsmodels)",
          "[app]") {
  const auto& fixtures = LoadFixture("fixtures.json")["power"];
  REQUIRE(fixtures.size() >= 7);
  for (const auto& f : fixtures) {
    CAPTURE(f.dump());
    const auto& e = f["expected"];

    SampleSizeOptions n = FromFixture(f);  // effect only: the sample size
    n.mde = f["effect"].get<double>();
    auto sized = SolveSampleSize(n);
    REQUIRE(sized.ok());
    CHECK(sized->solved_for == SolvedFor::kSampleSize);
    const double exact = e["n_control_for_target"];
    CHECK(sized->n_control_exact == Approx(exact).epsilon(1e-6));
    CHECK(sized->n_control == std::ceil(exact));
    CHECK(sized->n_treatment == std::ceil(exact * n.ratio));
    CHECK(sized->n_total == static_cast<int64_t>(sized->n_control + sized->n_treatment));
    CHECK(sized->power == n.power);

    SampleSizeOptions p = n;  // effect and n_control: the power
    p.n_control = f["n_control"].get<double>();
    auto powered = SolveSampleSize(p);
    REQUIRE(powered.ok());
    CHECK(powered->solved_for == SolvedFor::kPower);
    CHECK(powered->power == Approx(e["power"].get<double>()).epsilon(1e-9));
    CHECK(powered->n_treatment == *p.n_control * p.ratio);

    SampleSizeOptions m = FromFixture(f);  // n_control only: the MDE
    m.n_control = f["n_control"].get<double>();
    auto detectable = SolveSampleSize(m);
    REQUIRE(detectable.ok());
    CHECK(detectable->solved_for == SolvedFor::kMde);
    // Without an effect the MDE is upward (or in the alternative's direction); the
    // fixture's is in the effect's direction, which for proportions is not symmetric.
    if (f["effect"].get<double>() > 0) {
      CHECK(detectable->mde == Approx(e["mde_at_n"].get<double>()).epsilon(1e-6));
    }
  }
}

TEST_CASE("SolveSampleSize: relative_mde is relative to the baseline", "[app]") {
  const auto& f = LoadFixture("fixtures.json")["power"][0];  // binomial, 10% baseline, +1 point
  SampleSizeOptions o = FromFixture(f);
  o.relative_mde = 0.1;  // 10% of 0.1 = the fixture's +0.01
  auto r = SolveSampleSize(o);
  REQUIRE(r.ok());
  CHECK(r->mde == Approx(0.01));
  REQUIRE(r->relative_mde);
  CHECK(*r->relative_mde == Approx(0.1));
  CHECK(r->n_control_exact ==
        Approx(f["expected"]["n_control_for_target"].get<double>()).epsilon(1e-6));

  SampleSizeOptions mean;  // a mean without baseline_mean has no relative_mde
  mean.kind = stats::MetricKind::kMean;
  mean.standard_deviation = 1;
  mean.mde = 0.1;
  r = SolveSampleSize(mean);
  REQUIRE(r.ok());
  CHECK_FALSE(r->relative_mde);
  mean.baseline_mean = 2.0;
  r = SolveSampleSize(mean);
  REQUIRE(r.ok());
  REQUIRE(r->relative_mde);
  CHECK(*r->relative_mde == Approx(0.05));
}

TEST_CASE("SolveSampleSize: errors name the request field", "[app]") {
  SampleSizeOptions binomial;
  binomial.baseline_rate = 0.1;
  SampleSizeOptions mean;
  mean.kind = stats::MetricKind::kMean;
  mean.standard_deviation = 1;
  struct Case {
    const char* name;
    SampleSizeOptions options;
    StatusCode code;
    const char* field;
  };
  std::vector<Case> cases;
  auto add = [&cases](const char* name, SampleSizeOptions o, const char* field,
                      StatusCode code = StatusCode::kInvalidArgument) {
    cases.push_back({name, std::move(o), code, field});
  };
  add("neither effect nor n", binomial, "mde");
  SampleSizeOptions o = binomial;
  o.mde = 0.01;
  o.relative_mde = 0.1;
  add("both mde and relative_mde", o, "relative_mde");
  o = mean;
  o.relative_mde = 0.1;
  add("relative_mde without a baseline", o, "baseline_mean");
  o = binomial;
  o.relative_mde = 0;
  add("zero relative effect", o, "relative_mde");
  o = binomial;
  o.mde = 0.01;
  o.n_control = 1;
  add("n_control below 2", o, "n_control");
  o = binomial;
  o.mde = 0.95;
  add("rate leaves (0, 1)", o, "mde");
  o = binomial;
  o.mde = -0.01;
  o.alternative = stats::Alternative::kGreater;
  add("sign against the alternative", o, "mde");
  o = binomial;
  o.baseline_rate = 1.5;
  o.mde = 0.01;
  add("baseline rate", o, "baseline_rate");
  o = mean;
  o.mde = 1;
  o.power = 1.2;
  add("power", o, "power");
  o = mean;
  o.mde = 0.000001;
  o.standard_deviation = 1000;
  add("no finite sample reaches the power", o, "mde", StatusCode::kInsufficientData);
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto r = SolveSampleSize(c.options);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    CHECK(r.status().field() == c.field);
  }
}

TEST_CASE("DesignSequential: Lan-DeMets boundaries match rpact; incremental alpha", "[app]") {
  for (const auto& d : LoadFixture("rpact_boundaries.json")["spending_designs"]) {
    CAPTURE(d["name"].get<std::string>());
    SequentialDesignOptions o;
    o.looks = d["looks"].get<std::vector<double>>();
    o.alpha = d["alpha"];
    o.sides = d["sides"];
    o.spending = d["spending"] == "pocock" ? stats::SpendingFunction::kPocock
                                           : stats::SpendingFunction::kObrienFleming;
    auto r = DesignSequential(o);
    REQUIRE(r.ok());
    REQUIRE(r->looks.size() == o.looks.size());
    double previous = 0;
    for (size_t k = 0; k < r->looks.size(); ++k) {
      CAPTURE(k);
      const SequentialLook& look = r->looks[k];
      CHECK(look.information_fraction == o.looks[k]);
      const double cumulative = d["cumulative_alpha"][k];
      // Tolerance as in tests/stats/group_sequential_test.cc.
      CHECK(look.cumulative_alpha == Approx(cumulative).epsilon(1e-6).margin(2e-8));
      CHECK(look.incremental_alpha == Approx(look.cumulative_alpha - previous));
      previous = look.cumulative_alpha;
    }
    // A design whose last look is the full information spends all of alpha.
    if (o.looks.back() == 1.0) {
      CHECK(r->looks.back().cumulative_alpha == Approx(o.alpha).epsilon(1e-6));
    }
  }
}

TEST_CASE("DesignSequential and ValidateLooks: errors name the field", "[app]") {
  CHECK(ValidateLooks({0.5, 1.0}, "looks").ok());
  CHECK(ValidateLooks({}, "looks").field() == "looks");
  CHECK(ValidateLooks({0.5, 0.5}, "sequential.looks").field() == "sequential.looks[1]");
  CHECK(ValidateLooks({0.5, 1.5}, "looks").field() == "looks[1]");
  CHECK(ValidateLooks(std::vector<double>(101, 0.5), "looks").field() == "looks");
  SequentialDesignOptions o;
  o.looks = {0.5, 1.0};
  o.sides = 3;
  CHECK(DesignSequential(o).status().field() == "sides");
  o.sides = 2;
  o.alpha = 1;
  CHECK(DesignSequential(o).status().field() == "alpha");
}

}  // namespace
}  // namespace causeway::app
