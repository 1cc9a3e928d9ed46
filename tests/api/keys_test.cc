// API keys end to end: the admin endpoints, expiry, revocation by this server and
// by another process on the same database, and `causeway keys`.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>

#include "api/http/auth.h"
#include "api/resources/keys.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "test_server.h"

using causeway::testing::Json;
using causeway::testing::RunCli;
using causeway::testing::TestServer;
using Clock = std::chrono::steady_clock;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CheckError(const TestServer::Reply& r, int status, const std::string& code,
                const std::string& field) {
  INFO(r.raw);
  CHECK(r.status == status);
  REQUIRE(r.body.is_object());
  REQUIRE(r.body.contains("error"));
  CHECK(r.body["error"].value("code", "") == code);
  if (!field.empty()) CHECK(r.body["error"].value("field", "") == field);
}

// Polls `done` until it holds or `deadline` passes; returns how long that took.
// Clock::duration::max() when it never held.
Clock::duration PollUntil(const std::function<bool()>& done, Clock::duration deadline) {
  const auto start = Clock::now();
  while (Clock::now() - start < deadline) {
    if (done()) return Clock::now() - start;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Clock::duration::max();
}

// A request only an sdk or admin key passes: 404 (no such experiment) when the
// key is accepted, 401 when it is not.
int AssignStatus(const TestServer& s, const std::string& key) {
  return s.Get("/v1/assign?experiment=none&user=u", key).status;
}

Json CreateKey(const TestServer& s, const Json& body) {
  auto r = s.Post("/v1/keys", s.admin_key, body);
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return r.body;
}

// The id of `key`, listed with `admin` (default: the server's first admin key).
std::string IdOf(const TestServer& s, const std::string& key, std::string admin = "") {
  auto list = s.Get("/v1/keys", admin.empty() ? s.admin_key : admin);
  REQUIRE(list.status == 200);
  for (const auto& k : list.body["keys"]) {
    if (key.rfind(k["prefix"].get<std::string>(), 0) == 0) return k["id"];
  }
  FAIL("no key with a prefix of " << key);
  return "";
}

constexpr auto kBound = causeway::api::KeyAuthenticator::kRevocationCheckInterval;

}  // namespace

TEST_CASE("keys: create through the endpoint, use, revoke: the very next request is refused") {
  TestServer s;
  Json created = CreateKey(s, {{"scope", "sdk"}, {"name", "web shop"}});
  const std::string key = created["key"];
  const std::string id = created["id"];
  CHECK(key.rfind("cw_sdk_", 0) == 0);
  CHECK(id.size() == 16);
  CHECK(id.rfind("key_", 0) == 0);
  CHECK(key.find(id.substr(4)) == std::string::npos);  // the id says nothing of the secret
  CHECK(key.rfind(created["prefix"].get<std::string>(), 0) == 0);
  CHECK(created["scope"] == "sdk");
  CHECK(created["name"] == "web shop");
  CHECK(created["expires_at"].is_null());
  CHECK(created["revoked_at"].is_null());
  CHECK(created["active"] == true);
  CHECK(created["created_at"].is_string());

  CHECK(AssignStatus(s, key) == 404);  // accepted, and now cached
  CHECK(AssignStatus(s, key) == 404);
  CheckError(s.Get("/v1/keys", key), 403, "permission_denied", "Authorization");

  auto revoked = s.Post("/v1/keys/" + id + "/revoke", s.admin_key, Json::object());
  INFO(revoked.raw);
  REQUIRE(revoked.status == 200);
  CHECK(revoked.body["id"] == id);
  CHECK(revoked.body["revoked_at"].is_string());
  CHECK(revoked.body["active"] == false);
  CHECK_FALSE(revoked.body.contains("key"));
  CheckError(s.Get("/v1/assign?experiment=none&user=u", key), 401, "unauthenticated",
             "Authorization");

  // Revoking again changes nothing; an empty body is fine too.
  auto again = s.Call("POST", "/v1/keys/" + id + "/revoke", s.admin_key, "");
  REQUIRE(again.status == 200);
  CHECK(again.body["revoked_at"] == revoked.body["revoked_at"]);
  CheckError(s.Post("/v1/keys/key_000000000000/revoke", s.admin_key, Json::object()), 404,
             "not_found", "id");
  // Other keys are not affected.
  CHECK(AssignStatus(s, s.sdk_key) == 404);
}

TEST_CASE("keys: a revocation by another connection to the database is refused within the bound") {
  TestServer s;
  Json created = CreateKey(s, {{"scope", "admin"}});
  const std::string key = created["key"];
  REQUIRE(s.Get("/v1/keys", key).status == 200);  // cached by the server
  std::string error;
  auto other = causeway::store::OpenSqliteStore(s.db_path(), &error);
  REQUIRE(other);
  const auto revoked_at = Clock::now();
  REQUIRE(other->RevokeApiKey(created["id"].get<std::string>(), NowMs()).ok());
  auto waited =
      PollUntil([&] { return s.Get("/v1/keys", key).status == 401; }, std::chrono::seconds(10));
  const double waited_ms = std::chrono::duration<double, std::milli>(waited).count();
  INFO("refused after " << waited_ms << " ms");
  REQUIRE(waited != Clock::duration::max());
  // The documented bound plus slack for a loaded machine.
  CHECK(Clock::now() - revoked_at < kBound + std::chrono::milliseconds(750));
  CHECK(s.Get("/v1/keys", s.admin_key).status == 200);
}

TEST_CASE(
    "keys: while the store cannot be read, verified keys and the configuration keep serving") {
  causeway::api::ServerOptions options;
  options.config_poll_ms = 50;
  TestServer s(options);
  REQUIRE(s.Post("/v1/experiments", s.admin_key,
                 {{"key", "checkout"},
                  {"variants", {{{"key", "control"}}, {{"key", "treatment"}}}},
                  {"status", "running"}})
              .status == 201);
  Json created = CreateKey(s, {{"scope", "sdk"}});
  const std::string key = created["key"];
  auto assign = [&](const std::string& k) {
    return s.Get("/v1/assign?experiment=checkout&user=u1", k).status;
  };
  REQUIRE(assign(s.sdk_key) == 200);  // both verified and cached
  REQUIRE(assign(key) == 200);

  // The counters and the keys unreadable, as when the store is unreachable: every
  // read of the configuration version, the revocation counter or a key fails.
  auto sql = [&](const char* statement) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(s.db_path().c_str(), &raw) == SQLITE_OK);
    const int rc = sqlite3_exec(raw, statement, nullptr, nullptr, nullptr);
    sqlite3_close(raw);
    REQUIRE(rc == SQLITE_OK);
  };
  sql("ALTER TABLE api_keys RENAME TO api_keys_away; DROP TABLE counters");
  const auto outage = Clock::now();
  int refused = 0;
  // Longer than the revocation check (250 ms) and many polls (50 ms).
  while (Clock::now() - outage < kBound + std::chrono::milliseconds(400)) {
    if (assign(s.sdk_key) != 200 || assign(key) != 200) ++refused;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(refused == 0);
  CHECK(assign("cw_sdk_never_verified") == 401);
  const std::string metrics = s.Get("/metrics", "").raw;
  CHECK(metrics.find("causeway_config_refresh_failures_total 0") == std::string::npos);
  CHECK(metrics.find("causeway_config_refresh_failures_total") != std::string::npos);

  // Readable again: a revocation by another process is honoured within the bound.
  sql("CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
      "INSERT INTO counters VALUES('config_version', 1000), ('api_key_revocations', 1000);"
      "ALTER TABLE api_keys_away RENAME TO api_keys");
  std::string error;
  auto other = causeway::store::OpenSqliteStore(s.db_path(), &error);
  REQUIRE(other);
  REQUIRE(other->RevokeApiKey(created["id"].get<std::string>(), NowMs()).ok());
  auto waited = PollUntil([&] { return assign(key) == 401; }, std::chrono::seconds(10));
  REQUIRE(waited != Clock::duration::max());
  CHECK(waited < kBound + std::chrono::milliseconds(750));
  CHECK(assign(s.sdk_key) == 200);
}

TEST_CASE("keys: an expired key is refused, cached or not") {
  TestServer s;
  // Expires in 1.5 s: accepted now (and cached), refused from then on.
  const int64_t expires_ms = NowMs() + 1500;
  Json created = CreateKey(s, {{"scope", "sdk"}, {"expires_at", expires_ms}});
  const std::string key = created["key"];
  CHECK(created["expires_at"].is_string());
  CHECK(AssignStatus(s, key) == 404);
  auto waited = PollUntil([&] { return AssignStatus(s, key) == 401; }, std::chrono::seconds(10));
  REQUIRE(waited != Clock::duration::max());
  CHECK(NowMs() >= expires_ms);
  auto listed = s.Get("/v1/keys", s.admin_key);
  for (const auto& k : listed.body["keys"]) {
    if (k["id"] == created["id"]) CHECK(k["active"] == false);
  }

  // A key that had expired before its first use (written by another process).
  std::string error;
  auto other = causeway::store::OpenSqliteStore(s.db_path(), &error);
  REQUIRE(other);
  causeway::store::ApiKeyRow row;
  row.id = "key_0123456789ab";
  row.hash = causeway::api::Sha256Hex("cw_sdk_expired");
  row.prefix = "cw_sdk_e";
  row.created_ms = NowMs() - 2000;
  row.expires_ms = NowMs() - 1000;
  REQUIRE(other->CreateApiKey(row).ok());
  CheckError(s.Get("/v1/assign?experiment=none&user=u", "cw_sdk_expired"), 401, "unauthenticated",
             "Authorization");

  // Expiry forms: ISO 8601, milliseconds, days; never in the past.
  Json iso = CreateKey(s, {{"scope", "sdk"}, {"expires_at", "2099-01-31T12:00:00+01:00"}});
  CHECK(iso["expires_at"] == "2099-01-31T11:00:00.000Z");
  Json days = CreateKey(s, {{"scope", "sdk"}, {"expires_in_days", 2}});
  auto in_two_days = causeway::api::ParseIsoTime(days["expires_at"].get<std::string>());
  REQUIRE(in_two_days);
  CHECK(std::abs(*in_two_days - (NowMs() + 2 * 86400000)) < 60000);
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"expires_at", NowMs() - 1}}), 400,
             "invalid_argument", "expires_at");
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"expires_at", "yesterday"}}), 400,
             "invalid_argument", "expires_at");
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"expires_in_days", 0}}), 400,
             "invalid_argument", "expires_in_days");
  CheckError(s.Post("/v1/keys", s.admin_key,
                    {{"scope", "sdk"}, {"expires_in_days", 1}, {"expires_at", "2099-01-01"}}),
             400, "invalid_argument", "expires_in_days");
}

TEST_CASE("keys: the list shows ids and scopes, never a secret or its hash") {
  TestServer s;
  Json created = CreateKey(s, {{"scope", "admin"}, {"name", "ci"}});
  auto r = s.Get("/v1/keys", s.admin_key);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["keys"].size() == 3);
  const std::set<std::string> fields = {"id",         "name",       "scope",      "prefix",
                                        "created_at", "expires_at", "revoked_at", "active"};
  for (const auto& k : r.body["keys"]) {
    std::set<std::string> got;
    for (const auto& [name, value] : k.items()) got.insert(name);
    CHECK(got == fields);
  }
  for (const std::string& key : {s.admin_key, s.sdk_key, created["key"].get<std::string>()}) {
    CHECK(r.raw.find(key) == std::string::npos);
    CHECK(r.raw.find(causeway::api::Sha256Hex(key)) == std::string::npos);
    CHECK(r.raw.find(key.substr(key.size() - 24)) == std::string::npos);  // the hidden part
  }
  CHECK(r.body["keys"][2]["name"] == "ci");
  CHECK(r.body["keys"][0]["name"].is_null());
}

TEST_CASE("keys: unknown or malformed fields are refused, naming them") {
  TestServer s;
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"colour", "red"}}), 400,
             "invalid_argument", "colour");
  CheckError(s.Post("/v1/keys", s.admin_key, Json::object()), 400, "invalid_argument", "scope");
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "root"}}), 400, "invalid_argument",
             "scope");
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"name", 7}}), 400,
             "invalid_argument", "name");
  CheckError(s.Post("/v1/keys", s.admin_key, {{"scope", "sdk"}, {"name", "a\nb"}}), 400,
             "invalid_argument", "name");
  CheckError(s.Get("/v1/keys?include=all", s.admin_key), 400, "invalid_argument", "include");
  const std::string id = IdOf(s, s.sdk_key);
  CheckError(s.Post("/v1/keys/" + id + "/revoke", s.admin_key, {{"force", true}}), 400,
             "invalid_argument", "force");
  CheckError(s.Call("POST", "/v1/keys/" + id + "/revoke", s.admin_key, "nope"), 400,
             "invalid_argument", "");
  CHECK(AssignStatus(s, s.sdk_key) == 404);  // none of that revoked it
  CheckError(s.Post("/v1/keys", s.sdk_key, {{"scope", "admin"}}), 403, "permission_denied",
             "Authorization");
}

TEST_CASE("keys: the last active admin key cannot be revoked (409), so nobody is locked out") {
  TestServer s;
  const std::string first = IdOf(s, s.admin_key);
  CheckError(s.Post("/v1/keys/" + first + "/revoke", s.admin_key, Json::object()), 409,
             "failed_precondition", "id");
  CHECK(s.Get("/v1/keys", s.admin_key).status == 200);
  // With a second admin key, the first may go, even by its own hand.
  Json second = CreateKey(s, {{"scope", "admin"}});
  REQUIRE(s.Post("/v1/keys/" + first + "/revoke", s.admin_key, Json::object()).status == 200);
  CheckError(s.Get("/v1/keys", s.admin_key), 401, "unauthenticated", "Authorization");
  const std::string key = second["key"];
  CheckError(s.Post("/v1/keys/" + second["id"].get<std::string>() + "/revoke", key, Json::object()),
             409, "failed_precondition", "id");
  // sdk keys are never the last admin key.
  CHECK(s.Post("/v1/keys/" + IdOf(s, s.sdk_key, key) + "/revoke", key, Json::object()).status ==
        200);
}

TEST_CASE("causeway keys create|list|revoke on the database of a running server") {
  TestServer s;
  const std::string db = "--db '" + s.db_path() + "'";
  std::string out;
  REQUIRE(RunCli("keys create --scope sdk --name cli-made --expires-in-days 1 " + db, &out) == 0);
  INFO(out);
  const std::string key = out.substr(0, out.find('\n'));
  REQUIRE(key.rfind("cw_sdk_", 0) == 0);
  CHECK(AssignStatus(s, key) == 404);  // honoured at once

  REQUIRE(RunCli("keys list " + db, &out) == 0);
  INFO(out);
  const std::string id = IdOf(s, key);
  CHECK(out.find(id) != std::string::npos);
  CHECK(out.find("cli-made") != std::string::npos);
  CHECK(out.find("ID ") == 0);
  for (const std::string& k : {s.admin_key, s.sdk_key, key}) {
    CHECK(out.find(k) == std::string::npos);
  }

  REQUIRE(RunCli("keys revoke " + id + " " + db, &out) == 0);
  // The bound runs from the revocation's commit (the command has returned), not
  // from the start of a process whose start-up a loaded or sanitized machine slows.
  const auto revoked_at = Clock::now();
  CHECK(out.find("revoked " + id) == 0);
  auto waited = PollUntil([&] { return AssignStatus(s, key) == 401; }, std::chrono::seconds(10));
  REQUIRE(waited != Clock::duration::max());
  CHECK(Clock::now() - revoked_at < kBound + std::chrono::milliseconds(750));

  CHECK(RunCli("keys revoke key_000000000000 " + db, &out) == 1);
  CHECK(out.find("no API key") != std::string::npos);
  CHECK(RunCli("keys revoke " + IdOf(s, s.admin_key) + " " + db, &out) == 1);
  CHECK(out.find("last active admin key") != std::string::npos);
  CHECK(RunCli("keys frobnicate " + db, &out) == 2);
}

TEST_CASE("ParseIsoTime reads RFC 3339 times and dates, and nothing else") {
  struct Case {
    const char* text;
    std::optional<int64_t> ms;
  } cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01", 0},
      {"2027-01-31T12:00:00Z", 1801396800000},
      {"2027-01-31t12:00:00.25z", 1801396800250},
      {"2027-01-31T12:00:00.123456Z", 1801396800123},
      {"2027-01-31T13:30:00+01:30", 1801396800000},
      {"2027-01-31T10:00:00-02:00", 1801396800000},
      {"2024-02-29", 1709164800000},
      {"2023-02-29", std::nullopt},
      {"2027-13-01", std::nullopt},
      {"2027-01-31T12:00:00", std::nullopt},  // a time needs an offset
      {"2027-01-31T24:00:00Z", std::nullopt},
      {"2027-01-31T12:00Z", std::nullopt},
      {"2027-01-31T12:00:00.Z", std::nullopt},
      {"2027-01-31T12:00:00Zjunk", std::nullopt},
      {"27-01-31", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(causeway::api::ParseIsoTime(c.text) == c.ms);
  }
}
