// Features with values (issue 22): stored, validated against the experiments they
// name, compiled once and served from memory; and the payload GrowthBook's SDKs
// fetch (GET /api/features/{clientKey}), built from the features and the
// experiments as a typed struct that api/codec/feature_codec.h writes as JSON.
//
// Thread-safety: every method is thread-safe. Writes (Create, Patch, Delete,
// Load) are serialised; readers take the current FeatureSet, an immutable value
// swapped whole, so evaluation never waits for a write.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/feature.h"
#include "app/services.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

// A feature as the API sees it: the model plus what the service keeps.
struct FeatureConfig {
  Feature feature;
  std::string description;  // at most 1000 bytes
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// A change: each member, when set, replaces the current value; the result is
// validated whole (a new value_type must fit the default and every rule).
struct FeaturePatch {
  std::optional<FeatureValueType> value_type;
  std::optional<assign::Value> default_value;
  std::optional<std::vector<FeatureRule>> rules;
  std::optional<std::string> description;
};

// The text form of stored features (the store keeps it opaque; the API's JSON).
class FeatureCodec {
 public:
  virtual ~FeatureCodec() = default;
  virtual std::string EncodeFeature(const FeatureConfig& feature) const = 0;
  virtual StatusOr<FeatureConfig> DecodeFeature(std::string_view text) const = 0;
};

// Every feature, compiled; immutable once published.
struct FeatureSet {
  std::map<std::string, CompiledFeature, std::less<>> features;
  std::map<std::string, FeatureConfig, std::less<>> configs;
  uint64_t generation = 0;  // raised by every publication in this process
  int64_t updated_ms = 0;   // the latest updated_ms of any feature (0: none)
  // Per experiment key, the features with an experiment rule naming it and that
  // rule's values (one per variant), by feature key: what /v1/assign adds.
  struct VariantValues {
    std::string feature;
    const std::vector<assign::Value>* values;  // into `features`
  };
  std::map<std::string, std::vector<VariantValues>, std::less<>> by_experiment;

  const std::vector<VariantValues>* ValuesFor(std::string_view experiment) const {
    auto it = by_experiment.find(experiment);
    return it == by_experiment.end() ? nullptr : &it->second;
  }

  const CompiledFeature* Find(std::string_view key) const {
    auto it = features.find(key);
    return it == features.end() ? nullptr : &it->second;
  }
};

class FeatureService {
 public:
  // REQUIRES: the arguments outlive the service.
  FeatureService(store::Store* store, const ExperimentService* experiments,
                 const FeatureCodec* codec);

  // Reads and decodes every stored feature and publishes them; on error nothing
  // changes. Called at start and after another process changed the configuration.
  Status Load();

  StatusOr<FeatureConfig> Create(FeatureConfig feature, int64_t now_ms);  // AlreadyExists "key"
  StatusOr<FeatureConfig> Patch(std::string_view key, const FeaturePatch& patch,
                                int64_t now_ms);  // NotFound "key"
  // Keeps the row as a tombstone (dateUpdated moves; docs/sdk.md).
  Status Delete(std::string_view key, int64_t now_ms);      // NotFound "key"
  StatusOr<FeatureConfig> Get(std::string_view key) const;  // NotFound "key"
  std::vector<FeatureConfig> List() const;                  // by key

  std::shared_ptr<const FeatureSet> Current() const;
  // Whether any feature has an experiment rule: lets the assignment hot path skip
  // Current() (a lock and a reference count) when none has.
  bool HasExperimentRules() const { return has_experiment_rules_.load(std::memory_order_acquire); }
  // Current()->generation without the lock: a cheap "did anything change" for
  // the thousands of event streams polled five times a second.
  uint64_t generation() const { return published_generation_.load(std::memory_order_acquire); }

 private:
  Status Check(const FeatureConfig& feature) const;
  void PublishLocked(std::map<std::string, FeatureConfig, std::less<>> configs);

  store::Store* const store_;
  const ExperimentService* const experiments_;
  const FeatureCodec* const codec_;
  std::mutex write_mu_;  // serialises Create, Patch, Delete and Load
  mutable std::mutex mu_;
  std::shared_ptr<const FeatureSet> current_;  // GUARDED_BY(mu_)
  std::atomic<bool> has_experiment_rules_{false};
  std::atomic<uint64_t> published_generation_{0};
  uint64_t generation_ = 0;  // GUARDED_BY(write_mu_)
  int64_t deleted_ms_ = 0;   // the latest deletion (tombstone) seen; GUARDED_BY(write_mu_)
};

// ---------------------------------------------------------------- the SDK payload

// One rule of a feature as GrowthBook's SDKs read it (FeatureRule in
// packages/sdk-js/src/types/growthbook.ts). A force rule has `force`; an
// experiment rule has `key` and `variations`.
struct PayloadRule {
  std::string id;  // "fr_<feature rule index>[_<n>]"
  std::optional<assign::Value> condition;
  std::optional<assign::Value> force;
  std::optional<double> coverage;
  std::optional<std::string> hash_attribute;
  std::optional<std::string> seed;
  std::optional<int> hash_version;
  // Experiment rules.
  std::string key;  // the experiment key; empty for a force rule
  std::string name;
  std::vector<assign::Value> variations;
  std::vector<double> weights;
  struct Meta {
    std::string key;
    std::string name;
  };
  std::vector<Meta> meta;
  std::optional<assign::NamespaceSpec> ns;
  std::string phase;
};

struct PayloadFeature {
  std::string key;
  assign::Value default_value;
  std::vector<PayloadRule> rules;
};

struct SdkPayload {
  std::vector<PayloadFeature> features;  // by key
  int64_t date_updated_ms = 0;           // the latest change of a feature or an experiment it uses
};

// The payload every SDK evaluates to EvaluateFeature's values (docs/sdk.md, "The
// payload"): force and rollout rules as GrowthBook force rules; an experiment rule
// as, in order, one force rule per variant with overrides (condition
// {"id": {"$in": [...]}}), then the experiment rule when it is running, or a force
// rule of the released variant's value when one is released; a draft or stopped
// experiment without a released variant emits nothing (the SDK would skip it).
// `experiments` are every experiment (app::ExperimentService::List()).
SdkPayload BuildSdkPayload(const FeatureSet& features, const std::vector<Experiment>& experiments);

}  // namespace causeway::app
