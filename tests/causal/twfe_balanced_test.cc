// The balanced two-pass TWFE route (fe_ols.cc, FitBalanced) against the general route
// (alternating projections on materialised columns), which the R and statsmodels
// fixtures pin down. Unit weights of 1 force the general route on the same model. Also
// the row layouts IndexPanel takes a shortcut for, and thread counts.
#include <algorithm>
#include <numeric>
#include <random>

#include <catch2/catch.hpp>

#include "causal/did.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

using testing::RelativeError;

// Staggered panel: unit and time effects, cohorts starting at several periods (and never),
// effects growing with exposure, covariates varying by unit and time. Rows grouped by unit.
Panel MakePanel(int units, int periods, int covariates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int> cohort(0, 4);
  Panel p;
  p.covariates.resize(covariates);
  for (int j = 0; j < covariates; ++j) p.covariate_names.push_back("x" + std::to_string(j + 1));
  for (int i = 0; i < units; ++i) {
    const int c = cohort(rng);
    const int64_t start = c == 0 ? kNeverTreated : 1 + c * periods / 5;
    const double alpha = noise(rng);
    for (int t = 1; t <= periods; ++t) {
      double y = alpha + 0.05 * t + (t >= start ? 1.0 + 0.1 * (t - start) : 0.0) + noise(rng);
      for (int j = 0; j < covariates; ++j) {
        const double x = noise(rng) + 0.3 * j * t / periods;
        p.covariates[j].push_back(x);
        y += 0.5 * (j + 1) * x;
      }
      p.unit.push_back(i);
      p.time.push_back(t);
      p.outcome.push_back(y);
      p.treatment_start.push_back(start);
    }
  }
  return p;
}

Panel Permuted(const Panel& p, uint64_t seed) {
  std::vector<size_t> order(p.rows());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  auto apply = [&](auto& column) {
    if (column.empty()) return;
    auto copy = column;
    for (size_t r = 0; r < order.size(); ++r) column[r] = copy[order[r]];
  };
  Panel q = p;
  apply(q.unit);
  apply(q.time);
  apply(q.outcome);
  apply(q.treatment_start);
  apply(q.treated);
  apply(q.post);
  for (auto& x : q.covariates) apply(x);
  return q;
}

DidSummary Twfe(const Panel& p, int threads = 0) {
  DidOptions options;
  options.threads = threads;
  auto r = EstimateTwfe(p, options);
  if (!r.ok()) FAIL(r.error().field + ": " + r.error().message);
  return r.value();
}

// The general route on the same model: every row weighs 1.
DidSummary TwfeGeneral(Panel p) {
  p.weight.assign(p.rows(), 1.0);
  return Twfe(p);
}

void RequireSame(const DidSummary& got, const DidSummary& want, double tolerance) {
  REQUIRE(got.coefficients.size() == want.coefficients.size());
  for (size_t j = 0; j < want.coefficients.size(); ++j) {
    INFO(want.coefficients[j].name);
    CHECK(got.coefficients[j].name == want.coefficients[j].name);
    CHECK(RelativeError(got.coefficients[j].inference.estimate,
                        want.coefficients[j].inference.estimate) < tolerance);
    CHECK(RelativeError(got.coefficients[j].inference.se, want.coefficients[j].inference.se) <
          tolerance);
  }
  CHECK(got.parameters == want.parameters);
  CHECK(got.clusters == want.clusters);
  CHECK(got.observations == want.observations);
}

TEST_CASE("The balanced route equals the general route", "[causal][twfe]") {
  for (int covariates = 0; covariates <= 4; ++covariates) {
    INFO("covariates " << covariates);
    const Panel p = MakePanel(60, 12, covariates, 7 + covariates);
    const DidSummary fast = Twfe(p);
    CHECK(fast.demean_iterations == 1);
    RequireSame(fast, TwfeGeneral(p), 1e-9);
  }
}

TEST_CASE("The balanced route does not depend on row order or id sparsity", "[causal][twfe]") {
  const Panel p = MakePanel(50, 10, 2, 11);
  const DidSummary grouped = Twfe(p);
  RequireSame(Twfe(Permuted(p, 3)), grouped, 1e-10);
  Panel sparse = p;
  for (int64_t& u : sparse.unit) u = u * (int64_t{1} << 40) - 5;  // hash-mapped ids
  for (int64_t& t : sparse.time) t = 2000 + 7 * t;
  for (int64_t& s : sparse.treatment_start) {
    if (s != kNeverTreated) s = 2000 + 7 * s;
  }
  RequireSame(Twfe(sparse), grouped, 1e-10);
  RequireSame(Twfe(Permuted(sparse, 4)), grouped, 1e-10);
}

TEST_CASE("The balanced route handles 2x2 flags and drops collinear covariates", "[causal][twfe]") {
  Panel p = MakePanel(40, 8, 1, 5);
  // Flags: units with an odd id are treated from period 5.
  p.treated.clear();
  p.post.clear();
  for (size_t r = 0; r < p.rows(); ++r) {
    p.treated.push_back(p.unit[r] % 2);
    p.post.push_back(p.time[r] >= 5);
  }
  p.treatment_start.clear();
  // A covariate constant within units is absorbed by the unit effects.
  p.covariates.push_back({});
  p.covariate_names.push_back("region");
  for (size_t r = 0; r < p.rows(); ++r) p.covariates.back().push_back(p.unit[r] % 3);
  const DidSummary fast = Twfe(p);
  RequireSame(fast, TwfeGeneral(p), 1e-9);
  bool dropped = false;
  for (const Warning& w : fast.warnings) dropped |= w.code == "collinear_dropped";
  CHECK(dropped);
  CHECK(fast.coefficients.size() == 2);
}

TEST_CASE("Threads change nothing but the order of sums", "[causal][twfe][slow]") {
  // 800 000 rows: three chunks of 2^18+ rows, whose bounds split units' runs.
  const Panel p = MakePanel(4000, 200, 1, 21);
  const DidSummary one = Twfe(p, 1);
  for (int threads : {2, 3, 5}) {
    INFO("threads " << threads);
    RequireSame(Twfe(p, threads), one, 1e-11);
  }
  RequireSame(Twfe(Permuted(p, 8), 2), one, 1e-10);
  DidOptions bad;
  bad.threads = -1;
  auto r = EstimateTwfe(p, bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().field == "options");
}

TEST_CASE("IndexPanel checks grouped and scattered layouts alike", "[causal][panel]") {
  Panel p;
  // Unit 1 in two runs (rows 0-1 and 4-5), unit 2 with descending times.
  p.unit = {1, 1, 2, 2, 1, 1};
  p.time = {1, 2, 3, 1, 3, 4};
  p.outcome = {1, 2, 3, 4, 5, 6};
  p.treatment_start = {3, 3, kNeverTreated, kNeverTreated, 3, 3};
  auto ok = IndexPanel(p);
  REQUIRE(ok.ok());
  CHECK(ok.value().rows_per_unit == std::vector<int32_t>{4, 2});
  CHECK_FALSE(ok.value().balanced);

  Panel dup = p;
  dup.time[5] = 2;  // unit 1, time 2 again, in its second run
  auto d = IndexPanel(dup);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "duplicate (unit, time) row: unit 1, time 2");

  Panel varies = p;
  varies.treatment_start[1] = 4;  // inside unit 1's first, grouped run
  auto v = IndexPanel(varies);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().field == "treatment_start");

  Panel backwards = p;
  backwards.time = {2, 1, 3, 1, 4, 3};  // no duplicates, times out of order
  REQUIRE(IndexPanel(backwards).ok());

  // On-demand row indices: tables instead of per-row vectors, same answers.
  auto lazy = IndexPanel(p, RowIndices::kOnDemand);
  REQUIRE(lazy.ok());
  CHECK_FALSE(lazy.value().has_row_indices());
  for (size_t r = 0; r < p.rows(); ++r) {
    CHECK(lazy.value().UnitOf(p.unit[r]) == ok.value().unit_index[r]);
    CHECK(lazy.value().TimeOf(p.time[r]) == ok.value().time_index[r]);
  }
  MaterializeRowIndices(p, &lazy.value());
  CHECK(lazy.value().unit_index == ok.value().unit_index);
  CHECK(lazy.value().time_index == ok.value().time_index);
}

TEST_CASE("IndexPanel finds grouped layouts across thread chunks", "[causal][panel][slow]") {
  // Two units of 600 000 periods each: with 4 chunks of 300 000 rows, the second chunk
  // lies inside unit 0's run and starts no run of its own.
  Panel p;
  const int64_t periods = 600000;
  for (int64_t u = 0; u < 2; ++u) {
    for (int64_t t = 0; t < periods; ++t) {
      p.unit.push_back(u);
      p.time.push_back(t);
      p.outcome.push_back(static_cast<double>((u * 7 + t * 13) % 17));
      p.treatment_start.push_back(u == 0 ? periods / 2 : kNeverTreated);
    }
  }
  for (int threads : {1, 4}) {
    INFO("threads " << threads);
    auto ix = IndexPanel(p, RowIndices::kOnDemand, threads);
    REQUIRE(ix.ok());
    CHECK(ix.value().grouped());
    CHECK(ix.value().run_units == std::vector<int32_t>{0, 1});
    CHECK(ix.value().rows_per_unit == std::vector<int32_t>{600000, 600000});
    CHECK(ix.value().unit_start == std::vector<int64_t>{periods / 2, kNeverTreated});
  }
  // Unit 0 again after unit 1: not grouped, still valid.
  Panel split = p;
  std::swap(split.unit[0], split.unit[p.rows() - 1]);
  std::swap(split.time[0], split.time[p.rows() - 1]);
  std::swap(split.treatment_start[0], split.treatment_start[p.rows() - 1]);
  auto ix = IndexPanel(split, RowIndices::kOnDemand, 4);
  REQUIRE(ix.ok());
  CHECK_FALSE(ix.value().grouped());
  CHECK(ix.value().balanced);
  // A duplicate hidden in the middle chunk is still found.
  Panel dup = p;
  dup.time[400000] = 399999;
  auto d = IndexPanel(dup, RowIndices::kOnDemand, 4);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "duplicate (unit, time) row: unit 0, time 399999");
}

}  // namespace
}  // namespace causeway::causal
