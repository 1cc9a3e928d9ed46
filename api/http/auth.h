// API keys: `Authorization: Bearer <key>`, two scopes.
//   sdk   - assignment and event ingestion
//   admin - everything
// Keys are 128 random bits (OpenSSL RAND_bytes) shown once; the store keeps only
// their SHA-256 (docs/dependencies.md says why OpenSSL rather than hand-rolled crypto).
// A key may expire and may be revoked; either refuses it from then on
// (docs/running.md, "API keys").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.h"

namespace causeway::api {

std::string Sha256Hex(std::string_view data);

struct NewApiKey {
  store::KeyScope scope = store::KeyScope::kSdk;
  std::string name;                   // optional description
  std::optional<int64_t> expires_ms;  // none: never expires
  bool encrypt_payload = false;       // client keys: a random AES-128 payload key
};

// Creates and stores a new key with a fresh public id ("key_" + 12 random hex
// chars, independent of the secret); *key receives the secret, the only time it
// exists in clear. Returns the stored row.
StatusOr<store::ApiKeyRow> CreateApiKey(store::Store& store, const NewApiKey& spec,
                                        std::string* key);
inline Status CreateApiKey(store::Store& store, store::KeyScope scope, std::string* key) {
  return CreateApiKey(store, NewApiKey{scope, "", std::nullopt}, key).status();
}

// Looks keys up through a cache of verified keys.
//
// - A cache miss asks the store, so keys created by `causeway keys create` while
//   the server runs are honoured at once.
// - Expiry is compared with the clock on every request (the cache keeps it).
// - Revocation: Forget() empties the cache; the admin endpoint calls it after the
//   revocation commits, so the very next request is refused. A revocation by
//   another process (`causeway keys revoke` on the same database) raises the
//   store's revocation counter; at most every kRevocationCheckInterval one
//   request reads it (one indexed SQLite row) and empties the cache when it
//   changed. So a key revoked anywhere is refused by every request that starts
//   kRevocationCheckInterval after the revocation committed (plus the time of
//   that one read); the rest of the hot path is a shared lock, a hash lookup and
//   two clock reads.
// - A store error refuses a key not verified yet (fail closed); the next
//   request asks again. While the revocation counter cannot be read, keys
//   already verified stay accepted (expiry still checked), as assignment keeps
//   serving the last configuration when the store is down; a revocation is
//   honoured within the bound above once the store answers again.
//
// Thread-safe.
class KeyAuthenticator {
 public:
  static constexpr std::chrono::milliseconds kRevocationCheckInterval{250};

  explicit KeyAuthenticator(store::Store* store) : store_(store) {}

  struct Verified {
    store::KeyScope scope;
    std::string payload_key;  // client keys: the payload's encryption key ("" for none)
  };
  // What an active (known, unrevoked, unexpired) key is, else nullopt.
  std::optional<Verified> Verify(std::string_view key);
  // Its scope only.
  std::optional<store::KeyScope> Lookup(std::string_view key) {
    auto v = Verify(key);
    return v ? std::optional<store::KeyScope>(v->scope) : std::nullopt;
  }

  // Forgets every verified key; the next lookup of each asks the store.
  void Forget();

 private:
  struct Entry {
    store::KeyScope scope;
    std::optional<int64_t> expires_ms;
    std::string payload_key;
  };
  // Heterogeneous lookup: the hot path hashes the header's string_view without copying.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Reads the store's revocation counter when kRevocationCheckInterval has passed
  // since the last read, and forgets every key when it changed.
  void CheckRevocations();

  store::Store* store_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> known_;  // GUARDED_BY(mu_)
  // Raised by Forget(): a lookup that read the store before a Forget() must not
  // cache what it read after it.
  uint64_t epoch_ = 0;  // GUARDED_BY(mu_)
  // steady_clock nanoseconds at which the next request reads the counter.
  std::atomic<int64_t> next_check_ns_{0};
  std::atomic<int64_t> revocations_{-1};  // last value read; -1: none yet
};

}  // namespace causeway::api
