// Alert rules as configuration (app/alert_rule_service.h): the product rules, the
// service on a real SQLite store, the spans an evaluation reads, and EvaluateRuleAt
// against EvaluateRule on the same buckets built by hand.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <map>
#include <mutex>

#include "app/alert_rule_service.h"
#include "app/metric_series.h"
#include "fake_codec.h"
#include "store/sqlite_store.h"

using namespace causeway::app;
using causeway::Status;
using causeway::StatusCode;
using causeway::StatusOr;

namespace {

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("causeway-rules-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::unique_ptr<causeway::store::Store> store;
  FakeCodec codec;
  FakeRuleCodec rule_codec;
  std::unique_ptr<MetricService> metrics;
  std::unique_ptr<AlertRuleService> rules;
  static inline int counter = 0;

  Fixture() {
    std::filesystem::remove_all(dir);
    std::string error;
    store = causeway::store::OpenSqliteStore((dir / "db").string(), &error);
    REQUIRE(store);
    metrics = std::make_unique<MetricService>(store.get(), &codec);
    rules = std::make_unique<AlertRuleService>(store.get(), metrics.get(), &rule_codec);
    AddMetric("ctr", MetricType::kRatio, "click", "view");
    AddMetric("clicks", MetricType::kCount, "click");
    AddMetric("order_value", MetricType::kMean, "purchase");
    AddMetric("converted", MetricType::kBinomial, "purchase");
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  void AddMetric(std::string key, MetricType type, std::string event, std::string den = "") {
    MetricDefinition m;
    m.key = std::move(key);
    m.type = type;
    m.event = std::move(event);
    if (!den.empty()) m.denominator_event = den;
    REQUIRE(metrics->Create(m, 1).ok());
  }
};

AlertRuleConfig Rule(std::string key, std::string metric) {
  AlertRuleConfig r;
  r.rule.key = std::move(key);
  r.rule.metric = std::move(metric);
  return r;
}

std::string FieldOf(const StatusOr<AlertRuleConfig>& r) { return r.status().field(); }

}  // namespace

TEST_CASE("alert rules: create with the defaults, the metric decides the kind") {
  Fixture f;
  auto created = f.rules->Create(Rule("ctr_change", "ctr"), 100);
  REQUIRE(created.ok());
  CHECK(created->rule.kind == MetricKind::kProportion);
  CHECK(created->rule.window_ms == 15 * kMinuteMs);
  CHECK(created->rule.for_ms == 10 * kMinuteMs);
  CHECK(created->rule.condition == ConditionKind::kChange);
  CHECK(created->rule.baseline == BaselineKind::kSameTimeDays);
  CHECK(created->rule.baseline_windows == 7);
  CHECK(created->rule.alpha == 5e-3);
  CHECK(created->rule.min_volume == 2000);
  CHECK(created->enabled);
  CHECK(created->created_ms == 100);
  CHECK(created->updated_ms == 100);
  auto got = f.rules->Get("ctr_change");
  REQUIRE(got.ok());
  CHECK(got->rule.kind == MetricKind::kProportion);  // resolved again on read
  CHECK(got->created_ms == 100);
  CHECK(f.rules->Create(Rule("ctr_change", "ctr"), 101).status().code() ==
        StatusCode::kAlreadyExists);
  auto count = f.rules->Create(Rule("clicks_change", "clicks"), 102);
  REQUIRE(count.ok());
  CHECK(count->rule.kind == MetricKind::kCount);
  auto list = f.rules->List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].rule.key == "clicks_change");
}

TEST_CASE("alert rules: what is refused, naming the field") {
  Fixture f;
  CHECK(FieldOf(f.rules->Create(Rule("", "ctr"), 1)) == "key");
  CHECK(FieldOf(f.rules->Create(Rule("a b", "ctr"), 1)) == "key");
  CHECK(FieldOf(f.rules->Create(Rule("r", ""), 1)) == "metric");
  CHECK(FieldOf(f.rules->Create(Rule("r", "missing"), 1)) == "metric");
  CHECK(FieldOf(f.rules->Create(Rule("r", "converted"), 1)) == "metric");            // binomial
  CHECK(FieldOf(f.rules->Create(Rule("r", "order_value"), 1)) == "condition.type");  // mean
  AlertRuleConfig r = Rule("r", "ctr");
  r.rule.window_ms = 90'000;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "window");
  r.rule.window_ms = 2 * kDayMs;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "window");
  r = Rule("r", "ctr");
  r.rule.for_ms = -kMinuteMs;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "for");
  r = Rule("r", "ctr");
  r.rule.alpha = 1.5;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "condition.alpha");
  r = Rule("r", "ctr");
  r.rule.baseline_windows = 0;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "condition.baseline_windows");
  r = Rule("r", "ctr");
  r.rule.min_volume = -1;
  CHECK(FieldOf(f.rules->Create(r, 1)) == "condition.min_volume");
  r = Rule("r", "order_value");
  r.rule.condition = ConditionKind::kThreshold;
  r.rule.threshold = std::numeric_limits<double>::infinity();
  CHECK(FieldOf(f.rules->Create(r, 1)) == "condition.value");
  r.rule.threshold = 30;
  CHECK(f.rules->Create(r, 1).ok());    // a threshold on a mean is fine
  CHECK(f.rules->List()->size() == 1);  // nothing else was stored
}

TEST_CASE("alert rules: patch replaces what it names and keeps the rest; delete") {
  Fixture f;
  REQUIRE(f.rules->Create(Rule("r", "ctr"), 10).ok());
  AlertRulePatch p;
  p.enabled = false;
  p.window_ms = 30 * kMinuteMs;
  AlertRule threshold;
  threshold.condition = ConditionKind::kThreshold;
  threshold.op = ThresholdOp::kBelow;
  threshold.threshold = 0.01;
  threshold.min_volume = 0;
  p.condition = threshold;
  auto patched = f.rules->Patch("r", p, 20);
  REQUIRE(patched.ok());
  CHECK_FALSE(patched->enabled);
  CHECK(patched->rule.window_ms == 30 * kMinuteMs);
  CHECK(patched->rule.for_ms == 10 * kMinuteMs);  // kept
  CHECK(patched->rule.condition == ConditionKind::kThreshold);
  CHECK(patched->rule.threshold == 0.01);
  CHECK(patched->created_ms == 10);
  CHECK(patched->updated_ms == 20);
  CHECK(f.rules->Get("r")->rule.op == ThresholdOp::kBelow);
  AlertRulePatch to_mean;
  to_mean.metric = "order_value";
  CHECK(f.rules->Patch("r", to_mean, 30).ok());  // a threshold may move to a mean
  AlertRulePatch bad;
  bad.condition = AlertRule{};  // change on a mean
  CHECK(f.rules->Patch("r", bad, 40).status().field() == "condition.type");
  CHECK(f.rules->Get("r")->updated_ms == 30);  // the refused patch stored nothing
  CHECK(f.rules->Patch("nope", p, 50).status().code() == StatusCode::kNotFound);
  REQUIRE(f.rules->Delete("r").ok());
  CHECK(f.rules->Delete("r").code() == StatusCode::kNotFound);
  CHECK(f.rules->Get("r").status().code() == StatusCode::kNotFound);
}

TEST_CASE("alert rules: the spans an evaluation reads") {
  AlertRule r;
  r.window_ms = 15 * kMinuteMs;
  const int64_t t = 100 * kDayMs + 30'000;  // inside a minute: taken at its start
  const int64_t a = 100 * kDayMs;
  using Spans = std::vector<std::pair<int64_t, int64_t>>;
  r.baseline = BaselineKind::kSameTimeDays;
  r.baseline_windows = 2;
  CHECK(RuleReadSpans(r, t) == Spans{{a - 2 * kDayMs - r.window_ms, a - 2 * kDayMs},
                                     {a - kDayMs - r.window_ms, a - kDayMs},
                                     {a - r.window_ms, a}});
  r.baseline = BaselineKind::kTrailingWindows;
  r.baseline_windows = 4;
  CHECK(RuleReadSpans(r, t) == Spans{{a - 5 * r.window_ms, a}});  // merged
  r.baseline = BaselineKind::kWeekEarlier;
  CHECK(RuleReadSpans(r, t) ==
        Spans{{a - 7 * kDayMs - r.window_ms, a - 7 * kDayMs}, {a - r.window_ms, a}});
  r.condition = ConditionKind::kThreshold;
  CHECK(RuleReadSpans(r, t) == Spans{{a - r.window_ms, a}});
}

TEST_CASE("alert rules: EvaluateRuleAt on stored events equals EvaluateRule on the buckets") {
  Fixture f;
  const int64_t start = 200 * kDayMs;
  // CTR 10 % for 60 minutes, then 5 % for 15: 100 views and 10 (then 5) clicks a minute.
  std::vector<causeway::store::Event> events;
  std::vector<MetricBucket> buckets;
  int id = 0;
  for (int minute = 0; minute < 75; ++minute) {
    const int clicks = minute < 60 ? 10 : 5;
    for (int k = 0; k < 100; ++k) {
      for (const char* name : {"view", "click"}) {
        if (std::string(name) == "click" && k >= clicks) continue;
        causeway::store::Event e;
        e.type = causeway::store::EventType::kConversion;
        e.id = "e" + std::to_string(id++);
        e.user = "u" + std::to_string(k);
        e.name = name;
        e.ts_ms = start + minute * kMinuteMs + k * 100;
        events.push_back(e);
      }
    }
    buckets.push_back({start + minute * kMinuteMs, static_cast<double>(clicks), 100.0});
  }
  REQUIRE(f.store->WriteEventBatches({&events})[0].status.ok());
  AlertRuleConfig config = Rule("ctr_drop", "ctr");
  config.rule.baseline = BaselineKind::kTrailingWindows;
  config.rule.baseline_windows = 4;
  config.rule.direction = ChangeDirection::kDrop;
  config.rule.min_volume = 1000;
  config.rule.for_ms = 0;
  auto rule = f.rules->Create(config, 1);
  REQUIRE(rule.ok());
  const auto metric = f.metrics->Get("ctr");
  REQUIRE(metric.ok());
  for (const int64_t minute : {30, 61, 75}) {
    INFO("minute " << minute);
    const int64_t as_of = start + minute * kMinuteMs + 1234;  // inside the minute
    auto got = EvaluateRuleAt(rule->rule, *metric, *f.store, as_of, AlertState{});
    REQUIRE(got.ok());
    const RuleEvaluation want =
        EvaluateRule(rule->rule, buckets, start + minute * kMinuteMs, AlertState{});
    CHECK(got->value == Approx(want.value));
    CHECK(got->baseline == Approx(want.baseline));
    CHECK(got->volume == want.volume);
    CHECK(got->baseline_volume == want.baseline_volume);
    CHECK(got->enough_data == want.enough_data);
    CHECK(got->condition == want.condition);
    CHECK(got->state.state == want.state.state);
  }
  // At minute 75 the last window is all 5 %, against 10 %: it fires (for = 0).
  auto fired = EvaluateRuleAt(rule->rule, *metric, *f.store, start + 75 * kMinuteMs, {});
  REQUIRE(fired.ok());
  CHECK(fired->value == Approx(0.05));
  CHECK(fired->baseline == Approx(0.10));
  CHECK(fired->state.state == AlertStateKind::kFiring);
  // At minute 30 nothing has changed: no condition.
  auto early = EvaluateRuleAt(rule->rule, *metric, *f.store, start + 30 * kMinuteMs, {});
  REQUIRE(early.ok());
  CHECK_FALSE(early->condition);
}
