#include "causal/fe_ols.h"

#include <algorithm>
#include <cmath>

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

}  // namespace

int ClusteredFit::Find(const std::string& name) const {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

Result<ClusteredFit> FitClustered(const PanelIndex& ix, Eigen::VectorXd y, Eigen::MatrixXd x,
                                  std::vector<std::string> names, const std::vector<double>& weight,
                                  bool absorb_two_way, const DidOptions& options) {
  const Eigen::Index n = y.size();
  ClusteredFit fit;
  fit.observations = n;
  fit.clusters = ix.units();
  if (fit.clusters < 2) return Error{"panel", "cluster-robust errors need at least 2 units"};

  // Columns that are (numerically) zero before demeaning are dropped up front.
  std::vector<double> original_norm(x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (weight.empty()) {
      original_norm[j] = x.col(j).norm();
    } else {
      double s = 0;
      for (Eigen::Index r = 0; r < n; ++r) s += weight[r] * x(r, j) * x(r, j);
      original_norm[j] = std::sqrt(s);
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

  // Greedy rank detection in input order with an incremental Cholesky factor: column j
  // is kept unless its squared residual on the kept columns is below 1e-10 of its
  // squared norm before demeaning (i.e. it is collinear with the FE or earlier columns).
  const Eigen::Index k = x.cols();
  std::vector<Eigen::Index> kept;
  Eigen::MatrixXd chol = Eigen::MatrixXd::Zero(k, k);  // lower factor of kept block
  for (Eigen::Index j = 0; j < k; ++j) {
    const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
    Eigen::VectorXd c(m);
    for (Eigen::Index a = 0; a < m; ++a) c(a) = gram(kept[a], j);
    Eigen::VectorXd z = c;
    if (m > 0) chol.topLeftCorner(m, m).triangularView<Eigen::Lower>().solveInPlace(z);
    const double resid = gram(j, j) - z.squaredNorm();
    const double ref = original_norm[j] * original_norm[j];
    if (!(resid > 1e-10 * ref) || original_norm[j] == 0) {
      fit.dropped.push_back(names[j]);
      continue;
    }
    chol.block(m, 0, 1, m) = z.transpose();
    chol(m, m) = std::sqrt(resid);
    kept.push_back(j);
  }
  if (kept.empty()) {
    return Error{"panel",
                 "no regressor can be estimated: the treatment indicator is collinear "
                 "with the fixed effects (no variation in treatment timing to compare)"};
  }
  const Eigen::Index m = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd xk(n, m);
  Eigen::MatrixXd gk(m, m);
  Eigen::VectorXd bk(m);
  for (Eigen::Index a = 0; a < m; ++a) {
    xk.col(a) = x.col(kept[a]);
    bk(a) = xty(kept[a]);
    for (Eigen::Index b = 0; b < m; ++b) gk(a, b) = gram(kept[a], kept[b]);
    fit.names.push_back(names[kept[a]]);
  }
  x.resize(0, 0);

  Eigen::LLT<Eigen::MatrixXd> llt(gk);
  if (llt.info() != Eigen::Success) return Error{"panel", "the design matrix is singular"};
  fit.beta = llt.solve(bk);
  Eigen::MatrixXd bread = llt.solve(Eigen::MatrixXd::Identity(m, m));

  // Cluster scores s_g = sum_i w_i e_i x_i.
  Eigen::VectorXd we = y - xk * fit.beta;
  if (!weight.empty()) {
    for (Eigen::Index r = 0; r < n; ++r) we(r) *= weight[r];
  }
  Eigen::MatrixXd scores = Eigen::MatrixXd::Zero(ix.units(), m);
  for (Eigen::Index a = 0; a < m; ++a) {
    const double* xa = xk.col(a).data();
    double* sa = scores.col(a).data();
    for (Eigen::Index r = 0; r < n; ++r) sa[ix.unit_index[r]] += xa[r] * we(r);
  }
  Eigen::MatrixXd meat = scores.transpose() * scores;

  int64_t fe_rank = 0;
  if (absorb_two_way) fe_rank = ix.units() + ix.periods() - ix.connected_components;
  fit.parameters = m + (options.fe_dof == FixedEffectDof::kAllFixedEffects ? fe_rank : 0);
  if (n <= fit.parameters) {
    return Error{"panel", "not enough observations (" + std::to_string(n) + ") for " +
                              std::to_string(fit.parameters) + " parameters"};
  }
  const double g = static_cast<double>(fit.clusters);
  const double c = g / (g - 1) * (static_cast<double>(n) - 1) /
                   (static_cast<double>(n) - static_cast<double>(fit.parameters));
  fit.vcov = c * bread * meat * bread;
  return fit;
}

}  // namespace causeway::causal
