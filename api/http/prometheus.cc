#include "api/http/prometheus.h"

#include <algorithm>
#include <cstdio>

namespace causeway::api {

void RouteMetrics::Record(int status, double seconds) {
  int cls = std::clamp(status / 100 - 2, 0, 3);
  by_class_[cls].fetch_add(1, std::memory_order_relaxed);
  size_t b = std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

RouteMetrics* MetricsRegistry::Route(const std::string& method, const std::string& path) {
  std::lock_guard lock(mu_);
  return &routes_[{method, path}];
}

std::atomic<uint64_t>* MetricsRegistry::Counter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  auto& c = counters_[name];
  c.help = help;
  return &c.value;
}

void MetricsRegistry::Expose(const std::string& name, const std::string& help,
                             const std::atomic<uint64_t>* value) {
  std::lock_guard lock(mu_);
  auto& c = counters_[name];
  c.help = help;
  c.source = value;
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  char buf[512];
  out += "# HELP causeway_http_requests_total HTTP requests by route and status class.\n";
  out += "# TYPE causeway_http_requests_total counter\n";
  static constexpr const char* kClasses[] = {"2xx", "3xx", "4xx", "5xx"};
  for (const auto& [key, m] : routes_) {
    for (int c = 0; c < 4; ++c) {
      std::snprintf(buf, sizeof buf,
                    "causeway_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                    key.first.c_str(), key.second.c_str(), kClasses[c],
                    static_cast<unsigned long long>(m.by_class_[c].load()));
      out += buf;
    }
  }
  out += "# HELP causeway_http_request_duration_seconds HTTP request latency by route.\n";
  out += "# TYPE causeway_http_request_duration_seconds histogram\n";
  for (const auto& [key, m] : routes_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= RouteMetrics::kBuckets.size(); ++b) {
      cumulative += m.buckets_[b].load();
      std::string le = b < RouteMetrics::kBuckets.size()
                           ? (std::snprintf(buf, sizeof buf, "%g", RouteMetrics::kBuckets[b]), buf)
                           : "+Inf";
      std::snprintf(buf, sizeof buf,
                    "causeway_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                    "le=\"%s\"} %llu\n",
                    key.first.c_str(), key.second.c_str(), le.c_str(),
                    static_cast<unsigned long long>(cumulative));
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "causeway_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
                  "causeway_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
                  key.first.c_str(), key.second.c_str(), m.sum_micros_.load() / 1e6,
                  key.first.c_str(), key.second.c_str(),
                  static_cast<unsigned long long>(m.count_.load()));
    out += buf;
  }
  for (const auto& [name, c] : counters_) {
    std::snprintf(buf, sizeof buf, "# HELP causeway_%s %s\n# TYPE causeway_%s counter\n",
                  name.c_str(), c.help.c_str(), name.c_str());
    out += buf;
    std::snprintf(buf, sizeof buf, "causeway_%s %llu\n", name.c_str(),
                  static_cast<unsigned long long>(c.source ? c.source->load() : c.value.load()));
    out += buf;
  }
  return out;
}

}  // namespace causeway::api
