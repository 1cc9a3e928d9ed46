// What a webhook delivery sends (docs/alerts.md, "Webhooks"): the body of an alert
// and its Standard Webhooks signature (https://www.standardwebhooks.com).
//
// Headers of every delivery:
//   webhook-id         the alert's id: the same on every retry, so a receiver
//                      deduplicates on it
//   webhook-timestamp  Unix seconds of the attempt
//   webhook-signature  "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
//                      key = the base64-decoded part of the secret after "whsec_"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace causeway::notify {

// A new secret: "whsec_" + base64 of 32 bytes from the system CSPRNG.
StatusOr<std::string> NewWebhookSecret();

// The webhook-signature header's value; InvalidArgument when the secret is not
// "whsec_" + base64.
StatusOr<std::string> SignWebhook(std::string_view secret, std::string_view id, int64_t timestamp_s,
                                  std::string_view body);

// The body for the webhook's format. "standard":
//   {"type": "alert.<kind>", "timestamp": ISO 8601 of at_ms,
//    "data": {"id", "kind", "subject_kind", "subject", "experiment" | "rule" |
//             "webhook", "monitor", "state", "at_ms", "created_ms", "statistic"}}
// where statistic is the alert's stored payload (JSON; null when it is not JSON).
// "slack": {"text": "..."}, a line a Slack incoming webhook posts as it is.
std::string AlertBody(const store::AlertRow& alert, std::string_view format);

// ISO 8601 UTC with milliseconds: 2026-12-07T13:02:30.250Z.
std::string IsoTimeMs(int64_t ms);

}  // namespace causeway::notify
