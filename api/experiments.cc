#include "api/experiments.h"

#include <openssl/rand.h>

#include <cctype>
#include <cmath>
#include <set>

#include "api/json_util.h"
#include "api/log.h"

namespace causeway::api {
namespace {

constexpr size_t kMaxVariants = 100;
constexpr size_t kMaxKeyBytes = 128;
constexpr double kWeightTolerance = 1e-6;

// Fields whose change re-randomises users of a running experiment.
constexpr std::string_view kRandomisationFields[] = {"variants", "seed", "coverage",
                                                     "hash_version"};

bool IsKey(const std::string& s) {
  if (s.empty() || s.size() > kMaxKeyBytes) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string RandomSeed() {
  unsigned char raw[8];
  RAND_bytes(raw, sizeof raw);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : raw) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

std::optional<Status> ValidateVariants(Json& variants) {
  if (!variants.is_array()) return InvalidArgument("variants", "must be an array");
  if (variants.size() < 2 || variants.size() > kMaxVariants) {
    return InvalidArgument("variants",
                           "must have between 2 and " + std::to_string(kMaxVariants) + " variants");
  }
  std::set<std::string> seen;
  size_t with_weight = 0;
  double sum = 0;
  for (size_t i = 0; i < variants.size(); ++i) {
    Json& v = variants[i];
    std::string path = Path("variants", i);
    if (!v.is_object()) return InvalidArgument(path, "must be an object {key, weight}");
    if (auto e = RejectUnknownFields(v, path, {"key", "weight", "name", "description"})) return e;
    if (!v.contains("key") || !v["key"].is_string() || !IsKey(v["key"].get<std::string>())) {
      return InvalidArgument(Path(path, "key"),
                             "must be a string of 1-128 letters, digits, '_', '-' or '.'");
    }
    if (!seen.insert(v["key"].get<std::string>()).second) {
      return InvalidArgument(Path(path, "key"), "duplicate variant key");
    }
    for (const char* f : {"name", "description"}) {
      if (v.contains(f) && !v[f].is_string())
        return InvalidArgument(Path(path, f), "must be a string");
    }
    if (v.contains("weight")) {
      const Json& w = v["weight"];
      if (!w.is_number() || !std::isfinite(w.get<double>()) || w.get<double>() < 0) {
        return InvalidArgument(Path(path, "weight"), "must be a number >= 0");
      }
      ++with_weight;
      sum += w.get<double>();
    }
  }
  if (with_weight == 0) {
    for (auto& v : variants) v["weight"] = 1.0 / static_cast<double>(variants.size());
  } else if (with_weight != variants.size()) {
    return InvalidArgument("variants", "give a weight for every variant or for none");
  } else if (std::fabs(sum - 1.0) > kWeightTolerance) {
    return InvalidArgument("variants",
                           "weights must sum to 1 (they sum to " + std::to_string(sum) + ")");
  }
  return std::nullopt;
}

// Checks and normalises a whole experiment configuration in place (defaults filled).
std::optional<Status> ValidateConfig(Json& c) {
  if (!c.contains("key") || !c["key"].is_string() || !IsKey(c["key"].get<std::string>())) {
    return InvalidArgument("key", "required: a string of 1-128 letters, digits, '_', '-' or '.'");
  }
  const std::string key = c["key"].get<std::string>();
  if (!c.contains("name")) c["name"] = key;
  if (!c["name"].is_string()) return InvalidArgument("name", "must be a string");
  if (c.contains("description") && !c["description"].is_string()) {
    return InvalidArgument("description", "must be a string");
  }
  if (!c.contains("variants")) return InvalidArgument("variants", "required");
  if (auto e = ValidateVariants(c["variants"])) return e;

  if (!c.contains("seed") || c["seed"].is_null()) c["seed"] = key;
  if (!c["seed"].is_string() || c["seed"].get<std::string>().empty() ||
      c["seed"].get<std::string>().size() > 256) {
    return InvalidArgument("seed", "must be a non-empty string of at most 256 bytes");
  }
  if (!c.contains("hash_version")) c["hash_version"] = 2;
  if (!c["hash_version"].is_number_integer() ||
      (c["hash_version"].get<int64_t>() != 1 && c["hash_version"].get<int64_t>() != 2)) {
    return InvalidArgument("hash_version", "must be 1 or 2");
  }
  if (!c.contains("coverage")) c["coverage"] = 1.0;
  if (!c["coverage"].is_number() || !(c["coverage"].get<double>() >= 0.0) ||
      c["coverage"].get<double>() > 1.0) {
    return InvalidArgument("coverage", "must be a number in [0, 1]");
  }
  if (!c.contains("namespace")) c["namespace"] = nullptr;
  if (Json& ns = c["namespace"]; !ns.is_null()) {
    if (!ns.is_object())
      return InvalidArgument("namespace", "must be an object {name, start, end}");
    if (auto e = RejectUnknownFields(ns, "namespace", {"name", "start", "end"})) return e;
    if (!ns.contains("name") || !ns["name"].is_string() || ns["name"].get<std::string>().empty()) {
      return InvalidArgument("namespace.name", "required: a non-empty string");
    }
    for (const char* f : {"start", "end"}) {
      if (!ns.contains(f) || !ns[f].is_number()) {
        return InvalidArgument(Path("namespace", f), "required: a number in [0, 1]");
      }
    }
    double start = ns["start"].get<double>(), end = ns["end"].get<double>();
    if (!(start >= 0.0 && start < end && end <= 1.0)) {
      return InvalidArgument("namespace", "requires 0 <= start < end <= 1");
    }
  }
  if (!c.contains("condition")) c["condition"] = nullptr;
  if (const Json& cond = c["condition"]; !cond.is_null()) {
    std::string error;
    if (!cond.is_object() || !assign::Condition::Parse(ToValue(cond), &error)) {
      return InvalidArgument("condition",
                             cond.is_object() ? error : "must be an object (GrowthBook syntax)");
    }
  }
  if (!c.contains("overrides")) c["overrides"] = Json::object();
  if (!c["overrides"].is_object()) {
    return InvalidArgument("overrides", "must be an object {user id: variant key}");
  }
  for (const auto& [user, variant] : c["overrides"].items()) {
    bool found = false;
    if (variant.is_string()) {
      for (const auto& v : c["variants"]) found = found || v["key"] == variant;
    }
    if (!found) return InvalidArgument(Path("overrides", user), "must name one of the variants");
  }
  if (!c.contains("status")) c["status"] = "draft";
  if (c["status"] != "draft" && c["status"] != "running" && c["status"] != "stopped") {
    return InvalidArgument("status", "must be \"draft\", \"running\" or \"stopped\"");
  }
  return std::nullopt;
}

constexpr std::string_view kConfigFields[] = {
    "key",      "name",      "description", "variants",  "seed",  "hash_version",
    "coverage", "namespace", "condition",   "overrides", "status"};

Status StoreError(const Status& s) {
  if (s.code() == StatusCode::kAlreadyExists) return Status::AlreadyExists(s.message(), "key");
  return s;
}

}  // namespace

assign::ExperimentSpec SpecFromConfig(const Json& c, int phase) {
  assign::ExperimentSpec spec;
  spec.key = c["key"].get<std::string>();
  spec.seed = c["seed"].get<std::string>();
  spec.hash_version = c["hash_version"].get<int>();
  for (const auto& v : c["variants"]) {
    spec.variants.push_back({v["key"].get<std::string>(), v["weight"].get<double>()});
  }
  spec.coverage = c["coverage"].get<double>();
  if (const Json& ns = c["namespace"]; ns.is_object()) {
    spec.ns = assign::NamespaceSpec{ns["name"].get<std::string>(), ns["start"].get<double>(),
                                    ns["end"].get<double>()};
  }
  if (const Json& cond = c["condition"]; cond.is_object()) {
    std::string error;
    spec.condition = assign::Condition::Parse(ToValue(cond), &error);
  }
  for (const auto& [user, variant] : c["overrides"].items()) {
    for (size_t i = 0; i < spec.variants.size(); ++i) {
      if (spec.variants[i].key == variant.get<std::string>()) {
        spec.overrides[user] = static_cast<int>(i);
      }
    }
  }
  const std::string status = c["status"].get<std::string>();
  spec.status = status == "running"   ? assign::ExperimentStatus::kRunning
                : status == "stopped" ? assign::ExperimentStatus::kStopped
                                      : assign::ExperimentStatus::kDraft;
  spec.phase = phase;
  return spec;
}

bool ExperimentService::Load(std::string* error) {
  std::lock_guard lock(mu_);
  return Republish(error);
}

bool ExperimentService::Republish(std::string* error) {
  std::vector<assign::ExperimentSpec> specs;
  auto rows = store_->ListExperiments();
  if (!rows.ok()) {
    *error = rows.status().ToString();
    return false;
  }
  for (const auto& row : *rows) {
    Json c = Json::parse(row.config, nullptr, false);
    if (c.is_discarded() || ValidateConfig(c)) {
      *error = "stored configuration of experiment " + row.key + " is invalid";
      return false;
    }
    specs.push_back(SpecFromConfig(c, row.phase));
  }
  snapshots_->Publish(std::make_shared<assign::Snapshot>(std::move(specs)));
  return true;
}

StatusOr<Json> ExperimentService::Render(const store::ExperimentRow& row) {
  Json out = Json::parse(row.config);
  out["phase"] = row.phase;
  Json phases = Json::array();
  auto rows = store_->ListPhases(row.key);
  if (!rows.ok()) return rows.status();
  for (const auto& p : *rows) {
    phases.push_back({{"phase", p.phase},
                      {"seed", p.seed},
                      {"started_at", IsoTime(p.started_ms)},
                      {"started_at_ms", p.started_ms}});
  }
  out["phases"] = std::move(phases);
  out["created_at"] = IsoTime(row.created_ms);
  out["updated_at"] = IsoTime(row.updated_ms);
  return out;
}

HandlerResult ExperimentService::Create(const Json& body) {
  if (auto e = RejectUnknownFields(body, "", kConfigFields)) return *e;
  Json config = body;
  if (auto e = ValidateConfig(config)) return *e;
  int64_t now = NowMs();
  store::ExperimentRow row{config["key"].get<std::string>(), config.dump(), 1, now, now};
  store::PhaseRow phase{row.key, 1, config["seed"].get<std::string>(), now};
  std::lock_guard lock(mu_);
  if (auto s = store_->CreateExperiment(row, phase); !s.ok()) return StoreError(s);
  std::string error;
  if (!Republish(&error)) return Status(StatusCode::kInternal, error);
  Log("info", "experiment created", {{"experiment", row.key}});
  auto rendered = Render(row);
  if (!rendered.ok()) return rendered.status();
  return HandlerResult(std::move(*rendered), 201);
}

HandlerResult ExperimentService::List() {
  Json list = Json::array();
  auto rows = store_->ListExperiments();
  if (!rows.ok()) return rows.status();
  for (const auto& row : *rows) {
    auto rendered = Render(row);
    if (!rendered.ok()) return rendered.status();
    list.push_back(std::move(*rendered));
  }
  return Json{{"experiments", std::move(list)}};
}

HandlerResult ExperimentService::Get(std::string_view key) {
  auto row = store_->GetExperiment(key);
  if (!row.ok()) return row.status();
  auto rendered = Render(*row);
  if (!rendered.ok()) return rendered.status();
  return std::move(*rendered);
}

HandlerResult ExperimentService::Patch(std::string_view key, const Json& body) {
  if (auto e = RejectUnknownFields(
          body, "",
          {"name", "description", "variants", "seed", "hash_version", "coverage", "namespace",
           "condition", "overrides", "status", "new_phase", "key"})) {
    return *e;
  }
  if (body.contains("key") && body["key"] != key) {
    return InvalidArgument("key", "cannot be changed; create a new experiment instead");
  }
  bool new_phase = false;
  if (body.contains("new_phase")) {
    if (!body["new_phase"].is_boolean()) return InvalidArgument("new_phase", "must be a boolean");
    new_phase = body["new_phase"].get<bool>();
  }
  std::lock_guard lock(mu_);
  auto row = store_->GetExperiment(key);
  if (!row.ok()) return row.status();
  const Json old = Json::parse(row->config);
  Json config = old;
  for (const auto& [k, v] : body.items()) {
    if (k != "new_phase") config[k] = v;
  }
  if (new_phase && !body.contains("seed")) config["seed"] = RandomSeed();
  if (auto e = ValidateConfig(config)) return *e;

  if (old["status"] == "running" && !new_phase) {
    for (auto f : kRandomisationFields) {
      if (config[std::string(f)] != old[std::string(f)]) {
        return Status(StatusCode::kFailedPrecondition,
                      "changing " + std::string(f) +
                          " of a running experiment re-randomises its users; send "
                          "\"new_phase\": true to start a new phase with a new seed",
                      std::string(f));
      }
    }
  }
  int64_t now = NowMs();
  row->config = config.dump();
  row->updated_ms = now;
  std::optional<store::PhaseRow> phase;
  if (new_phase) {
    row->phase += 1;
    phase = store::PhaseRow{row->key, row->phase, config["seed"].get<std::string>(), now};
  }
  if (auto s = store_->UpdateExperiment(*row, phase ? &*phase : nullptr); !s.ok()) {
    return StoreError(s);
  }
  std::string error;
  if (!Republish(&error)) return Status(StatusCode::kInternal, error);
  Log("info", "experiment updated", {{"experiment", row->key}, {"phase", row->phase}});
  auto rendered = Render(*row);
  if (!rendered.ok()) return rendered.status();
  return std::move(*rendered);
}

std::variant<ExperimentService::View, Status> ExperimentService::Find(std::string_view key) {
  const assign::CompiledExperiment* x = snapshots_->Current().Find(key);
  if (!x) return Status::NotFound("no experiment with key " + std::string(key), "key");
  auto row = store_->GetExperiment(key);
  if (!row.ok()) return row.status();
  View v{x->spec.key, x->spec.phase, 0, x->spec.status, x->spec.variants};
  if (v.phase > 1) {
    v.since_ms = row->created_ms;
    auto phases = store_->ListPhases(key);
    if (!phases.ok()) return phases.status();
    for (const auto& p : *phases) {
      if (p.phase == v.phase) v.since_ms = p.started_ms;
    }
  }
  return v;
}

}  // namespace causeway::api
