// The experiment report (docs/report.md): a function from (store, typed experiment,
// metric definitions, options) to a typed Report, and the decision as a pure
// function of the report.
//
//   BuildReport: one pass of the store over the current phase's exposures and
//   the metrics' events (store::AggregateReport: per-variant sufficient
//   statistics, overall, per UTC day and per segment) -> AnalyzeAb per metric
//   (CUPED when a pre-period exists) -> sequential inference: Lan-DeMets
//   group-sequential looks, one per calendar day, when the experiment has a plan,
//   else always-valid (mSPRT) -> corrections by role -> conclusions -> Decide.
//
// No I/O but the store's reads; no JSON. Thread-safe when the store is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/ab_analysis.h"
#include "app/experiment.h"
#include "common/status.h"
#include "stats/multiple_testing.h"
#include "stats/srm.h"
#include "store/store.h"

namespace causeway::app {

enum class MetricRole { kGoal, kSecondary, kGuardrail, kOther };

struct ReportOptions {
  double alpha = 0.05;       // in (0, 1)
  double expected_n = 5000;  // always-valid tuning N* (> 0); GrowthBook's default
  // Over goal metrics x treatments, and separately over secondary ones (and over
  // segments x metrics x treatments in the segment tables).
  stats::Correction correction = stats::Correction::kHolm;
  double srm_threshold = 0.001;
  bool cuped = true;  // where the metric has a lookback and the pre-period has data

  // Segments: up to two exposure attributes, or RFM tiers from the history of
  // `rfm_event` before first exposure (default: the first goal metric's event).
  std::vector<std::string> segment_by;
  bool segment_rfm = false;
  std::optional<std::string> rfm_event;
  size_t max_segment_levels = 20;  // the rest folded into "other"

  int64_t now_ms = 0;  // when the report is made (has the planned end passed?)
};

// InvalidArgument naming the option ("alpha", "expected_n", "segment").
Status ValidateReportOptions(const ReportOptions& options);

// better / worse take higher_is_better into account.
enum class Conclusion { kBetter, kWorse, kInconclusive, kInsufficientData };

struct ExposureRow {
  std::string variant;
  double weight = 0;
  int64_t exposures = 0;
  int64_t users = 0;
};

struct CupedSummary {
  bool applied = false;
  double lookback_days = 0;
  std::string reason;                // why not, when !applied and a lookback was asked
  double variance_reduction = kNaN;  // of the first treatment's comparison
};

// A guardrail's one-sided check against its margin, on the relative effect and
// its sequential interval (bounds in the metric's own direction: "worse" is a
// fall when higher is better).
struct GuardrailCheck {
  std::optional<double> margin;  // relative; none: only harm counts
  bool harm = false;             // significantly worse than -margin (0 without a margin)
  bool non_inferior = false;     // with a margin: significantly better than -margin
  double worst_bound = kNaN;     // the one-sided bound on the harmful side (relative)
  double best_bound = kNaN;      // the one-sided bound on the helpful side (relative)
};

// One point of a cumulative series: the comparison as it stood at the end of a
// UTC day, with the sequential interval (confidence sequence or repeated CI).
struct SeriesPoint {
  int64_t day = 0;    // days since 1970-01-01 (UTC)
  int64_t users = 0;  // control + this treatment, exposed by the end of the day
  bool valid = false;
  Inference absolute;
  std::optional<Inference> relative;
  double information_fraction = kNaN;  // group-sequential only
  double z_boundary = kNaN;            // group-sequential only
  bool significant = false;
};

struct SeriesOfTreatment {
  std::string variant;
  std::vector<SeriesPoint> points;
};

struct MetricReport {
  MetricDefinition metric;
  MetricRole role = MetricRole::kOther;
  std::optional<double> margin;  // guardrails
  bool valid = false;            // false: `reason` says why the analysis could not run
  std::string reason;
  AbSummary analysis;                   // when valid; corrected within its role's family
  std::vector<Conclusion> conclusions;  // one per analysis.comparisons entry
  std::vector<std::optional<GuardrailCheck>> guardrails;  // per comparison (guardrails)
  CupedSummary cuped;
  std::vector<SeriesOfTreatment> series;  // one per treatment (not in segments)
};

enum class DecisionKind { kShip, kStopHarm, kKeepRunning, kNoEffect, kInvalidSrm };

struct Decision {
  std::string variant;
  DecisionKind decision = DecisionKind::kKeepRunning;
  std::string rule;  // a short id of the rule that decided
  std::string why;   // the rule in words, with the metrics it names
};

// The plan and how the report monitors it.
struct PlanSummary {
  std::optional<int64_t> planned_sample_size;
  std::optional<int64_t> planned_end_ms;
  double information_fraction = kNaN;  // users so far / planned (or elapsed / planned days)
  bool reached = false;                // planned size or date reached
  bool group_sequential = false;       // false: always-valid (no plan)
  size_t looks = 0;                    // calendar days looked at
  std::optional<int64_t> final_look_day;
  size_t goal_comparisons = 0;  // m of the Bonferroni split alpha / m
};

struct DataQuality {
  int64_t total_exposures = 0;
  int64_t unique_users = 0;
  int64_t multi_variant_users = 0;
  int64_t unknown_variant_users = 0;
  int64_t wrong_variant_users = 0;
  int64_t override_users = 0;
  int64_t conversions_before_exposure = 0;  // over the reported metrics' events (not counted)
};

struct SegmentLevel {
  std::string label;
  int64_t users = 0;
  stats::SrmResult srm;  // threshold: srm_threshold / levels (Bonferroni)
  std::vector<MetricReport> metrics;
};

struct SegmentReport {
  std::vector<std::string> by;  // attribute names, or {"rfm"}
  size_t max_levels = 20;
  size_t folded_levels = 0;  // levels counted in "other"
  double srm_threshold = 0;  // per level
  size_t comparisons = 0;    // family size of the segment correction
  std::optional<std::string> rfm_event;
  std::vector<SegmentLevel> levels;
};

struct Report {
  std::string experiment;
  int phase = 1;
  assign::ExperimentStatus status = assign::ExperimentStatus::kDraft;
  int64_t since_ms = 0;  // 0: every exposure counts (phase 1)
  std::string control;
  std::vector<std::string> treatments;
  ReportOptions options;
  PlanSummary plan;
  size_t comparisons = 0;  // size of the goal family
  std::vector<ExposureRow> exposures;
  DataQuality data_quality;
  stats::SrmResult srm;
  std::vector<MetricReport> metrics;
  std::optional<int64_t> first_day;  // of the daily series
  std::optional<SegmentReport> segments;
  // Attribute names seen on the first exposures (up to 1 000 read, 50 names
  // listed, in byte order): what `segment=` can take.
  std::vector<std::string> attributes;
  std::vector<std::string> notes;
  std::vector<Decision> decisions;  // Decide(*this)
};

// What is reported: the experiment's goal, secondary and guardrail metrics, or,
// when it names none, every metric given (role kOther, treated as goals by Decide).
struct ReportedMetric {
  MetricDefinition metric;
  MetricRole role = MetricRole::kOther;
  std::optional<double> margin;

  struct Role {
    MetricRole role = MetricRole::kOther;
    std::optional<double> margin;  // guardrails only
  };
};

class MetricService;

// The role of metric `key` in `experiment`: its first listing among the goal, then
// the secondary, then the guardrail metrics (with the guardrail's margin); kOther
// when it is not listed.
ReportedMetric::Role RoleOf(const Experiment& experiment, const std::string& key);

// The metrics a report covers, each with RoleOf: the keys asked (`keys`, in their
// order), else the experiment's goal, secondary and guardrail metrics in that order,
// else every defined metric (by key). NotFound naming "metrics" for an unknown key.
StatusOr<std::vector<ReportedMetric>> SelectReportMetrics(
    const Experiment& experiment, const std::optional<std::vector<std::string>>& keys,
    const MetricService& metrics);

// REQUIRES: NormalizeExperiment(&experiment).ok(); every metric normalised.
StatusOr<Report> BuildReport(store::Store& store, const Experiment& experiment,
                             const std::vector<ReportedMetric>& metrics,
                             const ReportOptions& options);

// The conclusion of one comparison from its sequential result (group-sequential
// crossing, or always-valid p-value corrected across its family): better / worse
// by higher_is_better, inconclusive, or insufficient_data.
Conclusion Conclude(const AbComparison& comparison, bool higher_is_better);

// The decision rules (docs/report.md, "Decisions"), one decision per treatment:
//   invalid_srm   the sample-ratio check fails: nothing else can be trusted;
//   stop_harm     a goal metric is significantly worse, or a guardrail is
//                 significantly worse than its margin allows;
//   ship          a goal metric is significantly better, none is worse, and every
//                 guardrail with a margin has shown non-inferiority;
//   no_effect     the plan's size or date is reached and no goal metric moved;
//   keep_running  otherwise.
// "Significantly" is the sequential result (group-sequential under a plan,
// always-valid otherwise), corrected across goal metrics x treatments.
std::vector<Decision> Decide(const Report& report);

const char* ConclusionName(Conclusion conclusion);
const char* DecisionName(DecisionKind decision);
const char* RoleName(MetricRole role);

}  // namespace causeway::app
