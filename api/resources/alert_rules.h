// POST/GET /v1/alerts/rules and GET/PATCH/DELETE /v1/alerts/rules/{key}: metric
// alert rules decoded and encoded by api/codec/alert_rule_codec.h; their rules are
// app::AlertRuleService's (docs/alerts.md, "Alert rules").
#pragma once

#include <string_view>

#include "api/handler.h"
#include "api/resources/experiments.h"

namespace causeway::api {

HandlerResult CreateAlertRule(ExperimentService& experiments, const Json& body);  // 201
HandlerResult ListAlertRules(ExperimentService& experiments);
HandlerResult GetAlertRule(ExperimentService& experiments, std::string_view key);
HandlerResult PatchAlertRule(ExperimentService& experiments, std::string_view key,
                             const Json& body);
// The body may be empty or {}; any member is refused.
HandlerResult DeleteAlertRule(ExperimentService& experiments, std::string_view key,
                              std::string_view body);

}  // namespace causeway::api
