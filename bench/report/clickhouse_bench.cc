// The experiment report on ClickHouse against SQLite, on the same events, in one
// run (issue 12).
//
//   bench_clickhouse EVENTS [--dir DIR] [--clickhouse-url http://127.0.0.1:8123]
//                    [--database D] [--skip-sqlite]
//
// Builds (once per size; reused when present) one experiment with EVENTS/10
// exposed users and about 10 events per user: exposures (10 % of users exposed
// twice), pageviews, sessions and purchases after exposure and in a 14-day
// pre-period (for CUPED). The same events go into a SQLite file in DIR and into
// the ClickHouse database D_<EVENTS> (ingestion timed: INSERTs of 100 000 events
// over HTTP, as group commits send them). Then the full report (4 metrics incl.
// a ratio, CUPED, daily series; the GET /v1/experiments/{key}/report handler) on
// each backend, best of 3, and their ratio, plus the sizes on disk.
//
// Then floors: the least any warehouse-native report must ask of ClickHouse,
// timed on the same events (best of 3): a scan of every event, the first
// exposure of every user, and one GROUP BY uid of every event (first exposure
// and three per-user sums, no windows, no daily series, no CUPED). Every
// variance needs per-user values, so no report SQL can be faster than the
// last.
//
// Without --clickhouse-url it starts its own clickhouse-server (the tests'
// harness) with its data under DIR.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "api/codec/config_codec.h"
#include "api/resources/experiments.h"
#include "api/resources/report.h"
#include "assign/engine.h"
#include "clickhouse_server.h"
#include "store/clickhouse_client.h"
#include "store/clickhouse_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

using causeway::api::Json;
namespace store = causeway::store;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'790'000'000'000;  // 2026-09-21

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "bench_clickhouse: %s\n", what.c_str());
    std::exit(1);
  }
}

// The experiment and metrics, through the application layer (as the API does).
void Configure(store::Store* db) {
  causeway::assign::SnapshotHolder snapshots;
  causeway::api::ExperimentService service(db, &snapshots);
  std::string error;
  Check(service.Load(&error), error);
  for (
      const char* m :
      {R"({"key":"purchase","type":"binomial","event":"purchase"})",
       R"({"key":"revenue","type":"mean","event":"purchase"})",
       R"({"key":"pageviews","type":"count","event":"pageview"})",
       R"({"key":"revenue_per_session","type":"ratio","event":"purchase","denominator_event":"session"})"}) {
    causeway::app::MetricDefinition def;
    Check(causeway::api::DecodeMetric(Json::parse(m), &def).ok(), std::string("metric: ") + m);
    Check(service.metrics().Create(def, kStart).ok(), std::string("metric: ") + m);
  }
  Check(
      service
          .Create(Json::parse(
              R"({"key":"big","variants":[{"key":"control"},{"key":"treatment"}],"status":"running"})"))
          .ok(),
      "experiment");
}

// Calls sink(batch) with batches of 100 000 events, about `events` in all.
template <typename Sink>
int64_t Generate(int64_t events, Sink sink) {
  const int64_t users = std::max<int64_t>(1, events / 10);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unif(0, 1);
  std::vector<store::Event> batch;
  int64_t next_id = 0, written = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    sink(batch);
    written += static_cast<int64_t>(batch.size());
    batch.clear();
  };
  auto add = [&](store::EventType type, const std::string& uid, const char* name, double value,
                 int64_t ts, const char* variant, std::string attrs) {
    store::Event e;
    e.type = type;
    char id[32];
    std::snprintf(id, sizeof id, "e%011lld", static_cast<long long>(next_id++));
    e.id = id;
    e.user = uid;
    if (type == store::EventType::kExposure) {
      e.experiment = "big";
      e.variant = variant;
      e.attributes = std::move(attrs);
    } else {
      e.name = name;
    }
    e.value = value;
    e.ts_ms = ts;
    batch.push_back(std::move(e));
    if (batch.size() == 100'000) flush();
  };
  static const char* kCountries[] = {"US", "US", "US", "GB", "DE", "FR", "IN", "BR", "CA", "JP"};
  static const char* kPlatforms[] = {"ios", "android", "web"};
  for (int64_t i = 0; i < users; ++i) {
    char uid[24];
    std::snprintf(uid, sizeof uid, "u%09lld", static_cast<long long>(i));
    const bool treated = rng() % 2 == 1;
    const int64_t t0 = kStart + static_cast<int64_t>(unif(rng) * 14 * kDay);
    const double propensity = 0.5 + unif(rng);
    std::string attrs = std::string(R"({"country":")") + kCountries[rng() % 10] +
                        R"(","platform":")" + kPlatforms[rng() % 3] + "\"}";
    const char* variant = treated ? "treatment" : "control";
    add(store::EventType::kExposure, uid, nullptr, 1, t0, variant, attrs);
    if (unif(rng) < 0.1) add(store::EventType::kExposure, uid, nullptr, 1, t0 + kDay, variant, "");
    const double lift = treated ? 1.05 : 1.0;
    auto events_of = [&](const char* name, double rate, bool pre) {
      std::poisson_distribution<int> k(rate * propensity * (pre ? 1.0 : lift));
      const int n = k(rng);
      for (int j = 0; j < n; ++j) {
        const int64_t ts = pre ? t0 - 1 - static_cast<int64_t>(unif(rng) * 14 * kDay)
                               : t0 + static_cast<int64_t>(unif(rng) * 7 * kDay);
        const double value = name[0] == 'p' && name[1] == 'u' ? 5 + 40 * unif(rng) : 1.0;
        add(store::EventType::kConversion, uid, name, value, ts, "", "");
      }
    };
    // About 8.9 conversions per user in all.
    events_of("pageview", 3.3, false);
    events_of("pageview", 1.8, true);
    events_of("session", 1.5, false);
    events_of("session", 0.9, true);
    events_of("purchase", 0.9, false);
    events_of("purchase", 0.6, true);
  }
  flush();
  return written;
}

struct Run {
  double seconds = 1e300;
  double cpu_seconds = 0;  // of Causeway's process only (ClickHouse's work is elsewhere)
  long max_rss_kb = 0;
};

// The report on `open()`'s store in a child process, best of `repeats`.
template <typename Open>
Run Report(Open open, int repeats) {
  Run best;
  for (int r = 0; r < repeats; ++r) {
    int fds[2];
    Check(pipe(fds) == 0, "pipe");
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      std::unique_ptr<store::Store> db = open();
      causeway::assign::SnapshotHolder snapshots;
      causeway::api::ExperimentService service(db.get(), &snapshots);
      std::string error;
      if (!service.Load(&error)) _exit(2);
      const auto t0 = std::chrono::steady_clock::now();
      auto result = causeway::api::ExperimentReport(*db, service, "big", {});
      const double s = Seconds(t0);
      if (!result.ok()) {
        std::fprintf(stderr, "report failed: %s\n", result.error().message().c_str());
        _exit(1);
      }
      Check(write(fds[1], &s, sizeof s) == sizeof s, "write");
      _exit(result.body().dump().size() > 100 ? 0 : 1);
    }
    close(fds[1]);
    double s = 0;
    Check(read(fds[0], &s, sizeof s) == sizeof s, "the report's process failed");
    close(fds[0]);
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    Check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the report's process failed");
    if (s < best.seconds) {
      best.seconds = s;
      best.max_rss_kb = usage.ru_maxrss;
      best.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    }
  }
  return best;
}

uint64_t DirectoryBytes(const std::filesystem::path& p) {
  uint64_t total = 0;
  std::error_code ec;
  if (std::filesystem::is_regular_file(p, ec)) return std::filesystem::file_size(p, ec);
  for (const auto& e : std::filesystem::recursive_directory_iterator(p, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 1'000'000;
  std::string dir = "/tmp", url, database = "bench";
  bool skip_sqlite = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--clickhouse-url" && i + 1 < argc) {
      url = argv[++i];
    } else if (a == "--database" && i + 1 < argc) {
      database = argv[++i];
    } else if (a == "--skip-sqlite") {
      skip_sqlite = true;
    } else {
      events = std::stoll(a);
    }
  }
  database += "_" + std::to_string(events);

  std::unique_ptr<causeway::testing::TestClickHouse> own_server;
  store::ch::Endpoint endpoint;
  if (url.empty()) {
    own_server = std::make_unique<causeway::testing::TestClickHouse>("/usr/sbin/clickhouse-server");
    endpoint = own_server->endpoint(database);
  } else {
    const auto colon = url.rfind(':');
    Check(url.rfind("http://", 0) == 0 && colon > 6, "--clickhouse-url http://host:port");
    endpoint.host = url.substr(7, colon - 7);
    endpoint.port = std::stoi(url.substr(colon + 1));
    endpoint.database = database;
  }
  auto open_clickhouse = [&] {
    std::string error;
    store::ClickHouseOptions options;
    options.endpoint = endpoint;
    auto db = store::OpenClickHouseStore(options, &error);
    Check(db != nullptr, error);
    return db;
  };
  const std::string sqlite_path = dir + "/causeway_bench_ch_" + std::to_string(events) + ".db";
  auto open_sqlite = [&] {
    std::string error;
    auto db = store::OpenSqliteStore(sqlite_path, &error);
    Check(db != nullptr, error);
    return db;
  };

  // ClickHouse: build (timing ingestion) unless the events are there.
  {
    auto db = open_clickhouse();
    auto count = db->CountEvents();
    Check(count.ok(), count.status().message());
    if (*count == 0) {
      Configure(db.get());
      double insert_seconds = 0;
      const auto t0 = std::chrono::steady_clock::now();
      const int64_t n = Generate(events, [&](const std::vector<store::Event>& batch) {
        const auto t = std::chrono::steady_clock::now();
        auto r = db->WriteEventBatches({&batch});
        insert_seconds += Seconds(t);
        Check(r[0].status.ok(), r[0].status.message());
      });
      std::printf("clickhouse: %lld events written in %.1f s; INSERTs %.1f s: %.0f events/s\n",
                  static_cast<long long>(n), Seconds(t0), insert_seconds,
                  static_cast<double>(n) / insert_seconds);
    }
  }
  if (!skip_sqlite && !std::filesystem::exists(sqlite_path)) {
    auto db = open_sqlite();
    Configure(db.get());
    double insert_seconds = 0;
    const int64_t n = Generate(events, [&](const std::vector<store::Event>& batch) {
      const auto t = std::chrono::steady_clock::now();
      auto r = db->WriteEventBatches({&batch});
      insert_seconds += Seconds(t);
      Check(r[0].status.ok(), r[0].status.message());
    });
    std::printf("sqlite: %lld events written; transactions %.1f s: %.0f events/s\n",
                static_cast<long long>(n), insert_seconds, static_cast<double>(n) / insert_seconds);
  }

  store::ch::Client client(endpoint);
  client.Query("OPTIMIZE TABLE events FINAL");  // as a long-running server's merges would
  auto bytes = client.Rows(
      "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE active AND database = " +
      store::ch::Quote(endpoint.database) + " AND table = 'events'");
  Check(bytes.ok() && bytes->size() == 1, "system.parts");

  const Run ch = Report(open_clickhouse, 3);
  std::printf("events %lld (users %lld)\n", static_cast<long long>(events),
              static_cast<long long>(events / 10));
  std::printf("%-36s wall %7.2f s  causeway cpu %6.2f s  peak RSS %5.0f MB  disk %6.0f MB\n",
              "report on ClickHouse", ch.seconds, ch.cpu_seconds,
              static_cast<double>(ch.max_rss_kb) / 1024.0, std::stod((*bytes)[0][0]) / 1048576.0);
  if (!skip_sqlite) {
    const Run sq = Report(open_sqlite, events >= 50'000'000 ? 1 : 3);
    std::printf("%-36s wall %7.2f s  causeway cpu %6.2f s  peak RSS %5.0f MB  disk %6.0f MB\n",
                "report on SQLite (reference)", sq.seconds, sq.cpu_seconds,
                static_cast<double>(sq.max_rss_kb) / 1024.0,
                static_cast<double>(DirectoryBytes(sqlite_path)) / 1048576.0);
    std::printf("ratio SQLite / ClickHouse: %.1fx\n", sq.seconds / ch.seconds);
  }

  const std::pair<const char*, const char*> floors[] = {
      {"floor: scan every event", "SELECT count(), sum(value), sum(ts) FROM events"},
      {"floor: first exposure per user",
       "SELECT count(), sum(t0) FROM (SELECT uid, min(ts) AS t0 FROM events WHERE type = 0 AND "
       "key = 'big' GROUP BY uid)"},
      {"floor: GROUP BY uid, every event",
       "SELECT count(), sum(y1), sum(y2), sum(y3) FROM (SELECT uid, minIf(ts, type = 0) AS t0, "
       "sumIf(value, type = 1 AND key = 'purchase') AS y1, countIf(type = 1 AND key = "
       "'pageview') AS y2, countIf(type = 1 AND key = 'session') AS y3 FROM events WHERE (type "
       "= 0 AND key = 'big') OR type = 1 GROUP BY uid)"},
  };
  for (const auto& [name, sql] : floors) {
    double best = 1e300;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto rows = client.Rows(sql);
      Check(rows.ok() && rows->size() == 1, std::string(name) + ": " + rows.status().message());
      best = std::min(best, Seconds(t0));
    }
    std::printf("%-36s wall %7.2f s  (report / floor: %.1fx)\n", name, best, ch.seconds / best);
  }
  return 0;
}
