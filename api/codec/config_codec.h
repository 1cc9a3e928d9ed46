// JSON codecs of experiment configurations and metric definitions: requests and
// stored text to the application layer's typed structs (src/app/experiment.h) and
// back. Decoding reads every field through FieldReader, so unknown fields are
// refused; the product rules (defaults, ranges, re-randomisation) are the app
// layer's, not checked here.
#pragma once

#include <string_view>

#include "api/handler.h"
#include "app/experiment.h"
#include "app/services.h"

namespace causeway::api {

// POST /v1/experiments (and stored configurations).
Status DecodeExperiment(const Json& body, app::Experiment* out);
// PATCH /v1/experiments/{key}.
Status DecodeExperimentPatch(const Json& body, app::ExperimentPatch* out);
// The configuration members only (the stored form).
Json EncodeExperimentConfig(const app::Experiment& experiment);
// The configuration plus phase, phases[], created_at, updated_at.
Json RenderExperiment(const app::Experiment& experiment);

// POST /v1/metrics (and stored definitions).
Status DecodeMetric(const Json& body, app::MetricDefinition* out);
// The definition; with created_at when `with_created`.
Json RenderMetric(const app::MetricDefinition& metric, bool with_created = true);

// The stored text form: the JSON above.
class JsonConfigCodec : public app::ConfigCodec {
 public:
  std::string EncodeExperiment(const app::Experiment& experiment) const override;
  StatusOr<app::Experiment> DecodeExperiment(std::string_view text) const override;
  std::string EncodeMetric(const app::MetricDefinition& metric) const override;
  StatusOr<app::MetricDefinition> DecodeMetric(std::string_view text) const override;
};

}  // namespace causeway::api
