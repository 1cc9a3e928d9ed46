// RFM (recency, frequency, monetary value) scoring and named customer segments, the
// way the R package `rfm` (Hebbali; github.com/rsquaredacademy/rfm, v0.3.0, MIT)
// computes them with rfm_table_order() and rfm_segment().
//
// Input per user, from their conversions before a reference instant (for a report:
// the user's first exposure): recency = days from the last conversion to the
// reference instant, frequency = number of conversions, monetary = sum of values.
// Users with no conversion before the reference instant are not scored: segment
// `no_history` (score 0).
//
// Scores (rfm_prep_bins / bins in R/rfm-table-transaction.R and R/utils.R), for each
// of the three values x over the users with history:
//   q_k = quantile(x, k/5), k = 1..4, R's default type 7 (linear interpolation
//         between order statistics: h = (n - 1) p, q = (1 - f) x_(floor h) + f x_(ceil h));
//   breaks b_k = q_k + 1 (the package adds 1 to every break, also for money);
//   bins [min, b_1), [b_1, b_2), ..., [b_4, max + 1): bin i = 1 + #{k : b_k <= x}.
// Frequency and monetary scores are the bin (1 = lowest); the recency score is
// 6 - bin (5 = most recent). Ties get the same score (bins are by value), and a
// value shared by many users can leave some bins empty.
//
// Segments: the first rule (in this order) whose inclusive score ranges contain
// (R, F, M), else `others`. The rules are the package's executable criteria (its
// test tests/testthat/test-rfm-segment.R and the segment table of its vignette):
//   champions          R 4-5  F 4-5  M 4-5
//   loyal_customers    R 2-5  F 3-5  M 3-5
//   potential_loyalist R 3-5  F 1-3  M 1-3
//   new_customers      R 4-5  F 1-1  M 1-1
//   promising          R 3-4  F 1-1  M 1-1
//   need_attention     R 2-3  F 2-3  M 2-3
//   about_to_sleep     R 2-3  F 1-2  M 1-2
//   at_risk            R 1-2  F 2-5  M 2-5
//   cant_lose_them     R 1-1  F 4-5  M 4-5
//   lost               R 1-2  F 1-2  M 1-2
// The vignette's descriptive table also names "Hibernating" with the same ranges as
// "Lost" (R, F, M 1-2); under first-match precedence one of the two would always be
// empty, and the package's code omits it, so we do too.
//
// O(n log n) (three sorts). Pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace causeway::app {

enum class RfmSegment {
  kChampions,
  kLoyalCustomers,
  kPotentialLoyalist,
  kNewCustomers,
  kPromising,
  kNeedAttention,
  kAboutToSleep,
  kAtRisk,
  kCantLoseThem,
  kLost,
  kOthers,     // scored but matched by no rule
  kNoHistory,  // no conversion before the reference instant: not scored
};
inline constexpr int kRfmSegmentCount = 12;

// snake_case id ("champions", ..., "others", "no_history") and the package's display
// name ("Champions", "Can't Lose Them", ..., "Others"; "No history").
std::string_view RfmSegmentId(RfmSegment segment);
std::string_view RfmSegmentName(RfmSegment segment);

struct RfmInput {
  bool has_history = false;  // at least one conversion before the reference instant
  double recency_days = 0.0;
  int64_t frequency = 0;
  double monetary = 0.0;
};

struct RfmTier {
  int recency_score = 0;  // 1..5 (5 = most recent); 0 without history
  int frequency_score = 0;
  int monetary_score = 0;
  RfmSegment segment = RfmSegment::kNoHistory;
};

// The four breaks b_k = q_k + 1 of each value (NaN when nobody has history).
struct RfmBreaks {
  std::array<double, 4> recency, frequency, monetary;
};

// One tier per user, in input order. Users with has_history == false, or with a
// non-finite recency or monetary value, are `no_history`.
std::vector<RfmTier> ScoreRfm(const std::vector<RfmInput>& users, RfmBreaks* breaks = nullptr);

// The segment of scores (R, F, M) in 1..5 by the rules above.
RfmSegment RfmSegmentOf(int recency_score, int frequency_score, int monetary_score);

}  // namespace causeway::app
