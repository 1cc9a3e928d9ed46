// app::BuildReport over a real SQLite store, and every branch of the pure decision.
#include "app/report.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

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
