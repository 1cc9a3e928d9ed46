#include "app/monitoring.h"

#include <algorithm>
#include <cmath>

#include "stats/group_sequential.h"

namespace causeway::app {

bool MonitoringPlan::IsValid(std::string* error) const {
  std::string local;
  std::string* e = error ? error : &local;
  if (!planned_sample_size && !planned_days) {
    *e = "a plan needs planned_sample_size or planned_days";
    return false;
  }
  if (planned_sample_size && *planned_sample_size < 1) {
    *e = "planned_sample_size must be at least 1";
    return false;
  }
  if (planned_days && *planned_days < 1) {
    *e = "planned_days must be at least 1";
    return false;
  }
  if (!(alpha > 0.0 && alpha < 1.0)) {
    *e = "alpha must be in (0, 1)";
    return false;
  }
  if (sides != 1 && sides != 2) {
    *e = "sides must be 1 or 2";
    return false;
  }
  if (comparisons < 1) {
    *e = "comparisons must be at least 1";
    return false;
  }
  return true;
}

MonitoringResult PlanLooks(const std::vector<DailyLook>& days, const MonitoringPlan& plan) {
  MonitoringResult out;
  if (!plan.IsValid(&out.reason)) return out;
  for (size_t i = 0; i < days.size(); ++i) {
    if (days[i].day < 0 || days[i].users < 0) {
      out.reason = "days and users must be non-negative";
      return out;
    }
    if (i > 0 && !(days[i].day > days[i - 1].day)) {
      out.reason = "days must be strictly increasing";
      return out;
    }
    if (i > 0 && days[i].users < days[i - 1].users) {
      out.reason = "cumulative users must not decrease";
      return out;
    }
  }
  out.alpha_per_comparison = plan.alpha / plan.comparisons;
  out.sides = plan.sides;
  out.looks.resize(days.size());

  // Which days are looks, and at which information fraction.
  std::vector<size_t> look_days;
  std::vector<double> fractions;
  double last_t = 0.0;
  for (size_t i = 0; i < days.size(); ++i) {
    LookResult& look = out.looks[i];
    look.day = days[i].day;
    const double elapsed = static_cast<double>(days[i].day) + 1.0;
    look.observed_fraction =
        plan.planned_sample_size
            ? static_cast<double>(days[i].users) / static_cast<double>(*plan.planned_sample_size)
            : elapsed / *plan.planned_days;
    if (out.final_look) {
      look.information_fraction = 1.0;
      continue;
    }
    const bool date_reached = plan.planned_days && elapsed >= *plan.planned_days;
    const bool is_final = look.observed_fraction >= 1.0 || date_reached;
    const double t = is_final ? 1.0 : look.observed_fraction;
    look.information_fraction = t;
    if (is_final || t - last_t >= kMinInformationIncrement - 1e-12) {
      look.is_look = true;
      look.final_look = is_final;
      look_days.push_back(i);
      fractions.push_back(t);
      last_t = t;
      if (is_final) out.final_look = i;
    }
  }
  out.reached = out.final_look.has_value();

  if (!fractions.empty()) {
    stats::GroupSequentialDesign design;
    design.information_fractions = fractions;
    design.alpha = out.alpha_per_comparison;
    design.sides = plan.sides;
    design.spending = stats::SpendingFunction::kObrienFleming;
    const stats::GroupSequentialBoundaries b = stats::LanDeMetsBoundaries(design);
    if (!b.valid) {
      out.reason = b.reason;
      return out;
    }
    for (size_t k = 0; k < look_days.size(); ++k) {
      LookResult& look = out.looks[look_days[k]];
      look.z_boundary = b.z[k];
      look.nominal_p = b.nominal_p[k];
      look.cumulative_alpha = b.cumulative_alpha[k];
    }
  }
  // Days that are not looks carry the previous look's boundary (for the interval).
  for (size_t i = 1; i < out.looks.size(); ++i) {
    LookResult& look = out.looks[i];
    if (look.is_look) continue;
    look.z_boundary = out.looks[i - 1].z_boundary;
    look.nominal_p = out.looks[i - 1].nominal_p;
    look.cumulative_alpha = out.looks[i - 1].cumulative_alpha;
  }
  out.valid = true;
  return out;
}

MonitoringResult ApplyLooks(const MonitoringResult& schedule, const std::vector<double>& z) {
  MonitoringResult out = schedule;
  if (!schedule.valid) return out;
  if (z.size() != schedule.looks.size()) {
    out.valid = false;
    out.reason = "one statistic per day of the schedule is required";
    return out;
  }
  out.first_crossing.reset();
  for (size_t i = 0; i < out.looks.size(); ++i) {
    LookResult& look = out.looks[i];
    look.crossed = false;
    if (!look.is_look || !std::isfinite(z[i])) continue;
    look.crossed =
        schedule.sides == 2 ? std::fabs(z[i]) >= look.z_boundary : z[i] >= look.z_boundary;
    if (look.crossed && !out.first_crossing) out.first_crossing = i;
  }
  return out;
}

MonitoringResult MonitorPlan(const std::vector<DailyLook>& days, const MonitoringPlan& plan) {
  const MonitoringResult schedule = PlanLooks(days, plan);
  if (!schedule.valid) return schedule;
  std::vector<double> z;
  z.reserve(days.size());
  for (const DailyLook& d : days) z.push_back(d.z);
  return ApplyLooks(schedule, z);
}

}  // namespace causeway::app
