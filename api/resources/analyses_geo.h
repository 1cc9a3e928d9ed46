// Endpoint logic for geo experiments (docs/causal.md, "Geo experiments"):
//
//   POST /v1/analyses/synthetic_control  HandleSyntheticControl: a block-design panel as
//       JSON rows or text/csv -> synthetic control / synthetic DiD / DiD with placebo
//       inference, effect and counterfactual series, weights, pre-period fit, warnings
//   POST /v1/design/geo                  HandleGeoDesign: a history panel, proposed
//       treated units and a test length -> minimum detectable lift and power curve
//
// Both take the panel shapes of /v1/analyses/did (api/resources/analyses_did.h does the
// parsing): a JSON body with every option in it (a query parameter is refused), or
// the CSV with the options as query parameters. Every name is read through a
// FieldReader, so unknown fields are 400s; a panel the data cannot answer is 422.
// (This header does not include the Eigen-based cores: server.cc also includes
// cpp-httplib, whose <resolv.h> defines a macro `_res` that breaks Eigen's headers.)
#pragma once

#include <string_view>

#include "api/handler.h"
#include "api/resources/analyses_did.h"

namespace causeway::api {

HandlerResult HandleSyntheticControl(std::string_view content_type, std::string_view body,
                                     const QueryParams& query);
HandlerResult HandleGeoDesign(std::string_view content_type, std::string_view body,
                              const QueryParams& query);

}  // namespace causeway::api
