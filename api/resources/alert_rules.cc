#include "api/resources/alert_rules.h"

#include "api/codec/alert_rule_codec.h"
#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/http/log.h"

namespace causeway::api {

HandlerResult CreateAlertRule(ExperimentService& experiments, const Json& body) {
  app::AlertRuleConfig rule;
  if (Status s = DecodeAlertRule(body, &rule); !s.ok()) return s;
  auto created = experiments.alert_rules().Create(std::move(rule), NowMs());
  if (!created.ok()) return created.status();
  return HandlerResult(RenderAlertRule(*created), 201);
}

HandlerResult ListAlertRules(ExperimentService& experiments) {
  auto rules = experiments.alert_rules().List();
  if (!rules.ok()) return rules.status();
  Json list = Json::array();
  for (const auto& r : *rules) list.push_back(RenderAlertRule(r));
  return Json{{"rules", std::move(list)}};
}

HandlerResult GetAlertRule(ExperimentService& experiments, std::string_view key) {
  auto rule = experiments.alert_rules().Get(key);
  if (!rule.ok()) return rule.status();
  return RenderAlertRule(*rule);
}

HandlerResult PatchAlertRule(ExperimentService& experiments, std::string_view key,
                             const Json& body) {
  app::AlertRulePatch patch;
  if (Status s = DecodeAlertRulePatch(body, &patch); !s.ok()) return s;
  auto rule = experiments.alert_rules().Patch(key, patch, NowMs());
  if (!rule.ok()) return rule.status();
  return RenderAlertRule(*rule);
}

HandlerResult DeleteAlertRule(ExperimentService& experiments, std::string_view key,
                              std::string_view body) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  if (Status s = experiments.alert_rules().Delete(key); !s.ok()) return s;
  return Json{{"key", std::string(key)}, {"deleted", true}};
}

}  // namespace causeway::api
