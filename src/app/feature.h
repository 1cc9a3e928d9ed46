// Features with values (issue 22, section 1): the model and its evaluation.
//
// A feature is a key, a value type, a default value and ordered rules. The first
// rule that applies to a user gives the value; when none does, the default value.
// The rules and their order follow GrowthBook's feature rules, so the payload its
// SDKs read can be built from these structs and every SDK computes the same value
// (docs/sdk.md, "Features (the model)"):
//   - force:      `value`, for users matching `condition` (none: everyone) and, when
//                 `coverage` is set, with hash(seed, attributes[hash_attribute],
//                 hash_version) <= coverage;
//   - rollout:    the same with `coverage` and `hash_attribute` required;
//   - experiment: `values[i]` for the user assigned variant i of the experiment by
//                 assign::Assign; a user not in the experiment falls through to the
//                 next rule.
// Evaluation reproduces GrowthBook's JavaScript SDK (packages/sdk-js/src/core.ts,
// evalFeature, isIncludedInRollout, getHashAttribute, runExperiment); the fixture
// tests/reference/app/growthbook_features.json holds the SDK's own results.
//
// Plain values; thread-compatible. EvaluateFeature is pure and thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "assign/condition.h"
#include "assign/engine.h"
#include "assign/value.h"
#include "common/status.h"

namespace causeway::app {

enum class FeatureValueType { kBoolean, kString, kNumber, kJson };
// "boolean", "string", "number", "json".
const char* FeatureValueTypeName(FeatureValueType type);

// A forced value, optionally under a targeting condition and for a share of users.
struct ForceRule {
  assign::Value value;
  std::optional<assign::Value> condition;  // GrowthBook condition syntax (an object)
  // In [0, 1]. None: everyone the condition matches, whether or not they have the
  // hash attribute. Set (even to 1): users without the hash attribute are skipped.
  std::optional<double> coverage;
  std::optional<std::string> hash_attribute;  // default "id"; used only with coverage
  std::optional<std::string> seed;            // default: the feature key
  int hash_version = 1;                       // 1 or 2; GrowthBook's default is 1
};

// A hashed percentage rollout of one value.
struct RolloutRule {
  assign::Value value;
  double coverage = 0.0;  // in [0, 1]
  std::string hash_attribute = "id";
  std::optional<assign::Value> condition;
  std::optional<std::string> seed;  // default: the feature key
  int hash_version = 1;             // 1 or 2
};

// The values of an experiment's variants: values[i] is served to variant i.
struct ExperimentRule {
  std::string experiment;  // an experiment key
  std::vector<assign::Value> values;
};

using FeatureRule = std::variant<ForceRule, RolloutRule, ExperimentRule>;

struct Feature {
  std::string key;  // 1-128 of [A-Za-z0-9_.-], as experiment keys
  FeatureValueType value_type = FeatureValueType::kBoolean;
  assign::Value default_value;
  std::vector<FeatureRule> rules;  // in order; at most 100
};

// Checks every rule of a feature; InvalidArgument naming the field:
//   key; default_value and every rule's value (rules[i].value, rules[i].values[j])
//   of the feature's type (boolean, string, number; json: any value);
//   rules[i].condition an object that assign::Condition::Parse accepts;
//   rules[i].coverage in [0, 1]; rules[i].hash_attribute and rules[i].seed
//   non-empty; rules[i].hash_version 1 or 2; rules[i].experiment a key of
//   `experiments` (else NotFound naming rules[i].experiment) and rules[i].values one
//   value per variant of that experiment.
Status ValidateFeature(const Feature& feature, const assign::Snapshot& experiments);

// A feature prepared for evaluation: every rule's condition parsed once.
struct CompiledFeature {
  Feature feature;
  std::vector<std::shared_ptr<const assign::Condition>> conditions;  // per rule; null: none
};

// REQUIRES: ValidateFeature(feature, ...).ok()
CompiledFeature CompileFeature(Feature feature);

// Why a feature has its value; the names are GrowthBook's `source` values.
enum class FeatureSource { kUnknownFeature, kDefaultValue, kForce, kExperiment };
// "unknownFeature", "defaultValue", "force", "experiment".
const char* FeatureSourceName(FeatureSource source);

struct FeatureResult {
  assign::Value value;  // null for an unknown feature
  FeatureSource source = FeatureSource::kUnknownFeature;
  int rule_index = -1;  // the rule that gave the value; -1 for the default value
  // Set when an experiment rule gave the value (and for a stopped experiment that
  // releases a variant: source kForce, as the payload serves it).
  std::string experiment_key;
  int variant_index = -1;
  std::string variant_key;
  // The user was hashed into the experiment and counts towards its analysis:
  // false for an override and a released variant (assign::Assignment). In the
  // SDK's terms: experimentResult.inExperiment && experimentResult.hashUsed.
  bool in_experiment = false;
};

// The value of `feature` for `user`, as GrowthBook's SDK evaluates the equivalent
// payload. nullptr: an unknown feature (source kUnknownFeature, value null).
//
// `attributes` (null: none) are the user's targeting attributes; as in
// /v1/assign, "id" is added with the user id when absent, and the SDK agrees when
// attributes["id"] is the user id. Rules in order:
//   1. force and rollout: skipped when the condition does not match; with a
//      coverage, skipped when coverage is 0, when attributes[hash_attribute] is
//      missing or falsy in JavaScript's sense (null, false, 0, ""), or when
//      hash(seed or the feature key, that value written as JavaScript writes it,
//      hash_version) > coverage (GrowthBook's isIncludedInRollout includes
//      hash == coverage);
//   2. experiment: assign::Assign(experiment, user, attributes). A hashed variant
//      gives values[variant] (kExperiment, in_experiment), as does an override
//      (kExperiment, not in_experiment); a released variant gives its value as a
//      force rule would (kForce). Otherwise the next rule: not running, outside the
//      namespace, not targeted, outside coverage, an empty user id (the SDK never
//      hashes an empty hash attribute), or an experiment that is unknown or no
//      longer has a variant for which the rule has a value.
//   3. no rule applied: the default value (kDefaultValue).
FeatureResult EvaluateFeature(const CompiledFeature* feature, std::string_view user,
                              const assign::Value* attributes, const assign::Snapshot& experiments);

// An attribute value as the SDK hashes it: JavaScript's String(value) (`seed +
// value` in GrowthBook's hash()). Numbers as Number#toString writes them (1e21 as
// "1e+21", 1e-7 as "1e-7", 0.1 + 0.2 as "0.30000000000000004"), true as "true",
// arrays joined with "," (null elements empty), objects as "[object Object]".
std::string HashAttributeText(const assign::Value& value);

}  // namespace causeway::app
