// What a report reads from the store: one pass over an experiment's exposures
// and the conversions of the events its metrics use, reduced where the data
// lives to per-variant sufficient statistics (overall, per segment, and per UTC
// day as increments of the cumulative statistics). The cost grows with events,
// not with metrics x events: each event name is read once however many metrics
// use it.
//
// Per user (single-variant users only; the first exposure at or after since_ms
// is t0):
//   y = the metric's value over [t0, t0 + window)   (window 0: unbounded)
//   x = the same value over [t0 - lookback, t0)     (the CUPED covariate)
// where the value is, by UserValue, whether the user has an event, how many, or
// the sum of their values; a ratio metric has a second (denominator) event, so
// four quantities (y_num, y_den, x_num, x_den). UserMoments holds n, the sums
// and the sums of cross-products of these four.
//
// The report layer (src/app/report.h) turns these into analyses; ReportAccumulator
// (below) is the backend-independent reduction that a store feeds user by user.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace causeway::store {

// n, sums and cross-products of the per-user quantities (y_num, y_den, x_num,
// x_den). Adding two merges them (as a GROUP BY or a stream would).
struct UserMoments {
  static constexpr int kVars = 4;
  enum Var { kYNum = 0, kYDen = 1, kXNum = 2, kXDen = 3 };

  int64_t n = 0;
  std::array<double, kVars> sum{};
  std::array<double, kVars*(kVars + 1) / 2> cross{};  // upper triangle, row by row

  static constexpr int Index(int i, int j) {
    if (i > j) std::swap(i, j);
    return i * kVars - i * (i - 1) / 2 + (j - i);
  }
  double Cross(int i, int j) const { return cross[static_cast<size_t>(Index(i, j))]; }
  void Add(const UserMoments& o) {
    n += o.n;
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += o.sum[i];
    for (size_t i = 0; i < cross.size(); ++i) cross[i] += o.cross[i];
  }
  // Adds one user's quantities.
  void AddUser(const std::array<double, kVars>& v) {
    ++n;
    for (int i = 0; i < kVars; ++i) {
      sum[static_cast<size_t>(i)] += v[static_cast<size_t>(i)];
      for (int j = i; j < kVars; ++j) {
        cross[static_cast<size_t>(Index(i, j))] +=
            v[static_cast<size_t>(i)] * v[static_cast<size_t>(j)];
      }
    }
  }
  // Adds the change from `before` to `after` of one user's quantities (n unchanged).
  void AddChange(const std::array<double, kVars>& before, const std::array<double, kVars>& after) {
    for (int i = 0; i < kVars; ++i) {
      const size_t a = static_cast<size_t>(i);
      sum[a] += after[a] - before[a];
      for (int j = i; j < kVars; ++j) {
        const size_t b = static_cast<size_t>(j);
        cross[static_cast<size_t>(Index(i, j))] += after[a] * after[b] - before[a] * before[b];
      }
    }
  }
};

enum class UserValue {
  kIndicator,  // 1 if the user has at least one event in the window, else 0
  kCount,      // number of events in the window
  kSum,        // sum of the events' values in the window
};

struct AggregateMetric {
  UserValue value = UserValue::kIndicator;
  std::string event;
  std::optional<std::string> denominator_event;  // ratio metrics: y_den / x_den (kSum)
  int64_t window_ms = 0;                         // 0: unbounded
  int64_t lookback_ms = 0;                       // 0: no covariate (x = 0)
};

// One user's history before first exposure, for segmenting by it (RFM).
struct UserHistory {
  bool has_history = false;
  double recency_days = 0;  // t0 - last event before t0, in days
  int64_t frequency = 0;    // events before t0
  double monetary = 0;      // sum of their values
};

// Assigns each user (by ordinal, in the order the histories were given) a
// segment: returns labels and, per user, an index into them.
using HistorySegmenter =
    std::function<void(const std::vector<UserHistory>& users, std::vector<std::string>* labels,
                       std::vector<uint16_t>* segment_of_user)>;

struct ReportQuery {
  std::string experiment;
  int64_t since_ms = 0;
  // Upper bound (exclusive) on the time of every event read, exposures and
  // conversions alike: the data as it stood at `until_ms` (monitors evaluate "as
  // of" a time, src/app/experiment_monitors.h). Default: no bound.
  int64_t until_ms = std::numeric_limits<int64_t>::max();
  std::vector<std::string> variants;  // the experiment's, control first
  std::vector<AggregateMetric> metrics;

  // Segmenting: by attributes of each user's first exposure (at most 2), or by
  // the user's history of `history_event` before first exposure, or neither.
  std::vector<std::string> segment_attributes;
  std::optional<std::string> history_event;
  HistorySegmenter segment_by_history;
  size_t max_tracked_levels = 1000;  // further levels are folded into "other" at once

  // The variant the experiment's assignment gives a user (-1: none); when set,
  // exposures logged under another variant are counted as wrong_variant_users.
  std::function<int(std::string_view user)> expected_variant;
  // Users with an override (counted when exposed).
  std::function<bool(std::string_view user)> is_override;
  // The same users as a list, for stores that test membership where the data
  // lives (ClickHouse); empty when the experiment has no overrides.
  std::vector<std::string> override_users;

  // Read the users in one thread (tests of the split; the result is the same).
  bool single_threaded = false;
};

struct VariantCounts {
  int64_t exposures = 0;  // exposure events logged with this variant
  int64_t users = 0;      // distinct users with such an exposure (multi-variant ones included)
};

struct SegmentAggregate {
  std::string label;                              // "US", "US / ios", "other", "(none)"
  std::vector<std::vector<UserMoments>> metrics;  // [metric][variant]
  int64_t users() const;                          // single-variant users in the segment
};

struct ReportAggregates {
  std::vector<VariantCounts> variants;  // per query variant
  int64_t total_exposures = 0;
  int64_t unique_users = 0;
  int64_t multi_variant_users = 0;    // excluded
  int64_t unknown_variant_users = 0;  // first exposure names no configured variant; excluded
  int64_t wrong_variant_users = 0;    // logged variant differs from the assignment's
  // 1 when every analysed user was checked against the assignment; k when one
  // user in about k was (by hash) and wrong_variant_users is that count times k.
  int64_t wrong_variant_sample_every = 1;
  int64_t override_users = 0;
  std::vector<int64_t> conversions_before_exposure;  // per metric (numerator event)
  int64_t latest_ms = 0;                             // latest event read (exposure or conversion)
  // The latest exposure read (any user, any variant, at or after since_ms and
  // before until_ms); 0 when there is none (the no-traffic monitor reads it).
  int64_t latest_exposure_ms = 0;

  // [metric][variant]; every analysed user counted once.
  std::vector<std::vector<UserMoments>> totals;
  // Per UTC day from first_day: increments, so that the prefix sum through day d
  // is the statistics as they were at the end of day d (users exposed by then,
  // events by then). [day][metric][variant].
  int64_t first_day = 0;  // days since 1970-01-01 (UTC) of daily[0]
  std::vector<std::vector<std::vector<UserMoments>>> daily;
  // When segmented: one entry per level (tracked levels, then "other" if any).
  std::vector<SegmentAggregate> segments;
  size_t folded_levels = 0;  // levels beyond max_tracked_levels, counted in "other"
};

// The value of `key` in a flat JSON object as stored with exposures: a string
// decoded, a number or boolean as its JSON text; nullopt when absent, null, or
// when the text is not a flat object.
std::optional<std::string> FlatJsonValue(std::string_view json, std::string_view key);
// The member names of a flat JSON object, in order (those before a malformed
// part when the text is malformed).
std::vector<std::string> FlatJsonKeys(std::string_view json);

// Adds `part` (the same query over a disjoint set of users) into `total`.
void MergeAggregates(ReportAggregates* total, ReportAggregates&& part);

// The backend-independent reduction: a store feeds it each user (events sorted
// by time) and takes the aggregates at the end.
class ReportAccumulator {
 public:
  explicit ReportAccumulator(const ReportQuery& query);

  struct TimedValue {
    int64_t ts_ms;
    double value;
  };
  // One user: `variants` are the variant of each exposure in time order (>= 1),
  // t0 the first exposure's time, `segment` its segment index (see
  // SegmentIndex; -1 when not segmented); events[k] = this user's events of
  // query event name k (EventNames()), sorted by time.
  void AddUser(std::string_view user, const std::vector<std::string_view>& exposure_variants,
               int64_t t0, int segment, const std::vector<std::vector<TimedValue>>& events);
  // The distinct event names to read, in the order AddUser expects them.
  const std::vector<std::string>& EventNames() const { return events_; }
  // The segment index of a level label (tracked or folded into "other").
  int SegmentIndex(const std::string& label);
  // Declares the segment labels up front (history segments): index i = labels[i].
  void SetSegments(const std::vector<std::string>& labels);

  ReportAggregates Finish();

 private:
  void AddDay(int64_t day, size_t metric, size_t variant, const std::array<double, 4>& before,
              const std::array<double, 4>& after, bool new_user);
  std::vector<std::vector<UserMoments>>& Day(int64_t day);
  int VariantIndex(std::string_view variant) const;  // -1: not configured

  const ReportQuery& query_;
  std::vector<std::string> events_;
  std::vector<std::pair<int, int>> metric_events_;  // per metric: numerator, denominator (-1)
  std::unordered_map<std::string, int> level_index_;
  int other_level_ = -1;
  ReportAggregates out_;
  std::vector<char> seen_variant_;  // scratch: per variant, seen for this user
};

}  // namespace causeway::store
