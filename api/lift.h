// GET /v1/experiments/{key}/lift: incrementality of an experiment whose control
// is a holdout, from the events stored for it (causal::EstimateLift on per-variant
// sufficient statistics aggregated in SQL).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/experiments.h"
#include "api/handler.h"
#include "store/store.h"

namespace causeway::api {

// Query: metric (required), holdout (default "control"), test (default the only
// other variant), spend, reach, confidence (default 0.95).
HandlerResult ExperimentLift(store::Store& store, ExperimentService& experiments,
                             std::string_view key, const std::map<std::string, std::string>& query);

}  // namespace causeway::api
