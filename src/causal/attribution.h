// Channel attribution on conversion paths: heuristics, Shapley values and the Markov
// removal effect.
//
// Input is the layout of the R package ChannelAttribution (Altomare & Loris, CRAN): one
// row per path "search > social > email" with total_conversions, total_null (journeys on
// that path that did not convert) and optionally total_conversion_value. Rows with the
// same path add up. Every method divides total_conversions (and the value) among the
// channels, so each method's channel credits sum to the totals.
//
// Heuristics (ChannelAttribution's heuristic_models):
//   first_touch  a path's conversions to its first channel;
//   last_touch   to its last channel;
//   linear       1/L of them to each of its L touches (a channel touched twice gets 2/L).
//
// shapley: the cooperative game whose players are the channels and whose worth is
//   v(S) = sum of conversions of paths whose set of channels C(p) lies within S
// (the formulation of the published marketing worked examples; Zhao, Mahboobi & Bagheri
// 2018, "Shapley value methods for attribution modeling in online advertising",
// arXiv:1804.05327, eq. for the "simplified Shapley value"). v is a sum of unanimity
// games conv(p) u_{C(p)}, and the Shapley value of u_T is 1/|T| to each member of T
// (Shapley 1953), so by additivity
//   phi_j = sum over paths p with j in C(p) of conv(p) / |C(p)|,
// computed in one pass over the paths instead of over 2^n coalitions (the test checks
// it against the enumeration). The value game uses total_conversion_value in place of
// conversions. Non-converting journeys do not enter v.
//
// shapley_ordered (Zhao et al. 2018, "ordered Shapley value"): the same phi_j, split
// over touchpoint positions: a path's share conv(p)/|C(p)| for channel j goes in equal
// parts to each position t (1-based) where j occurs. Summed over t it is phi_j.
//
// markov (ChannelAttribution's markov_model, with out_more = TRUE): a Markov chain of
// order k on the states (start), the observed k-tuples of consecutive channels (a
// sliding window; a path shorter than k is one state), (conversion) and (null).
// Consecutive repeats of the same state are merged (no self-loops), as
// ChannelAttribution does. Transition probabilities are the row-normalised counts, each
// path weighted by total_conversions + total_null, ending in (conversion) with weight
// total_conversions and in (null) with weight total_null. With Q the transient block and
// r(s) = P(s -> conversion), the absorption probability solves (I - Q) x = r and
// P(conversion) = x(start). Removing channel c redirects every transition into a state
// that contains c to (null):
//   removal_effect(c) = 1 - P_{-c}(conversion) / P(conversion),
// and c is credited total_conversions * removal_effect(c) / sum_c' removal_effect(c').
// The value is attributed the same way with the reward mu(s) = mean value per conversion
// of the paths whose last state is s on the transition s -> conversion, i.e. the
// expectation of ChannelAttribution's simulated value. ChannelAttribution estimates
// these quantities by simulating walks capped at the longest observed path; here they are
// solved exactly (LU of I - Q with Eigen), the limit of its simulation without the cap.
//
// Assumptions: the paths are what the analyst tracked; none of these methods is causal
// (they divide observed conversions; an experiment or geo test measures incrementality).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "causal/did.h"
#include "causal/result.h"

namespace causeway::causal {

enum class AttributionMethod {
  kFirstTouch,
  kLastTouch,
  kLinear,
  kShapley,
  kShapleyOrdered,
  kMarkov,
};
// "first_touch", "last_touch", "linear", "shapley", "shapley_ordered", "markov".
const char* AttributionMethodName(AttributionMethod m);
std::optional<AttributionMethod> ParseAttributionMethod(std::string_view name);

// Distinct paths with their summed counts. Channel ids index `channels`.
struct PathTable {
  std::vector<std::string> channels;               // id -> name, in order of first appearance
  std::vector<uint32_t> touches;                   // every path's channel ids, concatenated
  std::vector<size_t> offsets{0};                  // path p is touches[offsets[p], offsets[p + 1])
  std::vector<double> conversions, nulls, values;  // per distinct path
  bool has_value = false;                          // total_conversion_value was given
  size_t rows = 0;                                 // input rows, before adding up

  size_t size() const { return conversions.size(); }
  size_t length(size_t p) const { return offsets[p + 1] - offsets[p]; }
  const uint32_t* begin(size_t p) const { return touches.data() + offsets[p]; }
};

// Builds a PathTable row by row; rows with the same channel sequence add up.
class PathTableBuilder {
 public:
  // `separator` splits a path into channels (ChannelAttribution's sep, default ">");
  // spaces around each channel name are dropped.
  explicit PathTableBuilder(std::string separator = ">");

  // Adds a row. Errors (kInvalidInput) name the column ("path", "total_conversions",
  // "total_null", "total_conversion_value", or "" for the row as a whole): an empty path
  // or channel name, a negative or non-finite count, a row with no conversions and no
  // nulls, a value on a row without conversions, a negative value, or a value given on
  // some rows but not others. `value` is absent when the row has none.
  std::optional<Error> Add(std::string_view path, double conversions, double nulls,
                           std::optional<double> value);
  // Parses one path into channel ids (adding new channels). For benchmarks and tests.
  std::optional<Error> Split(std::string_view path, std::vector<uint32_t>* ids);

  PathTable Finish() &&;

 private:
  // Channel names: open addressing on a 64-bit hash of the name; a slot holds id + 1
  // (0 = empty) and the name is compared against table_.channels.
  struct ChannelSlot {
    uint64_t hash = 0;
    uint32_t id = 0;
  };
  // Distinct paths: open addressing. A path of at most 8 channels with ids below 255 is
  // its own key (the ids + 1 packed into bytes, so equal keys are equal paths); a longer
  // one is keyed by a 64-bit hash of its ids and compared against table_.touches. A slot
  // holds path index + 1 (0 = empty) and the path's summed counts, so adding a row
  // allocates nothing once its path is known and reads one slot. Rows wait in a queue of
  // kPending after parsing, their slot prefetched, so that the cache misses of several
  // rows overlap; Finish empties it. Rows keep their order, and every error is found
  // before a row is queued.
  struct PathSlot {
    uint64_t key = 0;
    uint32_t path = 0;
    uint32_t packed = 0;  // 1: key is the packed path
    double conversions = 0, nulls = 0, value = 0;
  };
  struct PendingRow {
    std::vector<uint32_t> ids;
    uint64_t key = 0;
    bool packed = false;
    double conversions = 0, nulls = 0, value = 0;
  };
  static constexpr size_t kPending = 16;

  std::string separator_;
  PathTable table_;
  std::vector<ChannelSlot> channel_slots_;
  std::vector<PathSlot> path_slots_;
  size_t paths_ = 0;              // distinct paths so far
  PendingRow pending_[kPending];  // a ring: pending_[(first_pending_ + k) % kPending]
  size_t first_pending_ = 0, pending_count_ = 0;
  void AddToPath(const PendingRow& row);      // finds or inserts its path, adds the counts
  uint32_t ChannelId(std::string_view name);  // adds a new channel
  std::optional<bool> value_rows_;            // whether rows carry a value
};

struct AttributionOptions {
  std::vector<AttributionMethod> methods{AttributionMethod::kShapley};
  int markov_order = 1;           // k in [1, kMaxMarkovOrder]
  bool transition_matrix = true;  // return the Markov transitions
  bool IsValid(std::string* why) const;
};
inline constexpr int kMaxMarkovOrder = 4;
inline constexpr size_t kMaxMarkovStates = 200000;

// One channel's credit under one method.
struct ChannelCredit {
  double conversions = 0;
  double value = 0;  // 0 when the table has no value
  // markov only: removal effects on conversions and on value; P(conversion) with the
  // channel removed.
  double removal_effect = 0, removal_effect_value = 0, conversion_probability_without = 0;
  // shapley_ordered only: conversions (and value) credited at touchpoint t = 1, 2, ...
  std::vector<double> by_touchpoint, by_touchpoint_value;
};

struct MarkovTransition {
  uint32_t from = 0, to = 0;  // indices into MarkovChain::states
  double count = 0;           // weighted number of observed transitions
  double probability = 0;
};

struct MarkovChain {
  int order = 1;
  // "(start)", then the channel states (k-tuples joined with " > "), "(conversion)",
  // "(null)".
  std::vector<std::string> states;
  std::vector<MarkovTransition> transitions;  // sorted by (from, to); empty if not asked
  double conversion_probability = 0;          // P(conversion) from (start)
  double expected_value = 0;                  // expected value per journey (0 w/o value)
};

struct MethodAttribution {
  AttributionMethod method = AttributionMethod::kShapley;
  std::vector<ChannelCredit> channels;  // indexed like PathTable::channels
  std::optional<MarkovChain> markov;
};

struct AttributionSummary {
  double total_conversions = 0, total_nulls = 0, total_value = 0;
  size_t max_path_length = 0;
  std::vector<MethodAttribution> methods;  // in the order asked
  std::vector<Warning> warnings;
};

// Errors: invalid options (kInvalidInput, field "options.<name>"); no conversions to
// attribute (kInsufficientData, field "paths"); a Markov chain over kMaxMarkovStates
// states (kInvalidInput, "options.order").
Result<AttributionSummary> Attribute(const PathTable& table, const AttributionOptions& options);

}  // namespace causeway::causal
