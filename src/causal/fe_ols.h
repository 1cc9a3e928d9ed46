// Weighted least squares with optional absorbed unit and time fixed effects and
// cluster-robust (CR1) covariance, clustered by unit. Internal to the causal core.
//
//   y_it = a_i + l_t + x_it' b + e_it          (absorb_two_way = true)
//   y_i  = x_i' b + e_i                        (absorb_two_way = false; the caller
//                                                supplies any intercept column)
//
// Fixed effects are absorbed by the within transformation (Frisch-Waugh-Lovell):
// y and every x are projected off the unit and time dummies by alternating
// projections (Guimaraes & Portugal 2010; Gaure 2013, "OLS with multiple high
// dimensional category variables"), exact after one sweep in a balanced unweighted
// panel, iterated to DidOptions::demean_tolerance otherwise. b is then the WLS fit on
// the demeaned data.
//
// CR1 (Liang & Zeger 1986; Cameron & Miller 2015, eq. 12):
//   V = c (X'WX)^{-1} (sum_g s_g s_g') (X'WX)^{-1},  s_g = sum_{i in g} w_i x_i e_i,
//   c = G/(G-1) * (N-1)/(N-K),
// with K as DidOptions::fe_dof says. Inference uses t(G-1).
#pragma once

#include <string>
#include <vector>

#include <Eigen/Dense>

#include "causal/did_types.h"
#include "causal/panel.h"

namespace causeway::causal {

struct ClusteredFit {
  std::vector<std::string> names;    // kept regressors, in input order
  std::vector<std::string> dropped;  // collinear regressors (with the FE or each other)
  Eigen::VectorXd beta;
  Eigen::MatrixXd vcov;  // CR1
  int64_t observations = 0;
  int64_t clusters = 0;
  int64_t parameters = 0;  // K of the small-sample factor
  int iterations = 0;
  bool converged = true;

  double df() const { return static_cast<double>(clusters - 1); }
  // Index of a kept regressor by name, -1 if dropped or absent.
  int Find(const std::string& name) const;
};

// y: outcome per row; x: N x k regressors (column j named names[j]); weight: empty or one
// per row. Errors: no regressor survives, N <= K, fewer than 2 clusters.
Result<ClusteredFit> FitClustered(const PanelIndex& ix, Eigen::VectorXd y, Eigen::MatrixXd x,
                                  std::vector<std::string> names, const std::vector<double>& weight,
                                  bool absorb_two_way, const DidOptions& options);

// The two-way route for a balanced, unweighted panel (see fe_ols.cc, FitBalanced):
// the same fit as FitClustered(ix, y, [D, covariates], ..., absorb_two_way = true) in two
// passes over the rows with no per-row allocation. D_it = 1[t >= starts[unit]], or
// treated*post when the panel has 2x2 flags. Needs CanFitTwfeBalanced.
inline constexpr int kMaxBalancedRegressors = 4;  // the treatment and up to 3 covariates
bool CanFitTwfeBalanced(const Panel& panel, const PanelIndex& ix);
Result<ClusteredFit> FitTwfeBalanced(const Panel& panel, const PanelIndex& ix,
                                     const std::vector<int64_t>& starts, const DidOptions& options);

}  // namespace causeway::causal
