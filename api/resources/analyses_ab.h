// Endpoint logic for the statistics endpoints (docs/statistics.md, "API"):
//   POST /v1/analyses/ab          -> HandleAnalysesAb
//   POST /v1/design/sample-size   -> HandleDesignSampleSize
//   POST /v1/design/sequential    -> HandleDesignSequential
// Pure functions from a parsed JSON body to a HandlerResult (api/handler.h): they
// validate every field (400 naming the field, unknown fields rejected), call the
// application layer (app::AnalyzeAb, app::SolveSampleSize, app::DesignSequential) and
// shape its result structs as JSON. No I/O; thread-safe.
// Numerical degeneracy (n < 2, zero variance) is not a 400: the comparison is returned
// with "valid": false and a "reason".
#pragma once

#include "api/handler.h"

namespace causeway::api {

HandlerResult HandleAnalysesAb(const Json& body);
HandlerResult HandleDesignSampleSize(const Json& body);
HandlerResult HandleDesignSequential(const Json& body);

}  // namespace causeway::api
