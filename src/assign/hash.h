// GrowthBook-compatible hashing and bucketing.
//
// Formulas follow GrowthBook's JavaScript SDK (packages/sdk-js/src/util.ts:
// hashFnv32a, hash, getBucketRanges, chooseVariation, inNamespace,
// getEqualWeights); docs/assignment.md cites them line by line.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::assign {

// Half-open bucket range [first, second) on the unit interval.
using BucketRange = std::pair<double, double>;

// Strings are UTF-8 and are hashed as GrowthBook's JavaScript SDK hashes them:
// over their UTF-16 code units (`hval ^= str.charCodeAt(i)`). An ASCII
// character is one unit equal to its byte; U+0080..U+FFFF is one unit; a code
// point above U+FFFF is a surrogate pair, two units. Invalid UTF-8 is decoded
// as JavaScript's `new TextDecoder("utf-8", {ignoreBOM: true})` decodes it
// (WHATWG Encoding Standard): each maximal ill-formed subsequence becomes one
// U+FFFD, so Causeway's hash of any byte string equals the SDK's hash of the
// string that decoder returns. docs/assignment.md compares other SDKs.

// FNV-1a 32-bit (offset basis 0x811c9dc5, prime 0x01000193) over the UTF-16
// code units of `s`.
uint32_t Fnv1a32(std::string_view s);

// Continues an FNV-1a 32-bit hash over the UTF-16 code units of `s`, decoded on
// its own (as JavaScript concatenates two strings). Fnv1a32Extend(Fnv1a32(a), b)
// == Fnv1a32(a + b) unless `a` ends in a truncated UTF-8 sequence.
uint32_t Fnv1a32Extend(uint32_t state, std::string_view s);

// Hash(seed, value, 2) given seed_state = Fnv1a32(seed), so a caller that
// hashes many users against one seed hashes the seed once. Does not allocate.
double HashV2FromSeedState(uint32_t seed_state, std::string_view value);

// GrowthBook hash of (seed, value) into [0, 1):
//   v1: (fnv1a32(value + seed) % 1000) / 1000
//   v2: (fnv1a32(decimal(fnv1a32(seed + value))) % 10000) / 10000
// where `+` joins the UTF-16 code units of the two strings. Returns nullopt for any other version.
// Does not allocate.
std::optional<double> Hash(std::string_view seed, std::string_view value, int version);

// n equal weights summing to 1 (empty for n < 1).
std::vector<double> EqualWeights(int n);

// Bucket ranges for n variations: coverage clamped to [0,1]; equal weights when
// `weights` is null, of the wrong length, or sums outside [0.99, 1.01];
// range i = [cum_i, cum_i + coverage * w_i] where cum_i = sum of w_j for j < i.
std::vector<BucketRange> BucketRanges(int n, double coverage, const std::vector<double>* weights);

// Index of the range holding `h` (start <= h < end), or -1.
int ChooseVariation(double h, const std::vector<BucketRange>& ranges);

// True when hash("__" + namespace_id, user_id, 1) lies in [start, end).
bool InNamespace(std::string_view user_id, std::string_view namespace_id, double start, double end);

}  // namespace causeway::assign
