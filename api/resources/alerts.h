// GET /v1/alerts?since=<ms>[&limit=] (admin; docs/alerts.md, "History"): the alerts
// with at_ms >= since, oldest first, each with its deliveries and their outcome.
#pragma once

#include "api/handler.h"
#include "store/store.h"

namespace causeway::api {

// {"id", "kind", "subject_kind", "subject", "<subject_kind>": subject, "monitor",
//  "state", "at_ms", "at", "created_ms", "statistic", "deliveries": [...]}.
Json AlertJson(const store::AlertRow& alert, const std::vector<store::DeliveryRow>& deliveries);

HandlerResult ListAlerts(store::Store& store, const QueryParams& query);

}  // namespace causeway::api
