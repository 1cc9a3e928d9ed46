#include "api/resources/metrics.h"

#include "api/codec/config_codec.h"
#include "api/http/log.h"

namespace causeway::api {

HandlerResult CreateMetric(ExperimentService& experiments, const Json& body) {
  app::MetricDefinition m;
  if (Status s = DecodeMetric(body, &m); !s.ok()) return s;
  auto created = experiments.metrics().Create(std::move(m), NowMs());
  if (!created.ok()) return created.status();
  return HandlerResult(RenderMetric(*created), 201);
}

HandlerResult ListMetrics(ExperimentService& experiments) {
  Json list = Json::array();
  for (const auto& m : experiments.metrics().List()) list.push_back(RenderMetric(m));
  return Json{{"metrics", std::move(list)}};
}

HandlerResult GetMetric(ExperimentService& experiments, std::string_view key) {
  auto m = experiments.metrics().Get(key);
  if (!m.ok()) return m.status();
  return RenderMetric(*m);
}

}  // namespace causeway::api
