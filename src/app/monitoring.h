// Group-sequential monitoring of an experiment that has a plan (a planned sample
// size and/or a planned end date): one look per calendar day at the observed
// information fraction, Lan-DeMets O'Brien-Fleming alpha spending.
//
// Why this and not the always-valid mSPRT when a plan exists: on the scenario of
// issue 11 (10 % baseline, +20 % relative lift, 600 users a day, 14 days, planned
// 8 400 users, alpha = 0.05 two-sided) daily OBF looks keep ~0.80 power (a single
// fixed-horizon test at day 14 has 0.83), the mSPRT read daily has ~0.5-0.6
// (tests/app/monitoring_test.cc; docs/statistics.md, "Monitoring under a plan").
//
// Rules (Lan & DeMets 1983; Jennison & Turnbull 2000, ch. 7 and 9):
// - Look k is at the end of calendar day d_k (days since the first exposure day,
//   day 0). Its information fraction is t_k = users_k / planned_sample_size when a
//   size is planned, else (d_k + 1) / planned_days. Looks are fixed by the traffic
//   only, never by the data's outcome, so the verdict does not depend on how often
//   someone opens the report.
// - The final look is the first day where t_k >= 1, or (with a planned date) the
//   first day with d_k + 1 >= planned_days, whichever comes first: it spends all the
//   remaining alpha (t set to 1 there). Days after the final look are not looks:
//   they spend nothing and cannot cross; the verdict is frozen at the final look.
// - A day that adds less than kMinInformationIncrement of information since the
//   previous look is not a look (it spends nothing, cannot cross, and carries the
//   previous boundary for the interval). This caps a design at ~200 looks (a
//   planned_days > 200 gets a look every few days), keeps the boundary computation
//   under ~0.1 s, and depends on user counts only.
// - Boundary c_k: P_H0(first crossing at look k) = A(t_k) - A(t_{k-1}) with the
//   O'Brien-Fleming-type spending A (stats/group_sequential.h), at
//   alpha / comparisons (Bonferroni across goal metrics x treatments).
//   Two-sided: cross when |z_k| >= c_k; one-sided: when z_k >= c_k (pass -z to test
//   the other direction). A look whose z is NaN spends its alpha and cannot cross.
// - The test stops at the first crossing: `first_crossing` is the verdict; later
//   looks are still evaluated (for the series) but cannot undo it.
// - Repeated confidence interval at look k (Jennison & Turnbull ch. 9):
//   estimate -/+ c_k * std_error (one-sided: estimate - c_k * std_error, +inf), a
//   sequence of intervals with simultaneous coverage >= 1 - alpha/comparisons.
//
// Pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace causeway::app {

// A day adding less information than this since the previous look is not a look.
inline constexpr double kMinInformationIncrement = 0.005;

// One calendar day with data, cumulative through its end.
struct DailyLook {
  int day = 0;        // days since the first exposure day (0); strictly increasing
  int64_t users = 0;  // cumulative users counted by the plan (non-decreasing)
  // Fixed-horizon statistic estimate / std_error on the cumulative data; NaN when it
  // cannot be computed that day. Ignored by PlanLooks.
  double z = std::numeric_limits<double>::quiet_NaN();
};

struct MonitoringPlan {
  std::optional<int64_t> planned_sample_size;  // total users (same unit as DailyLook::users)
  // Calendar days of the plan counted from the first exposure day: the plan ends at
  // the end of day planned_days - 1 (the caller converts planned_end to this).
  std::optional<int> planned_days;
  double alpha = 0.05;  // family-wise, in (0, 1)
  int sides = 2;        // 2 (symmetric) or 1 (upper)
  int comparisons = 1;  // m: Bonferroni alpha / m (goal metrics x treatments)

  bool IsValid(std::string* error) const;
};

// One day of the schedule (PlanLooks) or of the monitored series (MonitorPlan).
struct LookResult {
  int day = 0;
  double observed_fraction = 0.0;     // users / planned size (or elapsed days / planned days)
  double information_fraction = 0.0;  // t used for spending (1 at the final look)
  bool is_look = false;               // spends alpha at this day
  bool final_look = false;
  // c_k (carried from the previous look on days that are not looks; +inf before the
  // first look). Repeated CI: estimate -/+ z_boundary * std_error.
  double z_boundary = std::numeric_limits<double>::infinity();
  double nominal_p = 0.0;  // sides * (1 - Phi(c_k)): cross when the look's p <= this
  double cumulative_alpha = 0.0;
  bool crossed = false;  // this look crossed (MonitorPlan only)
};

struct MonitoringResult {
  bool valid = false;
  std::string reason;
  std::string method = "lan_demets_obrien_fleming";
  double alpha_per_comparison = std::numeric_limits<double>::quiet_NaN();
  int sides = 2;
  std::vector<LookResult> looks;         // one per input day, same order
  std::optional<size_t> first_crossing;  // index into looks: the verdict
  std::optional<size_t> final_look;      // index of the final look, once reached
  bool reached = false;                  // planned size or date reached (final_look has a value)
};

// The schedule: which days are looks and their boundaries, from the traffic alone
// (DailyLook::z is ignored; `crossed` is false everywhere).
MonitoringResult PlanLooks(const std::vector<DailyLook>& days, const MonitoringPlan& plan);

// Evaluates the statistics z (one per day of the schedule) against a schedule.
// REQUIRES: schedule.valid and z.size() == schedule.looks.size() (else !valid).
MonitoringResult ApplyLooks(const MonitoringResult& schedule, const std::vector<double>& z);

// PlanLooks + ApplyLooks with the z of each day.
MonitoringResult MonitorPlan(const std::vector<DailyLook>& days, const MonitoringPlan& plan);

}  // namespace causeway::app
