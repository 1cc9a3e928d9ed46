// Admin endpoints for webhooks (docs/alerts.md, "Webhooks"):
//   POST   /v1/webhooks            {url, kinds?, format?, description?} -> 201, the secret once
//   GET    /v1/webhooks            every webhook; never a secret
//   DELETE /v1/webhooks/{id}       drops it and its pending deliveries
//   POST   /v1/webhooks/{id}/test  a test alert through the outbox, to this webhook only
#pragma once

#include <string>
#include <string_view>

#include "api/handler.h"
#include "store/store.h"

namespace causeway::app {
class AlertService;
}

namespace causeway::api {

// {"id", "url", "kinds", "format", "description", "created_at"}; never the secret.
Json WebhookJson(const store::WebhookRow& row);

HandlerResult CreateWebhook(store::Store& store, bool allow_private, const Json& body);
HandlerResult ListWebhooks(store::Store& store);
HandlerResult DeleteWebhook(store::Store& store, const std::string& id, std::string_view body);
HandlerResult TestWebhook(store::Store& store, app::AlertService& alerts, const std::string& id,
                          std::string_view body);

}  // namespace causeway::api
