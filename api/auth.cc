#include "api/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>

#include "api/log.h"

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

Status CreateApiKey(store::Store& store, store::KeyScope scope, std::string* key) {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("no system randomness");
  *key = std::string(scope == store::KeyScope::kAdmin ? "cw_admin_" : "cw_sdk_") +
         Hex(raw, sizeof raw);
  store::ApiKeyRow row{Sha256Hex(*key), key->substr(0, key->size() - 24), scope, NowMs()};
  return store.CreateApiKey(row);
}

std::optional<store::KeyScope> KeyAuthenticator::Lookup(std::string_view key) {
  if (key.empty() || key.size() > 256) return std::nullopt;
  {
    std::shared_lock lock(mu_);
    if (auto it = known_.find(key); it != known_.end()) return it->second;
  }
  // A storage error refuses the key too (fail closed); the next request asks again.
  auto row = store_->FindApiKey(Sha256Hex(key));
  if (!row.ok()) return std::nullopt;
  std::unique_lock lock(mu_);
  known_.emplace(std::string(key), row->scope);
  return row->scope;
}

}  // namespace causeway::api
