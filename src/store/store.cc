#include "store/store.h"

// Default bodies of the monitor, alert and webhook calls (issue 21), for a backend
// that does not implement them yet: each answers Unimplemented as Internal, so a
// caller never mistakes a missing feature for "no rows".

namespace causeway::store {
namespace {

Status NotImplemented(const char* what) {
  return Status::Internal(std::string("this store does not implement ") + what);
}

}  // namespace

StatusOr<std::vector<SeriesRow>> Store::EventSeries(const SeriesQuery&) {
  return NotImplemented("metric series");
}
Status Store::CommitMonitorChanges(const std::vector<MonitorStateRow>&,
                                   const std::vector<AlertRow>&) {
  return NotImplemented("monitor states");
}
StatusOr<std::vector<MonitorStateRow>> Store::ListMonitorStates(std::string_view) {
  return NotImplemented("monitor states");
}
StatusOr<std::vector<AlertRow>> Store::ListAlerts(int64_t, int64_t) {
  return NotImplemented("alerts");
}
StatusOr<AlertRow> Store::GetAlert(std::string_view) { return NotImplemented("alerts"); }
const char* KeyScopeName(KeyScope scope) {
  switch (scope) {
    case KeyScope::kAdmin:
      return "admin";
    case KeyScope::kClient:
      return "client";
    case KeyScope::kSdk:
      break;
  }
  return "sdk";
}

std::optional<KeyScope> ParseKeyScope(std::string_view text) {
  if (text == "sdk") return KeyScope::kSdk;
  if (text == "admin") return KeyScope::kAdmin;
  if (text == "client") return KeyScope::kClient;
  return std::nullopt;
}

Status Store::CreateAlertRule(const AlertRuleRow&) { return NotImplemented("alert rules"); }
Status Store::UpdateAlertRule(const AlertRuleRow&) { return NotImplemented("alert rules"); }
Status Store::DeleteAlertRule(std::string_view) { return NotImplemented("alert rules"); }
StatusOr<AlertRuleRow> Store::GetAlertRule(std::string_view) {
  return NotImplemented("alert rules");
}
StatusOr<std::vector<AlertRuleRow>> Store::ListAlertRules() {
  return NotImplemented("alert rules");
}
Status Store::CreateFeature(const FeatureRow&) { return NotImplemented("features"); }
Status Store::UpdateFeature(const FeatureRow&) { return NotImplemented("features"); }
Status Store::DeleteFeature(std::string_view) { return NotImplemented("features"); }
StatusOr<FeatureRow> Store::GetFeature(std::string_view) { return NotImplemented("features"); }
StatusOr<std::vector<FeatureRow>> Store::ListFeatures() { return NotImplemented("features"); }
Status Store::CreateWebhook(const WebhookRow&) { return NotImplemented("webhooks"); }
StatusOr<std::vector<WebhookRow>> Store::ListWebhooks() { return NotImplemented("webhooks"); }
Status Store::DeleteWebhook(std::string_view) { return NotImplemented("webhooks"); }
StatusOr<std::vector<DeliveryRow>> Store::DueDeliveries(int64_t, int64_t) {
  return NotImplemented("webhook deliveries");
}
Status Store::RecordDeliveryAttempt(const DeliveryRow&) {
  return NotImplemented("webhook deliveries");
}
StatusOr<std::vector<DeliveryRow>> Store::ListDeliveries(std::string_view) {
  return NotImplemented("webhook deliveries");
}

}  // namespace causeway::store
