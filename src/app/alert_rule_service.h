// Alert rules as configuration (issue 21 part 2; docs/alerts.md, "Alert rules"):
// the typed rule with what the engine does not carry (enabled, description, times),
// its product rules (validation, the metric it names must exist and decides the
// MetricKind), the service that stores them, and EvaluateRuleAt, the rule engine
// (app/alert_rules.h) on the stored events up to as_of.
//
// The service reads the store on every call (no cache): rules are few, and every
// instance on one database then sees every write at once. Writes raise the store's
// ConfigVersion. Thread-safe (writes serialised by a mutex; reads are the store's).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/alert_rules.h"
#include "app/experiment.h"
#include "app/services.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

inline constexpr int64_t kMaxRuleWindowMs = kDayMs;
inline constexpr int64_t kMaxRuleForMs = kDayMs;
inline constexpr int kMaxBaselineWindows = 28;

struct AlertRuleConfig {
  AlertRule rule;  // rule.kind is resolved from the metric by the service
  bool enabled = true;
  std::string description;
  int64_t created_ms = 0;  // kept by the service
  int64_t updated_ms = 0;
};

// What PATCH may change; a given condition replaces the whole condition
// (condition, op, threshold, baseline, baseline_windows, direction, alpha, min_volume).
struct AlertRulePatch {
  std::optional<std::string> metric;
  std::optional<int64_t> window_ms;
  std::optional<int64_t> for_ms;
  std::optional<AlertRule> condition;
  std::optional<bool> enabled;
  std::optional<std::string> description;
};

// Copies the condition members of `from` into `to`.
void CopyCondition(const AlertRule& from, AlertRule* to);

// The default min_volume of a threshold condition (a change condition's is
// AlertRule's, 2000): a threshold on a quiet metric ("fewer than 10 purchases in 15
// minutes") must be able to fire.
inline constexpr double kThresholdMinVolume = 0.0;

// The product rules on a rule whose metric is `metric` (kind resolved): key, window
// and `for` in whole minutes within bounds, baseline_windows only where it means
// something, a change condition only on a proportion or a count.
// InvalidArgument naming the field (window, for, condition.alpha, ...).
Status NormalizeAlertRule(const MetricDefinition& metric, AlertRuleConfig* config);

// The text form of stored rules (the store keeps it opaque; the API's JSON).
class AlertRuleCodec {
 public:
  virtual ~AlertRuleCodec() = default;
  virtual std::string EncodeAlertRule(const AlertRuleConfig& rule) const = 0;
  virtual StatusOr<AlertRuleConfig> DecodeAlertRule(std::string_view text) const = 0;
};

class AlertRuleService {
 public:
  // REQUIRES: the arguments outlive the service.
  AlertRuleService(store::Store* store, const MetricService* metrics, const AlertRuleCodec* codec)
      : store_(store), metrics_(metrics), codec_(codec) {}

  StatusOr<AlertRuleConfig> Create(AlertRuleConfig rule, int64_t now_ms);  // AlreadyExists "key"
  StatusOr<AlertRuleConfig> Patch(std::string_view key, const AlertRulePatch& patch,
                                  int64_t now_ms);  // NotFound "key"
  Status Delete(std::string_view key);              // NotFound "key"
  StatusOr<AlertRuleConfig> Get(std::string_view key) const;
  StatusOr<std::vector<AlertRuleConfig>> List() const;  // by key

  // The metric a rule names (NotFound naming "metric").
  StatusOr<MetricDefinition> MetricOf(const AlertRuleConfig& rule) const;

 private:
  StatusOr<AlertRuleConfig> Decode(const store::AlertRuleRow& row) const;
  Status Normalize(AlertRuleConfig* rule) const;

  store::Store* const store_;
  const MetricService* const metrics_;
  const AlertRuleCodec* const codec_;
  std::mutex write_mu_;  // serialises Create, Patch and Delete (read, check, write)
};

// The spans [from, to) of 1-minute buckets (rule.step_ms) a rule's evaluation at
// as_of reads: the window and its baseline, sorted and merged. as_of is taken at
// the start of its bucket (a bucket still filling is never read).
std::vector<std::pair<int64_t, int64_t>> RuleReadSpans(const AlertRule& rule, int64_t as_of_ms);

// The rule engine on the stored events up to as_of: reads the spans above through
// Store::EventSeries and calls EvaluateRule(rule, buckets, aligned as_of, previous).
// REQUIRES: rule.kind == AlertKindOf(metric).
StatusOr<RuleEvaluation> EvaluateRuleAt(const AlertRule& rule, const MetricDefinition& metric,
                                        store::Store& store, int64_t as_of_ms,
                                        const AlertState& previous);

}  // namespace causeway::app
