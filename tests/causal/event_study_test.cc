// Event study against R (lm with relative-time dummies + sandwich::vcovCL HC1; Wald test
// computed in R from the same fit) and statsmodels.
#include <catch2/catch.hpp>

#include "causal/did.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

using testing::LoadMpdta;
using testing::LoadSynthetic;
using testing::ReadReference;
using testing::RelativeError;

struct EsCase {
  const char* key;
  const char* file;  // "" = mpdta
  std::optional<int64_t> lo, hi;
};

const EsCase kCases[] = {
    {"mpdta.es", "", std::nullopt, std::nullopt},
    {"synth_balanced.es_binned", "synth_balanced.csv", -3, 3},
    {"synth_unbalanced.es", "synth_unbalanced.csv", std::nullopt, std::nullopt},
};

TEST_CASE("Event study coefficients, SEs and pre-trend Wald test match R",
          "[causal][event_study]") {
  const auto r = ReadReference("r_reference.txt");
  const auto sm = ReadReference("statsmodels_reference.txt");
  for (const EsCase& c : kCases) {
    INFO(c.key);
    const std::string key = c.key;
    DidOptions options;
    options.method = DidMethod::kEventStudy;
    options.min_event_time = c.lo;
    options.max_event_time = c.hi;
    Panel p = std::string(c.file).empty() ? LoadMpdta() : LoadSynthetic(c.file, false, false);
    auto result = EstimateDid(p, options);
    REQUIRE(result.ok());
    const DidSummary& s = result.value();
    int compared = 0;
    for (const EventTimeEstimate& e : s.event_time) {
      const std::string k = key + ".k" + std::to_string(e.event_time);
      if (e.reference) {
        CHECK(e.event_time == -1);
        CHECK(r.count(k + ".estimate") == 0);
        continue;
      }
      INFO(k);
      CHECK(RelativeError(e.inference.estimate, r.at(k + ".estimate")) < 1e-8);
      CHECK(RelativeError(e.inference.se, r.at(k + ".se")) < 1e-6);
      CHECK(RelativeError(e.inference.p, r.at(k + ".p")) < 1e-6);
      CHECK(RelativeError(e.inference.ci_lower, r.at(k + ".ci_lower")) < 1e-6);
      CHECK(RelativeError(e.inference.estimate, sm.at(k + ".estimate")) < 1e-8);
      CHECK(RelativeError(e.inference.se, sm.at(k + ".se")) < 1e-6);
      ++compared;
    }
    // Every R coefficient is present in ours.
    int in_r = 0;
    for (const auto& [k, v] : r) {
      if (k.rfind(key + ".k", 0) == 0 && k.size() > 9 && k.substr(k.size() - 9) == ".estimate")
        ++in_r;
    }
    CHECK(compared == in_r);
    REQUIRE(s.pretrend);
    CHECK(RelativeError(s.pretrend->statistic, r.at(key + ".wald.statistic")) < 1e-6);
    CHECK(s.pretrend->df == r.at(key + ".wald.df"));
    CHECK(RelativeError(s.pretrend->p, r.at(key + ".wald.p")) < 1e-6);
    CHECK(RelativeError(s.pretrend->f_p, r.at(key + ".wald.f_p")) < 1e-6);
    CHECK(RelativeError(s.att.estimate, r.at(key + ".att.estimate")) < 1e-8);
    CHECK(RelativeError(s.att.se, r.at(key + ".att.se")) < 1e-6);
  }
}

TEST_CASE("Event study on mpdta has leads -4..-2 and lags 0..3 around the reference",
          "[causal][event_study]") {
  DidOptions options;
  options.method = DidMethod::kEventStudy;
  auto result = EstimateDid(LoadMpdta(), options);
  REQUIRE(result.ok());
  std::vector<int64_t> ks;
  for (const auto& e : result.value().event_time) ks.push_back(e.event_time);
  CHECK(ks == std::vector<int64_t>{-4, -3, -2, -1, 0, 1, 2, 3});
  CHECK(result.value().pretrend->event_times == std::vector<int64_t>{-4, -3, -2});
  bool staggered = false;
  for (const auto& w : result.value().warnings) staggered |= (w.code == "staggered_timing");
  CHECK(staggered);
}

TEST_CASE("A reference period without treated rows is an error", "[causal][event_study]") {
  DidOptions options;
  options.method = DidMethod::kEventStudy;
  options.reference_period = -9;
  auto result = EstimateDid(LoadMpdta(), options);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().field == "reference_period");
}

}  // namespace
}  // namespace causeway::causal
