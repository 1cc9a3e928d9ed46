// causeway keys create|list|revoke: works on the store directly (the SQLite file
// or the ClickHouse database), so it needs no key and no running server; a
// running server honours a new key at once and refuses a revoked one within
// KeyAuthenticator::kRevocationCheckInterval.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "api/http/auth.h"
#include "api/http/log.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "store/open_store.h"

namespace causeway::cli {
namespace {

// What the command line asks of `keys`.
struct KeysRequest {
  std::string verb;  // create, list or revoke
  std::string scope, name, id;
  std::optional<double> days;
  store::StoreOptions store;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "causeway: %s\n", s.message().c_str());
  return 1;
}

const char* ScopeName(store::KeyScope scope) { return store::KeyScopeName(scope); }

// "2026-11-23 18:47" (UTC), or "-".
std::string ShortTime(const std::optional<int64_t>& ms) {
  if (!ms) return "-";
  std::string t = api::IsoTime(*ms);  // 2026-11-23T18:47:00.123Z
  return t.substr(0, 10) + " " + t.substr(11, 5);
}

// Applies argv[*i], an option of the verb that is not a store option; the exit
// status when it is unknown or bad.
std::optional<int> KeysFlag(int argc, char** argv, int* i, KeysRequest* r) {
  const std::string a = argv[*i];
  const bool has_value = *i + 1 < argc;
  if (r->verb == "create" && a == "--scope" && has_value) {
    r->scope = argv[++*i];
  } else if (r->verb == "create" && a == "--name" && has_value) {
    r->name = argv[++*i];
  } else if (r->verb == "create" && a == "--expires-in-days" && has_value) {
    char* end = nullptr;
    const char* v = argv[++*i];
    r->days = std::strtod(v, &end);
    if (!*v || *end || !(*r->days > 0 && *r->days <= 36500)) {
      return Usage("--expires-in-days needs a number of days in (0, 36500]");
    }
  } else if (r->verb == "revoke" && r->id.empty() && !a.starts_with("-")) {
    r->id = a;
  } else {
    return Usage(("unknown option " + a).c_str());
  }
  return std::nullopt;
}

// The verb, its options and the store. nullopt when the command may run;
// otherwise the exit status.
std::optional<int> ParseKeysFlags(int argc, char** argv, KeysRequest* r) {
  r->verb = argc >= 1 ? argv[0] : "";
  if (r->verb != "create" && r->verb != "list" && r->verb != "revoke") {
    return Usage("expected: keys create, keys list or keys revoke ID");
  }
  StoreChoice store_choice;
  store_choice.FromEnvironment();
  for (int i = 1; i < argc; ++i) {
    std::string problem;
    if (const int f = store_choice.Flag(argc, argv, &i, &problem); f != 0) {
      if (f < 0) return Usage(problem.c_str());
      continue;
    }
    if (auto status = KeysFlag(argc, argv, &i, r)) return status;
  }
  if (r->verb == "create" && !store::ParseKeyScope(r->scope)) {
    return Usage("--scope must be sdk, admin or client");
  }
  if (r->verb == "revoke" && r->id.empty()) return Usage("keys revoke needs a key id (keys list)");
  if (std::string error; !store_choice.Resolve(&r->store, &error)) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  return std::nullopt;
}

int KeysList(store::Store& store) {
  auto rows = store.ListApiKeys();
  if (!rows.ok()) return Fail(rows.status());
  const int64_t now = api::NowMs();
  std::printf("%-16s  %-5s  %-7s  %-20s  %-16s  %-16s  %-16s  %s\n", "ID", "SCOPE", "STATE",
              "PREFIX", "CREATED", "EXPIRES", "REVOKED", "NAME");
  for (const auto& k : *rows) {
    const char* state = k.revoked_ms ? "revoked" : k.Active(now) ? "active" : "expired";
    std::printf("%-16s  %-5s  %-7s  %-20s  %-16s  %-16s  %-16s  %s\n", k.id.c_str(),
                ScopeName(k.scope), state, (k.prefix + "...").c_str(),
                ShortTime(k.created_ms).c_str(), ShortTime(k.expires_ms).c_str(),
                ShortTime(k.revoked_ms).c_str(), k.name.empty() ? "-" : k.name.c_str());
  }
  return 0;
}

int KeysRevoke(store::Store& store, const std::string& id) {
  const int64_t now = api::NowMs();
  auto row = store.RevokeApiKey(id, now);
  if (!row.ok()) return Fail(row.status());
  std::printf("%s %s (%s, %s...) at %s\n",
              *row->revoked_ms == now ? "revoked" : "was already revoked", row->id.c_str(),
              ScopeName(row->scope), row->prefix.c_str(), api::IsoTime(*row->revoked_ms).c_str());
  return 0;
}

int KeysCreate(store::Store& store, const KeysRequest& r) {
  api::NewApiKey spec;
  spec.scope = store::ParseKeyScope(r.scope).value_or(store::KeyScope::kSdk);
  spec.name = r.name;
  if (r.days) spec.expires_ms = api::NowMs() + static_cast<int64_t>(*r.days * 86400000.0);
  std::string key;
  auto row = api::CreateApiKey(store, spec, &key);
  if (!row.ok()) return Fail(row.status());
  // The secret alone on stdout, for scripts; what it is on stderr.
  std::printf("%s\n", key.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "created %s (%s%s%s); the key is shown only now\n", row->id.c_str(),
               r.scope.c_str(), row->expires_ms ? ", expires " : "",
               row->expires_ms ? api::IsoTime(*row->expires_ms).c_str() : "");
  return 0;
}

}  // namespace

int RunKeys(int argc, char** argv) {
  KeysRequest request;
  if (auto status = ParseKeysFlags(argc, argv, &request)) return *status;
  std::string error;
  std::unique_ptr<store::Store> store = store::OpenStore(request.store, &error);
  if (!store) {
    std::fprintf(stderr, "causeway: %s\n", error.c_str());
    return 1;
  }
  if (request.verb == "list") return KeysList(*store);
  if (request.verb == "revoke") return KeysRevoke(*store, request.id);
  return KeysCreate(*store, request);
}

}  // namespace causeway::cli
