// app::BuildReport over a real SQLite store, and every branch of the pure decision.
#include "app/report.h"
#include "store/sqlite_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "fake_codec.h"

namespace causeway::app {
namespace {

// A comparison whose always-valid result is `significant`, with the given sign.
AbComparison Significant(const std::string& variant, double estimate, bool significant = true) {
  AbComparison c;
  c.variant = variant;
  c.control = "control";
  c.valid = true;
  c.absolute.estimate = estimate;
  AlwaysValidComparison a;
  a.valid = true;
  a.significant = significant;
  c.always_valid = a;
  return c;
}

MetricReport Metric(bool higher_is_better, std::vector<AbComparison> comparisons) {
  MetricReport m;
  m.metric.key = "m";
  m.metric.higher_is_better = higher_is_better;
  m.valid = true;
  for (const auto& c : comparisons) m.conclusions.push_back(Conclude(c, higher_is_better));
  m.analysis.comparisons = std::move(comparisons);
  return m;
}

Report ReportOf(std::vector<MetricReport> metrics, bool srm_mismatch = false) {
  Report r;
  r.control = "control";
  r.treatments = {"treatment"};
  r.srm.valid = true;
  r.srm.mismatch = srm_mismatch;
  r.metrics = std::move(metrics);
  return r;
}

TEST_CASE("Conclude: significance and direction, with higher_is_better", "[app]") {
  CHECK(Conclude(Significant("t", 0.1), true) == Conclusion::kBetter);
  CHECK(Conclude(Significant("t", -0.1), true) == Conclusion::kWorse);
  CHECK(Conclude(Significant("t", 0.1), false) == Conclusion::kWorse);
  CHECK(Conclude(Significant("t", -0.1), false) == Conclusion::kBetter);
  CHECK(Conclude(Significant("t", 0.1, false), true) == Conclusion::kInconclusive);
  AbComparison invalid;
  invalid.valid = false;
  CHECK(Conclude(invalid, true) == Conclusion::kInsufficientData);
}

TEST_CASE("Decide: every branch", "[app]") {
  SECTION("ship: better and none worse") {
    const auto d = Decide(ReportOf({Metric(true, {Significant("treatment", 0.1)})}));
    REQUIRE(d.size() == 1);
    CHECK(d[0].variant == "treatment");
    CHECK(d[0].decision == DecisionKind::kShip);
  }
  SECTION("stop_harm: one goal worse outweighs one better") {
    const auto d = Decide(ReportOf({Metric(true, {Significant("treatment", 0.1)}),
                                    Metric(true, {Significant("treatment", -0.1)})}));
    CHECK(d[0].decision == DecisionKind::kStopHarm);
    CHECK(d[0].rule == "goal_worse");
  }
  SECTION("higher_is_better false: an increase is worse") {
    const auto d = Decide(ReportOf({Metric(false, {Significant("treatment", 0.1)})}));
    CHECK(d[0].decision == DecisionKind::kStopHarm);
    const auto e = Decide(ReportOf({Metric(false, {Significant("treatment", -0.1)})}));
    CHECK(e[0].decision == DecisionKind::kShip);
  }
  SECTION("keep_running: nothing significant yet") {
    const auto d = Decide(ReportOf({Metric(true, {Significant("treatment", 0.1, false)})}));
    CHECK(d[0].decision == DecisionKind::kKeepRunning);
  }
  SECTION("invalid_srm: a sample ratio mismatch overrides everything") {
    const auto d = Decide(ReportOf({Metric(true, {Significant("treatment", 0.1)})}, true));
    CHECK(d[0].decision == DecisionKind::kInvalidSrm);
  }
  SECTION("secondary metrics do not decide") {
    MetricReport worse = Metric(true, {Significant("treatment", -0.1)});
    worse.role = MetricRole::kSecondary;
    MetricReport goal = Metric(true, {Significant("treatment", 0.1)});
    goal.role = MetricRole::kGoal;
    const auto d = Decide(ReportOf({goal, worse}));
    CHECK(d[0].decision == DecisionKind::kShip);
  }
  SECTION("guardrails: harm stops, a pending margin holds the ship, non-inferiority lets it go") {
    MetricReport goal = Metric(true, {Significant("treatment", 0.1)});
    goal.role = MetricRole::kGoal;
    MetricReport guard = Metric(true, {Significant("treatment", -0.01, false)});
    guard.role = MetricRole::kGuardrail;
    GuardrailCheck g;
    g.margin = 0.01;
    guard.guardrails = {g};
    CHECK(Decide(ReportOf({goal, guard}))[0].decision == DecisionKind::kKeepRunning);
    CHECK(Decide(ReportOf({goal, guard}))[0].rule == "guardrail_pending");
    guard.guardrails[0]->non_inferior = true;
    CHECK(Decide(ReportOf({goal, guard}))[0].decision == DecisionKind::kShip);
    guard.guardrails[0]->non_inferior = false;
    guard.guardrails[0]->harm = true;
    CHECK(Decide(ReportOf({goal, guard}))[0].decision == DecisionKind::kStopHarm);
    CHECK(Decide(ReportOf({goal, guard}))[0].rule == "guardrail_harm");
    // Without a margin only harm counts.
    guard.guardrails[0] = GuardrailCheck{};
    CHECK(Decide(ReportOf({goal, guard}))[0].decision == DecisionKind::kShip);
  }
  SECTION("no_effect only once the plan is reached") {
    MetricReport flat = Metric(true, {Significant("treatment", 0.01, false)});
    flat.role = MetricRole::kGoal;
    Report r = ReportOf({flat});
    r.plan.group_sequential = true;
    CHECK(Decide(r)[0].decision == DecisionKind::kKeepRunning);
    r.plan.reached = true;
    CHECK(Decide(r)[0].decision == DecisionKind::kNoEffect);
  }
}

// ---------------------------------------------------------------- BuildReport

struct TempStore {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  TempStore() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-app-test-" + std::to_string(std::random_device()()));
    std::filesystem::remove_all(dir);
    std::string error;
    store = store::OpenSqliteStore((dir / "test.db").string(), &error);
    REQUIRE(store);
  }
  ~TempStore() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

Experiment AbExperiment() {
  Experiment x;
  x.key = "exp";
  x.variants = {{"control", 0.5, {}, {}}, {"treatment", 0.5, {}, {}}};
  x.status = assign::ExperimentStatus::kRunning;
  REQUIRE(NormalizeExperiment(&x).ok());
  return x;
}

// Users per arm; a share of each arm converts once with value 10 ("purchase") and
// every user visits ("visit", value 1 for control users, 2 for treatment users).
void Seed(store::Store& s, const std::vector<std::pair<std::string, int>>& arms,
          const std::vector<double>& conversion_share) {
  std::vector<store::Event> events;
  int id = 0;
  const int64_t ts = 1'700'000'000'000;
  for (size_t a = 0; a < arms.size(); ++a) {
    for (int u = 0; u < arms[a].second; ++u) {
      const std::string user = arms[a].first + "-" + std::to_string(u);
      store::Event e;
      e.type = store::EventType::kExposure;
      e.id = "e" + std::to_string(id++);
      e.user = user;
      e.experiment = "exp";
      e.variant = arms[a].first;
      e.ts_ms = ts;
      events.push_back(e);
      store::Event visit;
      visit.type = store::EventType::kConversion;
      visit.id = "v" + std::to_string(id++);
      visit.user = user;
      visit.name = "visit";
      visit.value = 1.0 + static_cast<double>(a);
      visit.ts_ms = ts + 10;
      events.push_back(visit);
      if ((u % 100) < conversion_share[a] * 100) {
        store::Event c = visit;
        c.id = "c" + std::to_string(id++);
        c.name = "purchase";
        c.value = 10.0;
        c.ts_ms = ts + 20;
        events.push_back(c);
      }
    }
  }
  const auto results = s.WriteEventBatches({&events});
  REQUIRE(results.size() == 1);
  REQUIRE(results[0].status.ok());
}

MetricDefinition MetricDef(const std::string& key, MetricType type, bool higher_is_better = true,
                           std::optional<std::string> denominator = std::nullopt) {
  MetricDefinition m;
  m.key = key;
  m.type = type;
  m.event = "purchase";
  m.denominator_event = std::move(denominator);
  m.higher_is_better = higher_is_better;
  REQUIRE(NormalizeMetric(&m).ok());
  return m;
}

std::vector<ReportedMetric> Reported(const std::vector<MetricDefinition>& metrics) {
  std::vector<ReportedMetric> out;
  for (const auto& m : metrics) out.push_back({m, MetricRole::kOther, std::nullopt});
  return out;
}

TEST_CASE("BuildReport: stored events to effects, a corrected family and a decision", "[app]") {
  TempStore db;
  Seed(*db.store, {{"control", 1500}, {"treatment", 1500}}, {0.10, 0.20});
  const std::vector<ReportedMetric> metrics =
      Reported({MetricDef("purchase_rate", MetricType::kBinomial),
                MetricDef("revenue", MetricType::kMean), MetricDef("purchases", MetricType::kCount),
                MetricDef("revenue_per_visit", MetricType::kRatio, true, "visit")});
  auto r = BuildReport(*db.store, AbExperiment(), metrics, ReportOptions{});
  REQUIRE(r.ok());
  CHECK(r->control == "control");
  CHECK(r->exposures[0].users == 1500);
  CHECK(r->srm.valid);
  CHECK_FALSE(r->srm.mismatch);
  CHECK(r->comparisons == 4);
  REQUIRE(r->metrics.size() == 4);
  const auto& rate = r->metrics[0].analysis.comparisons[0];
  CHECK(rate.absolute.estimate == Approx(0.10));
  CHECK(rate.relative.estimate == Approx(1.0));
  CHECK(rate.p_value_adjusted >= rate.p_value);
  CHECK(r->metrics[0].conclusions[0] == Conclusion::kBetter);
  CHECK(r->metrics[1].analysis.comparisons[0].absolute.estimate == Approx(1.0));
  CHECK(r->metrics[2].analysis.comparisons[0].absolute.estimate == Approx(0.1));
  // Per visit: control 0.1 * 10 / 1, treatment 0.2 * 10 / 2.
  CHECK(r->metrics[3].analysis.comparisons[0].absolute.estimate == Approx(0.0).margin(1e-12));
  REQUIRE(r->decisions.size() == 1);
  CHECK(r->decisions[0].decision == DecisionKind::kShip);

  // The same data with purchases as a cost: worse, do not ship.
  auto cost = BuildReport(*db.store, AbExperiment(),
                          Reported({MetricDef("purchase_rate", MetricType::kBinomial, false)}), {});
  REQUIRE(cost.ok());
  CHECK(cost->metrics[0].conclusions[0] == Conclusion::kWorse);
  CHECK(cost->decisions[0].decision == DecisionKind::kStopHarm);
}

TEST_CASE("BuildReport: a sample ratio mismatch means invalid_srm", "[app]") {
  TempStore db;
  Seed(*db.store, {{"control", 1400}, {"treatment", 1000}}, {0.10, 0.30});
  auto r = BuildReport(*db.store, AbExperiment(),
                       Reported({MetricDef("purchase_rate", MetricType::kBinomial)}), {});
  REQUIRE(r.ok());
  CHECK(r->srm.mismatch);
  CHECK(r->decisions[0].decision == DecisionKind::kInvalidSrm);
}

TEST_CASE("BuildReport: before any event every comparison is insufficient data", "[app]") {
  TempStore db;
  auto r = BuildReport(*db.store, AbExperiment(),
                       Reported({MetricDef("purchase_rate", MetricType::kBinomial)}), {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->srm.valid);
  REQUIRE(r->notes.size() == 1);
  CHECK(r->notes[0].find("no exposures yet") != std::string::npos);
  CHECK(r->comparisons == 0);
  CHECK(r->metrics[0].conclusions[0] == Conclusion::kInsufficientData);
  CHECK(r->decisions[0].decision == DecisionKind::kKeepRunning);
  CHECK(r->attributes.empty());
}

TEST_CASE("BuildReport: options are checked", "[app]") {
  TempStore db;
  ReportOptions bad;
  bad.alpha = 2;
  auto r = BuildReport(*db.store, AbExperiment(), {}, bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().field() == "alpha");
}

}  // namespace
}  // namespace causeway::app

// ---------------------------------------------------------------- plans, CUPED, segments

namespace causeway::app {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// Seeded daily traffic over `days` days ending yesterday: users per arm per day,
// conversion rates per arm; each user has a pre-period purchase propensity shared
// with the post period (so CUPED has signal) and a country.
void SeedDaily(store::Store& s, int64_t now_ms, int days, int per_arm_per_day,
               const std::vector<double>& rates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<store::Event> events;
  int id = 0;
  const int64_t start = (now_ms / kDayMs - days) * kDayMs;
  const char* countries[] = {"US", "US", "DE", "FR"};
  for (int d = 0; d < days; ++d) {
    for (size_t a = 0; a < rates.size(); ++a) {
      for (int i = 0; i < per_arm_per_day; ++i) {
        const std::string user =
            "u" + std::to_string(d) + "-" + std::to_string(a) + "-" + std::to_string(i);
        const int64_t t0 = start + d * kDayMs + static_cast<int64_t>(u(rng) * 0.5 * kDayMs);
        store::Event x;
        x.type = store::EventType::kExposure;
        x.id = "x" + std::to_string(id++);
        x.user = user;
        x.experiment = "exp";
        x.variant = a == 0 ? "control" : "treatment";
        x.ts_ms = t0;
        x.attributes = std::string(R"({"country":")") + countries[rng() % 4] + "\"}";
        events.push_back(x);
        const double propensity = u(rng) < 0.5 ? 0.1 : 1.9;
        auto buy = [&](int64_t ts, double value) {
          store::Event c;
          c.type = store::EventType::kConversion;
          c.id = "c" + std::to_string(id++);
          c.user = user;
          c.name = "purchase";
          c.value = value;
          c.ts_ms = ts;
          events.push_back(c);
        };
        if (u(rng) < 0.45 * propensity) buy(t0 - kDayMs, 20 * propensity);  // pre-period
        if (u(rng) < rates[a] * propensity) buy(t0 + 3'600'000, 20 * propensity);
      }
    }
  }
  REQUIRE(s.WriteEventBatches({&events})[0].status.ok());
}

std::vector<ReportedMetric> Roles() {
  MetricDefinition rate;
  rate.key = "purchase_rate";
  rate.type = MetricType::kBinomial;
  rate.event = "purchase";
  REQUIRE(NormalizeMetric(&rate).ok());
  MetricDefinition revenue = rate;
  revenue.key = "revenue";
  revenue.type = MetricType::kMean;
  return {{rate, MetricRole::kGoal, std::nullopt}, {revenue, MetricRole::kGuardrail, 0.05}};
}

Experiment Planned(std::optional<int64_t> size) {
  Experiment x = AbExperiment();
  x.goal_metrics = {"purchase_rate"};
  x.guardrail_metrics = {{"revenue", 0.05}};
  x.planned_sample_size = size;
  REQUIRE(NormalizeExperiment(&x).ok());
  return x;
}

TEST_CASE("BuildReport under a plan: daily group-sequential looks, ship on a real effect",
          "[app][report]") {
  TempStore db;
  const int64_t now = 1'790'000'000'000;
  SeedDaily(*db.store, now, 10, 300, {0.10, 0.16}, 1);
  ReportOptions o;
  o.now_ms = now;
  auto r = BuildReport(*db.store, Planned(8000), Roles(), o);
  REQUIRE(r.ok());
  CHECK(r->plan.group_sequential);
  CHECK(r->plan.looks == 10);  // one per completed day
  CHECK(r->plan.information_fraction == Approx(6000.0 / 8000));
  CHECK_FALSE(r->plan.reached);
  const AbComparison& c = r->metrics[0].analysis.comparisons[0];
  REQUIRE(c.group_sequential);
  CHECK(c.group_sequential->significant);
  CHECK(c.group_sequential->crossed_look.has_value());
  CHECK(c.group_sequential->alpha == Approx(0.05));
  // The repeated CI at the latest look excludes zero and is wider than the fixed one.
  REQUIRE(c.group_sequential->absolute);
  CHECK(c.group_sequential->absolute->ci.lower > 0);
  CHECK(c.group_sequential->absolute->ci.upper - c.group_sequential->absolute->ci.lower >
        c.absolute.ci.upper - c.absolute.ci.lower);
  CHECK(r->metrics[0].conclusions[0] == Conclusion::kBetter);
  // Ten daily points; the last one's users are everybody exposed.
  REQUIRE(r->metrics[0].series.size() == 1);
  REQUIRE(r->metrics[0].series[0].points.size() == 10);
  CHECK(r->metrics[0].series[0].points.back().users == 6000);
  CHECK(r->metrics[0].series[0].points.back().absolute.estimate == Approx(c.absolute.estimate));
  // Revenue rises with purchases: non-inferior within its 5 % margin.
  REQUIRE(r->metrics[1].guardrails[0]);
  CHECK(r->metrics[1].guardrails[0]->non_inferior);
  CHECK_FALSE(r->metrics[1].guardrails[0]->harm);
  CHECK(r->decisions[0].decision == DecisionKind::kShip);
}

TEST_CASE("BuildReport under a plan: no_effect once the planned size is reached", "[app][report]") {
  TempStore db;
  const int64_t now = 1'790'000'000'000;
  SeedDaily(*db.store, now, 8, 300, {0.10, 0.10}, 2);
  ReportOptions o;
  o.now_ms = now;
  auto r = BuildReport(*db.store, Planned(3000), Roles(), o);
  REQUIRE(r.ok());
  CHECK(r->plan.reached);
  REQUIRE(r->plan.final_look_day);
  // 600 users a day: 3000 reached on the fifth day; later days are not looks.
  CHECK(*r->plan.final_look_day == *r->first_day + 4);
  CHECK(r->plan.looks == 5);
  CHECK(r->metrics[0].conclusions[0] == Conclusion::kInconclusive);
  CHECK(r->decisions[0].decision == DecisionKind::kNoEffect);
  // Without the plan the same data keeps running (always-valid, nothing reached).
  auto open = BuildReport(*db.store, Planned(std::nullopt), Roles(), o);
  REQUIRE(open.ok());
  CHECK_FALSE(open->plan.group_sequential);
  CHECK(open->decisions[0].decision == DecisionKind::kKeepRunning);
}

TEST_CASE("BuildReport: CUPED uses the pre-period and narrows the interval", "[app][report]") {
  TempStore db;
  const int64_t now = 1'790'000'000'000;
  SeedDaily(*db.store, now, 5, 400, {0.10, 0.12}, 3);
  ReportOptions o;
  o.now_ms = now;
  auto with = BuildReport(*db.store, Planned(std::nullopt), Roles(), o);
  o.cuped = false;
  auto without = BuildReport(*db.store, Planned(std::nullopt), Roles(), o);
  REQUIRE(with.ok());
  REQUIRE(without.ok());
  for (size_t m = 0; m < 2; ++m) {
    INFO(with->metrics[m].metric.key);
    CHECK(with->metrics[m].cuped.applied);
    CHECK_FALSE(without->metrics[m].cuped.applied);
    const double vr = with->metrics[m].cuped.variance_reduction;
    CHECK(vr > 0.02);
    const double se_with = with->metrics[m].analysis.comparisons[0].absolute.std_error;
    const double se_without = without->metrics[m].analysis.comparisons[0].absolute.std_error;
    CHECK(se_with < se_without);
    // The reported reduction is the one the standard errors show (up to the
    // Welch form's unequal weights): Var ratio ~ 1 - reduction.
    CHECK(se_with * se_with / (se_without * se_without) == Approx(1 - vr).margin(0.05));
  }
}

TEST_CASE("BuildReport: segments by attribute and by RFM tier", "[app][report]") {
  TempStore db;
  const int64_t now = 1'790'000'000'000;
  SeedDaily(*db.store, now, 5, 200, {0.10, 0.12}, 4);
  ReportOptions o;
  o.now_ms = now;
  o.segment_by = {"country"};
  auto r = BuildReport(*db.store, Planned(std::nullopt), Roles(), o);
  REQUIRE(r.ok());
  CHECK(r->attributes == std::vector<std::string>{"country"});  // what segment= can take
  REQUIRE(r->segments);
  REQUIRE(r->segments->levels.size() == 3);
  CHECK(r->segments->levels[0].label == "US");  // the largest first
  int64_t users = 0;
  for (const auto& l : r->segments->levels) users += l.users;
  CHECK(users == 2000);
  CHECK(r->segments->srm_threshold == Approx(0.001 / 3));
  CHECK(r->segments->comparisons == 3 * 2);  // levels x metrics x 1 treatment
  // Slicing is corrected over the whole family: adjusted >= raw everywhere.
  for (const auto& l : r->segments->levels) {
    for (const auto& m : l.metrics) {
      for (const auto& c : m.analysis.comparisons) {
        REQUIRE(c.always_valid);
        CHECK(c.always_valid->p_value_adjusted >= c.always_valid->p_value);
      }
    }
  }
  o.segment_by.clear();
  o.segment_rfm = true;
  auto rfm = BuildReport(*db.store, Planned(std::nullopt), Roles(), o);
  REQUIRE(rfm.ok());
  REQUIRE(rfm->segments);
  CHECK(rfm->segments->rfm_event == "purchase");
  users = 0;
  bool no_history = false;
  for (const auto& l : rfm->segments->levels) {
    users += l.users;
    no_history = no_history || l.label == "no_history";
  }
  CHECK(users == 2000);
  CHECK(no_history);  // most users bought nothing before their exposure
  ReportOptions bad = o;
  bad.segment_by = {"country"};
  CHECK(BuildReport(*db.store, Planned(std::nullopt), Roles(), bad).status().field() == "segment");
}

// ------------------------------------------------------- SelectReportMetrics

TEST_CASE("SelectReportMetrics: the experiment's metrics with their roles, else all", "[app]") {
  TempStore db;
  FakeCodec codec;
  MetricService service(db.store.get(), &codec);
  REQUIRE(service.Load().ok());
  for (const char* key : {"a_goal", "b_secondary", "c_guard", "d_unused"}) {
    MetricDefinition m;
    m.key = key;
    m.type = MetricType::kBinomial;
    m.event = "purchase";
    REQUIRE(service.Create(m, 1000).ok());
  }
  Experiment x = AbExperiment();
  auto all = SelectReportMetrics(x, std::nullopt, service);  // names none: every metric
  REQUIRE(all.ok());
  REQUIRE(all->size() == 4);
  CHECK((*all)[0].metric.key == "a_goal");
  CHECK((*all)[0].role == MetricRole::kOther);

  x.goal_metrics = {"a_goal"};
  x.secondary_metrics = {"b_secondary"};
  x.guardrail_metrics = {{"c_guard", 0.05}};
  auto own = SelectReportMetrics(x, std::nullopt, service);  // goal, secondary, guardrail
  REQUIRE(own.ok());
  REQUIRE(own->size() == 3);
  CHECK((*own)[0].role == MetricRole::kGoal);
  CHECK((*own)[1].role == MetricRole::kSecondary);
  CHECK((*own)[2].role == MetricRole::kGuardrail);
  REQUIRE((*own)[2].margin);
  CHECK(*(*own)[2].margin == 0.05);
  CHECK_FALSE((*own)[0].margin);

  auto asked = SelectReportMetrics(x, std::vector<std::string>{"d_unused", "c_guard"}, service);
  REQUIRE(asked.ok());
  REQUIRE(asked->size() == 2);
  CHECK((*asked)[0].role == MetricRole::kOther);
  CHECK((*asked)[1].role == MetricRole::kGuardrail);

  auto unknown = SelectReportMetrics(x, std::vector<std::string>{"nope"}, service);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK(unknown.status().field() == "metrics");

  // A key listed twice takes its first role: goal before guardrail.
  x.guardrail_metrics = {{"a_goal", 0.1}};
  CHECK(RoleOf(x, "a_goal").role == MetricRole::kGoal);
  CHECK(RoleOf(x, "zzz").role == MetricRole::kOther);
}

}  // namespace
}  // namespace causeway::app
