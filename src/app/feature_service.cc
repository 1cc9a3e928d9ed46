#include "app/feature_service.h"

#include <algorithm>
#include <utility>

#include "app/experiment.h"

namespace causeway::app {
namespace {

constexpr size_t kMaxDescriptionBytes = 1000;

// A deleted feature's row: kept, with an empty configuration and the time of the
// deletion as updated_ms, so the payload's dateUpdated moves on every instance
// (the SDKs ignore a payload whose dateUpdated they already have).
bool IsTombstone(const store::FeatureRow& row) { return row.config.empty(); }

Status NoSuchFeature(std::string_view key) {
  return Status::NotFound("no feature with key " + std::string(key), "key");
}

}  // namespace

FeatureService::FeatureService(store::Store* store, const ExperimentService* experiments,
                               const FeatureCodec* codec)
    : store_(store),
      experiments_(experiments),
      codec_(codec),
      current_(std::make_shared<FeatureSet>()) {}

std::shared_ptr<const FeatureSet> FeatureService::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

void FeatureService::PublishLocked(std::map<std::string, FeatureConfig, std::less<>> configs) {
  auto set = std::make_shared<FeatureSet>();
  for (const auto& [key, config] : configs) {
    set->features.emplace(key, CompileFeature(config.feature));
    set->updated_ms = std::max(set->updated_ms, config.updated_ms);
  }
  set->updated_ms = std::max(set->updated_ms, deleted_ms_);
  set->configs = std::move(configs);
  for (const auto& [key, compiled] : set->features) {
    for (const FeatureRule& rule : compiled.feature.rules) {
      if (const auto* x = std::get_if<ExperimentRule>(&rule)) {
        set->by_experiment[x->experiment].push_back({key, &x->values});
      }
    }
  }
  set->generation = ++generation_;
  const bool any = !set->by_experiment.empty();
  const uint64_t generation = set->generation;
  std::lock_guard lock(mu_);
  current_ = std::move(set);
  has_experiment_rules_.store(any, std::memory_order_release);
  published_generation_.store(generation, std::memory_order_release);
}

Status FeatureService::Load() {
  std::lock_guard write(write_mu_);
  StatusOr<std::vector<store::FeatureRow>> rows = store_->ListFeatures();
  if (!rows.ok()) return rows.status();
  std::map<std::string, FeatureConfig, std::less<>> configs;
  for (const store::FeatureRow& row : *rows) {
    if (IsTombstone(row)) {
      deleted_ms_ = std::max(deleted_ms_, row.updated_ms);
      continue;
    }
    StatusOr<FeatureConfig> f = codec_->DecodeFeature(row.config);
    if (!f.ok()) return Status::Internal("stored feature " + row.key + " is invalid");
    f->created_ms = row.created_ms;
    f->updated_ms = row.updated_ms;
    configs.emplace(row.key, std::move(*f));
  }
  PublishLocked(std::move(configs));
  return Status::Ok();
}

// Experiments may change after a feature was stored (a variant removed in a new
// phase): evaluation then skips the rule (app/feature.h); a write checks anew.
Status FeatureService::Check(const FeatureConfig& feature) const {
  if (feature.description.size() > kMaxDescriptionBytes) {
    return Status::InvalidArgument("description", "at most 1000 bytes");
  }
  return ValidateFeature(feature.feature, experiments_->snapshots().Current());
}

StatusOr<FeatureConfig> FeatureService::Create(FeatureConfig feature, int64_t now_ms) {
  if (Status s = Check(feature); !s.ok()) return s;
  feature.created_ms = feature.updated_ms = now_ms;
  std::lock_guard write(write_mu_);
  const store::FeatureRow row{feature.feature.key, codec_->EncodeFeature(feature),
                              feature.created_ms, feature.updated_ms};
  Status s = store_->CreateFeature(row);
  if (s.code() == StatusCode::kAlreadyExists) {  // a deleted feature's key is free again
    StatusOr<store::FeatureRow> old = store_->GetFeature(row.key);
    if (old.ok() && IsTombstone(*old)) s = store_->UpdateFeature(row);
  }
  if (!s.ok()) return s;
  auto configs = Current()->configs;
  configs[feature.feature.key] = feature;
  PublishLocked(std::move(configs));
  return feature;
}

StatusOr<FeatureConfig> FeatureService::Patch(std::string_view key, const FeaturePatch& patch,
                                              int64_t now_ms) {
  std::lock_guard write(write_mu_);
  // The stored row: another instance may have changed it since this one loaded.
  StatusOr<store::FeatureRow> row = store_->GetFeature(key);
  if (!row.ok()) return row.status();
  if (IsTombstone(*row)) return NoSuchFeature(key);
  StatusOr<FeatureConfig> f = codec_->DecodeFeature(row->config);
  if (!f.ok()) return Status::Internal("stored feature " + row->key + " is invalid");
  f->created_ms = row->created_ms;
  if (patch.value_type) f->feature.value_type = *patch.value_type;
  if (patch.default_value) f->feature.default_value = *patch.default_value;
  if (patch.rules) f->feature.rules = *patch.rules;
  if (patch.description) f->description = *patch.description;
  if (Status s = Check(*f); !s.ok()) return s;
  f->updated_ms = now_ms;
  if (Status s = store_->UpdateFeature(
          {f->feature.key, codec_->EncodeFeature(*f), f->created_ms, f->updated_ms});
      !s.ok()) {
    return s;
  }
  auto configs = Current()->configs;
  configs[f->feature.key] = *f;
  PublishLocked(std::move(configs));
  return f;
}

Status FeatureService::Delete(std::string_view key, int64_t now_ms) {
  std::lock_guard write(write_mu_);
  StatusOr<store::FeatureRow> row = store_->GetFeature(key);
  if (!row.ok()) return row.status();
  if (IsTombstone(*row)) return NoSuchFeature(key);
  // Never earlier than what the payload already says, so dateUpdated moves.
  const int64_t at = std::max(now_ms, Current()->updated_ms + 1);
  if (Status s = store_->UpdateFeature({row->key, "", row->created_ms, at}); !s.ok()) return s;
  deleted_ms_ = std::max(deleted_ms_, at);
  auto configs = Current()->configs;
  if (auto it = configs.find(key); it != configs.end()) configs.erase(it);
  PublishLocked(std::move(configs));
  return Status::Ok();
}

StatusOr<FeatureConfig> FeatureService::Get(std::string_view key) const {
  std::shared_ptr<const FeatureSet> set = Current();
  auto it = set->configs.find(key);
  if (it == set->configs.end()) return NoSuchFeature(key);
  return it->second;
}

std::vector<FeatureConfig> FeatureService::List() const {
  std::shared_ptr<const FeatureSet> set = Current();
  std::vector<FeatureConfig> out;
  out.reserve(set->configs.size());
  for (const auto& [key, config] : set->configs) out.push_back(config);
  return out;
}

// ---------------------------------------------------------------- the SDK payload
namespace {

std::string RuleId(size_t index) { return "fr_" + std::to_string(index); }

PayloadRule ForceOf(size_t index, const assign::Value& value,
                    const std::optional<assign::Value>& condition,
                    const std::optional<double>& coverage,
                    const std::optional<std::string>& hash_attribute,
                    const std::optional<std::string>& seed, int hash_version) {
  PayloadRule r;
  r.id = RuleId(index);
  r.force = value;
  r.condition = condition;
  if (coverage) {
    r.coverage = coverage;
    r.hash_attribute = hash_attribute.value_or("id");
    r.seed = seed;
    r.hash_version = hash_version;
  }
  return r;
}

// {"id": {"$in": [users...]}}
assign::Value UsersCondition(const std::vector<std::string>& users) {
  assign::Value::Array ids;
  for (const std::string& u : users) ids.emplace_back(u);
  assign::Value::Object in;
  in.emplace_back("$in", assign::Value(std::move(ids)));
  assign::Value::Object cond;
  cond.emplace_back("id", assign::Value(std::move(in)));
  return assign::Value(std::move(cond));
}

void AppendExperimentRules(size_t index, const ExperimentRule& rule, const Experiment& x,
                           const assign::ExperimentSpec& spec, std::vector<PayloadRule>* out) {
  if (rule.values.size() != spec.variants.size()) return;  // evaluation skips it too
  // Overrides first: Assign serves them before anything else, whatever the status.
  int part = 0;
  for (size_t v = 0; v < spec.variants.size(); ++v) {
    std::vector<std::string> users;
    for (const auto& [user, variant] : spec.overrides) {
      if (variant == static_cast<int>(v) && !user.empty()) users.push_back(user);
    }
    if (users.empty()) continue;
    std::sort(users.begin(), users.end());
    PayloadRule r;
    r.id = RuleId(index) + "_override_" + std::to_string(part++);
    r.force = rule.values[v];
    r.condition = UsersCondition(users);
    out->push_back(std::move(r));
  }
  if (spec.status != assign::ExperimentStatus::kRunning) {
    if (spec.released_variant >= 0 &&
        static_cast<size_t>(spec.released_variant) < rule.values.size()) {
      PayloadRule r;
      r.id = RuleId(index);
      r.force = rule.values[static_cast<size_t>(spec.released_variant)];
      out->push_back(std::move(r));
    }
    return;
  }
  PayloadRule r;
  r.id = RuleId(index);
  r.key = x.key;
  r.name = x.name.value_or(x.key);
  r.seed = spec.seed;
  r.hash_attribute = "id";
  r.hash_version = spec.hash_version;
  r.coverage = spec.coverage;
  for (size_t v = 0; v < spec.variants.size(); ++v) {
    r.weights.push_back(spec.variants[v].weight);
    r.variations.push_back(rule.values[v]);
    r.meta.push_back({x.variants[v].key, x.variants[v].name.value_or(x.variants[v].key)});
  }
  r.ns = spec.ns;
  r.condition = x.condition;
  r.phase = std::to_string(spec.phase);
  out->push_back(std::move(r));
}

}  // namespace

SdkPayload BuildSdkPayload(const FeatureSet& features, const std::vector<Experiment>& experiments) {
  // Each experiment's engine spec, made once (it compiles the condition) when a
  // rule first names it.
  struct Named {
    const Experiment* experiment;
    std::optional<assign::ExperimentSpec> spec;
  };
  std::map<std::string_view, Named> by_key;
  for (const Experiment& x : experiments) by_key.emplace(x.key, Named{&x, std::nullopt});
  SdkPayload payload;
  payload.date_updated_ms = features.updated_ms;
  for (const auto& [key, config] : features.configs) {
    const Feature& f = config.feature;
    PayloadFeature pf;
    pf.key = f.key;
    pf.default_value = f.default_value;
    for (size_t i = 0; i < f.rules.size(); ++i) {
      if (const auto* force = std::get_if<ForceRule>(&f.rules[i])) {
        pf.rules.push_back(ForceOf(i, force->value, force->condition, force->coverage,
                                   force->hash_attribute, force->seed, force->hash_version));
      } else if (const auto* rollout = std::get_if<RolloutRule>(&f.rules[i])) {
        pf.rules.push_back(ForceOf(i, rollout->value, rollout->condition, rollout->coverage,
                                   rollout->hash_attribute, rollout->seed, rollout->hash_version));
      } else if (const auto* exp = std::get_if<ExperimentRule>(&f.rules[i])) {
        auto it = by_key.find(exp->experiment);
        if (it == by_key.end()) continue;
        Named& named = it->second;
        if (!named.spec) named.spec = ToAssignSpec(*named.experiment);
        AppendExperimentRules(i, *exp, *named.experiment, *named.spec, &pf.rules);
        payload.date_updated_ms = std::max(payload.date_updated_ms, named.experiment->updated_ms);
      }
    }
    payload.features.push_back(std::move(pf));
  }
  return payload;
}

}  // namespace causeway::app
