// Alert rules on metric time series: the pure rule engine (issue "alert rules on
// metrics"). Storage, HTTP endpoints, webhooks and the page are not built yet.
//
// Model (Prometheus alerting rules): a rule names a metric, a window, a condition
// and a `for` duration. At each evaluation time as_of the condition is computed on
// the buckets whose start_ms lies in [as_of - window_ms, as_of) (missing buckets
// count as zero) and the state moves:
//   inactive/resolved --holds--> pending (since = as_of), or firing when for_ms == 0
//   pending --holds and as_of - since >= for_ms--> firing
//   pending --stops--> inactive;  firing --stops--> resolved
//   resolved --stops--> inactive
// "Not enough data" (a window below min_volume) makes the condition false.
//
// Conditions:
// - threshold: the window's value above / below a constant.
// - change: the window against a baseline (the same window 1 day or 7 days
//   earlier, the same window on each of the N previous days, or the N windows just
//   before it), decided by a test on the counts, never by a raw percentage:
//   * proportion (numerator successes out of denominator trials): pooled
//     two-proportion z, p = (x1 + x0) / (n1 + n0),
//     z = (x1/n1 - x0/n0) / sqrt(p (1 - p) (1/n1 + 1/n0))
//     (= statsmodels proportions_ztest, pooled);
//   * count (Poisson events; exposure = the windows' durations): the conditional
//     test x1 | x1 + x0 ~ Binomial(x1 + x0, t1 / (t1 + t0)) under equal rates, in
//     its normal (score) approximation
//     z = (x1 t0 - x0 t1) / sqrt((x1 + x0) t1 t0)
//     (= statsmodels test_poisson_2indep(method="score")). The approximation, not
//     the exact binomial, because minute-level alerting volumes give hundreds of
//     events (min_volume), where the two agree to well under the decision's
//     resolution, and because z is monotone and continuous in the counts, which the
//     `for` logic and the replay need (the exact two-sided p is a step function).
//   p is one-sided for drop (Phi(z)) or rise (1 - Phi(z)) and two-sided for both;
//   the condition holds when p <= alpha.
//   Kind mean (numerator a sum, denominator a count) supports threshold only: a
//   change test would need the sum of squares, which MetricBucket does not carry.
//
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace causeway::app {

// One step of a metric's series (e.g. one minute).
struct MetricBucket {
  int64_t start_ms = 0;
  double numerator = 0.0;    // conversions / clicks / events / sum
  double denominator = 0.0;  // exposures / impressions / count (unused for kCount)
};

enum class MetricKind {
  kProportion,  // value = numerator / denominator, a proportion in [0, 1]
  kCount,       // value = numerator per minute (Poisson events)
  kMean,        // value = numerator / denominator (threshold only)
};

enum class ConditionKind { kThreshold, kChange };
enum class ThresholdOp { kAbove, kBelow };  // value > threshold / value < threshold
enum class BaselineKind {
  kDayEarlier,       // the same window 1 day earlier
  kWeekEarlier,      // the same window 7 days earlier
  kSameTimeDays,     // the same window on each of the `baseline_windows` previous days
  kTrailingWindows,  // the `baseline_windows` windows just before the current one
};
enum class ChangeDirection { kDrop, kRise, kBoth };

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;

// Defaults are those of the default `change` rule; docs/alerts.md says why and what
// they measure (tests/app/alert_rules_test.cc, [slow]).
struct AlertRule {
  std::string key;
  std::string metric;
  MetricKind kind = MetricKind::kProportion;
  int64_t window_ms = 15 * kMinuteMs;
  ConditionKind condition = ConditionKind::kChange;
  // threshold
  ThresholdOp op = ThresholdOp::kAbove;
  double threshold = 0.0;
  // change
  BaselineKind baseline = BaselineKind::kSameTimeDays;
  int baseline_windows = 7;  // N for kSameTimeDays / kTrailingWindows
  ChangeDirection direction = ChangeDirection::kBoth;
  double alpha = 5e-3;  // per evaluation; see docs/alerts.md
  // Minimum denominator (kProportion, kMean) or event count (kCount) in the current
  // window and in the baseline; below it the condition is false ("not enough data").
  double min_volume = 2000.0;
  int64_t for_ms = 10 * kMinuteMs;
  int64_t step_ms = kMinuteMs;  // evaluation step (scheduler and ReplayRule)

  bool IsValid(std::string* error) const;
};

enum class AlertStateKind { kInactive, kPending, kFiring, kResolved };
const char* AlertStateName(AlertStateKind state);

struct AlertState {
  AlertStateKind state = AlertStateKind::kInactive;
  int64_t since_ms = 0;  // when the current state was entered
  double last_value = std::numeric_limits<double>::quiet_NaN();
  double last_statistic = std::numeric_limits<double>::quiet_NaN();  // z (change rules)
};

struct AlertTransition {
  int64_t at_ms = 0;
  AlertStateKind from = AlertStateKind::kInactive;
  AlertStateKind to = AlertStateKind::kInactive;
  double value = std::numeric_limits<double>::quiet_NaN();
  double statistic = std::numeric_limits<double>::quiet_NaN();
};

struct RuleEvaluation {
  bool valid = false;  // false: invalid rule (reason says why); state unchanged
  std::string reason;  // also "not enough data" when the volume is too low
  bool enough_data = false;
  bool condition = false;                                      // the condition held at as_of
  AlertState state;                                            // the new state
  double value = std::numeric_limits<double>::quiet_NaN();     // current window
  double baseline = std::numeric_limits<double>::quiet_NaN();  // baseline's value
  double volume = 0.0;           // current window's denominator (or count)
  double baseline_volume = 0.0;  // baseline's denominator (or count)
  double z = std::numeric_limits<double>::quiet_NaN();
  double p = std::numeric_limits<double>::quiet_NaN();
  std::optional<AlertTransition> transition;
};

// Test statistics (exposed for the reference tests). NaN when undefined (an empty
// side, or no successes/failures/events at all).
double TwoProportionZ(double x1, double n1, double x0, double n0);
double PoissonRateRatioZ(double x1, double t1, double x0, double t0);

// REQUIRES: series sorted by start_ms. Buckets starting at or after as_of_ms are
// ignored, so a bucket that starts before as_of_ms must be complete.
RuleEvaluation EvaluateRule(const AlertRule& rule, const std::vector<MetricBucket>& series,
                            int64_t as_of_ms, const AlertState& previous);

// EvaluateRule at from_ms, from_ms + step_ms, ... <= to_ms, starting inactive;
// returns the transitions in order (empty for an invalid rule or step_ms <= 0).
std::vector<AlertTransition> ReplayRule(const AlertRule& rule,
                                        const std::vector<MetricBucket>& series, int64_t from_ms,
                                        int64_t to_ms, int64_t step_ms);

}  // namespace causeway::app
