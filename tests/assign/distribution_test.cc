// Statistical properties of assignment over synthetic populations:
//  - uniformity: variant counts match weights x coverage (Pearson chi-square),
//  - independence: two experiments with different seeds split users
//    independently (2x2 contingency chi-square), also within a namespace,
//  - namespace exclusivity: disjoint ranges of one namespace never share a user.
//
// Threshold: every chi-square statistic must stay below the 0.999 quantile of
// its chi-square distribution (a 0.1% false-alarm rate for an ideal hash):
//   df=1: 10.828, df=2: 13.816, df=3: 16.266
// (NIST/SEMATECH e-Handbook, table 1.3.6.7.4). The populations are
// deterministic, so each check passes or fails reproducibly.
#include <catch2/catch.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "assign/engine.h"

namespace causeway::assign {
namespace {

constexpr double kChiSquare999[] = {0, 10.828, 13.816, 16.266};
constexpr int kUsers = 1000000;

// Synthetic user ids: even i -> "user-<i>" (sequential database ids), odd i ->
// a random-looking UUID (client-generated ids). Written into `buf`, no allocation.
std::string_view SyntheticUser(uint64_t i, std::array<char, 48>* buf) {
  char* p = buf->data();
  if (i % 2 == 0) {
    const std::string_view prefix = "user-";
    p = std::copy(prefix.begin(), prefix.end(), p);
    p = std::to_chars(p, buf->data() + buf->size(), i / 2).ptr;
    return std::string_view(buf->data(), static_cast<size_t>(p - buf->data()));
  }
  // splitmix64 (Steele, Lea, Flood 2014) for 128 random bits.
  auto next = [state = i * 0x9E3779B97F4A7C15ull]() mutable {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  const uint64_t hi = next();
  const uint64_t lo = next();
  static constexpr char kHex[] = "0123456789abcdef";
  for (int k = 0; k < 32; ++k) {
    if (k == 8 || k == 12 || k == 16 || k == 20) *p++ = '-';
    const uint64_t word = k < 16 ? hi : lo;
    *p++ = kHex[(word >> (4 * (15 - (k % 16)))) & 0xF];
  }
  return std::string_view(buf->data(), static_cast<size_t>(p - buf->data()));
}

ExperimentSpec Spec(const std::string& key, std::vector<double> weights, double coverage) {
  ExperimentSpec spec;
  spec.key = key;
  spec.seed = key;
  for (size_t i = 0; i < weights.size(); ++i) {
    spec.variants.push_back({"v" + std::to_string(i), weights[i]});
  }
  spec.coverage = coverage;
  spec.status = ExperimentStatus::kRunning;
  return spec;
}

// Pearson chi-square of observed counts against expected probabilities.
double ChiSquare(const std::vector<long>& observed, const std::vector<double>& p, long n) {
  double stat = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double e = p[i] * static_cast<double>(n);
    stat += (observed[i] - e) * (observed[i] - e) / e;
  }
  return stat;
}

// Chi-square of independence for a 2x2 table.
double ChiSquare2x2(const long t[2][2]) {
  const double n = static_cast<double>(t[0][0] + t[0][1] + t[1][0] + t[1][1]);
  double stat = 0;
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) {
      const double e =
          static_cast<double>(t[r][0] + t[r][1]) * static_cast<double>(t[0][c] + t[1][c]) / n;
      stat += (t[r][c] - e) * (t[r][c] - e) / e;
    }
  }
  return stat;
}

TEST_CASE("Synthetic user ids are distinct and well formed", "[distribution]") {
  std::array<char, 48> a{};
  std::array<char, 48> b{};
  CHECK(SyntheticUser(4, &a) == "user-2");
  const std::string_view uuid = SyntheticUser(7, &a);
  CHECK(uuid.size() == 36);
  CHECK(uuid[8] == '-');
  CHECK(SyntheticUser(9, &b) != uuid);
}

TEST_CASE("Variant counts match weights and coverage over 1M users", "[distribution][slow]") {
  struct Split {
    const char* name;
    std::vector<double> weights;
    double coverage;
    int hash_version;
  };
  const Split splits[] = {
      {"50/50", {0.5, 0.5}, 1.0, 2},
      {"10/90", {0.1, 0.9}, 1.0, 2},
      {"20/30/50", {0.2, 0.3, 0.5}, 1.0, 2},
      {"50/50 at coverage 0.5", {0.5, 0.5}, 0.5, 2},
      {"20/30/50 at coverage 0.5, hash v1", {0.2, 0.3, 0.5}, 0.5, 1},
  };
  std::array<char, 48> buf{};
  for (const Split& split : splits) {
    ExperimentSpec spec =
        Spec(std::string("uniformity-") + split.name, split.weights, split.coverage);
    spec.hash_version = split.hash_version;
    const CompiledExperiment e = CompileExperiment(spec);
    // Categories: each variant, then "not assigned" when coverage < 1.
    const size_t k = split.weights.size();
    std::vector<long> counts(k + 1, 0);
    for (int i = 0; i < kUsers; ++i) {
      const Assignment a = Assign(e, SyntheticUser(static_cast<uint64_t>(i), &buf), nullptr);
      counts[a.variant_index < 0 ? k : static_cast<size_t>(a.variant_index)]++;
    }
    std::vector<double> p;
    for (double w : split.weights) p.push_back(w * split.coverage);
    if (split.coverage < 1.0) {
      p.push_back(1.0 - split.coverage);
    } else {
      REQUIRE(counts[k] == 0);
      counts.pop_back();
    }
    const double stat = ChiSquare(counts, p, kUsers);
    const size_t df = p.size() - 1;
    INFO(split.name << ": chi-square " << stat << " with " << df << " df");
    CHECK(stat < kChiSquare999[df]);
  }
}

TEST_CASE("A weight the v1 hash grid cannot represent is detected by the chi-square",
          "[distribution][slow]") {
  // Sanity check that the uniformity test has power: hash v1 buckets on a grid
  // of 1/1000, so a 0.0005/0.9995 split is really 0/1 (or 0.001/0.999); the
  // statistic against the nominal weights must be huge.
  ExperimentSpec spec = Spec("power", {0.0005, 0.9995}, 1.0);
  spec.hash_version = 1;
  const CompiledExperiment e = CompileExperiment(spec);
  std::array<char, 48> buf{};
  std::vector<long> counts(2, 0);
  for (int i = 0; i < kUsers; ++i) {
    counts[static_cast<size_t>(
        Assign(e, SyntheticUser(static_cast<uint64_t>(i), &buf), nullptr).variant_index)]++;
  }
  CHECK(ChiSquare(counts, {0.0005, 0.9995}, kUsers) > kChiSquare999[1]);
}

TEST_CASE("Experiments with different seeds assign independently", "[distribution][slow]") {
  const CompiledExperiment a = CompileExperiment(Spec("checkout-button-color", {0.5, 0.5}, 1.0));
  const CompiledExperiment b = CompileExperiment(Spec("pricing-page-copy", {0.5, 0.5}, 1.0));
  std::array<char, 48> buf{};
  long table[2][2] = {{0, 0}, {0, 0}};
  for (int i = 0; i < kUsers; ++i) {
    const std::string_view u = SyntheticUser(static_cast<uint64_t>(i), &buf);
    table[Assign(a, u, nullptr).variant_index][Assign(b, u, nullptr).variant_index]++;
  }
  const double stat = ChiSquare2x2(table);
  INFO("2x2: " << table[0][0] << " " << table[0][1] << " / " << table[1][0] << " " << table[1][1]
               << ", chi-square " << stat);
  CHECK(stat < kChiSquare999[1]);

  // The statistic does detect dependence: the same seed under two keys gives
  // identical assignments.
  ExperimentSpec clone = Spec("clone", {0.5, 0.5}, 1.0);
  clone.seed = "checkout-button-color";
  const CompiledExperiment c = CompileExperiment(clone);
  long same[2][2] = {{0, 0}, {0, 0}};
  for (int i = 0; i < 10000; ++i) {
    const std::string_view u = SyntheticUser(static_cast<uint64_t>(i), &buf);
    same[Assign(a, u, nullptr).variant_index][Assign(c, u, nullptr).variant_index]++;
  }
  CHECK(same[0][1] == 0);
  CHECK(same[1][0] == 0);
  CHECK(ChiSquare2x2(same) > 1000);
}

TEST_CASE("Namespace membership is independent of the variant hash", "[distribution][slow]") {
  ExperimentSpec spec = Spec("in-namespace", {0.5, 0.5}, 1.0);
  spec.ns = NamespaceSpec{"homepage", 0.0, 0.5};
  const CompiledExperiment e = CompileExperiment(spec);
  std::array<char, 48> buf{};
  std::vector<long> counts(3, 0);  // v0, v1, outside the namespace
  long other_reasons = 0;
  for (int i = 0; i < kUsers; ++i) {
    const Assignment a = Assign(e, SyntheticUser(static_cast<uint64_t>(i), &buf), nullptr);
    if (a.reason == AssignReason::kNotInNamespace) {
      counts[2]++;
    } else if (a.reason == AssignReason::kHashed) {
      counts[static_cast<size_t>(a.variant_index)]++;
    } else {
      ++other_reasons;
    }
  }
  CHECK(other_reasons == 0);
  const double stat = ChiSquare(counts, {0.25, 0.25, 0.5}, kUsers);
  INFO("counts " << counts[0] << " " << counts[1] << " " << counts[2] << ", chi-square " << stat);
  CHECK(stat < kChiSquare999[2]);
}

TEST_CASE("Experiments in disjoint ranges of one namespace never share a user", "[distribution]") {
  ExperimentSpec left = Spec("left", {0.5, 0.5}, 1.0);
  left.ns = NamespaceSpec{"checkout", 0.0, 0.4};
  ExperimentSpec right = Spec("right", {0.5, 0.5}, 1.0);
  right.ns = NamespaceSpec{"checkout", 0.4, 1.0};
  const Snapshot snapshot({left, right});
  const CompiledExperiment& l = *snapshot.Find("left");
  const CompiledExperiment& r = *snapshot.Find("right");
  std::array<char, 48> buf{};
  long in_left = 0;
  long in_right = 0;
  long in_both = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    const std::string_view u = SyntheticUser(static_cast<uint64_t>(i), &buf);
    const bool a = Assign(l, u, nullptr).in_experiment;
    const bool b = Assign(r, u, nullptr).in_experiment;
    in_left += a;
    in_right += b;
    in_both += a && b;
  }
  CHECK(in_both == 0);
  CHECK(in_left + in_right == kN);  // the ranges cover [0, 1)
  CHECK(in_left == Approx(0.4 * kN).epsilon(0.02));
  CHECK(in_right == Approx(0.6 * kN).epsilon(0.02));
}

}  // namespace
}  // namespace causeway::assign
