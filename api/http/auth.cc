#include "api/http/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>

#include "api/http/log.h"
#include "crypto/crypto.h"

namespace causeway::api {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

StatusOr<store::ApiKeyRow> CreateApiKey(store::Store& store, const NewApiKey& spec,
                                        std::string* key) {
  // A clash of 48-bit ids is as good as impossible; it is retried all the same.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    unsigned char secret[16], id[6];
    if (RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes(id, sizeof id) != 1) {
      return Status::Internal("no system randomness");
    }
    *key = std::string("cw_") + store::KeyScopeName(spec.scope) + "_" + Hex(secret, sizeof secret);
    store::ApiKeyRow row;
    row.id = "key_" + Hex(id, sizeof id);
    row.hash = Sha256Hex(*key);
    row.prefix = key->substr(0, key->size() - 24);  // the scope and 8 of 32 hex digits
    row.scope = spec.scope;
    row.name = spec.name;
    row.created_ms = NowMs();
    row.expires_ms = spec.expires_ms;
    if (spec.encrypt_payload) {
      std::optional<std::string> aes = crypto::RandomBytes(16);
      if (!aes) return Status::Internal("no system randomness");
      row.payload_key = crypto::Base64Encode(*aes);
    }
    last = store.CreateApiKey(row);
    if (last.ok()) return row;
    if (last.code() != StatusCode::kAlreadyExists) break;
  }
  key->clear();
  return last;
}

std::optional<KeyAuthenticator::Verified> KeyAuthenticator::Verify(std::string_view key) {
  if (key.empty() || key.size() > 256) return std::nullopt;
  CheckRevocations();
  const int64_t now_ms = NowMs();
  uint64_t epoch = 0;
  {
    std::shared_lock lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) {
      const Entry& e = it->second;
      if (e.expires_ms && now_ms >= *e.expires_ms) return std::nullopt;
      return Verified{e.scope, e.payload_key};
    }
    epoch = epoch_;
  }
  // A storage error refuses the key too (fail closed); the next request asks again.
  auto row = store_->FindApiKey(Sha256Hex(key));
  if (!row.ok() || !row->Active(now_ms)) return std::nullopt;
  std::unique_lock lock(mu_);
  // Not when a Forget() came between the read and now: the row may be stale.
  if (epoch_ == epoch) {
    known_.emplace(std::string(key), Entry{row->scope, row->expires_ms, row->payload_key});
  }
  return Verified{row->scope, row->payload_key};
}

void KeyAuthenticator::Forget() {
  std::unique_lock lock(mu_);
  known_.clear();
  ++epoch_;
}

void KeyAuthenticator::CheckRevocations() {
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  if (now_ns < due) return;
  // One request reads the counter; the others go on meanwhile.
  const int64_t next =
      now_ns +
      std::chrono::duration_cast<std::chrono::nanoseconds>(kRevocationCheckInterval).count();
  if (!next_check_ns_.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
  StatusOr<int64_t> revocations = store_->ApiKeyRevocations();
  // Unreadable (the store down): keep the keys verified so far, as the rest of
  // the configuration keeps being served (docs/architecture.md, "Several
  // instances"); a key not verified yet is refused, since its lookup fails too.
  // The counter is compared again once it can be read.
  if (!revocations.ok()) return;
  if (revocations_.exchange(*revocations) != *revocations) Forget();
}

}  // namespace causeway::api
