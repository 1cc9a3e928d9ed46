#include "assign/hash.h"

#include <charconv>

namespace causeway::assign {

namespace {

constexpr uint32_t kFnvOffsetBasis = 0x811c9dc5u;
constexpr uint32_t kFnvPrime = 0x01000193u;
constexpr uint32_t kReplacementCharacter = 0xfffdu;

// One FNV-1a step over a UTF-16 code unit. GrowthBook's hashFnv32a computes
// `hval ^= str.charCodeAt(i); hval += (hval<<1)+(hval<<4)+(hval<<7)+(hval<<8)+(hval<<24)`,
// which is hval * 0x01000193 mod 2^32.
inline uint32_t FnvStep(uint32_t h, uint32_t unit) { return (h ^ unit) * kFnvPrime; }

// Continues the hash over the UTF-16 code units of the UTF-8 bytes [p, end),
// decoded as the WHATWG Encoding Standard's UTF-8 decoder does (section 9.1.1,
// which is what JavaScript's `new TextDecoder("utf-8", {ignoreBOM: true})`
// runs): a code point above U+FFFF gives a surrogate pair (two units, each
// hashed); every maximal ill-formed subsequence (a byte that cannot start a
// sequence, a truncated sequence, an overlong form, a surrogate or a value
// above U+10FFFF) gives one U+FFFD, and a byte that broke a sequence is then
// read again as the start of the next. A leading byte-order mark is kept.
// Kept out of line so the ASCII loop in FnvUpdate stays small.
[[gnu::noinline]] uint32_t FnvUpdateUtf8(uint32_t h, const unsigned char* p,
                                         const unsigned char* end) {
  while (p != end) {
    const unsigned char lead = *p++;
    if (lead < 0x80) {
      h = FnvStep(h, lead);
      continue;
    }
    int needed;  // continuation bytes still to read
    uint32_t code_point;
    unsigned char lower = 0x80;  // bounds of the next continuation byte; they
    unsigned char upper = 0xbf;  // exclude overlongs, surrogates and > U+10FFFF
    if (lead >= 0xc2 && lead <= 0xdf) {
      needed = 1;
      code_point = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      needed = 2;
      code_point = lead & 0x0fu;
      if (lead == 0xe0) lower = 0xa0;
      if (lead == 0xed) upper = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      needed = 3;
      code_point = lead & 0x07u;
      if (lead == 0xf0) lower = 0x90;
      if (lead == 0xf4) upper = 0x8f;
    } else {  // 0x80..0xc1, 0xf5..0xff
      h = FnvStep(h, kReplacementCharacter);
      continue;
    }
    for (; needed > 0; --needed) {
      if (p == end || *p < lower || *p > upper) break;  // *p is not consumed
      code_point = (code_point << 6) | (*p++ & 0x3fu);
      lower = 0x80;
      upper = 0xbf;
    }
    if (needed > 0) {
      h = FnvStep(h, kReplacementCharacter);
    } else if (code_point < 0x10000u) {
      h = FnvStep(h, code_point);
    } else {
      code_point -= 0x10000u;
      h = FnvStep(h, 0xd800u + (code_point >> 10));
      h = FnvStep(h, 0xdc00u + (code_point & 0x3ffu));
    }
  }
  return h;
}

// Continues an FNV-1a 32-bit hash over the UTF-16 code units of the UTF-8
// string `s`. An ASCII byte is its own code unit, so bytes are hashed directly
// until the first byte >= 0x80; the rest of `s` then goes through the decoder.
// Hashing "ab" is FnvUpdate(FnvUpdate(kFnvOffsetBasis, "a"), "b"), so
// concatenations are hashed without building the concatenated string.
inline uint32_t FnvUpdate(uint32_t h, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  for (; p != end; ++p) {
    if (*p >= 0x80) [[unlikely]] {
      return FnvUpdateUtf8(h, p, end);
    }
    h = FnvStep(h, *p);
  }
  return h;
}

}  // namespace

uint32_t Fnv1a32(std::string_view s) { return FnvUpdate(kFnvOffsetBasis, s); }

uint32_t Fnv1a32Extend(uint32_t state, std::string_view s) { return FnvUpdate(state, s); }

double HashV2FromSeedState(uint32_t seed_state, std::string_view value) {
  // GrowthBook util.ts hash(): hashFnv32a(hashFnv32a(seed + value) + "") % 10000 / 10000.
  const uint32_t inner = FnvUpdate(seed_state, value);
  char digits[10];  // 4294967295 has 10 digits
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), inner);
  (void)ec;  // cannot fail: the buffer holds any uint32_t
  // The digits are ASCII, one code unit per byte: no decoder needed.
  uint32_t outer = kFnvOffsetBasis;
  for (const char* d = digits; d != end; ++d) {
    outer = FnvStep(outer, static_cast<unsigned char>(*d));
  }
  return static_cast<double>(outer % 10000u) / 10000.0;
}

std::optional<double> Hash(std::string_view seed, std::string_view value, int version) {
  if (version == 2) return HashV2FromSeedState(FnvUpdate(kFnvOffsetBasis, seed), value);
  if (version == 1) {
    // util.ts hash(): hashFnv32a(value + seed) % 1000 / 1000 (note the order).
    const uint32_t h = FnvUpdate(FnvUpdate(kFnvOffsetBasis, value), seed);
    return static_cast<double>(h % 1000u) / 1000.0;
  }
  return std::nullopt;
}

std::vector<double> EqualWeights(int n) {
  if (n <= 0) return {};
  return std::vector<double>(static_cast<size_t>(n), 1.0 / n);
}

std::vector<BucketRange> BucketRanges(int n, double coverage, const std::vector<double>* weights) {
  // util.ts getBucketRanges(): the same clamping and fallbacks, in the same order.
  if (coverage < 0) {
    coverage = 0;
  } else if (coverage > 1) {
    coverage = 1;
  }
  const std::vector<double> equal = EqualWeights(n);
  const std::vector<double>* w = weights != nullptr ? weights : &equal;
  if (static_cast<long long>(w->size()) != static_cast<long long>(n < 0 ? 0 : n)) w = &equal;
  double total = 0;
  for (double x : *w) total += x;
  if (total < 0.99 || total > 1.01) w = &equal;

  std::vector<BucketRange> ranges;
  ranges.reserve(w->size());
  double cumulative = 0;
  for (double x : *w) {
    const double start = cumulative;
    cumulative += x;
    ranges.emplace_back(start, start + coverage * x);
  }
  return ranges;
}

int ChooseVariation(double h, const std::vector<BucketRange>& ranges) {
  // util.ts chooseVariation() / inRange(): first range with start <= h < end.
  for (size_t i = 0; i < ranges.size(); ++i) {
    if (h >= ranges[i].first && h < ranges[i].second) return static_cast<int>(i);
  }
  return -1;
}

bool InNamespace(std::string_view user_id, std::string_view namespace_id, double start,
                 double end) {
  // util.ts inNamespace(): hash("__" + namespace, user, 1) = fnv(user + "__" + namespace) % 1000.
  uint32_t h = FnvUpdate(kFnvOffsetBasis, user_id);
  h = FnvUpdate(h, "__");
  h = FnvUpdate(h, namespace_id);
  const double n = static_cast<double>(h % 1000u) / 1000.0;
  return n >= start && n < end;
}

}  // namespace causeway::assign
