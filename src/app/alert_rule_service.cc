#include "app/alert_rule_service.h"

#include <algorithm>
#include <cmath>

#include "app/metric_series.h"

namespace causeway::app {
namespace {

constexpr size_t kMaxKeyBytes = 128;
constexpr size_t kMaxDescriptionBytes = 1000;

bool IsRuleKey(const std::string& s) {
  if (s.empty() || s.size() > kMaxKeyBytes) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

Status CheckMinutes(int64_t ms, int64_t min_ms, int64_t max_ms, const char* field) {
  if (ms % kMinuteMs != 0 || ms < min_ms || ms > max_ms) {
    return Status::InvalidArgument(field, "must be whole minutes from " +
                                              std::to_string(min_ms / kMinuteMs) + "m to " +
                                              std::to_string(max_ms / kMinuteMs) + "m");
  }
  return Status::Ok();
}

Status CheckCondition(const AlertRule& r) {
  if (!(r.min_volume >= 0.0) || !std::isfinite(r.min_volume)) {
    return Status::InvalidArgument("condition.min_volume", "must be a number >= 0");
  }
  if (r.condition == ConditionKind::kThreshold) {
    if (!std::isfinite(r.threshold)) {
      return Status::InvalidArgument("condition.value", "must be a finite number");
    }
    return Status::Ok();
  }
  if (r.kind == MetricKind::kMean) {
    return Status::InvalidArgument(
        "condition.type",
        "a change condition needs a ratio or a count metric (a mean's series carries no "
        "variance the test could use); use a threshold");
  }
  if (!(r.alpha > 0.0 && r.alpha < 1.0)) {
    return Status::InvalidArgument("condition.alpha", "must be in (0, 1)");
  }
  const bool counted =
      r.baseline == BaselineKind::kSameTimeDays || r.baseline == BaselineKind::kTrailingWindows;
  if (counted && (r.baseline_windows < 1 || r.baseline_windows > kMaxBaselineWindows)) {
    return Status::InvalidArgument("condition.baseline_windows",
                                   "must be from 1 to " + std::to_string(kMaxBaselineWindows));
  }
  return Status::Ok();
}

}  // namespace

void CopyCondition(const AlertRule& from, AlertRule* to) {
  to->condition = from.condition;
  to->op = from.op;
  to->threshold = from.threshold;
  to->baseline = from.baseline;
  to->baseline_windows = from.baseline_windows;
  to->direction = from.direction;
  to->alpha = from.alpha;
  to->min_volume = from.min_volume;
}

Status NormalizeAlertRule(const MetricDefinition& metric, AlertRuleConfig* config) {
  AlertRule& r = config->rule;
  if (!IsRuleKey(r.key)) {
    return Status::InvalidArgument("key",
                                   "required: a string of 1-128 letters, digits, '_', '-' or '.'");
  }
  StatusOr<MetricKind> kind = AlertKindOf(metric, "metric");
  if (!kind.ok()) return kind.status();
  r.kind = *kind;
  r.step_ms = kMinuteMs;
  if (Status s = CheckMinutes(r.window_ms, kMinuteMs, kMaxRuleWindowMs, "window"); !s.ok()) {
    return s;
  }
  if (Status s = CheckMinutes(r.for_ms, 0, kMaxRuleForMs, "for"); !s.ok()) return s;
  if (Status s = CheckCondition(r); !s.ok()) return s;
  if (config->description.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("description", "at most 1000 bytes");
  }
  std::string error;
  if (!r.IsValid(&error)) return Status::InvalidArgument("condition", error);
  return Status::Ok();
}

StatusOr<MetricDefinition> AlertRuleService::MetricOf(const AlertRuleConfig& rule) const {
  StatusOr<MetricDefinition> m = metrics_->Get(rule.rule.metric);
  if (!m.ok()) {
    return Status::InvalidArgument(
        "metric", "no metric with key " + rule.rule.metric + " (POST /v1/metrics)");
  }
  return m;
}

Status AlertRuleService::Normalize(AlertRuleConfig* rule) const {
  if (rule->rule.metric.empty()) return Status::InvalidArgument("metric", "is required");
  StatusOr<MetricDefinition> metric = MetricOf(*rule);
  if (!metric.ok()) return metric.status();
  return NormalizeAlertRule(*metric, rule);
}

StatusOr<AlertRuleConfig> AlertRuleService::Decode(const store::AlertRuleRow& row) const {
  StatusOr<AlertRuleConfig> rule = codec_->DecodeAlertRule(row.config);
  if (!rule.ok()) return Status::Internal("stored alert rule " + row.key + " is invalid");
  rule->created_ms = row.created_ms;
  rule->updated_ms = row.updated_ms;
  // The kind follows the metric, which may have been loaded since.
  if (StatusOr<MetricDefinition> m = MetricOf(*rule); m.ok()) {
    if (StatusOr<MetricKind> k = AlertKindOf(*m); k.ok()) rule->rule.kind = *k;
  }
  return rule;
}

StatusOr<AlertRuleConfig> AlertRuleService::Create(AlertRuleConfig rule, int64_t now_ms) {
  if (Status s = Normalize(&rule); !s.ok()) return s;
  rule.created_ms = rule.updated_ms = now_ms;
  std::lock_guard write(write_mu_);
  Status s = store_->CreateAlertRule(
      {rule.rule.key, codec_->EncodeAlertRule(rule), rule.created_ms, rule.updated_ms});
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("alert rule exists: " + rule.rule.key, "key");
  }
  if (!s.ok()) return s;
  return rule;
}

StatusOr<AlertRuleConfig> AlertRuleService::Patch(std::string_view key, const AlertRulePatch& patch,
                                                  int64_t now_ms) {
  std::lock_guard write(write_mu_);
  StatusOr<AlertRuleConfig> rule = Get(key);
  if (!rule.ok()) return rule.status();
  if (patch.metric) rule->rule.metric = *patch.metric;
  if (patch.window_ms) rule->rule.window_ms = *patch.window_ms;
  if (patch.for_ms) rule->rule.for_ms = *patch.for_ms;
  if (patch.condition) CopyCondition(*patch.condition, &rule->rule);
  if (patch.enabled) rule->enabled = *patch.enabled;
  if (patch.description) rule->description = *patch.description;
  if (Status s = Normalize(&*rule); !s.ok()) return s;
  rule->updated_ms = now_ms;
  if (Status s = store_->UpdateAlertRule(
          {rule->rule.key, codec_->EncodeAlertRule(*rule), rule->created_ms, rule->updated_ms});
      !s.ok()) {
    return s;
  }
  return rule;
}

Status AlertRuleService::Delete(std::string_view key) {
  std::lock_guard write(write_mu_);
  return store_->DeleteAlertRule(key);
}

StatusOr<AlertRuleConfig> AlertRuleService::Get(std::string_view key) const {
  StatusOr<store::AlertRuleRow> row = store_->GetAlertRule(key);
  if (!row.ok()) return row.status();
  return Decode(*row);
}

StatusOr<std::vector<AlertRuleConfig>> AlertRuleService::List() const {
  StatusOr<std::vector<store::AlertRuleRow>> rows = store_->ListAlertRules();
  if (!rows.ok()) return rows.status();
  std::vector<AlertRuleConfig> out;
  for (const auto& row : *rows) {
    StatusOr<AlertRuleConfig> rule = Decode(row);
    if (!rule.ok()) return rule.status();
    out.push_back(std::move(*rule));
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> RuleReadSpans(const AlertRule& rule, int64_t as_of_ms) {
  const int64_t step = rule.step_ms > 0 ? rule.step_ms : kMinuteMs;
  int64_t end = as_of_ms / step * step;
  if (end > as_of_ms) end -= step;
  const int64_t w = rule.window_ms;
  std::vector<std::pair<int64_t, int64_t>> spans = {{end - w, end}};
  if (rule.condition == ConditionKind::kChange) {
    switch (rule.baseline) {
      case BaselineKind::kDayEarlier:
        spans.emplace_back(end - kDayMs - w, end - kDayMs);
        break;
      case BaselineKind::kWeekEarlier:
        spans.emplace_back(end - 7 * kDayMs - w, end - 7 * kDayMs);
        break;
      case BaselineKind::kSameTimeDays:
        for (int d = 1; d <= rule.baseline_windows; ++d) {
          spans.emplace_back(end - d * kDayMs - w, end - d * kDayMs);
        }
        break;
      case BaselineKind::kTrailingWindows:
        spans.emplace_back(end - (rule.baseline_windows + 1) * w, end - w);
        break;
    }
  }
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, s.second);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

StatusOr<RuleEvaluation> EvaluateRuleAt(const AlertRule& rule, const MetricDefinition& metric,
                                        store::Store& store, int64_t as_of_ms,
                                        const AlertState& previous) {
  const int64_t step = rule.step_ms > 0 ? rule.step_ms : kMinuteMs;
  std::vector<MetricBucket> buckets;
  for (const auto& [from, to] : RuleReadSpans(rule, as_of_ms)) {
    SeriesRequest request;
    request.from_ms = from;
    request.to_ms = to;
    request.step_ms = step;
    StatusOr<MetricSeries> series = ReadMetricSeries(store, metric, request, false);
    if (!series.ok()) return series.status();
    std::vector<MetricBucket> part = ToMetricBuckets(rule.kind, series->points);
    buckets.insert(buckets.end(), part.begin(), part.end());
  }
  int64_t end = as_of_ms / step * step;
  if (end > as_of_ms) end -= step;
  return EvaluateRule(rule, buckets, end, previous);
}

}  // namespace causeway::app
