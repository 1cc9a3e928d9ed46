#include "notify/url_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace causeway::notify {
namespace {

constexpr size_t kMaxUrlBytes = 2048;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::string> ClassifyV4(const uint8_t a[4]) {
  const uint32_t v = (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3];
  auto in = [v](uint32_t net, int bits) { return (v >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x00000000, 8)) return "unspecified";
  if (in(0x7F000000, 8)) return "loopback";
  if (in(0xA9FE0000, 16)) return "link-local";
  if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10)) {
    return "private";
  }
  if (in(0xE0000000, 4)) return "multicast";
  if (in(0xF0000000, 4)) return "reserved";
  return std::nullopt;
}

std::optional<std::string> ClassifyV6(const uint8_t a[16]) {
  static constexpr uint8_t kZero[16] = {};
  if (std::memcmp(a, kZero, 15) == 0 && (a[15] == 0 || a[15] == 1)) {
    return a[15] == 0 ? "unspecified" : "loopback";
  }
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(a, kMapped, 12) == 0) return ClassifyV4(a + 12);  // ::ffff:a.b.c.d
  if (std::memcmp(a, kZero, 12) == 0) return ClassifyV4(a + 12);    // ::a.b.c.d (deprecated)
  if (a[0] == 0xFF) return "multicast";
  if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return "link-local";
  if ((a[0] & 0xFE) == 0xFC || (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)) return "private";
  return std::nullopt;
}

// Splits "host[:port]" / "[v6][:port]"; false when malformed.
bool SplitAuthority(std::string_view authority, std::string* host, std::string* port) {
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    *host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    *port = std::string(rest.empty() ? rest : rest.substr(1));
    in6_addr v6;
    return inet_pton(AF_INET6, host->c_str(), &v6) == 1;
  }
  const size_t colon = authority.rfind(':');
  *host = std::string(authority.substr(0, colon));
  *port = colon == std::string_view::npos ? "" : std::string(authority.substr(colon + 1));
  return host->find(':') == std::string::npos;
}

}  // namespace

std::string WebhookUrl::Origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url, std::string field) {
  auto bad = [&](std::string why) { return Status::InvalidArgument(field, std::move(why)); };
  if (url.empty()) return bad("must be an http:// or https:// URL");
  if (url.size() > kMaxUrlBytes) return bad("must be at most 2048 bytes");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F) return bad("must not contain spaces or control characters");
  }
  WebhookUrl out;
  const size_t sep = url.find("://");
  out.scheme = sep == std::string_view::npos ? "" : Lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return bad("must be an http:// or https:// URL (other schemes are refused)");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return bad("must not have a #fragment");
  const size_t end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  out.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (out.target.front() == '?') out.target = "/" + out.target;
  if (authority.find('@') != std::string_view::npos) {
    return bad("must not carry credentials (user:password@); authenticate with the signature");
  }
  std::string port;
  if (!SplitAuthority(authority, &out.host, &port) || out.host.empty()) {
    return bad("must name a host: http(s)://HOST[:PORT]/PATH");
  }
  out.host = Lower(out.host);
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || p > 65535) return bad("has a bad port");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return bad("has a bad port");
    out.port = p;
  }
  return out;
}

std::optional<std::string> RefusedAddressClass(std::string_view ip) {
  const std::string text(ip);
  uint8_t bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return ClassifyV4(bytes);
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return ClassifyV6(bytes);
  return std::nullopt;
}

StatusOr<std::vector<std::string>> ResolveWebhookHost(const WebhookUrl& url, bool allow_private,
                                                      std::string field) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::InvalidArgument(field, "cannot resolve " + url.host + ": " + gai_strerror(rc));
  }
  std::vector<std::string> out;
  for (addrinfo* a = found; a; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* where =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (!inet_ntop(a->ai_family, where, text, sizeof text)) continue;
    if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
  }
  freeaddrinfo(found);
  if (out.empty()) return Status::InvalidArgument(field, "cannot resolve " + url.host);
  if (allow_private) return out;
  for (const std::string& ip : out) {
    if (auto why = RefusedAddressClass(ip)) {
      return Status::InvalidArgument(
          field, url.host + " resolves to " + ip + ", a " + *why +
                     " address: webhooks go to public addresses only (start the server with "
                     "--allow-private-webhooks to allow it)");
    }
  }
  return out;
}

}  // namespace causeway::notify
