// Several instances on one store (docs/architecture.md, "Several instances"): two
// `causeway serve` processes on one SQLite file, as behind a load balancer. What
// is written through A is served by B within the bound (one poll interval plus a
// reload: 1 s by default, checked against 5 s here), and B keeps serving when A
// is killed.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// The bound this test holds the instances to: the default poll interval (1 s)
// plus a reload, with room for a loaded CI machine.
constexpr auto kBound = std::chrono::seconds(5);

// A `causeway serve` child process with auth, on an ephemeral port.
class Instance {
 public:
  Instance(const std::string& db, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 2);
      dup2(fd, 1);
      execl(CAUSEWAY_BINARY, CAUSEWAY_BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--db",
            db.c_str(), "--threads", "8", nullptr);
      _exit(127);
    }
    const std::regex listening("\"msg\":\"listening\",\"port\":([0-9]+)");
    const std::regex key("(admin|sdk) +key: (cw_[a-z]+_[0-9a-f]+)");
    for (int i = 0; i < 3000 && port_ < 0; ++i) {
      std::ifstream in(log);
      std::string line;
      while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, key)) (m[1] == "admin" ? admin_key : sdk_key) = m[2];
        if (std::regex_search(line, m, listening)) port_ = std::stoi(m[1]);
      }
      if (port_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Instance() { Kill(SIGTERM); }

  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

  struct Reply {
    int status = 0;
    Json body;
  };
  Reply Call(const std::string& method, const std::string& path, const std::string& key,
             const Json& body = nullptr) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    const httplib::Headers h = {{"Authorization", "Bearer " + key}};
    httplib::Result r = method == "GET"    ? c.Get(path, h)
                        : method == "POST" ? c.Post(path, h, body.dump(), "application/json")
                                           : c.Patch(path, h, body.dump(), "application/json");
    if (!r) return {};
    return {r->status, Json::parse(r->body, nullptr, false)};
  }

  std::string admin_key, sdk_key;  // printed by the first instance on a new database

 private:
  pid_t pid_ = -1;
  int port_ = -1;
};

// Polls `done` every 10 ms until it holds; the time it took, or nullopt after kBound.
std::optional<double> MsUntil(const std::function<bool()>& done) {
  const auto start = Clock::now();
  while (Clock::now() - start < kBound) {
    if (done()) return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("two instances on one database serve the same configuration within the bound") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway-instances-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "shared.db").string();
  auto a = std::make_unique<Instance>(db, (dir / "a.log").string());
  REQUIRE(a->port() > 0);
  REQUIRE_FALSE(a->admin_key.empty());
  REQUIRE_FALSE(a->sdk_key.empty());
  Instance b(db, (dir / "b.log").string());
  REQUIRE(b.port() > 0);
  CHECK(b.admin_key.empty());  // keys are created once, by the first instance
  const std::string admin = a->admin_key, sdk = a->sdk_key;
  REQUIRE(b.Call("GET", "/v1/keys", admin).status == 200);  // the keys are shared

  auto assign = [&](const Instance& i, const std::string& user) {
    return i.Call("GET", "/v1/assign?experiment=checkout&user=" + user, sdk);
  };
  std::vector<double> delays;

  // An experiment (and its goal metric) created through A is assigned by B.
  REQUIRE(a->Call("POST", "/v1/metrics", admin,
                  {{"key", "purchases"}, {"type", "binomial"}, {"event", "purchase"}})
              .status == 201);
  REQUIRE(a->Call("POST", "/v1/experiments", admin,
                  {{"key", "checkout"},
                   {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                   {"status", "running"},
                   {"goal_metrics", {"purchases"}}})
              .status == 201);
  auto followed = MsUntil([&] { return assign(b, "u1").status == 200; });
  REQUIRE(followed);
  delays.push_back(*followed);
  for (const char* user : {"u1", "u2", "u3", "u4", "u5", "u6"}) {
    INFO(user);
    CHECK(assign(b, user).body["variant"] == assign(*a, user).body["variant"]);
  }

  // A new phase through A: B assigns in it (with its new seed).
  REQUIRE(a->Call("PATCH", "/v1/experiments/checkout", admin, {{"new_phase", true}}).status == 200);
  followed = MsUntil([&] { return assign(b, "u1").body.value("phase", 0) == 2; });
  REQUIRE(followed);
  delays.push_back(*followed);
  CHECK(b.Call("GET", "/v1/experiments/checkout", admin).body["phase"] == 2);

  // A metric created through A: B's report accepts it.
  REQUIRE(a->Call("POST", "/v1/metrics", admin,
                  {{"key", "revenue"}, {"type", "mean"}, {"event", "purchase"}})
              .status == 201);
  followed = MsUntil([&] {
    return b.Call("GET", "/v1/experiments/checkout/report?metrics=revenue", admin).status == 200;
  });
  REQUIRE(followed);
  delays.push_back(*followed);

  // A key revoked through A: B refuses it.
  Instance::Reply created = a->Call("POST", "/v1/keys", admin, {{"scope", "sdk"}});
  REQUIRE(created.status == 201);
  const std::string key = created.body["key"], id = created.body["id"];
  REQUIRE(b.Call("GET", "/v1/assign?experiment=checkout&user=u1", key).status == 200);  // cached
  REQUIRE(a->Call("POST", "/v1/keys/" + id + "/revoke", admin, Json::object()).status == 200);
  followed = MsUntil(
      [&] { return b.Call("GET", "/v1/assign?experiment=checkout&user=u1", key).status == 401; });
  REQUIRE(followed);
  delays.push_back(*followed);
  std::fprintf(stderr,
               "instances: followed in %.0f ms (experiment), %.0f ms (phase), %.0f ms (metric), "
               "%.0f ms (revocation)\n",
               delays[0], delays[1], delays[2], delays[3]);

  // A killed: B keeps serving assignments, events, reports and admin writes, and
  // serves the experiments it knew.
  a->Kill(SIGKILL);
  a.reset();
  Instance::Reply r = assign(b, "u7");
  CHECK(r.status == 200);
  CHECK(r.body["phase"] == 2);
  const int64_t now = NowMs();
  Json events = Json::array();
  for (int u = 0; u < 20; ++u) {
    const std::string user = "v" + std::to_string(u);
    const std::string variant = assign(b, user).body["variant"];
    events.push_back({{"type", "exposure"},
                      {"id", "e" + user},
                      {"experiment", "checkout"},
                      {"user", user},
                      {"variant", variant},
                      {"ts", now}});
    events.push_back({{"type", "conversion"},
                      {"id", "c" + user},
                      {"event", "purchase"},
                      {"user", user},
                      {"value", 1.0},
                      {"ts", now + 1}});
  }
  r = b.Call("POST", "/v1/events", sdk, {{"events", events}});
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  r = b.Call("GET", "/v1/experiments/checkout/report?metrics=purchases,revenue", admin);
  INFO(r.body.dump());
  CHECK(r.status == 200);
  REQUIRE(b.Call("POST", "/v1/experiments", admin,
                 {{"key", "after"},
                  {"variants", {{{"key", "a"}}, {{"key", "b"}}}},
                  {"status", "running"}})
              .status == 201);
  CHECK(b.Call("GET", "/v1/assign?experiment=after&user=u1", sdk).status == 200);

  // A restarted on the same database serves what B wrote while it was down.
  Instance again(db, (dir / "a2.log").string());
  REQUIRE(again.port() > 0);
  CHECK(again.Call("GET", "/v1/assign?experiment=after&user=u1", sdk).status == 200);
  std::filesystem::remove_all(dir);
}
