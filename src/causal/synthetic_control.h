// Synthetic control, synthetic difference-in-differences and DiD on a block design: N0
// control units and N1 treated units observed in T0 pre-periods and T1 post-periods,
// every treated unit treated from the same first period on (a geo test).
//
// All three are the weighted double difference of Arkhangelsky, Athey, Hirshberg, Imbens
// & Wager (2021), "Synthetic Difference-in-Differences", AER 111(12), 4088-4118, eq. (1)
// and Algorithm 1, as implemented by their R package synthdid (github.com/synth-
// inference/synthdid @70c1ce3, R/synthdid.R, R/solver.R, R/vcov.R):
//
//   tau = [ybar_tr,post - sum_t lambda_t ybar_tr,t] - sum_i omega_i [ybar_i,post - sum_t lambda_t
//   Y_it]
//
// where ybar_tr,t is the treated units' mean in period t, ybar_.,post a mean over the
// post-periods, omega >= 0 (sum 1) weighs the controls and lambda >= 0 (sum 1) the
// pre-periods.
//
//   unit weights  (omega_0, omega) = argmin sum_{t<=T0} (omega_0 + omega'Y_.t - ybar_tr,t)^2
//                                            + zeta_omega^2 T0 ||omega||^2
//   time weights  (lambda_0, lambda) = argmin sum_{i<=N0} (lambda_0 + lambda'Y_i,pre -
//   ybar_i,post)^2
//                                            + zeta_lambda^2 N0 ||lambda||^2
//
// over the simplex. The regularisation is the package's: sigma = standard deviation of
// every first difference Y_i,t+1 - Y_it of the controls' pre-periods (one pooled sd, n-1
// denominator); zeta_omega = (N1 T1)^(1/4) sigma for SDID; zeta_lambda = 1e-6 sigma and,
// for synthetic control, zeta_omega = 1e-6 sigma: an "infinitesimal" ridge whose only
// role is to make the objective strictly convex, so the weights are unique even when
// there are more donors than pre-periods (N0 > T0, where the unpenalised least squares
// has a whole face of minimisers).
//
//   method             omega                              lambda             omega_0
//   synthetic_did      ridge zeta_omega = (N1T1)^1/4 sigma  fitted (lambda_0)  free
//   synthetic_control  ridge 1e-6 sigma                   0 (no pre term)    0, or free with
//                                                                            `intercept` (the
//                                                                            de-meaned SC of
//                                                                            Doudchenko-Imbens /
//                                                                            Ferman-Pinto, which
//                                                                            GeoLift uses by
//                                                                            default; lambda =
//                                                                            1/T0)
//   did                1/N0                               1/T0               free
//
// Solver (as the package): Frank-Wolfe with exact line search on the simplex, started at
// uniform weights; after 100 iterations the weights below max/4 are zeroed ("sparsify")
// and Frank-Wolfe restarts from there, stopping when an iteration lowers the penalised
// objective by less than (1e-5 sigma)^2 or after 10 000 iterations. We run it on Gram
// matrices (A'A, A'b, b'b) so an iteration costs O(weights), not O(rows x weights).
//
// Inference: the placebo variance of Algorithm 4 (synthdid's vcov(method = "placebo")):
// R times, permute the controls, call the last N1 of them treated, re-estimate with the
// same zetas and stopping rule (weights started from the fitted ones), and take
// V = (R-1)/R var(placebo estimates). One method gives everything: se = sqrt(V), the
// interval tau +- z_{1-alpha/2} se and the two-sided p-value 2(1 - Phi(|tau|/se)). It
// assumes the treated units' noise is like the controls' (homoskedastic across units)
// and needs N0 > N1.
//
// Pure: no I/O, no globals; safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "causal/did.h"
#include "causal/panel.h"
#include "causal/result.h"

namespace causeway::causal {

enum class SyntheticMethod { kSyntheticControl, kSyntheticDid, kDid };
// "synthetic_control", "synthetic_did", "did".
const char* SyntheticMethodName(SyntheticMethod method);
std::optional<SyntheticMethod> ParseSyntheticMethod(const std::string& name);

struct SyntheticOptions {
  SyntheticMethod method = SyntheticMethod::kSyntheticDid;
  // Synthetic control only: fit omega with a free intercept omega_0 and difference out
  // the pre-period mean (lambda = 1/T0). Off: the classic ADH / synthdid sc_estimate.
  bool intercept = false;
  double confidence = 0.95;  // two-sided CI level, in (0, 1)

  // Placebo variance: replications (synthdid's default 200) and the seed of the
  // permutations (splitmix64; the same seed gives the same permutations everywhere).
  int placebo_replications = 200;
  uint64_t seed = 20211201;

  // Regularisation and solver; the defaults are synthdid's. eta_omega unset: (N1 T1)^(1/4)
  // for synthetic_did, 1e-6 for synthetic_control.
  std::optional<double> eta_omega;
  double eta_lambda = 1e-6;
  double min_decrease = 1e-5;  // times sigma: stop when the objective falls less than its square
  int max_iterations = 10000;
  int max_iterations_pre_sparsify = 100;
  bool sparsify = true;

  // Threads for the placebo replications: 0 = every core, 1 = the calling thread. The
  // permutations are drawn before they are split, so results do not depend on it.
  int threads = 0;

  bool IsValid(std::string* error) const;
};

// A balanced block design as a matrix: rows 0..n0-1 are the controls, rows n0.. the
// treated units; columns are periods, 0..t0-1 before treatment.
struct BlockPanel {
  Eigen::MatrixXd y;
  int n0 = 0;
  int t0 = 0;
  std::vector<int64_t> unit_ids;  // per row
  std::vector<int64_t> times;     // per column, ascending

  int n1() const { return static_cast<int>(y.rows()) - n0; }
  int t1() const { return static_cast<int>(y.cols()) - t0; }
};

// Builds the block design from a panel with treatment_start or 2x2 flags. Errors:
// those of IndexPanel; unbalanced panel, no treated or no control unit, treatment that
// does not start at one period for every treated unit (staggered adoption) or that stops,
// fewer than 2 pre-periods, no post-period (kInsufficientData unless malformed).
Result<BlockPanel> MakeBlockPanel(const Panel& panel);

// Fitted weights of one estimate.
struct SyntheticWeights {
  Eigen::VectorXd omega;   // n0, sums to 1
  Eigen::VectorXd lambda;  // t0, sums to 1 (zeros for synthetic control without intercept)
  double zeta_omega = 0, zeta_lambda = 0, noise_level = 0;
  int omega_iterations = 0, lambda_iterations = 0;  // Frank-Wolfe iterations (both rounds)
};

struct PeriodEffect {
  int64_t time = 0;
  bool post = false;
  double treated = 0;         // mean outcome of the treated units
  double counterfactual = 0;  // omega'Y_co,t + lambda-weighted pre-period offset
  double effect = 0;          // treated - counterfactual (a pre-period gap before treatment)
};

struct DonorWeight {
  int64_t unit = 0;
  double weight = 0;
};
struct TimeWeight {
  int64_t time = 0;
  double weight = 0;
};

struct SyntheticSummary {
  SyntheticMethod method = SyntheticMethod::kSyntheticDid;
  bool intercept = false;
  std::string estimand;
  Inference att;  // placebo se, normal interval and p-value; df = +inf
  // Sum over treated units and post-periods of the effect: att * N1 * T1 (se, CI scaled).
  Inference total_effect;
  // att / mean post-period counterfactual of the treated: relative lift, counterfactual
  // treated as known (se, CI scaled by it; same p-value). NaN when that mean is 0.
  Inference lift;
  double counterfactual_post_mean = 0;
  std::vector<PeriodEffect> series;      // every period
  std::vector<DonorWeight> donors;       // every control, by decreasing weight
  std::vector<TimeWeight> time_weights;  // pre-periods (synthetic_did; did: uniform)
  // Pre-period fit: root mean squared pre-period gap of `series`, and the L2 norm of the
  // pre-period gap of omega divided by that of uniform weights (same intercept rule).
  double pre_rmspe = 0;
  double scaled_l2_imbalance = 0;
  double pre_r_squared = 0;  // 1 - sum gap^2 / sum (ybar_tr,t - its pre mean)^2
  int placebo_replications = 0;
  uint64_t seed = 0;
  int64_t treated_units = 0, control_units = 0, pre_periods = 0, post_periods = 0;
  int64_t first_treated_period = 0;
  SyntheticWeights weights;
  std::vector<Warning> warnings;
};

// The fitted weights alone (as synthdid_estimate's attributes).
SyntheticWeights FitSyntheticWeights(const BlockPanel& block, const SyntheticOptions& options);

// tau of the weighted double difference for given weights.
double SyntheticEstimate(const BlockPanel& block, const Eigen::VectorXd& omega,
                         const Eigen::VectorXd& lambda);

// Placebo estimates of Algorithm 4 for explicit permutations of the control rows
// (each a permutation of 0..n0-1; its last n1 entries are the placebo treated units).
// Exposed so tests can replay the reference implementation's permutations.
std::vector<double> PlaceboEstimates(const BlockPanel& block, const SyntheticWeights& fitted,
                                     const SyntheticOptions& options,
                                     const std::vector<std::vector<int>>& permutations);

// The permutations options.seed gives (placebo_replications of them).
std::vector<std::vector<int>> PlaceboPermutations(int n0, const SyntheticOptions& options);

// sqrt((R-1)/R) sd(estimates), synthdid's placebo_se.
double PlaceboStandardError(const std::vector<double>& estimates);

// Everything: weights, estimate, placebo inference, series, fit, warnings. Errors:
// invalid options (kInvalidInput, field "options.<name>"); N0 <= N1 (the placebo needs
// more controls than treated units) or placebo_replications < 2 (kInsufficientData,
// field "panel").
Result<SyntheticSummary> EstimateSynthetic(const BlockPanel& block,
                                           const SyntheticOptions& options);
Result<SyntheticSummary> EstimateSynthetic(const Panel& panel, const SyntheticOptions& options);

}  // namespace causeway::causal
