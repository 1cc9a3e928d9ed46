// GET /v1/experiments/{key}/report: decode the query, call app::SelectReportMetrics
// (which metrics, their roles) and app::BuildReport (src/app/report.h, where the
// report and its decision are made), encode the typed Report. docs/report.md.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"
#include "store/store.h"

namespace causeway::api {

// Query: metrics (comma-separated keys; default every defined metric), alpha
// (0.05), expected_n (always-valid tuning, default 5000 as in GrowthBook),
// multiple_testing (holm | benjamini_hochberg | none; default holm). Unknown
// parameters are refused.
HandlerResult ExperimentReport(store::Store& store, ExperimentService& experiments,
                               std::string_view key,
                               const std::multimap<std::string, std::string>& query);

}  // namespace causeway::api
