// Channel attribution (causal/attribution.h) against published worked examples, hand
// derivations, the Shapley axioms and brute-force enumeration, and the independent numpy
// absorbing-chain computation in tests/reference/causal/attribution_reference.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "causal/attribution.h"
#include "test_data.h"

namespace causeway::causal {
namespace {

struct Row {
  std::string path;
  double conversions, nulls;
  std::optional<double> value = std::nullopt;
};

PathTable Table(const std::vector<Row>& rows, std::string separator = ">") {
  PathTableBuilder b(std::move(separator));
  for (const Row& r : rows) {
    auto e = b.Add(r.path, r.conversions, r.nulls, r.value);
    INFO(r.path << ": " << (e ? e->message : ""));
    REQUIRE(!e);
  }
  return std::move(b).Finish();
}

AttributionSummary Run(const PathTable& t, std::vector<AttributionMethod> methods, int order = 1) {
  AttributionOptions o;
  o.methods = std::move(methods);
  o.markov_order = order;
  auto r = Attribute(t, o);
  INFO((r.ok() ? "" : r.error().message));
  REQUIRE(r.ok());
  return r.value();
}

// Credit of `channel` under the first method of `s`.
const ChannelCredit& Credit(const PathTable& t, const AttributionSummary& s,
                            const std::string& channel, size_t method = 0) {
  auto it = std::find(t.channels.begin(), t.channels.end(), channel);
  REQUIRE(it != t.channels.end());
  return s.methods[method].channels[static_cast<size_t>(it - t.channels.begin())];
}

// The Shapley value by its definition, enumerating all 2^n coalitions:
//   phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n! (v(S + i) - v(S)),
// with v(S) = payoff of the paths whose channel set lies within S.
std::vector<double> ShapleyByEnumeration(const PathTable& t, bool value) {
  const size_t n = t.channels.size();
  REQUIRE(n <= 16);
  std::vector<double> v(size_t{1} << n, 0.0);
  for (size_t p = 0; p < t.size(); ++p) {
    uint32_t mask = 0;
    for (size_t i = 0; i < t.length(p); ++i) mask |= 1u << t.begin(p)[i];
    const double payoff = value ? t.values[p] : t.conversions[p];
    // Add the path's payoff to every superset of its channel set.
    for (uint32_t s = 0; s < v.size(); ++s) {
      if ((s & mask) == mask) v[s] += payoff;
    }
  }
  std::vector<double> fact(n + 1, 1.0);
  for (size_t k = 1; k <= n; ++k) fact[k] = fact[k - 1] * static_cast<double>(k);
  std::vector<double> phi(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (uint32_t s = 0; s < v.size(); ++s) {
      if (s & (1u << i)) continue;
      const size_t k = static_cast<size_t>(__builtin_popcount(s));
      phi[i] += fact[k] * fact[n - k - 1] / fact[n] * (v[s | (1u << i)] - v[s]);
    }
  }
  return phi;
}

// Seeded random paths over `channels` channels named c0, c1, ...; lengths 1..max_len.
std::vector<Row> RandomRows(uint32_t seed, int channels, int rows, int max_len) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> len(1, max_len), ch(0, channels - 1), conv(0, 20), null(0, 50);
  std::uniform_real_distribution<double> price(5, 80);
  std::vector<Row> out;
  for (int r = 0; r < rows; ++r) {
    std::string path;
    const int l = len(rng);
    for (int i = 0; i < l; ++i) path += (i ? " > c" : "c") + std::to_string(ch(rng));
    double c = conv(rng), nu = null(rng);
    if (c + nu == 0) nu = 1;
    out.push_back({path, c, nu, c * price(rng)});
  }
  return out;
}

using M = AttributionMethod;

// ---- worked examples ----------------------------------------------------------------------

// "Data-driven marketing attribution" (towardsdatascience.com/data-driven-marketing-
// attribution-1a28d2e613a0; its notebook: github.com/tomgorb/misc, "Data Driven
// Attribution.ipynb"): 100 conversions by channel set F 20, O 10, L 17, F+O 17, F+L 30,
// L+O 0, F+L+O 6; with v(S) = conversions of the sets within S its Shapley values are
// F 0.455, O 0.205, L 0.34 of the total.
TEST_CASE("Shapley reproduces the Facebook / Organic / LinkedIn worked example",
          "[causal][attribution]") {
  const PathTable t = Table({{"F", 20, 0},
                             {"O", 10, 0},
                             {"L", 17, 0},
                             {"O > F", 17, 0},
                             {"L > F", 30, 0},
                             {"O > L", 0, 4},
                             {"F > O > L", 6, 0}});
  const auto s = Run(t, {M::kShapley});
  CHECK(Credit(t, s, "F").conversions == Approx(45.5).epsilon(1e-12));
  CHECK(Credit(t, s, "O").conversions == Approx(20.5).epsilon(1e-12));
  CHECK(Credit(t, s, "L").conversions == Approx(34.0).epsilon(1e-12));
}

// Serhii Puzyrov, "Markov chain attribution - simple explanation of removal effect" (2019,
// serhiipuzyrov.com/2019/07/markov-chain-attribution-simple-explanation-of-removal-effect):
// google ads 2 conversions, mailing 1, google ads > mailing 1, google ads 0 (one journey
// that did not convert). Its transition table: start->google 4/5, start->mailing 1/5,
// google->conv 1/2, google->mailing 1/4, google->null 1/4, mailing->conv 1. Then
//   P(conv)            = 0.8 (0.5 + 0.25) + 0.2 = 0.8
//   without google ads = 0.2          removal effect 1 - 0.2/0.8 = 0.75
//   without mailing    = 0.8 * 0.5    removal effect 1 - 0.4/0.8 = 0.5
// and the 4 conversions split 4 * 0.75/1.25 = 2.4 and 4 * 0.5/1.25 = 1.6. The same path
// on two rows (2 conversions; 1 null) adds up, as the blog's grouped table does.
TEST_CASE("Markov reproduces the google ads / mailing removal-effect example",
          "[causal][attribution]") {
  const PathTable t = Table({{"google ads", 2, 0},
                             {"mailing", 1, 0},
                             {"google ads > mailing", 1, 0},
                             {"google ads", 0, 1}});
  CHECK(t.rows == 4);
  CHECK(t.size() == 3);
  const auto s = Run(t, {M::kMarkov});
  const auto& chain = *s.methods[0].markov;
  CHECK(chain.conversion_probability == Approx(0.8).epsilon(1e-12));
  CHECK(Credit(t, s, "google ads").removal_effect == Approx(0.75).epsilon(1e-12));
  CHECK(Credit(t, s, "mailing").removal_effect == Approx(0.5).epsilon(1e-12));
  CHECK(Credit(t, s, "google ads").conversions == Approx(2.4).epsilon(1e-12));
  CHECK(Credit(t, s, "mailing").conversions == Approx(1.6).epsilon(1e-12));
  // The transition table of the blog.
  std::map<std::pair<std::string, std::string>, double> p;
  for (const auto& tr : chain.transitions)
    p[{chain.states[tr.from], chain.states[tr.to]}] = tr.probability;
  CHECK(p.size() == 6);
  CHECK(p[{"(start)", "google ads"}] == Approx(0.8));
  CHECK(p[{"(start)", "mailing"}] == Approx(0.2));
  CHECK(p[{"google ads", "(conversion)"}] == Approx(0.5));
  CHECK(p[{"google ads", "mailing"}] == Approx(0.25));
  CHECK(p[{"google ads", "(null)"}] == Approx(0.25));
  CHECK(p[{"mailing", "(conversion)"}] == Approx(1.0));
}

// Sergey Bryl', "Marketing multi-channel attribution model with R (part 1: Markov chains
// concept)", analyzecore.com/2016/08/03/attribution-model-r-part-1: journeys
// C1 > C2 > C3 (converted), C1 (not), C2 > C3 (not). P(conv) = 2/3 * 1/2 * 1 * 1/2 +
// 1/3 * 1 * 1/2 = 1/3; without C1 it is 1/6 (removal effect 0.5), without C2 or C3 it is
// 0 (removal effect 1); the one conversion splits 0.2, 0.4, 0.4.
TEST_CASE("Markov reproduces the C1 / C2 / C3 removal-effect example", "[causal][attribution]") {
  const PathTable t = Table({{"C1 > C2 > C3", 1, 0}, {"C1", 0, 1}, {"C2 > C3", 0, 1}});
  const auto s = Run(t, {M::kMarkov});
  CHECK(s.methods[0].markov->conversion_probability == Approx(1.0 / 3).epsilon(1e-12));
  CHECK(Credit(t, s, "C1").removal_effect == Approx(0.5).epsilon(1e-12));
  CHECK(Credit(t, s, "C2").removal_effect == Approx(1.0).epsilon(1e-12));
  CHECK(Credit(t, s, "C3").removal_effect == Approx(1.0).epsilon(1e-12));
  CHECK(Credit(t, s, "C1").conversions == Approx(0.2).epsilon(1e-12));
  CHECK(Credit(t, s, "C2").conversions == Approx(0.4).epsilon(1e-12));
  CHECK(Credit(t, s, "C3").conversions == Approx(0.4).epsilon(1e-12));
}

// ---- a chain derived by hand: a cycle, a repeat, values ------------------------------------
//
// Paths: a > b > a (1 conversion worth 10, 1 null); b (1 conversion worth 30, 2 nulls);
// a > a > c (2 conversions worth 8; the repeat a > a is merged: a > c).
// Counts: start->a 4, start->b 3; a->b 2, a->c 2, a->conv 1, a->null 1 (out 6);
// b->a 2, b->conv 1, b->null 2 (out 5); c->conv 2 (out 2).
// Absorption x(s) = P(conv | s): x_c = 1, x_a = x_b/3 + x_c/3 + 1/6, x_b = 2 x_a/5 + 1/5,
// so x_a = 17/26, x_b = 6/13 and P = 4/7 x_a + 3/7 x_b = 4/7.
//   without a: x_b = 1/5, P = 3/35, RE_a = 1 - (3/35)/(4/7) = 17/20;
//   without b: x_a = 1/2, P = 2/7, RE_b = 1/2;
//   without c: x_a = 7/26, x_b = 4/13, P = 2/7, RE_c = 1/2.
// Conversions 4 * RE / (37/20): a 68/37, b 40/37, c 40/37.
// Value: reward on s->conv is value_end(s)/out(s): a 10/6, b 30/5, c 8/2. Expected value
// y: y_c = 4, y_a = y_b/3 + 4/3 + 5/3, y_b = 2 y_a/5 + 6 -> y_a = 75/13, y_b = 108/13,
// E = 4/7 y_a + 3/7 y_b = 48/7. Without a: y_b = 6, E = 18/7, REv_a = 5/8; without b:
// y_a = 3, E = 12/7, REv_b = 3/4; without c: y_a = 55/13, y_b = 100/13, E = 40/7,
// REv_c = 1/6. Value 48 * REv / (37/24): a 720/37, b 864/37, c 192/37.
TEST_CASE("Markov removal effects match a chain solved by hand", "[causal][attribution]") {
  const PathTable t = Table({{"a > b > a", 1, 1, 10}, {"b", 1, 2, 30}, {"a > a > c", 2, 0, 8}});
  const auto s = Run(t, {M::kMarkov});
  const auto& chain = *s.methods[0].markov;
  CHECK(chain.conversion_probability == Approx(4.0 / 7).epsilon(1e-12));
  CHECK(chain.expected_value == Approx(48.0 / 7).epsilon(1e-12));
  struct Expect {
    const char* channel;
    double without, re, conversions, re_value, value;
  };
  for (const Expect& e : {Expect{"a", 3.0 / 35, 17.0 / 20, 68.0 / 37, 5.0 / 8, 720.0 / 37},
                          Expect{"b", 2.0 / 7, 0.5, 40.0 / 37, 3.0 / 4, 864.0 / 37},
                          Expect{"c", 2.0 / 7, 0.5, 40.0 / 37, 1.0 / 6, 192.0 / 37}}) {
    INFO(e.channel);
    const auto& c = Credit(t, s, e.channel);
    CHECK(c.conversion_probability_without == Approx(e.without).epsilon(1e-12));
    CHECK(c.removal_effect == Approx(e.re).epsilon(1e-12));
    CHECK(c.conversions == Approx(e.conversions).epsilon(1e-12));
    CHECK(c.removal_effect_value == Approx(e.re_value).epsilon(1e-12));
    CHECK(c.value == Approx(e.value).epsilon(1e-12));
  }
  // No self-loop a -> a: the repeat was merged.
  for (const auto& tr : chain.transitions) CHECK(tr.from != tr.to);
}

// Second order by hand: states are consecutive pairs. Paths x > y > z (1 conversion),
// y > z (1 null), x > y (1 null). A path no longer than k is one state, so the paths
// y > z and x > y are the same states as the pairs in x > y > z. Counts: start->(x>y) 2,
// start->(y>z) 1; (x>y)->(y>z) 1, (x>y)->null 1; (y>z)->conv 1, (y>z)->null 1. P = 2/3 * 1/2 * 1/2
// + 1/3 * 1/2 = 1/3. Removing x drops (x>y): P = 1/6, RE_x = 1/2; removing y or z drops (y>z): P =
// 0, RE 1.
TEST_CASE("Second-order Markov chain on pairs of channels", "[causal][attribution]") {
  const PathTable t = Table({{"x > y > z", 1, 0}, {"y > z", 0, 1}, {"x > y", 0, 1}});
  const auto s = Run(t, {M::kMarkov}, 2);
  const auto& chain = *s.methods[0].markov;
  CHECK(chain.states.size() == 5);  // (start), x > y, y > z, (conversion), (null)
  CHECK(chain.conversion_probability == Approx(1.0 / 3).epsilon(1e-12));
  CHECK(Credit(t, s, "x").removal_effect == Approx(0.5).epsilon(1e-12));
  CHECK(Credit(t, s, "y").removal_effect == Approx(1.0).epsilon(1e-12));
  CHECK(Credit(t, s, "z").removal_effect == Approx(1.0).epsilon(1e-12));
  CHECK(Credit(t, s, "x").conversions == Approx(0.2).epsilon(1e-12));
}

// ---- heuristics as ChannelAttribution defines them ----------------------------------------

TEST_CASE("first, last and linear touch follow ChannelAttribution's heuristic_models",
          "[causal][attribution]") {
  // linear counts every touch: in "a > b > a" a gets 2/3 of the conversions.
  const PathTable t = Table({{"a > b > a", 3, 1, 30}, {" b>c ", 2, 0, 10}, {"c", 0, 5, 0}});
  const auto s = Run(t, {M::kFirstTouch, M::kLastTouch, M::kLinear});
  CHECK(Credit(t, s, "a", 0).conversions == 3);
  CHECK(Credit(t, s, "b", 0).conversions == 2);
  CHECK(Credit(t, s, "c", 0).conversions == 0);
  CHECK(Credit(t, s, "a", 1).conversions == 3);
  CHECK(Credit(t, s, "c", 1).conversions == 2);
  CHECK(Credit(t, s, "c", 1).value == 10);
  CHECK(Credit(t, s, "a", 2).conversions == Approx(2.0));
  CHECK(Credit(t, s, "b", 2).conversions == Approx(2.0));
  CHECK(Credit(t, s, "c", 2).conversions == Approx(1.0));
  CHECK(Credit(t, s, "a", 2).value == Approx(20.0));
  CHECK(t.channels == std::vector<std::string>{"a", "b", "c"});  // spaces trimmed
}

// ---- Shapley: closed form against enumeration, and the axioms ------------------------------

TEST_CASE("the closed-form Shapley value equals the enumeration over all coalitions",
          "[causal][attribution]") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const int n = 2 + static_cast<int>(seed % 8);  // 2..9 channels
    const PathTable t = Table(RandomRows(seed, n, 40, 5));
    const auto s = Run(t, {M::kShapley, M::kShapleyOrdered});
    const auto phi = ShapleyByEnumeration(t, false), phi_value = ShapleyByEnumeration(t, true);
    for (size_t c = 0; c < t.channels.size(); ++c) {
      INFO("seed " << seed << " channel " << t.channels[c]);
      CHECK(s.methods[0].channels[c].conversions == Approx(phi[c]).epsilon(1e-12).margin(1e-12));
      CHECK(s.methods[0].channels[c].value == Approx(phi_value[c]).epsilon(1e-12).margin(1e-9));
      // The ordered split sums back to the Shapley value.
      const auto& by = s.methods[1].channels[c].by_touchpoint;
      double sum = 0;
      for (double x : by) sum += x;
      CHECK(sum == Approx(phi[c]).epsilon(1e-12).margin(1e-12));
    }
  }
}

TEST_CASE("Shapley axioms on seeded random path sets: efficiency, symmetry, null player",
          "[causal][attribution]") {
  for (uint32_t seed = 100; seed < 110; ++seed) {
    INFO("seed " << seed);
    std::vector<Row> rows = RandomRows(seed, 6, 60, 6);
    // Null player: "z" only on paths that never convert, so v(S + z) = v(S) for every S.
    rows.push_back({"z > c1", 0, 7, 0});
    rows.push_back({"c2 > z", 0, 3, 0});
    // Symmetry: "s" and "t" interchangeable: every path with one has its mirror.
    rows.push_back({"s > c0", 4, 2, 40});
    rows.push_back({"t > c0", 4, 2, 40});
    rows.push_back({"c3 > s > t", 5, 1, 25});
    rows.push_back({"c3 > t > s", 5, 1, 25});
    const PathTable t = Table(rows);
    const auto s = Run(t, {M::kShapley});
    const auto phi = ShapleyByEnumeration(t, false);
    double sum = 0, sum_value = 0, total = 0, total_value = 0;
    for (size_t c = 0; c < t.channels.size(); ++c) {
      sum += s.methods[0].channels[c].conversions;
      sum_value += s.methods[0].channels[c].value;
    }
    for (size_t p = 0; p < t.size(); ++p) {
      total += t.conversions[p];
      total_value += t.values[p];
    }
    CHECK(sum == Approx(total).epsilon(1e-12));  // efficiency
    CHECK(sum_value == Approx(total_value).epsilon(1e-12));
    CHECK(Credit(t, s, "z").conversions == 0);                                      // null player
    CHECK(Credit(t, s, "s").conversions == Approx(Credit(t, s, "t").conversions));  // symmetry
    CHECK(Credit(t, s, "s").value == Approx(Credit(t, s, "t").value));
    // The enumeration agrees that z is null and s, t symmetric.
    const size_t z = static_cast<size_t>(std::find(t.channels.begin(), t.channels.end(), "z") -
                                         t.channels.begin());
    CHECK(std::fabs(phi[z]) < 1e-12);
  }
}

TEST_CASE("every method's credits sum to the totals (seeded paths, orders 1 to 3)",
          "[causal][attribution]") {
  for (uint32_t seed = 7; seed < 12; ++seed) {
    const PathTable t = Table(RandomRows(seed, 8, 300, 7));
    for (int order = 1; order <= 3; ++order) {
      const auto s = Run(
          t,
          {M::kFirstTouch, M::kLastTouch, M::kLinear, M::kShapley, M::kShapleyOrdered, M::kMarkov},
          order);
      for (const auto& m : s.methods) {
        INFO(AttributionMethodName(m.method) << " order " << order << " seed " << seed);
        double c = 0, v = 0;
        for (const auto& credit : m.channels) {
          c += credit.conversions;
          v += credit.value;
          CHECK(credit.conversions >= 0);
        }
        CHECK(c == Approx(s.total_conversions).epsilon(1e-10));
        CHECK(v == Approx(s.total_value).epsilon(1e-10));
      }
      const auto& chain = *s.methods.back().markov;
      // Rows of the transition matrix sum to 1.
      std::vector<double> row(chain.states.size(), 0.0);
      for (const auto& tr : chain.transitions) row[tr.from] += tr.probability;
      for (size_t st = 0; st + 2 < chain.states.size(); ++st) CHECK(row[st] == Approx(1.0));
    }
  }
}

// ---- independent reference: numpy fundamental matrix ---------------------------------------

TEST_CASE("Markov and Shapley match the numpy reference (attribution_reference.py)",
          "[causal][attribution]") {
  const auto ref = testing::ReadReference("attribution_reference.txt");
  const auto csv = testing::ReadCsv(testing::ReferenceDir() + "attribution_paths.csv");
  for (const std::string set : {"small", "cycles"}) {
    std::vector<Row> rows;
    for (size_t i = 0; i < csv.at("set").size(); ++i) {
      if (csv.at("set")[i] != set) continue;
      rows.push_back({csv.at("path")[i], std::stod(csv.at("total_conversions")[i]),
                      std::stod(csv.at("total_null")[i]),
                      std::stod(csv.at("total_conversion_value")[i])});
    }
    REQUIRE(!rows.empty());
    const PathTable t = Table(rows);
    for (int order = 1; order <= 2; ++order) {
      const auto s = Run(t, {M::kMarkov, M::kShapley}, order);
      const std::string k = set + ".order" + std::to_string(order) + ".";
      INFO(k);
      // Tolerance: both sides solve the same linear systems in double precision
      // (LU here, numpy.linalg.inv there); 1e-9 relative leaves room for conditioning.
      CHECK(s.methods[0].markov->conversion_probability ==
            Approx(ref.at(k + "p_conversion")).epsilon(1e-9));
      CHECK(s.methods[0].markov->expected_value ==
            Approx(ref.at(k + "expected_value")).epsilon(1e-9));
      for (size_t c = 0; c < t.channels.size(); ++c) {
        const std::string ck = k + t.channels[c] + ".";
        INFO(ck);
        const auto& credit = s.methods[0].channels[c];
        CHECK(credit.removal_effect ==
              Approx(ref.at(ck + "removal_effect")).epsilon(1e-9).margin(1e-12));
        CHECK(credit.conversions ==
              Approx(ref.at(ck + "markov_conversions")).epsilon(1e-9).margin(1e-12));
        CHECK(credit.value == Approx(ref.at(ck + "markov_value")).epsilon(1e-9).margin(1e-9));
        CHECK(s.methods[1].channels[c].conversions ==
              Approx(ref.at(set + ".shapley." + t.channels[c])).epsilon(1e-9).margin(1e-12));
      }
    }
  }
}

// ---- input errors -------------------------------------------------------------------------

TEST_CASE("bad rows are refused naming the column", "[causal][attribution]") {
  struct Case {
    Row row;
    const char* field;
  };
  for (const Case& c :
       {Case{{"a >  > b", 1, 0}, "path"}, Case{{"a >", 1, 0}, "path"}, Case{{"> a", 1, 0}, "path"},
        Case{{"  ", 1, 0}, "path"}, Case{{"a", -1, 0}, "total_conversions"},
        Case{{"a", 1, -2}, "total_null"}, Case{{"a", NAN, 0}, "total_conversions"},
        Case{{"a", 0, 0}, ""}, Case{{"a", 0, 1, 5.0}, "total_conversion_value"},
        Case{{"a", 1, 1, -5.0}, "total_conversion_value"}}) {
    INFO(c.row.path);
    PathTableBuilder b;
    auto e = b.Add(c.row.path, c.row.conversions, c.row.nulls, c.row.value);
    REQUIRE(e);
    CHECK(e->field == c.field);
  }
  PathTableBuilder b;
  REQUIRE(!b.Add("a", 1, 0, 3.0));
  auto e = b.Add("b", 1, 0, std::nullopt);
  REQUIRE(e);
  CHECK(e->field == "total_conversion_value");
}

TEST_CASE("no conversions is insufficient data; bad options are refused", "[causal][attribution]") {
  const PathTable none = Table({{"a", 0, 3}});
  AttributionOptions o;
  auto r = Attribute(none, o);
  REQUIRE(!r.ok());
  CHECK(r.error().kind == ErrorKind::kInsufficientData);
  const PathTable t = Table({{"a", 1, 3}});
  o.markov_order = 9;
  CHECK(!Attribute(t, o).ok());
  o.markov_order = 1;
  o.methods = {M::kShapley, M::kShapley};
  CHECK(!Attribute(t, o).ok());
}

}  // namespace
}  // namespace causeway::causal
