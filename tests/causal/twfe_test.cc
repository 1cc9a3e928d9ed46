// TWFE and 2x2 against R (lm + sandwich::vcovCL HC1, estimatr, plm + vcovHC "sss") and
// statsmodels (cluster-robust OLS with dummies); fixtures in tests/reference/causal/.
#include <catch2/catch.hpp>

#include "causal/did.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

using testing::LoadMpdta;
using testing::LoadSynthetic;
using testing::ReadReference;
using testing::RelativeError;

constexpr double kEstimateTol = 1e-8;
constexpr double kSeTol = 1e-6;

struct TwfeCase {
  const char* key;   // prefix in the fixtures
  const char* file;  // "" = mpdta
  bool x1;
  bool weighted;
};

const TwfeCase kTwfeCases[] = {
    {"mpdta.twfe", "", false, false},
    {"synth_balanced.twfe", "synth_balanced.csv", true, true},
    {"synth_balanced.twfe_unweighted", "synth_balanced.csv", false, false},
    {"synth_unbalanced.twfe", "synth_unbalanced.csv", true, false},
    {"synth_unbalanced.twfe_weighted", "synth_unbalanced.csv", true, true},
};

Panel Load(const TwfeCase& c) {
  return std::string(c.file).empty() ? LoadMpdta() : LoadSynthetic(c.file, c.x1, c.weighted);
}

TEST_CASE("TWFE estimate and CR1 SE match R and statsmodels", "[causal][twfe]") {
  const auto r = ReadReference("r_reference.txt");
  const auto sm = ReadReference("statsmodels_reference.txt");
  for (const TwfeCase& c : kTwfeCases) {
    INFO(c.key);
    const std::string k = c.key;
    DidOptions options;
    options.method = DidMethod::kTwfe;
    auto result = EstimateTwfe(Load(c), options);
    REQUIRE(result.ok());
    const DidSummary& s = result.value();
    CHECK(RelativeError(s.att.estimate, r.at(k + ".estimate")) < kEstimateTol);
    CHECK(RelativeError(s.att.se, r.at(k + ".se")) < kSeTol);
    CHECK(RelativeError(s.att.se, r.at(k + ".se_estimatr")) < kSeTol);
    CHECK(RelativeError(s.att.estimate, sm.at(k + ".estimate")) < kEstimateTol);
    CHECK(RelativeError(s.att.se, sm.at(k + ".se")) < kSeTol);
    CHECK(RelativeError(s.att.p, r.at(k + ".p")) < 1e-6);
    CHECK(RelativeError(s.att.ci_lower, r.at(k + ".ci_lower")) < 1e-6);
    CHECK(RelativeError(s.att.ci_upper, r.at(k + ".ci_upper")) < 1e-6);
    CHECK(s.att.df == r.at(k + ".clusters") - 1);
    CHECK(s.clusters == r.at(k + ".clusters"));
    CHECK(s.observations == r.at(k + ".n"));
    CHECK(s.parameters == r.at(k + ".parameters"));
    if (c.x1) {
      REQUIRE(s.coefficients.size() == 2);
      CHECK(s.coefficients[1].name == "x1");
      CHECK(RelativeError(s.coefficients[1].inference.estimate, r.at(k + ".x1.estimate")) <
            kEstimateTol);
      CHECK(RelativeError(s.coefficients[1].inference.se, r.at(k + ".x1.se")) < kSeTol);
    }
    if (r.count(k + ".se_plm")) {
      options.fe_dof = FixedEffectDof::kSlopesOnly;
      auto plm = EstimateTwfe(Load(c), options);
      REQUIRE(plm.ok());
      CHECK(RelativeError(plm.value().att.estimate, r.at(k + ".estimate_plm")) < kEstimateTol);
      CHECK(RelativeError(plm.value().att.se, r.at(k + ".se_plm")) < kSeTol);
    }
  }
}

TEST_CASE("TWFE warns where analysts go wrong", "[causal][twfe]") {
  auto staggered = EstimateTwfe(LoadMpdta(), DidOptions{});
  REQUIRE(staggered.ok());
  std::vector<std::string> codes;
  for (const auto& w : staggered.value().warnings) codes.push_back(w.code);
  CHECK(std::count(codes.begin(), codes.end(), "staggered_timing") == 1);
  CHECK(std::count(codes.begin(), codes.end(), "few_clusters") == 0);
  CHECK(std::count(codes.begin(), codes.end(), "unbalanced_panel") == 0);
  CHECK(staggered.value().balanced);
  CHECK(staggered.value().demean_iterations == 1);  // exact in one sweep when balanced

  auto unbalanced = EstimateTwfe(LoadSynthetic("synth_unbalanced.csv", true, false), DidOptions{});
  REQUIRE(unbalanced.ok());
  codes.clear();
  for (const auto& w : unbalanced.value().warnings) codes.push_back(w.code);
  CHECK(std::count(codes.begin(), codes.end(), "unbalanced_panel") == 1);
  CHECK(unbalanced.value().demean_iterations > 1);

  // 20 clusters: a 2004-cohort-only subset of mpdta with 0 never-treated... use 25 units.
  Panel small = LoadMpdta();
  Panel sub;
  for (size_t r = 0; r < small.rows(); ++r) {
    if (r / 5 >= 25) break;
    sub.unit.push_back(small.unit[r]);
    sub.time.push_back(small.time[r]);
    sub.outcome.push_back(small.outcome[r]);
    sub.treatment_start.push_back(small.treatment_start[r]);
  }
  auto few = EstimateTwfe(sub, DidOptions{});
  REQUIRE(few.ok());
  codes.clear();
  for (const auto& w : few.value().warnings) codes.push_back(w.code);
  CHECK(std::count(codes.begin(), codes.end(), "few_clusters") == 1);
}

TEST_CASE("A time-invariant covariate is absorbed by the unit effects and dropped",
          "[causal][twfe]") {
  const auto r = ReadReference("r_reference.txt");
  auto result = EstimateTwfe(LoadMpdta(/*with_lpop=*/true), DidOptions{});
  REQUIRE(result.ok());
  CHECK(RelativeError(result.value().att.estimate, r.at("mpdta.twfe.estimate")) < kEstimateTol);
  CHECK(RelativeError(result.value().att.se, r.at("mpdta.twfe.se")) < kSeTol);
  bool dropped = false;
  for (const auto& w : result.value().warnings) dropped |= (w.code == "collinear_dropped");
  CHECK(dropped);
}

TEST_CASE("2x2 matches R lm + vcovCL on the mpdta 2006 cohort vs never treated", "[causal][2x2]") {
  const auto r = ReadReference("r_reference.txt");
  Panel all = LoadMpdta();
  Panel p;
  for (size_t i = 0; i < all.rows(); ++i) {
    const int64_t g = all.treatment_start[i];
    if (g != kNeverTreated && g != 2006) continue;
    p.unit.push_back(all.unit[i]);
    p.time.push_back(all.time[i]);
    p.outcome.push_back(all.outcome[i]);
    p.treated.push_back(g == 2006);
    p.post.push_back(all.time[i] >= 2006);
  }
  DidOptions options;
  options.method = DidMethod::k2x2;
  auto result = EstimateDid(p, options);
  REQUIRE(result.ok());
  const DidSummary& s = result.value();
  CHECK(RelativeError(s.att.estimate, r.at("mpdta.2x2_2006.estimate")) < kEstimateTol);
  CHECK(RelativeError(s.att.se, r.at("mpdta.2x2_2006.se")) < kSeTol);
  CHECK(RelativeError(s.att.p, r.at("mpdta.2x2_2006.p")) < 1e-6);
  REQUIRE(s.cells);
  const CellMeans& m = *s.cells;
  CHECK(std::fabs((m.treated_post - m.treated_pre) - (m.control_post - m.control_pre) -
                  s.att.estimate) < 1e-12);
  CHECK(s.treated_units == 40);
  CHECK(s.control_units == 309);
}

}  // namespace
}  // namespace causeway::causal
