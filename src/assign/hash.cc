#include "assign/hash.h"

#include <charconv>

namespace causeway::assign {

namespace {

constexpr uint32_t kFnvOffsetBasis = 0x811c9dc5u;
constexpr uint32_t kFnvPrime = 0x01000193u;

// Continues an FNV-1a 32-bit hash over the bytes of `s`. Hashing "ab" is
// FnvUpdate(FnvUpdate(kFnvOffsetBasis, "a"), "b"), so concatenations are hashed
// without building the concatenated string.
// GrowthBook's hashFnv32a computes `hval += (hval<<1)+(hval<<4)+(hval<<7)+(hval<<8)+(hval<<24)`
// which is hval * 0x01000193 mod 2^32.
inline uint32_t FnvUpdate(uint32_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
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
  const uint32_t outer =
      FnvUpdate(kFnvOffsetBasis, std::string_view(digits, static_cast<size_t>(end - digits)));
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
