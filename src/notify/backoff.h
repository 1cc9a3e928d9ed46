// When a failed webhook delivery is tried again (docs/alerts.md, "Delivery").
//
// Exponential back-off with full jitter (the AWS Architecture Blog's "Exponential
// Backoff And Jitter"): after the n-th failed attempt the next one comes after a
// delay drawn uniformly from [0, min(cap, base * 2^(n-1))], so receivers that come
// back are not hit by every sender at once. Attempts go on until `retry_for_ms`
// after the alert was written (24 h by default, as Standard Webhooks senders such as
// Svix retry for about a day and GitHub keeps failed deliveries for days); the first
// failure after that ends the delivery as "failed".
#pragma once

#include <cstdint>
#include <optional>

namespace causeway::notify {

struct RetryPolicy {
  int64_t base_ms = 5'000;
  int64_t cap_ms = 3'600'000;
  int64_t retry_for_ms = 24 * 3'600'000;
};

// min(cap, base * 2^(attempts-1)) for attempts >= 1: the largest delay after the
// attempts-th failure.
int64_t BackoffCeilingMs(const RetryPolicy& policy, int attempts);

// The time of the next attempt after the attempts-th failure at now_ms, with
// `uniform` in [0, 1) the jitter draw; nullopt when the delivery should give up
// (now_ms is retry_for_ms or more after alert_created_ms).
std::optional<int64_t> NextAttemptMs(const RetryPolicy& policy, int64_t alert_created_ms,
                                     int64_t now_ms, int attempts, double uniform);

}  // namespace causeway::notify
