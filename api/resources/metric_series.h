// GET /v1/metrics/{key}/series: a metric's value per time bucket from the ingested
// events (app/metric_series.h; docs/alerts.md, "Metric series").
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"
#include "store/store.h"

namespace causeway::api {

HandlerResult MetricSeries(store::Store& store, ExperimentService& experiments,
                           std::string_view key,
                           const std::multimap<std::string, std::string>& query);

}  // namespace causeway::api
