// Synthetic control, synthetic DiD and DiD on a block design: formulas, regularisation
// and references in synthetic_control.h.
#include "causal/synthetic_control.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include "causal/did_common.h"
#include "causal/frank_wolfe_pass.h"
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
//   s = clamp(-g'd / (||A d||^2 + eta ||d||^2), 0, 1),  d = e_i - x.
// Stops as sc.weight.fw: after max_iter iterations or when, from the third iteration on,
// an iteration lowered f by no more than min_decrease^2.
//
// In terms of H = G + eta I and h = Hx: g = h - c, g'd = g_i - (x'h - c'x),
// ||A d||^2 + eta ||d||^2 = H_ii - 2 h_i + x'h and f(x) = (x'h - 2 c'x + bb) / rows. So an
// iteration reads column i of H and makes one pass h <- (1 - s) h + s H e_i that also
// finds the next argmin of h - c; x'h and c'x are updated in O(1) (and recomputed exactly
// every kRefresh iterations, so rounding cannot drift), and x is kept as scale * xs so
// that moving it costs O(1) too.
//
// H comes either whole (`hessian`: the unit-weight problem, shared read-only by every
// placebo) or as G less a low-rank `downdate` D, G - D'D + eta I, whose columns are made
// when first used (the time-weight problem of a placebo is the full one less its
// placebo-treated rows; it touches a handful of columns). `excluded` weights are held at
// 0 and never chosen: a placebo's unit-weight problem is the full one without its
// placebo-treated units, so no submatrix is copied.
struct GramProblem {
  const MatrixXd* hessian = nullptr;           // H, at least size() x size(); or null and:
  const MatrixXd* gram = nullptr;              //   G (its leading size() x size() block),
  const MatrixXd* downdate = nullptr;          //   null or D, r x size() at least,
  double eta = 0;                              //   rows zeta^2
  const std::vector<int>* excluded = nullptr;  // weights held at 0 (their x must start at 0)
  VectorXd c;                                  // A'b
  double bb = 0;
  double rows = 1;  // rows of A (the objective divides by it)

  int size() const { return static_cast<int>(c.size()); }
};

struct FwResult {
  VectorXd x;
  int iterations = 0;
};

constexpr int kRefresh = 64;

// Column i of H, contiguous (size() entries). `storage` holds the columns made from a
// downdate and is reused from problem to problem. Not thread-safe; one per solve.
class HessianColumns {
 public:
  HessianColumns(const GramProblem& p, MatrixXd* storage) : p_(p), k_(p.size()) {
    if (!p_.hessian) {
      storage->resize(k_, k_);
      made_ = storage;
      ready_.assign(static_cast<size_t>(k_), 0);
    }
  }

  const double* operator()(int i) {
    if (p_.hessian) return p_.hessian->data() + static_cast<Eigen::Index>(i) * p_.hessian->rows();
    double* column = made_->data() + static_cast<Eigen::Index>(i) * k_;
    if (!ready_[static_cast<size_t>(i)]) {
      Eigen::Map<VectorXd> out(column, k_);
      out = p_.gram->col(i).head(k_);
      if (p_.downdate) out.noalias() -= p_.downdate->leftCols(k_).transpose() * p_.downdate->col(i);
      column[i] += p_.eta;
      ready_[static_cast<size_t>(i)] = 1;
    }
    return column;
  }

 private:
  const GramProblem& p_;
  const int k_;
  MatrixXd* made_ = nullptr;
  std::vector<char> ready_;
};

FwResult FrankWolfe(const GramProblem& p, HessianColumns& columns, VectorXd x, double min_decrease,
                    int max_iter) {
  const int k = p.size();
  // cost = c with -inf at the excluded weights, so their h - cost is never the minimum.
  VectorXd cost = p.c;
  if (p.excluded) {
    for (int j : *p.excluded) cost[j] = -std::numeric_limits<double>::infinity();
  }
  VectorXd h = VectorXd::Zero(k);
  int nonzero = 0, vertex = -1;  // vertex: x is exactly e_vertex (d = 0, fw.step returns x)
  for (int i = 0; i < k; ++i) {
    if (x[i] == 0) continue;
    ++nonzero;
    vertex = x[i] == 1 ? i : -1;
    h += x[i] * Eigen::Map<const VectorXd>(columns(i), k);
  }
  if (nonzero != 1) vertex = -1;
  double* xs = x.data();
  double scale = 1;  // x = scale * xs
  double xh = 0, cx = 0;
  auto exact_sums = [&] {
    if (scale != 1) {
      x *= scale;
      scale = 1;
    }
    xh = x.dot(h);
    cx = x.dot(p.c);
  };
  exact_sums();
  int next = 0;
  (h - cost).minCoeff(&next);  // the first minimum
  auto value = [&] { return (xh - 2 * cx + p.bb) / p.rows; };
  double prev = 0, cur = 0;
  int t = 0;
  const double threshold = min_decrease * min_decrease;
  while (t < max_iter && (t < 2 || prev - cur > threshold)) {
    ++t;
    const int i = next;
    if (i != vertex) {
      const double* column = columns(i);
      const double hi = h[i];
      const double gd = (hi - p.c[i]) - (xh - cx);         // g'd, d = e_i - x
      const double denominator = column[i] - 2 * hi + xh;  // ||A d||^2 + eta ||d||^2
      double step = 0;
      if (denominator > 0) step = std::min(1.0, std::max(0.0, -gd / denominator));
      if (step > 0) {
        const double keep = 1 - step;
        next = internal::MoveAndArgmin(h.data(), column, cost.data(), k, keep, step);
        if (step == 1) {
          x.setZero();
          xs[i] = 1;
          scale = 1;
          vertex = i;
        } else {
          scale *= keep;
          xs[i] += step / scale;
          vertex = -1;
        }
        if (t % kRefresh == 0 || scale < 1e-150) {
          exact_sums();
        } else {
          xh = keep * keep * xh + 2 * step * keep * hi + step * step * column[i];
          cx = keep * cx + step * p.c[i];
        }
      }
    }
    prev = cur;
    cur = value();
  }
  exact_sums();  // x = xs
  return {std::move(x), t};
}

// synthdid's sparsify_function: zero the weights at or below max/4, renormalise.
VectorXd Sparsify(VectorXd v) {
  const double cut = v.maxCoeff() / 4;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (v[i] <= cut) v[i] = 0;
  }
  return v / v.sum();
}

// The two-round solve of synthdid_estimate: max_iter_pre_sparsify iterations from the
// start, then (if sparsify) a restart from the sparsified weights up to max_iter. Both
// rounds share the columns of H.
FwResult SolveWeights(const GramProblem& p, VectorXd start, double min_decrease,
                      const SyntheticOptions& o, MatrixXd* storage) {
  HessianColumns columns(p, storage);
  const int first_max = o.sparsify ? o.max_iterations_pre_sparsify : o.max_iterations;
  FwResult r = FrankWolfe(p, columns, std::move(start), min_decrease, first_max);
  if (!o.sparsify) return r;
  const int first = r.iterations;
  r = FrankWolfe(p, columns, Sparsify(std::move(r.x)), min_decrease, o.max_iterations);
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
  MatrixXd omega_gram;     // N0 x N0: omega_cols(:, controls)' omega_cols(:, controls)
  MatrixXd omega_hessian;  // omega_gram + T0 zeta_omega^2 I, shared by every placebo
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
    p.omega_hessian = p.omega_gram;
    p.omega_hessian.diagonal().array() += p.t0 * p.zeta_omega * p.zeta_omega;
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

// The time-weight problem over every control but the placebo-treated rows `treated`
// (all controls when it is empty). Its Gram matrix is the full one's less the dropped
// rows and the shift of the column means: with w_j the rows of lambda_rows (centred over
// all controls) and m = -sum_{j in treated} w_j / n the mean of the n kept rows,
//   G' = G - sum_{j in treated} w_j w_j' - n m m' = G - D'D,
// D = [w_j (j in treated); sqrt(n) m]. `downdate` receives D.
GramProblem LambdaProblem(const Prepared& p, const std::vector<int>& treated, MatrixXd* downdate) {
  const int t0 = p.t0;
  const int r = static_cast<int>(treated.size());
  const double n = static_cast<double>(p.n0 - r);
  GramProblem q;
  q.gram = &p.lambda_gram;  // its leading t0 x t0 block is A'A
  q.c = p.lambda_gram.col(t0).head(t0);
  q.bb = p.lambda_gram(t0, t0);
  q.rows = n;
  q.eta = n * p.zeta_lambda * p.zeta_lambda;
  if (r > 0) {
    downdate->resize(r + 1, t0 + 1);
    VectorXd sum = VectorXd::Zero(t0 + 1);
    for (int k = 0; k < r; ++k) {
      downdate->row(k) = p.lambda_rows.row(treated[static_cast<size_t>(k)]);
      sum -= downdate->row(k).transpose();
    }
    downdate->row(r) = sum.transpose() / std::sqrt(n);  // sqrt(n) m
    q.downdate = downdate;
    q.c.noalias() -= downdate->leftCols(t0).transpose() * downdate->col(t0);
    q.bb -= downdate->col(t0).squaredNorm();
  }
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
  MatrixXd columns;
  if (FitsLambda(o)) {
    const GramProblem q = LambdaProblem(p, {}, nullptr);
    FwResult r = SolveWeights(q, UniformWeights(p.t0), p.min_decrease, o, &columns);
    w.lambda = std::move(r.x);
    w.lambda_iterations = r.iterations;
  } else {
    w.lambda = FixedLambda(o, p.t0);
  }
  if (FitsOmega(o)) {
    GramProblem q;
    q.hessian = &p.omega_hessian;
    const VectorXd b = p.omega_cols.rightCols(p.n1).rowwise().mean();
    q.c = p.omega_cols.leftCols(p.n0).transpose() * b;
    q.bb = b.squaredNorm();
    q.rows = p.t0;
    FwResult r = SolveWeights(q, UniformWeights(p.n0), p.min_decrease, o, &columns);
    w.omega = std::move(r.x);
    w.omega_iterations = r.iterations;
  } else {
    w.omega = UniformWeights(p.n0);
  }
  return w;
}

// Memory one thread's placebo replications reuse.
struct PlaceboWorkspace {
  MatrixXd lambda_downdate, lambda_columns;
};

// One placebo replication: rows perm[0..n0-n1) are controls, the rest treated. The
// unit-weight problem keeps every control's index and holds the placebo-treated ones at
// 0, so ties in its argmin go to the lowest row rather than to the first in the
// permutation as in synthdid; the gradients of two controls tie only when their
// de-meaned pre-period series are identical.
double Placebo(const Prepared& p, const SyntheticWeights& fitted, const SyntheticOptions& o,
               const std::vector<int>& perm, PlaceboWorkspace* work) {
  const int n1 = p.n1;
  const int n0 = p.n0 - n1;
  const std::vector<int> treated(perm.begin() + n0, perm.end());
  VectorXd lambda = fitted.lambda;
  if (FitsLambda(o)) {
    const GramProblem q = LambdaProblem(p, treated, &work->lambda_downdate);
    lambda = SolveWeights(q, fitted.lambda, p.min_decrease, o, &work->lambda_columns).x;
  }
  // synthdid: sum_normalize(omega[controls]).
  VectorXd omega = fitted.omega;
  for (int j : treated) omega[j] = 0;
  const double sum = omega.sum();
  if (sum != 0) {
    omega /= sum;
  } else {
    omega.setConstant(1.0 / n0);
    for (int j : treated) omega[j] = 0;
  }
  if (FitsOmega(o)) {
    GramProblem q;
    q.hessian = &p.omega_hessian;
    q.excluded = &treated;
    q.c = VectorXd::Zero(p.n0);
    double bb = 0;
    for (int j : treated) {
      q.c += p.omega_gram.col(j);
      for (int k : treated) bb += p.omega_gram(j, k);
    }
    q.c /= n1;
    for (int j : treated) q.c[j] = 0;
    q.bb = bb / (static_cast<double>(n1) * n1);
    q.rows = p.t0;
    omega = SolveWeights(q, std::move(omega), p.min_decrease, o, nullptr).x;
  }
  const VectorXd u = UnitTerms(*p.block, lambda);
  double tau = 0;
  for (int j : treated) tau += u[j];
  return tau / n1 - omega.dot(u.head(p.n0));
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
    PlaceboWorkspace work;
    for (size_t r = lo; r < hi; ++r) {
      out[r] = Placebo(p, fitted, options, permutations[r], &work);
    }
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
    const VectorXd donor_pre_mean = b.y.topLeftCorner(n0, t0).rowwise().mean();
    for (int t = 0; t < t0; ++t) {
      auto donor = [&](int i) { return centred ? b.y(i, t) - donor_pre_mean[i] : b.y(i, t); };
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
