// A metric's value per time bucket from the ingested conversion events, for
// metrics that need no experiment (issue 21 part 1; docs/alerts.md, "Metric
// series"). The store sums the events where they live (Store::EventSeries); this
// layer turns the sums into points by the metric's type and folds segments:
//   count -> value = events in the bucket
//   mean  -> value = sum of the values / events (null without events)
//   ratio -> value = sum of `event` values / sum of `denominator_event` values
//            (null when the denominator is 0); clicks / impressions = CTR
//   binomial -> refused (InvalidArgument naming "key"): its value is a share of an
//            experiment's exposed users, and without an experiment there is no
//            population to divide by. A ratio metric over a visit event gives the rate.
// Every point carries the counts behind it. Pure except ReadMetricSeries (the store).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "app/alert_rules.h"
#include "app/experiment.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

inline constexpr int64_t kMaxSeriesPoints = 10'000;
inline constexpr int kDefaultSeriesLevels = 10;

struct SeriesRequest {
  int64_t from_ms = 0;  // rounded down to a multiple of step_ms (UTC-aligned buckets)
  int64_t to_ms = 0;    // rounded up to a multiple of step_ms
  int64_t step_ms = kMinuteMs;
  std::optional<std::string> segment;  // an attribute of the events' attributes
  int max_levels = kDefaultSeriesLevels;
};

struct MetricPoint {
  int64_t start_ms = 0;
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN: undefined (no data)
  // The metric's event in the bucket.
  int64_t events = 0;
  double sum = 0.0;
  double sum_squares = 0.0;
  // Ratio metrics: the denominator event in the bucket.
  int64_t denominator_events = 0;
  double denominator_sum = 0.0;
};

struct SeriesLevel {
  std::string segment;  // the attribute's value, "(none)", or "other"
  std::vector<MetricPoint> points;
};

struct MetricSeries {
  MetricDefinition metric;
  int64_t from_ms = 0, to_ms = 0, step_ms = 0;  // as used (aligned)
  std::vector<MetricPoint> points;              // every bucket, zero-filled
  std::optional<std::string> segment;
  std::vector<SeriesLevel> levels;  // segmented: the top max_levels + "other"
  int folded_levels = 0;            // levels folded into "other"
};

// The four steps the endpoint accepts: 1m, 5m, 1h, 1d (nullopt otherwise).
std::optional<int64_t> ParseSeriesStep(std::string_view text);

// Checks and aligns a request: step one of the four, from < to, at most
// kMaxSeriesPoints buckets (InvalidArgument naming "step"), a valid attribute name.
Status NormalizeSeriesRequest(SeriesRequest* request);

// InvalidArgument naming `field` when the metric's type has no series (binomial).
Status CheckSeriesMetric(const MetricDefinition& metric, const char* field = "key");

// The store query of a metric over an aligned request.
store::SeriesQuery SeriesQueryOf(const MetricDefinition& metric, const SeriesRequest& request);

// Store rows -> points (pure). REQUIRES: request normalised; CheckSeriesMetric ok.
MetricSeries BuildSeries(const MetricDefinition& metric, const SeriesRequest& request,
                         const std::vector<store::SeriesRow>& rows);

// Normalises the request (with no point limit when `limit_points` is false, for the
// rule engine's reads), reads the store and builds the series.
StatusOr<MetricSeries> ReadMetricSeries(store::Store& store, const MetricDefinition& metric,
                                        SeriesRequest request, bool limit_points = true);

// The rule engine's view of a metric: kCount for count, kMean for mean,
// kProportion for ratio (numerator successes out of denominator trials: a click
// is one of the impressions). InvalidArgument naming `field` for binomial.
StatusOr<MetricKind> AlertKindOf(const MetricDefinition& metric, const char* field = "metric");

// Points -> the rule engine's buckets (app::MetricBucket): count: numerator = events;
// mean: sum / events; ratio: sum / denominator_sum.
std::vector<MetricBucket> ToMetricBuckets(MetricKind kind, const std::vector<MetricPoint>& points);

}  // namespace causeway::app
