// Store contract tests. The backend-independent cases run against every Store
// implementation (SQLite, and ClickHouse on a server of the test's own: see
// Backend below); cases about SQLite files stay SQLite-only.
#include <sqlite3.h>
#include <algorithm>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "clickhouse_server.h"
#include "store/clickhouse_store.h"
#include "store/event_writer.h"
#include "store/sqlite_store.h"
#include "store/store.h"

using namespace causeway::store;
using causeway::Status;
using causeway::StatusCode;
using causeway::StatusOr;

namespace {

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(dir);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "sub" / "test.db").string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

// One store backend under test, on fresh data: a SQLite file in a temporary
// directory, or a database of its own on the test clickhouse-server (dropped at
// the end). Open() opens another Store on the same data, as a second process would.
class Backend {
 public:
  explicit Backend(std::string name) : name_(std::move(name)) {
    if (name_ != "clickhouse") return;
    server_ = causeway::testing::TestClickHouse::Shared(&why_);
    static int counter = 0;
    database_ = "cw_store_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  }
  ~Backend() {
    if (server_)
      (void)causeway::store::ch::Client(server_->endpoint())
          .Query("DROP DATABASE IF EXISTS " + database_);
  }
  // False when the backend cannot run here (no clickhouse-server); why() says why.
  bool available() const { return name_ != "clickhouse" || server_ != nullptr; }
  const std::string& why() const { return why_; }
  const std::string& name() const { return name_; }
  std::string sqlite_path() const { return db_.path(); }

  std::unique_ptr<Store> Open() {
    std::string error;
    std::unique_ptr<Store> s;
    if (name_ == "clickhouse") {
      ClickHouseOptions o;
      o.endpoint = server_->endpoint(database_);
      s = OpenClickHouseStore(o, &error);
    } else {
      s = OpenSqliteStore(db_.path(), &error);
    }
    INFO(error);
    REQUIRE(s);
    return s;
  }

 private:
  std::string name_;
  TempDb db_;
  causeway::testing::TestClickHouse* server_ = nullptr;
  std::string database_, why_;
};

Event Exposure(std::string id, std::string user, std::string variant, int64_t ts) {
  Event e;
  e.type = EventType::kExposure;
  e.id = std::move(id);
  e.user = std::move(user);
  e.experiment = "exp";
  e.variant = std::move(variant);
  e.ts_ms = ts;
  return e;
}

Event Conversion(std::string id, std::string user, double value, int64_t ts) {
  Event e;
  e.type = EventType::kConversion;
  e.id = std::move(id);
  e.user = std::move(user);
  e.name = "purchase";
  e.value = value;
  e.ts_ms = ts;
  return e;
}

}  // namespace

// Runs the test once per backend: declares `Backend backend` and ends the run of
// an unavailable one (a failure when $CI is set, else a warning).
#define FOR_EACH_BACKEND(backend)                                                   \
  Backend backend(GENERATE(as<std::string>{}, "sqlite", "clickhouse"));             \
  INFO("backend: " << backend.name());                                              \
  if (!backend.available()) {                                                       \
    if (std::getenv("CI")) FAIL("ClickHouse is required in CI: " << backend.why()); \
    WARN("SKIPPED on " << backend.name() << ": " << backend.why());                 \
    return;                                                                         \
  }

TEST_CASE("store creates parent directories and the schema") {
  TempDb db;
  std::string error;
  auto s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  CHECK(std::filesystem::exists(db.path()));
  CHECK(*s->CountEvents() == 0);
  CHECK(s->ListExperiments()->empty());
}

TEST_CASE("store reports an unopenable path as an error, not a crash") {
  std::string error;
  auto s = OpenSqliteStore("/proc/causeway-cannot-exist/x.db", &error);
  CHECK_FALSE(s);
  CHECK_FALSE(error.empty());
}

TEST_CASE("experiments: create, duplicate, update with a new phase") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  REQUIRE(s->CreateExperiment({"a", "{}", 1, 10, 10}, {"a", 1, "a", 10}).ok());
  CHECK(s->CreateExperiment({"a", "{}", 1, 11, 11}, {"a", 1, "a", 11}).code() ==
        StatusCode::kAlreadyExists);
  PhaseRow p2{"a", 2, "newseed", 20};
  REQUIRE(s->UpdateExperiment({"a", "{\"x\":1}", 2, 10, 20}, &p2).ok());
  auto row = s->GetExperiment("a");
  REQUIRE(row.ok());
  CHECK(row->config == "{\"x\":1}");
  CHECK(row->phase == 2);
  auto phases = *s->ListPhases("a");
  REQUIRE(phases.size() == 2);
  CHECK(phases[1].seed == "newseed");
  CHECK(s->UpdateExperiment({"missing", "{}", 1, 0, 0}, nullptr).code() == StatusCode::kNotFound);
}

TEST_CASE("events: duplicates by id, within and across batches, are not stored twice") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  std::vector<Event> b1 = {Exposure("e1", "u1", "control", 1000),
                           Exposure("e1", "u1", "control", 1000),
                           Conversion("c1", "u1", 5.0, 2000)};
  std::vector<Event> b2 = {Exposure("e1", "u1", "control", 1000), Exposure("e2", "u2", "t", 1000)};
  auto r = s->WriteEventBatches({&b1, &b2});
  REQUIRE(r.size() == 2);
  CHECK(r[0].accepted == 2);
  CHECK(r[0].duplicates == 1);
  CHECK(r[1].accepted == 1);
  CHECK(r[1].duplicates == 1);
  CHECK(*s->CountEvents() == 3);
  CHECK(*s->HasEvent("c1"));
  CHECK_FALSE(*s->HasEvent("nope"));
}

TEST_CASE("aggregates: exposures and per-user metric sufficient statistics") {
  TempDb db;
  std::string error;
  auto s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  std::vector<Event> b = {
      Exposure("x1", "u1", "control", 1000),   Exposure("x2", "u1", "control", 5000),
      Exposure("x3", "u2", "treatment", 1000), Exposure("x4", "u3", "treatment", 3000),
      Exposure("x5", "u4", "control", 1000),   Exposure("x6", "u4", "treatment", 1000),  // both
      Conversion("c1", "u1", 10.0, 2000),      Conversion("c2", "u1", 5.0, 2500),
      Conversion("c3", "u2", 7.0, 500),    // before exposure: not counted
      Conversion("c4", "u3", 4.0, 3000),   // at exposure: counted
      Conversion("c5", "u3", 1.0, 999999)  // outside a 10 s window
  };
  REQUIRE(s->WriteEventBatches({&b})[0].status.ok());
  ExposureSummary e = *s->SummarizeExposures("exp", 0);
  CHECK(e.total_exposures == 6);
  CHECK(e.unique_users == 4);
  CHECK(e.multi_variant_users == 1);
  REQUIRE(e.variants.size() == 2);
  CHECK(e.variants[0].variant == "control");
  CHECK(e.variants[0].exposures == 3);
  CHECK(e.variants[0].users == 2);

  auto m = *s->MetricStats("exp", 0, "purchase", 10000);
  REQUIRE(m.size() == 2);
  // control: u1 only (u4 excluded as multi-variant): value 15.
  CHECK(m[0].variant == "control");
  CHECK(m[0].users == 1);
  CHECK(m[0].converted == 1);
  CHECK(m[0].conversions == 2);
  CHECK(m[0].sum == Approx(15.0));
  CHECK(m[0].sum_squares == Approx(225.0));
  CHECK(m[0].conversions_sum_squares == Approx(4.0));  // u1: 2 events
  // treatment: u2 (0, conversion before exposure) and u3 (4 within the window).
  CHECK(m[1].users == 2);
  CHECK(m[1].converted == 1);
  CHECK(m[1].sum == Approx(4.0));
  CHECK(m[1].sum_squares == Approx(16.0));
  // Ratio: purchase value per "visit" event, per user.
  std::vector<Event> visits = {Conversion("v1", "u1", 1.0, 2000), Conversion("v2", "u1", 1.0, 2100),
                               Conversion("v3", "u2", 1.0, 1500),
                               Conversion("v4", "u3", 1.0, 3000)};
  for (auto& v : visits) v.name = "visit";
  REQUIRE(s->WriteEventBatches({&visits})[0].status.ok());
  auto ratio = *s->RatioMetricStats("exp", 0, "purchase", "visit", 10000);
  REQUIRE(ratio.size() == 2);
  CHECK(ratio[0].users == 1);  // control: u1 (y 15, x 2)
  CHECK(ratio[0].numerator_sum == Approx(15.0));
  CHECK(ratio[0].denominator_sum == Approx(2.0));
  CHECK(ratio[0].denominator_sum_squares == Approx(4.0));
  CHECK(ratio[0].numerator_denominator_sum_product == Approx(30.0));
  CHECK(ratio[1].users == 2);  // treatment: u2 (y 0, x 1), u3 (y 4, x 1)
  CHECK(ratio[1].numerator_sum == Approx(4.0));
  CHECK(ratio[1].numerator_sum_squares == Approx(16.0));
  CHECK(ratio[1].denominator_sum == Approx(2.0));
  CHECK(ratio[1].numerator_denominator_sum_product == Approx(4.0));
  // No window: u3's late conversion counts too.
  auto all = *s->MetricStats("exp", 0, "purchase", 0);
  CHECK(all[1].sum == Approx(5.0));
}

TEST_CASE("event writer group-commits concurrent batches and answers each") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  EventWriter writer(s.get(), {});
  constexpr int kThreads = 8, kBatches = 20, kPerBatch = 50;
  std::vector<std::thread> threads;
  std::atomic<int64_t> accepted{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<Event> batch;
        for (int i = 0; i < kPerBatch; ++i) {
          batch.push_back(
              Conversion(std::to_string(t) + "-" + std::to_string(b) + "-" + std::to_string(i), "u",
                         1.0, 1000));
        }
        accepted += writer.Write(batch).accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(accepted == kThreads * kBatches * kPerBatch);
  CHECK(*s->CountEvents() == kThreads * kBatches * kPerBatch);
  CHECK(writer.groups_committed() <= static_cast<uint64_t>(kThreads * kBatches));
}

TEST_CASE("event writer refuses with Busy when its queue is full, and after Stop") {
  TempDb db;
  std::string error;
  auto s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  EventWriter writer(s.get(), {.max_queued_events = 10, .max_group_events = 10});
  // A batch larger than the queue is still accepted when the queue is empty.
  std::vector<Event> big;
  for (int i = 0; i < 50; ++i) big.push_back(Conversion("b" + std::to_string(i), "u", 1, 1000));
  CHECK(writer.Write(big).status.ok());
  writer.Stop();
  std::vector<Event> one = {Conversion("late", "u", 1, 1000)};
  auto r = writer.Write(one);
  CHECK(r.status.code() == StatusCode::kUnavailable);
  CHECK_FALSE(*s->HasEvent("late"));
}

namespace {

// A Store whose event commit blocks until released, to fill the writer's queue
// deterministically. Everything else is unused.
class BlockingStore final : public Store {
 public:
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int commits = 0;

  std::vector<WriteResult> WriteEventBatches(
      const std::vector<const std::vector<Event>*>& batches) override {
    std::unique_lock lock(mu);
    ++commits;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    std::vector<WriteResult> out;
    for (const auto* b : batches) out.push_back({Status::Ok(), static_cast<int64_t>(b->size()), 0});
    return out;
  }
  Status CreateExperiment(const ExperimentRow&, const PhaseRow&) override { return {}; }
  Status UpdateExperiment(const ExperimentRow&, const PhaseRow*) override { return {}; }
  StatusOr<ExperimentRow> GetExperiment(std::string_view) override {
    return Status::NotFound("none");
  }
  StatusOr<std::vector<ExperimentRow>> ListExperiments() override {
    return std::vector<ExperimentRow>{};
  }
  StatusOr<std::vector<PhaseRow>> ListPhases(std::string_view) override {
    return std::vector<PhaseRow>{};
  }
  Status CreateMetric(const MetricRow&) override { return {}; }
  StatusOr<MetricRow> GetMetric(std::string_view) override { return Status::NotFound("none"); }
  StatusOr<std::vector<MetricRow>> ListMetrics() override { return std::vector<MetricRow>{}; }
  Status CreateApiKey(const ApiKeyRow&) override { return {}; }
  StatusOr<ApiKeyRow> FindApiKey(std::string_view) override { return Status::NotFound("none"); }
  StatusOr<std::vector<ApiKeyRow>> ListApiKeys() override { return std::vector<ApiKeyRow>{}; }
  StatusOr<int64_t> CountApiKeys() override { return int64_t{0}; }
  StatusOr<ApiKeyRow> RevokeApiKey(std::string_view, int64_t) override {
    return Status::NotFound("none");
  }
  StatusOr<int64_t> ApiKeyRevocations() override { return int64_t{0}; }
  StatusOr<int64_t> ConfigVersion() override { return int64_t{0}; }
  StatusOr<std::vector<VariantRatioStats>> RatioMetricStats(std::string_view, int64_t,
                                                            std::string_view, std::string_view,
                                                            int64_t) override {
    return std::vector<VariantRatioStats>{};
  }
  StatusOr<ReportAggregates> AggregateReport(const ReportQuery&) override {
    return ReportAggregates{};
  }
  StatusOr<bool> HasEvent(std::string_view) override { return false; }
  StatusOr<int64_t> CountEvents() override { return int64_t{0}; }
  StatusOr<std::vector<std::string>> SampleExposureAttributes(std::string_view, int64_t,
                                                              int64_t) override {
    return std::vector<std::string>{};
  }
  StatusOr<ExposureSummary> SummarizeExposures(std::string_view, int64_t) override {
    return ExposureSummary{};
  }
  StatusOr<std::vector<VariantMetricStats>> MetricStats(std::string_view, int64_t, std::string_view,
                                                        int64_t) override {
    return std::vector<VariantMetricStats>{};
  }
};

std::vector<Event> Conversions(const std::string& prefix, int n) {
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) out.push_back(Conversion(prefix + std::to_string(i), "u", 1, 1000));
  return out;
}

}  // namespace

TEST_CASE("event writer answers Busy at once when the queue is full (back-pressure)") {
  BlockingStore store;
  EventWriter writer(&store, {.max_queued_events = 10, .max_group_events = 100});
  auto a = Conversions("a", 5), b = Conversions("b", 5), c = Conversions("c", 1);
  WriteResult ra, rb;
  std::thread ta([&] { ra = writer.Write(a); });
  {  // the writer thread is now inside the blocked commit of batch a
    std::unique_lock lock(store.mu);
    store.cv.wait(lock, [&] { return store.commits == 1; });
  }
  std::thread tb([&] { rb = writer.Write(b); });
  while (writer.queued_events() < 10) std::this_thread::yield();
  // 10 events are waiting: one more does not fit, and the answer does not wait.
  WriteResult rc = writer.Write(c);
  CHECK(rc.status.code() == StatusCode::kUnavailable);
  CHECK(rc.accepted == 0);
  {
    std::lock_guard lock(store.mu);
    store.release = true;
  }
  store.cv.notify_all();
  ta.join();
  tb.join();
  CHECK(ra.status.ok());
  CHECK(ra.accepted == 5);
  CHECK(rb.status.ok());
  CHECK(rb.accepted == 5);
  CHECK(writer.queued_events() == 0);
  CHECK(writer.Write(c).status.ok());  // room again
}

TEST_CASE("store reads report a failing database instead of no rows") {
  TempDb db;
  auto s = OpenSqliteStore(db.path(), nullptr);
  REQUIRE(s);
  REQUIRE(s->CreateMetric({"m", "{}", 1}).ok());
  // Break the schema behind the store's back: every read of the table now fails.
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "DROP TABLE metrics; DROP TABLE events;", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  auto one = s->GetMetric("m");
  REQUIRE_FALSE(one.ok());
  CHECK(one.status().code() == StatusCode::kInternal);
  auto all = s->ListMetrics();
  REQUIRE_FALSE(all.ok());
  CHECK(all.status().code() == StatusCode::kInternal);
  auto count = s->CountEvents();
  REQUIRE_FALSE(count.ok());
  CHECK(count.status().code() == StatusCode::kInternal);
  auto stats = s->MetricStats("exp", 0, "purchase", 0);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.status().code() == StatusCode::kInternal);
  auto absent = s->GetExperiment("nope");
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.status().code() == StatusCode::kNotFound);
}

namespace {

ApiKeyRow Key(std::string id, KeyScope scope, int64_t created_ms,
              std::optional<int64_t> expires_ms = std::nullopt) {
  ApiKeyRow r;
  r.hash = "hash-" + id;
  r.id = std::move(id);
  r.prefix = "cw_x";
  r.scope = scope;
  r.created_ms = created_ms;
  r.expires_ms = expires_ms;
  return r;
}

}  // namespace

TEST_CASE("api keys: create, find, list, expiry and revocation") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  ApiKeyRow admin = Key("key_a", KeyScope::kAdmin, 10);
  admin.name = "ops laptop";
  REQUIRE(s->CreateApiKey(admin).ok());
  REQUIRE(s->CreateApiKey(Key("key_b", KeyScope::kSdk, 20, 1000)).ok());
  CHECK(s->CreateApiKey(Key("key_b", KeyScope::kSdk, 30)).code() == StatusCode::kAlreadyExists);
  ApiKeyRow same_hash = Key("key_c", KeyScope::kSdk, 30);
  same_hash.hash = "hash-key_a";
  CHECK(s->CreateApiKey(same_hash).code() == StatusCode::kAlreadyExists);

  auto found = s->FindApiKey("hash-key_a");
  REQUIRE(found.ok());
  CHECK(found->id == "key_a");
  CHECK(found->name == "ops laptop");
  CHECK(found->scope == KeyScope::kAdmin);
  CHECK_FALSE(found->expires_ms);
  CHECK_FALSE(found->revoked_ms);
  CHECK(s->FindApiKey("nope").status().code() == StatusCode::kNotFound);

  auto sdk = *s->FindApiKey("hash-key_b");
  CHECK(sdk.expires_ms == 1000);
  CHECK(sdk.Active(999));
  CHECK_FALSE(sdk.Active(1000));

  auto list = s->ListApiKeys();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == "key_a");
  CHECK((*list)[1].id == "key_b");
  CHECK(*s->CountApiKeys() == 2);

  // Revocation: NotFound for an unknown id; the first time is kept; the counter rises once.
  CHECK(*s->ApiKeyRevocations() == 0);
  CHECK(s->RevokeApiKey("key_zzz", 50).status().code() == StatusCode::kNotFound);
  auto revoked = s->RevokeApiKey("key_b", 50);
  REQUIRE(revoked.ok());
  CHECK(revoked->revoked_ms == 50);
  CHECK(*s->ApiKeyRevocations() == 1);
  auto again = s->RevokeApiKey("key_b", 60);
  REQUIRE(again.ok());
  CHECK(again->revoked_ms == 50);
  CHECK(*s->ApiKeyRevocations() == 1);
  CHECK(s->FindApiKey("hash-key_b")->revoked_ms == 50);
  CHECK_FALSE(s->FindApiKey("hash-key_b")->Active(0));
}

TEST_CASE("api keys: the last active admin key cannot be revoked") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  REQUIRE(s->CreateApiKey(Key("key_a", KeyScope::kAdmin, 10)).ok());
  REQUIRE(s->CreateApiKey(Key("key_old", KeyScope::kAdmin, 10, 100)).ok());  // expires at 100
  REQUIRE(s->CreateApiKey(Key("key_b", KeyScope::kAdmin, 20)).ok());
  REQUIRE(s->RevokeApiKey("key_a", 200).ok());
  // key_old has expired: key_b is the last active admin key.
  auto last = s->RevokeApiKey("key_b", 200);
  CHECK(last.status().code() == StatusCode::kFailedPrecondition);
  CHECK(last.status().field() == "id");
  CHECK_FALSE(s->FindApiKey("hash-key_b")->revoked_ms);
  // An expired admin key is not active: revoking it is fine.
  CHECK(s->RevokeApiKey("key_old", 200).ok());
  // Before key_old expired, it counted.
  REQUIRE(s->CreateApiKey(Key("key_c", KeyScope::kAdmin, 20, 1000)).ok());
  CHECK(s->RevokeApiKey("key_b", 500).ok());
  CHECK(s->RevokeApiKey("key_c", 500).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("api keys: a revocation by another connection raises the shared counter") {
  FOR_EACH_BACKEND(backend);
  auto server = backend.Open();
  auto cli = backend.Open();
  REQUIRE(server->CreateApiKey(Key("key_a", KeyScope::kAdmin, 10)).ok());
  REQUIRE(server->CreateApiKey(Key("key_s", KeyScope::kSdk, 10)).ok());
  int64_t before = *server->ApiKeyRevocations();
  REQUIRE(cli->RevokeApiKey("key_s", 20).ok());
  CHECK(*server->ApiKeyRevocations() == before + 1);
  CHECK(server->FindApiKey("hash-key_s")->revoked_ms == 20);
}

TEST_CASE("config version: every configuration write by any connection changes it, events do not") {
  FOR_EACH_BACKEND(backend);
  auto a = backend.Open();
  auto b = backend.Open();
  int64_t last = *b->ConfigVersion();
  // Each write through `a` is seen through `b`, and failed writes change nothing.
  auto changed = [&] {
    const int64_t now = *b->ConfigVersion();
    const bool moved = now != last;
    last = now;
    return moved;
  };
  REQUIRE(a->CreateExperiment({"x", "{}", 1, 10, 10}, {"x", 1, "s1", 10}).ok());
  CHECK(changed());
  CHECK(a->CreateExperiment({"x", "{}", 1, 10, 10}, {"x", 1, "s1", 10}).code() ==
        StatusCode::kAlreadyExists);
  CHECK_FALSE(changed());
  REQUIRE(a->UpdateExperiment({"x", "{\"y\":1}", 1, 10, 20}, nullptr).ok());
  CHECK(changed());
  PhaseRow p2{"x", 2, "s2", 30};
  REQUIRE(a->UpdateExperiment({"x", "{}", 2, 10, 30}, &p2).ok());
  CHECK(changed());
  REQUIRE(a->CreateMetric({"m", "{}", 40}).ok());
  CHECK(changed());
  REQUIRE(a->CreateApiKey(Key("key_a", KeyScope::kAdmin, 10)).ok());
  CHECK(changed());
  REQUIRE(a->CreateApiKey(Key("key_s", KeyScope::kSdk, 10)).ok());
  CHECK(changed());
  REQUIRE(a->RevokeApiKey("key_s", 50).ok());
  CHECK(changed());
  REQUIRE(a->RevokeApiKey("key_s", 60).ok());  // already revoked: nothing changes
  CHECK_FALSE(changed());
  std::vector<Event> events = {Exposure("e1", "u1", "control", 70)};
  REQUIRE(a->WriteEventBatches({&events})[0].status.ok());
  CHECK_FALSE(changed());
  if (backend.name() == "sqlite") {
    // A write by hand (sqlite3, an older binary) raises it too: triggers in the file.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(backend.sqlite_path().c_str(), &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "DELETE FROM metrics WHERE key = 'm'", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
    sqlite3_close(raw);
    CHECK(changed());
  }
  // Reopening (schema statements run again) keeps the value.
  a.reset();
  a = backend.Open();
  CHECK(*a->ConfigVersion() == last);
}

TEST_CASE("api keys: a file from before key ids is migrated, once, keeping its keys") {
  TempDb db;
  std::filesystem::create_directories(std::filesystem::path(db.path()).parent_path());
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw,
                         "CREATE TABLE api_keys(hash TEXT PRIMARY KEY, prefix TEXT NOT NULL, "
                         "scope TEXT NOT NULL, created_ms INTEGER NOT NULL);"
                         "INSERT INTO api_keys VALUES('h1', 'cw_admin_1234', 'admin', 5);"
                         "INSERT INTO api_keys VALUES('h2', 'cw_sdk_5678', 'sdk', 6);",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  std::vector<ApiKeyRow> first;
  {
    std::string error;
    auto s = OpenSqliteStore(db.path(), &error);
    REQUIRE(s);
    first = *s->ListApiKeys();
  }
  REQUIRE(first.size() == 2);
  CHECK(first[0].hash == "h1");
  CHECK(first[0].scope == KeyScope::kAdmin);
  CHECK(first[0].created_ms == 5);
  CHECK(first[0].name.empty());
  CHECK_FALSE(first[0].expires_ms);
  CHECK_FALSE(first[0].revoked_ms);
  for (const auto& k : first) {
    CHECK(k.id.size() == 16);
    CHECK(k.id.rfind("key_", 0) == 0);
  }
  CHECK(first[0].id != first[1].id);
  // Opening again changes nothing: the ids are stable.
  std::string error;
  auto s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  auto second = *s->ListApiKeys();
  REQUIRE(second.size() == 2);
  CHECK(second[0].id == first[0].id);
  CHECK(second[1].id == first[1].id);
  // The migrated file behaves like a new one.
  REQUIRE(s->RevokeApiKey(first[1].id, 100).ok());
  CHECK(*s->ApiKeyRevocations() == 1);
  CHECK(s->FindApiKey("h2")->revoked_ms == 100);
}

// ---- issue 21: metric series and alert rules ----

namespace {

Event Named(std::string id, std::string name, double value, int64_t ts, std::string attrs = "") {
  Event e = Conversion(std::move(id), "u-" + std::to_string(ts % 7), value, ts);
  e.name = std::move(name);
  e.attributes = std::move(attrs);
  return e;
}

}  // namespace

TEST_CASE("event series: sums per bucket, event and segment, each id once") {
  FOR_EACH_BACKEND(backend);
  auto s = backend.Open();
  const int64_t t0 = 1'800'000'000'000;  // a multiple of 60 000
  const int64_t m = 60'000;
  std::vector<Event> events = {
      Named("a1", "click", 1.0, t0, R"({"platform":"web"})"),
      Named("a2", "click", 2.0, t0 + 59'999, R"({"platform":"ios","n":3})"),
      Named("a3", "click", 4.0, t0 + m, R"({"platform":"web"})"),
      Named("a4", "view", 1.0, t0 + m + 5, ""),
      Named("a5", "view", 1.0, t0 + 3 * m, R"({"platform":null})"),
      Named("a6", "click", 8.0, t0 + 3 * m, R"({"platform":"w\"eb"})"),
      Named("a7", "click", 16.0, t0 - 1, R"({"platform":"web"})"),      // before from
      Named("a8", "click", 32.0, t0 + 4 * m, R"({"platform":"web"})"),  // at to: excluded
      Named("a9", "other", 1.0, t0, ""),                                // not asked
  };
  Event exposure = Exposure("x1", "u1", "control", t0);
  events.push_back(exposure);
  REQUIRE(s->WriteEventBatches({&events})[0].status.ok());
  std::vector<Event> retry(events.begin(), events.begin() + 3);
  REQUIRE(s->WriteEventBatches({&retry})[0].status.ok());  // ClickHouse stores them twice

  SeriesQuery q;
  q.events = {"click", "view"};
  q.from_ms = t0;
  q.to_ms = t0 + 4 * m;
  q.step_ms = m;
  auto rows = s->EventSeries(q);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 5);
  CHECK((*rows)[0].bucket_ms == t0);
  CHECK((*rows)[0].event == "click");
  CHECK((*rows)[0].segment.empty());
  CHECK((*rows)[0].events == 2);
  CHECK((*rows)[0].sum == 3.0);
  CHECK((*rows)[0].sum_squares == 5.0);
  CHECK((*rows)[1].bucket_ms == t0 + m);
  CHECK((*rows)[1].event == "click");
  CHECK((*rows)[1].events == 1);
  CHECK((*rows)[2].event == "view");
  CHECK((*rows)[2].bucket_ms == t0 + m);
  CHECK((*rows)[3].bucket_ms == t0 + 3 * m);
  CHECK((*rows)[3].event == "click");
  CHECK((*rows)[3].sum == 8.0);
  CHECK((*rows)[4].event == "view");

  q.segment = "platform";
  auto seg = s->EventSeries(q);
  REQUIRE(seg.ok());
  std::vector<std::tuple<int64_t, std::string, std::string, int64_t>> got;
  for (const SeriesRow& r : *seg) got.emplace_back(r.bucket_ms - t0, r.event, r.segment, r.events);
  using T = std::tuple<int64_t, std::string, std::string, int64_t>;
  CHECK(got == std::vector<T>{T{0, "click", "ios", 1}, T{0, "click", "web", 1},
                              T{m, "click", "web", 1}, T{m, "view", "(none)", 1},
                              T{3 * m, "click", "w\"eb", 1}, T{3 * m, "view", "(none)", 1}});
  q.segment = "n";  // a number, as written
  seg = s->EventSeries(q);
  REQUIRE(seg.ok());
  CHECK((*seg)[0].segment == "(none)");
  CHECK((*seg)[1].segment == "3");

  // The same sums from the events when the range is not whole minutes (SQLite reads
  // its rollup for whole minutes, the events otherwise).
  SeriesQuery odd = q;
  odd.segment.clear();
  odd.to_ms = q.to_ms - 1;
  auto from_events = s->EventSeries(odd);
  REQUIRE(from_events.ok());
  REQUIRE(from_events->size() == rows->size());
  for (size_t i = 0; i < rows->size(); ++i) {
    CHECK((*from_events)[i].events == (*rows)[i].events);
    CHECK((*from_events)[i].sum == (*rows)[i].sum);
  }

  q.segment = "bad name'";
  CHECK(s->EventSeries(q).status().code() == StatusCode::kInvalidArgument);
  CHECK(s->EventSeries(q).status().field() == "segment");
}

TEST_CASE("event series: SQLite's rollup and (name, ts) index, added to old files") {
  TempDb db;
  std::string error;
  {
    auto s = OpenSqliteStore(db.path(), &error);
    REQUIRE(s);
    std::vector<Event> events = {Named("o1", "click", 2.0, 120'000),
                                 Named("o2", "click", 3.0, 150'000),
                                 Named("o3", "view", 1.0, 60'000)};
    REQUIRE(s->WriteEventBatches({&events})[0].status.ok());
  }
  // A file from before the rollup, the index and the alert rules table, with the
  // per-insert trigger an unreleased build kept the rollup with (dropped at open, or
  // the writes below would count twice).
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw,
                       "DROP INDEX events_conversion_time; DROP TABLE alert_rules; "
                       "DROP TABLE event_minutes; CREATE TRIGGER event_minutes_insert AFTER "
                       "INSERT ON events WHEN NEW.type = 1 BEGIN INSERT INTO event_minutes "
                       "VALUES(NEW.name, NEW.ts - NEW.ts % 60000, 1, NEW.value, 0) ON "
                       "CONFLICT DO UPDATE SET events = events + 1; END;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  auto s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  // The rollup is filled from the events already there, once (reopening adds nothing),
  // and kept by the event writer from then on.
  s.reset();
  s = OpenSqliteStore(db.path(), &error);
  REQUIRE(s);
  std::vector<Event> later = {Named("o4", "click", 4.0, 170'000),
                              Named("o1", "click", 2.0, 120'000)};
  REQUIRE(s->WriteEventBatches({&later})[0].status.ok());  // o1 again: a duplicate
  SeriesQuery all;
  all.events = {"click", "view"};
  all.from_ms = 0;
  all.to_ms = 600'000;
  all.step_ms = 600'000;
  auto rows = s->EventSeries(all);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].events == 3);
  CHECK((*rows)[0].sum == 9.0);
  CHECK((*rows)[0].sum_squares == 29.0);
  CHECK((*rows)[1].events == 1);
  REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw,
                             "EXPLAIN QUERY PLAN SELECT count(*), total(value) FROM events "
                             "INDEXED BY events_conversion_time WHERE type = 1 AND name = 'x' "
                             "AND ts >= 0 AND ts < 10",
                             -1, &q, nullptr) == SQLITE_OK);
  std::string plan;
  while (sqlite3_step(q) == SQLITE_ROW)
    plan += reinterpret_cast<const char*>(sqlite3_column_text(q, 3));
  sqlite3_finalize(q);
  sqlite3_close(raw);
  INFO(plan);
  CHECK(plan.find("COVERING INDEX events_conversion_time (name=? AND ts>? AND ts<?)") !=
        std::string::npos);
  CHECK(s->CreateAlertRule({"r", "{}", 1, 1}).ok());
}

TEST_CASE("alert rules: create, duplicate, get, list, update, delete; the config version moves") {
  FOR_EACH_BACKEND(backend);
  auto a = backend.Open();
  auto b = backend.Open();
  int64_t last = *b->ConfigVersion();
  auto changed = [&] {
    const int64_t now = *b->ConfigVersion();
    const bool moved = now != last;
    last = now;
    return moved;
  };
  REQUIRE(a->CreateAlertRule({"r2", "{\"v\":1}", 10, 10}).ok());
  CHECK(changed());
  REQUIRE(a->CreateAlertRule({"r1", "{}", 11, 11}).ok());
  CHECK(changed());
  const Status dup = a->CreateAlertRule({"r1", "{}", 12, 12});
  CHECK(dup.code() == StatusCode::kAlreadyExists);
  CHECK(dup.field() == "key");
  CHECK_FALSE(changed());
  auto list = b->ListAlertRules();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].key == "r1");
  CHECK((*list)[1].config == "{\"v\":1}");
  REQUIRE(a->UpdateAlertRule({"r2", "{\"v\":2}", 99, 20}).ok());
  CHECK(changed());
  auto r2 = b->GetAlertRule("r2");
  REQUIRE(r2.ok());
  CHECK(r2->config == "{\"v\":2}");
  CHECK(r2->created_ms == 10);  // kept
  CHECK(r2->updated_ms == 20);
  CHECK(a->UpdateAlertRule({"nope", "{}", 1, 1}).code() == StatusCode::kNotFound);
  CHECK(a->GetAlertRule("nope").status().code() == StatusCode::kNotFound);
  REQUIRE(a->DeleteAlertRule("r2").ok());
  CHECK(changed());
  CHECK(a->DeleteAlertRule("r2").code() == StatusCode::kNotFound);
  CHECK(b->GetAlertRule("r2").status().code() == StatusCode::kNotFound);
  REQUIRE(b->ListAlertRules()->size() == 1);
  // A deleted key can be created again.
  REQUIRE(a->CreateAlertRule({"r2", "{\"v\":3}", 30, 30}).ok());
  CHECK(b->GetAlertRule("r2")->config == "{\"v\":3}");
}

// ---- Alerts, webhooks and the outbox (issue 21 part 5) ----

namespace {

WebhookRow Hook(std::string id, std::vector<std::string> kinds, int64_t created_ms) {
  return WebhookRow{std::move(id),    "https://hooks.example/" + std::to_string(created_ms),
                    std::move(kinds), "standard",
                    "whsec_c2VjcmV0", "a\twebhook\nwith 'quotes'",
                    created_ms};
}

AlertRow Alert(std::string id, std::string kind, int64_t at_ms) {
  AlertRow a;
  a.id = std::move(id);
  a.kind = std::move(kind);
  a.subject_kind = "experiment";
  a.subject = "checkout";
  a.monitor = a.kind;
  a.state = "firing";
  a.at_ms = at_ms;
  a.created_ms = at_ms + 5;
  a.payload = R"({"e_value":25.5,"note":"tab\there"})";
  return a;
}

std::vector<std::string> WebhooksOf(const std::vector<DeliveryRow>& rows) {
  std::vector<std::string> out;
  for (const DeliveryRow& d : rows) out.push_back(d.webhook_id);
  return out;
}

}  // namespace

TEST_CASE("outbox: states, alerts once by id, and a delivery per matching webhook") {
  FOR_EACH_BACKEND(backend);
  auto store = backend.Open();
  REQUIRE(store->CreateWebhook(Hook("wh_all", {}, 1)).ok());
  REQUIRE(store->CreateWebhook(Hook("wh_srm", {"srm", "guardrail"}, 2)).ok());
  REQUIRE(store->CreateWebhook(Hook("wh_rule", {"rule"}, 3)).ok());
  CHECK(store->CreateWebhook(Hook("wh_all", {}, 4)).code() == StatusCode::kAlreadyExists);
  auto hooks = *store->ListWebhooks();
  REQUIRE(hooks.size() == 3);
  CHECK(hooks[1].id == "wh_srm");
  CHECK(hooks[1].kinds == std::vector<std::string>{"srm", "guardrail"});
  CHECK(hooks[0].kinds.empty());
  CHECK(hooks[0].description == "a\twebhook\nwith 'quotes'");
  CHECK(hooks[0].secret == "whsec_c2VjcmV0");

  MonitorStateRow state{"experiment:checkout", "srm", "firing", 1000, 1000, R"({"p":0.001})"};
  REQUIRE(store->CommitMonitorChanges({state}, {Alert("alt_1", "srm", 1000)}).ok());
  CHECK(WebhooksOf(*store->ListDeliveries("alt_1")) ==
        std::vector<std::string>{"wh_all", "wh_srm"});
  const DeliveryRow d = store->ListDeliveries("alt_1")->front();
  CHECK(d.status == "pending");
  CHECK(d.attempts == 0);
  CHECK(d.next_attempt_ms == 1005);  // due at once: the alert's created_ms

  // The same alert again (a replayed evaluation): stored once, no new deliveries;
  // the state is replaced.
  state.evaluated_ms = 2000;
  AlertRow again = Alert("alt_1", "srm", 1000);
  again.payload = "{}";
  REQUIRE(store->CommitMonitorChanges({state}, {again, Alert("alt_2", "rule", 1500)}).ok());
  CHECK(store->ListDeliveries("alt_1")->size() == 2);
  CHECK(store->GetAlert("alt_1")->payload == R"({"e_value":25.5,"note":"tab\there"})");
  CHECK(WebhooksOf(*store->ListDeliveries("alt_2")) ==
        std::vector<std::string>{"wh_all", "wh_rule"});
  auto states = *store->ListMonitorStates("experiment:");
  REQUIRE(states.size() == 1);
  CHECK(states[0].evaluated_ms == 2000);
  CHECK(states[0].detail == R"({"p":0.001})");
  CHECK(store->ListMonitorStates("rule:")->empty());
  CHECK(store->ListMonitorStates("")->size() == 1);

  // A targeted (test) alert goes to its webhook only, whatever its kinds.
  AlertRow test = Alert("alt_test", "test", 1700);
  test.target_webhook = "wh_rule";
  REQUIRE(store->CommitMonitorChanges({}, {test}).ok());
  CHECK(WebhooksOf(*store->ListDeliveries("alt_test")) == std::vector<std::string>{"wh_rule"});

  auto alerts = *store->ListAlerts(0, 10);
  REQUIRE(alerts.size() == 3);
  CHECK(alerts[0].id == "alt_1");
  CHECK(alerts[2].id == "alt_test");
  CHECK(alerts[1].subject_kind == "experiment");
  CHECK(store->ListAlerts(1500, 10)->size() == 2);
  CHECK(store->ListAlerts(0, 1)->size() == 1);
  CHECK(store->GetAlert("alt_nope").status().code() == StatusCode::kNotFound);

  // Due deliveries, soonest first; an attempt reschedules one, a success ends it.
  auto due = *store->DueDeliveries(1600, 100);
  REQUIRE(due.size() == 4);
  CHECK(due[0].alert_id == "alt_1");
  CHECK(store->DueDeliveries(1600, 2)->size() == 2);
  CHECK(store->DueDeliveries(1000, 100)->empty());
  DeliveryRow retry = due[0];
  retry.attempts = 1;
  retry.last_attempt_ms = 1600;
  retry.next_attempt_ms = 9000;
  retry.last_http_status = 503;
  retry.last_error = "HTTP 503";
  REQUIRE(store->RecordDeliveryAttempt(retry).ok());
  DeliveryRow done = due[1];
  done.status = "delivered";
  done.attempts = 1;
  done.delivered_ms = 1601;
  done.last_http_status = 204;
  REQUIRE(store->RecordDeliveryAttempt(done).ok());
  CHECK(store->DueDeliveries(1600, 100)->size() == 2);
  auto later = *store->DueDeliveries(9000, 100);
  REQUIRE(later.size() == 4);
  CHECK(later.back().alert_id == "alt_1");
  CHECK(later.back().last_error == "HTTP 503");
  CHECK(later.back().attempts == 1);

  // Deleting a webhook drops its pending deliveries and keeps the delivered ones.
  REQUIRE(store->DeleteWebhook(done.webhook_id).ok());
  CHECK(store->DeleteWebhook(done.webhook_id).code() == StatusCode::kNotFound);
  REQUIRE(store->DeleteWebhook("wh_rule").ok());
  CHECK(store->ListWebhooks()->size() == 1);
  CHECK(store->ListDeliveries("alt_test")->empty());
  CHECK(store->ListDeliveries("alt_2")->size() == 1);
  auto kept = *store->ListDeliveries(done.alert_id);
  CHECK(std::count_if(kept.begin(), kept.end(),
                      [](const DeliveryRow& r) { return r.status == "delivered"; }) == 1);
  // An attempt recorded for a dropped delivery does not bring it back.
  DeliveryRow dropped = store->DueDeliveries(9000, 100)->front();
  REQUIRE(store->DeleteWebhook(dropped.webhook_id).ok());
  REQUIRE(store->RecordDeliveryAttempt(dropped).ok());
  CHECK(store->DueDeliveries(9000, 100)->empty());

  // Another process sees it all.
  auto other = backend.Open();
  CHECK(other->ListAlerts(0, 10)->size() == 3);
  CHECK(other->ListMonitorStates("")->size() == 1);
}

TEST_CASE("outbox: a state change and its alerts commit together or not at all (SQLite)") {
  TempDb db;
  std::string error;
  auto store = OpenSqliteStore(db.path(), &error);
  REQUIRE(store);
  REQUIRE(store->CreateWebhook(Hook("wh_all", {}, 1)).ok());
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw,
                         "CREATE TRIGGER refuse AFTER INSERT ON deliveries "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  MonitorStateRow state{"experiment:checkout", "srm", "firing", 1000, 1000, "{}"};
  Status s = store->CommitMonitorChanges({state}, {Alert("alt_1", "srm", 1000)});
  CHECK(s.code() == StatusCode::kInternal);
  CHECK(store->ListMonitorStates("")->empty());
  CHECK(store->ListAlerts(0, 10)->empty());
}

TEST_CASE("outbox: a database from before the outbox gains its tables on open (SQLite)") {
  TempDb db;
  std::filesystem::create_directories(std::filesystem::path(db.path()).parent_path());
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw,
                         "CREATE TABLE metrics(key TEXT PRIMARY KEY, config TEXT NOT NULL, "
                         "created_ms INTEGER NOT NULL);"
                         "INSERT INTO metrics VALUES('m', '{}', 5);",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  std::string error;
  auto store = OpenSqliteStore(db.path(), &error);
  REQUIRE(store);
  CHECK(store->ListMetrics()->size() == 1);
  REQUIRE(store->CreateWebhook(Hook("wh_all", {}, 1)).ok());
  REQUIRE(store->CommitMonitorChanges({}, {Alert("alt_1", "srm", 1000)}).ok());
  CHECK(store->DueDeliveries(2000, 10)->size() == 1);
}
