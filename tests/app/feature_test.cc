// Features with values (src/app/feature.h) without HTTP: every case of
// tests/reference/app/growthbook_features.json (GrowthBook's JavaScript SDK
// evaluating the equivalent payload, growthbook_features.mjs) evaluated by
// EvaluateFeature to the same value, source, rule and variant; and the validation,
// each bad field named.
#include "app/feature.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace causeway::app {
namespace {

using Json = nlohmann::ordered_json;  // keeps object member order, as conditions need
using assign::Value;

Json Fixture(const std::string& name) {
  std::ifstream in(std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/app/" + name);
  REQUIRE(in.good());
  return Json::parse(in);
}

Value ToValue(const Json& j) {
  if (j.is_null()) return Value();
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  if (j.is_array()) {
    Value::Array a;
    for (const Json& e : j) a.push_back(ToValue(e));
    return Value(std::move(a));
  }
  Value::Object o;
  for (const auto& [k, v] : j.items()) o.emplace_back(k, ToValue(v));
  return Value(std::move(o));
}

Json ToJson(const Value& v) {
  switch (v.type()) {
    case Value::Type::kNull:
      return nullptr;
    case Value::Type::kBool:
      return v.as_bool();
    case Value::Type::kNumber:
      return v.as_number();
    case Value::Type::kString:
      return v.as_string();
    case Value::Type::kArray: {
      Json a = Json::array();
      for (const Value& e : v.as_array()) a.push_back(ToJson(e));
      return a;
    }
    case Value::Type::kObject: {
      Json o = Json::object();
      for (const auto& [k, e] : v.as_object()) o[k] = ToJson(e);
      return o;
    }
  }
  return nullptr;
}

assign::ExperimentStatus StatusOf(const std::string& s) {
  if (s == "running") return assign::ExperimentStatus::kRunning;
  if (s == "stopped") return assign::ExperimentStatus::kStopped;
  return assign::ExperimentStatus::kDraft;
}

// The fixture's experiments in Causeway's form -> the engine's specs.
assign::Snapshot Experiments(const Json& list) {
  std::vector<assign::ExperimentSpec> specs;
  for (const Json& e : list) {
    assign::ExperimentSpec s;
    s.key = e.at("key");
    s.seed = e.at("seed");
    s.hash_version = e.at("hash_version");
    s.coverage = e.at("coverage");
    for (size_t i = 0; i < e.at("variants").size(); ++i) {
      s.variants.push_back({e["variants"][i].get<std::string>(), e["weights"][i].get<double>()});
    }
    if (e.contains("namespace")) {
      const Json& ns = e["namespace"];
      s.ns = assign::NamespaceSpec{ns.at("name"), ns.at("start"), ns.at("end")};
    }
    if (e.contains("condition")) {
      std::string error;
      s.condition = assign::Condition::Parse(ToValue(e["condition"]), &error);
      REQUIRE(s.condition != nullptr);
    }
    if (e.contains("overrides")) {
      for (const auto& [user, index] : e["overrides"].items()) s.overrides[user] = index;
    }
    s.status = StatusOf(e.at("status"));
    s.released_variant = e.value("released_variant", -1);
    specs.push_back(std::move(s));
  }
  return assign::Snapshot(std::move(specs));
}

FeatureValueType TypeOf(const std::string& s) {
  if (s == "boolean") return FeatureValueType::kBoolean;
  if (s == "string") return FeatureValueType::kString;
  if (s == "number") return FeatureValueType::kNumber;
  REQUIRE(s == "json");
  return FeatureValueType::kJson;
}

Feature FeatureOf(const Json& f) {
  Feature out;
  out.key = f.at("key");
  out.value_type = TypeOf(f.at("value_type"));
  out.default_value = ToValue(f.at("default_value"));
  for (const Json& r : f.at("rules")) {
    const std::string type = r.at("type");
    std::optional<Value> condition;
    if (r.contains("condition")) condition = ToValue(r["condition"]);
    std::optional<std::string> seed;
    if (r.contains("seed")) seed = r["seed"].get<std::string>();
    if (type == "force") {
      ForceRule rule;
      rule.value = ToValue(r.at("value"));
      rule.condition = condition;
      if (r.contains("coverage")) rule.coverage = r["coverage"].get<double>();
      if (r.contains("hash_attribute")) rule.hash_attribute = r["hash_attribute"];
      rule.seed = seed;
      rule.hash_version = r.value("hash_version", 1);
      out.rules.emplace_back(std::move(rule));
    } else if (type == "rollout") {
      RolloutRule rule;
      rule.value = ToValue(r.at("value"));
      rule.coverage = r.at("coverage");
      rule.hash_attribute = r.at("hash_attribute");
      rule.condition = condition;
      rule.seed = seed;
      rule.hash_version = r.value("hash_version", 1);
      out.rules.emplace_back(std::move(rule));
    } else {
      REQUIRE(type == "experiment");
      ExperimentRule rule;
      rule.experiment = r.at("experiment");
      for (const Json& v : r.at("values")) rule.values.push_back(ToValue(v));
      out.rules.emplace_back(std::move(rule));
    }
  }
  return out;
}

TEST_CASE("features evaluate as GrowthBook's JavaScript SDK evaluates the payload",
          "[feature][growthbook]") {
  const Json ref = Fixture("growthbook_features.json");
  const assign::Snapshot experiments = Experiments(ref.at("experiments"));
  std::map<std::string, CompiledFeature> features;
  for (const Json& f : ref.at("features")) {
    Feature feature = FeatureOf(f);
    const Status s = ValidateFeature(feature, experiments);
    INFO(feature.key << ": " << s.field() << " " << s.message());
    REQUIRE(s.ok());
    const std::string key = feature.key;
    features.emplace(key, CompileFeature(std::move(feature)));
  }
  std::map<std::string, Value> attributes;
  for (const Json& u : ref.at("users")) {
    REQUIRE(attributes.emplace(u.at("id"), ToValue(u.at("attributes"))).second);  // unique ids
  }

  size_t checked = 0, mismatches = 0;
  std::map<std::string, size_t> by_source;
  for (const Json& c : ref.at("cases")) {
    const std::string user = c.at("user");
    const std::string key = c.at("feature");
    const auto it = features.find(key);
    const FeatureResult r = EvaluateFeature(it == features.end() ? nullptr : &it->second, user,
                                            &attributes.at(user), experiments);
    const bool has_experiment = c.contains("experiment");
    const bool same =
        ToJson(r.value) == c.at("value") && FeatureSourceName(r.source) == c.at("source") &&
        r.rule_index == c.at("rule_index") &&
        (has_experiment
             ? r.experiment_key == c["experiment"] && r.variant_index == c["variation"] &&
                   r.variant_key == c["variation_key"] &&
                   r.in_experiment == (c["in_experiment"] && c["hash_used"])
             : !r.in_experiment);
    if (!same) {
      ++mismatches;
      UNSCOPED_INFO("user '" << user << "' feature " << key << ": Causeway "
                             << ToJson(r.value).dump() << " " << FeatureSourceName(r.source)
                             << " rule " << r.rule_index << " " << r.experiment_key << "/"
                             << r.variant_index << "/" << r.variant_key
                             << (r.in_experiment ? " in" : " out") << "; SDK " << c.dump());
    }
    ++by_source[FeatureSourceName(r.source)];
    ++checked;
  }
  CHECK(mismatches == 0);
  CHECK(checked == ref.at("cases").size());
  CHECK(checked >= 4000);
  for (const char* s : {"unknownFeature", "defaultValue", "force", "experiment"}) {
    INFO(s);
    CHECK(by_source[s] > 0);
  }
}

TEST_CASE("attribute values are hashed as JavaScript writes them", "[feature][growthbook]") {
  const Json ref = Fixture("growthbook_features.json");
  REQUIRE(ref.at("hash_attribute_texts").size() > 30);
  for (const Json& pair : ref.at("hash_attribute_texts")) {
    INFO(pair.dump());
    CHECK(HashAttributeText(ToValue(pair.at(0))) == pair.at(1).get<std::string>());
  }
}

// ---------------------------------------------------------------- validation

assign::Snapshot TwoVariantExperiment() {
  assign::ExperimentSpec s;
  s.key = "exp";
  s.seed = "exp";
  s.variants = {{"control", 0.5}, {"treatment", 0.5}};
  s.status = assign::ExperimentStatus::kRunning;
  return assign::Snapshot({s});
}

Feature Valid() {
  Feature f;
  f.key = "checkout.button-color_2";
  f.value_type = FeatureValueType::kString;
  f.default_value = "blue";
  ForceRule force;
  force.value = "red";
  force.condition = Value(Value::Object{{"country", "FR"}});
  force.coverage = 0.5;
  RolloutRule rollout;
  rollout.value = "green";
  rollout.coverage = 0.2;
  ExperimentRule experiment;
  experiment.experiment = "exp";
  experiment.values = {"blue", "purple"};
  f.rules = {force, rollout, experiment};
  return f;
}

void ExpectInvalid(const Feature& f, const std::string& field,
                   StatusCode code = StatusCode::kInvalidArgument) {
  const Status s = ValidateFeature(f, TwoVariantExperiment());
  INFO(field << ": " << s.field() << " " << s.message());
  CHECK(s.code() == code);
  CHECK(s.field() == field);
  CHECK(!s.message().empty());
}

TEST_CASE("a valid feature validates", "[feature]") {
  CHECK(ValidateFeature(Valid(), TwoVariantExperiment()).ok());
  Feature json = Valid();
  json.value_type = FeatureValueType::kJson;  // any value is JSON
  std::get<ForceRule>(json.rules[0]).value = Value(Value::Array{1, "x", nullptr});
  CHECK(ValidateFeature(json, TwoVariantExperiment()).ok());
  Feature no_rules;
  no_rules.key = "flag";
  no_rules.default_value = false;
  CHECK(ValidateFeature(no_rules, assign::Snapshot()).ok());
}

TEST_CASE("each bad field of a feature is named", "[feature]") {
  Feature f = Valid();
  f.key = "has space";
  ExpectInvalid(f, "key");
  f.key = "";
  ExpectInvalid(f, "key");
  f.key = std::string(129, 'k');
  ExpectInvalid(f, "key");

  f = Valid();
  f.default_value = 3;
  ExpectInvalid(f, "default_value");

  f = Valid();
  f.value_type = FeatureValueType::kBoolean;
  f.default_value = true;
  ExpectInvalid(f, "rules[0].value");  // "red" is not a boolean

  f = Valid();
  std::get<ForceRule>(f.rules[0]).condition = Value("country = FR");
  ExpectInvalid(f, "rules[0].condition");
  std::get<ForceRule>(f.rules[0]).condition =
      Value(Value::Object{{"country", Value(Value::Object{{"$nosuch", 1}})}});
  ExpectInvalid(f, "rules[0].condition");

  f = Valid();
  std::get<ForceRule>(f.rules[0]).coverage = 1.5;
  ExpectInvalid(f, "rules[0].coverage");
  std::get<ForceRule>(f.rules[0]).coverage = -0.1;
  ExpectInvalid(f, "rules[0].coverage");

  f = Valid();
  std::get<ForceRule>(f.rules[0]).hash_attribute = "";
  ExpectInvalid(f, "rules[0].hash_attribute");

  f = Valid();
  std::get<RolloutRule>(f.rules[1]).value = Value(Value::Object{});
  ExpectInvalid(f, "rules[1].value");
  f = Valid();
  std::get<RolloutRule>(f.rules[1]).coverage = std::nan("");
  ExpectInvalid(f, "rules[1].coverage");
  f = Valid();
  std::get<RolloutRule>(f.rules[1]).seed = "";
  ExpectInvalid(f, "rules[1].seed");
  f = Valid();
  std::get<RolloutRule>(f.rules[1]).hash_version = 3;
  ExpectInvalid(f, "rules[1].hash_version");

  f = Valid();
  std::get<ExperimentRule>(f.rules[2]).experiment = "no-such-experiment";
  ExpectInvalid(f, "rules[2].experiment", StatusCode::kNotFound);
  f = Valid();
  std::get<ExperimentRule>(f.rules[2]).values = {"blue", "purple", "orange"};
  ExpectInvalid(f, "rules[2].values");
  std::get<ExperimentRule>(f.rules[2]).values = {"blue"};
  ExpectInvalid(f, "rules[2].values");
  std::get<ExperimentRule>(f.rules[2]).values = {"blue", 7};
  ExpectInvalid(f, "rules[2].values[1]");

  f = Valid();
  f.rules.assign(101, ForceRule{"red", {}, {}, {}, {}, 1});
  ExpectInvalid(f, "rules");
}

// ---------------------------------------------------------------- evaluation

TEST_CASE("evaluation: unknown feature, default value, fall-through", "[feature]") {
  const assign::Snapshot experiments = TwoVariantExperiment();
  const FeatureResult unknown = EvaluateFeature(nullptr, "u1", nullptr, experiments);
  CHECK(unknown.source == FeatureSource::kUnknownFeature);
  CHECK(unknown.value.is_null());
  CHECK(unknown.rule_index == -1);

  // A force rule with a coverage needs the hash attribute; without one it does not.
  Feature f;
  f.key = "limit";
  f.value_type = FeatureValueType::kNumber;
  f.default_value = 1;
  ForceRule needs_company;
  needs_company.value = 2;
  needs_company.coverage = 1.0;
  needs_company.hash_attribute = "company";
  ForceRule everyone;
  everyone.value = 3;
  f.rules = {needs_company, everyone};
  REQUIRE(ValidateFeature(f, experiments).ok());
  const CompiledFeature compiled = CompileFeature(f);
  const FeatureResult no_company = EvaluateFeature(&compiled, "u1", nullptr, experiments);
  CHECK(no_company.source == FeatureSource::kForce);
  CHECK(no_company.rule_index == 1);
  CHECK(no_company.value.as_number() == 3);
  const Value acme(Value::Object{{"company", "acme"}});
  const FeatureResult with_company = EvaluateFeature(&compiled, "u1", &acme, experiments);
  CHECK(with_company.rule_index == 0);
  CHECK(with_company.value.as_number() == 2);

  Feature none = f;
  none.rules.clear();
  const CompiledFeature plain = CompileFeature(none);
  const FeatureResult d = EvaluateFeature(&plain, "u1", nullptr, experiments);
  CHECK(d.source == FeatureSource::kDefaultValue);
  CHECK(d.value.as_number() == 1);
  CHECK(d.rule_index == -1);
}

TEST_CASE("evaluation: an experiment rule serves the engine's variant", "[feature]") {
  const assign::Snapshot experiments = TwoVariantExperiment();
  Feature f;
  f.key = "color";
  f.value_type = FeatureValueType::kString;
  f.default_value = "none";
  f.rules = {ExperimentRule{"exp", {"blue", "purple"}}};
  const CompiledFeature compiled = CompileFeature(f);
  for (int u = 0; u < 50; ++u) {
    const std::string user = "user-" + std::to_string(u);
    const assign::Assignment a = assign::Assign(*experiments.Find("exp"), user, nullptr);
    const FeatureResult r = EvaluateFeature(&compiled, user, nullptr, experiments);
    CHECK(r.source == FeatureSource::kExperiment);
    CHECK(r.variant_index == a.variant_index);
    CHECK(r.variant_key == (a.variant_index == 0 ? "control" : "treatment"));
    CHECK(r.value.as_string() == (a.variant_index == 0 ? "blue" : "purple"));
    CHECK(r.in_experiment);
    CHECK(r.experiment_key == "exp");
    CHECK(r.rule_index == 0);
  }
  // The experiment gone from the snapshot: the rule is skipped.
  const FeatureResult gone = EvaluateFeature(&compiled, "user-1", nullptr, assign::Snapshot());
  CHECK(gone.source == FeatureSource::kDefaultValue);
  // An empty user id is never hashed (the SDK: missing hash attribute).
  CHECK(EvaluateFeature(&compiled, "", nullptr, experiments).source ==
        FeatureSource::kDefaultValue);
}

}  // namespace
}  // namespace causeway::app
