// Small wrappers over OpenSSL's libcrypto (docs/dependencies.md): no hand-rolled
// cryptography. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::crypto {

// The 32-byte SHA-256 digest of `data`, as raw bytes.
std::string Sha256(std::string_view data);
// Lower-case hexadecimal of `bytes`.
std::string Hex(std::string_view bytes);
// HMAC-SHA256 of `message` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view message);
// Standard base64 (RFC 4648 section 4, with '=' padding).
std::string Base64Encode(std::string_view bytes);
// The bytes of standard base64 text (padding optional); nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view text);
// `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes); nullopt when
// it has none to give.
std::optional<std::string> RandomBytes(size_t n);
// Equal contents, compared in time that depends on the length only.
bool ConstantTimeEqual(std::string_view a, std::string_view b);
// AES-128-CBC with PKCS#7 padding (what Web Crypto's AES-CBC decrypts) of
// `plaintext` under the 16-byte `key` and `iv`; nullopt for other sizes or when
// OpenSSL fails.
std::optional<std::string> Aes128CbcEncrypt(std::string_view key, std::string_view iv,
                                            std::string_view plaintext);
// Its inverse; nullopt for a wrong key (bad padding) or malformed input.
std::optional<std::string> Aes128CbcDecrypt(std::string_view key, std::string_view iv,
                                            std::string_view ciphertext);

}  // namespace causeway::crypto
