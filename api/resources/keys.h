// Admin endpoints for API keys (docs/api.md, "API keys"):
//   GET  /v1/keys               every key: id, name, scope, prefix, times; never a secret
//   POST /v1/keys               a new key; the only answer that carries the secret
//   POST /v1/keys/{id}/revoke   refuse the key from the next request on
// The rules on keys (expiry, the last admin key) live in the store and in
// api/http/auth.h; these handlers decode, call and encode.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/codec/time_text.h"
#include "api/handler.h"
#include "api/http/auth.h"
#include "store/store.h"

namespace causeway::api {

// {"id", "name", "scope", "prefix", "created_at", "expires_at", "revoked_at",
// "active"}; times are ISO 8601 (UTC) or null. Never the hash.
Json ApiKeyJson(const store::ApiKeyRow& row, int64_t now_ms);

// Milliseconds since the Unix epoch of an RFC 3339 / ISO 8601 time,
// "2027-01-31T12:00:00Z", "2027-01-31T12:00:00.250+02:00", or a date
// "2027-01-31" (midnight UTC); nullopt when malformed.

// Thread-safe when the store and the authenticator are.
class KeyService {
 public:
  KeyService(store::Store* store, KeyAuthenticator* auth) : store_(store), auth_(auth) {}

  // GET /v1/keys: {"keys": [...]}, oldest first, revoked and expired ones included.
  HandlerResult List();
  // POST /v1/keys {"scope": "admin"|"sdk"|"client", "name"?, "expires_at"? | "expires_in_days"?}
  // -> 201 with the key's fields and "key", the secret.
  HandlerResult Create(const Json& body);
  // POST /v1/keys/{id}/revoke with an empty body or {}: 200 with the key's fields.
  // Idempotent; 404 for an unknown id; 409 for the last active admin key. The
  // authenticator forgets its verified keys before this returns, so the very next
  // request with the key is refused.
  HandlerResult Revoke(const std::string& id, std::string_view body);

 private:
  store::Store* store_;
  KeyAuthenticator* auth_;
};

}  // namespace causeway::api
