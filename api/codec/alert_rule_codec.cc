#include "api/codec/alert_rule_codec.h"

#include <algorithm>
#include <charconv>

#include "api/codec/field_reader.h"
#include "api/codec/time_text.h"

namespace causeway::api {
namespace {

using app::AlertRule;

// A duration member ("15m"): *out untouched when absent.
void ReadDuration(FieldReader& r, std::string_view name, int64_t* out) {
  std::optional<std::string> text;
  r.Optional(name, &text);
  if (!r.ok() || !text) return;
  std::optional<int64_t> ms = ParseDuration(*text);
  r.Check(ms.has_value(), name, "must be a duration such as \"15m\", \"1h\" or \"1d\"");
  if (ms) *out = *ms;
}

void ReadThreshold(FieldReader& c, AlertRule* rule) {
  rule->min_volume = app::kThresholdMinVolume;
  c.Check(c.Present("op") || !c.ok(), "op", "required: \"above\" or \"below\"");
  c.Enum("op", &rule->op,
         {{"above", app::ThresholdOp::kAbove}, {"below", app::ThresholdOp::kBelow}});
  c.Required("value", &rule->threshold);
  c.Optional("min_volume", &rule->min_volume);
}

void ReadChange(FieldReader& c, AlertRule* rule) {
  c.Enum("baseline", &rule->baseline,
         {{"same_time_days", app::BaselineKind::kSameTimeDays},
          {"trailing_windows", app::BaselineKind::kTrailingWindows},
          {"day", app::BaselineKind::kDayEarlier},
          {"week", app::BaselineKind::kWeekEarlier}});
  const bool counted = rule->baseline == app::BaselineKind::kSameTimeDays ||
                       rule->baseline == app::BaselineKind::kTrailingWindows;
  c.Check(counted || !c.Present("baseline_windows"), "baseline_windows",
          "only with baseline \"same_time_days\" or \"trailing_windows\"");
  int64_t windows = rule->baseline_windows;
  c.Optional("baseline_windows", &windows);
  if (c.ok()) rule->baseline_windows = static_cast<int>(std::clamp<int64_t>(windows, -1, 1000));
  c.Enum("direction", &rule->direction,
         {{"both", app::ChangeDirection::kBoth},
          {"drop", app::ChangeDirection::kDrop},
          {"rise", app::ChangeDirection::kRise}});
  c.Optional("alpha", &rule->alpha);
  c.Optional("min_volume", &rule->min_volume);
}

// condition: {type: threshold|change, ...}; its members by type.
void ReadCondition(FieldReader& r, AlertRule* rule) {
  r.Object("condition", [rule](FieldReader& c) {
    c.Check(c.Present("type") || !c.ok(), "type", "required: \"threshold\" or \"change\"");
    c.Enum(
        "type", &rule->condition,
        {{"threshold", app::ConditionKind::kThreshold}, {"change", app::ConditionKind::kChange}});
    if (!c.ok()) return;
    if (rule->condition == app::ConditionKind::kThreshold) {
      ReadThreshold(c, rule);
    } else {
      ReadChange(c, rule);
    }
  });
}

Json EncodeCondition(const AlertRule& r) {
  if (r.condition == app::ConditionKind::kThreshold) {
    return {{"type", "threshold"},
            {"op", r.op == app::ThresholdOp::kAbove ? "above" : "below"},
            {"value", r.threshold},
            {"min_volume", r.min_volume}};
  }
  const char* baseline = "same_time_days";
  if (r.baseline == app::BaselineKind::kTrailingWindows) baseline = "trailing_windows";
  if (r.baseline == app::BaselineKind::kDayEarlier) baseline = "day";
  if (r.baseline == app::BaselineKind::kWeekEarlier) baseline = "week";
  const char* direction = r.direction == app::ChangeDirection::kDrop   ? "drop"
                          : r.direction == app::ChangeDirection::kRise ? "rise"
                                                                       : "both";
  Json c = {{"type", "change"}, {"baseline", baseline}};
  if (r.baseline == app::BaselineKind::kSameTimeDays ||
      r.baseline == app::BaselineKind::kTrailingWindows) {
    c["baseline_windows"] = r.baseline_windows;
  }
  c["direction"] = direction;
  c["alpha"] = r.alpha;
  c["min_volume"] = r.min_volume;
  return c;
}

const char* KindName(app::MetricKind k) {
  switch (k) {
    case app::MetricKind::kProportion:
      return "proportion";
    case app::MetricKind::kCount:
      return "count";
    case app::MetricKind::kMean:
      return "mean";
  }
  return "unknown";
}

}  // namespace

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = app::kMinuteMs;
      break;
    case 'h':
      unit = 60 * app::kMinuteMs;
      break;
    case 'd':
      unit = app::kDayMs;
      break;
    default:
      return std::nullopt;
  }
  int64_t n = 0;
  const char* end = text.data() + text.size() - 1;
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || p != end || n < 0 || n > 1'000'000) return std::nullopt;
  return n * unit;
}

std::string FormatDuration(int64_t ms) {
  if (ms > 0 && ms % app::kDayMs == 0) return std::to_string(ms / app::kDayMs) + "d";
  if (ms > 0 && ms % (60 * app::kMinuteMs) == 0) {
    return std::to_string(ms / (60 * app::kMinuteMs)) + "h";
  }
  if (ms % app::kMinuteMs == 0) return std::to_string(ms / app::kMinuteMs) + "m";
  return std::to_string(ms / 1000) + "s";
}

Status DecodeAlertRule(const Json& body, app::AlertRuleConfig* out) {
  FieldReader r(body);
  r.Required("key", &out->rule.key);
  r.Required("metric", &out->rule.metric);
  r.Optional("description", &out->description);
  r.Optional("enabled", &out->enabled);
  ReadDuration(r, "window", &out->rule.window_ms);
  ReadDuration(r, "for", &out->rule.for_ms);
  ReadCondition(r, &out->rule);
  return r.Finish();
}

Status DecodeAlertRulePatch(const Json& body, app::AlertRulePatch* out) {
  FieldReader r(body);
  r.Optional("metric", &out->metric);
  r.Optional("description", &out->description);
  r.Optional("enabled", &out->enabled);
  if (r.Present("window")) {
    int64_t ms = 0;
    ReadDuration(r, "window", &ms);
    out->window_ms = ms;
  }
  if (r.Present("for")) {
    int64_t ms = 0;
    ReadDuration(r, "for", &ms);
    out->for_ms = ms;
  }
  if (r.Present("condition")) {
    AlertRule condition;
    ReadCondition(r, &condition);
    out->condition = condition;
  }
  return r.Finish();
}

Json EncodeAlertRuleConfig(const app::AlertRuleConfig& rule) {
  return {{"key", rule.rule.key},
          {"metric", rule.rule.metric},
          {"description", rule.description},
          {"enabled", rule.enabled},
          {"window", FormatDuration(rule.rule.window_ms)},
          {"for", FormatDuration(rule.rule.for_ms)},
          {"condition", EncodeCondition(rule.rule)}};
}

Json RenderAlertRule(const app::AlertRuleConfig& rule) {
  Json out = EncodeAlertRuleConfig(rule);
  out["metric_kind"] = KindName(rule.rule.kind);
  out["created_ms"] = rule.created_ms;
  out["updated_ms"] = rule.updated_ms;
  out["created_at"] = IsoTime(rule.created_ms);
  out["updated_at"] = IsoTime(rule.updated_ms);
  return out;
}

std::string JsonAlertRuleCodec::EncodeAlertRule(const app::AlertRuleConfig& rule) const {
  return EncodeAlertRuleConfig(rule).dump();
}

StatusOr<app::AlertRuleConfig> JsonAlertRuleCodec::DecodeAlertRule(std::string_view text) const {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Internal("stored alert rule is not JSON");
  app::AlertRuleConfig rule;
  if (Status s = api::DecodeAlertRule(j, &rule); !s.ok()) return s;
  return rule;
}

}  // namespace causeway::api
