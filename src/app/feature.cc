#include "app/feature.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "app/experiment.h"
#include "assign/hash.h"

namespace causeway::app {
namespace {

constexpr size_t kMaxRules = 100;
constexpr size_t kMaxAttributeBytes = 128;
constexpr size_t kMaxSeedBytes = 256;

std::string RulePath(size_t i) { return "rules[" + std::to_string(i) + "]"; }

bool HasType(const assign::Value& v, FeatureValueType type) {
  switch (type) {
    case FeatureValueType::kBoolean:
      return v.is_bool();
    case FeatureValueType::kString:
      return v.is_string();
    case FeatureValueType::kNumber:
      return v.is_number() && std::isfinite(v.as_number());
    case FeatureValueType::kJson:
      return true;
  }
  return false;
}

Status CheckValue(const assign::Value& v, FeatureValueType type, const std::string& path) {
  if (HasType(v, type)) return Status::Ok();
  return Status::InvalidArgument(
      path, std::string("must be a ") + FeatureValueTypeName(type) + ", the feature's value_type");
}

Status CheckCondition(const std::optional<assign::Value>& condition, const std::string& path) {
  if (!condition) return Status::Ok();
  if (!condition->is_object()) {
    return Status::InvalidArgument(path, "must be an object (GrowthBook syntax)");
  }
  std::string error;
  if (!assign::Condition::Parse(*condition, &error)) return Status::InvalidArgument(path, error);
  return Status::Ok();
}

Status CheckCoverage(double coverage, const std::string& path) {
  if (std::isfinite(coverage) && coverage >= 0.0 && coverage <= 1.0) return Status::Ok();
  return Status::InvalidArgument(path, "must be a number in [0, 1]");
}

Status CheckHashing(const std::optional<std::string>& hash_attribute,
                    const std::optional<std::string>& seed, int hash_version,
                    const std::string& path) {
  if (hash_attribute && (hash_attribute->empty() || hash_attribute->size() > kMaxAttributeBytes)) {
    return Status::InvalidArgument(path + ".hash_attribute",
                                   "must be an attribute name of 1 to 128 bytes");
  }
  if (seed && (seed->empty() || seed->size() > kMaxSeedBytes)) {
    return Status::InvalidArgument(path + ".seed", "must be a string of 1 to 256 bytes");
  }
  if (hash_version != 1 && hash_version != 2) {
    return Status::InvalidArgument(path + ".hash_version", "must be 1 or 2");
  }
  return Status::Ok();
}

Status CheckRule(const Feature& f, const ForceRule& r, const std::string& path,
                 const assign::Snapshot&) {
  if (Status s = CheckValue(r.value, f.value_type, path + ".value"); !s.ok()) return s;
  if (Status s = CheckCondition(r.condition, path + ".condition"); !s.ok()) return s;
  if (r.coverage) {
    if (Status s = CheckCoverage(*r.coverage, path + ".coverage"); !s.ok()) return s;
  }
  return CheckHashing(r.hash_attribute, r.seed, r.hash_version, path);
}

Status CheckRule(const Feature& f, const RolloutRule& r, const std::string& path,
                 const assign::Snapshot&) {
  if (Status s = CheckValue(r.value, f.value_type, path + ".value"); !s.ok()) return s;
  if (Status s = CheckCoverage(r.coverage, path + ".coverage"); !s.ok()) return s;
  if (Status s = CheckCondition(r.condition, path + ".condition"); !s.ok()) return s;
  return CheckHashing(r.hash_attribute, r.seed, r.hash_version, path);
}

Status CheckRule(const Feature& f, const ExperimentRule& r, const std::string& path,
                 const assign::Snapshot& experiments) {
  if (!IsKey(r.experiment)) {
    return Status::InvalidArgument(path + ".experiment", "must be an experiment key");
  }
  const assign::CompiledExperiment* e = experiments.Find(r.experiment);
  if (e == nullptr) {
    return Status::NotFound("no experiment '" + r.experiment + "'", path + ".experiment");
  }
  const size_t n = e->spec.variants.size();
  if (r.values.size() != n) {
    return Status::InvalidArgument(
        path + ".values", "must give one value per variant of experiment '" + r.experiment +
                              "': " + std::to_string(n) + " values, not " +
                              std::to_string(r.values.size()));
  }
  for (size_t j = 0; j < n; ++j) {
    const std::string value_path = path + ".values[" + std::to_string(j) + "]";
    if (Status s = CheckValue(r.values[j], f.value_type, value_path); !s.ok()) return s;
  }
  return Status::Ok();
}

// JavaScript's Number#toString (ECMA-262 Number::toString, radix 10): the
// shortest digits that round-trip, placed by the exponent.
// REQUIRES: d is finite.
std::string JsNumberString(double d) {
  if (d == 0) return "0";  // also -0
  if (d < 0) return "-" + JsNumberString(-d);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string sci(buf, r.ptr);  // d[.ddd]e±XX
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int k = static_cast<int>(digits.size());
  const int n = std::atoi(sci.c_str() + e_pos + 1) + 1;  // d = 0.digits * 10^n
  if (k <= n && n <= 21) return digits + std::string(static_cast<size_t>(n - k), '0');
  if (0 < n && n <= 21) return digits.substr(0, n) + "." + digits.substr(n);
  if (-6 < n && n <= 0) return "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  const std::string exponent = (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
  if (k == 1) return digits + "e" + exponent;
  return digits.substr(0, 1) + "." + digits.substr(1) + "e" + exponent;
}

}  // namespace

std::string HashAttributeText(const assign::Value& v) {
  switch (v.type()) {
    case assign::Value::Type::kNull:
      return "null";
    case assign::Value::Type::kBool:
      return v.as_bool() ? "true" : "false";
    case assign::Value::Type::kNumber:
      return JsNumberString(v.as_number());
    case assign::Value::Type::kString:
      return v.as_string();
    case assign::Value::Type::kArray: {
      // Array#join(","): null and undefined elements are empty.
      std::string out;
      const auto& a = v.as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0) out += ',';
        if (!a[i].is_null()) out += HashAttributeText(a[i]);
      }
      return out;
    }
    case assign::Value::Type::kObject:
      return "[object Object]";
  }
  return "";
}

namespace {

// JavaScript truthiness of an attribute value (getHashAttribute: `if (attributes[attr])`).
bool Truthy(const assign::Value& v) {
  switch (v.type()) {
    case assign::Value::Type::kNull:
      return false;
    case assign::Value::Type::kBool:
      return v.as_bool();
    case assign::Value::Type::kNumber:
      return v.as_number() != 0 && !std::isnan(v.as_number());
    case assign::Value::Type::kString:
      return !v.as_string().empty();
    default:
      return true;  // arrays and objects, even empty ones
  }
}

// GrowthBook's isIncludedInRollout without ranges or sticky bucketing.
bool IncludedInRollout(const assign::Value& attributes, std::string_view seed,
                       std::string_view hash_attribute, std::optional<double> coverage,
                       int hash_version) {
  if (!coverage) return true;
  if (*coverage == 0) return false;
  const assign::Value* value = attributes.Find(hash_attribute);
  if (value == nullptr || !Truthy(*value)) return false;
  const std::optional<double> h = assign::Hash(seed, HashAttributeText(*value), hash_version);
  return h.has_value() && *h <= *coverage;
}

struct HashedRule {
  const assign::Value* value;
  std::optional<double> coverage;
  std::string_view hash_attribute;
  const std::optional<std::string>* seed;
  int hash_version;
};

HashedRule AsHashed(const ForceRule& r) {
  return {&r.value, r.coverage, r.hash_attribute ? std::string_view(*r.hash_attribute) : "id",
          &r.seed, r.hash_version};
}
HashedRule AsHashed(const RolloutRule& r) {
  return {&r.value, r.coverage, r.hash_attribute, &r.seed, r.hash_version};
}

// The experiment rule's outcome, or nullopt to fall through to the next rule.
std::optional<FeatureResult> EvaluateExperimentRule(const ExperimentRule& rule,
                                                    std::string_view user,
                                                    const assign::Value& attributes,
                                                    const assign::Snapshot& experiments) {
  const assign::CompiledExperiment* e = experiments.Find(rule.experiment);
  if (e == nullptr) return std::nullopt;
  const assign::Assignment a = assign::Assign(*e, user, &attributes);
  if (a.variant_index < 0 || static_cast<size_t>(a.variant_index) >= rule.values.size() ||
      static_cast<size_t>(a.variant_index) >= e->spec.variants.size()) {
    return std::nullopt;
  }
  // The SDK returns before hashing when the hash attribute is empty
  // (runExperiment step 6); overrides and released variants come before that.
  if (a.reason == assign::AssignReason::kHashed && user.empty()) return std::nullopt;
  FeatureResult result;
  result.value = rule.values[static_cast<size_t>(a.variant_index)];
  result.source = a.reason == assign::AssignReason::kReleased ? FeatureSource::kForce
                                                              : FeatureSource::kExperiment;
  result.experiment_key = e->spec.key;
  result.variant_index = a.variant_index;
  result.variant_key = e->spec.variants[static_cast<size_t>(a.variant_index)].key;
  result.in_experiment = a.in_experiment;
  return result;
}

}  // namespace

const char* FeatureValueTypeName(FeatureValueType type) {
  switch (type) {
    case FeatureValueType::kBoolean:
      return "boolean";
    case FeatureValueType::kString:
      return "string";
    case FeatureValueType::kNumber:
      return "number";
    case FeatureValueType::kJson:
      return "json";
  }
  return "json";
}

const char* FeatureSourceName(FeatureSource source) {
  switch (source) {
    case FeatureSource::kUnknownFeature:
      return "unknownFeature";
    case FeatureSource::kDefaultValue:
      return "defaultValue";
    case FeatureSource::kForce:
      return "force";
    case FeatureSource::kExperiment:
      return "experiment";
  }
  return "unknownFeature";
}

Status ValidateFeature(const Feature& feature, const assign::Snapshot& experiments) {
  if (!IsKey(feature.key)) {
    return Status::InvalidArgument("key",
                                   "must be 1 to 128 bytes of letters, digits, '_', '-' and '.'");
  }
  if (Status s = CheckValue(feature.default_value, feature.value_type, "default_value"); !s.ok()) {
    return s;
  }
  if (feature.rules.size() > kMaxRules) {
    return Status::InvalidArgument("rules", "at most " + std::to_string(kMaxRules) + " rules");
  }
  for (size_t i = 0; i < feature.rules.size(); ++i) {
    const std::string path = RulePath(i);
    Status s = std::visit([&](const auto& r) { return CheckRule(feature, r, path, experiments); },
                          feature.rules[i]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

CompiledFeature CompileFeature(Feature feature) {
  CompiledFeature compiled;
  compiled.conditions.reserve(feature.rules.size());
  for (const FeatureRule& rule : feature.rules) {
    const std::optional<assign::Value>* condition = nullptr;
    if (const auto* f = std::get_if<ForceRule>(&rule)) condition = &f->condition;
    if (const auto* r = std::get_if<RolloutRule>(&rule)) condition = &r->condition;
    std::shared_ptr<const assign::Condition> parsed;
    if (condition != nullptr && condition->has_value()) {
      std::string error;
      parsed = assign::Condition::Parse(**condition, &error);
    }
    compiled.conditions.push_back(std::move(parsed));
  }
  compiled.feature = std::move(feature);
  return compiled;
}

FeatureResult EvaluateFeature(const CompiledFeature* compiled, std::string_view user,
                              const assign::Value* attributes,
                              const assign::Snapshot& experiments) {
  FeatureResult result;
  if (compiled == nullptr) return result;  // unknownFeature, value null
  const Feature& feature = compiled->feature;

  // The attributes the rules see: the caller's, with "id" the user when absent.
  assign::Value attrs = attributes != nullptr && attributes->is_object()
                            ? *attributes
                            : assign::Value(assign::Value::Object{});
  if (attrs.Find("id") == nullptr) attrs.as_object().emplace_back("id", std::string(user));

  for (size_t i = 0; i < feature.rules.size(); ++i) {
    const FeatureRule& rule = feature.rules[i];
    if (const auto* experiment_rule = std::get_if<ExperimentRule>(&rule)) {
      std::optional<FeatureResult> r =
          EvaluateExperimentRule(*experiment_rule, user, attrs, experiments);
      if (!r) continue;
      r->rule_index = static_cast<int>(i);
      return std::move(*r);
    }
    const HashedRule hashed = std::holds_alternative<ForceRule>(rule)
                                  ? AsHashed(std::get<ForceRule>(rule))
                                  : AsHashed(std::get<RolloutRule>(rule));
    const assign::Condition* condition =
        i < compiled->conditions.size() ? compiled->conditions[i].get() : nullptr;
    if (condition != nullptr && !condition->Matches(attrs)) continue;
    const std::string_view seed =
        hashed.seed->has_value() ? std::string_view(**hashed.seed) : std::string_view(feature.key);
    if (!IncludedInRollout(attrs, seed, hashed.hash_attribute, hashed.coverage,
                           hashed.hash_version)) {
      continue;
    }
    result.value = *hashed.value;
    result.source = FeatureSource::kForce;
    result.rule_index = static_cast<int>(i);
    return result;
  }
  result.value = feature.default_value;
  result.source = FeatureSource::kDefaultValue;
  return result;
}

}  // namespace causeway::app
