#include "causal/fe_ols.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "causal/parallel.h"

namespace causeway::causal {
namespace {

struct Demeaner {
  const PanelIndex& ix;
  const std::vector<double>& w;  // empty: unweighted
  std::vector<double> unit_w, time_w;
  std::vector<double> unit_sum, time_sum;

  Demeaner(const PanelIndex& index, const std::vector<double>& weight) : ix(index), w(weight) {
    unit_w.assign(ix.units(), 0.0);
    time_w.assign(ix.periods(), 0.0);
    const size_t n = ix.unit_index.size();
    for (size_t r = 0; r < n; ++r) {
      const double wr = w.empty() ? 1.0 : w[r];
      unit_w[ix.unit_index[r]] += wr;
      time_w[ix.time_index[r]] += wr;
    }
  }

  // Projects v off the unit and time dummies; returns sweeps used, negative if the
  // tolerance was not reached.
  int Run(double* v, double tolerance, int max_iterations) {
    const size_t n = ix.unit_index.size();
    const int32_t* u = ix.unit_index.data();
    const int32_t* t = ix.time_index.data();
    double scale = 0;
    for (size_t r = 0; r < n; ++r) scale += v[r] * v[r];
    scale = std::sqrt(scale / static_cast<double>(n));
    if (scale == 0) return 0;
    const double* wr = w.empty() ? nullptr : w.data();
    for (int it = 0; it <= max_iterations; ++it) {
      unit_sum.assign(unit_w.size(), 0.0);
      if (wr) {
        for (size_t r = 0; r < n; ++r) unit_sum[u[r]] += wr[r] * v[r];
      } else {
        for (size_t r = 0; r < n; ++r) unit_sum[u[r]] += v[r];
      }
      double max_mean = 0;
      for (size_t g = 0; g < unit_sum.size(); ++g) {
        unit_sum[g] /= unit_w[g];
        max_mean = std::max(max_mean, std::fabs(unit_sum[g]));
      }
      if (it > 0 && max_mean <= tolerance * scale) return it;
      if (it == max_iterations) break;
      for (size_t r = 0; r < n; ++r) v[r] -= unit_sum[u[r]];
      time_sum.assign(time_w.size(), 0.0);
      if (wr) {
        for (size_t r = 0; r < n; ++r) time_sum[t[r]] += wr[r] * v[r];
      } else {
        for (size_t r = 0; r < n; ++r) time_sum[t[r]] += v[r];
      }
      for (size_t s = 0; s < time_sum.size(); ++s) time_sum[s] /= time_w[s];
      for (size_t r = 0; r < n; ++r) v[r] -= time_sum[t[r]];
    }
    return -max_iterations;
  }
};

// The part shared by both routes: greedy rank detection in input order with an
// incremental Cholesky factor (column j is kept unless its squared residual on the kept
// columns is below 1e-10 of its squared norm before demeaning, i.e. it is collinear with
// the FE or earlier columns), beta from the kept block, and CR1 from the cluster scores
// that `scores(kept, beta)` returns (units x kept).
template <class Scores>
Result<ClusteredFit> Solve(ClusteredFit fit, const Eigen::MatrixXd& gram,
                           const Eigen::VectorXd& xty, const std::vector<double>& norm2,
                           const std::vector<std::string>& names, const PanelIndex& ix,
                           bool absorb_two_way, const DidOptions& options, Scores&& scores) {
  const Eigen::Index k = gram.cols();
  std::vector<Eigen::Index> kept;
  Eigen::MatrixXd chol = Eigen::MatrixXd::Zero(k, k);  // lower factor of kept block
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
    Eigen::VectorXd c(m);
    for (Eigen::Index a = 0; a < m; ++a) c(a) = gram(kept[a], j);
    Eigen::VectorXd z = c;
    if (m > 0) chol.topLeftCorner(m, m).triangularView<Eigen::Lower>().solveInPlace(z);
    const double resid = gram(j, j) - z.squaredNorm();
    if (!(resid > 1e-10 * norm2[j]) || norm2[j] == 0) {
      fit.dropped.push_back(names[j]);
      continue;
    }
    chol.block(m, 0, 1, m) = z.transpose();
    chol(m, m) = std::sqrt(resid);
    kept.push_back(j);
  }
  if (kept.empty()) {
    return InsufficientData("panel",
                            "no regressor can be estimated: the treatment indicator is collinear "
                            "with the fixed effects (no variation in treatment timing to compare)");
  }
  const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd gk(m, m);
  Eigen::VectorXd bk(m);
  for (Eigen::Index a = 0; a < m; ++a) {
    bk(a) = xty(kept[a]);
    for (Eigen::Index b = 0; b < m; ++b) gk(a, b) = gram(kept[a], kept[b]);
    fit.names.push_back(names[kept[a]]);
  }
  Eigen::LLT<Eigen::MatrixXd> llt(gk);
  if (llt.info() != Eigen::Success)
    return InsufficientData("panel", "the design matrix is singular");
  fit.beta = llt.solve(bk);
  const Eigen::MatrixXd bread = llt.solve(Eigen::MatrixXd::Identity(m, m));
  const Eigen::MatrixXd s = scores(kept, fit.beta);
  const Eigen::MatrixXd meat = s.transpose() * s;

  int64_t fe_rank = 0;
  if (absorb_two_way) fe_rank = ix.units() + ix.periods() - ix.connected_components;
  fit.parameters = m + (options.fe_dof == FixedEffectDof::kAllFixedEffects ? fe_rank : 0);
  const int64_t n = fit.observations;
  if (n <= fit.parameters) {
    return InsufficientData("panel", "not enough observations (" + std::to_string(n) + ") for " +
                                         std::to_string(fit.parameters) + " parameters");
  }
  const double g = static_cast<double>(fit.clusters);
  const double c = g / (g - 1) * (static_cast<double>(n) - 1) /
                   (static_cast<double>(n) - static_cast<double>(fit.parameters));
  fit.vcov = c * bread * meat * bread;
  return fit;
}

// Row access for the balanced route: the unit and time index of a row, where the run of
// rows of one unit that starts at a row ends, and regressor j of a row (the treatment
// indicator, then the covariates). Held by value in the loops so that the compiler keeps
// the pointers in registers across stores to the accumulators.
template <int K>
struct BalancedRows {
  // Unit and time indices: materialised, or looked up in the direct tables.
  const int32_t* unit_index = nullptr;
  const int32_t* time_index = nullptr;
  const int64_t* unit = nullptr;
  const int64_t* time = nullptr;
  const int32_t* unit_table = nullptr;
  const int32_t* time_table = nullptr;
  int64_t unit_lo = 0, time_lo = 0;
  // Grouped layout (PanelIndex::run_units): run k is unit run_units[k], rows
  // [k * periods, (k + 1) * periods) at time indices 0..periods-1; no id is read.
  const int32_t* run_units = nullptr;
  size_t periods = 0;
  size_t n = 0;
  // Treatment: t >= start_index[unit] (the first time index at or after the unit's
  // treatment start), or treated * post.
  const int32_t* start_index = nullptr;
  const uint8_t* treated = nullptr;
  const uint8_t* post = nullptr;
  std::array<const double*, K> covariate{};  // [0] unused

  // REQUIRES: r is the first row of a run.
  int32_t Unit(size_t r) const {
    if (run_units) return run_units[r / periods];
    return unit_index ? unit_index[r] : unit_table[static_cast<size_t>(unit[r] - unit_lo)];
  }
  // Time index of row i in the run that starts at row r.
  int32_t Time(size_t i, size_t r) const {
    if (run_units) return static_cast<int32_t>(i - r);
    return time_index ? time_index[i] : time_table[static_cast<size_t>(time[i] - time_lo)];
  }
  // First row after r (at most end) of another unit than row r.
  // REQUIRES: r is the first row of a run.
  size_t RunEnd(size_t r, size_t end) const {
    if (run_units) return std::min(r + periods, end);
    size_t e = r + 1;
    if (unit_index) {
      while (e < end && unit_index[e] == unit_index[r]) ++e;
    } else {
      while (e < end && unit[e] == unit[r]) ++e;
    }
    return e;
  }
  double Regressor(int j, size_t i, int32_t u, int32_t t) const {
    if (j > 0) return covariate[j][i];
    return treated ? static_cast<double>(treated[i] & post[i])
                   : static_cast<double>(t >= start_index[u]);
  }
};

// Calls row(l, i) for the rows [begin, end) of one run, l cycling over L accumulator
// slots so that consecutive additions to a unit's sums do not wait on one another.
template <int L, class Row>
__attribute__((always_inline)) inline void Interleave(size_t begin, size_t end, Row&& row) {
  size_t i = begin;
  for (; i + L <= end; i += L) {
#pragma GCC unroll 4
    for (int l = 0; l < L; ++l) row(l, i + static_cast<size_t>(l));
  }
  for (; i < end; ++i) row(0, i);
}

// The balanced, unweighted two-way route with K regressors. Rows are visited twice and
// nothing of size N is allocated:
//   1. unit and time sums of y and every x;
//   2. per unit, the cross-products of the demeaned data z = v - vbar_i - vbar_t + vbar
//      (exact for a balanced panel): A_i = sum_t zx zx', b_i = sum_t zx zy.
// Then X'X = sum_i A_i, X'y = sum_i b_i, and the CR1 score of unit i is
// s_i = sum_t zx_it e_it = b_i - A_i beta, so no residual pass is needed. Both passes go
// run by run (the rows of one unit, consecutive in the usual layout) and interleave L
// rows over separate accumulators, so the additions do not wait on one another.
template <int K>
Result<ClusteredFit> FitBalanced(const PanelIndex& ix, const BalancedRows<K> rows, const double* y,
                                 const std::vector<std::string>& names, const DidOptions& options) {
  constexpr int C = K + 1;           // y, then the regressors
  constexpr int S = K * K + K;       // A_i (K x K, upper triangle used) then b_i
  constexpr int L = K == 1 ? 4 : 2;  // interleaved accumulators
  const size_t n = rows.n;
  const size_t units = static_cast<size_t>(ix.units()), periods = static_cast<size_t>(ix.periods());
  ClusteredFit fit;
  fit.observations = static_cast<int64_t>(n);
  fit.clusters = ix.units();
  fit.iterations = 1;
  if (fit.clusters < 2)
    return InsufficientData("panel", "cluster-robust errors need at least 2 units");

  // Large panels split the rows across cores; every chunk has its own per-unit
  // accumulators (capped so that they take no more memory than one column of the panel).
  const unsigned chunks = static_cast<unsigned>(
      std::min<size_t>(ChunkCount(n, options.threads), std::max<size_t>(1, n / (units * S))));
  std::vector<size_t> bounds = ChunkBounds(n, chunks);
  if (rows.run_units) {
    for (size_t& b : bounds) b -= b % periods;  // chunks start at a run
  }

  struct Sums {
    std::vector<double> unit, time;
    std::array<double, K> norm2{};
  };
  // Buffers are allocated here, not in the threads: a thread's first allocation would
  // otherwise set up a malloc arena (and page-fault it in) on every call.
  std::vector<Sums> sums(chunks);
  for (Sums& out : sums) {
    out.unit.assign(units * C, 0.0);
    out.time.assign(periods * C, 0.0);
  }
  RunChunks(bounds, [&](unsigned chunk, size_t begin, size_t end) {
    Sums& out = sums[chunk];
    for (size_t r = begin; r < end;) {
      const size_t e = rows.RunEnd(r, end);
      const int32_t u = rows.Unit(r);
      double acc[L][C] = {};
      double sq[L][K] = {};
      auto row = [&](int l, size_t i) __attribute__((always_inline)) {
        const int32_t t = rows.Time(i, r);
        double* ts = &out.time[static_cast<size_t>(t) * C];
        acc[l][0] += y[i];
        ts[0] += y[i];
#pragma GCC unroll 4
        for (int j = 0; j < K; ++j) {
          const double v = rows.Regressor(j, i, u, t);
          acc[l][j + 1] += v;
          ts[j + 1] += v;
          sq[l][j] += v * v;
        }
      };
      Interleave<L>(r, e, row);
      double* um = &out.unit[static_cast<size_t>(u) * C];
      for (int l = 0; l < L; ++l) {
        for (int c = 0; c < C; ++c) um[c] += acc[l][c];
        for (int j = 0; j < K; ++j) out.norm2[j] += sq[l][j];
      }
      r = e;
    }
  });
  std::vector<double> unit_mean = std::move(sums[0].unit), time_mean = std::move(sums[0].time);
  std::array<double, K> norm2 = sums[0].norm2;
  for (unsigned chunk = 1; chunk < chunks; ++chunk) {
    for (size_t a = 0; a < unit_mean.size(); ++a) unit_mean[a] += sums[chunk].unit[a];
    for (size_t a = 0; a < time_mean.size(); ++a) time_mean[a] += sums[chunk].time[a];
    for (int j = 0; j < K; ++j) norm2[j] += sums[chunk].norm2[j];
  }
  std::array<double, C> total{};
  for (size_t u = 0; u < units; ++u) {
    for (int c = 0; c < C; ++c) {
      total[c] += unit_mean[u * C + c];
      unit_mean[u * C + c] /= static_cast<double>(periods);
    }
  }
  // time_mean holds vbar_t - vbar, so z = v - unit_mean - time_mean.
  for (size_t t = 0; t < periods; ++t) {
    for (int c = 0; c < C; ++c) {
      time_mean[t * C + c] =
          time_mean[t * C + c] / static_cast<double>(units) - total[c] / static_cast<double>(n);
    }
  }

  std::vector<std::vector<double>> crosses(chunks, std::vector<double>(units * S, 0.0));
  RunChunks(bounds, [&](unsigned chunk, size_t begin, size_t end) {
    std::vector<double>& out = crosses[chunk];
    for (size_t r = begin; r < end;) {
      const size_t e = rows.RunEnd(r, end);
      const int32_t u = rows.Unit(r);
      const double* um = &unit_mean[static_cast<size_t>(u) * C];
      double acc[L][S] = {};
      auto row = [&](int l, size_t i) __attribute__((always_inline)) {
        const int32_t t = rows.Time(i, r);
        const double* tm = &time_mean[static_cast<size_t>(t) * C];
        double z[C];
        z[0] = y[i] - um[0] - tm[0];
#pragma GCC unroll 4
        for (int j = 0; j < K; ++j) z[j + 1] = rows.Regressor(j, i, u, t) - um[j + 1] - tm[j + 1];
#pragma GCC unroll 4
        for (int a = 0; a < K; ++a) {
#pragma GCC unroll 4
          for (int b = a; b < K; ++b) acc[l][a * K + b] += z[a + 1] * z[b + 1];
          acc[l][K * K + a] += z[a + 1] * z[0];
        }
      };
      Interleave<L>(r, e, row);
      double* cu = &out[static_cast<size_t>(u) * S];
      for (int l = 0; l < L; ++l) {
        for (int a = 0; a < S; ++a) cu[a] += acc[l][a];
      }
      r = e;
    }
  });
  std::vector<double> cross = std::move(crosses[0]);
  for (unsigned chunk = 1; chunk < chunks; ++chunk) {
    for (size_t a = 0; a < cross.size(); ++a) cross[a] += crosses[chunk][a];
  }
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(K, K);
  Eigen::VectorXd xty = Eigen::VectorXd::Zero(K);
  for (size_t u = 0; u < units; ++u) {
    double* cu = &cross[u * S];
    for (int a = 0; a < K; ++a) {
      for (int b = a + 1; b < K; ++b) cu[b * K + a] = cu[a * K + b];
    }
    for (int a = 0; a < K; ++a) {
      for (int b = 0; b < K; ++b) gram(a, b) += cu[a * K + b];
      xty(a) += cu[K * K + a];
    }
  }
  std::vector<double> norms(norm2.begin(), norm2.end());
  return Solve(std::move(fit), gram, xty, norms, names, ix, true, options,
               [&](const std::vector<Eigen::Index>& kept, const Eigen::VectorXd& beta) {
                 const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
                 Eigen::MatrixXd scores(static_cast<Eigen::Index>(units), m);
                 for (size_t u = 0; u < units; ++u) {
                   const double* cu = &cross[u * S];
                   for (Eigen::Index a = 0; a < m; ++a) {
                     double s = cu[K * K + kept[a]];
                     for (Eigen::Index b = 0; b < m; ++b) s -= cu[kept[a] * K + kept[b]] * beta(b);
                     scores(static_cast<Eigen::Index>(u), a) = s;
                   }
                 }
                 return scores;
               });
}

template <int K>
Result<ClusteredFit> FitBalancedK(const Panel& panel, const PanelIndex& ix,
                                  const std::vector<int64_t>& starts,
                                  const std::vector<std::string>& names,
                                  const DidOptions& options) {
  BalancedRows<K> rows;
  rows.n = panel.rows();
  rows.periods = static_cast<size_t>(ix.periods());
  if (ix.grouped()) {
    rows.run_units = ix.run_units.data();
  } else if (ix.has_row_indices()) {
    rows.unit_index = ix.unit_index.data();
    rows.time_index = ix.time_index.data();
  } else {
    rows.unit = panel.unit.data();
    rows.time = panel.time.data();
    rows.unit_table = ix.unit_table.data();
    rows.time_table = ix.time_table.data();
    rows.unit_lo = ix.unit_lo;
    rows.time_lo = ix.time_lo;
  }
  std::vector<int32_t> start_index;
  if (panel.has_flags()) {
    rows.treated = panel.treated.data();
    rows.post = panel.post.data();
  } else {
    start_index.resize(starts.size());
    for (size_t u = 0; u < starts.size(); ++u) {
      start_index[u] = static_cast<int32_t>(
          std::lower_bound(ix.times.begin(), ix.times.end(), starts[u]) - ix.times.begin());
    }
    rows.start_index = start_index.data();
  }
  for (int j = 1; j < K; ++j) rows.covariate[j] = panel.covariates[j - 1].data();
  return FitBalanced<K>(ix, rows, panel.outcome.data(), names, options);
}

}  // namespace

int ClusteredFit::Find(const std::string& name) const {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

bool CanFitTwfeBalanced(const Panel& panel, const PanelIndex& ix) {
  return ix.balanced && panel.weight.empty() &&
         panel.covariates.size() < static_cast<size_t>(kMaxBalancedRegressors) &&
         (ix.grouped() || ix.has_row_indices() || ix.has_tables());
}

Result<ClusteredFit> FitTwfeBalanced(const Panel& panel, const PanelIndex& ix,
                                     const std::vector<int64_t>& starts,
                                     const DidOptions& options) {
  std::vector<std::string> names = {"treatment"};
  for (const std::string& name : panel.covariate_names) names.push_back(name);
  switch (names.size()) {
    case 1:
      return FitBalancedK<1>(panel, ix, starts, names, options);
    case 2:
      return FitBalancedK<2>(panel, ix, starts, names, options);
    case 3:
      return FitBalancedK<3>(panel, ix, starts, names, options);
    case 4:
      return FitBalancedK<4>(panel, ix, starts, names, options);
  }
  return Error{"panel", "too many covariates for the balanced route"};
}

Result<ClusteredFit> FitClustered(const PanelIndex& ix, Eigen::VectorXd y, Eigen::MatrixXd x,
                                  std::vector<std::string> names, const std::vector<double>& weight,
                                  bool absorb_two_way, const DidOptions& options) {
  const Eigen::Index n = y.size();
  ClusteredFit fit;
  fit.observations = n;
  fit.clusters = ix.units();
  if (fit.clusters < 2)
    return InsufficientData("panel", "cluster-robust errors need at least 2 units");

  // Columns that are (numerically) zero before demeaning are dropped up front.
  std::vector<double> norm2(x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (weight.empty()) {
      norm2[j] = x.col(j).squaredNorm();
    } else {
      double s = 0;
      for (Eigen::Index r = 0; r < n; ++r) s += weight[r] * x(r, j) * x(r, j);
      norm2[j] = s;
    }
  }

  if (absorb_two_way) {
    Demeaner dm(ix, weight);
    int worst = 0;
    auto run = [&](double* v) {
      int it = dm.Run(v, options.demean_tolerance, options.max_demean_iterations);
      if (it < 0) fit.converged = false;
      worst = std::max(worst, std::abs(it));
    };
    run(y.data());
    for (Eigen::Index j = 0; j < x.cols(); ++j) run(x.col(j).data());
    fit.iterations = worst;
  }

  // Gram matrix X'WX and X'Wy.
  Eigen::MatrixXd gram;
  Eigen::VectorXd xty;
  if (weight.empty()) {
    gram.noalias() = x.transpose() * x;
    xty.noalias() = x.transpose() * y;
  } else {
    Eigen::Map<const Eigen::VectorXd> w(weight.data(), n);
    Eigen::MatrixXd xw = x.array().colwise() * w.array();
    gram.noalias() = xw.transpose() * x;
    xty.noalias() = xw.transpose() * y;
  }

  return Solve(std::move(fit), gram, xty, norm2, names, ix, absorb_two_way, options,
               [&](const std::vector<Eigen::Index>& kept, const Eigen::VectorXd& beta) {
                 // Cluster scores s_g = sum_i w_i e_i x_i.
                 const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
                 Eigen::VectorXd we = y;
                 for (Eigen::Index a = 0; a < m; ++a) we -= x.col(kept[a]) * beta(a);
                 if (!weight.empty()) {
                   for (Eigen::Index r = 0; r < n; ++r) we(r) *= weight[r];
                 }
                 Eigen::MatrixXd scores = Eigen::MatrixXd::Zero(ix.units(), m);
                 for (Eigen::Index a = 0; a < m; ++a) {
                   const double* xa = x.col(kept[a]).data();
                   double* sa = scores.col(a).data();
                   for (Eigen::Index r = 0; r < n; ++r) sa[ix.unit_index[r]] += xa[r] * we(r);
                 }
                 return scores;
               });
}

}  // namespace causeway::causal
