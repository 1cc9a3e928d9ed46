#include "store/event_series.h"

#include "store/report_aggregates.h"

namespace causeway::store {

bool IsSeriesAttributeName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SegmentLabel(std::string_view raw) {
  if (raw.empty() || raw == "null") return kNoSegmentValue;
  // The value read back as the member of a one-member object, so that both
  // backends' raw texts decode by the same rules as the report's segments.
  std::optional<std::string> v = FlatJsonValue("{\"v\":" + std::string(raw) + "}", "v");
  return v ? *v : std::string(kNoSegmentValue);
}

Status CheckSeriesQuery(const SeriesQuery& query) {
  if (query.events.empty()) return Status::InvalidArgument("events", "name at least one event");
  if (query.step_ms <= 0) return Status::InvalidArgument("step", "must be positive");
  if (query.to_ms <= query.from_ms) return Status::InvalidArgument("to", "must be after from");
  if (!query.segment.empty() && !IsSeriesAttributeName(query.segment)) {
    return Status::InvalidArgument("segment",
                                   "an attribute name is 1-128 characters of [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

void SeriesMerger::Add(int64_t bucket_ms, const std::string& event, const std::string& segment,
                       int64_t events, double sum, double sum_squares) {
  SeriesRow& r = rows_[{bucket_ms, event, segment}];
  r.bucket_ms = bucket_ms;
  r.event = event;
  r.segment = segment;
  r.events += events;
  r.sum += sum;
  r.sum_squares += sum_squares;
}

std::vector<SeriesRow> SeriesMerger::Rows() const {
  std::vector<SeriesRow> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.push_back(row);
  return out;
}

}  // namespace causeway::store
