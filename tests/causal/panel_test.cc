// Bad panels are errors with a reason, never throws or crashes.
#include <catch2/catch.hpp>

#include "causal/did.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

const DidMethod kMethods[] = {DidMethod::k2x2, DidMethod::kTwfe, DidMethod::kEventStudy,
                              DidMethod::kCallawaySantAnna};

Panel Tiny() {
  Panel p;
  // unit 1 treated from t=2, unit 2 never treated, two periods.
  p.unit = {1, 1, 2, 2};
  p.time = {1, 2, 1, 2};
  p.outcome = {1.0, 3.0, 1.5, 2.0};
  p.treatment_start = {2, 2, kNeverTreated, kNeverTreated};
  return p;
}

TEST_CASE("IndexPanel builds dense indices and detects balance", "[causal][panel]") {
  Panel p = Tiny();
  auto ix = IndexPanel(p);
  REQUIRE(ix.ok());
  CHECK(ix.value().units() == 2);
  CHECK(ix.value().periods() == 2);
  CHECK(ix.value().balanced);
  CHECK(ix.value().connected_components == 1);
  // Sparse, huge ids take the hash path.
  p.unit = {int64_t{1} << 60, int64_t{1} << 60, -5, -5};
  auto sparse = IndexPanel(p);
  REQUIRE(sparse.ok());
  CHECK(sparse.value().unit_ids.front() == -5);
}

struct BadCase {
  const char* name;
  void (*mutate)(Panel&);
  const char* field;
  const char* message_part;
};

const BadCase kBad[] = {
    {"duplicate", [](Panel& p) { p.time[1] = 1; }, "panel",
     "duplicate (unit, time) row: unit 1, time 1"},
    {"nan outcome", [](Panel& p) { p.outcome[2] = std::nan(""); }, "outcome", "row 2"},
    {"short column", [](Panel& p) { p.time.pop_back(); }, "time", "has 3 values"},
    {"start varies", [](Panel& p) { p.treatment_start[1] = 1; }, "treatment_start",
     "varies within unit 1"},
    {"no treatment info", [](Panel& p) { p.treatment_start.clear(); }, "panel", "either"},
    {"bad weight",
     [](Panel& p) {
       p.weight = {1, 1, 0, 1};
     },
     "weight", "positive"},
    {"empty", [](Panel& p) { p = Panel{}; }, "panel", "no rows"},
};

TEST_CASE("Bad panels are rejected with the problem named", "[causal][panel]") {
  for (const BadCase& c : kBad) {
    INFO(c.name);
    Panel p = Tiny();
    c.mutate(p);
    for (DidMethod m : kMethods) {
      DidOptions options;
      options.method = m;
      auto r = EstimateDid(p, options);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().field == c.field);
      CHECK(r.error().message.find(c.message_part) != std::string::npos);
    }
  }
}

TEST_CASE("Designs without treated, control or pre-period units are rejected", "[causal][panel]") {
  for (DidMethod m : kMethods) {
    INFO(DidMethodName(m));
    DidOptions options;
    options.method = m;
    Panel none = Tiny();
    none.treatment_start = {kNeverTreated, kNeverTreated, kNeverTreated, kNeverTreated};
    auto r1 = EstimateDid(none, options);
    REQUIRE_FALSE(r1.ok());
    CHECK_THAT(r1.error().message, Catch::Contains("no treated unit"));

    Panel all = Tiny();
    all.treatment_start = {2, 2, 2, 2};
    auto r2 = EstimateDid(all, options);
    REQUIRE_FALSE(r2.ok());
    CHECK_THAT(r2.error().message, Catch::Contains("no control unit"));

    Panel no_pre = Tiny();
    no_pre.treatment_start = {1, 1, kNeverTreated, kNeverTreated};
    auto r3 = EstimateDid(no_pre, options);
    REQUIRE_FALSE(r3.ok());
    CHECK_THAT(r3.error().message, Catch::Contains("no pre-period"));
  }
}

TEST_CASE("Options are validated", "[causal][panel]") {
  DidOptions options;
  options.confidence = 1.5;
  std::string why;
  CHECK_FALSE(options.IsValid(&why));
  auto r = EstimateDid(Tiny(), options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().field == "options");
}

}  // namespace
}  // namespace causeway::causal
