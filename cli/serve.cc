// causeway serve: reads the flags, opens the store and wires it, the services
// and the HTTP server together (api::Server), then serves until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "api/http/log.h"
#include "api/http/server.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "store/open_store.h"

namespace causeway::cli {
namespace {

// The value after argv[*i], consuming it, or nullptr when there is none.
const char* Value(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) return nullptr;
  return argv[++*i];
}

// A number of milliseconds in [min, max] after argv[*i] into *out; false when there is none.
bool Millis(int argc, char** argv, int* i, int64_t min, int64_t max, int64_t* out) {
  const char* v = Value(argc, argv, i);
  char* end = nullptr;
  const long long ms = v ? std::strtoll(v, &end, 10) : -1;
  if (!v || !*v || *end || ms < min || ms > max) return false;
  *out = ms;
  return true;
}

// Applies argv[*i] when it is a webhook option (docs/alerts.md, "Delivery"): true
// when it was one; *status is then set when it was malformed.
bool WebhookFlag(int argc, char** argv, int* i, notify::DeliveryOptions* o,
                 std::optional<int>* status) {
  const std::string a = argv[*i];
  constexpr int64_t kHour = 3'600'000;
  bool ok = true;
  if (a == "--allow-private-webhooks") {
    o->allow_private = true;
  } else if (a == "--webhook-retry-base-ms") {
    ok = Millis(argc, argv, i, 1, kHour, &o->retry.base_ms);
  } else if (a == "--webhook-retry-cap-ms") {
    ok = Millis(argc, argv, i, 1, 24 * kHour, &o->retry.cap_ms);
  } else if (a == "--webhook-poll-ms") {
    ok = Millis(argc, argv, i, 1, kHour, &o->poll_ms);
  } else if (a == "--webhook-timeout-ms") {
    ok = Millis(argc, argv, i, 1, 600'000, &o->timeout_ms);
    o->connect_timeout_ms = std::min<int64_t>(o->timeout_ms, 5'000);
  } else {
    return false;
  }
  if (!ok) *status = Usage((a + " needs a number of milliseconds in range").c_str());
  return true;
}

// Applies argv[*i], a serve option that is not a store option. nullopt when it
// was applied; otherwise the exit status (a bad or unknown option, or --help).
std::optional<int> ServeFlag(int argc, char** argv, int* i, api::ServerOptions* options) {
  const std::string a = argv[*i];
  if (a == "--port") {
    const char* v = Value(argc, argv, i);
    if (!v || !ParsePort(v, &options->port)) return Usage("--port needs a port number");
  } else if (a == "--host") {
    const char* v = Value(argc, argv, i);
    if (!v) return Usage("--host needs an address");
    options->host = v;
  } else if (a == "--threads") {
    const char* v = Value(argc, argv, i);
    if (!v || std::atoi(v) < 1) return Usage("--threads needs a positive number");
    options->threads = static_cast<size_t>(std::atoi(v));
  } else if (a == "--max-connections") {
    const char* v = Value(argc, argv, i);
    if (!v || std::atoi(v) < 1) return Usage("--max-connections needs a positive number");
    options->max_connections = static_cast<size_t>(std::atoi(v));
  } else if (a == "--linger-ms") {
    const char* v = Value(argc, argv, i);
    if (!v || std::atoi(v) < 0 || std::atoi(v) > 1000) return Usage("--linger-ms needs 0 to 1000");
    options->linger_ms = std::atoi(v);
  } else if (a == "--insecure-no-auth") {
    options->insecure_no_auth = true;
  } else if (a == "--access-log") {
    options->access_log = true;
  } else if (a == "--no-monitor-scheduler") {
    options->monitor_scheduler = false;
  } else if (a == "--config-poll-ms") {
    const char* v = Value(argc, argv, i);
    char* end = nullptr;
    const long ms = v ? std::strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || ms < 0 || ms > 3600000) {
      return Usage("--config-poll-ms needs a number of milliseconds in [0, 3600000]");
    }
    options->config_poll_ms = static_cast<int>(ms);
  } else if (a == "--help" || a == "-h") {
    return Help();
  } else {
    return Usage(("unknown option " + a).c_str());
  }
  return std::nullopt;
}

// CAUSEWAY_PORT, the store's environment and the flags. nullopt when serve may
// start; otherwise the exit status.
std::optional<int> ParseServeFlags(int argc, char** argv, api::ServerOptions* options,
                                   store::StoreOptions* store_options) {
  if (const char* p = std::getenv("CAUSEWAY_PORT"); p && *p) {
    if (!ParsePort(p, &options->port)) return Usage("CAUSEWAY_PORT must be a port number");
  }
  StoreChoice store;
  store.FromEnvironment();
  for (int i = 0; i < argc; ++i) {
    std::string problem;
    if (const int f = store.Flag(argc, argv, &i, &problem); f != 0) {
      if (f < 0) return Usage(problem.c_str());
      continue;
    }
    std::optional<int> status;
    if (WebhookFlag(argc, argv, &i, &options->webhooks, &status)) {
      if (status) return status;
      continue;
    }
    if (auto bad = ServeFlag(argc, argv, &i, options)) return bad;
  }
  if (std::string error; !store.Resolve(store_options, &error)) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  // Named in the server's start-up log line.
  options->db_path = store_options->db_path;
  options->clickhouse = store_options->clickhouse;
  return std::nullopt;
}

// Blocks SIGINT/SIGTERM in every thread (one thread waits for them, see
// ServeUntilSignalled) and ignores SIGPIPE.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// The store, then the server on it; nullptr after logging why not.
std::unique_ptr<api::Server> OpenServer(const api::ServerOptions& options,
                                        const store::StoreOptions& store_options) {
  std::string error;
  std::unique_ptr<api::Server> server;
  if (auto store = store::OpenStore(store_options, &error)) {
    server = api::Server::Open(options, std::move(store), &error);
  }
  if (!server) api::Log("error", "cannot start", {{"error", error}});
  return server;
}

void PrintInitialKeys(const api::Server& server) {
  if (server.initial_keys().empty()) return;
  std::printf("\nFirst start: created API keys. They are shown only now; store them safely.\n");
  for (const auto& [scope, key] : server.initial_keys()) {
    std::printf("  %-5s key: %s\n", scope.c_str(), key.c_str());
  }
  std::printf("Send them as 'Authorization: Bearer <key>'. More: causeway keys create\n\n");
  std::fflush(stdout);
}

// Runs the bound server until it stops or a signal stops it; the server then
// drains the event writer. True when it ran without error.
bool ServeUntilSignalled(api::Server* server, const sigset_t& signals) {
  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    api::Log("info", "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    server->Stop();
  });
  const bool ok = server->Run();
  // Wake the signal thread if Run returned on its own.
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return ok;
}

}  // namespace

int RunServe(int argc, char** argv) {
  api::ServerOptions options;
  store::StoreOptions store_options;
  if (auto status = ParseServeFlags(argc, argv, &options, &store_options)) return *status;
  const sigset_t signals = BlockStopSignals();
  auto server = OpenServer(options, store_options);
  if (!server) return 1;
  PrintInitialKeys(*server);
  const int port = server->Bind();
  if (port < 0) {
    api::Log("error", "cannot listen",
             {{"host", options.host}, {"port", options.port}, {"error", std::strerror(errno)}});
    return 1;
  }
  api::Log("info", "listening", {{"host", options.host}, {"port", port}});
  const bool ok = ServeUntilSignalled(server.get(), signals);
  api::Log("info", "stopped", {});
  return ok ? 0 : 1;
}

}  // namespace causeway::cli
