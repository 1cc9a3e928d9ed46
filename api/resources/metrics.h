// POST/GET /v1/metrics and GET /v1/metrics/{key}: metric definitions decoded and
// encoded by the configuration codec (api/codec/config_codec.h); their rules (defaults,
// validation, storage) are app::MetricService's. docs/report.md, "Metrics".
#pragma once

#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"

namespace causeway::api {

HandlerResult CreateMetric(ExperimentService& experiments, const Json& body);  // 201
HandlerResult ListMetrics(ExperimentService& experiments);
HandlerResult GetMetric(ExperimentService& experiments, std::string_view key);

}  // namespace causeway::api
