#include "api/lift.h"

#include <cmath>

#include "api/causal_handlers.h"
#include "api/json_util.h"
#include "causal/lift.h"

namespace causeway::api {

HandlerResult ExperimentLift(store::Store& store, ExperimentService& experiments,
                             std::string_view key,
                             const std::map<std::string, std::string>& query) {
  for (const auto& [k, v] : query) {
    if (k != "metric" && k != "holdout" && k != "test" && k != "spend" && k != "reach" &&
        k != "confidence") {
      return InvalidArgument(k, "unknown query parameter");
    }
  }
  auto found = experiments.Find(key);
  if (auto* e = std::get_if<Status>(&found)) return *e;
  const ExperimentService::View& x = std::get<ExperimentService::View>(found);
  std::vector<std::string> variants;
  for (const auto& v : x.variants) variants.push_back(v.key);

  auto metric_it = query.find("metric");
  if (metric_it == query.end() || metric_it->second.empty()) {
    return InvalidArgument("metric", "required: the key of a metric definition");
  }
  auto metric_row = store.GetMetric(metric_it->second);
  if (!metric_row.ok()) {
    Status s = metric_row.status();
    if (s.code() != StatusCode::kNotFound) return s;
    return Status::NotFound("no metric with key " + metric_it->second, "metric");
  }
  Json metric = Json::parse(metric_row->config);
  if (metric["type"] == "ratio") {
    return InvalidArgument("metric",
                           "lift needs a per-user metric (binomial, mean or count), "
                           "not a ratio metric");
  }
  std::string holdout = query.count("holdout") ? query.at("holdout") : "control";
  if (std::find(variants.begin(), variants.end(), holdout) == variants.end()) {
    return InvalidArgument(
        "holdout", "experiment \"" + std::string(key) + "\" has no variant \"" + holdout + "\"");
  }
  std::string test;
  if (query.count("test")) {
    test = query.at("test");
    if (test == holdout || std::find(variants.begin(), variants.end(), test) == variants.end()) {
      return InvalidArgument("test", "must name a variant other than the holdout");
    }
  } else if (variants.size() == 2) {
    test = variants[0] == holdout ? variants[1] : variants[0];
  } else {
    return InvalidArgument("test", "required when the experiment has several test variants");
  }

  causal::LiftInput in;
  if (auto e = QueryNumber(query, "spend", &in.spend)) return *e;
  if (auto e = QueryNumber(query, "reach", &in.reach)) return *e;
  std::optional<double> confidence;
  if (auto e = QueryNumber(query, "confidence", &confidence)) return *e;
  if (confidence) {
    if (!(*confidence > 0 && *confidence < 1)) {
      return InvalidArgument("confidence", "must be in (0, 1)");
    }
    in.confidence = *confidence;
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
  auto r = causal::EstimateLift(in);
  if (!r.ok()) {
    return Status(StatusCode::kInsufficientData, r.error().message, r.error().field);
  }
  Json out = LiftToJson(r.value(), in);
  out["experiment"] = key;
  out["phase"] = x.phase;
  out["metric"] = metric_it->second;
  out["holdout"] = holdout;
  out["test"] = test;
  out["test_users"] = in.test.users;
  out["holdout_users"] = in.holdout.users;
  return out;
}

}  // namespace causeway::api
