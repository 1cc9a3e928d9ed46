// ClickHouse implementation of Store (docs/clickhouse.md).
//
// Tables, in the configured database unless said otherwise:
//   events       the events (exactly the schema the report SQL reads, below); on a
//                cluster a Distributed table over `events_local` on every shard,
//                sharded by cityHash64(uid) so a user's events live on one shard
//   experiments  ReplacingMergeTree(version) ordered by (key, phase_row): the
//                experiment itself (phase_row 0: config, phase, created/updated)
//                and its phases (phase_row n: seed, started_ms) share one table,
//                so creating an experiment with its first phase is one INSERT,
//                which ClickHouse applies atomically
//   metrics      ReplacingMergeTree(version) ordered by key
//   api_keys     ReplacingMergeTree(version) ordered by id; a revocation inserts
//                the key again with revoked_ms and a higher version
//   monitor_states, alerts, webhooks, deliveries  ReplacingMergeTree(version):
//                the outbox (issue 21); CommitMonitorChanges explains its order of
//                writes, since no transaction spans tables
// Config reads use FINAL (the newest version of each key); those tables hold
// hundreds of rows, not millions.
//
// ClickHouse has no transactions. Within one process a mutex serialises config
// writes, so the checks (key taken? last admin key?) and the write that follows
// are not interleaved with another write of this process. Between two processes
// they can be: two instances creating the same experiment key at the same instant
// both succeed and the later version wins; two instances revoking the last two
// active admin keys at the same instant can both succeed. docs/clickhouse.md
// names these races; SQLite's store has none (its checks run in a transaction).
//
// Events: one INSERT (TabSeparated body) per WriteEventBatches call, that is per
// group commit, answered only when ClickHouse has answered 200 to the synchronous
// INSERT (insert_distributed_sync=1 on a cluster). Ids repeated within the call
// are counted as duplicates and dropped; an id written by an earlier call is
// accepted again (finding it would cost a lookup per event), stored as a second
// identical row that ReplacingMergeTree merges collapse, and never counted twice
// because every count and report reads distinct event ids.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_set>

#include "store/clickhouse_client.h"
#include "store/clickhouse_report.h"
#include "store/clickhouse_series.h"
#include "store/clickhouse_store.h"
#include "store/store.h"

namespace causeway::store {
namespace {

using ch::Client;
using ch::EscapeTsv;
using ch::Quote;
using Rows = std::vector<std::vector<std::string>>;

// The columns of the events table; the report SQL depends on them.
constexpr const char* kEventColumns =
    "(type UInt8, key String, uid String, ts Int64, id String, variant String, value Float64, "
    "attrs String)";
constexpr const char* kEventEngine =
    "ENGINE = ReplacingMergeTree ORDER BY (type, key, uid, ts, id)";

constexpr const char* kExperimentsTable =
    "(key String, phase_row Int32, config String, phase Int32, seed String, created_ms Int64, "
    "updated_ms Int64, started_ms Int64, version UInt64) "
    "ENGINE = ReplacingMergeTree(version) ORDER BY (key, phase_row)";
constexpr const char* kMetricsTable =
    "(key String, config String, created_ms Int64, version UInt64) "
    "ENGINE = ReplacingMergeTree(version) ORDER BY key";
constexpr const char* kApiKeysTable =
    "(id String, hash String, prefix String, scope String, name String, created_ms Int64, "
    "expires_ms Nullable(Int64), revoked_ms Nullable(Int64), version UInt64, "
    "payload_key String DEFAULT '') "
    "ENGINE = ReplacingMergeTree(version) ORDER BY id";

// Alert rules (issue 21): a deletion inserts the key again with deleted = 1 and a
// higher version, so FINAL shows it gone and ConfigVersion moves.
constexpr const char* kAlertRulesTable =
    "(key String, config String, created_ms Int64, updated_ms Int64, deleted UInt8, "
    "version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY key";

// Features (issue 22): the same shape and rules as alert rules.
constexpr const char* kFeaturesTable = kAlertRulesTable;

// CREATE ... IF NOT EXISTS run by two processes at once can still fail in the
// loser with "already exists" (ClickHouse checks, then creates): that is success.
Status Create(Client& client, const std::string& sql) {
  StatusOr<std::string> r = client.Query(sql);
  if (r.ok() || r.status().message().find("already exists") != std::string::npos) {
    return Status::Ok();
  }
  return r.status();
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string Tsv(int64_t v) { return std::to_string(v); }

std::string Tsv(std::optional<int64_t> v) { return v ? std::to_string(*v) : "\\N"; }

std::string Tsv(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A TSV line of fields that are already escaped.
template <typename... T>
std::string Line(const T&... fields) {
  std::string out;
  ((out += fields, out += '\t'), ...);
  out.back() = '\n';
  return out;
}

// Config versions: microseconds since the epoch, strictly increasing within the
// process; across processes the clock orders them (a later write wins). Their sum
// over the rows in force is Store::ConfigVersion.
uint64_t NextVersion() {
  static std::atomic<uint64_t> last{0};
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  uint64_t prev = last.load();
  uint64_t next;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

std::string ScopeName(KeyScope s) { return KeyScopeName(s); }

constexpr const char* kSelectApiKeys =
    "SELECT id, hash, prefix, scope, name, created_ms, isNull(expires_ms), "
    "ifNull(expires_ms, 0), isNull(revoked_ms), ifNull(revoked_ms, 0), payload_key "
    "FROM api_keys FINAL ";

ApiKeyRow ReadApiKey(const std::vector<std::string>& f) {  // a row of kSelectApiKeys
  ApiKeyRow r;
  r.id = f[0];
  r.hash = f[1];
  r.prefix = f[2];
  r.scope = ParseKeyScope(f[3]).value_or(KeyScope::kSdk);
  r.name = f[4];
  r.created_ms = ToInt(f[5]);
  if (f[6] == "0") r.expires_ms = ToInt(f[7]);
  if (f[8] == "0") r.revoked_ms = ToInt(f[9]);
  r.payload_key = f[10];
  return r;
}

std::string ApiKeyLine(const ApiKeyRow& k, uint64_t version) {
  return Line(EscapeTsv(k.id), EscapeTsv(k.hash), EscapeTsv(k.prefix), ScopeName(k.scope),
              EscapeTsv(k.name), Tsv(k.created_ms), Tsv(k.expires_ms), Tsv(k.revoked_ms),
              std::to_string(version), EscapeTsv(k.payload_key));
}

// A row of "SELECT key, config, phase, created_ms, updated_ms".
ExperimentRow ReadExperiment(const std::vector<std::string>& f) {
  return ExperimentRow{f[0], f[1], static_cast<int>(ToInt(f[2])), ToInt(f[3]), ToInt(f[4])};
}

std::string ExperimentLine(const ExperimentRow& e, uint64_t version) {
  return Line(EscapeTsv(e.key), std::string("0"), EscapeTsv(e.config), Tsv(int64_t{e.phase}),
              std::string(), Tsv(e.created_ms), Tsv(e.updated_ms), std::string("0"),
              std::to_string(version));
}

std::string PhaseLine(const PhaseRow& p, uint64_t version) {
  return Line(EscapeTsv(p.experiment), Tsv(int64_t{p.phase}), std::string(), std::string("0"),
              EscapeTsv(p.seed), std::string("0"), std::string("0"), Tsv(p.started_ms),
              std::to_string(version));
}

// ---- Alerts, webhooks and the outbox (issue 21 part 5; docs/clickhouse.md) ----
// Every table a ReplacingMergeTree(version) read with FINAL, as the config tables:
// an update or a deletion inserts the row again with a higher version.
constexpr const char* kMonitorStatesTable =
    "(subject String, monitor String, state String, since_ms Int64, evaluated_ms Int64, "
    "detail String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (subject, "
    "monitor)";
constexpr const char* kAlertsTable =
    "(id String, kind String, subject_kind String, subject String, monitor String, state String, "
    "at_ms Int64, created_ms Int64, payload String, version UInt64) "
    "ENGINE = ReplacingMergeTree(version) ORDER BY id";
constexpr const char* kWebhooksTable =
    "(id String, url String, kinds String, format String, secret String, description String, "
    "created_ms Int64, deleted UInt8, version UInt64) "
    "ENGINE = ReplacingMergeTree(version) ORDER BY id";
constexpr const char* kDeliveriesTable =
    "(alert_id String, webhook_id String, status String, attempts Int32, next_attempt_ms Int64, "
    "last_attempt_ms Int64, last_http_status Int32, last_error String, delivered_ms Int64, "
    "version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (alert_id, webhook_id)";

constexpr const char* kSelectAlerts =
    "SELECT id, kind, subject_kind, subject, monitor, state, at_ms, created_ms, payload "
    "FROM alerts FINAL ";
// A pending delivery of a deleted webhook is dropped: hidden here (SQLite deletes it).
constexpr const char* kSelectDeliveries =
    "SELECT alert_id, webhook_id, status, attempts, next_attempt_ms, last_attempt_ms, "
    "last_http_status, last_error, delivered_ms FROM deliveries FINAL WHERE (status != 'pending' "
    "OR webhook_id IN (SELECT id FROM webhooks FINAL WHERE deleted = 0)) ";

AlertRow ReadAlert(const std::vector<std::string>& f) {  // a row of kSelectAlerts
  AlertRow a;
  a.id = f[0];
  a.kind = f[1];
  a.subject_kind = f[2];
  a.subject = f[3];
  a.monitor = f[4];
  a.state = f[5];
  a.at_ms = ToInt(f[6]);
  a.created_ms = ToInt(f[7]);
  a.payload = f[8];
  return a;
}

DeliveryRow ReadDelivery(const std::vector<std::string>& f) {  // a row of kSelectDeliveries
  return DeliveryRow{f[0],
                     f[1],
                     f[2],
                     static_cast<int>(ToInt(f[3])),
                     ToInt(f[4]),
                     ToInt(f[5]),
                     static_cast<int>(ToInt(f[6])),
                     f[7],
                     ToInt(f[8])};
}

std::string DeliveryLine(const DeliveryRow& d, uint64_t version) {
  return Line(EscapeTsv(d.alert_id), EscapeTsv(d.webhook_id), EscapeTsv(d.status),
              Tsv(int64_t{d.attempts}), Tsv(d.next_attempt_ms), Tsv(d.last_attempt_ms),
              Tsv(int64_t{d.last_http_status}), EscapeTsv(d.last_error), Tsv(d.delivered_ms),
              std::to_string(version));
}

std::string JoinKinds(const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) out += (out.empty() ? "" : ",") + k;
  return out;
}

std::vector<std::string> SplitKinds(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class ClickHouseStore final : public Store {
 public:
  explicit ClickHouseStore(const ClickHouseOptions& options)
      : options_(options), client_(options.endpoint) {}

  Status Open() {
    const std::string& db = options_.endpoint.database;
    if (!ch::IsIdentifier(db)) {
      return Status::InvalidArgument(
          "clickhouse_database",
          "the ClickHouse database must be a name ([A-Za-z_][A-Za-z0-9_]*): " + db);
    }
    ch::Endpoint server = options_.endpoint;
    server.database.clear();  // the database may not exist yet
    Client bootstrap(server);
    if (Status s = Create(bootstrap, "CREATE DATABASE IF NOT EXISTS " + db); !s.ok()) return s;
    for (const auto& [table, spec] :
         {std::pair{"experiments", kExperimentsTable}, std::pair{"metrics", kMetricsTable},
          std::pair{"api_keys", kApiKeysTable}, std::pair{"alert_rules", kAlertRulesTable},
          std::pair{"features", kFeaturesTable}, std::pair{"monitor_states", kMonitorStatesTable},
          std::pair{"alerts", kAlertsTable}, std::pair{"webhooks", kWebhooksTable},
          std::pair{"deliveries", kDeliveriesTable}}) {
      if (Status s = Create(
              client_, std::string("CREATE TABLE IF NOT EXISTS ") + db + "." + table + " " + spec);
          !s.ok()) {
        return s;
      }
    }
    // Databases made before client keys could encrypt their payload (issue 22). 18.16
    // has no ADD COLUMN IF NOT EXISTS: look, then add; a process that added it
    // meanwhile makes ours fail with "already exists", which Create takes as success.
    StatusOr<int64_t> has_payload_key =
        Count("SELECT count() FROM system.columns WHERE database = " + Quote(db) +
              " AND table = 'api_keys' AND name = 'payload_key'");
    if (!has_payload_key.ok()) return has_payload_key.status();
    if (*has_payload_key == 0) {
      if (Status s = Create(
              client_, "ALTER TABLE " + db + ".api_keys ADD COLUMN payload_key String DEFAULT ''");
          !s.ok()) {
        return s;
      }
    }
    if (options_.cluster.empty()) {
      if (Status s = Create(client_, "CREATE TABLE IF NOT EXISTS " + db + ".events " +
                                         kEventColumns + " " + kEventEngine);
          !s.ok()) {
        return s;
      }
      shards_.push_back(Shard{&client_, "events", options_.report_rows_per_bucket});
      return Status::Ok();
    }
    return OpenCluster();
  }

  // One client per shard (replica 1) of the cluster, each shard's events_local,
  // and the Distributed table over them.
  Status OpenCluster() {
    const std::string& cluster = options_.cluster;
    if (!ch::IsIdentifier(cluster)) {
      return Status::InvalidArgument("clickhouse_cluster",
                                     "the ClickHouse cluster must be a name: " + cluster);
    }
    StatusOr<Rows> rows =
        Select("SELECT host_name, default_database FROM system.clusters WHERE cluster = " +
                   Quote(cluster) + " AND replica_num = 1 ORDER BY shard_num",
               2);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return Status::InvalidArgument("clickhouse_cluster",
                                     "no cluster " + cluster + " in the server's system.clusters");
    }
    for (const auto& row : *rows) {
      ch::Endpoint e = options_.endpoint;
      e.host = row[0];
      if (!row[1].empty()) e.database = row[1];
      if (!ch::IsIdentifier(e.database)) {
        return Status::InvalidArgument("clickhouse_cluster",
                                       "a shard's default_database is not a name: " + e.database);
      }
      const std::string shard_db = e.database;
      e.database.clear();
      Client bootstrap(e);
      if (Status s = Create(bootstrap, "CREATE DATABASE IF NOT EXISTS " + shard_db); !s.ok()) {
        return s;
      }
      if (Status s = Create(bootstrap, "CREATE TABLE IF NOT EXISTS " + shard_db + ".events_local " +
                                           kEventColumns + " " + kEventEngine);
          !s.ok()) {
        return s;
      }
      e.database = shard_db;
      shard_clients_.push_back(std::make_unique<Client>(e));
      shards_.push_back(
          Shard{shard_clients_.back().get(), "events_local", options_.report_rows_per_bucket});
    }
    return Create(client_, "CREATE TABLE IF NOT EXISTS " + options_.endpoint.database + ".events " +
                               kEventColumns + " ENGINE = Distributed(" + cluster +
                               ", '', events_local, cityHash64(uid))");
  }

  // ------------------------------------------------------------ experiments

  Status CreateExperiment(const ExperimentRow& row, const PhaseRow& first_phase) override {
    std::lock_guard lock(config_mu_);
    StatusOr<bool> exists = ExperimentExists(row.key);
    if (!exists.ok()) return exists.status();
    if (*exists) return Status::AlreadyExists("experiment exists: " + row.key);
    const uint64_t v = NextVersion();
    return Insert("experiments", ExperimentLine(row, v) + PhaseLine(first_phase, v));
  }

  Status UpdateExperiment(const ExperimentRow& row, const PhaseRow* new_phase) override {
    std::lock_guard lock(config_mu_);
    StatusOr<ExperimentRow> old = GetExperimentLocked(row.key);
    if (!old.ok()) {
      if (old.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("no experiment " + row.key);
      }
      return old.status();
    }
    ExperimentRow updated = row;
    updated.created_ms = old->created_ms;  // as the SQLite store: created_ms never changes
    const uint64_t v = NextVersion();
    std::string data = ExperimentLine(updated, v);
    if (new_phase) data += PhaseLine(*new_phase, v);
    return Insert("experiments", data);
  }

  StatusOr<ExperimentRow> GetExperiment(std::string_view key) override {
    return GetExperimentLocked(key);  // reads need no lock: each is one query
  }

  StatusOr<std::vector<ExperimentRow>> ListExperiments() override {
    StatusOr<Rows> rows = Select(
        "SELECT key, config, phase, created_ms, updated_ms FROM experiments FINAL "
        "WHERE phase_row = 0 ORDER BY key",
        5);
    if (!rows.ok()) return rows.status();
    std::vector<ExperimentRow> out;
    for (const auto& f : *rows) out.push_back(ReadExperiment(f));
    return out;
  }

  StatusOr<std::vector<PhaseRow>> ListPhases(std::string_view experiment) override {
    StatusOr<Rows> rows =
        Select("SELECT key, phase_row, seed, started_ms FROM experiments FINAL WHERE key = " +
                   Quote(experiment) + " AND phase_row > 0 ORDER BY phase_row",
               4);
    if (!rows.ok()) return rows.status();
    std::vector<PhaseRow> out;
    for (const auto& f : *rows) {
      out.push_back(PhaseRow{f[0], static_cast<int>(ToInt(f[1])), f[2], ToInt(f[3])});
    }
    return out;
  }

  // ------------------------------------------------------------ metrics

  Status CreateMetric(const MetricRow& row) override {
    std::lock_guard lock(config_mu_);
    StatusOr<int64_t> found =
        Count("SELECT count() FROM metrics FINAL WHERE key = " + Quote(row.key));
    if (!found.ok()) return found.status();
    if (*found > 0) return Status::AlreadyExists("metric exists: " + row.key);
    return Insert("metrics", Line(EscapeTsv(row.key), EscapeTsv(row.config), Tsv(row.created_ms),
                                  std::to_string(NextVersion())));
  }

  StatusOr<MetricRow> GetMetric(std::string_view key) override {
    StatusOr<Rows> rows =
        Select("SELECT key, config, created_ms FROM metrics FINAL WHERE key = " + Quote(key), 3);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no metric with key " + std::string(key), "key");
    const auto& f = rows->front();
    return MetricRow{f[0], f[1], ToInt(f[2])};
  }

  StatusOr<std::vector<MetricRow>> ListMetrics() override {
    StatusOr<Rows> rows =
        Select("SELECT key, config, created_ms FROM metrics FINAL ORDER BY key", 3);
    if (!rows.ok()) return rows.status();
    std::vector<MetricRow> out;
    for (const auto& f : *rows) out.push_back(MetricRow{f[0], f[1], ToInt(f[2])});
    return out;
  }

  // ------------------------------------------------------------ API keys

  Status CreateApiKey(const ApiKeyRow& row) override {
    std::lock_guard lock(config_mu_);
    StatusOr<int64_t> found =
        Count("SELECT count() FROM api_keys FINAL WHERE id = " + Quote(row.id) +
              " OR hash = " + Quote(row.hash));
    if (!found.ok()) return found.status();
    if (*found > 0) return Status::AlreadyExists("key exists");
    return Insert("api_keys", ApiKeyLine(row, NextVersion()));
  }

  StatusOr<ApiKeyRow> FindApiKey(std::string_view hash) override {
    StatusOr<Rows> rows = Select(kSelectApiKeys + ("WHERE hash = " + Quote(hash)), 11);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no such API key");
    return ReadApiKey(rows->front());
  }

  StatusOr<std::vector<ApiKeyRow>> ListApiKeys() override {
    StatusOr<Rows> rows = Select(std::string(kSelectApiKeys) + "ORDER BY created_ms, id", 11);
    if (!rows.ok()) return rows.status();
    std::vector<ApiKeyRow> out;
    for (const auto& f : *rows) out.push_back(ReadApiKey(f));
    return out;
  }

  StatusOr<int64_t> CountApiKeys() override { return Count("SELECT count() FROM api_keys FINAL"); }

  StatusOr<ApiKeyRow> RevokeApiKey(std::string_view id, int64_t now_ms) override {
    std::lock_guard lock(config_mu_);
    StatusOr<Rows> rows = Select(kSelectApiKeys + ("WHERE id = " + Quote(id)), 11);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no API key with id " + std::string(id), "id");
    ApiKeyRow row = ReadApiKey(rows->front());
    if (row.revoked_ms) return row;  // already revoked: nothing changes
    if (row.scope == KeyScope::kAdmin && row.Active(now_ms)) {
      StatusOr<int64_t> others =
          Count("SELECT count() FROM api_keys FINAL WHERE scope = 'admin' AND id != " + Quote(id) +
                " AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > " +
                std::to_string(now_ms) + ")");
      if (!others.ok()) return others.status();
      if (*others == 0) {
        return Status::FailedPrecondition(
            "this is the last active admin key; create another admin key before revoking it", "id");
      }
    }
    row.revoked_ms = now_ms;
    if (Status s = Insert("api_keys", ApiKeyLine(row, NextVersion())); !s.ok()) return s;
    return row;
  }

  // Revocations are never undone, so the number of revoked keys only grows: it
  // serves as the counter that every process's revocation raises.
  StatusOr<int64_t> ApiKeyRevocations() override {
    return Count("SELECT count() FROM api_keys FINAL WHERE revoked_ms IS NOT NULL");
  }

  // The sum, modulo 2^64, of the versions of the configuration rows in force
  // (FINAL: the newest row of each key). Every write that takes effect adds a row
  // or replaces one with another version, so the sum moves (a write whose version
  // loses to a newer row changes nothing visible, and neither the sum); merges do
  // not move it, since FINAL already shows the merged state. Events do not enter it.
  StatusOr<int64_t> ConfigVersion() override {
    StatusOr<Rows> rows = Select(
        "SELECT (SELECT sum(version) FROM experiments FINAL), "
        "(SELECT sum(version) FROM metrics FINAL), (SELECT sum(version) FROM api_keys FINAL), "
        "(SELECT sum(version) FROM alert_rules FINAL), (SELECT sum(version) FROM features FINAL)",
        5);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1) return Status::Internal("clickhouse: no configuration version");
    uint64_t sum = 0;
    for (const std::string& field : rows->front()) {
      uint64_t v = 0;
      std::from_chars(field.data(), field.data() + field.size(), v);
      sum += v;  // modulo 2^64
    }
    return static_cast<int64_t>(sum);
  }

  // ------------------------------------------------------------ events

  std::vector<WriteResult> WriteEventBatches(
      const std::vector<const std::vector<Event>*>& batches) override {
    std::vector<WriteResult> results(batches.size());
    std::unordered_set<std::string_view> seen;
    std::string data;
    for (size_t b = 0; b < batches.size(); ++b) {
      for (const Event& e : *batches[b]) {
        if (!seen.insert(e.id).second) {
          ++results[b].duplicates;
          continue;
        }
        ++results[b].accepted;
        const bool exposure = e.type == EventType::kExposure;
        data += Line(std::string(exposure ? "0" : "1"), EscapeTsv(exposure ? e.experiment : e.name),
                     EscapeTsv(e.user), Tsv(e.ts_ms), EscapeTsv(e.id),
                     exposure ? EscapeTsv(e.variant) : std::string(),
                     exposure ? std::string("0") : Tsv(e.value), EscapeTsv(e.attributes));
      }
    }
    if (data.empty()) return results;
    std::vector<std::pair<std::string, std::string>> settings;
    if (!options_.cluster.empty()) settings.emplace_back("insert_distributed_sync", "1");
    StatusOr<std::string> r = client_.Query(
        "INSERT INTO events (type, key, uid, ts, id, variant, value, attrs) FORMAT TabSeparated",
        data, settings);
    if (!r.ok()) {
      for (auto& res : results) res = WriteResult{r.status(), 0, 0};
    }
    return results;
  }

  StatusOr<bool> HasEvent(std::string_view id) override {
    StatusOr<int64_t> n = Count("SELECT count() FROM events WHERE id = " + Quote(id));
    if (!n.ok()) return n.status();
    return *n > 0;
  }

  // Distinct ids: a retried batch's second copy is not counted.
  StatusOr<int64_t> CountEvents() override { return Count("SELECT uniqExact(id) FROM events"); }

  // ------------------------------------------------------------ aggregates

  StatusOr<ExposureSummary> SummarizeExposures(std::string_view experiment,
                                               int64_t since_ms) override {
    return ClickHouseSummarizeExposures(shards_, experiment, since_ms);
  }
  StatusOr<std::vector<std::string>> SampleExposureAttributes(std::string_view experiment,
                                                              int64_t since_ms,
                                                              int64_t limit) override {
    return ClickHouseSampleExposureAttributes(shards_, experiment, since_ms, limit);
  }
  StatusOr<std::vector<VariantMetricStats>> MetricStats(std::string_view experiment,
                                                        int64_t since_ms, std::string_view event,
                                                        int64_t window_ms) override {
    return ClickHouseMetricStats(shards_, experiment, since_ms, event, window_ms);
  }
  StatusOr<std::vector<VariantRatioStats>> RatioMetricStats(std::string_view experiment,
                                                            int64_t since_ms,
                                                            std::string_view numerator_event,
                                                            std::string_view denominator_event,
                                                            int64_t window_ms) override {
    return ClickHouseRatioMetricStats(shards_, experiment, since_ms, numerator_event,
                                      denominator_event, window_ms);
  }
  StatusOr<ReportAggregates> AggregateReport(const ReportQuery& query) override {
    return ClickHouseAggregateReport(shards_, query);
  }

  // ------------------------------------------------------------ metric series (issue 21)

  StatusOr<std::vector<SeriesRow>> EventSeries(const SeriesQuery& query) override {
    return ClickHouseEventSeries(shards_, query);
  }

  // ------------------------------------------------------------ alert rules (issue 21)

  Status CreateAlertRule(const AlertRuleRow& row) override {
    return CreateDocument("alert_rules", "alert rule", row);
  }
  Status UpdateAlertRule(const AlertRuleRow& row) override {
    return UpdateDocument("alert_rules", "alert rule", row);
  }
  Status DeleteAlertRule(std::string_view key) override {
    return DeleteDocument("alert_rules", "alert rule", key);
  }
  StatusOr<AlertRuleRow> GetAlertRule(std::string_view key) override {
    return GetDocument("alert_rules", "alert rule", key);
  }
  StatusOr<std::vector<AlertRuleRow>> ListAlertRules() override {
    return ListDocuments("alert_rules");
  }

  // ------------------------------------------------------------ features (issue 22)

  Status CreateFeature(const FeatureRow& row) override {
    return CreateDocument("features", "feature", row);
  }
  Status UpdateFeature(const FeatureRow& row) override {
    return UpdateDocument("features", "feature", row);
  }
  Status DeleteFeature(std::string_view key) override {
    return DeleteDocument("features", "feature", key);
  }
  StatusOr<FeatureRow> GetFeature(std::string_view key) override {
    return GetDocument("features", "feature", key);
  }
  StatusOr<std::vector<FeatureRow>> ListFeatures() override { return ListDocuments("features"); }

  // ---- Alerts, webhooks and the outbox (issue 21 part 5) ----

  // No transaction spans tables here, so the writes go in the order that makes a
  // crash between them harmless: the deliveries of the new alerts, then the alerts,
  // then the states. A crash before the states leaves the old states, so the next
  // evaluation raises the same transitions with the same deterministic alert ids:
  // the alerts are found stored (no second delivery) and the states are written.
  // A crash after the deliveries and before their alert leaves deliveries that the
  // worker finds without an alert and retries until the alert is written
  // (docs/clickhouse.md).
  Status CommitMonitorChanges(const std::vector<MonitorStateRow>& states,
                              const std::vector<AlertRow>& alerts) override {
    std::lock_guard lock(outbox_mu_);
    std::vector<const AlertRow*> fresh;
    if (!alerts.empty()) {
      std::string ids;
      for (const AlertRow& a : alerts) ids += (ids.empty() ? "" : ", ") + Quote(a.id);
      StatusOr<Rows> stored = Select("SELECT DISTINCT id FROM alerts WHERE id IN (" + ids + ")", 1);
      if (!stored.ok()) return stored.status();
      std::unordered_set<std::string> known;
      for (const auto& f : *stored) known.insert(f[0]);
      for (const AlertRow& a : alerts) {
        if (known.insert(a.id).second) fresh.push_back(&a);  // also drops repeats in the call
      }
    }
    const uint64_t v = NextVersion();
    if (!fresh.empty()) {
      StatusOr<std::vector<WebhookRow>> webhooks = ListWebhooks();
      if (!webhooks.ok()) return webhooks.status();
      std::string deliveries, rows;
      for (const AlertRow* a : fresh) {
        for (const WebhookRow& w : *webhooks) {
          const bool wanted = a->target_webhook.empty()
                                  ? w.kinds.empty() || std::find(w.kinds.begin(), w.kinds.end(),
                                                                 a->kind) != w.kinds.end()
                                  : w.id == a->target_webhook;
          if (!wanted) continue;
          deliveries +=
              DeliveryLine(DeliveryRow{a->id, w.id, "pending", 0, a->created_ms, 0, 0, "", 0}, v);
        }
        rows += Line(EscapeTsv(a->id), EscapeTsv(a->kind), EscapeTsv(a->subject_kind),
                     EscapeTsv(a->subject), EscapeTsv(a->monitor), EscapeTsv(a->state),
                     Tsv(a->at_ms), Tsv(a->created_ms), EscapeTsv(a->payload), std::to_string(v));
      }
      if (!deliveries.empty()) {
        if (Status s = Insert("deliveries", deliveries); !s.ok()) return s;
      }
      if (Status s = Insert("alerts", rows); !s.ok()) return s;
    }
    if (states.empty()) return Status::Ok();
    std::string rows;
    for (const MonitorStateRow& m : states) {
      rows += Line(EscapeTsv(m.subject), EscapeTsv(m.monitor), EscapeTsv(m.state), Tsv(m.since_ms),
                   Tsv(m.evaluated_ms), EscapeTsv(m.detail), std::to_string(v));
    }
    return Insert("monitor_states", rows);
  }

  StatusOr<std::vector<MonitorStateRow>> ListMonitorStates(
      std::string_view subject_prefix) override {
    StatusOr<Rows> rows = Select(
        "SELECT subject, monitor, state, since_ms, evaluated_ms, detail FROM monitor_states FINAL "
        "WHERE startsWith(subject, " +
            Quote(subject_prefix) + ") ORDER BY subject, monitor",
        6);
    if (!rows.ok()) return rows.status();
    std::vector<MonitorStateRow> out;
    for (const auto& f : *rows) {
      out.push_back(MonitorStateRow{f[0], f[1], f[2], ToInt(f[3]), ToInt(f[4]), f[5]});
    }
    return out;
  }

  StatusOr<std::vector<AlertRow>> ListAlerts(int64_t since_ms, int64_t limit) override {
    StatusOr<Rows> rows =
        Select(std::string(kSelectAlerts) + "WHERE at_ms >= " + std::to_string(since_ms) +
                   " ORDER BY at_ms, id LIMIT " + std::to_string(std::max<int64_t>(limit, 0)),
               9);
    if (!rows.ok()) return rows.status();
    std::vector<AlertRow> out;
    for (const auto& f : *rows) out.push_back(ReadAlert(f));
    return out;
  }

  StatusOr<AlertRow> GetAlert(std::string_view id) override {
    StatusOr<Rows> rows = Select(std::string(kSelectAlerts) + "WHERE id = " + Quote(id), 9);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no alert with id " + std::string(id), "id");
    return ReadAlert(rows->front());
  }

  Status CreateWebhook(const WebhookRow& row) override {
    std::lock_guard lock(outbox_mu_);
    StatusOr<int64_t> found =
        Count("SELECT count() FROM webhooks FINAL WHERE id = " + Quote(row.id));
    if (!found.ok()) return found.status();
    if (*found > 0) return Status::AlreadyExists("webhook exists: " + row.id, "id");
    return Insert("webhooks", WebhookLine(row, false, NextVersion()));
  }

  StatusOr<std::vector<WebhookRow>> ListWebhooks() override {
    StatusOr<Rows> rows = Select(
        "SELECT id, url, kinds, format, secret, description, created_ms FROM webhooks FINAL "
        "WHERE deleted = 0 ORDER BY created_ms, id",
        7);
    if (!rows.ok()) return rows.status();
    std::vector<WebhookRow> out;
    for (const auto& f : *rows) {
      out.push_back(WebhookRow{f[0], f[1], SplitKinds(f[2]), f[3], f[4], f[5], ToInt(f[6])});
    }
    return out;
  }

  // A tombstone (deleted = 1, a higher version); its pending deliveries are hidden
  // by every read of deliveries from then on.
  Status DeleteWebhook(std::string_view id) override {
    std::lock_guard lock(outbox_mu_);
    StatusOr<std::vector<WebhookRow>> all = ListWebhooks();
    if (!all.ok()) return all.status();
    for (const WebhookRow& w : *all) {
      if (w.id == id) return Insert("webhooks", WebhookLine(w, true, NextVersion()));
    }
    return Status::NotFound("no webhook with id " + std::string(id), "id");
  }

  StatusOr<std::vector<DeliveryRow>> DueDeliveries(int64_t now_ms, int64_t limit) override {
    StatusOr<Rows> rows =
        Select(std::string(kSelectDeliveries) +
                   "AND status = 'pending' AND next_attempt_ms <= " + std::to_string(now_ms) +
                   " ORDER BY next_attempt_ms, alert_id, webhook_id LIMIT " +
                   std::to_string(std::max<int64_t>(limit, 0)),
               9);
    if (!rows.ok()) return rows.status();
    std::vector<DeliveryRow> out;
    for (const auto& f : *rows) out.push_back(ReadDelivery(f));
    return out;
  }

  // A new version of the row; nothing when the delivery is not stored (or dropped).
  Status RecordDeliveryAttempt(const DeliveryRow& row) override {
    StatusOr<int64_t> found = Count("SELECT count() FROM (" + std::string(kSelectDeliveries) +
                                    "AND alert_id = " + Quote(row.alert_id) +
                                    " AND webhook_id = " + Quote(row.webhook_id) + ")");
    if (!found.ok()) return found.status();
    if (*found == 0) return Status::Ok();
    return Insert("deliveries", DeliveryLine(row, NextVersion()));
  }

  StatusOr<std::vector<DeliveryRow>> ListDeliveries(std::string_view alert_id) override {
    StatusOr<Rows> rows = Select(std::string(kSelectDeliveries) +
                                     "AND alert_id = " + Quote(alert_id) + " ORDER BY webhook_id",
                                 9);
    if (!rows.ok()) return rows.status();
    std::vector<DeliveryRow> out;
    for (const auto& f : *rows) out.push_back(ReadDelivery(f));
    return out;
  }

 private:
  static std::string WebhookLine(const WebhookRow& w, bool deleted, uint64_t version) {
    return Line(EscapeTsv(w.id), EscapeTsv(w.url), EscapeTsv(JoinKinds(w.kinds)),
                EscapeTsv(w.format), EscapeTsv(w.secret), EscapeTsv(w.description),
                Tsv(w.created_ms), std::string(deleted ? "1" : "0"), std::to_string(version));
  }

 private:
  Status Insert(const std::string& table, const std::string& tsv) {
    StatusOr<std::string> r = client_.Query("INSERT INTO " + table + " FORMAT TabSeparated", tsv);
    return r.ok() ? Status::Ok() : r.status();
  }

  // The rows of a query of `columns` columns; Internal when a row has another
  // width (an answer we do not understand is an error, never misread).
  StatusOr<Rows> Select(const std::string& sql, size_t columns) {
    StatusOr<Rows> rows = client_.Rows(sql);
    if (!rows.ok()) return rows.status();
    for (const auto& row : *rows) {
      if (row.size() != columns) {
        return Status::Internal("clickhouse: expected " + std::to_string(columns) +
                                " columns, got " + std::to_string(row.size()));
      }
    }
    return rows;
  }

  StatusOr<int64_t> Count(const std::string& sql) {
    StatusOr<Rows> rows = Select(sql, 1);
    if (!rows.ok()) return rows.status();
    if (rows->size() != 1) return Status::Internal("clickhouse: a count without one row");
    return ToInt(rows->front().front());
  }

  StatusOr<bool> ExperimentExists(std::string_view key) {
    StatusOr<int64_t> n = Count("SELECT count() FROM experiments FINAL WHERE key = " + Quote(key) +
                                " AND phase_row = 0");
    if (!n.ok()) return n.status();
    return *n > 0;
  }

  StatusOr<ExperimentRow> GetExperimentLocked(std::string_view key) {
    StatusOr<Rows> rows = Select(
        "SELECT key, config, phase, created_ms, updated_ms FROM experiments FINAL WHERE key = " +
            Quote(key) + " AND phase_row = 0",
        5);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return Status::NotFound("no experiment with key " + std::string(key), "key");
    }
    return ReadExperiment(rows->front());
  }

  // Configuration documents (alert rules, features): a table of kAlertRulesTable's
  // shape each; `table` is one of this file's table names.
  static std::string SelectDocuments(const char* table) {
    return std::string("SELECT key, config, created_ms, updated_ms FROM ") + table +
           " FINAL WHERE deleted = 0 ";
  }

  StatusOr<std::optional<ConfigDocumentRow>> FindDocument(const char* table, std::string_view key) {
    StatusOr<Rows> rows = Select(SelectDocuments(table) + "AND key = " + Quote(key), 4);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<ConfigDocumentRow>();
    const auto& f = rows->front();
    return std::optional<ConfigDocumentRow>(
        ConfigDocumentRow{f[0], f[1], ToInt(f[2]), ToInt(f[3])});
  }

  static std::string DocumentLine(const ConfigDocumentRow& r, bool deleted) {
    return Line(EscapeTsv(r.key), EscapeTsv(r.config), Tsv(r.created_ms), Tsv(r.updated_ms),
                std::string(deleted ? "1" : "0"), std::to_string(NextVersion()));
  }

  Status CreateDocument(const char* table, const char* noun, const ConfigDocumentRow& row) {
    std::lock_guard lock(config_mu_);
    StatusOr<std::optional<ConfigDocumentRow>> old = FindDocument(table, row.key);
    if (!old.ok()) return old.status();
    if (*old) return Status::AlreadyExists(std::string(noun) + " exists: " + row.key, "key");
    return Insert(table, DocumentLine(row, false));
  }

  Status UpdateDocument(const char* table, const char* noun, const ConfigDocumentRow& row) {
    std::lock_guard lock(config_mu_);
    StatusOr<std::optional<ConfigDocumentRow>> old = FindDocument(table, row.key);
    if (!old.ok()) return old.status();
    if (!*old) return Status::NotFound(std::string("no ") + noun + " with key " + row.key, "key");
    ConfigDocumentRow updated = row;
    updated.created_ms = (*old)->created_ms;  // as SQLite: created_ms never changes
    return Insert(table, DocumentLine(updated, false));
  }

  Status DeleteDocument(const char* table, const char* noun, std::string_view key) {
    std::lock_guard lock(config_mu_);
    StatusOr<std::optional<ConfigDocumentRow>> old = FindDocument(table, key);
    if (!old.ok()) return old.status();
    if (!*old) {
      return Status::NotFound(std::string("no ") + noun + " with key " + std::string(key), "key");
    }
    return Insert(table, DocumentLine(**old, true));
  }

  StatusOr<ConfigDocumentRow> GetDocument(const char* table, const char* noun,
                                          std::string_view key) {
    StatusOr<std::optional<ConfigDocumentRow>> row = FindDocument(table, key);
    if (!row.ok()) return row.status();
    if (!*row) {
      return Status::NotFound(std::string("no ") + noun + " with key " + std::string(key), "key");
    }
    return **row;
  }

  StatusOr<std::vector<ConfigDocumentRow>> ListDocuments(const char* table) {
    StatusOr<Rows> rows = Select(SelectDocuments(table) + "ORDER BY key", 4);
    if (!rows.ok()) return rows.status();
    std::vector<ConfigDocumentRow> out;
    for (const auto& f : *rows) {
      out.push_back(ConfigDocumentRow{f[0], f[1], ToInt(f[2]), ToInt(f[3])});
    }
    return out;
  }

  const ClickHouseOptions options_;
  Client client_;  // thread-safe; the configured database on the server we talk to
  std::vector<std::unique_ptr<Client>> shard_clients_;  // cluster mode: one per shard
  std::vector<Shard> shards_;                           // where the events live
  std::mutex config_mu_;  // serialises this process's config writes (check, then insert)
  std::mutex outbox_mu_;  // serialises this process's alert and webhook writes
};

}  // namespace

std::unique_ptr<Store> OpenClickHouseStore(const ClickHouseOptions& options, std::string* error) {
  auto store = std::make_unique<ClickHouseStore>(options);
  Status s = store->Open();
  if (!s.ok()) {
    if (error) *error = s.message();
    return nullptr;
  }
  return store;
}

}  // namespace causeway::store
