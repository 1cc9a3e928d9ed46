#include "api/codec/config_codec.h"

#include <cmath>

#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/codec/time_text.h"

namespace causeway::api {
namespace {

// Marks the members a request may have, so that only others count as unknown
// whatever the order of reads (an explicit null is a known member too).
void MarkKnown(FieldReader& r, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) r.Raw(name);
}

Status ReadVariants(FieldReader& r, std::vector<app::ExperimentVariant>* out) {
  r.Array(
      "variants",
      [out](const Json& v, const std::string& path, size_t) {
        if (!v.is_object()) return InvalidArgument(path, "must be an object {key, weight}");
        FieldReader f(v, path);
        app::ExperimentVariant variant;
        f.Optional("key", &variant.key);
        f.Optional("weight", &variant.weight);
        f.Optional("name", &variant.name).Optional("description", &variant.description);
        out->push_back(std::move(variant));
        return f.Finish();
      },
      /*required=*/true);
  return Status::Ok();
}

void ReadNamespace(FieldReader& r, std::optional<app::ExperimentNamespace>* out) {
  const Json* ns = r.Raw("namespace");
  if (!ns) {
    *out = std::nullopt;
    return;
  }
  if (!ns->is_object()) {
    r.Fail(InvalidArgument("namespace", "must be an object {name, start, end}"));
    return;
  }
  FieldReader f(*ns, "namespace");
  app::ExperimentNamespace n;
  f.Required("name", &n.name).Required("start", &n.start).Required("end", &n.end);
  r.Fail(f.Finish());
  *out = n;
}

void ReadCondition(FieldReader& r, std::optional<assign::Value>* out) {
  const Json* c = r.Raw("condition");
  if (!c) {
    *out = std::nullopt;
    return;
  }
  if (!c->is_object()) {
    r.Fail(InvalidArgument("condition", "must be an object (GrowthBook syntax)"));
    return;
  }
  *out = ToValue(*c);
}

void ReadOverrides(FieldReader& r, std::map<std::string, std::string>* out) {
  const Json* o = r.Raw("overrides");
  if (!o) return;
  if (!o->is_object()) {
    r.Fail(InvalidArgument("overrides", "must be an object {user id: variant key}"));
    return;
  }
  for (const auto& [user, variant] : o->items()) {
    if (!variant.is_string()) {
      r.Fail(InvalidArgument(Path("overrides", user), "must name one of the variants"));
      return;
    }
    (*out)[user] = variant.get<std::string>();
  }
}

void ReadKeyList(FieldReader& r, std::string_view name, std::vector<std::string>* out) {
  out->clear();
  r.Array(name, [out](const Json& v, const std::string& path, size_t) {
    if (!v.is_string()) return InvalidArgument(path, "must be a metric key (a string)");
    out->push_back(v.get<std::string>());
    return Status::Ok();
  });
}

// "revenue" or {"metric": "revenue", "margin": 0.01}.
void ReadGuardrails(FieldReader& r, std::vector<app::GuardrailMetric>* out) {
  out->clear();
  r.Array("guardrail_metrics", [out](const Json& v, const std::string& path, size_t) {
    app::GuardrailMetric g;
    if (v.is_string()) {
      g.metric = v.get<std::string>();
    } else if (v.is_object()) {
      FieldReader f(v, path);
      f.Required("metric", &g.metric);
      f.Optional("margin", &g.margin);
      if (Status s = f.Finish(); !s.ok()) return s;
    } else {
      return InvalidArgument(path, "must be a metric key or {\"metric\", \"margin\"}");
    }
    out->push_back(std::move(g));
    return Status::Ok();
  });
}

// An instant: an ISO 8601 UTC string ("2026-12-14" or "2026-12-14T09:30:00Z") or
// integer milliseconds since the epoch.
void ReadInstant(FieldReader& r, std::string_view name, std::optional<int64_t>* out) {
  const Json* v = r.Raw(name);
  *out = std::nullopt;
  if (!v) return;
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
    return;
  }
  if (v->is_string()) {
    if (auto ms = ParseIsoTime(v->get<std::string>())) {
      *out = *ms;
      return;
    }
  }
  r.Fail(InvalidArgument(std::string(name),
                         "must be an ISO 8601 UTC time (\"2026-12-14T00:00:00Z\") or integer "
                         "milliseconds since the epoch"));
}

// {"steps": [0.01, ...], "min_hours_per_step": 24, "auto_rollback": true}; null: none.
void ReadRollout(FieldReader& r, std::optional<app::RolloutPlan>* out) {
  *out = std::nullopt;
  if (!r.Present("rollout")) {
    r.Raw("rollout");
    return;
  }
  app::RolloutPlan plan;
  r.Object("rollout", [&plan](FieldReader& f) {
    f.Array(
        "steps",
        [&plan](const Json& v, const std::string& path, size_t) {
          if (!v.is_number()) return InvalidArgument(path, "must be a coverage in (0, 1]");
          plan.steps.push_back(v.get<double>());
          return Status::Ok();
        },
        /*required=*/true);
    f.Optional("min_hours_per_step", &plan.min_hours_per_step);
    f.Optional("auto_rollback", &plan.auto_rollback);
  });
  if (r.ok()) *out = std::move(plan);
}

Json EncodeRolloutState(const app::RolloutState& s) {
  Json history = Json::array();
  for (const auto& e : s.history) {
    history.push_back({{"at_ms", e.at_ms},
                       {"at", IsoTime(e.at_ms)},
                       {"action", app::RolloutActionName(e.action)},
                       {"from_step", e.from_step},
                       {"to_step", e.to_step},
                       {"coverage", e.coverage},
                       {"reason", e.reason}});
  }
  return {{"step", s.step},
          {"step_started_at_ms", s.step_started_ms},
          {"step_started_at", IsoTime(s.step_started_ms)},
          {"status", app::RolloutStatusName(s.status)},
          {"history", std::move(history)}};
}

// The stored state, written by EncodeRolloutState (trusted: the service wrote it).
app::RolloutState DecodeRolloutState(const Json& j) {
  app::RolloutState s;
  s.step = j.value("step", 0);
  s.step_started_ms = j.value("step_started_at_ms", int64_t{0});
  const std::string status = j.value("status", std::string("ramping"));
  for (auto st : {app::RolloutStatus::kRamping, app::RolloutStatus::kPaused,
                  app::RolloutStatus::kCompleted, app::RolloutStatus::kRolledBack}) {
    if (status == app::RolloutStatusName(st)) s.status = st;
  }
  for (const auto& e : j.value("history", Json::array())) {
    app::RolloutEvent ev;
    ev.at_ms = e.value("at_ms", int64_t{0});
    const std::string action = e.value("action", std::string("hold"));
    for (auto a :
         {app::RolloutAction::kHold, app::RolloutAction::kAdvance, app::RolloutAction::kComplete,
          app::RolloutAction::kPause, app::RolloutAction::kRollback}) {
      if (action == app::RolloutActionName(a)) ev.action = a;
    }
    ev.from_step = e.value("from_step", 0);
    ev.to_step = e.value("to_step", 0);
    ev.coverage = e.value("coverage", 0.0);
    ev.reason = e.value("reason", std::string());
    s.history.push_back(std::move(ev));
  }
  return s;
}

const std::initializer_list<std::pair<std::string_view, assign::ExperimentStatus>> kStatuses = {
    {"draft", assign::ExperimentStatus::kDraft},
    {"running", assign::ExperimentStatus::kRunning},
    {"stopped", assign::ExperimentStatus::kStopped}};

}  // namespace

Status DecodeExperiment(const Json& body, app::Experiment* out) {
  FieldReader r(body);
  MarkKnown(
      r, {"key", "name", "description", "variants", "seed", "hash_version", "coverage", "namespace",
          "condition", "overrides", "status", "goal_metrics", "secondary_metrics",
          "guardrail_metrics", "planned_sample_size", "planned_end", "rollout"});
  r.Required("key", &out->key);
  r.Optional("name", &out->name).Optional("description", &out->description);
  ReadVariants(r, &out->variants);
  r.Optional("seed", &out->seed);
  int64_t hash_version = out->hash_version;
  r.Optional("hash_version", &hash_version);
  out->hash_version = hash_version == 1 || hash_version == 2 ? static_cast<int>(hash_version) : 0;
  r.Optional("coverage", &out->coverage);
  ReadNamespace(r, &out->ns);
  ReadCondition(r, &out->condition);
  ReadOverrides(r, &out->overrides);
  r.Enum("status", &out->status, kStatuses);
  ReadKeyList(r, "goal_metrics", &out->goal_metrics);
  ReadKeyList(r, "secondary_metrics", &out->secondary_metrics);
  ReadGuardrails(r, &out->guardrail_metrics);
  r.Optional("planned_sample_size", &out->planned_sample_size);
  ReadInstant(r, "planned_end", &out->planned_end_ms);
  ReadRollout(r, &out->rollout);
  return r.Finish();
}

Status DecodeExperimentPatch(const Json& body, app::ExperimentPatch* out) {
  FieldReader r(body);
  MarkKnown(
      r, {"key", "name", "description", "variants", "seed", "hash_version", "coverage", "namespace",
          "condition", "overrides", "status", "new_phase", "goal_metrics", "secondary_metrics",
          "guardrail_metrics", "planned_sample_size", "planned_end", "rollout"});
  r.Optional("key", &out->key);
  r.Optional("name", &out->name).Optional("description", &out->description);
  if (r.Present("variants")) {
    out->variants.emplace();
    ReadVariants(r, &*out->variants);
  }
  r.Optional("seed", &out->seed);
  if (r.Present("hash_version")) {
    int64_t v = 0;
    r.Optional("hash_version", &v);
    out->hash_version = v == 1 || v == 2 ? static_cast<int>(v) : 0;
  }
  r.Optional("coverage", &out->coverage);
  // An explicit null removes the namespace or the condition.
  if (body.is_object() && body.contains("namespace")) ReadNamespace(r, &out->ns.emplace());
  if (body.is_object() && body.contains("condition")) ReadCondition(r, &out->condition.emplace());
  if (r.Present("overrides")) ReadOverrides(r, &out->overrides.emplace());
  if (r.Present("status")) r.Enum("status", &out->status.emplace(), kStatuses);
  if (r.Present("goal_metrics")) ReadKeyList(r, "goal_metrics", &out->goal_metrics.emplace());
  if (r.Present("secondary_metrics")) {
    ReadKeyList(r, "secondary_metrics", &out->secondary_metrics.emplace());
  }
  if (r.Present("guardrail_metrics")) ReadGuardrails(r, &out->guardrail_metrics.emplace());
  // An explicit null removes the plan's size or date.
  if (body.is_object() && body.contains("planned_sample_size")) {
    r.Optional("planned_sample_size", &out->planned_sample_size.emplace());
  }
  if (body.is_object() && body.contains("planned_end")) {
    ReadInstant(r, "planned_end", &out->planned_end_ms.emplace());
  }
  if (body.is_object() && body.contains("rollout")) ReadRollout(r, &out->rollout.emplace());
  r.Optional("new_phase", &out->new_phase);
  return r.Finish();
}

Json EncodeExperimentConfig(const app::Experiment& x) {
  Json variants = Json::array();
  for (const auto& v : x.variants) {
    Json j = {{"key", v.key}, {"weight", v.weight.value_or(0.0)}};
    if (v.name) j["name"] = *v.name;
    if (v.description) j["description"] = *v.description;
    variants.push_back(std::move(j));
  }
  Json out = {{"key", x.key}, {"name", x.name.value_or(x.key)}};
  if (x.description) out["description"] = *x.description;
  out["variants"] = std::move(variants);
  out["seed"] = x.seed.value_or(x.key);
  out["hash_version"] = x.hash_version;
  out["coverage"] = x.coverage;
  out["namespace"] =
      x.ns ? Json{{"name", x.ns->name}, {"start", x.ns->start}, {"end", x.ns->end}} : Json();
  out["condition"] = x.condition ? FromValue(*x.condition) : Json();
  Json overrides = Json::object();
  for (const auto& [user, variant] : x.overrides) overrides[user] = variant;
  out["overrides"] = std::move(overrides);
  out["status"] = app::StatusName(x.status);
  out["goal_metrics"] = x.goal_metrics;
  out["secondary_metrics"] = x.secondary_metrics;
  Json guardrails = Json::array();
  for (const auto& g : x.guardrail_metrics) {
    guardrails.push_back({{"metric", g.metric}, {"margin", g.margin ? Json(*g.margin) : Json()}});
  }
  out["guardrail_metrics"] = std::move(guardrails);
  out["planned_sample_size"] = x.planned_sample_size ? Json(*x.planned_sample_size) : Json();
  out["planned_end"] = x.planned_end_ms ? Json(IsoTime(*x.planned_end_ms)) : Json();
  if (x.rollout) {
    out["rollout"] = {{"steps", x.rollout->steps},
                      {"min_hours_per_step", x.rollout->min_hours_per_step},
                      {"auto_rollback", x.rollout->auto_rollback}};
  } else {
    out["rollout"] = Json();
  }
  return out;
}

Json RenderExperiment(const app::Experiment& x) {
  Json out = EncodeExperimentConfig(x);
  out["phase"] = x.phase;
  Json phases = Json::array();
  for (const auto& p : x.phases) {
    phases.push_back({{"phase", p.phase},
                      {"seed", p.seed},
                      {"started_at", IsoTime(p.started_ms)},
                      {"started_at_ms", p.started_ms}});
  }
  out["phases"] = std::move(phases);
  out["created_at"] = IsoTime(x.created_ms);
  out["updated_at"] = IsoTime(x.updated_ms);
  if (x.rollout) {
    Json state = EncodeRolloutState(x.rollout_state);
    state["coverage"] = x.coverage;
    for (auto& [k, v] : state.items()) out["rollout"][k] = v;
  }
  return out;
}

Status DecodeMetric(const Json& body, app::MetricDefinition* out) {
  FieldReader r(body);
  r.Required("key", &out->key);
  r.Optional("name", &out->name).Optional("description", &out->description);
  r.Check(r.Present("type") || !r.ok(), "type",
          "required: \"binomial\", \"mean\", \"count\" or \"ratio\"");
  r.Enum("type", &out->type,
         {{"binomial", app::MetricType::kBinomial},
          {"mean", app::MetricType::kMean},
          {"count", app::MetricType::kCount},
          {"ratio", app::MetricType::kRatio}});
  r.Check(r.Present("event") || !r.ok(), "event", "required: the conversion event name");
  r.Optional("event", &out->event);
  r.Optional("denominator_event", &out->denominator_event);
  r.Optional("window_hours", &out->window_hours);
  r.Optional("higher_is_better", &out->higher_is_better);
  r.Optional("cuped_lookback_days", &out->cuped_lookback_days);
  return r.Finish();
}

Json RenderMetric(const app::MetricDefinition& m, bool with_created) {
  Json out = {{"key", m.key}, {"name", m.name.value_or(m.key)}};
  if (m.description) out["description"] = *m.description;
  out["type"] = app::MetricTypeName(m.type);
  out["event"] = m.event;
  if (m.denominator_event) out["denominator_event"] = *m.denominator_event;
  out["window_hours"] = m.window_hours ? Json(*m.window_hours) : Json();
  out["higher_is_better"] = m.higher_is_better;
  out["cuped_lookback_days"] = m.cuped_lookback_days;
  if (with_created) out["created_at"] = IsoTime(m.created_ms);
  return out;
}

std::string JsonConfigCodec::EncodeExperiment(const app::Experiment& x) const {
  Json out = EncodeExperimentConfig(x);
  if (x.rollout) out["rollout_state"] = EncodeRolloutState(x.rollout_state);
  return out.dump();
}

StatusOr<app::Experiment> JsonConfigCodec::DecodeExperiment(std::string_view text) const {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Internal("stored experiment configuration is not JSON");
  }
  app::Experiment x;
  if (auto it = j.find("rollout_state"); it != j.end()) {
    if (it->is_object()) x.rollout_state = DecodeRolloutState(*it);
    j.erase(it);
  }
  if (Status s = api::DecodeExperiment(j, &x); !s.ok()) return s;
  return x;
}

std::string JsonConfigCodec::EncodeMetric(const app::MetricDefinition& m) const {
  return RenderMetric(m, /*with_created=*/false).dump();
}

StatusOr<app::MetricDefinition> JsonConfigCodec::DecodeMetric(std::string_view text) const {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Internal("stored metric definition is not JSON");
  app::MetricDefinition m;
  if (Status s = api::DecodeMetric(j, &m); !s.ok()) return s;
  return m;
}

}  // namespace causeway::api
