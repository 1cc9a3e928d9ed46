#include "api/resources/webhooks.h"

#include <algorithm>
#include <array>

#include "api/codec/field_reader.h"
#include "api/codec/json_util.h"
#include "api/codec/time_text.h"
#include "api/http/log.h"
#include "api/resources/alerts.h"
#include "app/alerts.h"
#include "crypto/crypto.h"
#include "notify/url_policy.h"
#include "notify/webhook_message.h"

namespace causeway::api {
namespace {

constexpr size_t kMaxDescriptionBytes = 200;
constexpr std::array<std::string_view, 6> kKinds = {
    "srm", "guardrail", "no_traffic", "multi_exposure", "rule", "rollout"};

Status ReadKind(const Json& v, const std::string& path, std::vector<std::string>* kinds) {
  std::string all;
  for (std::string_view k : kKinds) all += (all.empty() ? "" : ", ") + std::string(k);
  if (!v.is_string() ||
      std::find(kKinds.begin(), kKinds.end(), v.get<std::string>()) == kKinds.end()) {
    return InvalidArgument(path, "must be one of: " + all);
  }
  if (std::find(kinds->begin(), kinds->end(), v.get<std::string>()) != kinds->end()) {
    return InvalidArgument(path, "is listed twice");
  }
  kinds->push_back(v.get<std::string>());
  return Status::Ok();
}

// The fields of POST /v1/webhooks, the URL checked (url_policy.h).
StatusOr<store::WebhookRow> ReadWebhook(const Json& body, bool allow_private) {
  store::WebhookRow row;
  row.format = "standard";
  FieldReader r(body);
  r.Required("url", &row.url);
  r.Array("kinds", [&](const Json& v, const std::string& path, size_t) {
    return ReadKind(v, path, &row.kinds);
  });
  r.Check(!r.Present("kinds") || !row.kinds.empty(), "kinds",
          "must list at least one kind; leave it out for every kind");
  r.Enum("format", &row.format,
         {{"standard", std::string("standard")}, {"slack", std::string("slack")}});
  r.Optional("description", &row.description);
  r.Check(row.description.size() <= kMaxDescriptionBytes, "description",
          "must be at most 200 bytes");
  r.Check(std::none_of(row.description.begin(), row.description.end(),
                       [](unsigned char c) { return c < 0x20 || c == 0x7f; }),
          "description", "must not contain control characters");
  if (Status s = r.Finish(); !s.ok()) return s;
  StatusOr<notify::WebhookUrl> url = notify::ParseWebhookUrl(row.url);
  if (!url.ok()) return url.status();
  if (auto addresses = notify::ResolveWebhookHost(*url, allow_private); !addresses.ok()) {
    return addresses.status();
  }
  return row;
}

}  // namespace

Json WebhookJson(const store::WebhookRow& row) {
  return Json{{"id", row.id},
              {"url", row.url},
              {"kinds", row.kinds},
              {"format", row.format},
              {"description", row.description.empty() ? Json(nullptr) : Json(row.description)},
              {"created_at", IsoTime(row.created_ms)}};
}

HandlerResult CreateWebhook(store::Store& store, bool allow_private, const Json& body) {
  StatusOr<store::WebhookRow> row = ReadWebhook(body, allow_private);
  if (!row.ok()) return row.status();
  StatusOr<std::string> secret = notify::NewWebhookSecret();
  std::optional<std::string> id = crypto::RandomBytes(8);
  if (!secret.ok() || !id) return Status::Internal("no system randomness");
  row->id = "wh_" + crypto::Hex(*id);
  row->secret = *secret;
  row->created_ms = NowMs();
  if (Status s = store.CreateWebhook(*row); !s.ok()) return s;
  Log("info", "webhook created", {{"id", row->id}});
  Json out = WebhookJson(*row);
  out["secret"] = row->secret;
  return HandlerResult(std::move(out), 201);
}

HandlerResult ListWebhooks(store::Store& store) {
  StatusOr<std::vector<store::WebhookRow>> rows = store.ListWebhooks();
  if (!rows.ok()) return rows.status();
  Json out = Json::array();
  for (const store::WebhookRow& w : *rows) out.push_back(WebhookJson(w));
  return Json{{"webhooks", std::move(out)}};
}

HandlerResult DeleteWebhook(store::Store& store, const std::string& id, std::string_view body) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  if (Status s = store.DeleteWebhook(id); !s.ok()) return s;
  Log("info", "webhook deleted", {{"id", id}});
  return Json{{"id", id}, {"deleted", true}};
}

HandlerResult TestWebhook(store::Store& store, app::AlertService& alerts, const std::string& id,
                          std::string_view body) {
  if (auto e = RefuseBodyMembers(body)) return *e;
  StatusOr<store::AlertRow> alert = alerts.SendTest(id);
  if (!alert.ok()) return alert.status();
  StatusOr<std::vector<store::DeliveryRow>> deliveries = store.ListDeliveries(alert->id);
  if (!deliveries.ok()) return deliveries.status();
  return HandlerResult(Json{{"alert", AlertJson(*alert, *deliveries)}}, 202);
}

}  // namespace causeway::api
