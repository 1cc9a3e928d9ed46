// Alerts (docs/alerts.md): what every monitor and rule calls to record its state
// changes. A change and the alerts it raises are written in one store commit
// (Store::CommitMonitorChanges), which also queues one delivery per webhook that
// wants the alert's kind: the outbox that src/notify's worker sends from.
//
// Alert ids are deterministic: "alt_" + the first 24 hex digits (96 bits) of
// SHA-256("<subject_kind>:<subject>|<monitor>|<at_ms>|<state>"). Replaying an
// evaluation (the same as_of) therefore finds its alerts stored and queues nothing
// twice, and a receiver that deduplicates on webhook-id (= the alert id) sees each
// transition once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

// A transition worth telling someone about.
struct NewAlert {
  std::string kind;  // "srm", "guardrail", "no_traffic", "multi_exposure", "rule", "rollout"
  std::string subject_kind;  // "experiment" or "rule"
  std::string subject;       // the experiment's or the rule's key
  std::string monitor;       // as store::MonitorStateRow::monitor
  std::string state;         // the state entered
  int64_t at_ms = 0;         // the evaluation's as_of
  std::string payload;       // JSON text: the statistic that fired it
};

// The id of the alert for this transition (see above).
std::string AlertId(std::string_view subject_kind, std::string_view subject,
                    std::string_view monitor, int64_t at_ms, std::string_view state);

// Thread-safe when the store is.
class AlertService {
 public:
  struct Options {
    std::function<int64_t()> now_ms;  // wall clock when empty
    // Called after a commit that stored alerts (the server wakes its delivery worker).
    std::function<void()> on_alerts;
  };
  AlertService(store::Store* store, Options options);
  explicit AlertService(store::Store* store) : AlertService(store, Options{}) {}

  // Writes the states and the alerts in one commit; the alerts as stored rows
  // (with their ids). InvalidArgument for an alert without kind, subject or state.
  StatusOr<std::vector<store::AlertRow>> Record(const std::vector<store::MonitorStateRow>& states,
                                                const std::vector<NewAlert>& alerts);

  // A test alert (kind "test", subject_kind "webhook", subject the webhook's id,
  // a random id) delivered to that webhook only, through the outbox like any other.
  // NotFound when there is no such webhook.
  StatusOr<store::AlertRow> SendTest(std::string_view webhook_id);

 private:
  int64_t Now() const;

  store::Store* store_;
  Options options_;
};

}  // namespace causeway::app
