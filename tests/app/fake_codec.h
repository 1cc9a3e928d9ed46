// A ConfigCodec for application-layer tests: the store keeps opaque text; this
// codec keeps the typed values and writes a handle, so the tests need no JSON.
// Thread-safe, so services on several threads (or two services on one database
// file, sharing it) can use one codec.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "app/alert_rule_service.h"
#include "app/services.h"

namespace causeway::app {

class FakeCodec : public ConfigCodec {
 public:
  std::string EncodeExperiment(const Experiment& x) const override {
    std::lock_guard lock(mu_);
    experiments_[x.key] = x;
    return "x:" + x.key;
  }
  StatusOr<Experiment> DecodeExperiment(std::string_view text) const override {
    ++decodes;
    std::lock_guard lock(mu_);
    auto it = experiments_.find(std::string(text.substr(2)));
    if (it == experiments_.end()) return Status::Internal("unknown handle");
    Experiment x = it->second;
    x.phases.clear();  // state is not part of the configuration
    return x;
  }
  std::string EncodeMetric(const MetricDefinition& m) const override {
    std::lock_guard lock(mu_);
    metrics_[m.key] = m;
    return "m:" + m.key;
  }
  StatusOr<MetricDefinition> DecodeMetric(std::string_view text) const override {
    ++decodes;
    std::lock_guard lock(mu_);
    auto it = metrics_.find(std::string(text.substr(2)));
    if (it == metrics_.end()) return Status::Internal("unknown handle");
    return it->second;
  }
  mutable std::atomic<int> decodes{0};

 private:
  mutable std::mutex mu_;
  mutable std::map<std::string, Experiment> experiments_;    // GUARDED_BY(mu_)
  mutable std::map<std::string, MetricDefinition> metrics_;  // GUARDED_BY(mu_)
};

// Keeps the typed rules and writes a handle (one per encoding), so no JSON.
class FakeRuleCodec : public AlertRuleCodec {
 public:
  std::string EncodeAlertRule(const AlertRuleConfig& r) const override {
    std::lock_guard lock(mu_);
    const std::string handle = "r:" + std::to_string(rules_.size());
    rules_[handle] = r;
    return handle;
  }
  StatusOr<AlertRuleConfig> DecodeAlertRule(std::string_view text) const override {
    std::lock_guard lock(mu_);
    auto it = rules_.find(std::string(text));
    if (it == rules_.end()) return Status::Internal("unknown handle");
    AlertRuleConfig r = it->second;
    r.rule.kind = MetricKind::kMean;  // the service must resolve it from the metric
    return r;
  }

 private:
  mutable std::mutex mu_;
  mutable std::map<std::string, AlertRuleConfig> rules_;
};

}  // namespace causeway::app
