// Monitor evaluation and experiment health (issue 21; docs/alerts.md):
//   POST /v1/monitors/evaluate?as_of=<ms>[&dry_run=true][&subject=rule:<key>|experiment:<key>]
//   GET  /v1/experiments/{key}/health
#pragma once

#include "api/handler.h"
#include "app/monitor_service.h"

namespace causeway::api {

HandlerResult EvaluateMonitors(app::MonitorService& monitors, const QueryParams& query,
                               std::string_view body, int64_t now_ms);
HandlerResult ExperimentHealth(store::Store& store, const app::ExperimentService& experiments,
                               std::string_view key, int64_t now_ms);

}  // namespace causeway::api
