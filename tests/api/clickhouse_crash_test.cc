// `causeway serve --store clickhouse` end to end, against the test's own
// clickhouse-server (tests/store/clickhouse_server.h):
//  - an event acknowledged with 200 is in ClickHouse after kill -9 of Causeway;
//  - resending every acknowledged batch to a restarted Causeway (a client's retry)
//    does not change the count of distinct events;
//  - `causeway keys` works against ClickHouse, with a user and password file;
//  - a bad URL or an unreachable server is a one-line error and exit status 1;
//  - two instances on one ClickHouse database follow each other within 5 s.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "clickhouse_server.h"
#include "store/clickhouse_store.h"
#include "test_server.h"

using Json = nlohmann::json;
using causeway::testing::TestClickHouse;

namespace {

struct Child {
  pid_t pid = -1;
  int port = -1;
};

// `causeway serve` on an ephemeral port with `args`; returns once it listens
// (port -1 if it did not within 30 s).
Child StartServer(const std::vector<std::string>& args, const std::string& log) {
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    dup2(fd, 1);
    std::vector<std::string> all = {CAUSEWAY_BINARY, "serve", "--host",    "127.0.0.1",
                                    "--port",        "0",     "--threads", "16"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(CAUSEWAY_BINARY, argv.data());
    _exit(127);
  }
  std::regex listening("\"msg\":\"listening\",\"port\":([0-9]+)");
  for (int i = 0; i < 3000 && c.port < 0; ++i) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, listening)) c.port = std::stoi(m[1]);
    }
    if (c.port < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return c;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Url(TestClickHouse* server) {
  return "http://127.0.0.1:" + std::to_string(server->http_port());
}

}  // namespace

TEST_CASE("clickhouse: acknowledged events survive kill -9 of causeway; retries count once",
          "[slow]") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const std::string database = "cw_crash_" + std::to_string(::getpid());
  causeway::store::ch::Client admin(server->endpoint());
  REQUIRE(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
  auto dir =
      std::filesystem::temp_directory_path() / ("causeway-chcrash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::vector<std::string> store_args = {
      "--store", "clickhouse",        "--clickhouse-url", Url(server), "--clickhouse-database",
      database,  "--insecure-no-auth"};
  Child causeway = StartServer(store_args, (dir / "log1").string());
  REQUIRE(causeway.port > 0);
  // See crash_test.cc: the client's static regex is built before the threads start.
  REQUIRE(httplib::Client("127.0.0.1", causeway.port).Get("/healthz"));

  constexpr int kClients = 4;
  constexpr int kBatch = 50;
  std::mutex mu;
  std::vector<Json> acknowledged;  // GUARDED_BY(mu)
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::atomic<int> wrong_replies{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client http("127.0.0.1", causeway.port);
      http.set_read_timeout(10, 0);
      for (int b = 0; !stop && b < 100000; ++b) {
        Json events = Json::array();
        for (int i = 0; i < kBatch; ++i) {
          events.push_back(
              {{"type", "conversion"},
               {"id", "c" + std::to_string(c) + "-" + std::to_string(b) + "-" + std::to_string(i)},
               {"user", "u" + std::to_string(i)},
               {"event", "purchase"},
               {"value", 1.5},
               {"ts", NowMs()}});
        }
        Json body = {{"events", events}};
        auto r = http.Post("/v1/events", body.dump(), "application/json");
        ++sent;
        if (!r) break;  // causeway died
        if (r->status == 200) {
          Json reply = Json::parse(r->body, nullptr, false);
          if (reply.value("accepted", -1) != kBatch) ++wrong_replies;  // Catch is not thread-safe
          std::lock_guard lock(mu);
          acknowledged.push_back(std::move(body));
        }
      }
    });
  }
  while (sent < 100) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(causeway.pid, SIGKILL);
  int status = 0;
  waitpid(causeway.pid, &status, 0);
  stop = true;
  for (auto& t : clients) t.join();
  REQUIRE(WIFSIGNALED(status));
  CHECK(wrong_replies == 0);
  REQUIRE(acknowledged.size() >= 50);

  // An INSERT causeway had sent in full when it died may still be running in
  // ClickHouse (its events were never acknowledged): let it finish first.
  causeway::store::ch::Client client(server->endpoint(database));
  for (int i = 0, idle = 0; i < 1000 && idle < 3; ++i) {  // none seen three times running
    auto running =
        client.Rows("SELECT count() FROM system.processes WHERE query LIKE 'INSERT INTO events%'");
    REQUIRE(running.ok());
    idle = running->at(0).at(0) == "0" ? idle + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Every acknowledged id is in ClickHouse (read back in one query).
  auto rows = client.Rows("SELECT DISTINCT id FROM events");
  REQUIRE(rows.ok());
  std::set<std::string> stored;
  for (const auto& row : *rows) stored.insert(row.at(0));
  size_t missing = 0;
  for (const auto& body : acknowledged) {
    for (const auto& e : body["events"]) missing += stored.count(e["id"].get<std::string>()) == 0;
  }
  CHECK(missing == 0);
  CHECK(stored.size() >= acknowledged.size() * kBatch);
  CHECK(stored.size() % kBatch == 0);  // each batch is one INSERT: all of it or none

  // A restarted causeway takes every acknowledged batch again (a client's retry):
  // ClickHouse cannot see earlier batches, so they are accepted, and stored as
  // second copies (until a merge collapses them) that no count includes.
  Child again = StartServer(store_args, (dir / "log2").string());
  REQUIRE(again.port > 0);
  httplib::Client http("127.0.0.1", again.port);
  for (const auto& body : acknowledged) {
    auto r = http.Post("/v1/events", body.dump(), "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
  auto distinct = client.Rows("SELECT uniqExact(id) FROM events");
  REQUIRE(distinct.ok());
  CHECK(std::stoull(distinct->at(0).at(0)) == stored.size());
  std::string error;
  auto store = causeway::store::OpenClickHouseStore({server->endpoint(database), ""}, &error);
  REQUIRE(store);
  CHECK(*store->CountEvents() == static_cast<int64_t>(stored.size()));

  kill(again.pid, SIGTERM);
  waitpid(again.pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
  CHECK(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
}

TEST_CASE("clickhouse: causeway keys create, list and revoke, with a user and password file") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const std::string database = "cw_keys_" + std::to_string(::getpid());
  causeway::store::ch::Client admin(server->endpoint());
  REQUIRE(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
  const auto password_file =
      std::filesystem::temp_directory_path() / ("causeway-chpw-" + std::to_string(::getpid()));
  {
    std::ofstream out(password_file);
    out << TestClickHouse::kPassword << "\n";
  }
  const std::string store = "--store clickhouse --clickhouse-url " + Url(server) +
                            " --clickhouse-database " + database + " --clickhouse-user " +
                            TestClickHouse::kUser + " --clickhouse-password-file '" +
                            password_file.string() + "'";
  std::string out;
  REQUIRE(causeway::testing::RunCli("keys create --scope admin --name first " + store, &out) == 0);
  REQUIRE(causeway::testing::RunCli("keys create --scope admin --name second " + store, &out) == 0);
  const std::regex id("created (key_[0-9a-f]+)");
  std::smatch m;
  REQUIRE(std::regex_search(out, m, id));
  const std::string second = m[1];
  REQUIRE(causeway::testing::RunCli("keys list " + store, &out) == 0);
  CHECK(out.find("first") != std::string::npos);
  CHECK(out.find(second) != std::string::npos);
  REQUIRE(causeway::testing::RunCli("keys revoke " + second + " " + store, &out) == 0);
  CHECK(out.find("revoked " + second) != std::string::npos);
  REQUIRE(causeway::testing::RunCli("keys list " + store, &out) == 0);
  CHECK(out.find("revoked") != std::string::npos);
  // The same settings from the environment.
  const std::string env = "CAUSEWAY_STORE=clickhouse CAUSEWAY_CLICKHOUSE_URL=" + Url(server) +
                          " CAUSEWAY_CLICKHOUSE_DATABASE=" + database +
                          " CAUSEWAY_CLICKHOUSE_USER=" + TestClickHouse::kUser +
                          " CAUSEWAY_CLICKHOUSE_PASSWORD_FILE='" + password_file.string() + "' ";
  const std::string cmd = env + "'" + CAUSEWAY_BINARY + "' keys list 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  out.clear();
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  CHECK(pclose(p) == 0);
  CHECK(out.find(second) != std::string::npos);
  std::filesystem::remove(password_file);
  CHECK(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
}

TEST_CASE("clickhouse: a bad URL or an unreachable server is one line and exit status 1") {
  std::string out;
  CHECK(causeway::testing::RunCli("serve --store clickhouse --clickhouse-url ftp://x", &out) == 1);
  CHECK(out.find("--clickhouse-url must be http://HOST[:PORT]") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  CHECK(causeway::testing::RunCli("serve --clickhouse-url http://127.0.0.1:1", &out) == 1);
  CHECK(out.find("need --store clickhouse") != std::string::npos);
  const int port = causeway::testing::FreeLoopbackPort();
  CHECK(causeway::testing::RunCli("serve --port 0 --store clickhouse --clickhouse-url "
                                  "http://127.0.0.1:" +
                                      std::to_string(port),
                                  &out) == 1);
  CHECK(out.find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  CHECK(causeway::testing::RunCli("keys list --store clickhouse --clickhouse-url "
                                  "http://127.0.0.1:" +
                                      std::to_string(port),
                                  &out) == 1);
  CHECK(out.find("cannot connect") != std::string::npos);
}

namespace {

// A `causeway serve` child with auth on the test ClickHouse database `database`.
struct Instance {
  Child child;
  std::string admin_key, sdk_key;  // printed by the first instance on a new database

  Instance(TestClickHouse* server, const std::string& database, const std::string& log) {
    child = StartServer({"--store", "clickhouse", "--clickhouse-url", Url(server),
                         "--clickhouse-database", database},
                        log);
    const std::regex key("(admin|sdk) +key: (cw_[a-z]+_[0-9a-f]+)");
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, key)) (m[1] == "admin" ? admin_key : sdk_key) = m[2];
    }
  }
  ~Instance() { Kill(SIGTERM); }
  void Kill(int sig) {
    if (child.pid <= 0) return;
    kill(child.pid, sig);
    waitpid(child.pid, nullptr, 0);
    child.pid = -1;
  }
  int HttpStatus(const std::string& method, const std::string& path, const std::string& key,
                 const Json& body = nullptr) const {
    httplib::Client c("127.0.0.1", child.port);
    c.set_read_timeout(10, 0);
    const httplib::Headers h = {{"Authorization", "Bearer " + key}};
    httplib::Result r =
        method == "GET" ? c.Get(path, h) : c.Post(path, h, body.dump(), "application/json");
    return r ? r->status : 0;
  }
};

// Polls `done` every 10 ms for up to 5 s: whether it came true.
bool Within5s(const std::function<bool()>& done) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("clickhouse: two instances serve the same experiments and keys within 5 s") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  const std::string database = "cw_instances_" + std::to_string(::getpid());
  causeway::store::ch::Client admin(server->endpoint());
  REQUIRE(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-chinstances-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto a = std::make_unique<Instance>(server, database, (dir / "a.log").string());
  REQUIRE(a->child.port > 0);
  REQUIRE_FALSE(a->admin_key.empty());
  Instance b(server, database, (dir / "b.log").string());
  REQUIRE(b.child.port > 0);
  CHECK(b.admin_key.empty());  // keys are created once, by the first instance
  const std::string admin_key = a->admin_key, sdk = a->sdk_key;

  REQUIRE(a->HttpStatus("POST", "/v1/experiments", admin_key,
                        {{"key", "checkout"},
                         {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                         {"status", "running"}}) == 201);
  CHECK(Within5s(
      [&] { return b.HttpStatus("GET", "/v1/assign?experiment=checkout&user=u1", sdk) == 200; }));

  // A key created and used on B, revoked through A: B refuses it.
  httplib::Client c("127.0.0.1", a->child.port);
  auto created = c.Post("/v1/keys", {{"Authorization", "Bearer " + admin_key}},
                        R"({"scope": "sdk"})", "application/json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const Json key = Json::parse(created->body);
  const std::string secret = key["key"], id = key["id"];
  REQUIRE(b.HttpStatus("GET", "/v1/assign?experiment=checkout&user=u1", secret) == 200);
  REQUIRE(a->HttpStatus("POST", "/v1/keys/" + id + "/revoke", admin_key, Json::object()) == 200);
  CHECK(Within5s([&] {
    return b.HttpStatus("GET", "/v1/assign?experiment=checkout&user=u1", secret) == 401;
  }));

  // A killed: B keeps assigning and takes admin writes.
  a->Kill(SIGKILL);
  a.reset();
  CHECK(b.HttpStatus("GET", "/v1/assign?experiment=checkout&user=u2", sdk) == 200);
  CHECK(b.HttpStatus("POST", "/v1/experiments", admin_key,
                     {{"key", "after"},
                      {"variants", {{{"key", "a"}}, {{"key", "b"}}}},
                      {"status", "running"}}) == 201);
  CHECK(b.HttpStatus("GET", "/v1/assign?experiment=after&user=u1", sdk) == 200);

  // Events through B, the batch sent twice (a client's retry after a lost answer):
  // the report, computed in ClickHouse, counts every exposure and user once.
  Json events = Json::array();
  const int64_t now = NowMs();
  for (int u = 0; u < 20; ++u) {
    const std::string user = "r" + std::to_string(u);
    events.push_back({{"type", "exposure"},
                      {"id", "x-" + user},
                      {"experiment", "checkout"},
                      {"user", user},
                      {"variant", u % 2 ? "treatment" : "control"},
                      {"ts", now}});
  }
  REQUIRE(b.HttpStatus("POST", "/v1/events", sdk, {{"events", events}}) == 200);
  REQUIRE(b.HttpStatus("POST", "/v1/events", sdk, {{"events", events}}) == 200);
  httplib::Client cb("127.0.0.1", b.child.port);
  cb.set_read_timeout(30, 0);
  auto report =
      cb.Get("/v1/experiments/checkout/report", {{"Authorization", "Bearer " + admin_key}});
  REQUIRE(report);
  INFO(report->body);
  REQUIRE(report->status == 200);
  const Json r = Json::parse(report->body);
  int64_t exposures = 0, users = 0;
  for (const Json& e : r["exposures"]) {
    exposures += e["exposures"].get<int64_t>();
    users += e["users"].get<int64_t>();
  }
  CHECK(exposures == 20);
  CHECK(users == 20);
  std::filesystem::remove_all(dir);
  CHECK(admin.Query("DROP DATABASE IF EXISTS " + database).ok());
}
