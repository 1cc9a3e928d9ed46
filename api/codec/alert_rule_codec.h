// JSON codec of alert rules (POST/PATCH /v1/alerts/rules and their stored text):
// requests to app::AlertRuleConfig / AlertRulePatch and back. Every field is read
// through FieldReader, so unknown fields are refused naming them; the product
// rules (bounds, the metric must exist, its type decides the kind) are
// app::NormalizeAlertRule's. docs/alerts.md, "Alert rules".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "app/alert_rule_service.h"

namespace causeway::api {

// "15m", "1h", "1d", "30s" (an integer and one unit) -> milliseconds.
std::optional<int64_t> ParseDuration(std::string_view text);
// Milliseconds -> the largest whole unit: 86400000 -> "1d", 5400000 -> "90m".
std::string FormatDuration(int64_t ms);

// POST /v1/alerts/rules (and stored rules): defaults filled (docs/alerts.md).
Status DecodeAlertRule(const Json& body, app::AlertRuleConfig* out);
// PATCH /v1/alerts/rules/{key}: the key is the path's and cannot be sent.
Status DecodeAlertRulePatch(const Json& body, app::AlertRulePatch* out);
// The stored form: every configuration member, defaults resolved.
Json EncodeAlertRuleConfig(const app::AlertRuleConfig& rule);
// The stored form plus metric_kind, created_ms, updated_ms, created_at, updated_at.
Json RenderAlertRule(const app::AlertRuleConfig& rule);

class JsonAlertRuleCodec : public app::AlertRuleCodec {
 public:
  std::string EncodeAlertRule(const app::AlertRuleConfig& rule) const override;
  StatusOr<app::AlertRuleConfig> DecodeAlertRule(std::string_view text) const override;
};

}  // namespace causeway::api
