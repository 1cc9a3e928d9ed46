#include "app/lift.h"

#include <algorithm>

namespace causeway::app {

StatusOr<LiftArms> ChooseLiftArms(const LiftExperiment& experiment,
                                  const ExperimentLiftOptions& options) {
  const std::vector<std::string>& variants = experiment.variants;
  auto is_variant = [&variants](const std::string& v) {
    return std::find(variants.begin(), variants.end(), v) != variants.end();
  };
  const std::string& holdout = options.holdout;
  if (!is_variant(holdout)) {
    return Status::InvalidArgument(
        "holdout", "experiment \"" + experiment.key + "\" has no variant \"" + holdout + "\"");
  }
  if (options.test) {
    if (*options.test == holdout || !is_variant(*options.test)) {
      return Status::InvalidArgument("test", "must name a variant other than the holdout");
    }
    return LiftArms{*options.test, holdout};
  }
  if (variants.size() == 2) {
    return LiftArms{variants[0] == holdout ? variants[1] : variants[0], holdout};
  }
  return Status::InvalidArgument("test", "required when the experiment has several test variants");
}

causal::LiftGroup LiftGroupOf(const std::vector<store::VariantMetricStats>& stats,
                              const std::string& variant, MetricType type) {
  const bool count_metric = type == MetricType::kCount;
  causal::LiftGroup g;
  for (const store::VariantMetricStats& s : stats) {
    if (s.variant != variant) continue;
    g.users = static_cast<double>(s.users);
    g.conversions = static_cast<double>(s.converted);
    g.revenue = count_metric ? static_cast<double>(s.conversions) : s.sum;
    g.revenue_sum_squares = count_metric ? s.conversions_sum_squares : s.sum_squares;
  }
  return g;
}

StatusOr<ExperimentLift> PrepareExperimentLift(store::Store& store,
                                               const LiftExperiment& experiment,
                                               const MetricDefinition& metric,
                                               const ExperimentLiftOptions& options) {
  if (metric.type == MetricType::kRatio) {
    return Status::InvalidArgument("metric",
                                   "lift needs a per-user metric (binomial, mean or count), "
                                   "not a ratio metric");
  }
  StatusOr<LiftArms> arms = ChooseLiftArms(experiment, options);
  if (!arms.ok()) return arms.status();
  const int64_t window_ms =
      metric.window_hours ? static_cast<int64_t>(*metric.window_hours * 3600.0 * 1000.0) : 0;
  auto stats = store.MetricStats(experiment.key, experiment.since_ms, metric.event, window_ms);
  if (!stats.ok()) return stats.status();

  ExperimentLift out;
  out.arms = *arms;
  out.input.test = LiftGroupOf(*stats, arms->test, metric.type);
  out.input.holdout = LiftGroupOf(*stats, arms->holdout, metric.type);
  out.input.spend = options.spend;
  out.input.reach = options.reach;
  out.input.confidence = options.confidence;
  if (out.input.test.users <= 0) {
    return Status::InsufficientData("no exposed users yet in test variant " + arms->test, "test");
  }
  if (out.input.holdout.users <= 0) {
    return Status::InsufficientData("no exposed users yet in holdout " + arms->holdout, "holdout");
  }
  return out;
}

}  // namespace causeway::app
