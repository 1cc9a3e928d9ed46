// Factorial designs against R (tests/reference/stats/factorial.R): lm coefficients,
// summary.lm SEs, sandwich::vcovHC(type = "HC1") SEs and anova() tables on R's npk
// data and on seeded 2x3 and 2x2x2 data (factorial_data.csv), whose cells' sufficient
// statistics the test forms itself; plus degenerate designs and seeded simulations.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fixtures.h"
#include "stats/factorial.h"

namespace causeway::stats {
namespace {

using testing::LoadFixture;

// Relative 1e-8 with an absolute floor of 1e-8 * floor.
bool Close(double actual, double expected, double floor = 1e-8) {
  return std::abs(actual - expected) <= 1e-8 * std::max(std::abs(expected), floor);
}

void Check(double actual, const nlohmann::json& expected, const std::string& what,
           double floor = 1e-8) {
  INFO(what << ": actual " << actual << ", R " << expected.dump());
  REQUIRE(!expected.is_null());
  CHECK(Close(actual, expected.get<double>(), floor));
}

void CompareWithR(const FactorialResult& r, const nlohmann::json& ref, bool check_robust) {
  REQUIRE(r.valid);
  const auto& coefs = ref["coefficients"];
  REQUIRE(r.coefficients.size() == coefs.size());
  for (size_t i = 0; i < coefs.size(); ++i) {
    const auto& c = coefs[i];
    const FactorialCoefficient& mine = r.coefficients[i];
    CAPTURE(mine.name);
    CHECK(mine.name == c["name"].get<std::string>());
    CHECK(mine.aliased == c["aliased"].get<bool>());
    if (mine.aliased) continue;
    // Estimates near 0 relative to the intercept's scale: absolute floor 1e-6 * 1e-8.
    Check(mine.estimate, c["estimate"], "estimate", 1e-6);
    Check(mine.std_error, c["std_error"], "std_error");
    Check(mine.t, c["t"], "t", 1e-6);
    Check(mine.p_value, c["p"], "p");
    if (!check_robust) continue;
    Check(mine.robust_std_error, c["robust_std_error"], "robust_std_error");
    Check(mine.robust_t, c["robust_t"], "robust_t", 1e-6);
    Check(mine.robust_p_value, c["robust_p"], "robust_p");
  }
  const auto& rows = ref["anova"];
  REQUIRE(r.anova.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(r.anova[i].term);
    CHECK(r.anova[i].term == rows[i]["term"].get<std::string>());
    CHECK(r.anova[i].df == rows[i]["df"].get<int>());
    Check(r.anova[i].sum_squares, rows[i]["ss"], "ss");
    Check(r.anova[i].mean_square, rows[i]["ms"], "ms");
    Check(r.anova[i].f, rows[i]["f"], "F");
    Check(r.anova[i].p_value, rows[i]["p"], "p");
  }
  CHECK(r.residual_df == ref["residual"]["df"].get<int>());
  Check(r.residual_sum_squares, ref["residual"]["ss"], "residual ss");
  Check(r.residual_variance, ref["residual"]["ms"], "residual ms");
}

void CompareContrasts(const FactorialResult& r, const nlohmann::json& contrasts) {
  REQUIRE(r.contrasts.size() == contrasts.size());
  for (size_t i = 0; i < contrasts.size(); ++i) {
    CAPTURE(i);
    CHECK(r.contrasts[i].levels == contrasts[i]["levels"].get<std::vector<int>>());
    CHECK(r.contrasts[i].estimable);
    Check(r.contrasts[i].estimate, contrasts[i]["estimate"], "contrast", 1e-6);
    Check(r.contrasts[i].std_error, contrasts[i]["std_error"], "contrast se");
    Check(r.contrasts[i].robust_std_error, contrasts[i]["robust_std_error"], "contrast robust se");
  }
}

FactorialInput SeededInput(const std::string& design) {
  std::ifstream in(std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/stats/factorial_data.csv");
  REQUIRE(in);
  FactorialInput input;
  if (design == "2x3") {
    input.factors = {{"headline", {"a", "b"}}, {"image", {"x", "y", "z"}}};
  } else {
    input.factors = {
        {"price", {"low", "high"}}, {"layout", {"old", "new"}}, {"badge", {"off", "on"}}};
  }
  std::map<std::vector<int>, MomentStats> cells;
  std::string line;
  std::getline(in, line);  // header: design,f1,f2,f3,y
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    REQUIRE(fields.size() == 5);
    if (fields[0] != design) continue;
    std::vector<int> levels;
    for (size_t j = 0; j < input.factors.size(); ++j) {
      const auto& names = input.factors[j].levels;
      const auto it = std::find(names.begin(), names.end(), fields[1 + j]);
      REQUIRE(it != names.end());
      levels.push_back(static_cast<int>(it - names.begin()));
    }
    cells[levels].Add(std::stod(fields[4]));
  }
  for (const auto& [levels, stats] : cells) input.cells.push_back({levels, {}, stats});
  return input;
}

FactorialTerms TermsNamed(const std::string& s) {
  if (s == "main") return FactorialTerms::kMainEffects;
  if (s == "two_way") return FactorialTerms::kTwoWay;
  return FactorialTerms::kFull;
}

TEST_CASE("Factorial: npk, yield ~ block + N*P*K, matches R's lm and anova", "[factorial]") {
  const auto& ref = LoadFixture("factorial.json")["npk"];
  FactorialInput input;
  input.blocks = {{"block", {"1", "2", "3", "4", "5", "6"}}};
  input.factors = {{"N", {"0", "1"}}, {"P", {"0", "1"}}, {"K", {"0", "1"}}};
  for (const auto& row : ref["rows_block_N_P_K_yield"]) {  // one plot per cell: n = 1
    MomentStats s;
    s.Add(row[4].get<double>());
    input.cells.push_back(
        {{row[1].get<int>(), row[2].get<int>(), row[3].get<int>()}, {row[0].get<int>()}, s});
  }
  FactorialOptions options;
  SECTION("N:P:K is confounded with blocks: invalid by default") {
    const FactorialResult r = AnalyzeFactorial(input, options);
    CHECK_FALSE(r.valid);
    CHECK(r.reason == "aliased (not estimable from the observed cells): N1:P1:K1");
  }
  SECTION("block + (N + P + K)^2: the full-rank fit, with HC1 and contrasts") {
    options.terms = FactorialTerms::kTwoWay;
    const FactorialResult r = AnalyzeFactorial(input, options);
    CompareWithR(r, ref["two_way"], true);
    CompareContrasts(r, ref["two_way"]["contrasts"]);
  }
  SECTION("allow_aliased drops N1:P1:K1 as lm does") {
    options.allow_aliased = true;
    const FactorialResult r = AnalyzeFactorial(input, options);
    CompareWithR(r, ref["full"], true);
    CHECK(r.rank == 12);
    CHECK(r.pure_error_sum_squares == 0.0);
    // In dummy coding a cell-vs-baseline difference is estimable within blocks only
    // if it does not load on the confounded N:P:K contrast, i.e. if both cells lie in
    // the same half of the 2^3 (same sign of the +-1 N*P*K product): the three cells
    // with exactly two factors on. E.g. "N alone" is the N main effect plus parts of
    // every interaction, N:P:K included: not estimable, although lm reports N1 = 9.85
    // (the coefficient of the model without N:P:K). Both models span the same columns,
    // so the estimable contrasts equal the two-way model's, checked against R.
    const auto& two_way = ref["two_way"]["contrasts"];
    REQUIRE(r.contrasts.size() == 7);
    for (size_t i = 0; i < r.contrasts.size(); ++i) {
      const CombinationContrast& c = r.contrasts[i];
      CAPTURE(i);
      const int on = c.levels[0] + c.levels[1] + c.levels[2];
      CHECK(c.estimable == (on == 2));
      if (!c.estimable) {
        CHECK(std::isnan(c.estimate));
        continue;
      }
      Check(c.estimate, two_way[i]["estimate"], "contrast", 1e-6);
      Check(c.std_error, two_way[i]["std_error"], "contrast se");
      Check(c.robust_std_error, two_way[i]["robust_std_error"], "contrast robust se");
    }
  }
}

TEST_CASE("Factorial: seeded 2x3 and 2x2x2 designs match lm, vcovHC(HC1) and anova",
          "[factorial]") {
  for (const auto& model : LoadFixture("factorial.json")["seeded"]) {
    const std::string design = model["design"];
    const std::string terms = model["terms"];
    CAPTURE(design, terms);
    const FactorialInput input = SeededInput(design);
    FactorialOptions options;
    options.terms = TermsNamed(terms);
    const FactorialResult r = AnalyzeFactorial(input, options);
    CHECK(r.n == model["n"].get<int64_t>());
    CompareWithR(r, model, true);
    CompareContrasts(r, model["contrasts"]);
  }
}

TEST_CASE("Factorial: full-model contrasts are differences of cell means", "[factorial]") {
  // Closed forms: estimate = ybar_c - ybar_0, classical SE = s sqrt(1/n_c + 1/n_0),
  // HC1 SE = sqrt(N/(N-p) (M2_c/n_c^2 + M2_0/n_0^2)).
  const FactorialInput input = SeededInput("2x3");
  const FactorialResult r = AnalyzeFactorial(input, FactorialOptions{});
  REQUIRE(r.valid);
  std::map<std::vector<int>, MomentStats> cells;
  for (const auto& c : input.cells) cells[c.levels] = c.stats;
  const MomentStats& base = cells.at({0, 0});
  const double scale = static_cast<double>(r.n) / r.residual_df;
  for (const CombinationContrast& c : r.contrasts) {
    const MomentStats& s = cells.at(c.levels);
    const double nc = static_cast<double>(s.n), n0 = static_cast<double>(base.n);
    CHECK(c.estimate == Approx(s.mean - base.mean).epsilon(1e-12));
    CHECK(c.std_error == Approx(std::sqrt(r.residual_variance * (1 / nc + 1 / n0))).epsilon(1e-12));
    CHECK(c.robust_std_error ==
          Approx(std::sqrt(scale * (s.m2 / (nc * nc) + base.m2 / (n0 * n0)))).epsilon(1e-12));
  }
}

FactorialInput TwoByTwo(std::vector<int64_t> sizes) {
  FactorialInput input;
  input.factors = {{"a", {"0", "1"}}, {"b", {"0", "1"}}};
  const std::vector<std::vector<int>> levels = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    MomentStats s;
    for (int64_t k = 0; k < sizes[i]; ++k) s.Add(static_cast<double>((k * 7 + i) % 5));
    input.cells.push_back({levels[i], {}, s});
  }
  return input;
}

TEST_CASE("Factorial: degenerate designs are invalid with a reason", "[factorial]") {
  FactorialOptions options;
  struct Case {
    const char* what;
    FactorialInput input;
    FactorialTerms terms;
    bool allow_aliased;
    std::string reason;
  };
  FactorialInput no_factor;
  FactorialInput one_level = TwoByTwo({5, 5, 5, 5});
  one_level.factors[1].levels = {"0"};
  FactorialInput bad_level = TwoByTwo({5, 5, 5, 5});
  bad_level.cells[3].levels = {1, 2};
  FactorialInput bad_m2 = TwoByTwo({5, 5, 5, 5});
  bad_m2.cells[1].stats.m2 = -1.0;
  FactorialInput constant = TwoByTwo({5, 5, 5, 5});
  for (auto& c : constant.cells) c.stats.m2 = 0.0, c.stats.mean = 1.0;
  const std::vector<Case> cases = {
      {"no factors", no_factor, FactorialTerms::kFull, false, "no treatment factors"},
      {"one level", one_level, FactorialTerms::kFull, false, "factor b needs at least 2 levels"},
      {"level out of range", bad_level, FactorialTerms::kFull, false,
       "a cell has a level index outside factor b"},
      {"negative M2", bad_m2, FactorialTerms::kFull, false,
       "a cell has invalid moments (n < 0, non-finite mean or M2 < 0)"},
      {"empty baseline", TwoByTwo({0, 5, 5, 5}), FactorialTerms::kFull, false,
       "the all-baseline combination has no users"},
      {"missing cell, full model", TwoByTwo({5, 5, 5, 0}), FactorialTerms::kFull, false,
       "aliased (not estimable from the observed cells): a1:b1"},
      {"n <= p", TwoByTwo({1, 1, 1, 1}), FactorialTerms::kFull, false,
       "n <= p: no more users than coefficients"},
      {"no residual variation", constant, FactorialTerms::kMainEffects, false,
       "no residual variation"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    options.terms = c.terms;
    options.allow_aliased = c.allow_aliased;
    const FactorialResult r = AnalyzeFactorial(c.input, options);
    CHECK_FALSE(r.valid);
    CHECK(r.reason == c.reason);
    CHECK(r.coefficients.empty());
  }
  options = FactorialOptions{};
  options.alpha = 1.5;
  CHECK(AnalyzeFactorial(TwoByTwo({5, 5, 5, 5}), options).reason == "alpha must be in (0, 1)");
}

TEST_CASE("Factorial: a missing cell with allow_aliased keeps the estimable parts", "[factorial]") {
  FactorialOptions options;
  options.allow_aliased = true;
  const FactorialResult r = AnalyzeFactorial(TwoByTwo({6, 7, 8, 0}), options);
  REQUIRE(r.valid);
  REQUIRE(r.coefficients.size() == 4);
  CHECK(r.coefficients[3].aliased);
  CHECK(std::isnan(r.coefficients[3].estimate));
  CHECK(r.rank == 3);
  REQUIRE(r.contrasts.size() == 2);  // only observed combinations
  CHECK(r.contrasts[0].estimable);
  CHECK(r.contrasts[1].estimable);
  // The main-effects model fits the three cells exactly: lack of fit 0.
  CHECK(r.residual_sum_squares == Approx(r.pure_error_sum_squares).epsilon(1e-12));
}

// ---- Seeded simulations ------------------------------------------------------------

// Draws y for a 2x3 design: normal errors with a cell-specific SD, unequal sizes, and
// forms the cells' moments.
FactorialInput Simulate2x3(std::mt19937_64& rng, const double (&means)[6], const double (&sds)[6],
                           const int (&sizes)[6]) {
  FactorialInput input;
  input.factors = {{"a", {"0", "1"}}, {"b", {"0", "1", "2"}}};
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int c = 0; c < 6; ++c) {
    MomentStats s;
    for (int i = 0; i < sizes[c]; ++i) s.Add(means[c] + sds[c] * normal(rng));
    input.cells.push_back({{c % 2, c / 2}, {}, s});
  }
  return input;
}

TEST_CASE("Factorial: robust 95% intervals cover the true effects", "[factorial][slow]") {
  // Cells in grid order (a fastest): (0,0) (1,0) (0,1) (1,1) (0,2) (1,2).
  // True coefficients: intercept 1, a1 0.3, b1 -0.2, b2 0.5, a1:b1 0.4, a1:b2 -0.6.
  const double truth[6] = {1.0, 0.3, -0.2, 0.5, 0.4, -0.6};
  double means[6];
  for (int c = 0; c < 6; ++c) {
    const int a = c % 2, b = c / 2;
    means[c] = truth[0] + a * truth[1] + (b == 1) * truth[2] + (b == 2) * truth[3] +
               (a && b == 1) * truth[4] + (a && b == 2) * truth[5];
  }
  const double sds[6] = {1.0, 2.0, 0.5, 3.0, 1.5, 0.8};  // heteroscedastic
  const int sizes[6] = {300, 80, 150, 60, 200, 120};
  std::mt19937_64 rng(20261207);
  const int kReps = 1000;
  int covered[6] = {};
  int covered_classical_a1b1 = 0;
  for (int rep = 0; rep < kReps; ++rep) {
    const FactorialResult r =
        AnalyzeFactorial(Simulate2x3(rng, means, sds, sizes), FactorialOptions{});
    REQUIRE(r.valid);
    for (int j = 0; j < 6; ++j) {
      const FactorialCoefficient& c = r.coefficients[j];
      covered[j] += c.robust_lower <= truth[j] && truth[j] <= c.robust_upper;
    }
    const FactorialCoefficient& c = r.coefficients[4];
    covered_classical_a1b1 += std::abs(c.estimate - truth[4]) <= 1.96 * c.std_error;
  }
  // 3 Monte Carlo SE of a 95% rate over 1000 replications: 3 sqrt(.95 .05 / 1000) = 0.0207.
  const double mc = 3.0 * std::sqrt(0.95 * 0.05 / kReps);
  for (int j = 0; j < 6; ++j) {
    CAPTURE(j, covered[j]);
    CHECK(std::abs(covered[j] / static_cast<double>(kReps) - 0.95) <= mc);
  }
  // With these unequal sizes and SDs the classical SE of a1:b1 is too small: the
  // classical interval under-covers, which is why the report uses HC1.
  CHECK(covered_classical_a1b1 / static_cast<double>(kReps) < 0.95 - mc);
}

TEST_CASE("Factorial: A/A factorial rejects at most alpha per test", "[factorial][slow]") {
  const double means[6] = {2.0, 2.0, 2.0, 2.0, 2.0, 2.0};
  const double sds[6] = {1.0, 2.0, 0.5, 3.0, 1.5, 0.8};
  const int sizes[6] = {300, 80, 150, 60, 200, 120};
  std::mt19937_64 rng(7);
  const int kReps = 1000;
  int rejected[6] = {};  // a1, b1, b2, a1:b1, a1:b2, and the (1,2) vs (0,0) contrast
  for (int rep = 0; rep < kReps; ++rep) {
    const FactorialResult r =
        AnalyzeFactorial(Simulate2x3(rng, means, sds, sizes), FactorialOptions{});
    REQUIRE(r.valid);
    for (int j = 1; j < 6; ++j) rejected[j - 1] += r.coefficients[j].robust_p_value < 0.05;
    rejected[5] += r.contrasts.back().robust_p_value < 0.05;
  }
  const double mc = 3.0 * std::sqrt(0.05 * 0.95 / kReps);  // 0.0207
  for (int j = 0; j < 6; ++j) {
    CAPTURE(j, rejected[j]);
    CHECK(rejected[j] / static_cast<double>(kReps) <= 0.05 + mc);
  }
}

}  // namespace
}  // namespace causeway::stats
