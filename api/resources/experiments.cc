#include "api/resources/experiments.h"

#include "api/http/log.h"

namespace causeway::api {

bool ExperimentService::Load(std::string* error) {
  if (Status s = refresher_.Load(); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  return true;
}

HandlerResult ExperimentService::Create(const Json& body) {
  app::Experiment config;
  if (Status s = DecodeExperiment(body, &config); !s.ok()) return s;
  auto created = experiments_.Create(std::move(config), NowMs());
  if (!created.ok()) return created.status();
  Log("info", "experiment created", {{"experiment", created->key}});
  return HandlerResult(RenderExperiment(*created), 201);
}

HandlerResult ExperimentService::List() {
  Json list = Json::array();
  for (const auto& x : experiments_.List()) list.push_back(RenderExperiment(x));
  return Json{{"experiments", std::move(list)}};
}

HandlerResult ExperimentService::Get(std::string_view key) {
  auto x = experiments_.Get(key);
  if (!x.ok()) return x.status();
  return RenderExperiment(*x);
}

HandlerResult ExperimentService::Patch(std::string_view key, const Json& body) {
  app::ExperimentPatch patch;
  if (Status s = DecodeExperimentPatch(body, &patch); !s.ok()) return s;
  auto x = experiments_.Patch(key, patch, NowMs());
  if (!x.ok()) return x.status();
  Log("info", "experiment updated", {{"experiment", x->key}, {"phase", x->phase}});
  return RenderExperiment(*x);
}

std::variant<ExperimentService::View, Status> ExperimentService::Find(std::string_view key) {
  auto x = experiments_.Get(key);
  if (!x.ok()) return x.status();
  View v{x->key, x->phase, x->SinceMs(), x->status, {}};
  for (const auto& variant : x->variants) {
    v.variants.push_back({variant.key, variant.weight.value_or(0.0)});
  }
  return v;
}

}  // namespace causeway::api
