// causeway: the experimentation and causal-inference service.
//
//   causeway serve [--port N] [--db PATH] [--host H] [--threads N]
//                  [--insecure-no-auth] [--access-log]
//   causeway keys create --scope sdk|admin [--db PATH]
//
// Environment: CAUSEWAY_PORT, CAUSEWAY_DB override the defaults (8080,
// ./data/causeway.db); flags override the environment.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "api/auth.h"
#include "api/log.h"
#include "api/server.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  causeway serve [--port N] [--db PATH] [--host H] [--threads N] [--insecure-no-auth]\n"
    "                 [--access-log]\n"
    "  causeway keys create --scope sdk|admin [--db PATH]\n"
    "environment: CAUSEWAY_PORT, CAUSEWAY_DB (flags take precedence)\n";

int Usage(const char* problem) {
  if (problem) std::fprintf(stderr, "causeway: %s\n", problem);
  std::fputs(kUsage, stderr);
  return 2;
}

bool ParsePort(const char* s, int* port) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < 0 || v > 65535) return false;
  *port = static_cast<int>(v);
  return true;
}

int Serve(int argc, char** argv) {
  causeway::api::ServerOptions options;
  if (const char* p = std::getenv("CAUSEWAY_PORT"); p && *p) {
    if (!ParsePort(p, &options.port)) return Usage("CAUSEWAY_PORT must be a port number");
  }
  if (const char* d = std::getenv("CAUSEWAY_DB"); d && *d) options.db_path = d;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (a == "--port") {
      const char* v = value("--port");
      if (!v || !ParsePort(v, &options.port)) return Usage("--port needs a port number");
    } else if (a == "--db") {
      const char* v = value("--db");
      if (!v) return Usage("--db needs a path");
      options.db_path = v;
    } else if (a == "--host") {
      const char* v = value("--host");
      if (!v) return Usage("--host needs an address");
      options.host = v;
    } else if (a == "--threads") {
      const char* v = value("--threads");
      if (!v || std::atoi(v) < 1) return Usage("--threads needs a positive number");
      options.threads = static_cast<size_t>(std::atoi(v));
    } else if (a == "--insecure-no-auth") {
      options.insecure_no_auth = true;
    } else if (a == "--access-log") {
      options.access_log = true;
    } else {
      return Usage(("unknown option " + a).c_str());
    }
  }

  // Block SIGINT/SIGTERM in every thread; one thread waits for them and stops
  // the server, which then drains the event writer before we exit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  auto server = causeway::api::Server::Open(options, &error);
  if (!server) {
    causeway::api::Log("error", "cannot start", {{"error", error}});
    return 1;
  }
  if (!server->initial_keys().empty()) {
    std::printf("\nFirst start: created API keys. They are shown only now; store them safely.\n");
    for (const auto& [scope, key] : server->initial_keys()) {
      std::printf("  %-5s key: %s\n", scope.c_str(), key.c_str());
    }
    std::printf("Send them as 'Authorization: Bearer <key>'. More: causeway keys create\n\n");
    std::fflush(stdout);
  }
  int port = server->Bind();
  if (port < 0) {
    causeway::api::Log(
        "error", "cannot listen",
        {{"host", options.host}, {"port", options.port}, {"error", std::strerror(errno)}});
    return 1;
  }
  causeway::api::Log("info", "listening", {{"host", options.host}, {"port", port}});
  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    causeway::api::Log("info", "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    server->Stop();
  });
  bool ok = server->Run();
  // Wake the signal thread if Run returned on its own.
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  causeway::api::Log("info", "stopped", {});
  return ok ? 0 : 1;
}

int Keys(int argc, char** argv) {
  if (argc < 1 || std::strcmp(argv[0], "create") != 0) return Usage("expected: keys create");
  std::string db = "data/causeway.db";
  if (const char* d = std::getenv("CAUSEWAY_DB"); d && *d) db = d;
  std::string scope;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--scope" && i + 1 < argc) {
      scope = argv[++i];
    } else if (a == "--db" && i + 1 < argc) {
      db = argv[++i];
    } else {
      return Usage(("unknown option " + a).c_str());
    }
  }
  if (scope != "sdk" && scope != "admin") return Usage("--scope must be sdk or admin");
  std::string error;
  auto store = causeway::store::OpenSqliteStore(db, &error);
  if (!store) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  std::string key;
  auto s = causeway::api::CreateApiKey(
      *store,
      scope == "admin" ? causeway::store::KeyScope::kAdmin : causeway::store::KeyScope::kSdk, &key);
  if (!s.ok()) {
    std::fprintf(stderr, "causeway: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s\n", key.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(nullptr);
  std::string cmd = argv[1];
  if (cmd == "serve") return Serve(argc - 2, argv + 2);
  if (cmd == "keys") return Keys(argc - 2, argv + 2);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage(("unknown command " + cmd).c_str());
}
