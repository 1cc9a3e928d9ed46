#include "app/alert_rules.h"

#include <algorithm>
#include <cmath>

namespace causeway::app {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2 (accurate in both tails).
double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

struct WindowSums {
  double numerator = 0.0;
  double denominator = 0.0;
};

// Sums of the buckets whose start_ms lies in [begin_ms, end_ms).
WindowSums SumWindow(const std::vector<MetricBucket>& series, int64_t begin_ms, int64_t end_ms) {
  const auto by_start = [](const MetricBucket& b, int64_t t) { return b.start_ms < t; };
  auto it = std::lower_bound(series.begin(), series.end(), begin_ms, by_start);
  WindowSums sums;
  for (; it != series.end() && it->start_ms < end_ms; ++it) {
    sums.numerator += it->numerator;
    sums.denominator += it->denominator;
  }
  return sums;
}

// The volume min_volume applies to: events for counts, the denominator otherwise.
double Volume(MetricKind kind, const WindowSums& s) {
  return kind == MetricKind::kCount ? s.numerator : s.denominator;
}

// The window's value: events per minute for counts, numerator / denominator else.
double Value(MetricKind kind, const WindowSums& s, int64_t duration_ms) {
  if (kind == MetricKind::kCount) {
    return s.numerator / (static_cast<double>(duration_ms) / static_cast<double>(kMinuteMs));
  }
  return s.denominator > 0.0 ? s.numerator / s.denominator : kNaN;
}

// The baseline's summed counts and its total duration.
struct Baseline {
  WindowSums sums;
  int64_t duration_ms = 0;
};

Baseline SumBaseline(const AlertRule& rule, const std::vector<MetricBucket>& series,
                     int64_t begin_ms, int64_t end_ms) {
  Baseline b;
  const auto add = [&](int64_t shift_ms) {
    const WindowSums w = SumWindow(series, begin_ms - shift_ms, end_ms - shift_ms);
    b.sums.numerator += w.numerator;
    b.sums.denominator += w.denominator;
    b.duration_ms += rule.window_ms;
  };
  switch (rule.baseline) {
    case BaselineKind::kDayEarlier:
      add(kDayMs);
      break;
    case BaselineKind::kWeekEarlier:
      add(7 * kDayMs);
      break;
    case BaselineKind::kSameTimeDays:
      for (int d = 1; d <= rule.baseline_windows; ++d) add(d * kDayMs);
      break;
    case BaselineKind::kTrailingWindows:
      for (int k = 1; k <= rule.baseline_windows; ++k) add(k * rule.window_ms);
      break;
  }
  return b;
}

}  // namespace

bool AlertRule::IsValid(std::string* error) const {
  const auto fail = [&](const char* why) {
    if (error != nullptr) *error = why;
    return false;
  };
  if (window_ms <= 0) return fail("window_ms must be positive");
  if (for_ms < 0) return fail("for_ms must not be negative");
  if (step_ms <= 0) return fail("step_ms must be positive");
  if (!(min_volume >= 0.0)) return fail("min_volume must not be negative");
  if (condition == ConditionKind::kThreshold && !std::isfinite(threshold)) {
    return fail("threshold must be finite");
  }
  if (condition == ConditionKind::kChange) {
    if (kind == MetricKind::kMean) {
      return fail("a change rule needs a proportion or a count metric (a mean has no variance)");
    }
    if (!(alpha > 0.0 && alpha < 1.0)) return fail("alpha must be in (0, 1)");
    if ((baseline == BaselineKind::kSameTimeDays || baseline == BaselineKind::kTrailingWindows) &&
        baseline_windows < 1) {
      return fail("baseline_windows must be at least 1");
    }
  }
  return true;
}

const char* AlertStateName(AlertStateKind state) {
  switch (state) {
    case AlertStateKind::kInactive:
      return "inactive";
    case AlertStateKind::kPending:
      return "pending";
    case AlertStateKind::kFiring:
      return "firing";
    case AlertStateKind::kResolved:
      return "resolved";
  }
  return "unknown";
}

double TwoProportionZ(double x1, double n1, double x0, double n0) {
  if (!(n1 > 0.0 && n0 > 0.0)) return kNaN;
  const double pooled = (x1 + x0) / (n1 + n0);
  const double variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0);
  if (!(variance > 0.0)) return kNaN;
  return (x1 / n1 - x0 / n0) / std::sqrt(variance);
}

double PoissonRateRatioZ(double x1, double t1, double x0, double t0) {
  if (!(t1 > 0.0 && t0 > 0.0) || !(x1 + x0 > 0.0)) return kNaN;
  return (x1 * t0 - x0 * t1) / std::sqrt((x1 + x0) * t1 * t0);
}

RuleEvaluation EvaluateRule(const AlertRule& rule, const std::vector<MetricBucket>& series,
                            int64_t as_of_ms, const AlertState& previous) {
  RuleEvaluation out;
  out.state = previous;
  if (!rule.IsValid(&out.reason)) return out;
  out.valid = true;

  const int64_t begin_ms = as_of_ms - rule.window_ms;
  const WindowSums current = SumWindow(series, begin_ms, as_of_ms);
  out.value = Value(rule.kind, current, rule.window_ms);
  out.volume = Volume(rule.kind, current);

  if (rule.condition == ConditionKind::kThreshold) {
    out.enough_data = out.volume >= rule.min_volume && !std::isnan(out.value);
    if (out.enough_data) {
      out.condition =
          rule.op == ThresholdOp::kAbove ? out.value > rule.threshold : out.value < rule.threshold;
    }
  } else {
    const Baseline base = SumBaseline(rule, series, begin_ms, as_of_ms);
    out.baseline = Value(rule.kind, base.sums, base.duration_ms);
    out.baseline_volume = Volume(rule.kind, base.sums);
    out.enough_data = out.volume >= rule.min_volume && out.baseline_volume >= rule.min_volume;
    if (out.enough_data) {
      out.z = rule.kind == MetricKind::kCount
                  ? PoissonRateRatioZ(current.numerator, static_cast<double>(rule.window_ms),
                                      base.sums.numerator, static_cast<double>(base.duration_ms))
                  : TwoProportionZ(current.numerator, current.denominator, base.sums.numerator,
                                   base.sums.denominator);
      if (!std::isnan(out.z)) {
        switch (rule.direction) {
          case ChangeDirection::kDrop:
            out.p = NormalCdf(out.z);
            break;
          case ChangeDirection::kRise:
            out.p = NormalCdf(-out.z);
            break;
          case ChangeDirection::kBoth:
            out.p = 2.0 * NormalCdf(-std::fabs(out.z));
            break;
        }
        out.condition = out.p <= rule.alpha;
      }
    }
  }
  if (!out.enough_data) out.reason = "not enough data";

  // The state machine (header comment).
  const AlertStateKind from = previous.state;
  AlertStateKind to = from;
  if (out.condition) {
    if (from == AlertStateKind::kInactive || from == AlertStateKind::kResolved) {
      to = rule.for_ms == 0 ? AlertStateKind::kFiring : AlertStateKind::kPending;
    } else if (from == AlertStateKind::kPending && as_of_ms - previous.since_ms >= rule.for_ms) {
      to = AlertStateKind::kFiring;
    }
  } else {
    if (from == AlertStateKind::kPending || from == AlertStateKind::kResolved) {
      to = AlertStateKind::kInactive;
    } else if (from == AlertStateKind::kFiring) {
      to = AlertStateKind::kResolved;
    }
  }
  out.state.state = to;
  out.state.last_value = out.value;
  out.state.last_statistic = out.z;
  if (to != from) {
    out.state.since_ms = as_of_ms;
    out.transition = AlertTransition{as_of_ms, from, to, out.value, out.z};
  }
  return out;
}

std::vector<AlertTransition> ReplayRule(const AlertRule& rule,
                                        const std::vector<MetricBucket>& series, int64_t from_ms,
                                        int64_t to_ms, int64_t step_ms) {
  std::vector<AlertTransition> transitions;
  if (step_ms <= 0 || !rule.IsValid(nullptr)) return transitions;
  AlertState state;
  state.since_ms = from_ms;
  for (int64_t t = from_ms; t <= to_ms; t += step_ms) {
    RuleEvaluation e = EvaluateRule(rule, series, t, state);
    if (e.transition) transitions.push_back(*e.transition);
    state = e.state;
  }
  return transitions;
}

}  // namespace causeway::app
