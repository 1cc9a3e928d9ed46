// Endpoint logic for the causal analyses (pure: parsed request in, HandlerResult out).
//
//   POST /v1/analyses/did   HandleDid: a panel as JSON rows or text/csv -> DiD estimate
//   POST /v1/analyses/lift  HandleLiftAggregate: aggregate test/holdout inputs -> lift
// Request and response fields are documented in docs/causal.md ("API"). Every request
// field and query parameter is read through a FieldReader: unknown names are 400s.
// Malformed input is 400 invalid_argument; a well-formed panel or aggregate the data
// cannot answer (no treated or control unit, no pre-period, singular design, no users)
// is 422 insufficient_data naming the field.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/codec/field_reader.h"
#include "api/handler.h"
#include "causal/did.h"
#include "causal/lift.h"
#include "causal/panel.h"
#include "io/panel_reader.h"

namespace causeway::api {

// Panels are read by src/io (io/panel_reader.h).
using io::PanelColumns;
using io::PanelFromJsonRows;
using io::ParsePanelCsv;

// Query parameters as cpp-httplib gives them (a name may repeat; FieldReader refuses it).
using QueryParams = std::multimap<std::string, std::string>;

// content_type "text/csv" (options in `query`) or "application/json" (options in the body;
// any query parameter is refused). 415 for other content types.
HandlerResult HandleDid(std::string_view content_type, std::string_view body,
                        const QueryParams& query);

// The body's fields (the route refuses any query parameter).
HandlerResult HandleLiftAggregate(const Json& body);

// Reads `alpha` (two-sided CI level 1 - alpha) or its documented synonym `confidence`
// into *confidence, left untouched when neither is given. Both given: an error naming
// `confidence`; either outside (0, 1): an error naming it.
void ReadConfidence(FieldReader& r, double* confidence);
// A causal core error as a Status: invalid_argument or insufficient_data by its kind.
Status CausalStatus(const causal::Error& error);

// Building blocks, exposed for the store-backed lift endpoint and the benchmark.
Json LiftToJson(const causal::LiftSummary& summary, const causal::LiftInput& input);
Json DidToJson(const causal::DidSummary& summary, double confidence);
}  // namespace causeway::api
