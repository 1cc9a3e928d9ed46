// causeway: the experimentation and causal-inference service.
//
//   causeway serve [--port N] [STORE] [--host H] [--threads N]
//                  [--insecure-no-auth] [--access-log] [--config-poll-ms MS]
//   causeway keys create --scope sdk|admin [--name N] [--expires-in-days D] [STORE]
//   causeway keys list [STORE]
//   causeway keys revoke ID [STORE]
// where STORE is --db PATH (SQLite, the default) or --store clickhouse
// --clickhouse-url http://host:8123 [--clickhouse-database D] [--clickhouse-user U
// --clickhouse-password-file F] [--clickhouse-cluster C].
//   causeway simulate --experiment KEY [--users N] [--effect E] [--days D] [--srm]
//                     [--segments country[,platform]] [--url URL] [--key ADMIN_KEY] [--seed S]
//
// Environment: CAUSEWAY_PORT, CAUSEWAY_DB, CAUSEWAY_STORE, CAUSEWAY_CLICKHOUSE_URL,
// CAUSEWAY_CLICKHOUSE_DATABASE, CAUSEWAY_CLICKHOUSE_USER,
// CAUSEWAY_CLICKHOUSE_PASSWORD_FILE, CAUSEWAY_CLICKHOUSE_CLUSTER override the
// defaults; flags override the environment.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "api/auth.h"
#include "api/log.h"
#include "api/server.h"
#include "api/simulate.h"
#include "store/clickhouse_store.h"
#include "store/sqlite_store.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  causeway serve [--port N] [STORE] [--host H] [--threads N] [--insecure-no-auth]\n"
    "                 [--access-log] [--config-poll-ms MS]\n"
    "  causeway keys create --scope sdk|admin [--name N] [--expires-in-days D] [STORE]\n"
    "  causeway keys list [STORE]\n"
    "  causeway keys revoke ID [STORE]\n"
    "  causeway simulate --experiment KEY [--users N] [--effect E] [--days D] [--srm]\n"
    "                    [--segments country[,platform]] [--url URL] [--key ADMIN_KEY] [--seed S]\n"
    "STORE is one of:\n"
    "  --db PATH                      SQLite (the default: data/causeway.db)\n"
    "  --store clickhouse --clickhouse-url http://HOST:8123 [--clickhouse-database D]\n"
    "      [--clickhouse-user U --clickhouse-password-file F] [--clickhouse-cluster C]\n"
    "                                 ClickHouse (docs/clickhouse.md; database: causeway)\n"
    "environment: CAUSEWAY_PORT, CAUSEWAY_DB, CAUSEWAY_STORE, CAUSEWAY_CLICKHOUSE_URL,\n"
    "CAUSEWAY_CLICKHOUSE_DATABASE, CAUSEWAY_CLICKHOUSE_USER, CAUSEWAY_CLICKHOUSE_PASSWORD_FILE,\n"
    "CAUSEWAY_CLICKHOUSE_CLUSTER (flags take precedence); CAUSEWAY_ADMIN_KEY for simulate\n"
    "(--key takes precedence)\n"
    "--config-poll-ms: how often serve reads the store's configuration version to follow\n"
    "experiments, metrics and keys changed by other instances (default 1000; 0: never)\n";

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

// Where the data lives: --db (SQLite) or --store clickhouse and its options,
// from the environment, then the flags.
struct StoreChoice {
  std::string kind = "sqlite";
  std::string db = "data/causeway.db";
  std::string url, database = "causeway", user, password_file, cluster;
  bool clickhouse_flag = false;  // a --clickhouse-* option was given

  void FromEnvironment() {
    auto env = [](const char* name, std::string* out) {
      if (const char* v = std::getenv(name); v && *v) *out = v;
    };
    env("CAUSEWAY_DB", &db);
    env("CAUSEWAY_STORE", &kind);
    env("CAUSEWAY_CLICKHOUSE_URL", &url);
    env("CAUSEWAY_CLICKHOUSE_DATABASE", &database);
    env("CAUSEWAY_CLICKHOUSE_USER", &user);
    env("CAUSEWAY_CLICKHOUSE_PASSWORD_FILE", &password_file);
    env("CAUSEWAY_CLICKHOUSE_CLUSTER", &cluster);
  }

  // Consumes argv[i] (and its value) when it is a store option: 1 when consumed,
  // 0 when it is not one, -1 (and *problem) when its value is missing.
  int Flag(int argc, char** argv, int* i, std::string* problem) {
    const std::string a = argv[*i];
    static constexpr std::pair<const char*, std::string StoreChoice::*> kFlags[] = {
        {"--db", &StoreChoice::db},
        {"--store", &StoreChoice::kind},
        {"--clickhouse-url", &StoreChoice::url},
        {"--clickhouse-database", &StoreChoice::database},
        {"--clickhouse-user", &StoreChoice::user},
        {"--clickhouse-password-file", &StoreChoice::password_file},
        {"--clickhouse-cluster", &StoreChoice::cluster},
    };
    for (const auto& [name, field] : kFlags) {
      if (a != name) continue;
      if (*i + 1 >= argc) {
        *problem = a + " needs a value";
        return -1;
      }
      this->*field = argv[++*i];
      if (a.starts_with("--clickhouse-")) clickhouse_flag = true;
      return 1;
    }
    return 0;
  }

  // The ClickHouse options when the store is ClickHouse (nullopt for SQLite), or
  // false and *error for a bad choice, URL or password file.
  bool Resolve(std::optional<causeway::store::ClickHouseOptions>* out, std::string* error) const {
    if (kind == "sqlite") {
      if (clickhouse_flag) {
        *error = "--clickhouse-* options need --store clickhouse (or CAUSEWAY_STORE=clickhouse)";
        return false;
      }
      out->reset();
      return true;
    }
    if (kind != "clickhouse") {
      *error = "--store must be sqlite or clickhouse, not " + kind;
      return false;
    }
    causeway::store::ClickHouseOptions o;
    // http://HOST[:PORT][/]; HOST a name, an IPv4 address or [IPv6].
    std::string rest = url;
    if (!rest.starts_with("http://")) {
      *error = "--clickhouse-url must be http://HOST[:PORT] (ClickHouse's HTTP interface), got '" +
               url + "'";
      return false;
    }
    rest = rest.substr(7);
    if (rest.ends_with("/")) rest.pop_back();
    std::string host = rest, port = "8123";
    if (const size_t colon = rest.rfind(':');
        colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos ||
        !ParsePort(port.c_str(), &o.endpoint.port) || o.endpoint.port == 0) {
      *error = "--clickhouse-url must be http://HOST[:PORT], got '" + url + "'";
      return false;
    }
    o.endpoint.host = host;
    o.endpoint.database = database;
    o.endpoint.user = user;
    if (!password_file.empty()) {
      if (user.empty()) {
        *error = "--clickhouse-password-file needs --clickhouse-user";
        return false;
      }
      std::ifstream in(password_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        *error = "cannot read the ClickHouse password file " + password_file;
        return false;
      }
      o.endpoint.password = text.str();
      while (!o.endpoint.password.empty() &&
             (o.endpoint.password.back() == '\n' || o.endpoint.password.back() == '\r')) {
        o.endpoint.password.pop_back();  // the file's final newline is not part of it
      }
    }
    o.cluster = cluster;
    *out = std::move(o);
    return true;
  }
};

int Serve(int argc, char** argv) {
  causeway::api::ServerOptions options;
  if (const char* p = std::getenv("CAUSEWAY_PORT"); p && *p) {
    if (!ParsePort(p, &options.port)) return Usage("CAUSEWAY_PORT must be a port number");
  }
  StoreChoice store;
  store.FromEnvironment();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    std::string problem;
    if (const int f = store.Flag(argc, argv, &i, &problem); f != 0) {
      if (f < 0) return Usage(problem.c_str());
      continue;
    }
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (a == "--port") {
      const char* v = value("--port");
      if (!v || !ParsePort(v, &options.port)) return Usage("--port needs a port number");
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
    } else if (a == "--config-poll-ms") {
      const char* v = value("--config-poll-ms");
      char* end = nullptr;
      const long ms = v ? std::strtol(v, &end, 10) : -1;
      if (!v || !*v || *end || ms < 0 || ms > 3600000) {
        return Usage("--config-poll-ms needs a number of milliseconds in [0, 3600000]");
      }
      options.config_poll_ms = static_cast<int>(ms);
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return Usage(("unknown option " + a).c_str());
    }
  }
  options.db_path = store.db;
  if (std::string error; !store.Resolve(&options.clickhouse, &error)) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
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

int Fail(const causeway::Status& s) {
  std::fprintf(stderr, "causeway: %s\n", s.message().c_str());
  return 1;
}

// "2026-11-23 18:47" (UTC), or "-".
std::string ShortTime(const std::optional<int64_t>& ms) {
  if (!ms) return "-";
  std::string t = causeway::api::IsoTime(*ms);  // 2026-11-23T18:47:00.123Z
  return t.substr(0, 10) + " " + t.substr(11, 5);
}

int KeysList(causeway::store::Store& store) {
  auto rows = store.ListApiKeys();
  if (!rows.ok()) return Fail(rows.status());
  const int64_t now = causeway::api::NowMs();
  std::printf("%-16s  %-5s  %-7s  %-20s  %-16s  %-16s  %-16s  %s\n", "ID", "SCOPE", "STATE",
              "PREFIX", "CREATED", "EXPIRES", "REVOKED", "NAME");
  for (const auto& k : *rows) {
    const char* state = k.revoked_ms ? "revoked" : k.Active(now) ? "active" : "expired";
    std::printf("%-16s  %-5s  %-7s  %-20s  %-16s  %-16s  %-16s  %s\n", k.id.c_str(),
                k.scope == causeway::store::KeyScope::kAdmin ? "admin" : "sdk", state,
                (k.prefix + "...").c_str(), ShortTime(k.created_ms).c_str(),
                ShortTime(k.expires_ms).c_str(), ShortTime(k.revoked_ms).c_str(),
                k.name.empty() ? "-" : k.name.c_str());
  }
  return 0;
}

// causeway keys create|list|revoke: works on the store directly (the SQLite file
// or the ClickHouse database), so it needs no key and no running server; a
// running server honours a new key at once and refuses a revoked one within
// KeyAuthenticator::kRevocationCheckInterval.
int Keys(int argc, char** argv) {
  const std::string verb = argc >= 1 ? argv[0] : "";
  if (verb != "create" && verb != "list" && verb != "revoke") {
    return Usage("expected: keys create, keys list or keys revoke ID");
  }
  StoreChoice store_choice;
  store_choice.FromEnvironment();
  std::string scope, name, id;
  std::optional<double> days;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string problem;
    if (const int f = store_choice.Flag(argc, argv, &i, &problem); f != 0) {
      if (f < 0) return Usage(problem.c_str());
      continue;
    }
    const bool has_value = i + 1 < argc;
    if (verb == "create" && a == "--scope" && has_value) {
      scope = argv[++i];
    } else if (verb == "create" && a == "--name" && has_value) {
      name = argv[++i];
    } else if (verb == "create" && a == "--expires-in-days" && has_value) {
      char* end = nullptr;
      const char* v = argv[++i];
      days = std::strtod(v, &end);
      if (!*v || *end || !(*days > 0 && *days <= 36500)) {
        return Usage("--expires-in-days needs a number of days in (0, 36500]");
      }
    } else if (verb == "revoke" && id.empty() && !a.starts_with("-")) {
      id = a;
    } else {
      return Usage(("unknown option " + a).c_str());
    }
  }
  if (verb == "create" && scope != "sdk" && scope != "admin") {
    return Usage("--scope must be sdk or admin");
  }
  if (verb == "revoke" && id.empty()) return Usage("keys revoke needs a key id (keys list)");
  std::string error;
  std::optional<causeway::store::ClickHouseOptions> clickhouse;
  if (!store_choice.Resolve(&clickhouse, &error)) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  auto store = clickhouse ? causeway::store::OpenClickHouseStore(*clickhouse, &error)
                          : causeway::store::OpenSqliteStore(store_choice.db, &error);
  if (!store) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  if (verb == "list") return KeysList(*store);
  if (verb == "revoke") {
    const int64_t now = causeway::api::NowMs();
    auto row = store->RevokeApiKey(id, now);
    if (!row.ok()) return Fail(row.status());
    std::printf("%s %s (%s, %s...) at %s\n",
                *row->revoked_ms == now ? "revoked" : "was already revoked", row->id.c_str(),
                row->scope == causeway::store::KeyScope::kAdmin ? "admin" : "sdk",
                row->prefix.c_str(), causeway::api::IsoTime(*row->revoked_ms).c_str());
    return 0;
  }
  causeway::api::NewApiKey spec;
  spec.scope =
      scope == "admin" ? causeway::store::KeyScope::kAdmin : causeway::store::KeyScope::kSdk;
  spec.name = name;
  if (days) spec.expires_ms = causeway::api::NowMs() + static_cast<int64_t>(*days * 86400000.0);
  std::string key;
  auto row = causeway::api::CreateApiKey(*store, spec, &key);
  if (!row.ok()) return Fail(row.status());
  // The secret alone on stdout, for scripts; what it is on stderr.
  std::printf("%s\n", key.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "created %s (%s%s%s); the key is shown only now\n", row->id.c_str(),
               scope.c_str(), row->expires_ms ? ", expires " : "",
               row->expires_ms ? causeway::api::IsoTime(*row->expires_ms).c_str() : "");
  return 0;
}

// causeway simulate: demo data through the HTTP API (api/simulate.h).
int Simulate(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  causeway::api::SimulateOptions options;
  std::string error;
  if (!causeway::api::ParseSimulateOptions(argc, argv, &options, &error)) {
    return Usage(error.c_str());
  }
  signal(SIGPIPE, SIG_IGN);
  return causeway::api::RunSimulate(options);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(nullptr);
  std::string cmd = argv[1];
  if (cmd == "serve") return Serve(argc - 2, argv + 2);
  if (cmd == "keys") return Keys(argc - 2, argv + 2);
  if (cmd == "simulate") return Simulate(argc - 2, argv + 2);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage(("unknown command " + cmd).c_str());
}
