// GrowthBook's cross-SDK cases (tests/data/growthbook/growthbook-cases.json,
// packages/sdk-js/test/cases.json) run against causeway::assign. Every case of
// the sections hash, getBucketRange, chooseVariation, inNamespace,
// getEqualWeights and evalCondition runs; none is skipped. The tuple layouts are
// those of the `Cases` type in packages/sdk-js/test/json.test.ts.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "assign/condition.h"
#include "assign/hash.h"
#include "test_util.h"

namespace causeway::assign {
namespace {

using testing::GrowthBookCases;
using Json = nlohmann::ordered_json;

// json.test.ts compares ranges and weights after `Math.floor(n * 1e8) / 1e8`.
double Round8(double x) { return std::floor(x * 1e8) / 1e8; }

const Json& Section(const char* name) {
  const Json& s = GrowthBookCases().at(name);
  REQUIRE(s.is_array());
  return s;
}

TEST_CASE("GrowthBook conformance: hash", "[conformance][hash]") {
  const Json& cases = Section("hash");
  CHECK(cases.size() == 15);
  for (const Json& c : cases) {
    // [seed, value, hashVersion, expected|null]
    const std::string seed = c.at(0).get<std::string>();
    const std::string value = c.at(1).get<std::string>();
    const int version = c.at(2).get<int>();
    INFO("hash(" << seed << ", " << value << ", " << version << ")");
    const std::optional<double> h = Hash(seed, value, version);
    if (c.at(3).is_null()) {
      CHECK_FALSE(h.has_value());
    } else {
      REQUIRE(h.has_value());
      CHECK(*h == c.at(3).get<double>());
    }
  }
}

TEST_CASE("GrowthBook conformance: getBucketRange", "[conformance][hash]") {
  const Json& cases = Section("getBucketRange");
  CHECK(cases.size() == 13);
  for (const Json& c : cases) {
    // [name, [numVariations, coverage, weights|null], expectedRanges]
    INFO(c.at(0).get<std::string>());
    const Json& args = c.at(1);
    std::vector<double> weights;
    const bool has_weights = !args.at(2).is_null();
    if (has_weights) weights = args.at(2).get<std::vector<double>>();
    const auto ranges = BucketRanges(args.at(0).get<int>(), args.at(1).get<double>(),
                                     has_weights ? &weights : nullptr);
    const Json& expected = c.at(2);
    REQUIRE(ranges.size() == expected.size());
    for (size_t i = 0; i < ranges.size(); ++i) {
      CHECK(Round8(ranges[i].first) == Round8(expected.at(i).at(0).get<double>()));
      CHECK(Round8(ranges[i].second) == Round8(expected.at(i).at(1).get<double>()));
    }
  }
}

TEST_CASE("GrowthBook conformance: chooseVariation", "[conformance][hash]") {
  const Json& cases = Section("chooseVariation");
  CHECK(cases.size() == 13);
  for (const Json& c : cases) {
    // [name, hashValue, ranges, expectedIndex]
    INFO(c.at(0).get<std::string>());
    std::vector<BucketRange> ranges;
    for (const Json& r : c.at(2)) ranges.emplace_back(r.at(0).get<double>(), r.at(1).get<double>());
    CHECK(ChooseVariation(c.at(1).get<double>(), ranges) == c.at(3).get<int>());
  }
}

TEST_CASE("GrowthBook conformance: inNamespace", "[conformance][hash]") {
  const Json& cases = Section("inNamespace");
  CHECK(cases.size() == 16);
  for (const Json& c : cases) {
    // [name, userId, [namespaceId, start, end], expected]
    INFO(c.at(0).get<std::string>());
    const Json& ns = c.at(2);
    CHECK(InNamespace(c.at(1).get<std::string>(), ns.at(0).get<std::string>(),
                      ns.at(1).get<double>(), ns.at(2).get<double>()) == c.at(3).get<bool>());
  }
}

TEST_CASE("GrowthBook conformance: getEqualWeights", "[conformance][hash]") {
  const Json& cases = Section("getEqualWeights");
  CHECK(cases.size() == 6);
  for (const Json& c : cases) {
    // [numVariations, expectedWeights]
    const int n = c.at(0).get<int>();
    INFO("n=" << n);
    const std::vector<double> got = EqualWeights(n);
    const Json& expected = c.at(1);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(Round8(got[i]) == Round8(expected.at(i).get<double>()));
    }
  }
}

// evalCondition cases: [name, condition, attributes, expected] with an optional
// fifth element, savedGroups. Each runs through EvalCondition and, when the
// strict validator accepts it, through Condition::Parse + Matches as well.
TEST_CASE("GrowthBook conformance: evalCondition", "[conformance][condition]") {
  const Json& cases = Section("evalCondition");
  CHECK(cases.size() == 248);
  size_t with_saved_groups = 0;
  size_t parsed = 0;
  std::set<std::string> rejected_by_parse;
  for (const Json& c : cases) {
    const std::string name = c.at(0).get<std::string>();
    INFO(name);
    const Value condition = testing::ToValue(c.at(1));
    const Value attributes = testing::ToValue(c.at(2));
    const bool expected = c.at(3).get<bool>();
    SavedGroups groups;
    if (c.size() > 4) {
      ++with_saved_groups;
      for (const auto& [id, members] : c.at(4).items()) groups[id] = testing::ToValue(members);
    }
    const SavedGroups* groups_ptr = c.size() > 4 ? &groups : nullptr;
    CHECK(EvalCondition(attributes, condition, groups_ptr) == expected);

    std::string error;
    const auto parsed_condition = Condition::Parse(condition, &error);
    if (parsed_condition == nullptr) {
      CHECK_FALSE(error.empty());
      rejected_by_parse.insert(name);
      continue;
    }
    ++parsed;
    CHECK(parsed_condition->Matches(attributes, groups_ptr) == expected);
    if (groups_ptr == nullptr) CHECK(parsed_condition->Matches(attributes) == expected);
  }
  CHECK(with_saved_groups == 8);
  // Conditions GrowthBook evaluates to false because they are malformed; the
  // strict validator rejects them up front instead (all expect `false`).
  const std::set<std::string> malformed = {
      "$in - not array",       "$nin - not array",        "$ini - not array",
      "$nini - not array",     "unknown operator - pass", "$regex invalid - pass",
      "$regex invalid - fail",
  };
  CHECK(rejected_by_parse == malformed);
  CHECK(parsed + rejected_by_parse.size() == cases.size());
}

}  // namespace
}  // namespace causeway::assign
