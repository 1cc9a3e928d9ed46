#include "api/resources/alerts.h"

#include "api/codec/field_reader.h"
#include "api/codec/time_text.h"

namespace causeway::api {
namespace {

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;

Json OrNull(int64_t v) { return v != 0 ? Json(v) : Json(nullptr); }

Json DeliveryJson(const store::DeliveryRow& d) {
  return Json{{"webhook_id", d.webhook_id},
              {"status", d.status},
              {"attempts", d.attempts},
              {"last_http_status", d.last_http_status != 0 ? Json(d.last_http_status) : Json()},
              {"last_error", d.last_error.empty() ? Json(nullptr) : Json(d.last_error)},
              {"last_attempt_ms", OrNull(d.last_attempt_ms)},
              {"delivered_ms", OrNull(d.delivered_ms)},
              {"next_attempt_ms", d.status == "pending" ? Json(d.next_attempt_ms) : Json()}};
}

}  // namespace

Json AlertJson(const store::AlertRow& a, const std::vector<store::DeliveryRow>& deliveries) {
  Json statistic = Json::parse(a.payload, nullptr, false);
  Json out = {{"id", a.id},
              {"kind", a.kind},
              {"subject_kind", a.subject_kind},
              {"subject", a.subject},
              {"monitor", a.monitor},
              {"state", a.state},
              {"at_ms", a.at_ms},
              {"at", IsoTime(a.at_ms)},
              {"created_ms", a.created_ms},
              {"statistic", statistic.is_discarded() ? Json(nullptr) : statistic}};
  if (a.subject_kind == "experiment" || a.subject_kind == "rule" || a.subject_kind == "webhook") {
    out[a.subject_kind] = a.subject;
  }
  Json list = Json::array();
  for (const store::DeliveryRow& d : deliveries) list.push_back(DeliveryJson(d));
  out["deliveries"] = std::move(list);
  return out;
}

HandlerResult ListAlerts(store::Store& store, const QueryParams& query) {
  FieldReader r = FieldReader::Query(query);
  int64_t since = 0, limit = kDefaultLimit;
  r.Optional("since", &since).Optional("limit", &limit);
  r.Check(since >= 0, "since", "must be milliseconds since the Unix epoch, >= 0");
  r.Check(limit >= 1 && limit <= kMaxLimit, "limit", "must be an integer in [1, 1000]");
  if (Status s = r.Finish(); !s.ok()) return s;
  StatusOr<std::vector<store::AlertRow>> alerts = store.ListAlerts(since, limit);
  if (!alerts.ok()) return alerts.status();
  Json out = Json::array();
  for (const store::AlertRow& a : *alerts) {
    StatusOr<std::vector<store::DeliveryRow>> deliveries = store.ListDeliveries(a.id);
    if (!deliveries.ok()) return deliveries.status();
    out.push_back(AlertJson(a, *deliveries));
  }
  return Json{{"alerts", std::move(out)}};
}

}  // namespace causeway::api
