#include "api/resources/lift.h"

#include <optional>

#include "api/codec/field_reader.h"
#include "api/resources/analyses_did.h"
#include "app/lift.h"
#include "causal/lift.h"

namespace causeway::api {
namespace {

Json EncodeLift(const causal::LiftSummary& summary, const app::ExperimentLift& lift,
                std::string_view key, int phase, const std::string& metric) {
  Json out = LiftToJson(summary, lift.input);
  out["experiment"] = key;
  out["phase"] = phase;
  out["metric"] = metric;
  out["holdout"] = lift.arms.holdout;
  out["test"] = lift.arms.test;
  out["test_users"] = lift.input.test.users;
  out["holdout_users"] = lift.input.holdout.users;
  return out;
}

}  // namespace

HandlerResult ExperimentLift(store::Store& store, ExperimentService& experiments,
                             std::string_view key, const QueryParams& query) {
  FieldReader r = FieldReader::Query(query);
  std::string metric_key;
  app::ExperimentLiftOptions options;
  r.Required("metric", &metric_key)
      .Optional("holdout", &options.holdout)
      .Optional("test", &options.test);
  r.Optional("spend", &options.spend).Optional("reach", &options.reach);
  ReadConfidence(r, &options.confidence);
  if (Status s = r.Finish(); !s.ok()) return s;

  auto found = experiments.Find(key);
  if (auto* e = std::get_if<Status>(&found)) return *e;
  const ExperimentService::View& x = std::get<ExperimentService::View>(found);
  app::LiftExperiment experiment{std::string(key), {}, x.since_ms};
  for (const auto& v : x.variants) experiment.variants.push_back(v.key);

  auto metric = experiments.metrics().Get(metric_key);
  if (!metric.ok()) {
    if (metric.status().code() != StatusCode::kNotFound) return metric.status();
    return Status::NotFound("no metric with key " + metric_key, "metric");
  }
  auto lift = app::PrepareExperimentLift(store, experiment, *metric, options);
  if (!lift.ok()) return lift.status();
  auto result = causal::EstimateLift(lift->input);
  if (!result.ok()) return CausalStatus(result.error());
  return EncodeLift(result.value(), *lift, key, x.phase, metric_key);
}

}  // namespace causeway::api
