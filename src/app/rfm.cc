#include "app/rfm.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace causeway::app {
namespace {

struct SegmentRule {
  RfmSegment segment;
  int r_lo, r_hi, f_lo, f_hi, m_lo, m_hi;
};

// First match wins (rfm_segment assigns a name only to rows not yet named).
constexpr SegmentRule kRules[] = {
    {RfmSegment::kChampions, 4, 5, 4, 5, 4, 5},
    {RfmSegment::kLoyalCustomers, 2, 5, 3, 5, 3, 5},
    {RfmSegment::kPotentialLoyalist, 3, 5, 1, 3, 1, 3},
    {RfmSegment::kNewCustomers, 4, 5, 1, 1, 1, 1},
    {RfmSegment::kPromising, 3, 4, 1, 1, 1, 1},
    {RfmSegment::kNeedAttention, 2, 3, 2, 3, 2, 3},
    {RfmSegment::kAboutToSleep, 2, 3, 1, 2, 1, 2},
    {RfmSegment::kAtRisk, 1, 2, 2, 5, 2, 5},
    {RfmSegment::kCantLoseThem, 1, 1, 4, 5, 4, 5},
    {RfmSegment::kLost, 1, 2, 1, 2, 1, 2},
};

struct SegmentNames {
  std::string_view id, name;
};
constexpr SegmentNames kNames[kRfmSegmentCount] = {
    {"champions", "Champions"},
    {"loyal_customers", "Loyal Customers"},
    {"potential_loyalist", "Potential Loyalist"},
    {"new_customers", "New Customers"},
    {"promising", "Promising"},
    {"need_attention", "Need Attention"},
    {"about_to_sleep", "About To Sleep"},
    {"at_risk", "At Risk"},
    {"cant_lose_them", "Can't Lose Them"},
    {"lost", "Lost"},
    {"others", "Others"},
    {"no_history", "No history"},
};

// Breaks q(k/5) + 1, k = 1..4, of the sorted values; q is R's quantile type 7:
// index = 1 + (n - 1) p (1-based), lo = floor, hi = ceil, q = (1 - h) x_lo + h x_hi
// with h = index - lo (R's quantile.default, computed the same way).
std::array<double, 4> Breaks(std::vector<double>& x) {
  std::array<double, 4> b;
  b.fill(std::numeric_limits<double>::quiet_NaN());
  if (x.empty()) return b;
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  const double by = 1.0 / 5.0;  // R: seq(0, 1, length.out = 6) = from + (0:5) * by
  for (int k = 1; k <= 4; ++k) {
    const double index = 1.0 + (n - 1.0) * (k * by);
    const double lo = std::floor(index), hi = std::ceil(index);
    double q = x[static_cast<size_t>(lo) - 1];
    const double x_hi = x[static_cast<size_t>(hi) - 1];
    if (index > lo && x_hi != q) {
      const double h = index - lo;
      q = (1.0 - h) * q + h * x_hi;
    }
    b[k - 1] = q + 1.0;
  }
  return b;
}

// 1 + #{k : b_k <= x}: the bin of [min, b_1), [b_1, b_2), ..., [b_4, max + 1).
int Bin(double x, const std::array<double, 4>& b) {
  int bin = 1;
  for (double v : b) bin += v <= x;
  return bin;
}

bool Scored(const RfmInput& u) {
  return u.has_history && std::isfinite(u.recency_days) && std::isfinite(u.monetary);
}

}  // namespace

std::string_view RfmSegmentId(RfmSegment segment) { return kNames[static_cast<int>(segment)].id; }

std::string_view RfmSegmentName(RfmSegment segment) {
  return kNames[static_cast<int>(segment)].name;
}

RfmSegment RfmSegmentOf(int r, int f, int m) {
  for (const SegmentRule& rule : kRules) {
    if (r >= rule.r_lo && r <= rule.r_hi && f >= rule.f_lo && f <= rule.f_hi && m >= rule.m_lo &&
        m <= rule.m_hi) {
      return rule.segment;
    }
  }
  return RfmSegment::kOthers;
}

std::vector<RfmTier> ScoreRfm(const std::vector<RfmInput>& users, RfmBreaks* breaks) {
  std::vector<double> recency, frequency, monetary;
  for (const RfmInput& u : users) {
    if (!Scored(u)) continue;
    recency.push_back(u.recency_days);
    frequency.push_back(static_cast<double>(u.frequency));
    monetary.push_back(u.monetary);
  }
  const RfmBreaks b{Breaks(recency), Breaks(frequency), Breaks(monetary)};
  if (breaks) *breaks = b;

  std::vector<RfmTier> tiers(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    const RfmInput& u = users[i];
    if (!Scored(u)) continue;  // default: no_history, scores 0
    RfmTier& t = tiers[i];
    t.recency_score = 6 - Bin(u.recency_days, b.recency);
    t.frequency_score = Bin(static_cast<double>(u.frequency), b.frequency);
    t.monetary_score = Bin(u.monetary, b.monetary);
    t.segment = RfmSegmentOf(t.recency_score, t.frequency_score, t.monetary_score);
  }
  return tiers;
}

}  // namespace causeway::app
