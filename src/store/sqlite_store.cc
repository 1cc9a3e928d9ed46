// SQLite implementation of Store.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction
// survives a process crash (kill -9) and an OS crash or power loss (the WAL is
// fsynced at every commit). Event writes are group-committed by the caller
// (api/event_writer) into one transaction per many requests, so the fsync is
// paid once per group, not per event.
//
// Connections: four, each with its own mutex: config_ (experiments, metrics,
// keys), writer_ (events), reader_ (aggregates), outbox_ (monitor states, alerts,
// webhooks and their deliveries). WAL lets readers run while a writer commits.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/event_series.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace causeway::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS experiments(
  key TEXT PRIMARY KEY, config TEXT NOT NULL, phase INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS phases(
  experiment TEXT NOT NULL, phase INTEGER NOT NULL, seed TEXT NOT NULL,
  started_ms INTEGER NOT NULL, PRIMARY KEY(experiment, phase));
CREATE TABLE IF NOT EXISTS metrics(
  key TEXT PRIMARY KEY, config TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  hash TEXT PRIMARY KEY, prefix TEXT NOT NULL, scope TEXT NOT NULL, created_ms INTEGER NOT NULL,
  id TEXT, name TEXT, expires_ms INTEGER, revoked_ms INTEGER);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters(name, value) VALUES('config_version', 0);
CREATE TABLE IF NOT EXISTS events(
  id TEXT PRIMARY KEY, type INTEGER NOT NULL, experiment TEXT, uid TEXT NOT NULL,
  variant TEXT, name TEXT, value REAL, ts INTEGER NOT NULL, attrs TEXT) WITHOUT ROWID;
-- Covering indexes for the report's pass (AggregateReport): every column it reads
-- is in the index, `type` included (a query names it to use the partial index, and
-- SQLite calls an index covering only when it holds every column the query names),
-- so the scan never looks rows up in the table.
CREATE INDEX IF NOT EXISTS events_exposure_cover
  ON events(experiment, uid, ts, variant, attrs, type) WHERE type = 0;
CREATE INDEX IF NOT EXISTS events_conversion_cover
  ON events(name, uid, ts, value, type) WHERE type = 1;
DROP INDEX IF EXISTS events_exposure_scan;
DROP INDEX IF EXISTS events_conversion_scan;
DROP INDEX IF EXISTS events_exposure;
DROP INDEX IF EXISTS events_conversion;
)sql";

// ---- Alerts, webhooks and the outbox (issue 21 part 5; docs/alerts.md) ----
// Created by every Open (IF NOT EXISTS), so a database from before them gains them.
constexpr const char* kOutboxSchema = R"sql(
CREATE TABLE IF NOT EXISTS monitor_states(
  subject TEXT NOT NULL, monitor TEXT NOT NULL, state TEXT NOT NULL, since_ms INTEGER NOT NULL,
  evaluated_ms INTEGER NOT NULL, detail TEXT NOT NULL, PRIMARY KEY(subject, monitor)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject_kind TEXT NOT NULL, subject TEXT NOT NULL,
  monitor TEXT NOT NULL, state TEXT NOT NULL, at_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  payload TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_at ON alerts(at_ms, id);
CREATE TABLE IF NOT EXISTS webhooks(
  id TEXT PRIMARY KEY, url TEXT NOT NULL, kinds TEXT NOT NULL, format TEXT NOT NULL,
  secret TEXT NOT NULL, description TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries(
  alert_id TEXT NOT NULL, webhook_id TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, last_attempt_ms INTEGER NOT NULL,
  last_http_status INTEGER NOT NULL, last_error TEXT NOT NULL, delivered_ms INTEGER NOT NULL,
  PRIMARY KEY(alert_id, webhook_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(next_attempt_ms) WHERE status = 'pending';
)sql";

// Webhook kinds are stored as one comma-separated text (kinds are names without commas).
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

bool WebhookWants(const std::vector<std::string>& kinds, const AlertRow& alert) {
  if (!alert.target_webhook.empty()) return false;  // a targeted alert goes to its target only
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), alert.kind) != kinds.end();
}

// Store::ConfigVersion: triggers raise counters.config_version in the statement
// (so the transaction) of every insert, update or delete of a configuration row.
// They live in the file, so every process writing it (an older binary, the
// `causeway keys` command, sqlite3 by hand) raises the version too.
std::string ConfigVersionTriggers() {
  std::string sql;
  for (const char* table : {"experiments", "phases", "metrics", "api_keys"}) {
    for (const char* op : {"INSERT", "UPDATE", "DELETE"}) {
      sql += std::string("CREATE TRIGGER IF NOT EXISTS config_version_") + table + "_" + op +
             " AFTER " + op + " ON " + table +
             " BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;\n";
    }
  }
  return sql;
}

// Issue 21: the metric series' rollup and index and the alert rules table, run at
// every open after kSchema (so existing files gain them: CREATE ... IF NOT EXISTS;
// the rollup is filled from the stored events when it is created, kRollupBackfill).
//  - event_minutes: per (conversion name, UTC minute) the events, sum and sum of
//    squares of their values, kept by the event writer: one upsert per (name,
//    minute) of each group commit, in its transaction, counting the inserts that
//    stored a row (not duplicates). A trigger per insert cost ingestion 2-5x
//    (docs/performance.md); rows written by hand (sqlite3) are not counted. The
//    series of minute-aligned ranges reads it: 30 days are 43 200 rows per name.
//  - events_conversion_time: conversions by (name, ts), for the series the rollup
//    cannot answer (segmented by an attribute, or not aligned to minutes): a
//    bucket is then one index range.
//  - alert_rules and features (issue 22): configuration, so their triggers raise
//    config_version.
constexpr const char* kSeriesAndRulesSchema = R"sql(
CREATE TABLE IF NOT EXISTS event_minutes(
  name TEXT NOT NULL, minute_ms INTEGER NOT NULL, events INTEGER NOT NULL,
  sum REAL NOT NULL, sum_squares REAL NOT NULL, PRIMARY KEY(name, minute_ms)) WITHOUT ROWID;
DROP TRIGGER IF EXISTS event_minutes_insert;
CREATE INDEX IF NOT EXISTS events_conversion_time
  ON events(name, ts, value, type) WHERE type = 1;
CREATE TABLE IF NOT EXISTS alert_rules(
  key TEXT PRIMARY KEY, config TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS config_version_alert_rules_INSERT AFTER INSERT ON alert_rules
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
CREATE TRIGGER IF NOT EXISTS config_version_alert_rules_UPDATE AFTER UPDATE ON alert_rules
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
CREATE TRIGGER IF NOT EXISTS config_version_alert_rules_DELETE AFTER DELETE ON alert_rules
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
CREATE TABLE IF NOT EXISTS features(
  key TEXT PRIMARY KEY, config TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS config_version_features_INSERT AFTER INSERT ON features
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
CREATE TRIGGER IF NOT EXISTS config_version_features_UPDATE AFTER UPDATE ON features
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
CREATE TRIGGER IF NOT EXISTS config_version_features_DELETE AFTER DELETE ON features
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'config_version'; END;
)sql";

// Fills event_minutes from the stored conversions; run in the transaction that
// creates the table, so a file's events are counted once.
constexpr const char* kRollupBackfill = R"sql(
INSERT INTO event_minutes(name, minute_ms, events, sum, sum_squares)
  SELECT name, ts - ((ts % 60000) + 60000) % 60000 AS m, count(*), total(value),
         total(value * value)
  FROM events WHERE type = 1 GROUP BY name, m;
)sql";

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      stmt_ = nullptr;
    }
  }
  Stmt(sqlite3* db, const std::string& sql) : Stmt(db, sql.c_str()) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }
  Stmt& Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindStatic(int i, std::string_view s) {  // REQUIRES: s outlives the next Step
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& Bind(int i, std::optional<int64_t> v) { return v ? Bind(i, *v) : BindNull(i); }
  int Step() { return sqlite3_step(stmt_); }
  // Resets for the next execution, keeping bindings (the caller rebinds every parameter).
  void Rewind() { sqlite3_reset(stmt_); }
  std::string Text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) { return sqlite3_column_double(stmt_, col); }
  std::optional<int64_t> OptionalInt(int col) {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return Int(col);
  }
  std::string Error() const { return sqlite3_errmsg(db_); }

  // Steps through every row, calling row() on each; Internal if preparing or
  // stepping failed, so an error is never mistaken for "no rows".
  template <typename F>
  Status Each(F&& row) {
    if (!stmt_) return Status::Internal("cannot prepare a query: " + Error());
    int rc;
    while ((rc = Step()) == SQLITE_ROW) row();
    if (rc != SQLITE_DONE) return Status::Internal(Error());
    return Status::Ok();
  }
  // The single row of a query: true with a row, false with none, or Internal.
  StatusOr<bool> One() {
    if (!stmt_) return Status::Internal("cannot prepare a query: " + Error());
    int rc = Step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Status::Internal(Error());
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Internal(m);
  }
  return Status::Ok();
}

Status OpenConnection(const std::string& path, sqlite3** db) {
  int rc = sqlite3_open_v2(
      path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string m = *db ? sqlite3_errmsg(*db) : "out of memory";
    sqlite3_close(*db);
    *db = nullptr;
    return Status::Internal("cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(*db, 10000);
  Status s = Exec(*db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!s.ok()) {
    sqlite3_close(*db);
    *db = nullptr;
  }
  return s;
}

std::string_view ScopeName(KeyScope s) { return KeyScopeName(s); }

// Brings api_keys of files made before keys had ids (hash, prefix, scope and
// created_ms only) to the current columns and gives old rows ids. Idempotent.
// REQUIRES: inside a write transaction, so two processes opening one old file at
// once migrate it once.
Status MigrateApiKeys(sqlite3* db) {
  std::vector<std::string> columns;
  Stmt info(db, "PRAGMA table_info(api_keys)");
  if (Status s = info.Each([&] { columns.push_back(info.Text(1)); }); !s.ok()) return s;
  static constexpr std::pair<const char*, const char*> kAdded[] = {{"id", "TEXT"},
                                                                   {"name", "TEXT"},
                                                                   {"expires_ms", "INTEGER"},
                                                                   {"revoked_ms", "INTEGER"},
                                                                   {"payload_key", "TEXT"}};
  for (const auto& [column, type] : kAdded) {
    if (std::find(columns.begin(), columns.end(), column) != columns.end()) continue;
    std::string sql = std::string("ALTER TABLE api_keys ADD COLUMN ") + column + " " + type;
    if (Status s = Exec(db, sql.c_str()); !s.ok()) return s;
  }
  // 48 random bits, as api/http/auth.cc gives new keys; the unique index refuses a collision.
  return Exec(db, R"sql(
    UPDATE api_keys SET id = 'key_' || lower(hex(randomblob(6))) WHERE id IS NULL;
    CREATE UNIQUE INDEX IF NOT EXISTS api_keys_id ON api_keys(id);
    INSERT OR IGNORE INTO counters(name, value) VALUES('api_key_revocations', 0);
  )sql");
}

// The series' rollup, index and the alert rules (kSeriesAndRulesSchema); a new
// rollup is filled from the events already stored. REQUIRES: inside the open's
// write transaction.
Status MigrateSeries(sqlite3* db) {
  Stmt q(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'event_minutes'");
  StatusOr<bool> row = q.One();
  if (!row.ok()) return row.status();
  const bool had_rollup = *row && q.Int(0) > 0;
  if (Status s = Exec(db, kSeriesAndRulesSchema); !s.ok()) return s;
  return had_rollup ? Status::Ok() : Exec(db, kRollupBackfill);
}

// "SELECT <the columns ReadApiKey reads> FROM api_keys <rest>".
std::string SelectApiKeys(std::string_view rest) {
  return "SELECT id, hash, prefix, scope, name, created_ms, expires_ms, revoked_ms, payload_key "
         "FROM api_keys " +
         std::string(rest);
}

// ------------------------------------------------------------ metric series

// Store::EventSeries from the rollup (event_minutes): one GROUP BY over the
// minutes of the range. REQUIRES: from, to and step whole minutes.
Status SqliteSeriesFromMinutes(sqlite3* db, const SeriesQuery& query, const std::string& event,
                               SeriesMerger* out) {
  Stmt q(db,
         "SELECT ?2 + ((minute_ms - ?2) / ?4) * ?4 AS b, sum(events), total(sum), "
         "total(sum_squares) FROM event_minutes WHERE name = ?1 AND minute_ms >= ?2 AND "
         "minute_ms < ?3 GROUP BY b ORDER BY b");
  q.Bind(1, event).Bind(2, query.from_ms).Bind(3, query.to_ms).Bind(4, query.step_ms);
  return q.Each([&] {
    if (q.Int(1) > 0) out->Add(q.Int(0), event, std::string(), q.Int(1), q.Real(2), q.Real(3));
  });
}

// Store::EventSeries from the events (segmented, or not aligned to minutes): one
// aggregate per (event name, bucket) along events_conversion_time, a range of the
// index each, so nothing is sorted but a bucket's segment levels (a single GROUP BY
// over the bucket expression would sort every event first).
Status SqliteSeriesFromEvents(sqlite3* db, const SeriesQuery& query, const std::string& event,
                              SeriesMerger* out) {
  const bool segmented = !query.segment.empty();
  const std::string sql =
      segmented
          ? "SELECT CASE WHEN attrs IS NULL OR attrs = '' THEN NULL ELSE attrs -> ?4 END AS s, "
            "count(*), total(value), total(value * value) FROM events "
            "INDEXED BY events_conversion_time WHERE type = 1 AND name = ?1 AND ts >= ?2 AND "
            "ts < ?3 GROUP BY s"
          : "SELECT NULL, count(*), total(value), total(value * value) FROM events "
            "INDEXED BY events_conversion_time WHERE type = 1 AND name = ?1 AND ts >= ?2 "
            "AND ts < ?3";
  Stmt q(db, sql.c_str());
  const std::string path = "$.\"" + query.segment + "\"";
  for (int64_t start = query.from_ms; start < query.to_ms; start += query.step_ms) {
    q.Rewind();
    q.Bind(1, event).Bind(2, start).Bind(3, std::min(start + query.step_ms, query.to_ms));
    if (segmented) q.Bind(4, path);
    Status s = q.Each([&] {
      const int64_t n = q.Int(1);
      if (n == 0) return;
      out->Add(start, event, segmented ? SegmentLabel(q.Text(0)) : std::string(), n, q.Real(2),
               q.Real(3));
    });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Whether the rollup answers the query (bench/store/metric_series_bench.cc
// measures both paths).
bool RollupAnswers(const SeriesQuery& q) {
  constexpr int64_t kMinute = 60'000;
  return q.segment.empty() && q.from_ms % kMinute == 0 && q.to_ms % kMinute == 0 &&
         q.step_ms % kMinute == 0;
}

// ------------------------------------------------------------ report pass

// A cursor over (uid, ts, value) rows ordered by uid, ts: one event name's
// conversions, merged against the exposures by user.
// A range of user ids [from, to); an empty bound is open.
struct UidRange {
  std::string from, to;
};

// " AND uid >= ?a AND uid < ?b" for the bounds a range has, numbered from `first`.
std::string RangeSql(const UidRange& r, int first) {
  std::string sql;
  if (!r.from.empty()) sql += " AND uid >= ?" + std::to_string(first);
  if (!r.to.empty()) sql += " AND uid < ?" + std::to_string(first + 1);
  return sql;
}

void BindRange(Stmt& q, const UidRange& r, int first) {
  if (!r.from.empty()) q.Bind(first, r.from);
  if (!r.to.empty()) q.Bind(first + 1, r.to);
}

// A statement stepped row by row, remembering whether a row is current and the
// first error (an error ends the scan; the caller checks status()).
class RowScan {
 public:
  RowScan(sqlite3* db, const std::string& sql, const char* what)
      : q(db, sql.c_str()), what_(what) {}
  void Next() {
    if (!q.valid()) {
      status = Status::Internal(std::string("cannot prepare the ") + what_ + ": " + q.Error());
      has = false;
      return;
    }
    const int rc = q.Step();
    has = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) status = Status::Internal(q.Error());
  }
  std::string_view Text(int col) {
    const auto* p = sqlite3_column_text(q.get(), col);
    return p ? std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<size_t>(sqlite3_column_bytes(q.get(), col)))
             : std::string_view();
  }

  Stmt q;
  bool has = false;
  Status status;

 private:
  const char* what_;
};

class EventCursor {
 public:
  EventCursor(sqlite3* db, const std::string& name, const UidRange& range, int64_t until_ms)
      : scan_(db,
              "SELECT uid, ts, value FROM events WHERE type = 1 AND name = ?1 AND ts < ?4" +
                  RangeSql(range, 2) + " ORDER BY uid, ts",
              "conversion scan") {
    scan_.q.Bind(1, name).Bind(4, until_ms);
    BindRange(scan_.q, range, 2);
    scan_.Next();
  }
  Status status() const { return scan_.status; }
  // Appends this user's events to `out` and moves past them.
  void Take(std::string_view uid, std::vector<ReportAccumulator::TimedValue>* out) {
    while (scan_.has && scan_.Text(0) < uid) scan_.Next();
    while (scan_.has && scan_.Text(0) == uid) {
      out->push_back({scan_.q.Int(1), scan_.q.Real(2)});
      scan_.Next();
    }
  }

 private:
  RowScan scan_;
};

// The exposures of one experiment, user by user (ordered by uid, ts), with the
// segment label of each user's first exposure when attributes are asked for.
class ExposureCursor {
 public:
  ExposureCursor(sqlite3* db, const ReportQuery& query, const UidRange& range)
      : scan_(db, Sql(query.segment_attributes.size(), range), "exposure scan") {
    scan_.q.Bind(1, query.experiment).Bind(2, query.since_ms).Bind(3, query.until_ms);
    BindRange(scan_.q, range, 10);
    attributes_ = query.segment_attributes;
    scan_.Next();
  }
  Status status() const { return scan_.status; }

  // The next user: false at the end (or on error: see status()).
  bool NextUser() {
    if (!scan_.has) return false;
    uid_.assign(scan_.Text(0));
    t0_ = scan_.q.Int(1);
    label_.clear();
    if (!attributes_.empty()) {
      const std::string_view attrs = scan_.Text(3);
      for (size_t i = 0; i < attributes_.size(); ++i) {
        if (i > 0) label_ += " / ";
        label_ += FlatJsonValue(attrs, attributes_[i]).value_or("(none)");
      }
    }
    variant_store_.clear();
    while (scan_.has && scan_.Text(0) == uid_) {
      variant_store_.emplace_back(scan_.Text(2));
      latest_ = std::max(latest_, scan_.q.Int(1));
      scan_.Next();
    }
    variants_.assign(variant_store_.begin(), variant_store_.end());
    return true;
  }
  const std::string& uid() const { return uid_; }
  int64_t t0() const { return t0_; }
  const std::string& label() const { return label_; }
  const std::vector<std::string_view>& variants() const { return variants_; }
  // The latest exposure of the users read so far (0: none).
  int64_t latest() const { return latest_; }

 private:
  static std::string Sql(size_t attributes, const UidRange& range) {
    // attrs only when segmenting; parsed for the first exposure of each user only.
    return std::string("SELECT uid, ts, variant") + (attributes > 0 ? ", attrs" : "") +
           " FROM events WHERE type = 0 AND experiment = ?1 AND ts >= ?2 AND ts < ?3" +
           RangeSql(range, 10) + " ORDER BY uid, ts";
  }
  RowScan scan_;
  std::vector<std::string> attributes_;
  std::string uid_, label_;
  int64_t t0_ = 0;
  int64_t latest_ = 0;
  std::vector<std::string> variant_store_;
  std::vector<std::string_view> variants_;
};

// Each exposed user's history of `event` before their first exposure, in the
// exposure cursor's user order.
StatusOr<std::vector<UserHistory>> ReadHistories(sqlite3* db, const ReportQuery& query,
                                                 const std::string& event, const UidRange& range) {
  ReportQuery plain;
  plain.experiment = query.experiment;
  plain.since_ms = query.since_ms;
  plain.until_ms = query.until_ms;
  ExposureCursor users(db, plain, range);
  EventCursor events(db, event, range, query.until_ms);
  std::vector<UserHistory> out;
  std::vector<ReportAccumulator::TimedValue> scratch;
  while (users.NextUser()) {
    scratch.clear();
    events.Take(users.uid(), &scratch);
    UserHistory h;
    for (const auto& e : scratch) {
      if (e.ts_ms >= users.t0()) break;
      h.has_history = true;
      ++h.frequency;
      h.monetary += e.value;
      h.recency_days = static_cast<double>(users.t0() - e.ts_ms) / 86'400'000.0;
    }
    out.push_back(h);
  }
  if (!users.status().ok()) return users.status();
  if (!events.status().ok()) return events.status();
  return out;
}

// The main pass over one range of users; `segment_of_user` (history segments)
// holds this range's users in order.
StatusOr<ReportAggregates> AggregateRange(sqlite3* db, const ReportQuery& query,
                                          const UidRange& range,
                                          const std::vector<std::string>* labels,
                                          const uint16_t* segment_of_user, size_t users_in_range) {
  ReportAccumulator acc(query);
  if (labels) acc.SetSegments(*labels);
  ExposureCursor users(db, query, range);
  std::vector<std::unique_ptr<EventCursor>> cursors;
  for (const std::string& name : acc.EventNames()) {
    cursors.push_back(std::make_unique<EventCursor>(db, name, range, query.until_ms));
  }
  std::vector<std::vector<ReportAccumulator::TimedValue>> events(cursors.size());
  size_t ordinal = 0;
  while (users.NextUser()) {
    for (size_t k = 0; k < cursors.size(); ++k) {
      events[k].clear();
      cursors[k]->Take(users.uid(), &events[k]);
    }
    int segment = -1;
    if (labels) {
      if (ordinal >= users_in_range) {
        return Status::Internal("the exposures changed between the report's two passes");
      }
      segment = segment_of_user[ordinal];
    } else if (!query.segment_attributes.empty()) {
      segment = acc.SegmentIndex(users.label());
    }
    acc.AddUser(users.uid(), users.variants(), users.t0(), segment, events);
    ++ordinal;
  }
  if (!users.status().ok()) return users.status();
  for (const auto& c : cursors) {
    if (!c->status().ok()) return c->status();
  }
  ReportAggregates out = acc.Finish();
  out.latest_exposure_ms = users.latest();
  return out;
}

// Runs f(i) for i in [0, n) on n threads (the calling thread takes i = 0).
template <typename F>
void ParallelFor(size_t n, F&& f) {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back([&f, i] { f(i); });
  f(0);
  for (auto& t : threads) t.join();
}

class SqliteStore final : public Store {
 public:
  ~SqliteStore() override {
    insert_event_.reset();  // statements must be finalized before their connection closes
    upsert_minute_.reset();
    sqlite3_close(outbox_);
    sqlite3_close(reader_);
    sqlite3_close(writer_);
    sqlite3_close(config_);
  }

  Status Open(const std::string& path) {
    path_ = path;
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Internal("cannot create " + parent.string() + ": " + ec.message());
    for (sqlite3** db : {&config_, &writer_, &reader_, &outbox_}) {
      Status s = OpenConnection(path, db);
      if (!s.ok()) return s;
      if (db == &config_) {
        if (s = Exec(config_, "BEGIN IMMEDIATE"); !s.ok()) return s;
        if (s = Exec(config_, kSchema); s.ok()) s = Exec(config_, ConfigVersionTriggers().c_str());
        if (s.ok()) s = MigrateApiKeys(config_);
        if (s.ok()) s = MigrateSeries(config_);
        if (s.ok()) s = Exec(config_, kOutboxSchema);
        if (!s.ok()) {
          Exec(config_, "ROLLBACK");
          return s;
        }
        if (s = Exec(config_, "COMMIT"); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  Status CreateExperiment(const ExperimentRow& row, const PhaseRow& phase) override {
    std::lock_guard lock(config_mu_);
    if (Status s = Exec(config_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Stmt ins(config_,
             "INSERT INTO experiments(key, config, phase, created_ms, updated_ms) "
             "VALUES(?1, ?2, ?3, ?4, ?5)");
    ins.Bind(1, row.key).Bind(2, row.config).Bind(3, int64_t{row.phase});
    ins.Bind(4, row.created_ms).Bind(5, row.updated_ms);
    int rc = ins.Step();
    if (rc != SQLITE_DONE) {
      Exec(config_, "ROLLBACK");
      if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("experiment exists: " + row.key);
      return Status::Internal(ins.Error());
    }
    if (Status s = InsertPhase(phase); !s.ok()) {
      Exec(config_, "ROLLBACK");
      return s;
    }
    return Exec(config_, "COMMIT");
  }

  Status UpdateExperiment(const ExperimentRow& row, const PhaseRow* new_phase) override {
    std::lock_guard lock(config_mu_);
    if (Status s = Exec(config_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Stmt up(config_, "UPDATE experiments SET config=?2, phase=?3, updated_ms=?4 WHERE key=?1");
    up.Bind(1, row.key).Bind(2, row.config).Bind(3, int64_t{row.phase}).Bind(4, row.updated_ms);
    if (up.Step() != SQLITE_DONE) {
      std::string m = up.Error();
      Exec(config_, "ROLLBACK");
      return Status::Internal(m);
    }
    if (sqlite3_changes(config_) == 0) {
      Exec(config_, "ROLLBACK");
      return Status::NotFound("no experiment " + row.key);
    }
    if (new_phase) {
      if (Status s = InsertPhase(*new_phase); !s.ok()) {
        Exec(config_, "ROLLBACK");
        return s;
      }
    }
    return Exec(config_, "COMMIT");
  }

  StatusOr<ExperimentRow> GetExperiment(std::string_view key) override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_,
           "SELECT key, config, phase, created_ms, updated_ms FROM experiments WHERE key=?1");
    q.Bind(1, key);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no experiment with key " + std::string(key), "key");
    return ReadExperiment(q);
  }

  StatusOr<std::vector<ExperimentRow>> ListExperiments() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_,
           "SELECT key, config, phase, created_ms, updated_ms FROM experiments ORDER BY key");
    std::vector<ExperimentRow> out;
    if (Status s = q.Each([&] { out.push_back(ReadExperiment(q)); }); !s.ok()) return s;
    return out;
  }

  StatusOr<std::vector<PhaseRow>> ListPhases(std::string_view experiment) override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_,
           "SELECT experiment, phase, seed, started_ms FROM phases WHERE experiment=?1 "
           "ORDER BY phase");
    q.Bind(1, experiment);
    std::vector<PhaseRow> out;
    Status s = q.Each([&] {
      out.push_back(PhaseRow{q.Text(0), static_cast<int>(q.Int(1)), q.Text(2), q.Int(3)});
    });
    if (!s.ok()) return s;
    return out;
  }

  Status CreateMetric(const MetricRow& row) override {
    std::lock_guard lock(config_mu_);
    Stmt ins(config_, "INSERT INTO metrics(key, config, created_ms) VALUES(?1, ?2, ?3)");
    ins.Bind(1, row.key).Bind(2, row.config).Bind(3, row.created_ms);
    int rc = ins.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("metric exists: " + row.key);
    if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  StatusOr<MetricRow> GetMetric(std::string_view key) override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT key, config, created_ms FROM metrics WHERE key=?1");
    q.Bind(1, key);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no metric with key " + std::string(key), "key");
    return MetricRow{q.Text(0), q.Text(1), q.Int(2)};
  }

  StatusOr<std::vector<MetricRow>> ListMetrics() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT key, config, created_ms FROM metrics ORDER BY key");
    std::vector<MetricRow> out;
    if (Status s = q.Each([&] {
          out.push_back(MetricRow{q.Text(0), q.Text(1), q.Int(2)});
        });
        !s.ok()) {
      return s;
    }
    return out;
  }

  Status CreateApiKey(const ApiKeyRow& row) override {
    std::lock_guard lock(config_mu_);
    Stmt ins(config_,
             "INSERT INTO api_keys(id, hash, prefix, scope, name, created_ms, expires_ms, "
             "revoked_ms, payload_key) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    ins.Bind(1, row.id).Bind(2, row.hash).Bind(3, row.prefix).Bind(4, ScopeName(row.scope));
    if (row.name.empty()) {
      ins.BindNull(5);
    } else {
      ins.Bind(5, row.name);
    }
    ins.Bind(6, row.created_ms).Bind(7, row.expires_ms).Bind(8, row.revoked_ms);
    if (row.payload_key.empty()) {
      ins.BindNull(9);
    } else {
      ins.Bind(9, row.payload_key);
    }
    int rc = ins.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("key exists");
    if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  StatusOr<ApiKeyRow> FindApiKey(std::string_view hash) override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, SelectApiKeys("WHERE hash=?1").c_str());
    q.Bind(1, hash);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no such API key");
    return ReadApiKey(q);
  }

  StatusOr<std::vector<ApiKeyRow>> ListApiKeys() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, SelectApiKeys("ORDER BY created_ms, id").c_str());
    std::vector<ApiKeyRow> out;
    if (Status s = q.Each([&] { out.push_back(ReadApiKey(q)); }); !s.ok()) return s;
    return out;
  }

  StatusOr<ApiKeyRow> RevokeApiKey(std::string_view id, int64_t now_ms) override {
    std::lock_guard lock(config_mu_);
    if (Status s = Exec(config_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    StatusOr<ApiKeyRow> out = RevokeInTransaction(id, now_ms);
    if (!out.ok()) {
      Exec(config_, "ROLLBACK");
      return out;
    }
    if (Status s = Exec(config_, "COMMIT"); !s.ok()) {
      Exec(config_, "ROLLBACK");
      return s;
    }
    return out;
  }

  StatusOr<int64_t> ApiKeyRevocations() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT value FROM counters WHERE name = 'api_key_revocations'");
    return CountOf(q);
  }

  StatusOr<int64_t> ConfigVersion() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT value FROM counters WHERE name = 'config_version'");
    return CountOf(q);
  }

  StatusOr<int64_t> CountApiKeys() override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT COUNT(*) FROM api_keys");
    return CountOf(q);
  }

  std::vector<WriteResult> WriteEventBatches(
      const std::vector<const std::vector<Event>*>& batches) override {
    std::lock_guard lock(writer_mu_);
    std::vector<WriteResult> results(batches.size());
    if (!insert_event_) {
      insert_event_ = std::make_unique<Stmt>(
          writer_,
          "INSERT OR IGNORE INTO events(id, type, experiment, uid, variant, name, value, ts, "
          "attrs) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    }
    if (!insert_event_->valid()) {
      for (auto& r : results) r.status = Status::Internal(insert_event_->Error());
      insert_event_.reset();
      return results;
    }
    if (Status s = Exec(writer_, "BEGIN IMMEDIATE"); !s.ok()) {
      for (auto& r : results) r.status = s;
      return results;
    }
    Stmt& ins = *insert_event_;
    MinuteRollup rollup, batch_rollup;  // the stored conversions' (name, minute) sums
    for (size_t b = 0; b < batches.size(); ++b) {
      // Each batch is all-or-nothing inside the group transaction.
      Exec(writer_, "SAVEPOINT batch");
      WriteResult& r = results[b];
      batch_rollup.clear();
      for (const Event& e : *batches[b]) {
        ins.BindStatic(1, e.id).Bind(2, int64_t{static_cast<int>(e.type)});
        if (e.type == EventType::kExposure) {
          ins.BindStatic(3, e.experiment).BindStatic(5, e.variant).BindNull(6).BindNull(7);
        } else {
          ins.BindNull(3).BindNull(5).BindStatic(6, e.name).Bind(7, e.value);
        }
        ins.BindStatic(4, e.user).Bind(8, e.ts_ms);
        if (e.attributes.empty()) {
          ins.BindNull(9);
        } else {
          ins.BindStatic(9, e.attributes);
        }
        int rc = ins.Step();
        ins.Rewind();
        if (rc != SQLITE_DONE) {
          r.status = Status::Internal(sqlite3_errmsg(writer_));
          break;
        }
        if (sqlite3_changes(writer_) == 1) {
          ++r.accepted;
          if (e.type == EventType::kConversion) AddToRollup(e, &batch_rollup);
        } else {
          ++r.duplicates;
        }
      }
      if (r.status.ok()) {
        Exec(writer_, "RELEASE batch");
        for (const auto& [key, m] : batch_rollup) {
          MinuteSums& into = rollup[key];
          into.events += m.events;
          into.sum += m.sum;
          into.sum_squares += m.sum_squares;
        }
      } else {
        Exec(writer_, "ROLLBACK TO batch; RELEASE batch");
        r.accepted = r.duplicates = 0;
      }
    }
    Status s = WriteRollup(rollup);
    if (s.ok()) s = Exec(writer_, "COMMIT");
    if (!s.ok()) {
      Exec(writer_, "ROLLBACK");
      for (auto& r : results) r = WriteResult{s, 0, 0};
    }
    return results;
  }

  // The per-minute rollup of the conversions a group commit stored (event_minutes).
  struct MinuteSums {
    int64_t events = 0;
    double sum = 0.0, sum_squares = 0.0;
  };
  using MinuteRollup = std::map<std::pair<std::string, int64_t>, MinuteSums>;

  static void AddToRollup(const Event& e, MinuteRollup* rollup) {
    const int64_t minute = e.ts_ms - ((e.ts_ms % 60000) + 60000) % 60000;
    MinuteSums& m = (*rollup)[{e.name, minute}];
    ++m.events;
    m.sum += e.value;
    m.sum_squares += e.value * e.value;
  }

  // REQUIRES: writer_mu_ held, inside the group's transaction.
  Status WriteRollup(const MinuteRollup& rollup) {
    if (rollup.empty()) return Status::Ok();
    if (!upsert_minute_) {
      upsert_minute_ = std::make_unique<Stmt>(
          writer_,
          "INSERT INTO event_minutes(name, minute_ms, events, sum, sum_squares) "
          "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(name, minute_ms) DO UPDATE SET "
          "events = events + excluded.events, sum = sum + excluded.sum, "
          "sum_squares = sum_squares + excluded.sum_squares");
    }
    if (!upsert_minute_->valid()) {
      Status s = Status::Internal(upsert_minute_->Error());
      upsert_minute_.reset();
      return s;
    }
    Stmt& up = *upsert_minute_;
    for (const auto& [key, m] : rollup) {
      up.BindStatic(1, key.first).Bind(2, key.second).Bind(3, m.events);
      up.Bind(4, m.sum).Bind(5, m.sum_squares);
      const int rc = up.Step();
      up.Rewind();
      if (rc != SQLITE_DONE) return Status::Internal(sqlite3_errmsg(writer_));
    }
    return Status::Ok();
  }

  StatusOr<bool> HasEvent(std::string_view id) override {
    std::lock_guard lock(reader_mu_);
    Stmt q(reader_, "SELECT 1 FROM events WHERE id=?1");
    q.Bind(1, id);
    return q.One();
  }

  StatusOr<int64_t> CountEvents() override {
    std::lock_guard lock(reader_mu_);
    Stmt q(reader_, "SELECT COUNT(*) FROM events");
    return CountOf(q);
  }

  StatusOr<ExposureSummary> SummarizeExposures(std::string_view experiment,
                                               int64_t since_ms) override {
    std::lock_guard lock(reader_mu_);
    ExposureSummary out;
    Stmt q(reader_,
           "SELECT variant, COUNT(*), COUNT(DISTINCT uid) FROM events "
           "WHERE type = 0 AND experiment = ?1 AND ts >= ?2 GROUP BY variant ORDER BY variant");
    q.Bind(1, experiment).Bind(2, since_ms);
    Status s = q.Each([&] {
      out.variants.push_back(VariantExposure{q.Text(0), q.Int(1), q.Int(2)});
      out.total_exposures += q.Int(1);
    });
    if (!s.ok()) return s;
    Stmt u(reader_,
           "SELECT COUNT(*), COALESCE(SUM(nv > 1), 0) FROM ("
           "  SELECT COUNT(DISTINCT variant) AS nv FROM events"
           "  WHERE type = 0 AND experiment = ?1 AND ts >= ?2 GROUP BY uid)");
    u.Bind(1, experiment).Bind(2, since_ms);
    StatusOr<bool> row = u.One();
    if (!row.ok()) return row.status();
    if (*row) {
      out.unique_users = u.Int(0);
      out.multi_variant_users = u.Int(1);
    }
    return out;
  }

  StatusOr<std::vector<std::string>> SampleExposureAttributes(std::string_view experiment,
                                                              int64_t since_ms,
                                                              int64_t limit) override {
    std::lock_guard lock(reader_mu_);
    // Along the covering index events_exposure_cover: `limit` entries, no row lookups.
    Stmt q(reader_,
           "SELECT attrs FROM (SELECT attrs FROM events WHERE type = 0 AND experiment = ?1 AND "
           "ts >= ?2 LIMIT ?3) WHERE attrs != ''");
    q.Bind(1, experiment).Bind(2, since_ms).Bind(3, limit);
    std::vector<std::string> out;
    Status s = q.Each([&] { out.push_back(q.Text(0)); });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<std::vector<VariantMetricStats>> MetricStats(std::string_view experiment,
                                                        int64_t since_ms, std::string_view event,
                                                        int64_t window_ms) override {
    std::lock_guard lock(reader_mu_);
    // First exposure per user; users seen in several variants are excluded.
    Stmt q(reader_, R"sql(
      WITH first AS (
        SELECT uid, MIN(ts) AS t0, MIN(variant) AS variant, COUNT(DISTINCT variant) AS nv
        FROM events WHERE type = 0 AND experiment = ?1 AND ts >= ?2 GROUP BY uid),
      per_user AS (
        SELECT f.variant AS variant, COUNT(c.id) AS k, COALESCE(SUM(c.value), 0.0) AS v
        FROM first f LEFT JOIN events c
          ON c.type = 1 AND c.name = ?3 AND c.uid = f.uid AND c.ts >= f.t0
             AND (?4 <= 0 OR c.ts < f.t0 + ?4)
        WHERE f.nv = 1 GROUP BY f.uid)
      SELECT variant, COUNT(*), SUM(k > 0), SUM(k), SUM(v), SUM(v * v), SUM(k * k)
      FROM per_user GROUP BY variant ORDER BY variant)sql");
    q.Bind(1, experiment).Bind(2, since_ms).Bind(3, event).Bind(4, window_ms);
    std::vector<VariantMetricStats> out;
    Status s = q.Each([&] {
      out.push_back(VariantMetricStats{q.Text(0), q.Int(1), q.Int(2), q.Int(3), q.Real(4),
                                       q.Real(5), q.Real(6)});
    });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<std::vector<VariantRatioStats>> RatioMetricStats(std::string_view experiment,
                                                            int64_t since_ms,
                                                            std::string_view numerator_event,
                                                            std::string_view denominator_event,
                                                            int64_t window_ms) override {
    std::lock_guard lock(reader_mu_);
    Stmt q(reader_, R"sql(
      WITH first AS (
        SELECT uid, MIN(ts) AS t0, MIN(variant) AS variant, COUNT(DISTINCT variant) AS nv
        FROM events WHERE type = 0 AND experiment = ?1 AND ts >= ?2 GROUP BY uid),
      num AS (
        SELECT f.uid AS uid, f.variant AS variant, COALESCE(SUM(c.value), 0.0) AS y
        FROM first f LEFT JOIN events c
          ON c.type = 1 AND c.name = ?3 AND c.uid = f.uid AND c.ts >= f.t0
             AND (?5 <= 0 OR c.ts < f.t0 + ?5)
        WHERE f.nv = 1 GROUP BY f.uid),
      den AS (
        SELECT f.uid AS uid, COALESCE(SUM(c.value), 0.0) AS x
        FROM first f LEFT JOIN events c
          ON c.type = 1 AND c.name = ?4 AND c.uid = f.uid AND c.ts >= f.t0
             AND (?5 <= 0 OR c.ts < f.t0 + ?5)
        WHERE f.nv = 1 GROUP BY f.uid)
      SELECT num.variant, COUNT(*), SUM(y), SUM(y * y), SUM(x), SUM(x * x), SUM(x * y)
      FROM num JOIN den ON den.uid = num.uid GROUP BY num.variant ORDER BY num.variant)sql");
    q.Bind(1, experiment).Bind(2, since_ms).Bind(3, numerator_event).Bind(4, denominator_event);
    q.Bind(5, window_ms);
    std::vector<VariantRatioStats> out;
    Status s = q.Each([&] {
      out.push_back(VariantRatioStats{q.Text(0), q.Int(1), q.Real(2), q.Real(3), q.Real(4),
                                      q.Real(5), q.Real(6)});
    });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<ReportAggregates> AggregateReport(const ReportQuery& query) override {
    // A connection of its own: a report's pass takes a while and must not hold up
    // the shared reader; one read transaction makes both passes see one snapshot.
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      std::string m = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return Status::Internal("cannot open " + path_ + ": " + m);
    }
    struct Closer {
      sqlite3* db;
      ~Closer() { sqlite3_close(db); }
    } closer{db};
    sqlite3_busy_timeout(db, 10000);
    if (Status s = Exec(db, "PRAGMA cache_size=-16384; BEGIN"); !s.ok()) {
      return s;
    }
    StatusOr<ReportAggregates> out = AggregateIn(db, query);
    Exec(db, "COMMIT");
    return out;
  }

  // Splits the users into ranges of about equal numbers of exposures, one per
  // core (up to 4; one below 50 000 exposures, where threads do not pay), and
  // runs the pass on each range in its own thread and read connection.
  StatusOr<ReportAggregates> AggregateIn(sqlite3* db, const ReportQuery& query) {
    // Split points between the first and the last user id, read from the index in
    // O(log n): ids taken as base-256 numbers over their first 7 bytes, cut into
    // equal parts. Uniform ids (UUIDs, hex, numbered) split evenly; any split is
    // correct, only the balance depends on it.
    Stmt first(db,
               "SELECT uid FROM events WHERE type = 0 AND experiment = ?1 AND ts >= ?2 "
               "AND ts < ?3 ORDER BY uid LIMIT 1");
    Stmt last(db,
              "SELECT uid FROM events WHERE type = 0 AND experiment = ?1 AND ts >= ?2 "
              "AND ts < ?3 ORDER BY uid DESC LIMIT 1");
    first.Bind(1, query.experiment).Bind(2, query.since_ms).Bind(3, query.until_ms);
    last.Bind(1, query.experiment).Bind(2, query.since_ms).Bind(3, query.until_ms);
    StatusOr<bool> has_first = first.One();
    if (!has_first.ok()) return has_first.status();
    StatusOr<bool> has_last = last.One();
    if (!has_last.ok()) return has_last.status();
    const size_t cores = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
    const size_t parts = *has_first && *has_last && !query.single_threaded ? cores : 1;
    std::vector<UidRange> ranges(parts);
    if (parts > 1) {
      constexpr size_t kBytes = 7;  // (b - a) * parts stays within 64 bits
      auto number = [](const std::string& s) {
        uint64_t v = 0;
        for (size_t i = 0; i < kBytes; ++i) {
          v = (v << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
        }
        return v;
      };
      const std::string lo = first.Text(0), hi = last.Text(0);
      const uint64_t a = number(lo), b = number(hi);
      for (size_t i = 1; i < parts; ++i) {
        const uint64_t cut = a + (b - a) * i / parts;
        std::string bound(kBytes, '\0');
        for (size_t k = 0; k < kBytes; ++k) {
          bound[kBytes - 1 - k] = static_cast<char>((cut >> (8 * k)) & 0xFF);
        }
        while (!bound.empty() && bound.back() == '\0') bound.pop_back();
        if (bound <= lo || bound > hi) bound.clear();
        ranges[i].from = ranges[i - 1].to = bound;
      }
      // Drop empty or out-of-order cuts.
      for (size_t i = ranges.size() - 1; i > 0; --i) {
        if (ranges[i].from.empty() || ranges[i].from <= ranges[i - 1].from) {
          ranges[i - 1].to = ranges[i].to;
          ranges.erase(ranges.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
    }
    // A read connection (and transaction) per further range.
    std::vector<sqlite3*> dbs{db};
    struct Closer {
      std::vector<sqlite3*>* dbs;
      ~Closer() {
        for (size_t i = 1; i < dbs->size(); ++i) sqlite3_close((*dbs)[i]);
      }
    } closer{&dbs};
    for (size_t i = 1; i < ranges.size(); ++i) {
      sqlite3* extra = nullptr;
      if (sqlite3_open_v2(path_.c_str(), &extra, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK) {
        sqlite3_close(extra);
        return Status::Internal("cannot open " + path_ + " for reading");
      }
      dbs.push_back(extra);
      sqlite3_busy_timeout(extra, 10000);
      if (Status s = Exec(extra, "PRAGMA cache_size=-16384; BEGIN"); !s.ok()) return s;
    }

    // History segments (RFM) are scored over every user at once: read the
    // histories of all ranges first.
    std::vector<std::string> labels;
    std::vector<uint16_t> segment_of_user;
    std::vector<size_t> offsets(ranges.size() + 1, 0);
    const bool by_history = query.history_event.has_value() && query.segment_by_history;
    if (by_history) {
      std::vector<StatusOr<std::vector<UserHistory>>> parts_h(ranges.size(),
                                                              Status::Internal("not run"));
      ParallelFor(ranges.size(), [&](size_t i) {
        parts_h[i] = ReadHistories(dbs[i], query, *query.history_event, ranges[i]);
      });
      std::vector<UserHistory> all;
      for (size_t i = 0; i < ranges.size(); ++i) {
        if (!parts_h[i].ok()) return parts_h[i].status();
        offsets[i + 1] = offsets[i] + parts_h[i]->size();
        all.insert(all.end(), parts_h[i]->begin(), parts_h[i]->end());
      }
      query.segment_by_history(all, &labels, &segment_of_user);
      if (segment_of_user.size() != all.size()) {
        return Status::Internal("history segmenter returned a wrong number of users");
      }
    }
    std::vector<StatusOr<ReportAggregates>> results(ranges.size(), Status::Internal("not run"));
    ParallelFor(ranges.size(), [&](size_t i) {
      results[i] = AggregateRange(dbs[i], query, ranges[i], by_history ? &labels : nullptr,
                                  by_history ? segment_of_user.data() + offsets[i] : nullptr,
                                  offsets[i + 1] - offsets[i]);
    });
    for (auto& r : results) {
      if (!r.ok()) return r.status();
    }
    ReportAggregates total = std::move(*results[0]);
    for (size_t i = 1; i < results.size(); ++i) MergeAggregates(&total, std::move(*results[i]));
    for (size_t i = 1; i < dbs.size(); ++i) Exec(dbs[i], "COMMIT");
    return total;
  }

  // ---- Alerts, webhooks and the outbox (issue 21 part 5) ----

  Status CommitMonitorChanges(const std::vector<MonitorStateRow>& states,
                              const std::vector<AlertRow>& alerts) override {
    std::lock_guard lock(outbox_mu_);
    if (Status s = Exec(outbox_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = CommitInTransaction(states, alerts);
    if (s.ok()) s = Exec(outbox_, "COMMIT");
    if (!s.ok()) Exec(outbox_, "ROLLBACK");
    return s;
  }

  StatusOr<std::vector<MonitorStateRow>> ListMonitorStates(
      std::string_view subject_prefix) override {
    std::lock_guard lock(outbox_mu_);
    // substr rather than LIKE, whose wildcards the prefix may hold; the table is small.
    Stmt q(outbox_,
           "SELECT subject, monitor, state, since_ms, evaluated_ms, detail FROM monitor_states "
           "WHERE substr(subject, 1, length(?1)) = ?1 ORDER BY subject, monitor");
    q.Bind(1, subject_prefix);
    std::vector<MonitorStateRow> out;
    Status s = q.Each([&] {
      out.push_back(
          MonitorStateRow{q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4), q.Text(5)});
    });
    if (!s.ok()) return s;
    return out;
  }

  StatusOr<std::vector<AlertRow>> ListAlerts(int64_t since_ms, int64_t limit) override {
    std::lock_guard lock(outbox_mu_);
    Stmt q(outbox_,
           (std::string(kSelectAlerts) + "WHERE at_ms >= ?1 ORDER BY at_ms, id LIMIT ?2").c_str());
    q.Bind(1, since_ms).Bind(2, limit);
    std::vector<AlertRow> out;
    if (Status s = q.Each([&] { out.push_back(ReadAlert(q)); }); !s.ok()) return s;
    return out;
  }

  StatusOr<AlertRow> GetAlert(std::string_view id) override {
    std::lock_guard lock(outbox_mu_);
    Stmt q(outbox_, (std::string(kSelectAlerts) + "WHERE id = ?1").c_str());
    q.Bind(1, id);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no alert with id " + std::string(id), "id");
    return ReadAlert(q);
  }

  Status CreateWebhook(const WebhookRow& row) override {
    std::lock_guard lock(outbox_mu_);
    Stmt ins(outbox_,
             "INSERT INTO webhooks(id, url, kinds, format, secret, description, created_ms) "
             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    ins.Bind(1, row.id).Bind(2, row.url).Bind(3, JoinKinds(row.kinds)).Bind(4, row.format);
    ins.Bind(5, row.secret).Bind(6, row.description).Bind(7, row.created_ms);
    const int rc = ins.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("webhook exists: " + row.id, "id");
    if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  StatusOr<std::vector<WebhookRow>> ListWebhooks() override {
    std::lock_guard lock(outbox_mu_);
    return ListWebhooksLocked();
  }

  Status DeleteWebhook(std::string_view id) override {
    std::lock_guard lock(outbox_mu_);
    if (Status s = Exec(outbox_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Stmt del(outbox_, "DELETE FROM webhooks WHERE id = ?1");
    del.Bind(1, id);
    Status s = del.Step() == SQLITE_DONE ? Status::Ok() : Status::Internal(del.Error());
    if (s.ok() && sqlite3_changes(outbox_) == 0) {
      s = Status::NotFound("no webhook with id " + std::string(id), "id");
    }
    if (s.ok()) {
      Stmt drop(outbox_, "DELETE FROM deliveries WHERE webhook_id = ?1 AND status = 'pending'");
      drop.Bind(1, id);
      if (drop.Step() != SQLITE_DONE) s = Status::Internal(drop.Error());
    }
    if (s.ok()) s = Exec(outbox_, "COMMIT");
    if (!s.ok()) Exec(outbox_, "ROLLBACK");
    return s;
  }

  StatusOr<std::vector<DeliveryRow>> DueDeliveries(int64_t now_ms, int64_t limit) override {
    std::lock_guard lock(outbox_mu_);
    Stmt q(outbox_, (std::string(kSelectDeliveries) +
                     "WHERE status = 'pending' AND next_attempt_ms <= ?1 "
                     "ORDER BY next_attempt_ms, alert_id, webhook_id LIMIT ?2")
                        .c_str());
    q.Bind(1, now_ms).Bind(2, limit);
    std::vector<DeliveryRow> out;
    if (Status s = q.Each([&] { out.push_back(ReadDelivery(q)); }); !s.ok()) return s;
    return out;
  }

  Status RecordDeliveryAttempt(const DeliveryRow& row) override {
    std::lock_guard lock(outbox_mu_);
    Stmt up(outbox_,
            "UPDATE deliveries SET status = ?3, attempts = ?4, next_attempt_ms = ?5, "
            "last_attempt_ms = ?6, last_http_status = ?7, last_error = ?8, delivered_ms = ?9 "
            "WHERE alert_id = ?1 AND webhook_id = ?2");
    up.Bind(1, row.alert_id).Bind(2, row.webhook_id).Bind(3, row.status);
    up.Bind(4, int64_t{row.attempts}).Bind(5, row.next_attempt_ms).Bind(6, row.last_attempt_ms);
    up.Bind(7, int64_t{row.last_http_status}).Bind(8, row.last_error).Bind(9, row.delivered_ms);
    if (up.Step() != SQLITE_DONE) return Status::Internal(up.Error());
    return Status::Ok();
  }

  StatusOr<std::vector<DeliveryRow>> ListDeliveries(std::string_view alert_id) override {
    std::lock_guard lock(outbox_mu_);
    Stmt q(outbox_,
           (std::string(kSelectDeliveries) + "WHERE alert_id = ?1 ORDER BY webhook_id").c_str());
    q.Bind(1, alert_id);
    std::vector<DeliveryRow> out;
    if (Status s = q.Each([&] { out.push_back(ReadDelivery(q)); }); !s.ok()) return s;
    return out;
  }

  // ---- metric series (issue 21) ----

  StatusOr<std::vector<SeriesRow>> EventSeries(const SeriesQuery& query) override {
    if (Status s = CheckSeriesQuery(query); !s.ok()) return s;
    // A read-only connection of its own, as the report's pass: a 30-day series
    // reads millions of index entries and must not hold up the shared reader.
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      std::string m = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return Status::Internal("cannot open " + path_ + ": " + m);
    }
    struct Closer {
      sqlite3* db;
      ~Closer() { sqlite3_close(db); }
    } closer{db};
    sqlite3_busy_timeout(db, 10000);
    if (Status s = Exec(db, "PRAGMA cache_size=-16384; BEGIN"); !s.ok()) return s;
    SeriesMerger merged;
    for (const std::string& event : query.events) {
      Status s = RollupAnswers(query) ? SqliteSeriesFromMinutes(db, query, event, &merged)
                                      : SqliteSeriesFromEvents(db, query, event, &merged);
      if (!s.ok()) {
        Exec(db, "ROLLBACK");
        return s;
      }
    }
    Exec(db, "COMMIT");
    return merged.Rows();
  }

  // ---- alert rules (issue 21) ----

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

  // ---- features (issue 22) ----

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

  // Configuration documents (alert rules, features): one table each of (key,
  // config, created_ms, updated_ms). `table` is one of this file's table names.
  Status CreateDocument(const char* table, const char* noun, const ConfigDocumentRow& row) {
    std::lock_guard lock(config_mu_);
    Stmt ins(config_, std::string("INSERT INTO ") + table +
                          "(key, config, created_ms, updated_ms) VALUES(?1, ?2, ?3, ?4)");
    ins.Bind(1, row.key).Bind(2, row.config).Bind(3, row.created_ms).Bind(4, row.updated_ms);
    const int rc = ins.Step();
    if (rc == SQLITE_CONSTRAINT)
      return Status::AlreadyExists(std::string(noun) + " exists: " + row.key, "key");
    if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  // created_ms is kept as first stored.
  Status UpdateDocument(const char* table, const char* noun, const ConfigDocumentRow& row) {
    std::lock_guard lock(config_mu_);
    Stmt up(config_,
            std::string("UPDATE ") + table + " SET config = ?2, updated_ms = ?3 WHERE key = ?1");
    up.Bind(1, row.key).Bind(2, row.config).Bind(3, row.updated_ms);
    if (up.Step() != SQLITE_DONE) return Status::Internal(up.Error());
    if (sqlite3_changes(config_) == 0) {
      return Status::NotFound(std::string("no ") + noun + " with key " + row.key, "key");
    }
    return Status::Ok();
  }

  Status DeleteDocument(const char* table, const char* noun, std::string_view key) {
    std::lock_guard lock(config_mu_);
    Stmt del(config_, std::string("DELETE FROM ") + table + " WHERE key = ?1");
    del.Bind(1, key);
    if (del.Step() != SQLITE_DONE) return Status::Internal(del.Error());
    if (sqlite3_changes(config_) == 0) {
      return Status::NotFound(std::string("no ") + noun + " with key " + std::string(key), "key");
    }
    return Status::Ok();
  }

  StatusOr<ConfigDocumentRow> GetDocument(const char* table, const char* noun,
                                          std::string_view key) {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, std::string("SELECT key, config, created_ms, updated_ms FROM ") + table +
                        " WHERE key = ?1");
    q.Bind(1, key);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) {
      return Status::NotFound(std::string("no ") + noun + " with key " + std::string(key), "key");
    }
    return ConfigDocumentRow{q.Text(0), q.Text(1), q.Int(2), q.Int(3)};
  }

  StatusOr<std::vector<ConfigDocumentRow>> ListDocuments(const char* table) {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, std::string("SELECT key, config, created_ms, updated_ms FROM ") + table +
                        " ORDER BY key");
    std::vector<ConfigDocumentRow> out;
    Status s = q.Each([&] {
      out.push_back(ConfigDocumentRow{q.Text(0), q.Text(1), q.Int(2), q.Int(3)});
    });
    if (!s.ok()) return s;
    return out;
  }

 private:
  static constexpr const char* kSelectAlerts =
      "SELECT id, kind, subject_kind, subject, monitor, state, at_ms, created_ms, payload "
      "FROM alerts ";
  static constexpr const char* kSelectDeliveries =
      "SELECT alert_id, webhook_id, status, attempts, next_attempt_ms, last_attempt_ms, "
      "last_http_status, last_error, delivered_ms FROM deliveries ";

  static AlertRow ReadAlert(Stmt& q) {  // a row of kSelectAlerts
    AlertRow a;
    a.id = q.Text(0);
    a.kind = q.Text(1);
    a.subject_kind = q.Text(2);
    a.subject = q.Text(3);
    a.monitor = q.Text(4);
    a.state = q.Text(5);
    a.at_ms = q.Int(6);
    a.created_ms = q.Int(7);
    a.payload = q.Text(8);
    return a;
  }

  static DeliveryRow ReadDelivery(Stmt& q) {  // a row of kSelectDeliveries
    return DeliveryRow{q.Text(0),
                       q.Text(1),
                       q.Text(2),
                       static_cast<int>(q.Int(3)),
                       q.Int(4),
                       q.Int(5),
                       static_cast<int>(q.Int(6)),
                       q.Text(7),
                       q.Int(8)};
  }

  StatusOr<std::vector<WebhookRow>> ListWebhooksLocked() {  // REQUIRES: outbox_mu_ held
    Stmt q(outbox_,
           "SELECT id, url, kinds, format, secret, description, created_ms FROM webhooks "
           "ORDER BY created_ms, id");
    std::vector<WebhookRow> out;
    Status s = q.Each([&] {
      out.push_back(WebhookRow{q.Text(0), q.Text(1), SplitKinds(q.Text(2)), q.Text(3), q.Text(4),
                               q.Text(5), q.Int(6)});
    });
    if (!s.ok()) return s;
    return out;
  }

  // REQUIRES: outbox_mu_ held, in a write transaction.
  Status CommitInTransaction(const std::vector<MonitorStateRow>& states,
                             const std::vector<AlertRow>& alerts) {
    Stmt up(outbox_,
            "INSERT INTO monitor_states(subject, monitor, state, since_ms, evaluated_ms, detail) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(subject, monitor) DO UPDATE SET "
            "state = excluded.state, since_ms = excluded.since_ms, "
            "evaluated_ms = excluded.evaluated_ms, detail = excluded.detail");
    for (const MonitorStateRow& m : states) {
      up.Bind(1, m.subject).Bind(2, m.monitor).Bind(3, m.state).Bind(4, m.since_ms);
      up.Bind(5, m.evaluated_ms).Bind(6, m.detail);
      const int rc = up.Step();
      up.Rewind();
      if (rc != SQLITE_DONE) return Status::Internal(up.Error());
    }
    if (alerts.empty()) return Status::Ok();
    StatusOr<std::vector<WebhookRow>> webhooks = ListWebhooksLocked();
    if (!webhooks.ok()) return webhooks.status();
    Stmt ins(outbox_,
             "INSERT OR IGNORE INTO alerts(id, kind, subject_kind, subject, monitor, state, "
             "at_ms, created_ms, payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    Stmt pending(outbox_,
                 "INSERT OR IGNORE INTO deliveries(alert_id, webhook_id, status, attempts, "
                 "next_attempt_ms, last_attempt_ms, last_http_status, last_error, delivered_ms) "
                 "VALUES(?1, ?2, 'pending', 0, ?3, 0, 0, '', 0)");
    for (const AlertRow& a : alerts) {
      ins.Bind(1, a.id).Bind(2, a.kind).Bind(3, a.subject_kind).Bind(4, a.subject);
      ins.Bind(5, a.monitor).Bind(6, a.state).Bind(7, a.at_ms).Bind(8, a.created_ms);
      ins.Bind(9, a.payload);
      const int rc = ins.Step();
      ins.Rewind();
      if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
      if (sqlite3_changes(outbox_) == 0) continue;  // stored before: no new deliveries
      for (const WebhookRow& w : *webhooks) {
        if (w.id != a.target_webhook && !WebhookWants(w.kinds, a)) continue;
        pending.Bind(1, a.id).Bind(2, w.id).Bind(3, a.created_ms);
        const int prc = pending.Step();
        pending.Rewind();
        if (prc != SQLITE_DONE) return Status::Internal(pending.Error());
      }
    }
    return Status::Ok();
  }

  Status InsertPhase(const PhaseRow& p) {  // REQUIRES: config_mu_ held, in a transaction
    Stmt ins(config_,
             "INSERT INTO phases(experiment, phase, seed, started_ms) VALUES(?1, ?2, ?3, ?4)");
    ins.Bind(1, p.experiment).Bind(2, int64_t{p.phase}).Bind(3, p.seed).Bind(4, p.started_ms);
    if (ins.Step() != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  // REQUIRES: config_mu_ held, in a write transaction.
  StatusOr<ApiKeyRow> RevokeInTransaction(std::string_view id, int64_t now_ms) {
    Stmt q(config_, SelectApiKeys("WHERE id=?1").c_str());
    q.Bind(1, id);
    StatusOr<bool> found = q.One();
    if (!found.ok()) return found.status();
    if (!*found) return Status::NotFound("no API key with id " + std::string(id), "id");
    ApiKeyRow row = ReadApiKey(q);
    if (row.revoked_ms) return row;  // already revoked: nothing changes
    if (row.scope == KeyScope::kAdmin && row.Active(now_ms)) {
      Stmt others(config_,
                  "SELECT COUNT(*) FROM api_keys WHERE scope = 'admin' AND id != ?1 AND "
                  "revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?2)");
      others.Bind(1, id).Bind(2, now_ms);
      StatusOr<int64_t> n = CountOf(others);
      if (!n.ok()) return n.status();
      if (*n == 0) {
        return Status::FailedPrecondition(
            "this is the last active admin key; create another admin key before revoking it", "id");
      }
    }
    Stmt up(config_, "UPDATE api_keys SET revoked_ms = ?2 WHERE id = ?1");
    up.Bind(1, id).Bind(2, now_ms);
    if (up.Step() != SQLITE_DONE) return Status::Internal(up.Error());
    if (Status s = Exec(config_,
                        "UPDATE counters SET value = value + 1 WHERE name = 'api_key_revocations'");
        !s.ok()) {
      return s;
    }
    row.revoked_ms = now_ms;
    return row;
  }

  static ApiKeyRow ReadApiKey(Stmt& q) {  // a row of SelectApiKeys
    ApiKeyRow r;
    r.id = q.Text(0);
    r.hash = q.Text(1);
    r.prefix = q.Text(2);
    r.scope = ParseKeyScope(q.Text(3)).value_or(KeyScope::kSdk);
    r.name = q.Text(4);
    r.created_ms = q.Int(5);
    r.expires_ms = q.OptionalInt(6);
    r.revoked_ms = q.OptionalInt(7);
    r.payload_key = q.Text(8);
    return r;
  }

  static StatusOr<int64_t> CountOf(Stmt& q) {
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    return *row ? q.Int(0) : int64_t{0};
  }

  static ExperimentRow ReadExperiment(Stmt& q) {
    return ExperimentRow{q.Text(0), q.Text(1), static_cast<int>(q.Int(2)), q.Int(3), q.Int(4)};
  }

  std::mutex config_mu_;
  sqlite3* config_ = nullptr;  // GUARDED_BY(config_mu_)
  std::mutex writer_mu_;
  sqlite3* writer_ = nullptr;            // GUARDED_BY(writer_mu_)
  std::unique_ptr<Stmt> insert_event_;   // GUARDED_BY(writer_mu_)
  std::unique_ptr<Stmt> upsert_minute_;  // GUARDED_BY(writer_mu_)
  std::mutex reader_mu_;
  sqlite3* reader_ = nullptr;  // GUARDED_BY(reader_mu_)
  // Monitor states, alerts, webhooks and deliveries: a connection of their own, so
  // the delivery worker's polls never wait behind configuration or key lookups.
  std::mutex outbox_mu_;
  sqlite3* outbox_ = nullptr;  // GUARDED_BY(outbox_mu_)
  std::string path_;
};

}  // namespace

std::unique_ptr<Store> OpenSqliteStore(const std::string& path, std::string* error) {
  auto store = std::make_unique<SqliteStore>();
  Status s = store->Open(path);
  if (!s.ok()) {
    if (error) *error = s.message();
    return nullptr;
  }
  return store;
}

}  // namespace causeway::store
