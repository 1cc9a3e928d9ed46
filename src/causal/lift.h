// Incrementality lift of a test group over a holdout from aggregate inputs.
//
// Inputs per group: users n, conversions c, revenue sum R and, optionally, the sum of
// squared per-user revenue Q; plus the spend behind the test group and, optionally, the
// share of the test group actually reached (ghost-ads / intent-to-treat setting).
//
// Estimates (ITT, per test-group user; p = c/n, r = R/n):
//   incremental conversions   dC = (p_t - p_h) n_t,   se = n_t sqrt(v_t + v_h),
//                             v = p(1-p)/n (binomial);
//   incremental revenue       dR = (r_t - r_h) n_t,   se = n_t sqrt(s_t^2/n_t + s_h^2/n_h),
//                             s^2 = (Q - n r^2)/(n-1) (needs Q; otherwise no CI);
//   relative lift             L = p_t/p_h - 1, delta method:
//                             se = sqrt(v_t/p_h^2 + p_t^2 v_h/p_h^4);
//   iROAS                     dR / spend (spend is known, so the CI is the dR CI / spend);
//   cost per incr. conversion spend / dC; CI = [spend/upper(dC), spend/lower(dC)], the
//                             exact image of the dC interval under the monotone map
//                             x -> spend/x (the Fieller interval for a known numerator);
//                             unbounded (absent) when the dC interval includes 0.
//   treatment on the treated  TOT = ITT / reach for the per-user effects (Bloom 1984;
//                             Johnson, Lewis & Nubbemeyer 2017, "Ghost Ads", J. Marketing
//                             Research 54(6)): conversion-rate and revenue-per-user
//                             differences among reached users, se scaled the same way.
// Normal critical values. Assumptions: randomised holdout, independent users.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "causal/did.h"
#include "causal/result.h"

namespace causeway::causal {

struct LiftGroup {
  double users = 0;                           // > 0 (0: insufficient data)
  double conversions = 0;                     // 0 <= conversions <= users
  double revenue = 0;                         // sum over users
  std::optional<double> revenue_sum_squares;  // sum of squared per-user revenue
};

struct LiftInput {
  LiftGroup test;
  LiftGroup holdout;
  std::optional<double> spend;  // >= 0, money spent on the test group
  std::optional<double> reach;  // in (0, 1], share of the test group actually exposed
  double confidence = 0.95;
};

struct Interval {
  double estimate = 0;
  std::optional<double> se;
  std::optional<double> ci_lower, ci_upper;
  std::optional<double> p = std::nullopt;  // two-sided normal p of estimate = 0, given se
};

struct LiftSummary {
  double test_rate = 0, holdout_rate = 0;  // conversion rates
  double test_revenue_per_user = 0, holdout_revenue_per_user = 0;
  Interval rate_difference;          // p_t - p_h (ITT)
  Inference relative_lift;           // p_t / p_h - 1
  Interval incremental_conversions;  // dC
  Interval incremental_revenue;      // dR
  std::optional<Interval> iroas;
  std::optional<Interval> cost_per_incremental_conversion;
  std::optional<Interval> tot_rate_difference;   // (p_t - p_h) / reach
  std::optional<Interval> tot_revenue_per_user;  // (r_t - r_h) / reach
  std::vector<Warning> warnings;
};

// Errors (field names the input): negative or non-finite values, conversions outside
// [0, users], reach outside (0, 1], revenue sum of squares inconsistent with the revenue
// (negative variance); of kind kInsufficientData: a group with no users, a holdout with
// no conversions (relative lift undefined), a revenue variance from fewer than 2 users.
Result<LiftSummary> EstimateLift(const LiftInput& input);

}  // namespace causeway::causal
