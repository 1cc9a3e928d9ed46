#include "api/codec/feature_codec.h"

#include <cmath>

#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/codec/time_text.h"

namespace causeway::api {
namespace {

using app::FeatureValueType;

void ReadValueType(FieldReader& r, FeatureValueType* out) {
  r.Enum("value_type", out,
         {{"boolean", FeatureValueType::kBoolean},
          {"string", FeatureValueType::kString},
          {"number", FeatureValueType::kNumber},
          {"json", FeatureValueType::kJson}});
}

// A member that may be any JSON value, null included (a json feature's null).
bool ReadAny(FieldReader& r, const Json& object, std::string_view name, assign::Value* out) {
  const Json* v = r.Raw(name);
  if (v != nullptr) {
    *out = ToValue(*v);
    return true;
  }
  if (object.is_object() && object.contains(name)) {
    *out = assign::Value();
    return true;
  }
  return false;
}

std::optional<assign::Value> ReadCondition(FieldReader& r, std::string_view name) {
  const Json* c = r.Raw(name);
  if (c == nullptr) return std::nullopt;
  if (!c->is_object()) {
    r.Fail(InvalidArgument(r.PathOf(name), "must be an object (GrowthBook syntax)"));
    return std::nullopt;
  }
  return ToValue(*c);
}

void ReadHashing(FieldReader& r, std::optional<std::string>* hash_attribute,
                 std::optional<std::string>* seed, int* hash_version) {
  r.Optional("hash_attribute", hash_attribute).Optional("seed", seed);
  int64_t v = *hash_version;
  r.Optional("hash_version", &v);
  r.Check(v == 1 || v == 2, "hash_version", "must be 1 or 2");
  *hash_version = static_cast<int>(v);
}

Status ReadRule(const Json& element, const std::string& path, app::FeatureRule* out) {
  FieldReader r(element, path);
  enum class Type { kForce, kRollout, kExperiment } type = Type::kForce;
  r.Enum("type", &type,
         {{"force", Type::kForce}, {"rollout", Type::kRollout}, {"experiment", Type::kExperiment}});
  r.Check(r.Present("type"), "type", "is required: force, rollout or experiment");
  if (!r.ok()) return r.Finish();
  switch (type) {
    case Type::kForce: {
      app::ForceRule f;
      r.Check(ReadAny(r, element, "value", &f.value), "value", "is required");
      f.condition = ReadCondition(r, "condition");
      r.Optional("coverage", &f.coverage);
      ReadHashing(r, &f.hash_attribute, &f.seed, &f.hash_version);
      *out = std::move(f);
      break;
    }
    case Type::kRollout: {
      app::RolloutRule f;
      r.Check(ReadAny(r, element, "value", &f.value), "value", "is required");
      r.Required("coverage", &f.coverage);
      std::optional<std::string> attribute;
      ReadHashing(r, &attribute, &f.seed, &f.hash_version);
      if (attribute) f.hash_attribute = *attribute;
      f.condition = ReadCondition(r, "condition");
      *out = std::move(f);
      break;
    }
    case Type::kExperiment: {
      app::ExperimentRule f;
      r.Required("experiment", &f.experiment);
      r.Array(
          "values",
          [&](const Json& v, const std::string&, size_t) {
            f.values.push_back(ToValue(v));
            return Status::Ok();
          },
          true);
      *out = std::move(f);
      break;
    }
  }
  return r.Finish();
}

void ReadRules(FieldReader& r, std::vector<app::FeatureRule>* rules) {
  r.Array("rules", [&](const Json& element, const std::string& path, size_t) {
    app::FeatureRule rule;
    Status s = ReadRule(element, path, &rule);
    if (s.ok()) rules->push_back(std::move(rule));
    return s;
  });
}

Json RenderRule(const app::FeatureRule& rule) {
  Json out = Json::object();
  if (const auto* f = std::get_if<app::ForceRule>(&rule)) {
    out["type"] = "force";
    out["value"] = FromValue(f->value);
    if (f->condition) out["condition"] = FromValue(*f->condition);
    if (f->coverage) out["coverage"] = *f->coverage;
    if (f->hash_attribute) out["hash_attribute"] = *f->hash_attribute;
    if (f->seed) out["seed"] = *f->seed;
    out["hash_version"] = f->hash_version;
  } else if (const auto* f = std::get_if<app::RolloutRule>(&rule)) {
    out["type"] = "rollout";
    out["value"] = FromValue(f->value);
    out["coverage"] = f->coverage;
    out["hash_attribute"] = f->hash_attribute;
    if (f->condition) out["condition"] = FromValue(*f->condition);
    if (f->seed) out["seed"] = *f->seed;
    out["hash_version"] = f->hash_version;
  } else if (const auto* f = std::get_if<app::ExperimentRule>(&rule)) {
    out["type"] = "experiment";
    out["experiment"] = f->experiment;
    Json values = Json::array();
    for (const auto& v : f->values) values.push_back(FromValue(v));
    out["values"] = std::move(values);
  }
  return out;
}

}  // namespace

Status DecodeFeature(const Json& body, app::FeatureConfig* out) {
  FieldReader r(body);
  app::Feature& f = out->feature;
  r.Required("key", &f.key);
  ReadValueType(r, &f.value_type);
  r.Check(r.Present("value_type"), "value_type", "is required: boolean, string, number or json");
  r.Check(ReadAny(r, body, "default_value", &f.default_value), "default_value", "is required");
  ReadRules(r, &f.rules);
  r.Optional("description", &out->description);
  return r.Finish();
}

Status DecodeFeaturePatch(const Json& body, app::FeaturePatch* out) {
  FieldReader r(body);
  FeatureValueType type{};
  const bool has_type = r.Present("value_type");
  ReadValueType(r, &type);  // marks it read (an explicit null too)
  if (has_type) out->value_type = type;
  assign::Value v;
  if (ReadAny(r, body, "default_value", &v)) out->default_value = std::move(v);
  if (r.Present("rules")) {
    ReadRules(r, &out->rules.emplace());
  } else {
    r.Raw("rules");
  }
  r.Optional("description", &out->description);
  r.Check(!(body.is_object() && body.contains("key")), "key",
          "cannot be changed (create a feature with the new key)");
  r.Raw("key");
  return r.Finish();
}

Json RenderFeature(const app::FeatureConfig& config, bool with_times) {
  const app::Feature& f = config.feature;
  Json rules = Json::array();
  for (const auto& rule : f.rules) rules.push_back(RenderRule(rule));
  Json out = {{"key", f.key},
              {"value_type", app::FeatureValueTypeName(f.value_type)},
              {"default_value", FromValue(f.default_value)},
              {"rules", std::move(rules)},
              {"description", config.description}};
  if (with_times) {
    out["created_at"] = IsoTime(config.created_ms);
    out["updated_at"] = IsoTime(config.updated_ms);
  }
  return out;
}

Json RenderFeatureResult(std::string_view key, const app::FeatureResult& r) {
  Json out = {{"feature", std::string(key)},
              {"value", FromValue(r.value)},
              {"source", app::FeatureSourceName(r.source)},
              {"rule_index", r.rule_index >= 0 ? Json(r.rule_index) : Json()}};
  if (!r.experiment_key.empty()) {
    out["experiment"] = r.experiment_key;
    out["variant"] = r.variant_key;
    out["variant_index"] = r.variant_index;
    out["in_experiment"] = r.in_experiment;
  } else {
    out["experiment"] = nullptr;
    out["variant"] = nullptr;
    out["variant_index"] = nullptr;
    out["in_experiment"] = false;
  }
  return out;
}

Json RenderSdkPayload(const app::SdkPayload& payload) {
  Json features = Json::object();
  for (const app::PayloadFeature& f : payload.features) {
    Json rules = Json::array();
    for (const app::PayloadRule& r : f.rules) {
      Json j = {{"id", r.id}};
      if (r.condition) j["condition"] = FromValue(*r.condition);
      if (r.force) j["force"] = FromValue(*r.force);
      if (!r.key.empty()) {
        j["key"] = r.key;
        j["name"] = r.name;
        Json variations = Json::array();
        for (const auto& v : r.variations) variations.push_back(FromValue(v));
        j["variations"] = std::move(variations);
        j["weights"] = r.weights;
        Json meta = Json::array();
        for (const auto& m : r.meta) meta.push_back({{"key", m.key}, {"name", m.name}});
        j["meta"] = std::move(meta);
        if (r.ns) j["namespace"] = Json::array({r.ns->name, r.ns->start, r.ns->end});
        j["phase"] = r.phase;
      }
      if (r.coverage) j["coverage"] = *r.coverage;
      if (r.hash_attribute) j["hashAttribute"] = *r.hash_attribute;
      if (r.seed) j["seed"] = *r.seed;
      if (r.hash_version) j["hashVersion"] = *r.hash_version;
      rules.push_back(std::move(j));
    }
    features[f.key] = {{"defaultValue", FromValue(f.default_value)}, {"rules", std::move(rules)}};
  }
  return {{"status", 200},
          {"features", std::move(features)},
          {"dateUpdated", IsoTime(payload.date_updated_ms)}};
}

std::string JsonFeatureCodec::EncodeFeature(const app::FeatureConfig& feature) const {
  Json j = RenderFeature(feature, false);
  return j.dump();
}

StatusOr<app::FeatureConfig> JsonFeatureCodec::DecodeFeature(std::string_view text) const {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Internal("stored feature is not JSON");
  app::FeatureConfig f;
  if (Status s = api::DecodeFeature(j, &f); !s.ok()) return s;
  return f;
}

}  // namespace causeway::api
