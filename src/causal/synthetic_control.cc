// Synthetic control, synthetic DiD and DiD on a block design: formulas, regularisation
// and references in synthetic_control.h.
#include "causal/synthetic_control.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "causal/did_common.h"
#include "causal/inference.h"
#include "causal/parallel.h"

namespace causeway::causal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Eigen::MatrixXd;
using Eigen::VectorXd;

// ---- Frank-Wolfe on the simplex, on Gram matrices -------------------------------------
//
// Minimises f(x) = zeta^2 ||x||^2 + ||A x - b||^2 / rows over {x >= 0, sum x = 1} given
// G = A'A, c = A'b and bb = b'b. Each iteration is synthdid's fw.step (R/solver.R): with
// the half gradient g = A'(Ax - b) + eta x, eta = rows zeta^2, move towards the vertex
// e_i, i = argmin g (the first one), by the exact line search
//   s = clamp(-g'd / (||A d||^2 + eta ||d||^2), 0, 1),  d = e_i - x,
// where ||A d||^2 = G_ii - 2 (Gx)_i + x'Gx. It keeps Gx up to date in O(k) per step.
// Stops as sc.weight.fw: after max_iter iterations or when, from the third iteration on,
// an iteration lowered f by no more than min_decrease^2.
//
// `index` selects a principal submatrix of G (and the matching entries of c): the
// problem over the weights index[0..k) without copying G.
struct GramProblem {
  const MatrixXd* gram = nullptr;           // at least size() x size(); its leading block is used
  const std::vector<int>* index = nullptr;  // null: the leading size() x size() block
  VectorXd c;                               // A'b over the selected weights
  double bb = 0;
  double rows = 1;  // rows of A (the objective divides by it; eta = rows zeta^2)

  int size() const { return static_cast<int>(c.size()); }
};

struct FwResult {
  VectorXd x;
  int iterations = 0;
};

// Per iteration: one pass moving x and Gx towards the vertex i, forming the next half
// gradient g = Gx - c + eta x and its (first) argmin; the sums
// x'x, x'Gx, c'x that the line search and the objective need are updated in O(1) and
// recomputed exactly every kRefresh iterations (so rounding cannot drift).
constexpr int kRefresh = 64;

FwResult FrankWolfeDense(const double* gram, Eigen::Index ld, const GramProblem& p, double zeta,
                         VectorXd x, double min_decrease, int max_iter) {
  const int k = p.size();
  const double z2 = zeta * zeta;
  const double eta = p.rows * z2;
  const double* c = p.c.data();
  VectorXd gx_vector = VectorXd::Zero(k), g_vector(k);
  double* gx = gx_vector.data();
  double* g = g_vector.data();
  double* xs = x.data();
  for (int i = 0; i < k; ++i) {
    if (xs[i] == 0) continue;
    const double* col = gram + static_cast<Eigen::Index>(i) * ld;
    for (int j = 0; j < k; ++j) gx[j] += col[j] * xs[i];
  }
  double xx = 0, xgx = 0, cx = 0;
  auto exact_sums = [&] {
    xx = xgx = cx = 0;
    for (int j = 0; j < k; ++j) {
      xx += xs[j] * xs[j];
      xgx += xs[j] * gx[j];
      cx += c[j] * xs[j];
    }
  };
  exact_sums();
  int next = 0;
  for (int j = 0; j < k; ++j) {
    g[j] = gx[j] - c[j] + eta * xs[j];
    if (g[j] < g[next]) next = j;
  }
  auto value = [&] { return z2 * xx + (xgx - 2 * cx + p.bb) / p.rows; };
  double prev = 0, cur = 0;
  int t = 0;
  const double threshold = min_decrease * min_decrease;
  while (t < max_iter && (t < 2 || prev - cur > threshold)) {
    ++t;
    const int i = next;
    double step = 0;
    if (xs[i] != 1) {                                  // else x is the vertex e_i: d = 0
      const double gd = g[i] - (xgx - cx + eta * xx);  // g'd, d = e_i - x
      const double dd = xx - 2 * xs[i] + 1;            // ||d||^2
      const double* col = gram + static_cast<Eigen::Index>(i) * ld;
      const double err = col[i] - 2 * gx[i] + xgx;  // ||A d||^2
      const double denominator = err + eta * dd;
      if (denominator > 0) step = std::min(1.0, std::max(0.0, -gd / denominator));
      if (step > 0) {
        const double keep = 1 - step;
        const double xi = xs[i], gxi = gx[i];
        int arg = 0;
        double best = std::numeric_limits<double>::infinity();
        for (int j = 0; j < k; ++j) {
          const double xj = keep * xs[j] + (j == i ? step : 0.0);
          const double gxj = keep * gx[j] + step * col[j];
          xs[j] = xj;
          gx[j] = gxj;
          const double gj = gxj - c[j] + eta * xj;
          g[j] = gj;
          arg = gj < best ? j : arg;
          best = gj < best ? gj : best;
        }
        next = arg;
        if (t % kRefresh == 0) {
          exact_sums();
        } else {
          xx = keep * keep * xx + 2 * step * keep * xi + step * step;
          xgx = keep * keep * xgx + 2 * step * keep * gxi + step * step * col[i];
          cx = keep * cx + step * c[i];
        }
      }
    }
    prev = cur;
    cur = value();
  }
  return {std::move(x), t};
}

FwResult FrankWolfe(const GramProblem& p, double zeta, VectorXd x, double min_decrease,
                    int max_iter) {
  if (!p.index) {
    return FrankWolfeDense(p.gram->data(), p.gram->rows(), p, zeta, std::move(x), min_decrease,
                           max_iter);
  }
  // A principal submatrix: copied once (k^2) so every iteration reads contiguous columns.
  const std::vector<int>& index = *p.index;
  const int k = p.size();
  MatrixXd sub(k, k);
  for (int i = 0; i < k; ++i) {
    const double* col = p.gram->data() + static_cast<Eigen::Index>(index[i]) * p.gram->rows();
    for (int j = 0; j < k; ++j) sub(j, i) = col[index[j]];
  }
  return FrankWolfeDense(sub.data(), k, p, zeta, std::move(x), min_decrease, max_iter);
}

// synthdid's sparsify_function: zero the weights at or below max/4, renormalise.
VectorXd Sparsify(VectorXd v) {
  const double cut = v.maxCoeff() / 4;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (v[i] <= cut) v[i] = 0;
  }
  return v / v.sum();
}

// synthdid's sum_normalize: x / sum(x), uniform when the sum is 0.
VectorXd SumNormalize(VectorXd v) {
  const double s = v.sum();
  if (s != 0) return v / s;
  return VectorXd::Constant(v.size(), 1.0 / static_cast<double>(v.size()));
}

// The two-round solve of synthdid_estimate: max_iter_pre_sparsify iterations from the
// start, then (if sparsify) a restart from the sparsified weights up to max_iter.
FwResult SolveWeights(const GramProblem& p, double zeta, VectorXd start, double min_decrease,
                      const SyntheticOptions& o) {
  const int first_max = o.sparsify ? o.max_iterations_pre_sparsify : o.max_iterations;
  FwResult r = FrankWolfe(p, zeta, std::move(start), min_decrease, first_max);
  if (!o.sparsify) return r;
  const int first = r.iterations;
  r = FrankWolfe(p, zeta, Sparsify(std::move(r.x)), min_decrease, o.max_iterations);
  r.iterations += first;
  return r;
}

bool FitsOmega(const SyntheticOptions& o) { return o.method != SyntheticMethod::kDid; }
bool FitsLambda(const SyntheticOptions& o) { return o.method == SyntheticMethod::kSyntheticDid; }
bool OmegaIntercept(const SyntheticOptions& o) {
  return o.method != SyntheticMethod::kSyntheticControl || o.intercept;
}

// Everything the estimate and its placebos share.
//
// Both weight problems are invariant to adding a constant to a period's outcomes (the
// weights sum to one) and the time-weight problem also to adding a constant to a unit's
// outcomes; the Gram matrices are built from centred data so their entries, and the
// objective x'Gx - 2c'x + b'b, do not lose digits to the outcome's level.
struct Prepared {
  const BlockPanel* block = nullptr;
  int n0 = 0, n1 = 0, t0 = 0, t1 = 0;
  // Pre-period series per unit (columns), minus each period's control mean, and demeaned
  // over time when omega has an intercept: T0 x N.
  MatrixXd omega_cols;
  MatrixXd omega_gram;  // N0 x N0: omega_cols(:, controls)' omega_cols(:, controls)
  // Per control, [pre-periods, post mean] minus the control mean and the unit's pre mean:
  // N0 x (T0 + 1); and the sum of their outer products.
  MatrixXd lambda_rows;
  MatrixXd lambda_gram;
  double noise_level = 0;
  double zeta_omega = 0, zeta_lambda = 0, min_decrease = 0;
};

Prepared Prepare(const BlockPanel& b, const SyntheticOptions& o) {
  Prepared p;
  p.block = &b;
  p.n0 = b.n0;
  p.n1 = b.n1();
  p.t0 = b.t0;
  p.t1 = b.t1();
  const MatrixXd& y = b.y;
  const auto pre = y.leftCols(p.t0);

  // sigma: sd of every first difference of the controls' pre-periods.
  {
    double sum = 0, sum2 = 0;
    const double n = static_cast<double>(p.n0) * (p.t0 - 1);
    MatrixXd d = pre.topRows(p.n0).rightCols(p.t0 - 1) - pre.topRows(p.n0).leftCols(p.t0 - 1);
    sum = d.sum();
    const double mean = sum / n;
    sum2 = (d.array() - mean).square().sum();
    p.noise_level = n > 1 ? std::sqrt(sum2 / (n - 1)) : kNaN;
  }
  const double eta_omega = o.eta_omega ? *o.eta_omega
                                       : (o.method == SyntheticMethod::kSyntheticDid
                                              ? std::pow(static_cast<double>(p.n1) * p.t1, 0.25)
                                              : 1e-6);
  p.zeta_omega = eta_omega * p.noise_level;
  p.zeta_lambda = o.eta_lambda * p.noise_level;
  p.min_decrease = o.min_decrease * p.noise_level;

  const Eigen::RowVectorXd period_mean = y.topRows(p.n0).colwise().mean();
  if (FitsOmega(o)) {
    p.omega_cols = (pre.rowwise() - period_mean.head(p.t0)).transpose();
    if (OmegaIntercept(o)) {
      p.omega_cols.rowwise() -= p.omega_cols.colwise().mean();
    }
    const auto controls = p.omega_cols.leftCols(p.n0);
    p.omega_gram = MatrixXd::Zero(p.n0, p.n0);
    p.omega_gram.selfadjointView<Eigen::Lower>().rankUpdate(controls.transpose());
    p.omega_gram.triangularView<Eigen::StrictlyUpper>() =
        p.omega_gram.transpose().triangularView<Eigen::StrictlyUpper>();
  }
  if (FitsLambda(o)) {
    p.lambda_rows.resize(p.n0, p.t0 + 1);
    p.lambda_rows.leftCols(p.t0) = y.topLeftCorner(p.n0, p.t0);
    p.lambda_rows.col(p.t0) = y.topRightCorner(p.n0, p.t1).rowwise().mean();
    const VectorXd unit_pre_mean = p.lambda_rows.leftCols(p.t0).rowwise().mean();
    p.lambda_rows.colwise() -= unit_pre_mean;
    p.lambda_rows.rowwise() -= p.lambda_rows.colwise().mean();
    p.lambda_gram = MatrixXd::Zero(p.t0 + 1, p.t0 + 1);
    p.lambda_gram.selfadjointView<Eigen::Lower>().rankUpdate(p.lambda_rows.transpose());
    p.lambda_gram.triangularView<Eigen::StrictlyUpper>() =
        p.lambda_gram.transpose().triangularView<Eigen::StrictlyUpper>();
  }
  return p;
}

// The time-weight problem over the controls `controls` (all controls when `treated`
// is empty; else every control but the placebo-treated rows `treated`).
GramProblem LambdaProblem(const Prepared& p, const std::vector<int>& treated, MatrixXd* gram) {
  const int t0 = p.t0;
  const double n = static_cast<double>(p.n0 - static_cast<int>(treated.size()));
  *gram = p.lambda_gram;
  VectorXd sum = VectorXd::Zero(t0 + 1);  // sum over the kept rows = -sum over `treated`
  for (int j : treated) {
    const auto w = p.lambda_rows.row(j).transpose();
    gram->selfadjointView<Eigen::Lower>().rankUpdate(w, -1.0);
    sum -= w;
  }
  const VectorXd mean = sum / n;
  gram->selfadjointView<Eigen::Lower>().rankUpdate(mean, -n);
  gram->triangularView<Eigen::StrictlyUpper>() =
      gram->transpose().triangularView<Eigen::StrictlyUpper>();
  GramProblem q;
  q.c = gram->col(t0).head(t0);
  q.bb = (*gram)(t0, t0);
  q.rows = n;
  q.gram = gram;  // its leading t0 x t0 block is A'A
  return q;
}

// u_i = mean of unit i's post-periods - lambda' its pre-periods (the unit's term of tau).
VectorXd UnitTerms(const BlockPanel& b, const VectorXd& lambda) {
  const int t0 = b.t0, t1 = b.t1();
  return b.y.rightCols(t1).rowwise().mean() - b.y.leftCols(t0) * lambda;
}

VectorXd UniformWeights(int n) { return VectorXd::Constant(n, 1.0 / n); }

VectorXd FixedLambda(const SyntheticOptions& o, int t0) {
  if (o.method == SyntheticMethod::kSyntheticControl && !o.intercept) return VectorXd::Zero(t0);
  return UniformWeights(t0);
}

SyntheticWeights Fit(const Prepared& p, const SyntheticOptions& o) {
  SyntheticWeights w;
  w.noise_level = p.noise_level;
  w.zeta_omega = p.zeta_omega;
  w.zeta_lambda = p.zeta_lambda;
  if (FitsLambda(o)) {
    MatrixXd gram;
    const GramProblem q = LambdaProblem(p, {}, &gram);
    FwResult r = SolveWeights(q, p.zeta_lambda, UniformWeights(p.t0), p.min_decrease, o);
    w.lambda = std::move(r.x);
    w.lambda_iterations = r.iterations;
  } else {
    w.lambda = FixedLambda(o, p.t0);
  }
  if (FitsOmega(o)) {
    GramProblem q;
    q.gram = &p.omega_gram;
    const VectorXd b = p.omega_cols.rightCols(p.n1).rowwise().mean();
    q.c = p.omega_cols.leftCols(p.n0).transpose() * b;
    q.bb = b.squaredNorm();
    q.rows = p.t0;
    FwResult r = SolveWeights(q, p.zeta_omega, UniformWeights(p.n0), p.min_decrease, o);
    w.omega = std::move(r.x);
    w.omega_iterations = r.iterations;
  } else {
    w.omega = UniformWeights(p.n0);
  }
  return w;
}

// One placebo replication: rows perm[0..n0-n1) are controls, the rest treated.
double Placebo(const Prepared& p, const SyntheticWeights& fitted, const SyntheticOptions& o,
               const std::vector<int>& perm) {
  const int n1 = p.n1;
  const int n0 = p.n0 - n1;
  const std::vector<int> controls(perm.begin(), perm.begin() + n0);
  const std::vector<int> treated(perm.begin() + n0, perm.end());
  VectorXd lambda = fitted.lambda;
  if (FitsLambda(o)) {
    MatrixXd gram;
    const GramProblem q = LambdaProblem(p, treated, &gram);
    lambda = SolveWeights(q, p.zeta_lambda, fitted.lambda, p.min_decrease, o).x;
  }
  VectorXd start(n0);
  for (int i = 0; i < n0; ++i) start[i] = fitted.omega[controls[static_cast<size_t>(i)]];
  start = SumNormalize(std::move(start));
  VectorXd omega = start;
  if (FitsOmega(o)) {
    GramProblem q;
    q.gram = &p.omega_gram;
    q.index = &controls;
    q.c.resize(n0);
    for (int i = 0; i < n0; ++i) {
      double s = 0;
      for (int j : treated) s += p.omega_gram(controls[static_cast<size_t>(i)], j);
      q.c[i] = s / n1;
    }
    double bb = 0;
    for (int j : treated) {
      for (int k : treated) bb += p.omega_gram(j, k);
    }
    q.bb = bb / (static_cast<double>(n1) * n1);
    q.rows = p.t0;
    omega = SolveWeights(q, p.zeta_omega, std::move(start), p.min_decrease, o).x;
  }
  const VectorXd u = UnitTerms(*p.block, lambda);
  double tau = 0;
  for (int j : treated) tau += u[j];
  tau /= n1;
  for (int i = 0; i < n0; ++i) tau -= omega[i] * u[controls[static_cast<size_t>(i)]];
  return tau;
}

// Algorithm 4's replications, split across threads (each writes its own slots).
std::vector<double> RunPlacebos(const Prepared& p, const SyntheticWeights& fitted,
                                const SyntheticOptions& options,
                                const std::vector<std::vector<int>>& permutations) {
  std::vector<double> out(permutations.size(), kNaN);
  const unsigned cores = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                             : std::max(1u, std::thread::hardware_concurrency());
  const unsigned chunks = static_cast<unsigned>(
      std::max<size_t>(1, std::min<size_t>({permutations.size(), cores, kMaxChunks})));
  RunChunks(ChunkBounds(permutations.size(), chunks), [&](unsigned, size_t lo, size_t hi) {
    for (size_t r = lo; r < hi; ++r) out[r] = Placebo(p, fitted, options, permutations[r]);
  });
  return out;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void AddWarning(std::vector<Warning>* w, std::string code, std::string message) {
  w->push_back({std::move(code), std::move(message)});
}

}  // namespace

const char* SyntheticMethodName(SyntheticMethod method) {
  switch (method) {
    case SyntheticMethod::kSyntheticControl:
      return "synthetic_control";
    case SyntheticMethod::kSyntheticDid:
      return "synthetic_did";
    case SyntheticMethod::kDid:
      return "did";
  }
  return "?";
}

std::optional<SyntheticMethod> ParseSyntheticMethod(const std::string& name) {
  if (name == "synthetic_control") return SyntheticMethod::kSyntheticControl;
  if (name == "synthetic_did") return SyntheticMethod::kSyntheticDid;
  if (name == "did") return SyntheticMethod::kDid;
  return std::nullopt;
}

bool SyntheticOptions::IsValid(std::string* error) const {
  auto fail = [&](const char* message) {
    if (error) *error = message;
    return false;
  };
  if (!(confidence > 0 && confidence < 1)) return fail("confidence must be in (0, 1)");
  if (placebo_replications < 2 || placebo_replications > 100000) {
    return fail("placebo_replications must be in [2, 100000]");
  }
  if (eta_omega && !(*eta_omega > 0 && std::isfinite(*eta_omega))) {
    return fail("eta_omega must be positive");
  }
  if (!(eta_lambda > 0 && std::isfinite(eta_lambda))) return fail("eta_lambda must be positive");
  if (!(min_decrease > 0 && std::isfinite(min_decrease))) {
    return fail("min_decrease must be positive");
  }
  if (max_iterations < 1 || max_iterations_pre_sparsify < 1) {
    return fail("max_iterations must be at least 1");
  }
  if (threads < 0) return fail("threads must be 0 (every core) or positive");
  return true;
}

Result<BlockPanel> MakeBlockPanel(const Panel& panel) {
  Result<PanelIndex> indexed = IndexPanel(panel, RowIndices::kMaterialize, 1);
  if (!indexed.ok()) return indexed.error();
  const PanelIndex& ix = indexed.value();
  if (!ix.balanced) {
    return Error{"panel",
                 "the panel is not balanced: synthetic control needs every unit in every period",
                 ErrorKind::kInvalidInput};
  }
  const std::vector<int64_t> starts = UnitStarts(panel, ix);
  const int64_t last = ix.times.back();
  int64_t start = kNeverTreated;
  for (int32_t u = 0; u < ix.units(); ++u) {
    const int64_t s = starts[static_cast<size_t>(u)];
    if (s == kNeverTreated || s > last) continue;
    if (start != kNeverTreated && s != start) {
      return InsufficientData(
          "panel", "treated units start at different periods (" + std::to_string(start) + " and " +
                       std::to_string(s) +
                       "): synthetic control and synthetic DiD need one first treated period "
                       "(a block design); use /v1/analyses/did with callaway_santanna");
    }
    start = s;
  }
  if (start == kNeverTreated) return InsufficientData("panel", "no treated unit");
  // With 2x2 flags, treatment must be on from the start to the end of the panel.
  if (panel.has_flags()) {
    for (size_t r = 0; r < panel.rows(); ++r) {
      const int64_t s = starts[static_cast<size_t>(ix.unit_index[r])];
      const bool d = panel.treated[r] && panel.post[r];
      if (d != (s != kNeverTreated && panel.time[r] >= s)) {
        return InsufficientData("panel", "treatment switches off for unit " +
                                             std::to_string(panel.unit[r]) + " at time " +
                                             std::to_string(panel.time[r]) +
                                             ": a block design stays treated to the end");
      }
    }
  }
  BlockPanel b;
  std::vector<int32_t> order;
  for (int pass = 0; pass < 2; ++pass) {
    for (int32_t u = 0; u < ix.units(); ++u) {
      const int64_t s = starts[static_cast<size_t>(u)];
      const bool treated = s != kNeverTreated && s <= last;
      if (treated == (pass == 1)) order.push_back(u);
    }
    if (pass == 0) b.n0 = static_cast<int>(order.size());
  }
  b.t0 = static_cast<int>(std::lower_bound(ix.times.begin(), ix.times.end(), start) -
                          ix.times.begin());
  if (b.n0 == 0) return InsufficientData("panel", "no control unit");
  if (b.t0 < 2) {
    return InsufficientData("panel",
                            "fewer than 2 pre-treatment periods: the weights and the noise "
                            "level need at least 2");
  }
  std::vector<int32_t> row_of(static_cast<size_t>(ix.units()));
  for (size_t k = 0; k < order.size(); ++k)
    row_of[static_cast<size_t>(order[k])] = static_cast<int32_t>(k);
  b.y.resize(ix.units(), ix.periods());
  for (size_t r = 0; r < panel.rows(); ++r) {
    b.y(row_of[static_cast<size_t>(ix.unit_index[r])], ix.time_index[r]) = panel.outcome[r];
  }
  for (int32_t u : order) b.unit_ids.push_back(ix.unit_ids[static_cast<size_t>(u)]);
  b.times = ix.times;
  return b;
}

SyntheticWeights FitSyntheticWeights(const BlockPanel& block, const SyntheticOptions& options) {
  return Fit(Prepare(block, options), options);
}

double SyntheticEstimate(const BlockPanel& b, const VectorXd& omega, const VectorXd& lambda) {
  const VectorXd u = UnitTerms(b, lambda);
  return u.tail(b.n1()).mean() - omega.dot(u.head(b.n0));
}

std::vector<std::vector<int>> PlaceboPermutations(int n0, const SyntheticOptions& options) {
  uint64_t state = options.seed;
  std::vector<std::vector<int>> out(static_cast<size_t>(options.placebo_replications));
  for (auto& perm : out) {
    perm.resize(static_cast<size_t>(n0));
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = n0 - 1; i > 0; --i) {  // Fisher-Yates with a 53-bit uniform
      const double u = static_cast<double>(SplitMix64(&state) >> 11) * 0x1.0p-53;
      const int j = std::min(i, static_cast<int>(u * (i + 1)));
      std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
    }
  }
  return out;
}

std::vector<double> PlaceboEstimates(const BlockPanel& block, const SyntheticWeights& fitted,
                                     const SyntheticOptions& options,
                                     const std::vector<std::vector<int>>& permutations) {
  return RunPlacebos(Prepare(block, options), fitted, options, permutations);
}

double PlaceboStandardError(const std::vector<double>& estimates) {
  const double n = static_cast<double>(estimates.size());
  if (n < 2) return kNaN;
  double mean = 0;
  for (double e : estimates) mean += e;
  mean /= n;
  double ss = 0;
  for (double e : estimates) ss += (e - mean) * (e - mean);
  return std::sqrt(ss / n);  // sqrt((R-1)/R) * sd
}

Result<SyntheticSummary> EstimateSynthetic(const BlockPanel& b, const SyntheticOptions& o) {
  std::string why;
  if (!o.IsValid(&why)) {
    return Error{"options." + why.substr(0, why.find(' ')), why, ErrorKind::kInvalidInput};
  }
  const int n0 = b.n0, n1 = b.n1(), t0 = b.t0, t1 = b.t1();
  if (n1 < 1) return InsufficientData("panel", "no treated unit");
  if (t1 < 1) return InsufficientData("panel", "no post-treatment period");
  if (n0 <= n1) {
    return InsufficientData("panel", "the placebo variance needs more control units (" +
                                         std::to_string(n0) + ") than treated units (" +
                                         std::to_string(n1) + ")");
  }
  const Prepared p = Prepare(b, o);
  if (!(p.noise_level > 0)) {
    return InsufficientData("panel",
                            "the controls' pre-period outcomes never change: no noise level");
  }
  SyntheticSummary s;
  s.method = o.method;
  s.intercept = o.method == SyntheticMethod::kSyntheticControl && o.intercept;
  s.weights = Fit(p, o);
  const VectorXd& omega = s.weights.omega;
  const VectorXd& lambda = s.weights.lambda;
  const double tau = SyntheticEstimate(b, omega, lambda);

  const std::vector<double> placebos = RunPlacebos(p, s.weights, o, PlaceboPermutations(n0, o));
  const double se = PlaceboStandardError(placebos);
  s.att = MakeInference(tau, se, kInfiniteDf, o.confidence);
  s.placebo_replications = o.placebo_replications;
  s.seed = o.seed;

  // Series: counterfactual_t = omega'Y_co,t + lambda'(ybar_tr,pre - omega'Y_co,pre).
  const VectorXd treated = b.y.bottomRows(n1).colwise().mean().transpose();
  const VectorXd synthetic = b.y.topRows(n0).transpose() * omega;
  const double offset = lambda.dot(treated.head(t0) - synthetic.head(t0));
  double cf_post = 0, pre_gap2 = 0, pre_var = 0;
  const double pre_mean = treated.head(t0).mean();
  for (int t = 0; t < t0 + t1; ++t) {
    PeriodEffect e;
    e.time = b.times[static_cast<size_t>(t)];
    e.post = t >= t0;
    e.treated = treated[t];
    e.counterfactual = synthetic[t] + offset;
    e.effect = e.treated - e.counterfactual;
    if (e.post) {
      cf_post += e.counterfactual;
    } else {
      pre_gap2 += e.effect * e.effect;
      pre_var += (e.treated - pre_mean) * (e.treated - pre_mean);
    }
    s.series.push_back(e);
  }
  s.counterfactual_post_mean = cf_post / t1;
  s.pre_rmspe = std::sqrt(pre_gap2 / t0);
  s.pre_r_squared = pre_var > 0 ? 1 - pre_gap2 / pre_var : kNaN;

  // Scaled L2 imbalance: ||gap(omega)|| / ||gap(uniform)|| with the method's intercept rule.
  const bool centred = OmegaIntercept(o);
  auto imbalance = [&](const VectorXd& w) {
    VectorXd gap = treated.head(t0) - b.y.topLeftCorner(n0, t0).transpose() * w;
    if (centred) gap.array() -= gap.mean();
    return gap.norm();
  };
  const double uniform = imbalance(UniformWeights(n0));
  s.scaled_l2_imbalance = uniform > 0 ? imbalance(omega) / uniform : kNaN;

  const double cells = static_cast<double>(n1) * t1;
  s.total_effect = MakeInference(tau * cells, se * cells, kInfiniteDf, o.confidence);
  const double base = s.counterfactual_post_mean;
  if (base != 0 && std::isfinite(base)) {
    s.lift = MakeInference(tau / base, se / std::fabs(base), kInfiniteDf, o.confidence);
    s.lift.p = s.att.p;
    s.lift.statistic = s.att.statistic;
  } else {
    s.lift = MakeInference(kNaN, kNaN, kInfiniteDf, o.confidence);
  }

  for (int i = 0; i < n0; ++i) s.donors.push_back({b.unit_ids[static_cast<size_t>(i)], omega[i]});
  std::stable_sort(s.donors.begin(), s.donors.end(),
                   [](const DonorWeight& a, const DonorWeight& c) { return a.weight > c.weight; });
  if (o.method != SyntheticMethod::kSyntheticControl || o.intercept) {
    for (int t = 0; t < t0; ++t)
      s.time_weights.push_back({b.times[static_cast<size_t>(t)], lambda[t]});
  }
  s.treated_units = n1;
  s.control_units = n0;
  s.pre_periods = t0;
  s.post_periods = t1;
  s.first_treated_period = b.times[static_cast<size_t>(t0)];
  switch (o.method) {
    case SyntheticMethod::kSyntheticDid:
      s.estimand =
          "ATT: mean effect per treated unit-period, synthetic DiD (unit and time weights, "
          "Arkhangelsky et al. 2021)";
      break;
    case SyntheticMethod::kSyntheticControl:
      s.estimand = s.intercept ? "ATT: mean effect per treated unit-period, de-meaned synthetic "
                                 "control (donor weights with an intercept)"
                               : "ATT: mean effect per treated unit-period, synthetic control "
                                 "(donor weights, Abadie et al. 2010)";
      break;
    case SyntheticMethod::kDid:
      s.estimand = "ATT: mean effect per treated unit-period, difference in differences of means";
      break;
  }

  // Warnings.
  if (s.pre_r_squared < 0.75 || !std::isfinite(s.pre_r_squared)) {
    AddWarning(&s.warnings, "poor_pre_fit",
               "the counterfactual explains less than 75% of the treated units' pre-period "
               "variation (pre-period R^2 " +
                   std::to_string(s.pre_r_squared) + ", RMSPE " + std::to_string(s.pre_rmspe) +
                   "): the estimate leans on extrapolation");
  }
  if (FitsOmega(o)) {
    int outside = 0;
    for (int t = 0; t < t0; ++t) {
      auto donor = [&](int i) {
        return centred ? b.y(i, t) - b.y.row(i).head(t0).mean() : b.y(i, t);
      };
      const double tr = centred ? treated[t] - pre_mean : treated[t];
      double lo = donor(0), hi = donor(0);
      for (int i = 1; i < n0; ++i) {
        lo = std::min(lo, donor(i));
        hi = std::max(hi, donor(i));
      }
      if (tr < lo || tr > hi) ++outside;
    }
    if (outside > 0) {
      AddWarning(&s.warnings, "outside_convex_hull",
                 "in " + std::to_string(outside) + " of " + std::to_string(t0) +
                     " pre-periods the treated units' " + (centred ? "de-meaned " : "") +
                     "outcome lies outside every donor's: no weighted average of donors can "
                     "match it");
    }
  }
  if (n0 < 10 || n0 < 2 * n1) {
    AddWarning(&s.warnings, "few_donors",
               std::to_string(n0) + " control units for " + std::to_string(n1) +
                   " treated: the placebo variance rests on few distinct placebo assignments "
                   "(want at least 10 controls and twice the treated units)");
  }
  if (t0 < 2 * t1) {
    AddWarning(&s.warnings, "few_pre_periods",
               std::to_string(t0) + " pre-periods for " + std::to_string(t1) +
                   " post-periods: the weights are fit on less than twice the history they "
                   "extrapolate to");
  }
  if (!(se > 0) || !std::isfinite(se)) {
    AddWarning(&s.warnings, "no_placebo_variance",
               "the placebo estimates do not vary: no standard error");
  }
  return s;
}

Result<SyntheticSummary> EstimateSynthetic(const Panel& panel, const SyntheticOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) {
    return Error{"options." + why.substr(0, why.find(' ')), why, ErrorKind::kInvalidInput};
  }
  Result<BlockPanel> b = MakeBlockPanel(panel);
  if (!b.ok()) return b.error();
  return EstimateSynthetic(b.value(), options);
}

}  // namespace causeway::causal
