// SRM chi-square (scipy.stats.chisquare) and p-value adjustments (statsmodels
// multipletests) against tests/reference/stats/fixtures.json.
#include <catch2/catch.hpp>

#include "fixtures.h"
#include "stats/multiple_testing.h"
#include "stats/srm.h"

namespace causeway::stats {
namespace {

using testing::LoadFixture;

TEST_CASE("SampleRatioMismatch matches scipy.stats.chisquare", "[stats][srm]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["srm"]) {
    CAPTURE(index++);
    const SrmResult r = SampleRatioMismatch(c["counts"].get<std::vector<int64_t>>(),
                                            c["weights"].get<std::vector<double>>());
    REQUIRE(r.valid);
    CHECK(r.chi_square ==
          Approx(c["expected"]["chi_square"].get<double>()).epsilon(1e-10).margin(1e-14));
    CHECK(r.df == c["expected"]["df"].get<int>());
    const double p = c["expected"]["p_value"];
    CHECK(r.p_value == Approx(p).epsilon(1e-9).margin(1e-15));
    CHECK(r.mismatch == (p < 0.001));
  }
}

TEST_CASE("SampleRatioMismatch flags at p < 0.001 and rejects bad input", "[stats][srm]") {
  // 10000 vs 10500 at 50/50: X^2 = 12.195, p = 4.8e-4 (chi^2_1), flagged.
  CHECK(SampleRatioMismatch({10000, 10500}, {1, 1}).mismatch);
  CHECK_FALSE(SampleRatioMismatch({10000, 10100}, {1, 1}).mismatch);
  CHECK_FALSE(SampleRatioMismatch({10, -1}, {1, 1}).valid);
  CHECK_FALSE(SampleRatioMismatch({10, 10}, {1, 0}).valid);
  CHECK_FALSE(SampleRatioMismatch({10}, {1}).valid);
  CHECK_FALSE(SampleRatioMismatch({0, 0}, {1, 1}).valid);
}

TEST_CASE("AdjustPValues matches statsmodels multipletests", "[stats][multiple]") {
  int index = 0;
  for (const auto& c : LoadFixture("fixtures.json")["multiple_testing"]) {
    CAPTURE(index++);
    const auto p = c["p"].get<std::vector<double>>();
    const auto holm = AdjustPValues(p, Correction::kHolm);
    const auto bh = AdjustPValues(p, Correction::kBenjaminiHochberg);
    const auto want_holm = c["holm"].get<std::vector<double>>();
    const auto want_bh = c["benjamini_hochberg"].get<std::vector<double>>();
    REQUIRE(holm.size() == p.size());
    for (size_t i = 0; i < p.size(); ++i) {
      CHECK(holm[i] == Approx(want_holm[i]).epsilon(1e-12));
      CHECK(bh[i] == Approx(want_bh[i]).epsilon(1e-12));
    }
    CHECK(AdjustPValues(p, Correction::kNone) == p);
  }
}

}  // namespace
}  // namespace causeway::stats
