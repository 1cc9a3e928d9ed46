#include "api/resources/metric_series.h"

#include <charconv>
#include <cmath>

#include "api/codec/field_reader.h"
#include "api/codec/time_text.h"
#include "app/metric_series.h"

namespace causeway::api {
namespace {

constexpr int64_t kMaxLevels = 50;

// ms since the epoch, or an ISO 8601 time.
void ReadTime(FieldReader& r, std::string_view name, int64_t* out) {
  std::string text;
  r.Required(name, &text);
  if (!r.ok()) return;
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && p == text.data() + text.size()) {
    *out = ms;
    return;
  }
  std::optional<int64_t> iso = ParseIsoTime(text);
  r.Check(iso.has_value(), name,
          "must be milliseconds since the epoch or an ISO 8601 time (2027-01-31T12:00:00Z)");
  if (iso) *out = *iso;
}

Status DecodeSeriesQuery(const std::multimap<std::string, std::string>& query,
                         app::SeriesRequest* out) {
  FieldReader r = FieldReader::Query(query);
  ReadTime(r, "from", &out->from_ms);
  ReadTime(r, "to", &out->to_ms);
  std::string step = "1h";
  r.Optional("step", &step);
  const std::optional<int64_t> step_ms = app::ParseSeriesStep(step);
  r.Check(step_ms.has_value(), "step", "must be one of: 1m, 5m, 1h, 1d");
  if (step_ms) out->step_ms = *step_ms;
  r.Optional("segment", &out->segment);
  int64_t levels = out->max_levels;
  r.Optional("levels", &levels);
  r.Check(levels >= 1 && levels <= kMaxLevels, "levels", "must be from 1 to 50");
  out->max_levels = static_cast<int>(std::clamp<int64_t>(levels, 1, kMaxLevels));
  return r.Finish();
}

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(); }

Json EncodePoints(const std::vector<app::MetricPoint>& points, bool ratio) {
  Json out = Json::array();
  for (const app::MetricPoint& p : points) {
    Json j = {{"start_ms", p.start_ms}, {"start", IsoTime(p.start_ms)},
              {"value", Num(p.value)},  {"events", p.events},
              {"sum", p.sum},           {"sum_squares", p.sum_squares}};
    if (ratio) {
      j["denominator_events"] = p.denominator_events;
      j["denominator_sum"] = p.denominator_sum;
    }
    out.push_back(std::move(j));
  }
  return out;
}

// What a point's value is, per metric type (docs/alerts.md).
const char* ValueMeaning(app::MetricType type) {
  switch (type) {
    case app::MetricType::kCount:
      return "events in the bucket";
    case app::MetricType::kMean:
      return "sum of the event values / events in the bucket (null without events)";
    case app::MetricType::kRatio:
      return "sum of event values / sum of denominator_event values in the bucket (null when "
             "the denominator is 0)";
    case app::MetricType::kBinomial:
      break;
  }
  return "";
}

Json EncodeSeries(const app::MetricSeries& s, const std::string& step) {
  const app::MetricDefinition& m = s.metric;
  const bool ratio = m.type == app::MetricType::kRatio;
  Json out = {
      {"metric", m.key},
      {"type", app::MetricTypeName(m.type)},
      {"event", m.event},
      {"denominator_event", ratio && m.denominator_event ? Json(*m.denominator_event) : Json()},
      {"value", ValueMeaning(m.type)},
      {"from_ms", s.from_ms},
      {"to_ms", s.to_ms},
      {"from", IsoTime(s.from_ms)},
      {"to", IsoTime(s.to_ms)},
      {"step", step},
      {"step_ms", s.step_ms},
      {"points", EncodePoints(s.points, ratio)}};
  if (!s.segment) {
    out["segments"] = nullptr;
    return out;
  }
  Json levels = Json::array();
  for (const app::SeriesLevel& l : s.levels) {
    levels.push_back({{"segment", l.segment}, {"points", EncodePoints(l.points, ratio)}});
  }
  out["segments"] = {
      {"by", *s.segment}, {"folded_levels", s.folded_levels}, {"levels", std::move(levels)}};
  return out;
}

}  // namespace

HandlerResult MetricSeries(store::Store& store, ExperimentService& experiments,
                           std::string_view key,
                           const std::multimap<std::string, std::string>& query) {
  app::SeriesRequest request;
  if (Status s = DecodeSeriesQuery(query, &request); !s.ok()) return s;
  StatusOr<app::MetricDefinition> metric = experiments.metrics().Get(key);
  if (!metric.ok()) return metric.status();
  StatusOr<app::MetricSeries> series = app::ReadMetricSeries(store, *metric, request);
  if (!series.ok()) return series.status();
  std::string step = "1h";
  if (series->step_ms == app::kMinuteMs) step = "1m";
  if (series->step_ms == 5 * app::kMinuteMs) step = "5m";
  if (series->step_ms == app::kDayMs) step = "1d";
  return EncodeSeries(*series, step);
}

}  // namespace causeway::api
