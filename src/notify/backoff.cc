#include "notify/backoff.h"

#include <algorithm>
#include <cmath>

namespace causeway::notify {

int64_t BackoffCeilingMs(const RetryPolicy& policy, int attempts) {
  int64_t delay = std::max<int64_t>(policy.base_ms, 1);
  for (int i = 1; i < attempts && delay < policy.cap_ms; ++i) delay *= 2;
  return std::min(delay, policy.cap_ms);
}

std::optional<int64_t> NextAttemptMs(const RetryPolicy& policy, int64_t alert_created_ms,
                                     int64_t now_ms, int attempts, double uniform) {
  if (now_ms - alert_created_ms >= policy.retry_for_ms) return std::nullopt;
  const double u = std::clamp(uniform, 0.0, 1.0);
  const int64_t ceiling = BackoffCeilingMs(policy, attempts);
  return now_ms + static_cast<int64_t>(std::floor(u * static_cast<double>(ceiling)));
}

}  // namespace causeway::notify
