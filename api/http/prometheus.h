// Prometheus text-format request counters and latency histograms per route.
//
// Routes are registered at start-up; recording is lock-free (relaxed atomics)
// so it can sit on the assignment hot path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace causeway::api {

class RouteMetrics {
 public:
  // Upper bounds in seconds of the latency histogram buckets (+Inf implied).
  static constexpr std::array<double, 14> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                      0.0025,  0.005,  0.01,    0.025,  0.05,
                                                      0.1,     0.25,   1.0,     5.0};
  void Record(int status, double seconds);

 private:
  friend class MetricsRegistry;
  // Index by status class: 2xx, 3xx, 4xx, 5xx (others folded into 5xx).
  std::array<std::atomic<uint64_t>, 4> by_class_{};
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class MetricsRegistry {
 public:
  // Returns a stable pointer; call at start-up (thread-safe anyway).
  RouteMetrics* Route(const std::string& method, const std::string& path);
  // Counter for a named event (e.g. events_accepted_total). Stable pointer.
  std::atomic<uint64_t>* Counter(const std::string& name, const std::string& help);
  // A counter another component owns (the webhook sender's); `value` outlives the registry's use.
  void Expose(const std::string& name, const std::string& help, const std::atomic<uint64_t>* value);
  std::string RenderPrometheus() const;

 private:
  struct NamedCounter {
    std::string help;
    std::atomic<uint64_t> value{0};
    const std::atomic<uint64_t>* source = nullptr;  // Expose: read instead of value
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, RouteMetrics> routes_;  // GUARDED_BY(mu_)
  std::map<std::string, NamedCounter> counters_;                        // GUARDED_BY(mu_)
};

}  // namespace causeway::api
