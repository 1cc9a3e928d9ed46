// GET /v1/experiments/{key}/lift: incrementality of an experiment whose control
// is a holdout, from the events stored for it. Decodes the query, calls
// app::PrepareExperimentLift (src/app/lift.h: which arms, which per-user value, the
// defaults) and causal::EstimateLift, encodes the result.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "api/resources/analyses_did.h"
#include "api/resources/experiments.h"
#include "store/store.h"

namespace causeway::api {

// Query: metric (required), holdout (default "control"), test (default the only
// other variant), spend, reach, alpha (default 0.05) or its synonym confidence
// (= 1 - alpha). Unknown parameters: 400. No exposed users in a group: 422.
HandlerResult ExperimentLift(store::Store& store, ExperimentService& experiments,
                             std::string_view key, const QueryParams& query);

}  // namespace causeway::api
