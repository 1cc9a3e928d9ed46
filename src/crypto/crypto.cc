#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace causeway::crypto {

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string padded(text);
  while (padded.size() % 4 != 0) padded += '=';
  for (char c : padded) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;  // EVP_DecodeBlock would skip white space
  }
  std::string out(3 * padded.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(padded.data()),
                                static_cast<int>(padded.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's bytes as zeros: drop them.
  size_t pad = 0;
  for (size_t i = padded.size(); i > 0 && padded[i - 1] == '='; --i) ++pad;
  if (pad > 2) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::optional<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return std::nullopt;
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

std::optional<std::string> Aes128Cbc(bool encrypt, std::string_view key, std::string_view iv,
                                     std::string_view in) {
  if (key.size() != 16 || iv.size() != 16 || in.size() > (size_t{1} << 30)) return std::nullopt;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return std::nullopt;
  std::string out(in.size() + 16, '\0');
  int n = 0, tail = 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* v = reinterpret_cast<const unsigned char*>(iv.data());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const bool ok = EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), nullptr, k, v, encrypt ? 1 : 0) == 1 &&
                  EVP_CipherUpdate(ctx, o, &n, reinterpret_cast<const unsigned char*>(in.data()),
                                   static_cast<int>(in.size())) == 1 &&
                  EVP_CipherFinal_ex(ctx, o + n, &tail) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

}  // namespace

std::optional<std::string> Aes128CbcEncrypt(std::string_view key, std::string_view iv,
                                            std::string_view plaintext) {
  return Aes128Cbc(true, key, iv, plaintext);
}

std::optional<std::string> Aes128CbcDecrypt(std::string_view key, std::string_view iv,
                                            std::string_view ciphertext) {
  return Aes128Cbc(false, key, iv, ciphertext);
}

}  // namespace causeway::crypto
