// GET /v1/experiments/{key}/report: the growth team's view of a running experiment.
//
// Composition only: exposures and per-metric sufficient statistics come from the
// store (aggregated in SQL), each metric is analysed by the stats core through
// the /v1/analyses/ab logic (HandleAnalysesAb), and the p-values of every
// (metric, treatment) pair are then corrected together. docs/report.md.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/experiments.h"
#include "api/handler.h"
#include "store/store.h"

namespace causeway::api {

// Query: metrics (comma-separated keys; default every defined metric), alpha
// (0.05), expected_n (always-valid tuning, default 5000 as in GrowthBook),
// multiple_testing (holm | benjamini_hochberg | none; default holm).
HandlerResult ExperimentReport(store::Store& store, ExperimentService& experiments,
                               std::string_view key,
                               const std::map<std::string, std::string>& query);

}  // namespace causeway::api
