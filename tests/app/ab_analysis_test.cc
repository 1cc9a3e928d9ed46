// app::AnalyzeAb: the /v1/analyses/ab policy on plain structs, checked against the
// committed statsmodels references (tests/reference/stats/fixtures.json).
#include "app/ab_analysis.h"

#include <catch2/catch.hpp>

#include "fixtures.h"

namespace causeway::app {
namespace {

using stats::testing::LoadFixture;

AbVariant Binomial(std::string key, int64_t n, int64_t conversions,
                   std::optional<double> weight = std::nullopt) {
  AbVariant v;
  v.key = std::move(key);
  v.n = n;
  v.conversions = conversions;
  v.weight = weight;
  return v;
}

TEST_CASE("AnalyzeAb: binomial comparison equals statsmodels", "[app]") {
  const auto& f = LoadFixture("fixtures.json")["proportions"][0];
  AbInput in{AbMetricType::kBinomial,
             {Binomial("control", f["control"]["n"], f["control"]["conversions"]),
              Binomial("treatment", f["treatment"]["n"], f["treatment"]["conversions"])}};
  AbOptions options;
  options.always_valid = AlwaysValidPlan{20000};
  auto r = AnalyzeAb(in, options);
  REQUIRE(r.ok());
  REQUIRE(r->comparisons.size() == 1);
  const AbComparison& c = r->comparisons[0];
  const auto& e = f["expected"];
  CHECK(c.valid);
  CHECK(c.absolute.estimate == Approx(e["difference"].get<double>()).epsilon(1e-12));
  CHECK(c.absolute.ci.lower == Approx(e["ci"][0].get<double>()).epsilon(1e-9));
  CHECK(c.absolute.ci.upper == Approx(e["ci"][1].get<double>()).epsilon(1e-9));
  CHECK(c.absolute.level == Approx(0.95));
  CHECK(c.p_value == Approx(e["p_value"].get<double>()).epsilon(1e-8));
  CHECK(c.relative.estimate == Approx(e["relative"].get<double>()).epsilon(1e-9));
  CHECK(c.relative.std_error == Approx(e["relative_std_error"].get<double>()).epsilon(1e-9));
  CHECK(c.p_value_adjusted == c.p_value);  // one treatment: no correction
  CHECK(r->correction_applied == stats::Correction::kNone);
  REQUIRE(c.always_valid);
  CHECK(c.always_valid->valid);
  CHECK(c.always_valid->absolute.ci.lower < c.absolute.ci.lower);
  CHECK_FALSE(c.always_valid->significant);
  REQUIRE(c.bayesian);
  CHECK(c.bayesian->chance_to_beat_control > 0.95);
  CHECK_FALSE(r->srm);
}

TEST_CASE("AnalyzeAb: the correction family and SRM with weights", "[app]") {
  AbInput in{AbMetricType::kBinomial,
             {Binomial("control", 10000, 1000, 1.0 / 3), Binomial("b", 10000, 1100, 1.0 / 3),
              Binomial("c", 10000, 1040, 1.0 / 3)}};
  AbOptions options;  // Holm by default
  auto r = AnalyzeAb(in, options);
  REQUIRE(r.ok());
  CHECK(r->correction_applied == stats::Correction::kHolm);
  const double p1 = r->comparisons[0].p_value, p2 = r->comparisons[1].p_value;
  CHECK(r->comparisons[0].p_value_adjusted == Approx(std::min(1.0, 2 * std::min(p1, p2))));
  REQUIRE(r->srm);
  CHECK(r->srm->valid);
  CHECK_FALSE(r->srm->mismatch);
}

TEST_CASE("AnalyzeAb: group-sequential looks use Bonferroni across treatments", "[app]") {
  AbInput in{
      AbMetricType::kBinomial,
      {Binomial("control", 10000, 1000), Binomial("b", 10000, 1100), Binomial("c", 10000, 1000)}};
  AbOptions options;
  options.group_sequential = GroupSequentialPlan{{0.5, 1.0}, {}, 2};
  auto r = AnalyzeAb(in, options);
  REQUIRE(r.ok());
  REQUIRE(r->comparisons[0].group_sequential);
  CHECK(r->comparisons[0].group_sequential->alpha == Approx(0.025));
  options.correction = stats::Correction::kNone;
  r = AnalyzeAb(in, options);
  REQUIRE(r.ok());
  CHECK(r->comparisons[0].group_sequential->alpha == Approx(0.05));
}

TEST_CASE("AnalyzeAb: degenerate data is a comparison with a reason", "[app]") {
  AbInput in{AbMetricType::kBinomial, {Binomial("control", 0, 0), Binomial("t", 100, 5)}};
  auto r = AnalyzeAb(in, AbOptions{});
  REQUIRE(r.ok());
  CHECK_FALSE(r->comparisons[0].valid);
  CHECK_FALSE(r->comparisons[0].reason.empty());
  CHECK(std::isnan(r->comparisons[0].absolute.estimate));
  CHECK_FALSE(r->comparisons[0].significant);
}

TEST_CASE("AnalyzeAb: malformed input names the field", "[app]") {
  struct Case {
    const char* name;
    AbInput input;
    AbOptions options;
    const char* field;
  };
  AbOptions bad_alpha;
  bad_alpha.alpha = 1.5;
  AbOptions bad_look;
  bad_look.group_sequential = GroupSequentialPlan{{0.5, 1.0}, {}, 3};
  AbOptions bad_looks;
  bad_looks.group_sequential = GroupSequentialPlan{{0.5, 0.5}, {}, 1};
  const AbInput ok{AbMetricType::kBinomial, {Binomial("a", 10, 1), Binomial("b", 10, 2)}};
  const Case cases[] = {
      {"one variant", {AbMetricType::kBinomial, {Binomial("a", 10, 1)}}, {}, "variants"},
      {"duplicate key",
       {AbMetricType::kBinomial, {Binomial("a", 10, 1), Binomial("a", 10, 1)}},
       {},
       "variants[1].key"},
      {"conversions > n",
       {AbMetricType::kBinomial, {Binomial("a", 10, 1), Binomial("b", 10, 11)}},
       {},
       "variants[1].conversions"},
      {"weights all or none",
       {AbMetricType::kBinomial, {Binomial("a", 10, 1, 0.5), Binomial("b", 10, 1)}},
       {},
       "variants[1].weight"},
      {"alpha", ok, bad_alpha, "alpha"},
      {"current look", ok, bad_look, "sequential.current_look"},
      {"looks increase", ok, bad_looks, "sequential.looks[1]"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto r = AnalyzeAb(c.input, c.options);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().field() == c.field);
    }
  }
}

TEST_CASE("FamilyCorrection, GroupSequentialAlpha and RejectsAtLook", "[app]") {
  using stats::Correction;
  // One treatment is a family of one: never corrected.
  CHECK(FamilyCorrection(1, Correction::kHolm) == Correction::kNone);
  CHECK(FamilyCorrection(2, Correction::kHolm) == Correction::kHolm);
  CHECK(FamilyCorrection(3, Correction::kBenjaminiHochberg) == Correction::kBenjaminiHochberg);
  CHECK(FamilyCorrection(3, Correction::kNone) == Correction::kNone);
  // Bonferroni for group-sequential designs whenever the family is corrected.
  CHECK(GroupSequentialAlpha(0.05, 1, Correction::kHolm) == 0.05);
  CHECK(GroupSequentialAlpha(0.05, 2, Correction::kHolm) == Approx(0.025));
  CHECK(GroupSequentialAlpha(0.05, 4, Correction::kBenjaminiHochberg) == Approx(0.0125));
  CHECK(GroupSequentialAlpha(0.05, 4, Correction::kNone) == 0.05);
  // At or below the look's nominal level rejects.
  CHECK(RejectsAtLook(0.001, 0.003));
  CHECK(RejectsAtLook(0.003, 0.003));
  CHECK_FALSE(RejectsAtLook(0.0031, 0.003));
}

TEST_CASE("AnalyzeAb: a look rejects when p is at or below its nominal level", "[app]") {
  // control 10% vs 11% on 10000 users each: p ~ 0.02 (fixed horizon).
  AbInput in{AbMetricType::kBinomial,
             {Binomial("control", 10000, 1000), Binomial("t", 10000, 1100)}};
  AbOptions options;
  options.group_sequential = GroupSequentialPlan{{0.5, 1.0}, {}, 1};
  auto first = AnalyzeAb(in, options);
  REQUIRE(first.ok());
  const GroupSequentialComparison& g1 = *first->comparisons[0].group_sequential;
  CHECK(g1.p_value == first->comparisons[0].p_value);
  CHECK(g1.significant == RejectsAtLook(g1.p_value, g1.nominal_p));
  CHECK_FALSE(g1.significant);  // O'Brien-Fleming spends almost nothing at t = 0.5
  options.group_sequential->current_look = 2;
  auto last = AnalyzeAb(in, options);
  REQUIRE(last.ok());
  const GroupSequentialComparison& g2 = *last->comparisons[0].group_sequential;
  CHECK(g2.nominal_p > g1.nominal_p);
  CHECK(g2.significant == RejectsAtLook(g2.p_value, g2.nominal_p));
  CHECK(g2.significant);
}

}  // namespace
}  // namespace causeway::app
