// Event ingestion throughput: durable HTTP ingestion vs raw SQLite inserts.
//
//   bench_events [--events N] [--clients C]
//
// For batches of 100 and of 1000 events, C client threads POST pre-serialised
// batches to an in-process server (keep-alive) until N events are acknowledged;
// each 200 means the batch is committed with synchronous=FULL. The reference is
// the same rows inserted by one thread straight into SQLite with the same schema,
// the same pragmas (WAL, synchronous=FULL) and a prepared statement, committing
// every 10 000 rows: close to the best a single SQLite writer can do durably.
#include <httplib.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http/server.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kTs = 1763900000000;

std::string EventId(int client, int64_t i) {
  return "bench-" + std::to_string(client) + "-" + std::to_string(i) +
         "-0123456789abcdef";  // realistic id length (~36 bytes, like a UUID)
}

std::string Body(int client, int64_t first, int n) {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < n; ++k) {
    int64_t i = first + k;
    events.push_back({{"type", "conversion"},
                      {"id", EventId(client, i)},
                      {"user", "user-" + std::to_string(i % 100000)},
                      {"event", "purchase"},
                      {"value", 19.99},
                      {"ts", kTs + i}});
  }
  return nlohmann::json{{"events", events}}.dump();
}

double RawSqlite(const std::string& path, int64_t total) {
  {
    std::string error;
    auto store = causeway::store::OpenSqliteStore(path, &error);  // creates the schema
    if (!store) {
      std::fprintf(stderr, "%s\n", error.c_str());
      std::exit(1);
    }
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT OR IGNORE INTO events(id, type, experiment, uid, variant, name, "
                     "value, ts, attrs) VALUES(?1, 1, NULL, ?2, NULL, 'purchase', 19.99, ?3, NULL)",
                     -1, &st, nullptr);
  std::vector<std::pair<std::string, std::string>> rows;
  rows.reserve(total);
  for (int64_t i = 0; i < total; ++i) {
    rows.emplace_back(EventId(0, i), "user-" + std::to_string(i % 100000));
  }
  auto start = Clock::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  for (int64_t i = 0; i < total; ++i) {
    sqlite3_bind_text(st, 1, rows[i].first.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rows[i].second.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, kTs + i);
    sqlite3_step(st);
    sqlite3_reset(st);
    if ((i + 1) % 10000 == 0) {
      sqlite3_exec(db, "COMMIT; BEGIN", nullptr, nullptr, nullptr);
    }
  }
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  return total / secs;
}

double Http(const std::string& path, int64_t total, int clients, int batch) {
  causeway::api::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.db_path = path;
  o.insecure_no_auth = false;
  std::string error;
  auto server = causeway::api::Server::Open(o, &error);
  if (!server) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  std::string key;
  for (const auto& [scope, k] : server->initial_keys()) {
    if (scope == "sdk") key = k;
  }
  int port = server->Bind();
  std::thread run([&] { server->Run(); });
  while (!server->running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const int64_t per_client = total / clients / batch;
  std::vector<std::vector<std::string>> bodies(clients);
  for (int c = 0; c < clients; ++c) {
    for (int64_t b = 0; b < per_client; ++b) bodies[c].push_back(Body(c, b * batch, batch));
  }
  std::atomic<int64_t> accepted{0}, failures{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", port);
      httplib::Headers h = {{"Authorization", "Bearer " + key}};
      for (const auto& body : bodies[c]) {
        auto r = http.Post("/v1/events", h, body, "application/json");
        if (r && r->status == 200) {
          accepted += nlohmann::json::parse(r->body)["accepted"].get<int64_t>();
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  server->Stop();
  run.join();
  if (failures > 0 || accepted != per_client * clients * batch) {
    std::fprintf(stderr, "bench_events: %lld failed requests, %lld accepted\n",
                 static_cast<long long>(failures.load()), static_cast<long long>(accepted.load()));
  }
  return accepted / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t total = 400000;
  int clients = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) total = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
  }
  auto dir =
      std::filesystem::temp_directory_path() / ("causeway-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::printf("events=%lld clients=%d synchronous=FULL WAL, %u cores\n",
              static_cast<long long>(total), clients, std::thread::hardware_concurrency());
  double raw = RawSqlite((dir / "raw.db").string(), total);
  std::printf("%-34s %10.0f events/s\n", "raw SQLite (1 thread, 10k/commit)", raw);
  for (int batch : {100, 1000}) {
    double http =
        Http((dir / ("http" + std::to_string(batch) + ".db")).string(), total, clients, batch);
    std::printf(
        "HTTP /v1/events, batch %-5d        %10.0f events/s   ratio %.2f  (goals: >= "
        "150000/s, >= 0.5)\n",
        batch, http, http / raw);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
