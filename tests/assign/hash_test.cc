// Hashing and bucketing against an independent Python implementation
// (tests/reference/assign/gen_hash_vectors.py -> hash_vectors.json) and basic
// properties. GrowthBook's own cases run in conformance_test.cc.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "alloc_counter.h"
#include "assign/hash.h"
#include "test_util.h"

namespace causeway::assign {
namespace {

using testing::LoadJson;

const nlohmann::ordered_json& Vectors() {
  static const nlohmann::ordered_json v =
      LoadJson(std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/assign/hash_vectors.json");
  return v;
}

TEST_CASE("Fnv1a32 matches the Python reference and the published FNV-1a vectors", "[hash]") {
  // Published FNV-1a 32 test vectors (Fowler/Noll/Vo reference, isthe.com/chongo/tech/comp/fnv).
  CHECK(Fnv1a32("") == 0x811c9dc5u);
  CHECK(Fnv1a32("a") == 0xe40c292cu);
  CHECK(Fnv1a32("foobar") == 0xbf9cf968u);
  const auto& cases = Vectors().at("fnv1a32");
  REQUIRE(cases.size() >= 20);
  for (const auto& c : cases) {
    const std::string input = c.at("input").get<std::string>();
    INFO("input=" << input);
    CHECK(Fnv1a32(input) == c.at("fnv1a32").get<uint32_t>());
  }
}

TEST_CASE("Hash matches the Python reference exactly for v1, v2 and unknown versions", "[hash]") {
  const auto& cases = Vectors().at("hash");
  REQUIRE(cases.size() > 800);
  for (const auto& c : cases) {
    const std::string seed = c.at("seed").get<std::string>();
    const std::string value = c.at("value").get<std::string>();
    const int version = c.at("version").get<int>();
    INFO("seed=" << seed << " value=" << value << " version=" << version);
    const std::optional<double> h = Hash(seed, value, version);
    if (c.at("hash").is_null()) {
      CHECK_FALSE(h.has_value());
    } else {
      REQUIRE(h.has_value());
      CHECK(*h == c.at("hash").get<double>());  // exact, as GrowthBook's toEqual
    }
  }
}

TEST_CASE("Incremental FNV and the seed-state v2 hash equal the one-shot forms", "[hash]") {
  for (const auto& c : Vectors().at("hash")) {
    if (c.at("version").get<int>() != 2) continue;
    const std::string seed = c.at("seed").get<std::string>();
    const std::string value = c.at("value").get<std::string>();
    INFO("seed=" << seed << " value=" << value);
    CHECK(Fnv1a32Extend(Fnv1a32(seed), value) == Fnv1a32(seed + value));
    CHECK(HashV2FromSeedState(Fnv1a32(seed), value) == c.at("hash").get<double>());
  }
}

TEST_CASE("InNamespace agrees with the Python reference namespace hash", "[hash]") {
  const auto& cases = Vectors().at("namespace_hash");
  REQUIRE(cases.size() > 50);
  for (const auto& c : cases) {
    const std::string user = c.at("user").get<std::string>();
    const std::string ns = c.at("namespace").get<std::string>();
    const double h = c.at("hash").get<double>();
    INFO("user=" << user << " ns=" << ns << " h=" << h);
    CHECK(InNamespace(user, ns, h, std::nextafter(h, 2.0)));  // start is inclusive
    CHECK_FALSE(InNamespace(user, ns, 0.0, h));               // end is exclusive
    CHECK_FALSE(InNamespace(user, ns, std::nextafter(h, 2.0), 1.0));
  }
}

TEST_CASE("Hash does not allocate, even for long inputs", "[hash]") {
  if (!testing::AllocationCountingEnabled()) {
    WARN("allocation counting is off in sanitizer builds");
    return;
  }
  const std::string seed(200, 's');
  const std::string value(300, 'v');
  const size_t before = testing::ThreadAllocations();
  double sink = 0;
  for (int version : {1, 2, 7}) sink += Hash(seed, value, version).value_or(0.0);
  sink += InNamespace(value, seed, 0.0, 0.5) ? 1.0 : 0.0;
  CHECK(testing::ThreadAllocations() == before);
  CHECK(sink >= 0.0);
}

TEST_CASE("Hash values stay in [0,1) on the GrowthBook grid", "[hash]") {
  for (int i = 0; i < 5000; ++i) {
    const std::string user = "u" + std::to_string(i);
    const double h2 = *Hash("exp", user, 2);
    const double h1 = *Hash("exp", user, 1);
    REQUIRE(h2 >= 0.0);
    REQUIRE(h2 < 1.0);
    REQUIRE(h1 >= 0.0);
    REQUIRE(h1 < 1.0);
    CHECK(std::round(h2 * 10000) / 10000 == h2);  // h2 = k / 10000
    CHECK(std::round(h1 * 1000) / 1000 == h1);
  }
}

TEST_CASE("BucketRanges clamps coverage and falls back to equal weights", "[hash]") {
  const std::vector<double> w = {0.2, 0.8};
  auto r = BucketRanges(2, 1.5, &w);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == BucketRange(0.0, 0.2));
  CHECK(r[1].first == Approx(0.2));
  CHECK(r[1].second == Approx(1.0));
  r = BucketRanges(2, -1, &w);
  CHECK(r[0] == BucketRange(0.0, 0.0));
  CHECK(r[1].first == Approx(0.2));
  CHECK(r[1].second == Approx(0.2));
  const std::vector<double> bad_sum = {0.2, 0.2};
  r = BucketRanges(2, 1, &bad_sum);
  CHECK(r[1].first == 0.5);
  const std::vector<double> wrong_len = {1.0};
  r = BucketRanges(2, 1, &wrong_len);
  CHECK(r.size() == 2);
  CHECK(r[0].second == 0.5);
  CHECK(BucketRanges(0, 1, nullptr).empty());
  CHECK(BucketRanges(-3, 1, nullptr).empty());
  CHECK(EqualWeights(0).empty());
  CHECK(EqualWeights(4) == std::vector<double>(4, 0.25));
}

TEST_CASE("ChooseVariation uses half-open ranges", "[hash]") {
  const std::vector<BucketRange> ranges = {{0.0, 0.3}, {0.5, 0.8}};
  CHECK(ChooseVariation(0.0, ranges) == 0);
  CHECK(ChooseVariation(0.2999, ranges) == 0);
  CHECK(ChooseVariation(0.3, ranges) == -1);
  CHECK(ChooseVariation(0.5, ranges) == 1);
  CHECK(ChooseVariation(0.8, ranges) == -1);
  CHECK(ChooseVariation(0.5, {}) == -1);
}

}  // namespace
}  // namespace causeway::assign
