// API keys: `Authorization: Bearer <key>`, two scopes.
//   sdk   - assignment and event ingestion
//   admin - everything
// Keys are 128 random bits (OpenSSL RAND_bytes) shown once; the store keeps only
// their SHA-256 (docs/dependencies.md says why OpenSSL rather than hand-rolled crypto).
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.h"

namespace causeway::api {

std::string Sha256Hex(std::string_view data);

// Creates and stores a new key; returns the key text (the only time it exists in clear).
Status CreateApiKey(store::Store& store, store::KeyScope scope, std::string* key);

// Looks keys up through a cache of verified keys; a cache miss asks the store, so
// keys created by `causeway keys create` while the server runs are honoured.
// Thread-safe.
class KeyAuthenticator {
 public:
  explicit KeyAuthenticator(store::Store* store) : store_(store) {}
  std::optional<store::KeyScope> Lookup(std::string_view key);

 private:
  // Heterogeneous lookup: the hot path hashes the header's string_view without copying.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  store::Store* store_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, store::KeyScope, KeyHash, std::equal_to<>>
      known_;  // GUARDED_BY(mu_)
};

}  // namespace causeway::api
