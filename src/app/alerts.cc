#include "app/alerts.h"

#include <chrono>

#include "crypto/crypto.h"

namespace causeway::app {

std::string AlertId(std::string_view subject_kind, std::string_view subject,
                    std::string_view monitor, int64_t at_ms, std::string_view state) {
  std::string key;
  key.append(subject_kind).append(":").append(subject).append("|").append(monitor);
  key.append("|").append(std::to_string(at_ms)).append("|").append(state);
  return "alt_" + crypto::Hex(crypto::Sha256(key)).substr(0, 24);
}

AlertService::AlertService(store::Store* store, Options options)
    : store_(store), options_(std::move(options)) {}

int64_t AlertService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::vector<store::AlertRow>> AlertService::Record(
    const std::vector<store::MonitorStateRow>& states, const std::vector<NewAlert>& alerts) {
  const int64_t now = Now();
  std::vector<store::AlertRow> rows;
  rows.reserve(alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    const NewAlert& a = alerts[i];
    if (a.kind.empty() || a.subject.empty() || a.state.empty() || a.monitor.empty()) {
      return Status::InvalidArgument("alerts[" + std::to_string(i) + "]",
                                     "an alert needs a kind, a subject, a monitor and a state");
    }
    store::AlertRow r;
    r.id = AlertId(a.subject_kind, a.subject, a.monitor, a.at_ms, a.state);
    r.kind = a.kind;
    r.subject_kind = a.subject_kind;
    r.subject = a.subject;
    r.monitor = a.monitor;
    r.state = a.state;
    r.at_ms = a.at_ms;
    r.created_ms = now;
    r.payload = a.payload.empty() ? "{}" : a.payload;
    rows.push_back(std::move(r));
  }
  if (Status s = store_->CommitMonitorChanges(states, rows); !s.ok()) return s;
  if (!rows.empty() && options_.on_alerts) options_.on_alerts();
  return rows;
}

StatusOr<store::AlertRow> AlertService::SendTest(std::string_view webhook_id) {
  StatusOr<std::vector<store::WebhookRow>> hooks = store_->ListWebhooks();
  if (!hooks.ok()) return hooks.status();
  bool found = false;
  for (const store::WebhookRow& w : *hooks) found = found || w.id == webhook_id;
  if (!found) return Status::NotFound("no webhook with id " + std::string(webhook_id), "id");
  std::optional<std::string> random = crypto::RandomBytes(12);
  if (!random) return Status::Internal("no system randomness");
  store::AlertRow r;
  r.id = "alt_" + crypto::Hex(*random);
  r.kind = "test";
  r.subject_kind = "webhook";
  r.subject = std::string(webhook_id);
  r.monitor = "test";
  r.state = "test";
  r.at_ms = r.created_ms = Now();
  r.payload = R"({"message":"a test alert from Causeway: this webhook receives alerts"})";
  r.target_webhook = std::string(webhook_id);
  if (Status s = store_->CommitMonitorChanges({}, {r}); !s.ok()) return s;
  if (options_.on_alerts) options_.on_alerts();
  return r;
}

}  // namespace causeway::app
