// The experiment report (docs/report.md): a function from (store, typed experiment,
// metric definitions, options) to a typed Report, and the decision as a pure
// function of the report.
//
//   BuildReport: exposures and per-metric sufficient statistics of the current phase
//   from the store (aggregated in SQL) -> AnalyzeAb per metric (always-valid
//   inference, no per-metric correction) -> one multiple-testing correction over
//   every (metric, treatment) pair -> a conclusion per comparison -> Decide.
//
// No I/O but the store's reads; no JSON. Thread-safe when the store is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/ab_analysis.h"
#include "app/experiment.h"
#include "common/status.h"
#include "stats/multiple_testing.h"
#include "stats/srm.h"
#include "store/store.h"

namespace causeway::app {

struct ReportOptions {
  double alpha = 0.05;       // in (0, 1)
  double expected_n = 5000;  // always-valid tuning N* (> 0); GrowthBook's default
  stats::Correction correction = stats::Correction::kHolm;  // over every (metric, treatment)
  double srm_threshold = 0.001;
};

// better / worse take higher_is_better into account.
enum class Conclusion { kBetter, kWorse, kInconclusive, kInsufficientData };

struct ExposureRow {
  std::string variant;
  double weight = 0;
  int64_t exposures = 0;
  int64_t users = 0;
};

struct MetricReport {
  MetricDefinition metric;
  bool valid = false;  // false: `reason` says why the analysis could not run
  std::string reason;
  AbSummary analysis;                   // when valid; corrected across the report's family
  std::vector<Conclusion> conclusions;  // one per analysis.comparisons entry
};

enum class DecisionKind { kShip, kDoNotShip, kKeepRunning, kInvestigate };

struct Decision {
  std::string variant;
  DecisionKind decision = DecisionKind::kKeepRunning;
  std::string why;
};

struct Report {
  std::string experiment;
  int phase = 1;
  assign::ExperimentStatus status = assign::ExperimentStatus::kDraft;
  int64_t since_ms = 0;  // 0: every exposure counts (phase 1)
  std::string control;
  std::vector<std::string> treatments;
  ReportOptions options;
  size_t comparisons = 0;  // size of the corrected family
  std::vector<ExposureRow> exposures;
  int64_t total_exposures = 0;
  int64_t unique_users = 0;
  int64_t multi_variant_users = 0;
  stats::SrmResult srm;
  std::vector<MetricReport> metrics;
  std::vector<Decision> decisions;  // Decide(*this)
};

// InvalidArgument naming the option ("alpha", "expected_n").
Status ValidateReportOptions(const ReportOptions& options);

// REQUIRES: NormalizeExperiment(&experiment).ok(); every metric normalised.
StatusOr<Report> BuildReport(store::Store& store, const Experiment& experiment,
                             const std::vector<MetricDefinition>& metrics,
                             const ReportOptions& options);

// The conclusion of one comparison, from its always-valid result corrected across
// the family: better / worse when significant (direction by higher_is_better),
// inconclusive otherwise; insufficient_data when it could not be computed.
Conclusion Conclude(const AbComparison& comparison, bool higher_is_better);

// One decision per treatment: investigate on a sample ratio mismatch (nothing can be
// trusted), else do_not_ship if any metric is worse, ship if at least one is better
// and none worse, keep_running otherwise. Every metric is a guardrail.
std::vector<Decision> Decide(const Report& report);

const char* ConclusionName(Conclusion conclusion);
const char* DecisionName(DecisionKind decision);

}  // namespace causeway::app
