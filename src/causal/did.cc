#include "causal/did.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "causal/did_common.h"
#include "causal/fe_ols.h"
#include "causal/inference.h"

namespace causeway::causal {

const char* DidMethodName(DidMethod method) {
  switch (method) {
    case DidMethod::k2x2:
      return "2x2";
    case DidMethod::kTwfe:
      return "twfe";
    case DidMethod::kEventStudy:
      return "event_study";
    case DidMethod::kCallawaySantAnna:
      return "callaway_santanna";
  }
  return "?";
}

std::optional<DidMethod> ParseDidMethod(const std::string& name) {
  if (name == "2x2") return DidMethod::k2x2;
  if (name == "twfe") return DidMethod::kTwfe;
  if (name == "event_study") return DidMethod::kEventStudy;
  if (name == "callaway_santanna") return DidMethod::kCallawaySantAnna;
  return std::nullopt;
}

bool DidOptions::IsValid(std::string* error) const {
  auto fail = [&](const char* message) {
    if (error) *error = message;
    return false;
  };
  if (!(confidence > 0 && confidence < 1)) return fail("confidence must be in (0, 1)");
  if (min_event_time && max_event_time && *min_event_time > *max_event_time) {
    return fail("min_event_time must not exceed max_event_time");
  }
  if (min_event_time && *min_event_time > reference_period) {
    return fail("min_event_time must not exceed reference_period");
  }
  if (max_event_time && *max_event_time < reference_period) {
    return fail("max_event_time must not be below reference_period");
  }
  if (!(demean_tolerance > 0)) return fail("demean_tolerance must be positive");
  if (max_demean_iterations < 1) return fail("max_demean_iterations must be at least 1");
  if (!(pretrend_alpha > 0 && pretrend_alpha < 1)) return fail("pretrend_alpha must be in (0, 1)");
  if (threads < 0) return fail("threads must be 0 (every core) or positive");
  return true;
}

std::vector<int64_t> UnitStarts(const Panel& panel, const PanelIndex& ix) {
  if (panel.has_treatment_start()) return ix.unit_start;
  std::vector<int64_t> starts(ix.units(), kNeverTreated);
  for (size_t r = 0; r < panel.rows(); ++r) {
    if (panel.treated[r] && panel.post[r]) {
      int64_t& s = starts[ix.unit_index[r]];
      s = std::min(s, panel.time[r]);
    }
  }
  return starts;
}

std::vector<int64_t> ObservedCohorts(const std::vector<int64_t>& starts, const PanelIndex& ix) {
  std::set<int64_t> cohorts;
  for (int64_t s : starts) {
    if (s != kNeverTreated && s > ix.times.front() && s <= ix.times.back()) cohorts.insert(s);
  }
  return {cohorts.begin(), cohorts.end()};
}

void AddDesignWarnings(const PanelIndex& ix, int64_t clusters, std::vector<Warning>* warnings) {
  if (clusters < 30) {
    warnings->push_back(
        {"few_clusters",
         "only " + std::to_string(clusters) +
             " clusters (units): cluster-robust standard errors are unreliable with fewer than "
             "about 30 clusters and tend to be too small (Cameron & Miller 2015); consider a wild "
             "cluster bootstrap or randomisation inference"});
  }
  if (!ix.balanced) {
    warnings->push_back(
        {"unbalanced_panel",
         "the panel is unbalanced (not every unit is observed in every period): units entering "
         "or leaving can bias DiD if attrition is related to treatment; check composition"});
  }
}

namespace {

void StaggeredWarning(const std::vector<int64_t>& cohorts, const char* method,
                      std::vector<Warning>* warnings) {
  if (cohorts.size() < 2) return;
  warnings->push_back(
      {"staggered_timing",
       std::string("treatment starts at ") + std::to_string(cohorts.size()) +
           " different times: " + method +
           " then also compares later-treated units with already-treated units, so with effects "
           "that change over time some ATTs get negative weights and the estimate can even have "
           "the wrong sign (Goodman-Bacon 2021; de Chaisemartin & D'Haultfoeuille 2020; Sun & "
           "Abraham 2021). Use method \"callaway_santanna\""});
}

Inference CoefficientInference(const ClusteredFit& fit, int j, double confidence) {
  return MakeInference(fit.beta(j), std::sqrt(fit.vcov(j, j)), fit.df(), confidence);
}

void AppendCovariates(const Panel& panel, Eigen::MatrixXd* x, std::vector<std::string>* names,
                      Eigen::Index first) {
  for (size_t j = 0; j < panel.covariates.size(); ++j) {
    x->col(first + static_cast<Eigen::Index>(j)) =
        Eigen::Map<const Eigen::VectorXd>(panel.covariates[j].data(), panel.rows());
    names->push_back(panel.covariate_names[j]);
  }
}

void FillCoefficients(const ClusteredFit& fit, double confidence, DidSummary* s) {
  for (size_t j = 0; j < fit.names.size(); ++j) {
    s->coefficients.push_back(
        {fit.names[j], CoefficientInference(fit, static_cast<int>(j), confidence)});
  }
  for (const std::string& name : fit.dropped) {
    s->warnings.push_back({"collinear_dropped", "'" + name +
                                                    "' is collinear with the fixed effects or "
                                                    "other regressors and was dropped"});
  }
  if (!fit.converged) {
    s->warnings.push_back({"demeaning_not_converged",
                           "alternating projections did not reach the tolerance; estimates may "
                           "be inaccurate"});
  }
  s->parameters = fit.parameters;
  s->demean_iterations = fit.iterations;
  s->observations = fit.observations;
  s->clusters = fit.clusters;
}

}  // namespace

Result<DidSummary> EstimateDid(const Panel& panel, const DidOptions& options) {
  switch (options.method) {
    case DidMethod::k2x2:
      return Estimate2x2(panel, options);
    case DidMethod::kTwfe:
      return EstimateTwfe(panel, options);
    case DidMethod::kEventStudy:
      return EstimateEventStudy(panel, options);
    case DidMethod::kCallawaySantAnna:
      return EstimateCallawaySantAnna(panel, options);
  }
  return Error{"method", "unknown method"};
}

// Classic 2x2 difference in differences.
//
// Estimates the ATT of the treated group in the post period:
//   ATT = (Ybar_treated,post - Ybar_treated,pre) - (Ybar_control,post - Ybar_control,pre),
// computed as the coefficient d of the pooled (W)LS regression
//   y_it = a + b treated_i + c post_t + d treated_i*post_t [+ x_it' g] + e_it,
// which equals the difference of cell means without covariates. Standard errors are CR1
// clustered by unit with K = 4 + covariates, inference t(G-1).
// Assumptions: parallel trends in the untreated outcome, no anticipation, stable group
// composition. Reference: Angrist & Pischke (2009), Mostly Harmless Econometrics, ch. 5.2;
// Card & Krueger (1994).
Result<DidSummary> Estimate2x2(const Panel& panel, const DidOptions& options) {
  std::string reason;
  if (!options.IsValid(&reason)) return Error{"options", reason};
  Result<PanelIndex> indexed = IndexPanel(panel);
  if (!indexed.ok()) return indexed.error();
  const PanelIndex& ix = indexed.value();
  const size_t n = panel.rows();

  std::vector<uint8_t> treated = panel.treated, post = panel.post;
  if (!panel.has_flags()) {
    std::vector<int64_t> cohorts = ObservedCohorts(ix.unit_start, ix);
    bool any_treated = false;
    for (int64_t s : ix.unit_start) any_treated |= (s != kNeverTreated && s <= ix.times.back());
    if (!any_treated)
      return InsufficientData("panel", "no treated unit: no unit is treated inside the panel");
    if (cohorts.empty()) {
      return InsufficientData("panel",
                              "no pre-period: the treated units are treated from the first period");
    }
    if (cohorts.size() != 1) {
      return Error{"treatment_start",
                   "method 2x2 needs 'treated' and 'post' flags or exactly one treatment start "
                   "inside the panel (found " +
                       std::to_string(cohorts.size()) +
                       "); use \"twfe\", \"event_study\" or \"callaway_santanna\" for staggered "
                       "timing"};
    }
    treated.resize(n);
    post.resize(n);
    for (size_t r = 0; r < n; ++r) {
      treated[r] = ix.unit_start[ix.unit_index[r]] == cohorts[0];
      post[r] = panel.time[r] >= cohorts[0];
    }
  }

  double sums[2][2] = {{0, 0}, {0, 0}}, wsum[2][2] = {{0, 0}, {0, 0}};
  int64_t count[2][2] = {{0, 0}, {0, 0}};
  for (size_t r = 0; r < n; ++r) {
    const double w = panel.weight.empty() ? 1.0 : panel.weight[r];
    sums[treated[r]][post[r]] += w * panel.outcome[r];
    wsum[treated[r]][post[r]] += w;
    ++count[treated[r]][post[r]];
  }
  if (count[1][0] + count[1][1] == 0)
    return InsufficientData("panel", "no treated unit: no row has treated = 1");
  if (count[0][0] + count[0][1] == 0)
    return InsufficientData("panel", "no control unit: no row has treated = 0");
  if (count[1][0] == 0 || count[0][0] == 0) {
    return InsufficientData("panel", std::string("no pre-period: no row with post = 0 for the ") +
                                         (count[1][0] == 0 ? "treated" : "control") + " group");
  }
  if (count[1][1] == 0 || count[0][1] == 0) {
    return InsufficientData("panel", std::string("no post-period: no row with post = 1 for the ") +
                                         (count[1][1] == 0 ? "treated" : "control") + " group");
  }

  const Eigen::Index k = 4 + static_cast<Eigen::Index>(panel.covariates.size());
  Eigen::MatrixXd x(n, k);
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(panel.outcome.data(), n);
  for (size_t r = 0; r < n; ++r) {
    x(r, 0) = 1;
    x(r, 1) = treated[r];
    x(r, 2) = post[r];
    x(r, 3) = treated[r] * post[r];
  }
  std::vector<std::string> names = {"(intercept)", "treated", "post", "treated:post"};
  AppendCovariates(panel, &x, &names, 4);
  Result<ClusteredFit> fit =
      FitClustered(ix, std::move(y), std::move(x), names, panel.weight, false, options);
  if (!fit.ok()) return fit.error();
  const int j = fit.value().Find("treated:post");
  if (j < 0) return InsufficientData("panel", "treated:post is collinear with the covariates");

  DidSummary s;
  s.method = DidMethod::k2x2;
  s.estimand =
      "ATT: (treated post - treated pre) - (control post - control pre), coefficient on "
      "treated:post";
  FillCoefficients(fit.value(), options.confidence, &s);
  s.att = CoefficientInference(fit.value(), j, options.confidence);
  s.cells = CellMeans{sums[0][0] / wsum[0][0], sums[0][1] / wsum[0][1], sums[1][0] / wsum[1][0],
                      sums[1][1] / wsum[1][1]};
  s.units = ix.units();
  s.periods = ix.periods();
  s.balanced = ix.balanced;
  std::vector<uint8_t> unit_treated(ix.units(), 0);
  for (size_t r = 0; r < n; ++r) unit_treated[ix.unit_index[r]] |= treated[r];
  for (uint8_t t : unit_treated) (t ? s.treated_units : s.control_units)++;
  AddDesignWarnings(ix, s.clusters, &s.warnings);
  return s;
}

// Two-way fixed effects DiD.
//
// Estimates b in
//   y_it = a_i + l_t + b D_it [+ x_it' g] + e_it,   D_it = 1[t >= treatment_start_i]
// (or treated*post with flags), with a_i, l_t absorbed by the within transformation (see
// fe_ols.h) and CR1 errors clustered by unit, t(G-1) inference. With a single adoption
// date b is the ATT under parallel trends and no anticipation. With staggered adoption b
// is a weighted average of 2x2 comparisons, some using already-treated units as controls,
// whose weights can be negative when effects vary over time (Goodman-Bacon 2021, J.
// Econometrics 225(2)); prefer Callaway & Sant'Anna there. References: Wooldridge (2010),
// Econometric Analysis of Cross Section and Panel Data, ch. 10; Cameron & Miller (2015),
// J. Human Resources 50(2), for CR1.
Result<DidSummary> EstimateTwfe(const Panel& panel, const DidOptions& options) {
  std::string reason;
  if (!options.IsValid(&reason)) return Error{"options", reason};
  Result<PanelIndex> indexed = IndexPanel(panel, RowIndices::kOnDemand, options.threads);
  if (!indexed.ok()) return indexed.error();
  PanelIndex& ix = indexed.value();
  const bool balanced_route = CanFitTwfeBalanced(panel, ix);
  // Row indices are needed by the flag rows below and by the iterative route.
  if (panel.has_flags() || !balanced_route) MaterializeRowIndices(panel, &ix);
  const size_t n = panel.rows();
  const std::vector<int64_t> starts = UnitStarts(panel, ix);

  // Units ever treated, and treated units with an untreated row.
  int64_t treated_units = 0, with_pre = 0;
  if (panel.has_flags() || !ix.balanced) {
    std::vector<uint8_t> ever(ix.units(), 0), never_off(ix.units(), 1);
    for (size_t r = 0; r < n; ++r) {
      const int32_t u = ix.unit_index[r];
      const bool on =
          panel.has_flags() ? (panel.treated[r] && panel.post[r]) : panel.time[r] >= starts[u];
      ever[u] |= on;
      never_off[u] &= on;
    }
    for (int32_t u = 0; u < ix.units(); ++u) {
      treated_units += ever[u];
      with_pre += ever[u] && !never_off[u];
    }
  } else {
    // Balanced with a start per unit: every unit is observed from the first period to
    // the last.
    for (int64_t s : starts) {
      treated_units += s <= ix.times.back();
      with_pre += s <= ix.times.back() && s > ix.times.front();
    }
  }
  const int64_t control_units = ix.units() - treated_units;
  if (treated_units == 0)
    return InsufficientData("panel", "no treated unit: the treatment is never switched on");
  if (with_pre == 0) {
    return InsufficientData(
        "panel", "no pre-period: every treated unit is treated in all its observed periods");
  }
  const std::vector<int64_t> cohorts = ObservedCohorts(starts, ix);
  if (control_units == 0 && cohorts.size() < 2) {
    return InsufficientData("panel", "no control unit: every unit is treated, at the same time");
  }

  auto fit_twfe = [&]() -> Result<ClusteredFit> {
    if (balanced_route) return FitTwfeBalanced(panel, ix, starts, options);
    const Eigen::Index k = 1 + static_cast<Eigen::Index>(panel.covariates.size());
    Eigen::MatrixXd x(n, k);
    for (size_t r = 0; r < n; ++r) {
      x(r, 0) = panel.has_flags() ? (panel.treated[r] && panel.post[r])
                                  : panel.time[r] >= starts[ix.unit_index[r]];
    }
    std::vector<std::string> names = {"treatment"};
    AppendCovariates(panel, &x, &names, 1);
    Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(panel.outcome.data(), n);
    return FitClustered(ix, std::move(y), std::move(x), names, panel.weight, true, options);
  };
  const Result<ClusteredFit> fit = fit_twfe();
  if (!fit.ok()) return fit.error();
  const int j = fit.value().Find("treatment");
  if (j < 0) {
    return InsufficientData(
        "panel", "the treatment indicator is collinear with the unit and time fixed effects");
  }

  DidSummary s;
  s.method = DidMethod::kTwfe;
  s.estimand = "coefficient on D_it = 1[t >= treatment start] with unit and time fixed effects";
  FillCoefficients(fit.value(), options.confidence, &s);
  s.att = CoefficientInference(fit.value(), j, options.confidence);
  s.units = ix.units();
  s.periods = ix.periods();
  s.balanced = ix.balanced;
  s.treated_units = treated_units;
  s.control_units = control_units;
  AddDesignWarnings(ix, s.clusters, &s.warnings);
  StaggeredWarning(cohorts, "two-way fixed effects", &s.warnings);
  return s;
}

// Event study (dynamic TWFE).
//
// Estimates the leads and lags b_k in
//   y_it = a_i + l_t + sum_{k != r} b_k 1[t - g_i = k] [+ x_it' g] + e_it,
// where g_i is the unit's treatment start (never-treated units have every dummy 0), r the
// reference period (default -1, so b_k is relative to the period before treatment), and
// relative times beyond [min_event_time, max_event_time] are binned into the end points.
// CR1 errors by unit and t(G-1) inference as in TWFE. `att` is the equally weighted mean
// of the lags b_k, k >= 0, with variance 1'V1/m^2.
// Pre-trend test: H0 b_k = 0 for every lead k < 0, k != r; W = b' V^{-1} b ~ chi2(q), and
// F = W/q ~ F(q, G-1) (the small-sample form Stata's `test` reports after vce(cluster)).
// Assumptions: parallel trends and no anticipation; with staggered adoption and
// heterogeneous effects b_k is contaminated by effects at other relative times (Sun &
// Abraham 2021, J. Econometrics 225(2)). Reference: Freyaldenhoven et al. (2021) for
// binning; Borusyak, Jaravel & Spiess (2024) for the reference period.
Result<DidSummary> EstimateEventStudy(const Panel& panel, const DidOptions& options) {
  std::string reason;
  if (!options.IsValid(&reason)) return Error{"options", reason};
  Result<PanelIndex> indexed = IndexPanel(panel);
  if (!indexed.ok()) return indexed.error();
  const PanelIndex& ix = indexed.value();
  const size_t n = panel.rows();
  std::vector<int64_t> starts = UnitStarts(panel, ix);
  for (int64_t& s : starts) {
    if (s != kNeverTreated && s > ix.times.back()) s = kNeverTreated;  // treated after the panel
  }

  // Relative time per row (binned); INT64_MIN for never-treated rows.
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> rel(n, kNone);
  std::map<int64_t, int64_t> counts;
  for (size_t r = 0; r < n; ++r) {
    const int64_t s = starts[ix.unit_index[r]];
    if (s == kNeverTreated) continue;
    int64_t k = panel.time[r] - s;
    if (options.min_event_time) k = std::max(k, *options.min_event_time);
    if (options.max_event_time) k = std::min(k, *options.max_event_time);
    rel[r] = k;
    ++counts[k];
  }
  if (counts.empty())
    return InsufficientData("panel", "no treated unit: no unit has a treatment start in the panel");
  bool any_pre = false;
  for (const auto& [k, c] : counts) any_pre |= (k < 0);
  if (!any_pre)
    return InsufficientData(
        "panel", "no pre-period: no treated unit is observed before its treatment starts");
  if (!counts.count(options.reference_period)) {
    return InsufficientData("reference_period", "no treated observation at the reference period " +
                                                    std::to_string(options.reference_period));
  }
  int64_t treated_units = 0;
  for (int64_t s : starts) treated_units += (s != kNeverTreated);
  const int64_t control_units = ix.units() - treated_units;
  if (control_units == 0 && ObservedCohorts(starts, ix).size() < 2) {
    return InsufficientData("panel", "no control unit: every unit is treated, at the same time");
  }

  std::vector<int64_t> event_times;
  for (const auto& [k, c] : counts) {
    if (k != options.reference_period) event_times.push_back(k);
  }
  const Eigen::Index m = static_cast<Eigen::Index>(event_times.size());
  const Eigen::Index k_total = m + static_cast<Eigen::Index>(panel.covariates.size());
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(n, k_total);
  std::map<int64_t, Eigen::Index> column;
  std::vector<std::string> names;
  for (Eigen::Index j = 0; j < m; ++j) {
    column[event_times[j]] = j;
    names.push_back("event_time[" + std::to_string(event_times[j]) + "]");
  }
  for (size_t r = 0; r < n; ++r) {
    if (rel[r] == kNone || rel[r] == options.reference_period) continue;
    x(r, column[rel[r]]) = 1;
  }
  AppendCovariates(panel, &x, &names, m);
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(panel.outcome.data(), n);
  Result<ClusteredFit> fitted =
      FitClustered(ix, std::move(y), std::move(x), names, panel.weight, true, options);
  if (!fitted.ok()) return fitted.error();
  const ClusteredFit& fit = fitted.value();

  DidSummary s;
  s.method = DidMethod::kEventStudy;
  s.estimand = "mean of the post-treatment event-time coefficients (k >= 0), relative to k = " +
               std::to_string(options.reference_period);
  FillCoefficients(fit, options.confidence, &s);
  std::vector<int> lead_idx, lag_idx;
  std::vector<int64_t> lead_k;
  for (const auto& [k, c] : counts) {
    EventTimeEstimate e;
    e.event_time = k;
    e.observations = c;
    if (k == options.reference_period) {
      e.reference = true;
      e.inference = MakeInference(0, 0, fit.df(), options.confidence);
      e.inference.p = 1;
      e.inference.statistic = 0;
      e.inference.ci_lower = e.inference.ci_upper = 0;
    } else {
      const int j = fit.Find(names[column[k]]);
      if (j < 0) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        e.inference = MakeInference(nan, nan, fit.df(), options.confidence);
        e.unavailable = "collinear with the fixed effects or other event times; dropped";
        s.event_time.push_back(e);
        continue;
      }
      e.inference = CoefficientInference(fit, j, options.confidence);
      if (k < 0) {
        lead_idx.push_back(j);
        lead_k.push_back(k);
      } else {
        lag_idx.push_back(j);
      }
    }
    s.event_time.push_back(e);
  }
  if (lag_idx.empty())
    return InsufficientData("panel", "no post-treatment event time can be estimated");
  {
    const double w = 1.0 / static_cast<double>(lag_idx.size());
    double est = 0, var = 0;
    for (int a : lag_idx) {
      est += w * fit.beta(a);
      for (int b : lag_idx) var += w * w * fit.vcov(a, b);
    }
    s.att = MakeInference(est, std::sqrt(var), fit.df(), options.confidence);
  }
  if (!lead_idx.empty()) {
    const Eigen::Index q = static_cast<Eigen::Index>(lead_idx.size());
    Eigen::VectorXd b(q);
    Eigen::MatrixXd v(q, q);
    for (Eigen::Index a = 0; a < q; ++a) {
      b(a) = fit.beta(lead_idx[a]);
      for (Eigen::Index c = 0; c < q; ++c) v(a, c) = fit.vcov(lead_idx[a], lead_idx[c]);
    }
    Eigen::LDLT<Eigen::MatrixXd> ldlt(v);
    if (ldlt.info() == Eigen::Success && ldlt.isPositive() && ldlt.vectorD().minCoeff() > 0) {
      WaldTest w;
      w.event_times = lead_k;
      w.statistic = b.dot(ldlt.solve(b));
      w.df = q;
      w.p = ChiSquareSurvival(w.statistic, static_cast<double>(q));
      w.f_statistic = w.statistic / static_cast<double>(q);
      w.f_df2 = fit.df();
      w.f_p = FSurvival(w.f_statistic, static_cast<double>(q), w.f_df2);
      s.pretrend = w;
      if (w.f_p < options.pretrend_alpha) {
        s.warnings.push_back(
            {"pretrend_rejected",
             "the joint pre-trend test rejects (F p = " + std::to_string(w.f_p) +
                 "): leads differ from zero, so parallel trends is doubtful and the estimates "
                 "should not be read causally without further justification (Roth 2022)"});
      }
    } else {
      s.warnings.push_back({"pretrend_singular",
                            "the covariance of the lead coefficients is singular; no pre-trend "
                            "test reported"});
    }
  }
  s.units = ix.units();
  s.periods = ix.periods();
  s.balanced = ix.balanced;
  s.treated_units = treated_units;
  s.control_units = control_units;
  AddDesignWarnings(ix, s.clusters, &s.warnings);
  StaggeredWarning(ObservedCohorts(starts, ix), "the event study (dynamic TWFE)", &s.warnings);
  return s;
}

}  // namespace causeway::causal
