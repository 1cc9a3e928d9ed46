// Endpoint logic for the causal analyses (pure: parsed request in, HandlerResult out).
//
//   POST /v1/analyses/did   HandleDid: a panel as JSON rows or text/csv -> DiD estimate
//   POST /v1/analyses/lift  HandleLiftAggregate: aggregate test/holdout inputs -> lift
// Request and response fields are documented in docs/causal.md ("API").
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "causal/did.h"
#include "causal/lift.h"
#include "causal/panel.h"

namespace causeway::api {

// Which input column plays which role, and how never-treated units are marked.
struct PanelColumns {
  std::string unit = "unit", time = "time", outcome = "outcome";
  std::string treated = "treated", post = "post", treatment_start = "treatment_start";
  std::string weight;                          // "" = unweighted
  std::vector<std::string> covariates;         // extra numeric columns
  std::optional<int64_t> never_treated_value;  // e.g. 0 in mpdta's first.treat
};

// content_type "text/csv" (options in `query`) or "application/json" (options in the body,
// `query` ignored). 400 naming the field for bad input, 415 for other content types.
HandlerResult HandleDid(std::string_view content_type, std::string_view body,
                        const std::map<std::string, std::string>& query);

HandlerResult HandleLiftAggregate(const Json& body);

// Building blocks, exposed for the store-backed lift endpoint and the benchmark.
Json LiftToJson(const causal::LiftSummary& summary, const causal::LiftInput& input);
Json DidToJson(const causal::DidSummary& summary, double confidence);
// Parses CSV text (header line, comma separated, RFC 4180 quotes) into a panel. Unit
// ids may be integers or labels ("geo-07"); labels are mapped to dense integers and,
// when unit_names is given, unit_names[id] is the label.
std::variant<causal::Panel, Status> ParsePanelCsv(std::string_view csv, const PanelColumns& columns,
                                                  std::vector<std::string>* unit_names = nullptr);

}  // namespace causeway::api
