// Several instances on one store: ConfigRefresher follows configuration written
// by another process (here: another Store on the same SQLite file, as a second
// `causeway serve` opens it), keeps the last configuration when the store fails,
// and never undoes a write made through its own services.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "app/config_refresher.h"
#include "app/services.h"
#include "fake_codec.h"
#include "store/sqlite_store.h"

namespace causeway::app {
namespace {

// One instance: its own Store connection, services, snapshot and refresher.
struct Instance {
  std::unique_ptr<store::Store> store;
  assign::SnapshotHolder snapshots;
  std::unique_ptr<ExperimentService> experiments;
  std::unique_ptr<MetricService> metrics;
  std::unique_ptr<ConfigRefresher> refresher;

  Instance(const std::string& path, const ConfigCodec* codec) {
    std::string error;
    store = store::OpenSqliteStore(path, &error);
    REQUIRE(store);
    experiments = std::make_unique<ExperimentService>(store.get(), &snapshots, codec);
    metrics = std::make_unique<MetricService>(store.get(), codec);
    experiments->SetMetricCatalog(metrics.get());
    refresher = std::make_unique<ConfigRefresher>(store.get(), metrics.get(), experiments.get());
    REQUIRE(refresher->Load().ok());
  }
};

struct TwoInstances {
  std::filesystem::path dir;
  FakeCodec codec;  // shared: both "processes" read the same stored configuration
  std::unique_ptr<Instance> a, b;
  TwoInstances() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-app-refresh-" + std::to_string(std::random_device()()));
    a = std::make_unique<Instance>(path(), &codec);
    b = std::make_unique<Instance>(path(), &codec);
  }
  ~TwoInstances() {
    a.reset();
    b.reset();
    std::filesystem::remove_all(dir);
  }
  std::string path() const { return (dir / "test.db").string(); }
  // Runs SQL on the file behind both instances' backs.
  void Sql(const char* sql) const {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path().c_str(), &raw) == SQLITE_OK);
    const int rc = sqlite3_exec(raw, sql, nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    REQUIRE(rc == SQLITE_OK);
  }
};

Experiment Config(const std::string& key) {
  Experiment x;
  x.key = key;
  x.variants = {{"control", 0.5, {}, {}}, {"treatment", 0.5, {}, {}}};
  x.status = assign::ExperimentStatus::kRunning;
  return x;
}

MetricDefinition Metric(const std::string& key) {
  MetricDefinition m;
  m.key = key;
  m.event = "purchase";
  return m;
}

// The seed instance `i` assigns `key` with; "" when it does not know `key`.
std::string ServedSeed(const Instance& i, const std::string& key) {
  const assign::CompiledExperiment* x = i.snapshots.Current().Find(key);
  return x ? x->spec.seed : "";
}

}  // namespace

TEST_CASE("ConfigRefresher: another instance's experiments, phases and metrics are followed",
          "[app]") {
  TwoInstances t;
  CHECK(*t.b->refresher->Poll() == false);  // nothing changed since the load

  REQUIRE(t.a->metrics->Create(Metric("purchases"), 1000).ok());
  Experiment x = Config("checkout");
  x.goal_metrics = {"purchases"};
  auto created = t.a->experiments->Create(x, 1000);
  REQUIRE(created.ok());
  CHECK(ServedSeed(*t.b, "checkout").empty());
  CHECK(t.b->metrics->Get("purchases").status().code() == StatusCode::kNotFound);

  CHECK(*t.b->refresher->Poll() == true);
  CHECK(ServedSeed(*t.b, "checkout") == *created->seed);
  CHECK(t.b->experiments->Get("checkout")->phase == 1);
  CHECK(t.b->metrics->Get("purchases").ok());
  CHECK(*t.b->refresher->Poll() == false);

  ExperimentPatch patch;
  patch.new_phase = true;
  auto patched = t.a->experiments->Patch("checkout", patch, 2000);
  REQUIRE(patched.ok());
  REQUIRE(*patched->seed != *created->seed);
  CHECK(*t.b->refresher->Poll() == true);
  auto followed = t.b->experiments->Get("checkout");
  REQUIRE(followed.ok());
  CHECK(followed->phase == 2);
  CHECK(followed->phases.size() == 2);
  CHECK(followed->SinceMs() == 2000);
  CHECK(ServedSeed(*t.b, "checkout") == *patched->seed);

  // A patch through B applies to the stored experiment, not to B's copy: a
  // change A made that B has not loaded yet is kept, not undone.
  ExperimentPatch describe;
  describe.description = "written through A";
  REQUIRE(t.a->experiments->Patch("checkout", describe, 2500).ok());
  ExperimentPatch stop;
  stop.status = assign::ExperimentStatus::kStopped;
  auto stopped = t.b->experiments->Patch("checkout", stop, 3000);
  REQUIRE(stopped.ok());
  CHECK(stopped->description == "written through A");
  CHECK(stopped->phase == 2);
  CHECK(t.b->experiments->Get("checkout")->description == "written through A");
  // ... and B's write reaches A the same way.
  CHECK(*t.a->refresher->Poll() == true);
  CHECK(t.a->experiments->Get("checkout")->status == assign::ExperimentStatus::kStopped);
  CHECK(t.a->experiments->Get("checkout")->description == "written through A");
  // A patch through B of an experiment B has not loaded yet.
  REQUIRE(t.a->experiments->Create(Config("fresh"), 4000).ok());
  CHECK(t.b->experiments->Patch("fresh", describe, 4100).ok());
}

TEST_CASE("ConfigRefresher: while the store fails, the last configuration is served", "[app]") {
  TwoInstances t;
  auto created = t.a->experiments->Create(Config("checkout"), 1000);
  REQUIRE(created.ok());
  REQUIRE(*t.b->refresher->Poll());
  const uint64_t served_version = t.b->snapshots.Current().version();

  // A changed version whose rows cannot be used (a configuration this binary
  // cannot decode): the reload fails half-way (metrics read, experiments not)
  // and changes nothing B serves.
  REQUIRE(t.a->metrics->Create(Metric("purchases"), 2000).ok());
  t.Sql("INSERT INTO experiments VALUES('broken', 'x:unknown', 1, 0, 0)");
  auto failed = t.b->refresher->Poll();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kInternal);
  CHECK(t.b->snapshots.Current().version() == served_version);
  CHECK(ServedSeed(*t.b, "checkout") == *created->seed);
  CHECK(t.b->experiments->Get("checkout").ok());
  CHECK_FALSE(t.b->refresher->loaded_version());  // so the next poll loads again

  // The version itself unreadable (the store unreachable).
  t.Sql("DELETE FROM experiments WHERE key = 'broken'; DROP TABLE counters");
  CHECK_FALSE(t.b->refresher->Poll().ok());
  CHECK(ServedSeed(*t.b, "checkout") == *created->seed);
  CHECK(t.b->experiments->List().size() == 1);

  // Readable again: the next poll loads.
  t.Sql(
      "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
      "INSERT INTO counters VALUES('config_version', 100)");
  CHECK(*t.b->refresher->Poll() == true);
  CHECK(*t.b->refresher->loaded_version() == 100);
  CHECK(t.b->metrics->Get("purchases").ok());
  CHECK(ServedSeed(*t.b, "checkout") == *created->seed);
  CHECK(t.b->experiments->List().size() == 1);
}

// A reload that read the store before a write through the same services and
// swapped its result in after it would make the write vanish until the next
// change; ExperimentService serialises writes and loads (write_mu_), so it never
// does. Polled in a tight loop while the same instance creates and patches.
TEST_CASE("ConfigRefresher: a reload never undoes a write made through the same instance",
          "[app]") {
  TwoInstances t;
  std::atomic<bool> stop{false};
  std::atomic<int> reloads{0};
  std::thread poller([&] {
    while (!stop.load()) {
      auto r = t.b->refresher->Poll();
      if (r.ok() && *r) ++reloads;
    }
  });
  int vanished = 0;
  constexpr int kWrites = 150;
  for (int i = 0; i < kWrites; ++i) {
    const std::string key = "x" + std::to_string(i);
    REQUIRE(t.b->metrics->Create(Metric("m" + std::to_string(i)), 1000 + i).ok());
    REQUIRE(t.b->experiments->Create(Config(key), 1000 + i).ok());
    // Read right after each write, and again a little later, while reloads run.
    for (int look = 0; look < 2; ++look) {
      if (!t.b->experiments->Get(key).ok() || ServedSeed(*t.b, key).empty()) ++vanished;
      if (!t.b->metrics->Get("m" + std::to_string(i)).ok()) ++vanished;
      std::this_thread::yield();
    }
  }
  stop = true;
  poller.join();
  INFO("reloads during the writes: " << reloads.load());
  CHECK(reloads.load() > 0);
  CHECK(vanished == 0);
  CHECK(t.b->experiments->List().size() == kWrites);
  CHECK(t.b->metrics->List().size() == kWrites);
}

}  // namespace causeway::app
