#include "api/resources/assign.h"

#include <optional>
#include <string>
#include <vector>

#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/resources/events.h"
#include "api/resources/experiments.h"
#include "assign/engine.h"

namespace causeway::api {
namespace {

// One assignment as a JSON object.
void AppendAssignment(std::string& out, std::string_view experiment, std::string_view user,
                      const assign::CompiledExperiment& x, const assign::Assignment& a) {
  out += "{\"experiment\":";
  AppendJsonString(out, experiment);
  out += ",\"user\":";
  AppendJsonString(out, user);
  if (a.variant_index >= 0) {
    out += ",\"variant\":";
    AppendJsonString(out, x.spec.variants[a.variant_index].key);
    out += ",\"variant_index\":";
    out += std::to_string(a.variant_index);
  } else {
    out += ",\"variant\":null,\"variant_index\":null";
  }
  out += a.in_experiment ? ",\"in_experiment\":true" : ",\"in_experiment\":false";
  // The engine hashes only users it gets as far as bucketing (docs/api.md).
  out += ",\"hash_value\":";
  if (a.reason == assign::AssignReason::kHashed || a.reason == assign::AssignReason::kCoverage) {
    AppendNumber(out, a.hash_value);
  } else {
    out += "null";
  }
  out += ",\"reason\":\"";
  out += assign::ReasonName(a.reason);
  out += "\",\"phase\":";
  out += std::to_string(x.spec.phase);
  out += '}';
}

std::optional<Status> CheckUser(const std::string& user, const std::string& field) {
  if (user.empty() || user.size() > 256) {
    return InvalidArgument(field, "required: a non-empty user id of at most 256 bytes");
  }
  if (!IsValidUtf8(user)) return InvalidArgument(field, "must be valid UTF-8");
  return std::nullopt;
}

// Logs the exposure when the user is in the experiment, and says so in the
// assignment object just written to `out`.
void AppendExposureLogged(std::string& out, EventService& events,
                          const assign::CompiledExperiment& x, std::string_view user,
                          const assign::Assignment& a) {
  const bool logged = a.in_experiment && events.LogExposure(x.spec.key, x.spec.phase, user,
                                                            x.spec.variants[a.variant_index].key);
  out.pop_back();
  out += logged ? ",\"exposure_logged\":true}" : ",\"exposure_logged\":false}";
}

// The value the assigned variant carries in each feature whose experiment rule
// names this experiment (docs/sdk.md), as `"features": {key: value}` in the
// assignment object just written to `out`; nothing when the user has no variant
// or no feature names the experiment.
void AppendFeatureValues(std::string& out, const app::FeatureSet* features,
                         const assign::CompiledExperiment& x, const assign::Assignment& a) {
  if (!features || a.variant_index < 0) return;
  const auto* list = features->ValuesFor(x.spec.key);
  if (!list) return;
  out.pop_back();
  out += ",\"features\":{";
  bool first = true;
  for (const auto& f : *list) {
    if (static_cast<size_t>(a.variant_index) >= f.values->size()) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, f.feature);
    out += ':';
    out += FromValue((*f.values)[a.variant_index]).dump();
  }
  out += "}}";
}

std::shared_ptr<const app::FeatureSet> FeaturesIfAny(Services& services) {
  if (!services.experiments || !services.experiments->features().HasExperimentRules()) return {};
  return services.experiments->features().Current();
}

}  // namespace

HandlerResult GetAssign(Services& services, const Call& call) {
  FieldReader query = FieldReader::Query(call.query);
  std::string key, user;
  bool log_exposure = false;
  query.Required("experiment", &key).Required("user", &user);
  query.Optional("log_exposure", &log_exposure);
  if (Status s = query.Finish(); !s.ok()) return s;
  if (auto e = CheckUser(user, "user")) return *e;
  const assign::CompiledExperiment* x = services.snapshots->Current().Find(key);
  if (!x) return Status(StatusCode::kNotFound, "no experiment with key " + key, "experiment");
  assign::Assignment a = assign::Assign(*x, user, nullptr);
  RawBody out;
  out.text.reserve(256);
  AppendAssignment(out.text, key, user, *x, a);
  AppendFeatureValues(out.text, FeaturesIfAny(services).get(), *x, a);
  if (log_exposure) AppendExposureLogged(out.text, *services.events, *x, user, a);
  return out;
}

HandlerResult PostAssign(Services& services, const Call& call) {
  FieldReader r(*call.json);
  std::string user;
  bool log_exposure = false;
  r.Required("user", &user).Optional("log_exposure", &log_exposure);
  const Json* attributes_json = r.Raw("attributes");
  r.Check(!attributes_json || attributes_json->is_object(), "attributes", "must be a JSON object");
  const assign::Snapshot& snapshot = services.snapshots->Current();
  std::vector<const assign::CompiledExperiment*> chosen;
  const bool listed = r.Present("experiments");
  r.Array("experiments", [&](const Json& k, const std::string& path, size_t) -> Status {
    if (!k.is_string()) return InvalidArgument(path, "must be a string");
    const auto* x = snapshot.Find(k.get_ref<const std::string&>());
    if (!x) return Status::NotFound("no experiment with key " + k.get<std::string>(), path);
    chosen.push_back(x);
    return Status::Ok();
  });
  if (Status s = r.Finish(); !s.ok()) return s;
  if (auto e = CheckUser(user, "user")) return *e;
  assign::Value attributes =
      attributes_json ? ToValue(*attributes_json) : assign::Value(assign::Value::Object{});
  if (!attributes.Find("id")) attributes.as_object().emplace_back("id", assign::Value(user));
  if (!listed) {
    for (const auto& x : snapshot.experiments()) {
      if (x.spec.status == assign::ExperimentStatus::kRunning) chosen.push_back(&x);
    }
  }
  const std::shared_ptr<const app::FeatureSet> features = FeaturesIfAny(services);
  RawBody out;
  out.text = "{\"user\":";
  AppendJsonString(out.text, user);
  out.text += ",\"assignments\":[";
  for (size_t i = 0; i < chosen.size(); ++i) {
    assign::Assignment a = assign::Assign(*chosen[i], user, &attributes);
    if (i > 0) out.text += ',';
    AppendAssignment(out.text, chosen[i]->spec.key, user, *chosen[i], a);
    AppendFeatureValues(out.text, features.get(), *chosen[i], a);
    if (log_exposure) AppendExposureLogged(out.text, *services.events, *chosen[i], user, a);
  }
  out.text += "]}";
  return out;
}

}  // namespace causeway::api
