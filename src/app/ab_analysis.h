// The A/B analysis policy: from per-variant sufficient statistics to the answer of
// POST /v1/analyses/ab and of every metric of the experiment report.
//
//   AbInput {metric type, variants (control first)} + AbOptions {alpha, sidedness,
//   correction, sequential plan}  ->  AbSummary {variant summaries, one comparison
//   per treatment against the control, multiple-testing family, SRM}
//
// Policy held here (docs/statistics.md, "API"):
// - every treatment is compared with the first variant (the control) by the
//   fixed-horizon test of its metric type (Welch t for means, z for proportions,
//   delta method for ratios; CUPED when covariate statistics are given);
// - the p-values of the treatments form one family, corrected by
//   `options.correction` when there is more than one treatment (fixed-horizon and
//   always-valid p-values are separate families);
// - always-valid (mSPRT) results per comparison when asked; group-sequential looks
//   reject when the fixed-horizon p-value is at or below the look's nominal level,
//   with Bonferroni (alpha / m) across m treatments when a correction is asked;
// - Bayesian chance to beat control and expected loss (flat prior, normal
//   approximation) for every computable comparison;
// - SRM (chi-square against the weights) when every variant has a weight.
// Degenerate data (n < 2, zero variance) is not an error: the comparison has
// valid = false and a reason (docs/api.md, "Data that cannot answer").
//
// Plain data in, plain data out: no I/O, no JSON. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "stats/bayesian.h"
#include "stats/fixed_horizon.h"
#include "stats/group_sequential.h"
#include "stats/moments.h"
#include "stats/multiple_testing.h"
#include "stats/ratio_cuped.h"
#include "stats/srm.h"

namespace causeway::app {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

enum class AbMetricType { kBinomial, kMean, kRatio };

// One variant's sufficient statistics. Which member is read depends on the metric
// type and on whether covariate (CUPED) statistics are given; all variants of an
// input either have covariate statistics or none do.
struct AbVariant {
  std::string key;
  int64_t n = 0;
  std::optional<double> weight;  // configured allocation (> 0); all or none

  int64_t conversions = 0;                            // binomial: 0 <= conversions <= n
  stats::MomentStats moments;                         // mean
  std::optional<stats::CupedMeanStats> cuped_mean;    // mean with a covariate
  stats::RatioStats ratio;                            // ratio (numerator, denominator)
  std::optional<stats::CupedRatioStats> cuped_ratio;  // ratio with covariates

  bool has_covariate() const { return cuped_mean.has_value() || cuped_ratio.has_value(); }
};

struct AbInput {
  AbMetricType type = AbMetricType::kBinomial;
  std::vector<AbVariant> variants;  // control first; 2..100, unique keys
};

// Always-valid (mixture SPRT) inference; docs/statistics.md 5a.
struct AlwaysValidPlan {
  double expected_n = 0;  // N*: expected total users of control + treatment, >= 1
};

// A Lan-DeMets group-sequential design and the look being analysed; 5b.
struct GroupSequentialPlan {
  std::vector<double> looks;  // information fractions, strictly increasing in (0, 1]
  stats::SpendingFunction spending = stats::SpendingFunction::kObrienFleming;
  int current_look = 1;  // 1-based
};

struct AbOptions {
  double alpha = 0.05;  // in (0, 1)
  stats::Alternative alternative = stats::Alternative::kTwoSided;
  stats::Correction correction = stats::Correction::kHolm;  // applied when > 1 treatment
  double srm_threshold = 0.001;                             // in (0, 1)
  // At most one of the two.
  std::optional<AlwaysValidPlan> always_valid;
  std::optional<GroupSequentialPlan> group_sequential;
};

// The one shape of a reported estimate (docs/api.md, "Vocabulary"). NaN members are
// not available; an interval end at +-infinity is open (a one-sided interval).
struct Inference {
  double estimate = kNaN;
  double std_error = kNaN;
  stats::Interval ci;
  double level = kNaN;  // of ci: 1 - alpha
  double p_value = kNaN;
};

struct VariantSummary {
  std::string key;
  int64_t n = 0;
  std::optional<int64_t> conversions;  // binomial
  double estimate = kNaN;              // rate, mean or ratio; NaN when n = 0
  std::optional<double> variance;      // mean: per-user sample variance
  std::optional<double> weight;
};

struct AlwaysValidComparison {
  double expected_n = 0;
  bool valid = false;
  std::string reason;  // when !valid
  double rho = kNaN;
  Inference absolute;                 // p_value: the always-valid p-value
  std::optional<Inference> relative;  // absent when the relative interval is not defined
  double p_value = kNaN;
  double p_value_adjusted = kNaN;
  bool significant = false;  // p_value_adjusted < alpha
};

struct GroupSequentialComparison {
  stats::SpendingFunction spending = stats::SpendingFunction::kObrienFleming;
  int look = 1;
  double information_fraction = kNaN;
  double alpha = kNaN;  // of the design (alpha / m under Bonferroni)
  double z_boundary = kNaN;
  double nominal_p = kNaN;
  double cumulative_alpha = kNaN;
  double p_value = kNaN;  // the fixed-horizon p-value at this look
  bool significant = false;
  // The report's daily monitoring: the repeated confidence interval at this look
  // (estimate +- c_k se) and the direction of the crossing (+1, -1; 0: none).
  std::optional<Inference> absolute;
  std::optional<Inference> relative;
  int direction = 0;
  std::optional<int> crossed_look;  // the look that crossed (the verdict), if any
};

struct AbComparison {
  std::string variant;
  std::string control;
  bool valid = false;
  std::string reason;  // when !valid; every inference member is then NaN / absent

  Inference absolute;  // treatment - control
  double statistic = kNaN;
  double df = std::numeric_limits<double>::infinity();  // +inf: normal reference

  bool relative_valid = false;
  std::string relative_reason;  // when !relative_valid
  Inference relative;           // treatment / control - 1; p_value of the same test

  double p_value = kNaN;
  double p_value_adjusted = kNaN;
  bool significant = false;

  std::optional<AlwaysValidComparison> always_valid;
  std::optional<GroupSequentialComparison> group_sequential;
  std::optional<stats::BayesianSummary> bayesian;  // when computable
  std::optional<stats::CupedResult> cuped;         // when covariates were given
};

struct AbSummary {
  AbMetricType type = AbMetricType::kBinomial;
  double alpha = 0.05;
  stats::Alternative alternative = stats::Alternative::kTwoSided;
  std::string control;
  std::vector<VariantSummary> variants;
  std::vector<AbComparison> comparisons;  // one per treatment, in input order
  stats::Correction correction_applied = stats::Correction::kNone;
  double srm_threshold = 0.001;
  std::optional<stats::SrmResult> srm;  // when every variant has a weight
};

// The multiple-testing family of one analysis is its m treatment-vs-control
// comparisons: `requested` is applied when m > 1; a single comparison is uncorrected
// (kNone).
stats::Correction FamilyCorrection(size_t treatments, stats::Correction requested);

// The level of each comparison's group-sequential design: alpha, or alpha / m
// (Bonferroni) when FamilyCorrection(m, requested) is not kNone, since step-wise
// corrections do not carry over to boundaries directly.
double GroupSequentialAlpha(double alpha, size_t treatments, stats::Correction requested);

// Per-look rejection: H0 is rejected at a look when the fixed-horizon p-value (same
// sidedness) is at or below the look's nominal level, i.e. |z| >= c_k.
bool RejectsAtLook(double p_value, double nominal_p);

// InvalidArgument naming the field (JSON path of the request: "variants[1].weight",
// "sequential.current_look") when the input or the options are malformed.
Status ValidateAbInput(const AbInput& input, const AbOptions& options);

// ValidateAbInput, then the analysis.
StatusOr<AbSummary> AnalyzeAb(const AbInput& input, const AbOptions& options);

}  // namespace causeway::app
