// Callaway & Sant'Anna (2021) group-time average treatment effects, unconditional
// (no covariates) panel estimator, with the did package's aggregations.
//
// What it estimates: for each cohort g (units first treated in period g) and period t,
//   ATT(g,t) = E[Y_t(g) - Y_t(0) | G = g],
// identified under parallel trends (relative to never-treated units, or to units not yet
// treated by t) and no anticipation by the 2x2 comparison of means
//   ATT(g,t) = (Ybar_{g,t} - Ybar_{g,b}) - (Ybar_{C,t} - Ybar_{C,b}),
// where b = g-1 (the last period before g) for t >= g; for t < g, b = t-1 ("varying" base,
// the did default) or g-1 ("universal"). Controls C: never-treated units, or with
// not-yet-treated controls the never-treated plus units with G > max(t, b), G != g.
// Means are weighted by unit weights (normalised to mean 1) when given.
//
// Inference: analytic influence functions (no bootstrap). For unit i among n units,
//   psi_i = w_i D_i (dY_i - mu_1)/p_1 - w_i C_i (dY_i - mu_0)/p_0,
// p_1 = mean(w D), p_0 = mean(w C) over all n units, and se = sqrt(sum psi_i^2)/n; this is
// the influence function DRDID::reg_did_panel returns with an intercept-only model,
// rescaled by n/n_1 as did::compute.att_gt does. Normal critical values.
//
// Aggregations (did R/compute.aggte.R at bcallaway11/did@71ba8a5), with
// p_g = mean(w 1[G = g]) over all n units:
//   simple:  sum over post cells (t >= g) of ATT(g,t) p_g / sum p_g;
//   group:   theta(g) = mean_{t >= g} ATT(g,t); overall = sum_g theta(g) p_g / sum_g p_g;
//   dynamic: theta(e) = sum_{g: cell (g, g+e) exists} ATT(g,g+e) p_g / sum p_g, for every
//            observed e; overall = mean of theta(e) over e >= 0.
// Aggregated influence functions add the estimation effect of the weights p_g (did's
// `wif`) for simple, the group overall and each theta(e), exactly as did does; the
// pre-trend test is the Wald test of all pre-treatment ATT(g,t) = 0 with their joint
// influence-function covariance, chi2(q).
// Sample (as did): balanced panel (units missing a period are dropped, with a warning);
// units treated in the first period are dropped; units first treated after the last
// period count as never treated; with not-yet-treated controls and no never-treated
// unit, the last cohort serves only as a control.
// Reference: Callaway & Sant'Anna (2021), J. Econometrics 225(2), 200-230,
// doi:10.1016/j.jeconom.2020.12.001.
#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Dense>

#include "causal/did.h"
#include "causal/did_common.h"
#include "causal/inference.h"

namespace causeway::causal {
namespace {

constexpr int64_t kDropped = std::numeric_limits<int64_t>::min();

struct Cell {
  int64_t g;
  int t_index, base_index;
  bool post;
  double att;
  int64_t n_treated, n_control;
};

double SeFromInfluence(const Eigen::Ref<const Eigen::VectorXd>& psi) {
  const double n = static_cast<double>(psi.size());
  return std::sqrt(psi.squaredNorm()) / n;
}

}  // namespace

Result<DidSummary> EstimateCallawaySantAnna(const Panel& panel, const DidOptions& options) {
  std::string reason;
  if (!options.IsValid(&reason)) return Error{"options", reason};
  Result<PanelIndex> indexed = IndexPanel(panel);
  if (!indexed.ok()) return indexed.error();
  const PanelIndex& ix = indexed.value();
  const int32_t periods = ix.periods();
  const std::vector<int64_t> raw_starts = UnitStarts(panel, ix);

  DidSummary s;
  s.method = DidMethod::kCallawaySantAnna;

  // Unit weights: constant within unit.
  std::vector<double> unit_weight(ix.units(), 1.0);
  if (!panel.weight.empty()) {
    std::vector<uint8_t> seen(ix.units(), 0);
    for (size_t r = 0; r < panel.rows(); ++r) {
      const int32_t u = ix.unit_index[r];
      if (!seen[u]) {
        seen[u] = 1;
        unit_weight[u] = panel.weight[r];
      } else if (unit_weight[u] != panel.weight[r]) {
        return Error{"weight",
                     "callaway_santanna needs one weight per unit; the weight varies "
                     "within unit " +
                         std::to_string(panel.unit[r])};
      }
    }
  }

  // Sample: units observed in every period, not treated in the first period.
  std::vector<int64_t> group(ix.units());
  int64_t dropped_unbalanced = 0, dropped_first = 0;
  for (int32_t u = 0; u < ix.units(); ++u) {
    int64_t g = raw_starts[u];
    if (g != kNeverTreated && g > ix.times.back()) g = kNeverTreated;
    if (ix.rows_per_unit[u] != periods) {
      g = kDropped;
      ++dropped_unbalanced;
    } else if (g != kNeverTreated && g <= ix.times.front()) {
      g = kDropped;
      ++dropped_first;
    }
    group[u] = g;
  }
  std::vector<int32_t> sample;  // unit indices kept
  for (int32_t u = 0; u < ix.units(); ++u) {
    if (group[u] != kDropped) sample.push_back(u);
  }
  std::map<int64_t, int64_t> cohort_size;
  int64_t never = 0;
  for (int32_t u : sample) {
    if (group[u] == kNeverTreated) {
      ++never;
    } else {
      ++cohort_size[group[u]];
    }
  }
  if (cohort_size.empty()) {
    if (dropped_first > 0) {
      return InsufficientData("panel",
                              "no pre-period: every treated unit is treated from the first period");
    }
    return InsufficientData("panel", "no treated unit: no unit is first treated inside the panel");
  }
  if (never == 0 &&
      (options.control_group == ControlGroup::kNeverTreated || cohort_size.size() < 2)) {
    return InsufficientData("panel",
                            options.control_group == ControlGroup::kNeverTreated
                                ? "no control unit: there is no never-treated unit; use "
                                  "control_group \"not_yet_treated\""
                                : "no control unit: every unit is treated, at the same time");
  }
  std::vector<int64_t> glist;
  for (const auto& [g, c] : cohort_size) glist.push_back(g);
  if (never == 0) {
    s.warnings.push_back(
        {"last_cohort_control_only", "no never-treated unit: the last cohort (" +
                                         std::to_string(glist.back()) +
                                         ") serves only as a not-yet-treated control"});
    glist.pop_back();
  }
  if (dropped_unbalanced > 0) {
    s.warnings.push_back(
        {"unbalanced_panel", std::to_string(dropped_unbalanced) +
                                 " units not observed in every period were "
                                 "dropped (the estimator needs a balanced panel)"});
  }
  if (dropped_first > 0) {
    s.warnings.push_back({"treated_first_period", std::to_string(dropped_first) +
                                                      " units already treated in the first period "
                                                      "were dropped (no pre-period)"});
  }

  // Dense outcome matrix: units in the sample x periods; normalised unit weights.
  const Eigen::Index n = static_cast<Eigen::Index>(sample.size());
  std::vector<int32_t> position(ix.units(), -1);
  for (Eigen::Index i = 0; i < n; ++i) position[sample[i]] = static_cast<int32_t>(i);
  Eigen::MatrixXd y(n, periods);
  for (size_t r = 0; r < panel.rows(); ++r) {
    const int32_t i = position[ix.unit_index[r]];
    if (i >= 0) y(i, ix.time_index[r]) = panel.outcome[r];
  }
  Eigen::VectorXd w(n);

  std::vector<int64_t> unit_g(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    w(i) = unit_weight[sample[i]];
    unit_g[i] = group[sample[i]];
  }
  w /= w.mean();

  // Base period index for cohort g: the last period before g.
  auto last_before = [&](int64_t g) {
    int idx = -1;
    for (int k = 0; k < periods; ++k) {
      if (ix.times[k] < g) idx = k;
    }
    return idx;
  };

  std::vector<Cell> cells;
  std::vector<Eigen::VectorXd> psi_cols;
  const bool never_control = options.control_group == ControlGroup::kNeverTreated;
  for (int64_t g : glist) {
    const int pre_g = last_before(g);
    if (pre_g < 0) continue;  // cannot happen after dropping first-period units
    const int first_t = options.base_period == BasePeriod::kVarying ? 1 : 0;
    for (int t = first_t; t < periods; ++t) {
      const bool post = ix.times[t] >= g;
      int base = post || options.base_period == BasePeriod::kUniversal ? pre_g : t - 1;
      Cell cell{g, t, base, post, 0.0, 0, 0};
      if (base == t) {  // universal base: the reference cell, 0 by construction
        cells.push_back(cell);
        psi_cols.push_back(Eigen::VectorXd::Zero(n));
        continue;
      }
      const int64_t threshold = std::max(ix.times[t], ix.times[base]);
      double s1 = 0, s0 = 0, m1 = 0, m0 = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const double dy = y(i, t) - y(i, base);
        if (unit_g[i] == g) {
          s1 += w(i);
          m1 += w(i) * dy;
          ++cell.n_treated;
        } else if (unit_g[i] == kNeverTreated || (!never_control && unit_g[i] > threshold)) {
          s0 += w(i);
          m0 += w(i) * dy;
          ++cell.n_control;
        }
      }
      if (cell.n_control == 0) continue;  // no not-yet-treated control left for this cell
      m1 /= s1;
      m0 /= s0;
      cell.att = m1 - m0;
      const double p1 = s1 / static_cast<double>(n), p0 = s0 / static_cast<double>(n);
      Eigen::VectorXd psi = Eigen::VectorXd::Zero(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        const double dy = y(i, t) - y(i, base);
        if (unit_g[i] == g) {
          psi(i) = w(i) * (dy - m1) / p1;
        } else if (unit_g[i] == kNeverTreated || (!never_control && unit_g[i] > threshold)) {
          psi(i) = -w(i) * (dy - m0) / p0;
        }
      }
      cells.push_back(cell);
      psi_cols.push_back(std::move(psi));
    }
  }
  if (cells.empty())
    return InsufficientData("panel", "no group-time cell has both treated and control units");

  const double conf = options.confidence;
  // p_g over all n units (did's pg).
  std::map<int64_t, double> pg;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (unit_g[i] != kNeverTreated) pg[unit_g[i]] += w(i) / static_cast<double>(n);
  }

  // Influence of estimating the weights p_g of the cells in `keep` (did's wif %*% att).
  auto weight_influence = [&](const std::vector<size_t>& keep, const std::vector<double>& att_k,
                              const std::vector<int64_t>& g_k) {
    double spg = 0, pg_att = 0;
    for (size_t a = 0; a < keep.size(); ++a) {
      spg += pg[g_k[a]];
      pg_att += pg[g_k[a]] * att_k[a];
    }
    Eigen::VectorXd out(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      double centered_att = 0, rowsum = 0;
      for (size_t a = 0; a < keep.size(); ++a) {
        const double c = w(i) * (unit_g[i] == g_k[a] ? 1.0 : 0.0) - pg[g_k[a]];
        centered_att += c * att_k[a];
        rowsum += c;
      }
      out(i) = centered_att / spg - rowsum * pg_att / (spg * spg);
    }
    return out;
  };
  // sum_k weights_k psi_k (+ weight influence) over cells `keep`, weights p_g / sum p_g.
  auto aggregate = [&](const std::vector<size_t>& keep, bool with_wif, Eigen::VectorXd* psi) {
    double spg = 0;
    for (size_t c : keep) spg += pg[cells[c].g];
    double est = 0;
    psi->setZero(n);
    std::vector<double> att_k;
    std::vector<int64_t> g_k;
    for (size_t c : keep) {
      const double wk = pg[cells[c].g] / spg;
      est += wk * cells[c].att;
      *psi += wk * psi_cols[c];
      att_k.push_back(cells[c].att);
      g_k.push_back(cells[c].g);
    }
    if (with_wif) *psi += weight_influence(keep, att_k, g_k);
    return est;
  };

  for (size_t c = 0; c < cells.size(); ++c) {
    GroupTimeAtt gt;
    gt.group = cells[c].g;
    gt.time = ix.times[cells[c].t_index];
    gt.base_time = ix.times[cells[c].base_index];
    gt.post = cells[c].post;
    gt.inference = MakeInference(cells[c].att, SeFromInfluence(psi_cols[c]), kInfiniteDf, conf);
    gt.treated_units = cells[c].n_treated;
    gt.control_units = cells[c].n_control;
    s.group_time.push_back(gt);
  }

  // simple
  std::vector<size_t> post_cells;
  for (size_t c = 0; c < cells.size(); ++c) {
    if (cells[c].post) post_cells.push_back(c);
  }
  if (post_cells.empty())
    return InsufficientData("panel", "no post-treatment group-time cell can be estimated");
  Eigen::VectorXd psi;
  {
    const double est = aggregate(post_cells, true, &psi);
    s.simple = MakeInference(est, SeFromInfluence(psi), kInfiniteDf, conf);
  }
  // group
  {
    std::vector<double> theta;
    std::vector<int64_t> gs;
    std::vector<Eigen::VectorXd> psis;
    for (int64_t g : glist) {
      std::vector<size_t> keep;
      for (size_t c : post_cells) {
        if (cells[c].g == g) keep.push_back(c);
      }
      if (keep.empty()) continue;
      Eigen::VectorXd pg_psi;
      const double est = aggregate(keep, false, &pg_psi);
      s.by_cohort.push_back(
          {g, MakeInference(est, SeFromInfluence(pg_psi), kInfiniteDf, conf), cohort_size[g]});
      theta.push_back(est);
      gs.push_back(g);
      psis.push_back(std::move(pg_psi));
    }
    double spg = 0, est = 0;
    for (int64_t g : gs) spg += pg[g];
    psi.setZero(n);
    std::vector<size_t> idx(gs.size());
    for (size_t a = 0; a < gs.size(); ++a) {
      est += pg[gs[a]] / spg * theta[a];
      psi += pg[gs[a]] / spg * psis[a];
      idx[a] = a;
    }
    psi += weight_influence(idx, theta, gs);
    s.group = MakeInference(est, SeFromInfluence(psi), kInfiniteDf, conf);
  }
  // dynamic
  {
    std::map<int64_t, std::vector<size_t>> by_e;
    for (size_t c = 0; c < cells.size(); ++c) {
      by_e[ix.times[cells[c].t_index] - cells[c].g].push_back(c);
    }
    Eigen::VectorXd overall_psi = Eigen::VectorXd::Zero(n);
    double overall = 0;
    int64_t m = 0;
    for (const auto& [e, keep] : by_e) {
      Eigen::VectorXd e_psi;
      const double est = aggregate(keep, true, &e_psi);
      EventTimeEstimate ev;
      ev.event_time = e;
      ev.inference = MakeInference(est, SeFromInfluence(e_psi), kInfiniteDf, conf);
      ev.observations = static_cast<int64_t>(keep.size());
      if (options.base_period == BasePeriod::kUniversal && e == -1) ev.reference = true;
      s.event_time.push_back(ev);
      if (e >= 0) {
        overall += est;
        overall_psi += e_psi;
        ++m;
      }
    }
    overall /= static_cast<double>(m);
    overall_psi /= static_cast<double>(m);
    s.dynamic = MakeInference(overall, SeFromInfluence(overall_psi), kInfiniteDf, conf);
  }

  // Pre-trend test over the pre-treatment cells (excluding universal reference cells).
  {
    std::vector<size_t> pre;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (!cells[c].post && cells[c].base_index != cells[c].t_index) pre.push_back(c);
    }
    if (!pre.empty()) {
      const Eigen::Index q = static_cast<Eigen::Index>(pre.size());
      Eigen::MatrixXd f(n, q);
      Eigen::VectorXd b(q);
      for (Eigen::Index a = 0; a < q; ++a) {
        f.col(a) = psi_cols[pre[a]];
        b(a) = cells[pre[a]].att;
      }
      Eigen::MatrixXd v = Eigen::MatrixXd::Zero(q, q);
      v.selfadjointView<Eigen::Lower>().rankUpdate(f.transpose());
      v = v.selfadjointView<Eigen::Lower>();
      v /= static_cast<double>(n) * static_cast<double>(n);
      Eigen::LDLT<Eigen::MatrixXd> ldlt(v);
      const double dmax = ldlt.vectorD().cwiseAbs().maxCoeff();
      if (ldlt.info() == Eigen::Success && ldlt.vectorD().minCoeff() > 1e-12 * dmax) {
        WaldTest wt;
        wt.statistic = b.dot(ldlt.solve(b));
        wt.df = q;
        wt.p = ChiSquareSurvival(wt.statistic, static_cast<double>(q));
        wt.f_statistic = wt.statistic / static_cast<double>(q);
        wt.f_df2 = kInfiniteDf;
        wt.f_p = wt.p;
        s.pretrend = wt;
        if (wt.p < options.pretrend_alpha) {
          s.warnings.push_back(
              {"pretrend_rejected",
               "the joint test of the pre-treatment ATT(g,t) rejects (p = " + std::to_string(wt.p) +
                   "): parallel trends is doubtful for these cohorts (Roth 2022)"});
        }
      } else {
        s.warnings.push_back({"pretrend_singular",
                              "the covariance of the pre-treatment ATT(g,t) is singular; no "
                              "pre-trend test reported"});
      }
    }
  }

  switch (options.aggregation) {
    case CsAggregation::kGroup:
      s.att = *s.group;
      s.estimand = "overall ATT: cohort ATTs averaged over post periods, weighted by cohort size";
      break;
    case CsAggregation::kSimple:
      s.att = *s.simple;
      s.estimand = "overall ATT: post-treatment ATT(g,t) weighted by cohort size";
      break;
    case CsAggregation::kDynamic:
      s.att = *s.dynamic;
      s.estimand = "overall ATT: mean of the event-time effects for e >= 0";
      break;
  }
  s.observations = n * periods;
  s.units = n;
  s.clusters = n;
  s.periods = periods;
  s.balanced = ix.balanced;
  for (const auto& [g, c] : cohort_size) s.treated_units += c;
  s.control_units = never;
  if (s.clusters < 30) {
    s.warnings.push_back({"few_clusters", "only " + std::to_string(s.clusters) +
                                              " units: influence-function standard errors are "
                                              "unreliable with so few units"});
  }

  return s;
}

}  // namespace causeway::causal
