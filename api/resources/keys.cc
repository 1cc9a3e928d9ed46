#include "api/resources/keys.h"

#include <chrono>
#include <cmath>

#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/codec/time_text.h"
#include "api/http/log.h"

namespace causeway::api {
namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr double kMaxExpiresInDays = 36500;  // 100 years
constexpr int64_t kMsPerDay = 86400000;
constexpr int64_t kYear10000Ms = 253402300800000;  // IsoTime prints four-digit years

std::optional<Json> OptionalTime(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return Json(IsoTime(*ms));
}

// "expires_at": an ISO 8601 string or integer milliseconds since the epoch;
// "expires_in_days": a positive number. At most one; the instant is in the future.
void ReadExpiry(FieldReader& r, int64_t now_ms, std::optional<int64_t>* expires_ms) {
  std::optional<double> in_days;
  r.Optional("expires_in_days", &in_days);
  const bool has_at = r.Present("expires_at");
  if (const Json* at = r.Raw("expires_at")) {
    if (at->is_string()) {
      *expires_ms = ParseIsoTime(at->get<std::string>());
      r.Check(expires_ms->has_value(), "expires_at",
              "must be an ISO 8601 time such as 2027-01-31T12:00:00Z, or milliseconds since "
              "the Unix epoch");
    } else if (at->is_number_integer()) {
      *expires_ms = at->get<int64_t>();
    } else {
      r.Fail(InvalidArgument(r.PathOf("expires_at"),
                             "must be an ISO 8601 time string or integer milliseconds since the "
                             "Unix epoch"));
    }
    r.Check(!in_days, "expires_in_days", "give expires_at or expires_in_days, not both");
  }
  if (in_days) {
    r.Check(*in_days > 0 && *in_days <= kMaxExpiresInDays, "expires_in_days",
            "must be a number of days in (0, 36500]");
    if (r.ok()) *expires_ms = now_ms + static_cast<int64_t>(std::llround(*in_days * kMsPerDay));
  }
  if (r.ok() && has_at) {
    r.Check(**expires_ms > now_ms, "expires_at", "must be in the future");
    r.Check(**expires_ms < kYear10000Ms, "expires_at", "must be before the year 10000");
  }
}

}  // namespace

Json ApiKeyJson(const store::ApiKeyRow& row, int64_t now_ms) {
  Json j = {{"id", row.id},
            {"name", row.name.empty() ? Json(nullptr) : Json(row.name)},
            {"scope", store::KeyScopeName(row.scope)},
            {"prefix", row.prefix},
            {"created_at", IsoTime(row.created_ms)},
            {"expires_at", nullptr},
            {"revoked_at", nullptr},
            {"active", row.Active(now_ms)}};
  if (auto t = OptionalTime(row.expires_ms)) j["expires_at"] = *t;
  if (auto t = OptionalTime(row.revoked_ms)) j["revoked_at"] = *t;
  // What GrowthBook's SDKs take as decryptionKey; as public as the client key.
  if (row.scope == store::KeyScope::kClient) {
    j["decryption_key"] = row.payload_key.empty() ? Json(nullptr) : Json(row.payload_key);
  }
  return j;
}

HandlerResult KeyService::List() {
  auto rows = store_->ListApiKeys();
  if (!rows.ok()) return rows.status();
  const int64_t now_ms = NowMs();
  Json keys = Json::array();
  for (const store::ApiKeyRow& row : *rows) keys.push_back(ApiKeyJson(row, now_ms));
  return Json{{"keys", std::move(keys)}};
}

HandlerResult KeyService::Create(const Json& body) {
  const int64_t now_ms = NowMs();
  NewApiKey spec;
  FieldReader r(body);
  r.Enum("scope", &spec.scope,
         {{"admin", store::KeyScope::kAdmin},
          {"sdk", store::KeyScope::kSdk},
          {"client", store::KeyScope::kClient}});
  r.Check(r.Present("scope"), "scope", "is required: admin, sdk or client");
  r.Optional("name", &spec.name);
  r.Optional("encrypt_payload", &spec.encrypt_payload);
  r.Check(!spec.encrypt_payload || spec.scope == store::KeyScope::kClient, "encrypt_payload",
          "only a client key has a payload to encrypt");
  r.Check(spec.name.size() <= kMaxNameBytes, "name", "must be at most 200 bytes");
  bool printable = true;
  for (unsigned char c : spec.name) printable = printable && c >= 0x20 && c != 0x7f;
  r.Check(printable, "name", "must not contain control characters");
  ReadExpiry(r, now_ms, &spec.expires_ms);
  if (Status s = r.Finish(); !s.ok()) return s;

  std::string secret;
  auto row = CreateApiKey(*store_, spec, &secret);
  if (!row.ok()) return row.status();
  Json out = ApiKeyJson(*row, now_ms);
  Log("info", "api key created", {{"id", row->id}, {"scope", out["scope"]}});
  out["key"] = std::move(secret);
  return HandlerResult(std::move(out), 201);
}

HandlerResult KeyService::Revoke(const std::string& id, std::string_view body) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  const int64_t now_ms = NowMs();
  auto row = store_->RevokeApiKey(id, now_ms);
  if (!row.ok()) return row.status();
  auth_->Forget();
  Log("info", "api key revoked", {{"id", row->id}});
  return ApiKeyJson(*row, now_ms);
}

}  // namespace causeway::api
