// Storage interface. SQLite (sqlite_store.h) is the embedded default;
// ClickHouse (clickhouse_store.h, docs/clickhouse.md) serves when the events
// outgrow one machine; open_store.h chooses between them. Every implementation
// passes the same tests (tests/store/). This header names no implementation.
//
// The store knows rows and SQL aggregates, not the API's JSON: experiment and
// metric configurations are opaque text owned by the API layer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/report_aggregates.h"

namespace causeway::store {

// Every call returns a Status (src/common/status.h), or a StatusOr when it reads:
// NotFound when a keyed row is absent, Internal when the database fails. A
// database error is never read as "no rows" (LevelDB's Get contract).

struct ExperimentRow {
  std::string key;
  std::string config;  // opaque to the store (the API's JSON)
  int phase = 1;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct PhaseRow {
  std::string experiment;
  int phase = 1;
  std::string seed;
  int64_t started_ms = 0;
};

struct MetricRow {
  std::string key;
  std::string config;  // opaque to the store
  int64_t created_ms = 0;
};

// sdk: assignment and events; admin: everything; client (issue 22): public, the SDK
// payload of GET /api/features/{clientKey} and exposures to POST /v1/events only.
enum class KeyScope { kSdk, kAdmin, kClient };
// "sdk", "admin", "client".
const char* KeyScopeName(KeyScope scope);
// nullopt for any other text.
std::optional<KeyScope> ParseKeyScope(std::string_view text);

// An API key as stored. The secret itself is never stored, only its hash.
struct ApiKeyRow {
  std::string id;      // public, stable name ("key_" + 12 hex chars), independent of the secret
  std::string hash;    // hex SHA-256 of the key
  std::string prefix;  // first characters of the key, to recognise it in listings
  KeyScope scope = KeyScope::kSdk;
  std::string name;  // optional description ("" when none)
  int64_t created_ms = 0;
  std::optional<int64_t> expires_ms;  // refused from this instant on
  std::optional<int64_t> revoked_ms;  // refused since this instant; never cleared
  // Client keys only: base64 of the 16-byte AES-128 key that encrypts this key's SDK
  // payload (GrowthBook's encryptedFeatures); "" for a plain payload.
  std::string payload_key;

  // Neither revoked nor expired at `now_ms`.
  bool Active(int64_t now_ms) const { return !revoked_ms && (!expires_ms || now_ms < *expires_ms); }
};

enum class EventType { kExposure = 0, kConversion = 1 };

// One validated event. Exposures use experiment+variant; conversions use name+value.
struct Event {
  EventType type = EventType::kExposure;
  std::string id;
  std::string user;
  std::string experiment;
  std::string variant;
  std::string name;
  double value = 1.0;
  int64_t ts_ms = 0;
  std::string attributes;  // flat JSON object text, or empty
};

struct WriteResult {
  Status status;
  int64_t accepted = 0;
  int64_t duplicates = 0;
};

struct VariantExposure {
  std::string variant;
  int64_t exposures = 0;
  int64_t users = 0;
};

struct ExposureSummary {
  std::vector<VariantExposure> variants;
  int64_t total_exposures = 0;
  int64_t unique_users = 0;
  int64_t multi_variant_users = 0;  // users seen in more than one variant (data-quality problem)
};

// Per-variant sufficient statistics of a per-user metric over exposed users:
// users counted from their first exposure; a user's value is the sum of their
// conversion values (of `event`) at or after first exposure and within the window.
struct VariantMetricStats {
  std::string variant;
  int64_t users = 0;                     // exposed users (single-variant only)
  int64_t converted = 0;                 // users with at least one conversion
  int64_t conversions = 0;               // conversion events
  double sum = 0.0;                      // sum over users of the per-user value
  double sum_squares = 0.0;              // sum over users of value^2
  double conversions_sum_squares = 0.0;  // sum over users of (events per user)^2
};

// Per-variant sufficient statistics of a ratio metric over exposed users, for the
// delta method: per user y = sum of `numerator_event` values and x = sum of
// `denominator_event` values (each from first exposure, within the window).
struct VariantRatioStats {
  std::string variant;
  int64_t users = 0;
  double numerator_sum = 0.0, numerator_sum_squares = 0.0;
  double denominator_sum = 0.0, denominator_sum_squares = 0.0;
  double numerator_denominator_sum_product = 0.0;
};

// ---- Metric series (issue 21 part 1, docs/alerts.md) ----

// Conversion events of some names per time bucket, optionally per level of one
// attribute of the events' `attributes`. Bucket k starts at from_ms + k * step_ms
// and holds the events with ts in [start, start + step_ms); events outside
// [from_ms, to_ms) are not read.
struct SeriesQuery {
  std::vector<std::string> events;  // conversion event names (distinct)
  int64_t from_ms = 0;              // inclusive
  int64_t to_ms = 0;                // exclusive
  int64_t step_ms = 60'000;         // > 0
  std::string segment;              // attribute name; "" for no segments
};

// One (bucket, event name, segment level) with at least one event.
struct SeriesRow {
  int64_t bucket_ms = 0;  // the bucket's start
  std::string event;
  // The attribute's value as text (a JSON string unquoted, a number or boolean as
  // written); kNoSegmentValue when the event lacks it; "" when not segmented.
  std::string segment;
  int64_t events = 0;
  double sum = 0.0;          // of the events' values
  double sum_squares = 0.0;  // of the values squared
};

inline constexpr const char* kNoSegmentValue = "(none)";

// ---- Monitors, alerts and webhooks (issue 21, docs/alerts.md) ----

// The stored state of one monitor of one subject: a metric alert rule
// ("rule:<key>") or an experiment ("experiment:<key>"). Written only together
// with the alerts its transitions raise (CommitMonitorChanges).
struct MonitorStateRow {
  std::string subject;  // "rule:<key>" or "experiment:<key>"
  std::string
      monitor;  // "rule", "srm", "guardrail:<metric>", "no_traffic", "multi_exposure", "rollout"
  std::string state;     // e.g. "inactive", "pending", "firing", "resolved"; opaque to the store
  int64_t since_ms = 0;  // when the state was entered (event time)
  int64_t evaluated_ms = 0;  // the as_of of the evaluation that wrote it
  std::string detail;        // opaque JSON text: the last statistic, value, ...
};

// One alert: a monitor's transition worth telling someone about.
struct AlertRow {
  // Unique and deterministic for (subject, monitor, at_ms, state), so replaying the
  // same evaluation stores it once; it is also the `webhook-id` of every delivery.
  std::string id;
  std::string
      kind;  // "srm", "guardrail", "no_traffic", "multi_exposure", "rule", "rollout", "test"
  std::string subject_kind;  // "experiment" or "rule"
  std::string subject;       // the experiment's or the rule's key
  std::string monitor;       // as MonitorStateRow::monitor
  std::string state;         // the state entered ("firing", "resolved", ...)
  int64_t at_ms = 0;         // event time: the as_of of the evaluation
  int64_t created_ms = 0;    // wall-clock time of the write
  std::string payload;       // opaque JSON text: the statistic that fired it, ...
  // Not stored: when set, CommitMonitorChanges gives the new alert one delivery, to
  // this webhook only, whatever its kinds (POST /v1/webhooks/{id}/test).
  std::string target_webhook;
};

// A webhook endpoint. The secret is kept (HMAC needs it) and shown once at creation.
struct WebhookRow {
  std::string id;  // "wh_" + hex
  std::string url;
  std::vector<std::string> kinds;  // alert kinds delivered; empty: every kind
  std::string format;              // "standard" or "slack"
  std::string secret;              // "whsec_" + base64 (Standard Webhooks)
  std::string description;
  int64_t created_ms = 0;
};

// One alert's delivery to one webhook (the outbox).
struct DeliveryRow {
  std::string alert_id;
  std::string webhook_id;
  std::string status;  // "pending", "delivered", "failed" (gave up)
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t last_attempt_ms = 0;
  int last_http_status = 0;  // 0: no answer
  std::string last_error;
  int64_t delivered_ms = 0;
};

// A configuration document keyed by a string: a metric alert rule or a feature
// (issue 22). The config is the API's JSON, opaque here.
struct ConfigDocumentRow {
  std::string key;
  std::string config;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};
using AlertRuleRow = ConfigDocumentRow;
using FeatureRow = ConfigDocumentRow;

class Store {
 public:
  virtual ~Store() = default;

  // Experiments.
  virtual Status CreateExperiment(const ExperimentRow& row, const PhaseRow& first_phase) = 0;
  // Replaces config/phase/updated_ms; records `new_phase` in the same transaction if given.
  virtual Status UpdateExperiment(const ExperimentRow& row, const PhaseRow* new_phase) = 0;
  virtual StatusOr<ExperimentRow> GetExperiment(std::string_view key) = 0;
  virtual StatusOr<std::vector<ExperimentRow>> ListExperiments() = 0;
  virtual StatusOr<std::vector<PhaseRow>> ListPhases(std::string_view experiment) = 0;

  // Metric definitions.
  virtual Status CreateMetric(const MetricRow& row) = 0;
  virtual StatusOr<MetricRow> GetMetric(std::string_view key) = 0;
  virtual StatusOr<std::vector<MetricRow>> ListMetrics() = 0;

  // API keys. AlreadyExists when the id or the hash is taken.
  virtual Status CreateApiKey(const ApiKeyRow& row) = 0;
  // The key with this hash, revoked and expired ones included (the caller judges).
  virtual StatusOr<ApiKeyRow> FindApiKey(std::string_view hash) = 0;
  // Every key, revoked and expired ones included, oldest first.
  virtual StatusOr<std::vector<ApiKeyRow>> ListApiKeys() = 0;
  // Keys ever created, revoked ones included.
  virtual StatusOr<int64_t> CountApiKeys() = 0;
  // Marks the key `id` revoked at `now_ms` and returns it. Idempotent: revoking a
  // revoked key changes nothing and returns it with its first revocation time.
  // NotFound for an unknown id. FailedPrecondition when it is the last active
  // admin key: checked in the same transaction, so two processes revoking the
  // last two admin keys at once cannot lock everybody out.
  virtual StatusOr<ApiKeyRow> RevokeApiKey(std::string_view id, int64_t now_ms) = 0;
  // A counter that every revocation, by any process on the same database, raises
  // in the revoking transaction: a cache of verified keys compares it to know
  // when to forget what it verified (api/http/auth.h).
  virtual StatusOr<int64_t> ApiKeyRevocations() = 0;

  // A number that changes whenever any experiment, phase, metric or API key row
  // changes, by any process on the same database, raised in the transaction of
  // the change: an instance that compares it with the value it last loaded
  // knows whether its configuration is current (app/config_refresher.h).
  virtual StatusOr<int64_t> ConfigVersion() = 0;

  // Events. Writes every event of every batch in one durable transaction; each
  // batch is all-or-nothing. Events whose id is already stored (or repeated
  // within the batches) count as duplicates and are not stored again.
  // results[i] answers batches[i]. ClickHouse: one INSERT for all the batches;
  // only ids repeated within the call count as duplicates, an id stored by an
  // earlier call is accepted again and never counted twice (docs/clickhouse.md).
  virtual std::vector<WriteResult> WriteEventBatches(
      const std::vector<const std::vector<Event>*>& batches) = 0;
  virtual StatusOr<bool> HasEvent(std::string_view id) = 0;
  virtual StatusOr<int64_t> CountEvents() = 0;

  // Aggregates, computed where the data lives. `since_ms` bounds exposures from below.
  virtual StatusOr<ExposureSummary> SummarizeExposures(std::string_view experiment,
                                                       int64_t since_ms) = 0;
  virtual StatusOr<std::vector<VariantMetricStats>> MetricStats(std::string_view experiment,
                                                                int64_t since_ms,
                                                                std::string_view event,
                                                                int64_t window_ms) = 0;
  virtual StatusOr<std::vector<VariantRatioStats>> RatioMetricStats(
      std::string_view experiment, int64_t since_ms, std::string_view numerator_event,
      std::string_view denominator_event, int64_t window_ms) = 0;
  // The attributes (flat JSON object text) of the first `limit` exposures of the
  // experiment since `since_ms` in the store's order, those without attributes
  // left out: a cheap sample for listing the attribute names (on a cluster, up
  // to `limit` per shard).
  virtual StatusOr<std::vector<std::string>> SampleExposureAttributes(std::string_view experiment,
                                                                      int64_t since_ms,
                                                                      int64_t limit) = 0;

  // Everything a report reads, in one pass over the experiment's exposures and
  // each event name its metrics use (store/report_aggregates.h), from one
  // consistent snapshot of the data.
  virtual StatusOr<ReportAggregates> AggregateReport(const ReportQuery& query) = 0;

  // Per (bucket, event, segment) sums of the conversion events the query names,
  // aggregated where the data lives, ordered by bucket, event, segment; each event
  // id counted once. InvalidArgument naming "segment" for an attribute name outside
  // [A-Za-z0-9_.-]{1,128}. Default body: Internal (not implemented).
  virtual StatusOr<std::vector<SeriesRow>> EventSeries(const SeriesQuery& query);

  // ---- Monitors, alerts and webhooks (issue 21). Default bodies answer
  // Unimplemented until a backend implements them. ----

  // Writes the states and the alerts in one transaction, and for each new alert one
  // pending delivery per webhook whose kinds include the alert's kind. An alert whose
  // id is already stored is left as it is (no new deliveries).
  virtual Status CommitMonitorChanges(const std::vector<MonitorStateRow>& states,
                                      const std::vector<AlertRow>& alerts);
  // The states whose subject starts with `subject_prefix` ("" for all).
  virtual StatusOr<std::vector<MonitorStateRow>> ListMonitorStates(std::string_view subject_prefix);
  // Alerts with at_ms >= since_ms, oldest first, at most `limit`.
  virtual StatusOr<std::vector<AlertRow>> ListAlerts(int64_t since_ms, int64_t limit);
  // The alert `id` (NotFound when absent): what a delivery sends.
  virtual StatusOr<AlertRow> GetAlert(std::string_view id);

  // Alert rules (configuration: raises ConfigVersion like metrics).
  virtual Status CreateAlertRule(const AlertRuleRow& row);
  virtual Status UpdateAlertRule(const AlertRuleRow& row);  // NotFound if absent
  virtual Status DeleteAlertRule(std::string_view key);     // NotFound if absent
  virtual StatusOr<AlertRuleRow> GetAlertRule(std::string_view key);
  virtual StatusOr<std::vector<AlertRuleRow>> ListAlertRules();

  // Features with values (issue 22; configuration: raises ConfigVersion). As
  // alert rules: AlreadyExists / NotFound naming "key"; created_ms kept on update.
  virtual Status CreateFeature(const FeatureRow& row);
  virtual Status UpdateFeature(const FeatureRow& row);
  virtual Status DeleteFeature(std::string_view key);
  virtual StatusOr<FeatureRow> GetFeature(std::string_view key);
  virtual StatusOr<std::vector<FeatureRow>> ListFeatures();

  // Webhooks and the outbox.
  virtual Status CreateWebhook(const WebhookRow& row);
  virtual StatusOr<std::vector<WebhookRow>> ListWebhooks();
  // NotFound if absent; its pending deliveries are dropped (the delivered and
  // failed ones stay, as history).
  virtual Status DeleteWebhook(std::string_view id);
  // Pending deliveries with next_attempt_ms <= now_ms, soonest first, at most `limit`.
  virtual StatusOr<std::vector<DeliveryRow>> DueDeliveries(int64_t now_ms, int64_t limit);
  // Replaces the delivery (alert_id, webhook_id) with `row` (after an attempt, or
  // to lease it before one). A delivery that is no longer stored (its webhook was
  // deleted) stays absent; that is not an error.
  virtual Status RecordDeliveryAttempt(const DeliveryRow& row);
  virtual StatusOr<std::vector<DeliveryRow>> ListDeliveries(std::string_view alert_id);
};

}  // namespace causeway::store
