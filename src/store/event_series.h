// Shared pieces of Store::EventSeries (store.h, "Metric series") for the SQLite and
// ClickHouse implementations: the attribute-name rule, the label of a raw JSON
// attribute value, and the merge of partial rows (several raw spellings of one
// value, several shards) into the ordered answer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace causeway::store {

// [A-Za-z0-9_.-]{1,128}: safe inside a quoted JSON path and a SQL literal.
bool IsSeriesAttributeName(std::string_view name);

// The segment label of an attribute's raw JSON value as the backends return it
// ("\"web\"" -> web, 3 -> 3, true -> true); kNoSegmentValue for null or absent ("").
std::string SegmentLabel(std::string_view raw);

// Checks a query (names, step, range, segment). InvalidArgument naming the field.
Status CheckSeriesQuery(const SeriesQuery& query);

class SeriesMerger {
 public:
  void Add(int64_t bucket_ms, const std::string& event, const std::string& segment, int64_t events,
           double sum, double sum_squares);
  // Ordered by bucket, event, segment.
  std::vector<SeriesRow> Rows() const;

 private:
  std::map<std::tuple<int64_t, std::string, std::string>, SeriesRow> rows_;
};

}  // namespace causeway::store
