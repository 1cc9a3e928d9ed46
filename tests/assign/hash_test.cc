// Hashing and bucketing against an independent Python implementation
// (tests/reference/assign/gen_hash_vectors.py -> hash_vectors.json) and basic
// properties. GrowthBook's own cases run in conformance_test.cc.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

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

// FNV-1a 32 straight from its definition over UTF-16 code units, as
// GrowthBook's hashFnv32a runs over str.charCodeAt(i).
uint32_t FnvOverUnits(std::u16string_view units) {
  uint32_t h = 0x811c9dc5u;
  for (char16_t u : units) h = (h ^ u) * 0x01000193u;
  return h;
}

// The UTF-8 and UTF-16 forms of a Unicode scalar value (RFC 3629, RFC 2781).
std::string Utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xc0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xe0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (c & 0x3f));
  }
  return s;
}

std::u16string Utf16(char32_t c) {
  if (c < 0x10000) return std::u16string(1, static_cast<char16_t>(c));
  const char32_t v = c - 0x10000;
  return {static_cast<char16_t>(0xd800 + (v >> 10)), static_cast<char16_t>(0xdc00 + (v & 0x3ff))};
}

TEST_CASE("Fnv1a32 hashes the UTF-16 code units of every code point", "[hash][utf16]") {
  // Exhaustive over U+0000..U+10FFFF without the surrogates, alone and between
  // ASCII neighbours (the ASCII loop hands over to the decoder mid-string).
  for (char32_t c = 0; c <= 0x10ffff; ++c) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    if (Fnv1a32(Utf8(c)) != FnvOverUnits(Utf16(c))) FAIL("U+" << std::hex << uint32_t{c});
    if (c % 97 != 0) continue;
    const std::string mixed = "id-" + Utf8(c) + "-" + Utf8(c) + "z";
    const std::u16string units = u"id-" + Utf16(c) + u"-" + Utf16(c) + u"z";
    if (Fnv1a32(mixed) != FnvOverUnits(units)) FAIL("mixed U+" << std::hex << uint32_t{c});
  }
}

TEST_CASE("Fnv1a32 decodes 2-, 3- and 4-byte UTF-8 and ill-formed bytes like TextDecoder",
          "[hash][utf16]") {
  struct Case {
    std::string_view utf8;
    std::u16string_view units;
  };
  using namespace std::string_view_literals;
  const Case cases[] = {
      {"A"sv, u"A"},
      {"a\0b"sv, u"a\0b"sv},                              // NUL is a unit like any other
      {"\xc2\x80"sv, u"\u0080"},                          // smallest 2-byte
      {"\xc3\xa9"sv, u"\u00e9"},                          // é
      {"\xdf\xbf"sv, u"\u07ff"},                          // largest 2-byte
      {"\xe0\xa0\x80"sv, u"\u0800"},                      // smallest 3-byte
      {"\xe7\x94\xa8\xe6\x88\xb7"sv, u"\u7528\u6237"},    // 用户
      {"\xed\x9f\xbf"sv, u"\ud7ff"},                      // just below the surrogates
      {"\xee\x80\x80"sv, u"\ue000"},                      // just above them
      {"\xef\xbb\xbfz"sv, u"\ufeffz"},                    // a leading BOM is kept
      {"\xef\xbf\xbf"sv, u"\uffff"},                      // largest 3-byte
      {"\xf0\x90\x80\x80"sv, u"\xd800\xdc00"},            // U+10000: a surrogate pair
      {"\xf0\x9f\x98\x80-user"sv, u"\xd83d\xde00-user"},  // 😀
      {"\xf4\x8f\xbf\xbf"sv, u"\xdbff\xdfff"},            // U+10FFFF
      // Ill-formed: each maximal ill-formed subsequence is one U+FFFD, and the
      // byte that ended it starts the next sequence (WHATWG Encoding, UTF-8 decoder).
      {"\x80"sv, u"\ufffd"},  // continuation byte without a lead
      {"\xbf\xbf"sv, u"\ufffd\ufffd"},
      {"\xc0\x80"sv, u"\ufffd\ufffd"},  // overlong NUL: C0 never starts a sequence
      {"\xc1\xbf"sv, u"\ufffd\ufffd"},
      {"\xc2"sv, u"\ufffd"},      // truncated at the end
      {"\xc2Z"sv, u"\ufffdZ"},    // truncated by ASCII, which is kept
      {"\xe7\x94"sv, u"\ufffd"},  // truncated 3-byte: one U+FFFD, not two
      {"\xe7\x94Z"sv, u"\ufffdZ"},
      {"\xe0\x80\x80"sv, u"\ufffd\ufffd\ufffd"},  // overlong 3-byte
      {"\xe0\x9f\xbf"sv, u"\ufffd\ufffd\ufffd"},
      {"\xed\xa0\x80"sv, u"\ufffd\ufffd\ufffd"},  // encoded surrogate U+D800
      {"\xed\xa0\xbd\xed\xb8\x80"sv, u"\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"},  // CESU-8 😀
      {"\xf0\x9f\x98"sv, u"\ufffd"},                                            // truncated 4-byte
      {"\xf0\x9f\x98Z"sv, u"\ufffdZ"},
      {"\xf0\x8f\xbf\xbf"sv, u"\ufffd\ufffd\ufffd\ufffd"},  // overlong 4-byte
      {"\xf4\x90\x80\x80"sv, u"\ufffd\ufffd\ufffd\ufffd"},  // above U+10FFFF
      {"\xf5\x80\x80\x80"sv, u"\ufffd\ufffd\ufffd\ufffd"},
      {"\xfe\xff"sv, u"\ufffd\ufffd"},
      // Unicode 15.0 Table 3-8 (U+FFFD substitution of maximal subparts).
      {"\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41"sv, u"\ufffd\ufffd\ufffd\ufffd\x41"},
  };
  for (const Case& c : cases) {
    INFO("utf8 bytes: " << c.utf8.size() << ", units: " << c.units.size());
    CHECK(Fnv1a32(c.utf8) == FnvOverUnits(c.units));
  }
}

TEST_CASE("Fnv1a32Extend decodes each piece on its own, as JS concatenates strings",
          "[hash][utf16]") {
  CHECK(Fnv1a32Extend(Fnv1a32("\xe7\x94\xa8"), "\xe6\x88\xb7") ==
        Fnv1a32("\xe7\x94\xa8\xe6\x88\xb7"));
  CHECK(Fnv1a32Extend(Fnv1a32("user-"), "\xf0\x9f\x98\x80") == Fnv1a32("user-\xf0\x9f\x98\x80"));
  // A sequence split between the pieces is two ill-formed pieces, not one character.
  CHECK(Fnv1a32Extend(Fnv1a32("\xe7\x94"), "\xa8") == FnvOverUnits(u"\ufffd\ufffd"));
  CHECK(Fnv1a32("\xe7\x94\xa8") == FnvOverUnits(u"\u7528"));
  // Hash() joins seed and value the same way.
  CHECK(Hash("\xe7\x94", "\xa8", 1) == Hash("\xef\xbf\xbd", "\xef\xbf\xbd", 1));
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

TEST_CASE("Hash does not allocate, even for long or non-ASCII inputs", "[hash]") {
  if (!testing::AllocationCountingEnabled()) {
    WARN("allocation counting is off in sanitizer builds");
    return;
  }
  const std::string seed(200, 's');
  const std::string value(300, 'v');
  std::string unicode_value =
      "\xe7\x94\xa8\xe6\x88\xb7-\xf0\x9f\x98\x80-\xe7";  // 用户-😀-(truncated)
  for (int i = 0; i < 6; ++i) unicode_value += unicode_value;
  const size_t before = testing::ThreadAllocations();
  double sink = 0;
  for (int version : {1, 2, 7}) sink += Hash(seed, value, version).value_or(0.0);
  for (int version : {1, 2}) sink += Hash(unicode_value, unicode_value, version).value_or(0.0);
  sink += InNamespace(value, seed, 0.0, 0.5) ? 1.0 : 0.0;
  sink += InNamespace(unicode_value, unicode_value, 0.0, 0.5) ? 1.0 : 0.0;
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
