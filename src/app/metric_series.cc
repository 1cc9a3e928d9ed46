#include "app/metric_series.h"

#include <algorithm>
#include <map>

#include "store/event_series.h"

namespace causeway::app {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t FloorTo(int64_t v, int64_t step) {
  const int64_t q = v / step * step;
  return q > v ? q - step : q;
}

void SetValue(MetricType type, MetricPoint* p) {
  switch (type) {
    case MetricType::kCount:
      p->value = static_cast<double>(p->events);
      break;
    case MetricType::kMean:
      p->value = p->events > 0 ? p->sum / static_cast<double>(p->events) : kNaN;
      break;
    case MetricType::kRatio:
      p->value = p->denominator_sum != 0.0 ? p->sum / p->denominator_sum : kNaN;
      break;
    case MetricType::kBinomial:
      p->value = kNaN;
      break;
  }
}

// Zero-filled points of [from, to) by step.
std::vector<MetricPoint> EmptyPoints(const SeriesRequest& r) {
  std::vector<MetricPoint> points(static_cast<size_t>((r.to_ms - r.from_ms) / r.step_ms));
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].start_ms = r.from_ms + static_cast<int64_t>(i) * r.step_ms;
  }
  return points;
}

void AddRow(const MetricDefinition& m, const store::SeriesRow& row, MetricPoint* p) {
  if (row.event == m.event) {
    p->events += row.events;
    p->sum += row.sum;
    p->sum_squares += row.sum_squares;
  }
  if (m.denominator_event && row.event == *m.denominator_event) {
    p->denominator_events += row.events;
    p->denominator_sum += row.sum;
  }
}

// The levels kept (the max_levels with most events, the metric's and the
// denominator's together; ties by name) and how many were folded.
std::vector<std::string> TopLevels(const std::vector<store::SeriesRow>& rows, int max_levels,
                                   int* folded) {
  std::map<std::string, int64_t> volume;
  for (const auto& r : rows) volume[r.segment] += r.events;
  std::vector<std::pair<std::string, int64_t>> ranked(volume.begin(), volume.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const size_t keep = std::min(ranked.size(), static_cast<size_t>(std::max(0, max_levels)));
  *folded = static_cast<int>(ranked.size() - keep);
  std::vector<std::string> out;
  for (size_t i = 0; i < keep; ++i) out.push_back(ranked[i].first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<int64_t> ParseSeriesStep(std::string_view text) {
  if (text == "1m") return kMinuteMs;
  if (text == "5m") return 5 * kMinuteMs;
  if (text == "1h") return 60 * kMinuteMs;
  if (text == "1d") return kDayMs;
  return std::nullopt;
}

Status NormalizeSeriesRequest(SeriesRequest* r) {
  if (r->step_ms != kMinuteMs && r->step_ms != 5 * kMinuteMs && r->step_ms != 60 * kMinuteMs &&
      r->step_ms != kDayMs) {
    return Status::InvalidArgument("step", "must be one of: 1m, 5m, 1h, 1d");
  }
  if (r->from_ms >= r->to_ms) return Status::InvalidArgument("to", "must be after from");
  if (r->segment && !store::IsSeriesAttributeName(*r->segment)) {
    return Status::InvalidArgument("segment",
                                   "an attribute name is 1-128 characters of [A-Za-z0-9_.-]");
  }
  if (r->max_levels < 1) return Status::InvalidArgument("levels", "must be at least 1");
  r->from_ms = FloorTo(r->from_ms, r->step_ms);
  r->to_ms = FloorTo(r->to_ms - 1, r->step_ms) + r->step_ms;
  return Status::Ok();
}

Status CheckSeriesMetric(const MetricDefinition& metric, const char* field) {
  if (metric.type == MetricType::kBinomial) {
    return Status::InvalidArgument(
        field,
        "a binomial metric is a share of an experiment's exposed users and has no series "
        "without an experiment; define a ratio metric over a visit event (e.g. "
        "purchase / session_start) for a rate, or a count metric");
  }
  return Status::Ok();
}

store::SeriesQuery SeriesQueryOf(const MetricDefinition& metric, const SeriesRequest& request) {
  store::SeriesQuery q;
  q.events.push_back(metric.event);
  if (metric.type == MetricType::kRatio && metric.denominator_event &&
      *metric.denominator_event != metric.event) {
    q.events.push_back(*metric.denominator_event);
  }
  q.from_ms = request.from_ms;
  q.to_ms = request.to_ms;
  q.step_ms = request.step_ms;
  q.segment = request.segment.value_or("");
  return q;
}

MetricSeries BuildSeries(const MetricDefinition& metric, const SeriesRequest& request,
                         const std::vector<store::SeriesRow>& rows) {
  MetricSeries out;
  out.metric = metric;
  out.from_ms = request.from_ms;
  out.to_ms = request.to_ms;
  out.step_ms = request.step_ms;
  out.segment = request.segment;
  out.points = EmptyPoints(request);
  std::vector<std::string> levels;
  if (request.segment) {
    levels = TopLevels(rows, request.max_levels, &out.folded_levels);
    for (const auto& l : levels) out.levels.push_back(SeriesLevel{l, EmptyPoints(request)});
    if (out.folded_levels > 0) out.levels.push_back(SeriesLevel{"other", EmptyPoints(request)});
  }
  for (const store::SeriesRow& row : rows) {
    if (row.bucket_ms < request.from_ms || row.bucket_ms >= request.to_ms) continue;
    const size_t i = static_cast<size_t>((row.bucket_ms - request.from_ms) / request.step_ms);
    AddRow(metric, row, &out.points[i]);
    if (!request.segment) continue;
    auto it = std::lower_bound(levels.begin(), levels.end(), row.segment);
    const size_t level = it != levels.end() && *it == row.segment
                             ? static_cast<size_t>(it - levels.begin())
                             : out.levels.size() - 1;  // "other"
    AddRow(metric, row, &out.levels[level].points[i]);
  }
  for (auto& p : out.points) SetValue(metric.type, &p);
  for (auto& l : out.levels) {
    for (auto& p : l.points) SetValue(metric.type, &p);
  }
  return out;
}

StatusOr<MetricSeries> ReadMetricSeries(store::Store& store, const MetricDefinition& metric,
                                        SeriesRequest request, bool limit_points) {
  if (Status s = CheckSeriesMetric(metric); !s.ok()) return s;
  if (Status s = NormalizeSeriesRequest(&request); !s.ok()) return s;
  const int64_t points = (request.to_ms - request.from_ms) / request.step_ms;
  if (limit_points && points > kMaxSeriesPoints) {
    return Status::InvalidArgument(
        "step", "the range holds " + std::to_string(points) + " buckets of this step; at most " +
                    std::to_string(kMaxSeriesPoints) + ": choose a larger step or a shorter range");
  }
  StatusOr<std::vector<store::SeriesRow>> rows = store.EventSeries(SeriesQueryOf(metric, request));
  if (!rows.ok()) return rows.status();
  return BuildSeries(metric, request, *rows);
}

StatusOr<MetricKind> AlertKindOf(const MetricDefinition& metric, const char* field) {
  switch (metric.type) {
    case MetricType::kCount:
      return MetricKind::kCount;
    case MetricType::kMean:
      return MetricKind::kMean;
    case MetricType::kRatio:
      return MetricKind::kProportion;
    case MetricType::kBinomial:
      break;
  }
  return CheckSeriesMetric(metric, field);
}

std::vector<MetricBucket> ToMetricBuckets(MetricKind kind, const std::vector<MetricPoint>& points) {
  std::vector<MetricBucket> out;
  out.reserve(points.size());
  for (const MetricPoint& p : points) {
    MetricBucket b;
    b.start_ms = p.start_ms;
    switch (kind) {
      case MetricKind::kCount:
        b.numerator = static_cast<double>(p.events);
        break;
      case MetricKind::kMean:
        b.numerator = p.sum;
        b.denominator = static_cast<double>(p.events);
        break;
      case MetricKind::kProportion:
        b.numerator = p.sum;
        b.denominator = p.denominator_sum;
        break;
    }
    out.push_back(b);
  }
  return out;
}

}  // namespace causeway::app
