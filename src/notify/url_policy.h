// Which webhook URLs Causeway sends to (docs/alerts.md, "Webhook URLs").
//
// http and https only, no credentials or fragment in the URL, and by default no
// address that is not on the public internet: a webhook is a request the server
// makes on a user's behalf, so without this an admin key could make it reach the
// machine's own services or the cloud's metadata endpoint (SSRF). Refused: loopback
// (127.0.0.0/8, ::1), unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16 with
// the metadata address 169.254.169.254, fe80::/10), private (10/8, 172.16/12,
// 192.168/16, 100.64/10 shared, fc00::/7 unique local, fec0::/10 site-local),
// multicast (224/4, ff00::/8), reserved and broadcast (240/4), and the IPv4-mapped
// forms of all of these. The host is resolved and every address checked, at
// creation and again at each delivery (a name may be re-pointed: DNS rebinding);
// the delivery then connects to the address it checked. `allow_private` (the
// flag `causeway serve --allow-private-webhooks`) lifts the address rule, for tests
// and single-machine set-ups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace causeway::notify {

struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 address or an IPv6 address (without brackets)
  int port = 0;        // the URL's port, or the scheme's
  std::string target;  // path and query, at least "/"
  // scheme://host:port, with brackets around an IPv6 host (cpp-httplib's client).
  std::string Origin() const;
};

// The URL's parts, or InvalidArgument at `field` saying what is wrong.
StatusOr<WebhookUrl> ParseWebhookUrl(std::string_view url, std::string field = "url");

// Why a numeric address is refused ("loopback", "link-local", "private",
// "unspecified", "multicast", "reserved"), or nullopt for a public address.
// nullopt also for text that is not an address.
std::optional<std::string> RefusedAddressClass(std::string_view ip);

// Resolves the host and checks every address: their numeric forms, or
// InvalidArgument at `field` when one is refused (unless allow_private) or the
// name does not resolve.
StatusOr<std::vector<std::string>> ResolveWebhookHost(const WebhookUrl& url, bool allow_private,
                                                      std::string field = "url");

}  // namespace causeway::notify
