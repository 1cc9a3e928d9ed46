// Safe rollouts through the experiment service and the JSON configuration codec
// (issue 21 part 4): the ramp's coverage, buckets kept when it rises, the stored
// state, and control served after a rollback. Over HTTP: the rollout's fields.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "api/codec/config_codec.h"
#include "app/services.h"
#include "store/sqlite_store.h"
#include "test_server.h"

namespace causeway {
namespace {

using Json = nlohmann::json;
constexpr int64_t kHour = 3'600'000;

Json RolloutExperiment(bool auto_rollback = true) {
  return {{"key", "new_checkout"},
          {"variants", {{{"key", "old"}}, {{"key", "new"}}}},
          {"status", "running"},
          {"rollout",
           {{"steps", {0.01, 0.05, 0.1, 0.25, 0.5, 1.0}},
            {"min_hours_per_step", 24},
            {"auto_rollback", auto_rollback}}}};
}

struct Fixture {
  Fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-rollout-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string error;
    store = store::OpenSqliteStore((dir / "test.db").string(), &error);
    REQUIRE(store);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  // variant index per user of the first `n` users (-1: not in the test)
  std::map<int, int> Assign(int n) const {
    std::map<int, int> out;
    const auto& snapshot = snapshots.Current();
    const assign::CompiledExperiment* x = snapshot.Find("new_checkout");
    REQUIRE(x);
    for (int u = 0; u < n; ++u) {
      out[u] = assign::Assign(*x, "u" + std::to_string(u), nullptr).variant_index;
    }
    return out;
  }

  static inline int counter = 0;
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  assign::SnapshotHolder snapshots;
  api::JsonConfigCodec codec;
};

TEST_CASE("a rollout ramps coverage keeping buckets, and serves control after a rollback",
          "[rollout]") {
  Fixture f;
  app::ExperimentService service(f.store.get(), &f.snapshots, &f.codec);
  app::Experiment x;
  REQUIRE(api::DecodeExperiment(RolloutExperiment(), &x).ok());
  auto created = service.Create(x, 0);
  REQUIRE(created.ok());
  CHECK(created->coverage == 0.01);
  CHECK(created->rollout_state.step == 0);

  const std::map<int, int> before = f.Assign(20000);
  int in_test = 0;
  for (const auto& [u, v] : before) in_test += v >= 0;
  CHECK(in_test > 100);  // about 1 % of 20 000
  CHECK(in_test < 320);

  app::RolloutDecision advance;
  advance.action = app::RolloutAction::kAdvance;
  advance.next_step = 1;
  advance.coverage = 0.05;
  advance.reason = "healthy";
  auto advanced = service.ApplyRollout("new_checkout", advance, 24 * kHour, 24 * kHour);
  REQUIRE(advanced.ok());
  CHECK(advanced->coverage == 0.05);
  CHECK(advanced->rollout_state.step == 1);
  const std::map<int, int> after = f.Assign(20000);
  int grown = 0;
  for (const auto& [u, v] : before) {
    if (v >= 0) CHECK(after.at(u) == v);  // nobody changes variant
    grown += after.at(u) >= 0;
  }
  CHECK(grown > 4 * in_test);

  // The state survives a reload from the store (another instance, a restart).
  app::ExperimentService reloaded(f.store.get(), &f.snapshots, &f.codec);
  REQUIRE(reloaded.Load().ok());
  auto got = reloaded.Get("new_checkout");
  REQUIRE(got.ok());
  CHECK(got->rollout_state.step == 1);
  CHECK(got->rollout_state.step_started_ms == 24 * kHour);
  REQUIRE(got->rollout_state.history.size() == 1);
  CHECK(got->rollout_state.history[0].action == app::RolloutAction::kAdvance);
  CHECK(got->coverage == 0.05);

  app::RolloutDecision rollback;
  rollback.action = app::RolloutAction::kRollback;
  rollback.next_step = 1;
  rollback.reason = "guardrail:revenue firing";
  auto rolled = reloaded.ApplyRollout("new_checkout", rollback, 30 * kHour, 30 * kHour);
  REQUIRE(rolled.ok());
  CHECK(rolled->status == assign::ExperimentStatus::kStopped);
  CHECK(rolled->rollout_state.status == app::RolloutStatus::kRolledBack);
  const auto& snapshot = f.snapshots.Current();
  const assign::CompiledExperiment* compiled = snapshot.Find("new_checkout");
  REQUIRE(compiled);
  for (int u = 0; u < 200; ++u) {
    const auto a = assign::Assign(*compiled, "u" + std::to_string(u), nullptr);
    CHECK(a.variant_index == 0);
    CHECK_FALSE(a.in_experiment);
    CHECK(a.reason == assign::AssignReason::kReleased);
  }
}

TEST_CASE("rollout fields over HTTP: validated, rendered, coverage refused", "[rollout]") {
  testing::TestServer s;
  Json bad = RolloutExperiment();
  bad["rollout"]["steps"] = {0.5, 0.2};
  auto r = s.Post("/v1/experiments", s.admin_key, bad);
  CHECK(r.status == 400);
  CHECK(r.body["error"]["field"] == "rollout.steps[1]");
  bad = RolloutExperiment();
  bad["rollout"]["ramp"] = 1;
  r = s.Post("/v1/experiments", s.admin_key, bad);
  CHECK(r.status == 400);
  CHECK(r.body["error"]["field"] == "rollout.ramp");

  r = s.Post("/v1/experiments", s.admin_key, RolloutExperiment());
  REQUIRE(r.status == 201);
  CHECK(r.body["coverage"] == 0.01);
  CHECK(r.body["rollout"]["step"] == 0);
  CHECK(r.body["rollout"]["status"] == "ramping");
  CHECK(r.body["rollout"]["coverage"] == 0.01);
  CHECK(r.body["rollout"]["steps"].size() == 6);
  CHECK(r.body["rollout"]["history"].empty());

  r = s.Patch("/v1/experiments/new_checkout", s.admin_key, {{"coverage", 0.5}});
  CHECK(r.status == 400);
  CHECK(r.body["error"]["field"] == "coverage");
  // Removing the rollout keeps the coverage it had.
  r = s.Patch("/v1/experiments/new_checkout", s.admin_key, {{"rollout", nullptr}});
  REQUIRE(r.status == 200);
  CHECK(r.body["rollout"].is_null());
  CHECK(r.body["coverage"] == 0.01);
}

}  // namespace
}  // namespace causeway
