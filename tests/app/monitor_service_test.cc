// MonitorService and MonitorScheduler (app/monitor_service.h, monitor_scheduler.h)
// on a real SQLite store, without HTTP: a threshold rule replayed minute by minute
// goes pending, fires once and resolves, each notifying transition an alert in the
// store; a later stored evaluation is never rewound; dry_run writes nothing; the
// scheduler evaluates rules every minute and experiments every interval.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "app/alerts.h"
#include "app/monitor_scheduler.h"
#include "app/monitor_service.h"
#include "fake_codec.h"
#include "store/sqlite_store.h"

using namespace causeway::app;
namespace store = causeway::store;

namespace {

constexpr int64_t kT0 = 1'796'000'000'000 / kDayMs * kDayMs;  // a midnight, UTC

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("causeway-monitor-service-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::unique_ptr<store::Store> db;
  FakeCodec codec;
  FakeRuleCodec rule_codec;
  causeway::assign::SnapshotHolder snapshots;
  std::unique_ptr<ExperimentService> experiments;
  std::unique_ptr<MetricService> metrics;
  std::unique_ptr<AlertRuleService> rules;
  std::unique_ptr<AlertService> alerts;
  std::unique_ptr<MonitorService> monitors;
  static inline int counter = 0;

  Fixture() {
    std::filesystem::remove_all(dir);
    std::string error;
    db = store::OpenSqliteStore((dir / "db").string(), &error);
    REQUIRE(db);
    experiments = std::make_unique<ExperimentService>(db.get(), &snapshots, &codec);
    metrics = std::make_unique<MetricService>(db.get(), &codec);
    rules = std::make_unique<AlertRuleService>(db.get(), metrics.get(), &rule_codec);
    alerts = std::make_unique<AlertService>(db.get());
    monitors = std::make_unique<MonitorService>(db.get(), experiments.get(), metrics.get(),
                                                rules.get(), alerts.get());
    MetricDefinition m;
    m.key = "errors";
    m.type = MetricType::kCount;
    m.event = "error";
    REQUIRE(metrics->Create(m, 1).ok());
    AlertRuleConfig r;
    r.rule.key = "too_many_errors";
    r.rule.metric = "errors";
    r.rule.condition = ConditionKind::kThreshold;
    r.rule.op = ThresholdOp::kAbove;
    r.rule.threshold = 5;  // events a minute, averaged over the 15-minute window
    r.rule.for_ms = 5 * kMinuteMs;
    r.rule.min_volume = 10;  // events in the window
    REQUIRE(rules->Create(r, 1).ok());
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  // `per_minute` error events in each minute of [from, to).
  void Errors(int64_t from, int64_t to, int per_minute) {
    std::vector<store::Event> events;
    for (int64_t t = from; t < to; t += kMinuteMs) {
      for (int i = 0; i < per_minute; ++i) {
        store::Event e;
        e.type = store::EventType::kConversion;
        e.id = "e" + std::to_string(t) + "_" + std::to_string(i);
        e.user = "u" + std::to_string(i);
        e.name = "error";
        e.ts_ms = t + i * 100;
        events.push_back(e);
      }
    }
    REQUIRE(db->WriteEventBatches({&events})[0].status.ok());
  }
};

const MonitorOutcome& Rule(const MonitorRun& run) {
  REQUIRE(run.outcomes.size() == 1);
  REQUIRE(run.outcomes[0].subject == "too_many_errors");
  return run.outcomes[0];
}

}  // namespace

TEST_CASE("a rule replayed minute by minute: pending, firing once, resolved", "[app][monitors]") {
  Fixture f;
  // One error a minute for an hour, ten a minute for half an hour, then one again.
  f.Errors(kT0, kT0 + 60 * kMinuteMs, 1);
  f.Errors(kT0 + 60 * kMinuteMs, kT0 + 90 * kMinuteMs, 10);
  f.Errors(kT0 + 90 * kMinuteMs, kT0 + 150 * kMinuteMs, 1);
  std::vector<std::pair<int64_t, std::string>> states;
  for (int64_t t = kT0 + 15 * kMinuteMs; t <= kT0 + 150 * kMinuteMs; t += kMinuteMs) {
    auto run = f.monitors->Evaluate(t);
    REQUIRE(run.ok());
    CHECK(run->errors.empty());
    const MonitorOutcome& o = Rule(*run);
    CHECK(o.committed);
    if (states.empty() || states.back().second != o.state) states.emplace_back(t, o.state);
  }
  // Above 75 events in the window [t - 15 min, t) from t = 67 min (7*10 + 8*1 = 78;
  // at 66: 6*10 + 9 = 69), firing after 5 minutes pending; below again from 99 min
  // (6*10 + 9 = 69; at 98: 7*10 + 8 = 78); resolved lasts one evaluation.
  for (const auto& [t, st] : states) UNSCOPED_INFO((t - kT0) / kMinuteMs << " min: " << st);
  REQUIRE(states.size() == 5);
  CHECK(states[0].second == "inactive");
  CHECK(states[1] == std::pair<int64_t, std::string>{kT0 + 67 * kMinuteMs, "pending"});
  CHECK(states[2] == std::pair<int64_t, std::string>{kT0 + 72 * kMinuteMs, "firing"});
  CHECK(states[3] == std::pair<int64_t, std::string>{kT0 + 99 * kMinuteMs, "resolved"});
  CHECK(states[4] == std::pair<int64_t, std::string>{kT0 + 100 * kMinuteMs, "inactive"});
  // The alerts: firing and resolved only, as Prometheus notifies.
  auto stored = f.db->ListAlerts(0, 100);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 2);
  CHECK((*stored)[0].state == "firing");
  CHECK((*stored)[0].at_ms == kT0 + 72 * kMinuteMs);
  CHECK((*stored)[0].kind == "rule");
  CHECK((*stored)[1].state == "resolved");
  CHECK((*stored)[1].at_ms == states[3].first);
}

TEST_CASE("a later stored evaluation is never rewound; dry_run writes nothing", "[app][monitors]") {
  Fixture f;
  f.Errors(kT0, kT0 + 30 * kMinuteMs, 10);
  MonitorRunOptions dry;
  dry.dry_run = true;
  auto d = f.monitors->Evaluate(kT0 + 20 * kMinuteMs, dry);
  REQUIRE(d.ok());
  INFO(Rule(*d).reason << " " << Rule(*d).detail);
  CHECK(Rule(*d).state == "pending");
  CHECK_FALSE(Rule(*d).committed);
  CHECK(f.db->ListMonitorStates("")->empty());

  REQUIRE(f.monitors->Evaluate(kT0 + 20 * kMinuteMs).ok());
  auto late = f.monitors->Evaluate(kT0 + 19 * kMinuteMs);
  REQUIRE(late.ok());
  CHECK_FALSE(Rule(*late).committed);
  CHECK(Rule(*late).reason == "a later evaluation is stored");
  auto same = f.monitors->Evaluate(kT0 + 20 * kMinuteMs);  // a second instance, same minute
  CHECK_FALSE(Rule(*same).committed);
  auto states = f.db->ListMonitorStates("");
  REQUIRE(states->size() == 1);
  CHECK((*states)[0].evaluated_ms == kT0 + 20 * kMinuteMs);
  CHECK((*states)[0].state == "pending");
  // The next minutes carry the stored state on: firing 5 minutes after pending.
  auto next = f.monitors->Evaluate(kT0 + 25 * kMinuteMs);
  CHECK(Rule(*next).state == "firing");
  CHECK(next->alerts.size() == 1);
  CHECK(f.monitors->Evaluate(1000).status().field() == "as_of");
}

TEST_CASE("the scheduler: rules every minute, experiments every interval", "[app][monitors]") {
  Fixture f;
  std::atomic<int> runs{0};
  MonitorScheduler::Options o;
  o.on_run = [&](const MonitorRun&) { ++runs; };
  MonitorScheduler scheduler(f.monitors.get(), o);
  const int64_t t = kT0 + 1000;   // a second past a 5-minute instant
  CHECK(scheduler.Tick(t) == 1);  // both due at the same instant: one run
  CHECK(scheduler.Tick(t + 30'000) == 0);
  CHECK(scheduler.Tick(t + kMinuteMs) == 1);  // the rules
  CHECK(scheduler.Tick(t + kMinuteMs + 5) == 0);
  CHECK(scheduler.Tick(t + 4 * kMinuteMs) == 1);
  CHECK(scheduler.Tick(t + 5 * kMinuteMs) == 1);  // rules and experiments together
  // A slow evaluation skips instants instead of piling them up.
  CHECK(scheduler.Tick(t + 17 * kMinuteMs) == 2);  // rules at 17, experiments at 15
  CHECK(runs == 6);
  // The rules were stored at the instants.
  auto states = f.db->ListMonitorStates("rule:");
  REQUIRE(states->size() == 1);
  CHECK((*states)[0].evaluated_ms == kT0 + 17 * kMinuteMs);

  // The thread starts and stops promptly.
  MonitorScheduler threaded(f.monitors.get(), {});
  const auto start = std::chrono::steady_clock::now();
  threaded.Start();
  threaded.Stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
