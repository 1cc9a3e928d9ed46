// The options and results of the difference-in-differences estimators (did.h),
// apart from the estimators, so their building blocks (fe_ols.h, inference.h,
// did_common.h) can share the types without including the estimators they serve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace causeway::causal {

enum class DidMethod { k2x2, kTwfe, kEventStudy, kCallawaySantAnna };
// "2x2", "twfe", "event_study", "callaway_santanna".
const char* DidMethodName(DidMethod method);
std::optional<DidMethod> ParseDidMethod(const std::string& name);

// How many parameters the CR1 small-sample factor (N-1)/(N-K) counts when unit and time
// fixed effects are absorbed.
enum class FixedEffectDof {
  // K = slopes + rank of the absorbed unit and time dummies (units + periods -
  // connected components). Matches lm(y ~ x + factor(unit) + factor(time)) with
  // sandwich::vcovCL(type = "HC1"), estimatr::lm_robust(fixed_effects = ~unit + time,
  // se_type = "stata"), statsmodels OLS with C() dummies and cov_type = "cluster", and
  // Stata `regress ... i.unit i.time, vce(cluster unit)`. The default.
  kAllFixedEffects,
  // K = slopes only (fixed effects not counted). Matches plm(model = "within",
  // effect = "twoways") with plm::vcovHC(method = "arellano", type = "sss").
  kSlopesOnly,
};

enum class ControlGroup { kNeverTreated, kNotYetTreated };
// Callaway & Sant'Anna base period for pre-treatment ATT(g,t): "varying" compares t with
// t-1 (the did package default); "universal" compares every t with g-1.
enum class BasePeriod { kVarying, kUniversal };
enum class CsAggregation { kGroup, kSimple, kDynamic };

struct DidOptions {
  DidMethod method = DidMethod::kTwfe;
  double confidence = 0.95;  // two-sided CI level, in (0, 1)
  FixedEffectDof fe_dof = FixedEffectDof::kAllFixedEffects;

  // Event study: leads/lags relative to treatment_start, t - g. The reference period is
  // omitted (normalised to 0). Relative times below min_event_time are binned into
  // min_event_time, above max_event_time into max_event_time; unset = no binning.
  int64_t reference_period = -1;
  std::optional<int64_t> min_event_time;
  std::optional<int64_t> max_event_time;

  // Callaway & Sant'Anna.
  ControlGroup control_group = ControlGroup::kNeverTreated;
  BasePeriod base_period = BasePeriod::kVarying;
  CsAggregation aggregation = CsAggregation::kGroup;  // which aggregation is `att`

  // Alternating projections for two-way demeaning (unbalanced or weighted panels):
  // stop when max |unit mean| of every demeaned column <= tolerance * scale.
  double demean_tolerance = 1e-12;
  int max_demean_iterations = 10000;

  // Level for the "pre-trends rejected" warning.
  double pretrend_alpha = 0.05;

  // Threads for the per-row passes over large panels (from 2^18 rows): 0 uses every
  // core, 1 keeps the work on the calling thread. Results do not depend on it beyond
  // the order of floating-point sums.
  int threads = 0;

  // Ceres-style validation: false and a reason for out-of-range values.
  bool IsValid(std::string* error) const;
};

// One estimate with its inference. df is +infinity for normal-based inference.
struct Inference {
  double estimate = 0;
  double se = 0;
  double statistic = 0;  // estimate / se
  double p = 1;          // two-sided
  double ci_lower = 0;
  double ci_upper = 0;
  double df = 0;
};

struct Coefficient {
  std::string name;
  Inference inference;
};

struct EventTimeEstimate {
  int64_t event_time = 0;  // t - g (a binned end stands for itself and beyond)
  Inference inference;
  bool reference = false;    // the omitted period (estimate 0, se 0)
  int64_t observations = 0;  // treated rows (event study) or cohorts (C&S) at this time
  // Non-empty when the data cannot give this coefficient (e.g. collinear with the fixed
  // effects and dropped): why; `inference` is then NaN throughout.
  std::string unavailable;
};

// Joint Wald test that every pre-treatment coefficient is 0.
//   W = b' V^{-1} b ~ chi2(q); F = W / q ~ F(q, df2) with df2 = clusters - 1.
struct WaldTest {
  std::vector<int64_t> event_times;  // which coefficients are tested
  double statistic = 0;              // W
  int64_t df = 0;                    // q
  double p = 1;                      // chi-square p-value
  double f_statistic = 0;
  double f_df2 = 0;
  double f_p = 1;
};

struct GroupTimeAtt {
  int64_t group = 0;      // cohort g: first treated period
  int64_t time = 0;       // period t
  int64_t base_time = 0;  // the comparison period
  bool post = false;      // t >= g
  Inference inference;
  int64_t treated_units = 0;
  int64_t control_units = 0;
};

struct CohortEstimate {
  int64_t group = 0;
  Inference inference;
  int64_t units = 0;
};

struct CellMeans {  // 2x2: mean outcome per (treated, post) cell; weighted if weights
  double control_pre = 0, control_post = 0, treated_pre = 0, treated_post = 0;
};

struct Warning {
  std::string code;     // "few_clusters", "unbalanced_panel", "staggered_twfe", ...
  std::string message;  // for a person
};

struct DidSummary {
  DidMethod method = DidMethod::kTwfe;
  std::string estimand;  // one sentence: what `att` is
  Inference att;         // the headline estimate
  int64_t observations = 0;
  int64_t units = 0;
  int64_t clusters = 0;
  int64_t periods = 0;
  int64_t treated_units = 0;
  int64_t control_units = 0;  // never treated (or untreated in 2x2)
  bool balanced = false;
  int64_t parameters = 0;     // K in the CR1 factor (regression methods)
  int demean_iterations = 0;  // alternating-projection sweeps used (0: none)

  std::vector<Coefficient> coefficients;      // every slope of the regression methods
  std::optional<CellMeans> cells;             // 2x2
  std::vector<EventTimeEstimate> event_time;  // event study; C&S dynamic aggregation
  std::optional<WaldTest> pretrend;           // event study; C&S pre-period ATT(g,t)
  std::vector<GroupTimeAtt> group_time;       // C&S
  std::vector<CohortEstimate> by_cohort;      // C&S group aggregation
  std::optional<Inference> simple;            // C&S aggregations, all three always filled
  std::optional<Inference> group;
  std::optional<Inference> dynamic;
  std::vector<Warning> warnings;
};

}  // namespace causeway::causal
