// SQLite implementation of Store.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction
// survives a process crash (kill -9) and an OS crash or power loss (the WAL is
// fsynced at every commit). Event writes are group-committed by the caller
// (api/event_writer) into one transaction per many requests, so the fsync is
// paid once per group, not per event.
//
// Connections: three, each with its own mutex: config_ (experiments, metrics,
// keys), writer_ (events), reader_ (aggregates). WAL lets readers run while the
// writer commits.
#include <sqlite3.h>

#include <filesystem>
#include <mutex>

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
  hash TEXT PRIMARY KEY, prefix TEXT NOT NULL, scope TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  id TEXT PRIMARY KEY, type INTEGER NOT NULL, experiment TEXT, uid TEXT NOT NULL,
  variant TEXT, name TEXT, value REAL, ts INTEGER NOT NULL, attrs TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_exposure ON events(experiment, uid, ts) WHERE type = 0;
CREATE INDEX IF NOT EXISTS events_conversion ON events(name, uid, ts) WHERE type = 1;
)sql";

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      stmt_ = nullptr;
    }
  }
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

std::string_view ScopeName(KeyScope s) { return s == KeyScope::kAdmin ? "admin" : "sdk"; }

class SqliteStore final : public Store {
 public:
  ~SqliteStore() override {
    insert_event_.reset();  // statements must be finalized before their connection closes
    sqlite3_close(reader_);
    sqlite3_close(writer_);
    sqlite3_close(config_);
  }

  Status Open(const std::string& path) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Internal("cannot create " + parent.string() + ": " + ec.message());
    for (sqlite3** db : {&config_, &writer_, &reader_}) {
      Status s = OpenConnection(path, db);
      if (!s.ok()) return s;
      if (db == &config_) {
        s = Exec(config_, kSchema);
        if (!s.ok()) return s;
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
             "INSERT INTO api_keys(hash, prefix, scope, created_ms) VALUES(?1, ?2, ?3, ?4)");
    ins.Bind(1, row.hash).Bind(2, row.prefix).Bind(3, ScopeName(row.scope)).Bind(4, row.created_ms);
    int rc = ins.Step();
    if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("key exists");
    if (rc != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
  }

  StatusOr<ApiKeyRow> FindApiKey(std::string_view hash) override {
    std::lock_guard lock(config_mu_);
    Stmt q(config_, "SELECT hash, prefix, scope, created_ms FROM api_keys WHERE hash=?1");
    q.Bind(1, hash);
    StatusOr<bool> row = q.One();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no such API key");
    return ApiKeyRow{q.Text(0), q.Text(1), q.Text(2) == "admin" ? KeyScope::kAdmin : KeyScope::kSdk,
                     q.Int(3)};
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
    for (size_t b = 0; b < batches.size(); ++b) {
      // Each batch is all-or-nothing inside the group transaction.
      Exec(writer_, "SAVEPOINT batch");
      WriteResult& r = results[b];
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
        } else {
          ++r.duplicates;
        }
      }
      if (r.status.ok()) {
        Exec(writer_, "RELEASE batch");
      } else {
        Exec(writer_, "ROLLBACK TO batch; RELEASE batch");
        r.accepted = r.duplicates = 0;
      }
    }
    if (Status s = Exec(writer_, "COMMIT"); !s.ok()) {
      Exec(writer_, "ROLLBACK");
      for (auto& r : results) r = WriteResult{s, 0, 0};
    }
    return results;
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

 private:
  Status InsertPhase(const PhaseRow& p) {  // REQUIRES: config_mu_ held, in a transaction
    Stmt ins(config_,
             "INSERT INTO phases(experiment, phase, seed, started_ms) VALUES(?1, ?2, ?3, ?4)");
    ins.Bind(1, p.experiment).Bind(2, int64_t{p.phase}).Bind(3, p.seed).Bind(4, p.started_ms);
    if (ins.Step() != SQLITE_DONE) return Status::Internal(ins.Error());
    return Status::Ok();
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
  sqlite3* writer_ = nullptr;           // GUARDED_BY(writer_mu_)
  std::unique_ptr<Stmt> insert_event_;  // GUARDED_BY(writer_mu_)
  std::mutex reader_mu_;
  sqlite3* reader_ = nullptr;  // GUARDED_BY(reader_mu_)
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
