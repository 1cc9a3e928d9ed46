// app::PrepareExperimentLift and its rules: the arms compared (holdout "control" by
// default, the only other variant as the test), the per-user value of count metrics,
// ratio metrics refused, groups without users. No HTTP.
#include "app/lift.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "store/sqlite_store.h"

namespace causeway::app {
namespace {

LiftExperiment Holdout(std::vector<std::string> variants) {
  return LiftExperiment{"promo", std::move(variants), 0};
}

TEST_CASE("ChooseLiftArms: defaults and errors name the parameter", "[app]") {
  ExperimentLiftOptions options;  // holdout "control", no test
  auto arms = ChooseLiftArms(Holdout({"control", "promo"}), options);
  REQUIRE(arms.ok());
  CHECK(arms->holdout == "control");
  CHECK(arms->test == "promo");
  arms = ChooseLiftArms(Holdout({"promo", "control"}), options);  // order does not matter
  REQUIRE(arms.ok());
  CHECK(arms->test == "promo");

  // Several test variants: the test must be named.
  auto several = ChooseLiftArms(Holdout({"control", "a", "b"}), options);
  REQUIRE_FALSE(several.ok());
  CHECK(several.status().field() == "test");
  options.test = "b";
  arms = ChooseLiftArms(Holdout({"control", "a", "b"}), options);
  REQUIRE(arms.ok());
  CHECK(arms->test == "b");

  options.test = "control";  // the holdout itself
  CHECK(ChooseLiftArms(Holdout({"control", "a"}), options).status().field() == "test");
  options.test = "missing";
  CHECK(ChooseLiftArms(Holdout({"control", "a"}), options).status().field() == "test");
  options.test.reset();
  options.holdout = "holdout";
  auto no_holdout = ChooseLiftArms(Holdout({"control", "a"}), options);
  REQUIRE_FALSE(no_holdout.ok());
  CHECK(no_holdout.status().code() == StatusCode::kInvalidArgument);
  CHECK(no_holdout.status().field() == "holdout");
}

TEST_CASE("LiftGroupOf: count metrics count events, others sum values", "[app]") {
  store::VariantMetricStats promo;
  promo.variant = "promo";
  promo.users = 100;
  promo.converted = 30;
  promo.conversions = 45;
  promo.sum = 900.0;
  promo.sum_squares = 12000.0;
  promo.conversions_sum_squares = 80.0;
  const std::vector<store::VariantMetricStats> stats = {promo};

  const causal::LiftGroup mean = LiftGroupOf(stats, "promo", MetricType::kMean);
  CHECK(mean.users == 100);
  CHECK(mean.conversions == 30);  // users with a conversion, not events
  CHECK(mean.revenue == 900.0);
  CHECK(mean.revenue_sum_squares == 12000.0);
  const causal::LiftGroup count = LiftGroupOf(stats, "promo", MetricType::kCount);
  CHECK(count.conversions == 30);
  CHECK(count.revenue == 45.0);
  CHECK(count.revenue_sum_squares == 80.0);
  const causal::LiftGroup none = LiftGroupOf(stats, "control", MetricType::kMean);
  CHECK(none.users == 0);
  CHECK(none.revenue == 0);
}

struct TempStore {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  TempStore() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-app-lift-test-" + std::to_string(std::random_device()()));
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

// `users` exposed users per arm; in arm a, each user buys a + 1 times for 5 each.
void Seed(store::Store& s, const std::vector<std::string>& arms, int users) {
  std::vector<store::Event> events;
  int id = 0;
  const int64_t ts = 1'700'000'000'000;
  for (size_t a = 0; a < arms.size(); ++a) {
    for (int u = 0; u < users; ++u) {
      store::Event e;
      e.type = store::EventType::kExposure;
      e.id = "e" + std::to_string(id++);
      e.user = arms[a] + "-" + std::to_string(u);
      e.experiment = "promo";
      e.variant = arms[a];
      e.ts_ms = ts;
      events.push_back(e);
      for (size_t k = 0; k <= a; ++k) {
        store::Event c;
        c.type = store::EventType::kConversion;
        c.id = "c" + std::to_string(id++);
        c.user = e.user;
        c.name = "purchase";
        c.value = 5.0;
        c.ts_ms = ts + 10 + static_cast<int64_t>(k);
        events.push_back(c);
      }
    }
  }
  const auto results = s.WriteEventBatches({&events});
  REQUIRE(results.size() == 1);
  REQUIRE(results[0].status.ok());
}

MetricDefinition Metric(MetricType type) {
  MetricDefinition m;
  m.key = "purchases";
  m.type = type;
  m.event = "purchase";
  if (type == MetricType::kRatio) m.denominator_event = "visit";
  REQUIRE(NormalizeMetric(&m).ok());
  return m;
}

TEST_CASE("PrepareExperimentLift: groups from stored events", "[app]") {
  TempStore db;
  ExperimentLiftOptions options;
  options.spend = 100;
  const LiftExperiment x = Holdout({"control", "promo"});

  auto empty = PrepareExperimentLift(*db.store, x, Metric(MetricType::kCount), options);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kInsufficientData);
  CHECK(empty.status().field() == "test");

  auto ratio = PrepareExperimentLift(*db.store, x, Metric(MetricType::kRatio), options);
  REQUIRE_FALSE(ratio.ok());
  CHECK(ratio.status().code() == StatusCode::kInvalidArgument);
  CHECK(ratio.status().field() == "metric");

  Seed(*db.store, {"control", "promo"}, 20);
  auto count = PrepareExperimentLift(*db.store, x, Metric(MetricType::kCount), options);
  REQUIRE(count.ok());
  CHECK(count->arms.test == "promo");
  CHECK(count->arms.holdout == "control");
  CHECK(count->input.test.users == 20);
  CHECK(count->input.test.revenue == 40);  // 2 purchases per promo user
  CHECK(count->input.holdout.revenue == 20);
  CHECK(count->input.spend == 100);
  CHECK(count->input.confidence == 0.95);
  auto mean = PrepareExperimentLift(*db.store, x, Metric(MetricType::kMean), options);
  REQUIRE(mean.ok());
  CHECK(mean->input.test.revenue == Approx(200.0));  // 20 users x 2 x 5
  CHECK(mean->input.holdout.conversions == 20);
}

}  // namespace
}  // namespace causeway::app
