// Typed experiments and metric definitions: defaults, validation naming the field,
// the re-randomisation rule, phases, and decoding once at load.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <random>

#include "app/experiment.h"
#include "app/services.h"
#include "fake_codec.h"
#include "store/sqlite_store.h"

namespace causeway::app {
namespace {

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  assign::SnapshotHolder snapshots;
  FakeCodec codec;
  Fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("causeway-app-exp-" + std::to_string(std::random_device()()));
    std::string error;
    store = store::OpenSqliteStore((dir / "test.db").string(), &error);
    REQUIRE(store);
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

ExperimentPatch With(const std::function<void(ExperimentPatch&)>& set) {
  ExperimentPatch p;
  set(p);
  return p;
}

Experiment Config(const std::string& key) {
  Experiment x;
  x.key = key;
  x.variants = {{"control", 0.5, {}, {}}, {"treatment", 0.5, {}, {}}};
  x.status = assign::ExperimentStatus::kRunning;
  return x;
}

TEST_CASE("NormalizeExperiment: defaults and rules naming the field", "[app]") {
  Experiment eq;
  eq.key = "eq";
  eq.variants = {{"a", {}, {}, {}}, {"b", {}, {}, {}}, {"c", {}, {}, {}}};
  REQUIRE(NormalizeExperiment(&eq).ok());
  CHECK(*eq.name == "eq");
  CHECK(*eq.seed == "eq");
  CHECK(*eq.variants[2].weight == Approx(1.0 / 3));

  struct Case {
    const char* name;
    std::function<void(Experiment&)> mutate;
    const char* field;
  };
  const Case cases[] = {
      {"bad key", [](Experiment& x) { x.key = "has space"; }, "key"},
      {"one variant", [](Experiment& x) { x.variants.pop_back(); }, "variants"},
      {"duplicate", [](Experiment& x) { x.variants[1].key = "control"; }, "variants[1].key"},
      {"negative weight", [](Experiment& x) { x.variants[0].weight = -0.5; }, "variants[0].weight"},
      {"weights sum", [](Experiment& x) { x.variants[0].weight = 0.6; }, "variants"},
      {"coverage", [](Experiment& x) { x.coverage = 1.5; }, "coverage"},
      {"hash version", [](Experiment& x) { x.hash_version = 3; }, "hash_version"},
      {"namespace",
       [](Experiment& x) {
         x.ns = ExperimentNamespace{"n", 0.5, 0.5};
       },
       "namespace"},
      {"override", [](Experiment& x) { x.overrides["u1"] = "nope"; }, "overrides.u1"},
      {"condition",
       [](Experiment& x) {
         x.condition = assign::Value(assign::Value::Object{
             {"age", assign::Value(assign::Value::Object{{"$bogus", assign::Value(1)}})}});
       },
       "condition"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Experiment x = Config("v");
      c.mutate(x);
      const Status s = NormalizeExperiment(&x);
      CHECK(s.code() == StatusCode::kInvalidArgument);
      CHECK(s.field() == c.field);
    }
  }
}

TEST_CASE("ExperimentService: re-randomising a running experiment needs a new phase", "[app]") {
  Fixture f;
  ExperimentService service(f.store.get(), &f.snapshots, &f.codec);
  REQUIRE(service.Load().ok());
  auto created = service.Create(Config("p"), 1000);
  REQUIRE(created.ok());
  CHECK(created->phases.size() == 1);
  CHECK(f.snapshots.Current().Find("p") != nullptr);

  ExperimentPatch reweight;
  reweight.variants =
      std::vector<ExperimentVariant>{{"control", 0.2, {}, {}}, {"treatment", 0.8, {}, {}}};
  auto refused = service.Patch("p", reweight, 2000);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().field() == "variants");
  for (auto [field, patch] : std::vector<std::pair<const char*, ExperimentPatch>>{
           {"seed", With([](ExperimentPatch& p) { p.seed = "other"; })},
           {"coverage", With([](ExperimentPatch& p) { p.coverage = 0.5; })},
           {"hash_version", With([](ExperimentPatch& p) { p.hash_version = 1; })}}) {
    auto r = service.Patch("p", patch, 2000);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().field() == field);
  }
  auto renamed = service.Patch("p", With([](ExperimentPatch& p) { p.name = "Renamed"; }), 2000);
  REQUIRE(renamed.ok());
  CHECK(renamed->phase == 1);

  reweight.new_phase = true;
  auto phased = service.Patch("p", reweight, 3000);
  REQUIRE(phased.ok());
  CHECK(phased->phase == 2);
  CHECK(*phased->seed != "p");
  CHECK(phased->phases.size() == 2);
  CHECK(phased->SinceMs() == 3000);
  CHECK(f.snapshots.Current().Find("p")->spec.phase == 2);

  // A stopped experiment may be edited freely.
  REQUIRE(service
              .Patch("p", With([](ExperimentPatch& p) {
                       p.status = assign::ExperimentStatus::kStopped;
                     }),
                     4000)
              .ok());
  CHECK(service.Patch("p", With([](ExperimentPatch& p) { p.coverage = 0.5; }), 5000).ok());
  CHECK(service.Patch("p", With([](ExperimentPatch& p) { p.key = "q"; }), 5000).status().field() ==
        "key");
  CHECK(service.Patch("missing", {}, 5000).status().code() == StatusCode::kNotFound);
  CHECK(service.Create(Config("p"), 6000).status().code() == StatusCode::kAlreadyExists);

  // A new service decodes the stored configurations once, at load.
  ExperimentService reloaded(f.store.get(), &f.snapshots, &f.codec);
  const int before = f.codec.decodes;
  REQUIRE(reloaded.Load().ok());
  CHECK(f.codec.decodes == before + 1);
  auto x = reloaded.Get("p");
  REQUIRE(x.ok());
  CHECK(x->phase == 2);
  CHECK(x->phases.size() == 2);
  CHECK(x->SinceMs() == 3000);
  CHECK(f.codec.decodes == before + 1);
}

TEST_CASE("MetricService: definitions are normalised, checked and kept typed", "[app]") {
  Fixture f;
  MetricService service(f.store.get(), &f.codec);
  REQUIRE(service.Load().ok());
  MetricDefinition m;
  m.key = "revenue";
  m.type = MetricType::kMean;
  m.event = "purchase";
  auto created = service.Create(m, 1000);
  REQUIRE(created.ok());
  CHECK(*created->name == "revenue");
  CHECK(created->higher_is_better);
  CHECK(service.Create(m, 1000).status().code() == StatusCode::kAlreadyExists);

  MetricDefinition ratio = m;
  ratio.key = "rpv";
  ratio.type = MetricType::kRatio;
  CHECK(service.Create(ratio, 1000).status().field() == "denominator_event");
  MetricDefinition window = m;
  window.key = "w";
  window.window_hours = -1;
  CHECK(service.Create(window, 1000).status().field() == "window_hours");
  MetricDefinition denominator = m;
  denominator.key = "d";
  denominator.denominator_event = "visit";
  CHECK(service.Create(denominator, 1000).status().field() == "denominator_event");

  MetricService reloaded(f.store.get(), &f.codec);
  REQUIRE(reloaded.Load().ok());
  REQUIRE(reloaded.List().size() == 1);
  CHECK(reloaded.Get("revenue")->created_ms == 1000);
  CHECK(reloaded.Get("nope").status().code() == StatusCode::kNotFound);
}

}  // namespace
}  // namespace causeway::app
