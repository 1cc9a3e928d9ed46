// causeway::assign against GrowthBook's JavaScript SDK itself on non-ASCII user
// ids and seeds: tests/reference/assign/growthbook_sdk_cases.mjs runs the npm
// package (version in growthbook_sdk_unicode.json) and writes every value it
// returned; each must match exactly. Needs no Node: the fixture is committed.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "assign/engine.h"
#include "assign/hash.h"
#include "test_util.h"

namespace causeway::assign {
namespace {

using Json = nlohmann::ordered_json;

const Json& SdkCases() {
  static const Json cases = testing::LoadJson(
      std::string(CAUSEWAY_SOURCE_DIR) + "/tests/reference/assign/growthbook_sdk_unicode.json");
  return cases;
}

// Bytes from a hex string ("e794" -> "\xe7\x94").
std::string FromHex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// FNV-1a 32 straight from its definition over UTF-16 code units, as
// GrowthBook's hashFnv32a runs over str.charCodeAt(i).
uint32_t FnvOverUnits(const std::vector<uint32_t>& units) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t u : units) h = (h ^ u) * 0x01000193u;
  return h;
}

TEST_CASE("GrowthBook JS SDK: hash of non-ASCII ids and seeds, v1 and v2", "[sdk][hash]") {
  const Json& cases = SdkCases().at("hash");
  REQUIRE(cases.size() == 2000);
  for (const Json& c : cases) {
    // [seed, value, version, hash]
    const std::string seed = c.at(0).get<std::string>();
    const std::string value = c.at(1).get<std::string>();
    const int version = c.at(2).get<int>();
    INFO("hash(" << seed << ", " << value << ", " << version << ")");
    const std::optional<double> h = Hash(seed, value, version);
    REQUIRE(h.has_value());
    CHECK(*h == c.at(3).get<double>());
    if (version == 2) CHECK(HashV2FromSeedState(Fnv1a32(seed), value) == *h);
  }
}

TEST_CASE("GrowthBook JS SDK: namespace hash of non-ASCII ids and namespace ids", "[sdk][hash]") {
  const Json& cases = SdkCases().at("namespace");
  REQUIRE(cases.size() == 300);
  for (const Json& c : cases) {
    // [user, namespace id, hash("__" + id, user, 1), inNamespace(user, [id, 0, 0.5])]
    const std::string user = c.at(0).get<std::string>();
    const std::string ns = c.at(1).get<std::string>();
    const double h = c.at(2).get<double>();
    INFO("user=" << user << " ns=" << ns << " h=" << h);
    CHECK(InNamespace(user, ns, 0.0, 0.5) == c.at(3).get<bool>());
    CHECK(InNamespace(user, ns, h, std::nextafter(h, 2.0)));  // start is inclusive
    CHECK_FALSE(InNamespace(user, ns, 0.0, h));               // end is exclusive
  }
}

TEST_CASE("GrowthBook JS SDK: GrowthBook#run over 24 random experiments", "[sdk][engine]") {
  const Json& users = SdkCases().at("users");
  const Json& experiments = SdkCases().at("run");
  REQUIRE(experiments.size() == 24);
  size_t checked = 0;
  size_t included = 0;
  for (const Json& e : experiments) {
    const Json& exp = e.at("experiment");
    ExperimentSpec spec;
    spec.key = exp.at("key").get<std::string>();
    // core.ts runExperiment: hash(experiment.seed || key, id, experiment.hashVersion || 1).
    spec.seed = exp.value("seed", std::string());
    if (spec.seed.empty()) spec.seed = spec.key;
    spec.hash_version = exp.at("hashVersion").get<int>();
    const size_t n = exp.at("variations").size();
    std::vector<double> weights = EqualWeights(static_cast<int>(n));
    if (exp.contains("weights")) weights = exp.at("weights").get<std::vector<double>>();
    for (size_t i = 0; i < n; ++i) spec.variants.push_back({"v" + std::to_string(i), weights[i]});
    spec.coverage = exp.value("coverage", 1.0);
    if (exp.contains("namespace")) {
      const Json& ns = exp.at("namespace");
      spec.ns = NamespaceSpec{ns.at(0).get<std::string>(), ns.at(1).get<double>(),
                              ns.at(2).get<double>()};
    }
    spec.status = ExperimentStatus::kRunning;
    const CompiledExperiment compiled = CompileExperiment(spec);

    const Json& results = e.at("results");
    REQUIRE(results.size() == users.size());
    for (size_t u = 0; u < users.size(); ++u) {
      // [variation, or -1 when not in the experiment; bucket (the hash) or null]
      const std::string user = users.at(u).get<std::string>();
      INFO("experiment " << exp.dump() << " user " << user);
      const Assignment a = Assign(compiled, user, nullptr);
      const int expected = results.at(u).at(0).get<int>();
      CHECK(a.variant_index == expected);
      CHECK(a.in_experiment == (expected >= 0));
      if (!results.at(u).at(1).is_null()) {
        CHECK(a.reason == AssignReason::kHashed);
        CHECK(a.hash_value == results.at(u).at(1).get<double>());
        ++included;
      }
      ++checked;
    }
  }
  CHECK(checked == 2400);
  CHECK(included > 1000);
}

TEST_CASE("GrowthBook JS SDK: ill-formed UTF-8 hashes as TextDecoder's U+FFFD", "[sdk][hash]") {
  const Json& cases = SdkCases().at("invalid_utf8");
  REQUIRE(cases.size() >= 60);
  for (const Json& c : cases) {
    // [seed hex, value hex, UTF-16 units of TextDecoder(value), hash v1, hash v2]
    const std::string seed = FromHex(c.at(0).get<std::string>());
    const std::string value = FromHex(c.at(1).get<std::string>());
    INFO("seed=" << c.at(0).get<std::string>() << " value=" << c.at(1).get<std::string>());
    CHECK(Fnv1a32(value) == FnvOverUnits(c.at(2).get<std::vector<uint32_t>>()));
    CHECK(Hash(seed, value, 1) == c.at(3).get<double>());
    CHECK(Hash(seed, value, 2) == c.at(4).get<double>());
  }
}

}  // namespace
}  // namespace causeway::assign
