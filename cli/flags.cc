#include "cli/flags.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace causeway::cli {
namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  causeway serve [--port N] [STORE] [--host H] [--threads N] [--max-connections N]\n"
    "                 [--linger-ms MS] [--insecure-no-auth] [--access-log]\n"
    "                 [--config-poll-ms MS] [--allow-private-webhooks]\n"
    "                 [--webhook-retry-base-ms MS] [--webhook-retry-cap-ms MS]\n"
    "                 [--webhook-poll-ms MS] [--webhook-timeout-ms MS] [--no-monitor-scheduler]\n"
    "  causeway keys create --scope sdk|admin|client [--name N] [--expires-in-days D] [STORE]\n"
    "  causeway keys list [STORE]\n"
    "  causeway keys revoke ID [STORE]\n"
    "  causeway simulate --experiment KEY [--users N] [--effect E] [--days D] [--srm]\n"
    "                    [--segments country[,platform]] [--url URL] [--key ADMIN_KEY] [--seed "
    "S]\n"
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
    "experiments, metrics and keys changed by other instances (default 1000; 0: never)\n"
    "--allow-private-webhooks: let webhooks reach loopback, private and link-local addresses\n"
    "(refused by default); --webhook-*: retry back-off base (5000) and cap (3600000), poll\n"
    "interval (1000) and request timeout (10000) of webhook deliveries (docs/alerts.md)\n"
    "--no-monitor-scheduler: do not evaluate alert rules (every minute) and experiment\n"
    "monitors and rollouts (every 5 minutes) at wall-clock time; POST /v1/monitors/evaluate\n"
    "still does\n";

// http://HOST[:PORT][/]; HOST a name, an IPv4 address or [IPv6].
bool ParseClickHouseUrl(const std::string& url, store::ch::Endpoint* endpoint, std::string* error) {
  if (!url.starts_with("http://")) {
    *error = "--clickhouse-url must be http://HOST[:PORT] (ClickHouse's HTTP interface), got '" +
             url + "'";
    return false;
  }
  std::string rest = url.substr(7);
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
      !ParsePort(port.c_str(), &endpoint->port) || endpoint->port == 0) {
    *error = "--clickhouse-url must be http://HOST[:PORT], got '" + url + "'";
    return false;
  }
  endpoint->host = host;
  return true;
}

// The password file's text without its final newline.
bool ReadPasswordFile(const std::string& path, std::string* password, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    *error = "cannot read the ClickHouse password file " + path;
    return false;
  }
  *password = text.str();
  while (!password->empty() && (password->back() == '\n' || password->back() == '\r')) {
    password->pop_back();  // the file's final newline is not part of it
  }
  return true;
}

}  // namespace

int Usage(const char* problem) {
  if (problem) std::fprintf(stderr, "causeway: %s\n", problem);
  std::fputs(kUsage, stderr);
  return 2;
}

int Help() {
  std::fputs(kUsage, stdout);
  return 0;
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

bool ParsePort(const char* s, int* port) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < 0 || v > 65535) return false;
  *port = static_cast<int>(v);
  return true;
}

void StoreChoice::FromEnvironment() {
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

int StoreChoice::Flag(int argc, char** argv, int* i, std::string* problem) {
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

bool StoreChoice::Resolve(store::StoreOptions* out, std::string* error) const {
  out->db_path = db;
  if (kind == "sqlite") {
    if (clickhouse_flag) {
      *error = "--clickhouse-* options need --store clickhouse (or CAUSEWAY_STORE=clickhouse)";
      return false;
    }
    out->clickhouse.reset();
    return true;
  }
  if (kind != "clickhouse") {
    *error = "--store must be sqlite or clickhouse, not " + kind;
    return false;
  }
  store::ClickHouseOptions o;
  if (!ParseClickHouseUrl(url, &o.endpoint, error)) return false;
  o.endpoint.database = database;
  o.endpoint.user = user;
  if (!password_file.empty()) {
    if (user.empty()) {
      *error = "--clickhouse-password-file needs --clickhouse-user";
      return false;
    }
    if (!ReadPasswordFile(password_file, &o.endpoint.password, error)) return false;
  }
  o.cluster = cluster;
  out->clickhouse = std::move(o);
  return true;
}

}  // namespace causeway::cli
