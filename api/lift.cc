#include "api/lift.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "api/causal_handlers.h"
#include "api/field_reader.h"
#include "causal/lift.h"

namespace causeway::api {

HandlerResult ExperimentLift(store::Store& store, ExperimentService& experiments,
                             std::string_view key, const QueryParams& query) {
  FieldReader r = FieldReader::Query(query);
  std::string metric_key, holdout = "control";
  std::optional<std::string> test_key;
  causal::LiftInput in;
  r.Required("metric", &metric_key).Optional("holdout", &holdout).Optional("test", &test_key);
  r.Optional("spend", &in.spend).Optional("reach", &in.reach);
  ReadConfidence(r, &in.confidence);
  if (Status s = r.Finish(); !s.ok()) return s;

  auto found = experiments.Find(key);
  if (auto* e = std::get_if<Status>(&found)) return *e;
  const ExperimentService::View& x = std::get<ExperimentService::View>(found);
  std::vector<std::string> variants;
  for (const auto& v : x.variants) variants.push_back(v.key);

  auto metric_row = store.GetMetric(metric_key);
  if (!metric_row.ok()) {
    Status s = metric_row.status();
    if (s.code() != StatusCode::kNotFound) return s;
    return Status::NotFound("no metric with key " + metric_key, "metric");
  }
  Json metric = Json::parse(metric_row->config);
  if (metric["type"] == "ratio") {
    return InvalidArgument("metric",
                           "lift needs a per-user metric (binomial, mean or count), "
                           "not a ratio metric");
  }
  if (std::find(variants.begin(), variants.end(), holdout) == variants.end()) {
    return InvalidArgument(
        "holdout", "experiment \"" + std::string(key) + "\" has no variant \"" + holdout + "\"");
  }
  std::string test;
  if (test_key) {
    test = *test_key;
    if (test == holdout || std::find(variants.begin(), variants.end(), test) == variants.end()) {
      return InvalidArgument("test", "must name a variant other than the holdout");
    }
  } else if (variants.size() == 2) {
    test = variants[0] == holdout ? variants[1] : variants[0];
  } else {
    return InvalidArgument("test", "required when the experiment has several test variants");
  }

  int64_t window_ms = 0;
  if (metric["window_hours"].is_number()) {
    window_ms = static_cast<int64_t>(metric["window_hours"].get<double>() * 3600.0 * 1000.0);
  }
  const bool count_metric = metric["type"] == "count";
  auto stats_or = store.MetricStats(key, x.since_ms, metric["event"].get<std::string>(), window_ms);
  if (!stats_or.ok()) return stats_or.status();
  const std::vector<store::VariantMetricStats>& stats = *stats_or;
  auto group = [&](const std::string& variant) {
    causal::LiftGroup g;
    for (const auto& s : stats) {
      if (s.variant != variant) continue;
      g.users = static_cast<double>(s.users);
      g.conversions = static_cast<double>(s.converted);
      // "Revenue" is the metric's per-user value: the sum of event values, or the
      // number of events for count metrics.
      g.revenue = count_metric ? static_cast<double>(s.conversions) : s.sum;
      g.revenue_sum_squares = count_metric ? s.conversions_sum_squares : s.sum_squares;
    }
    return g;
  };
  in.test = group(test);
  in.holdout = group(holdout);
  if (in.test.users <= 0 || in.holdout.users <= 0) {
    return Status(
        StatusCode::kInsufficientData,
        "no exposed users yet in " +
            std::string(in.test.users <= 0 ? "test variant " + test : "holdout " + holdout),
        in.test.users <= 0 ? "test" : "holdout");
  }
  auto result = causal::EstimateLift(in);
  if (!result.ok()) return CausalStatus(result.error());
  Json out = LiftToJson(result.value(), in);
  out["experiment"] = key;
  out["phase"] = x.phase;
  out["metric"] = metric_key;
  out["holdout"] = holdout;
  out["test"] = test;
  out["test_users"] = in.test.users;
  out["holdout_users"] = in.holdout.users;
  return out;
}

}  // namespace causeway::api
