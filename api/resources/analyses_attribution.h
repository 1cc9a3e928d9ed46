// POST /v1/analyses/attribution: conversion paths in ChannelAttribution's layout, as JSON
// or text/csv, to the credit of each channel under the methods asked (causal/attribution.h;
// docs/causal.md, "Channel attribution").
//
// JSON: {"method": "shapley" | "methods": ["shapley", "markov"], "paths": [{"path":
// "search > social", "total_conversions": 12, "total_null": 88,
// "total_conversion_value": 240}], "order": 1, "separator": ">", "transition_matrix": true}
// CSV: a header row naming path, total_conversions and optionally total_null and
// total_conversion_value (no other column); the options as query parameters (methods
// comma-separated). A bad row is a 400 naming it: paths[i].<column> (i counts data rows
// from 0; the message gives the CSV line too).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "causal/attribution.h"

namespace causeway::api {

// content_type as sent: text/csv reads CSV; anything else is read as JSON when the body
// is JSON (415 otherwise).
HandlerResult HandleAttribution(std::string_view content_type, std::string_view body,
                                const std::multimap<std::string, std::string>& query);

// The response body for a summary (exposed for the benchmark).
Json AttributionToJson(const causal::PathTable& table, const causal::AttributionSummary& summary);

}  // namespace causeway::api
