#include "store/clickhouse_series.h"

#include <charconv>
#include <cstdlib>
#include <future>
#include <string>

#include "store/event_series.h"

namespace causeway::store {
namespace {

using ch::Quote;

// The per-shard SQL. The inner query reads each event id once (a retried batch's
// second copy, not yet merged by ReplacingMergeTree, shares the whole sorting key
// (type, key, uid, ts, id) with the first); the outer one buckets with intDiv
// from from_ms, as SQLite's ranges do, and groups by the raw JSON value of the
// attribute (decoded to its label in C++, the same way for both backends).
std::string ShardSql(const Shard& shard, const SeriesQuery& q) {
  std::string names;
  for (const std::string& e : q.events) names += (names.empty() ? "" : ", ") + Quote(e);
  const std::string from = std::to_string(q.from_ms), step = std::to_string(q.step_ms);
  const bool segmented = !q.segment.empty();
  const std::string seg =
      segmented ? "if(attrs = '', '', visitParamExtractRaw(attrs, " + Quote(q.segment) + "))"
                : "''";
  return "SELECT " + from + " + intDiv(ts - " + from + ", " + step + ") * " + step +
         " AS b, key, " + seg +
         " AS s, count(), sum(value), sum(value * value) FROM (SELECT key, ts, any(value) AS "
         "value, any(attrs) AS attrs FROM " +
         shard.table + " WHERE type = 1 AND key IN (" + names + ") AND ts >= " + from +
         " AND ts < " + std::to_string(q.to_ms) +
         " GROUP BY key, uid, ts, id) GROUP BY b, key, s ORDER BY b, key, s";
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

StatusOr<std::vector<SeriesRow>> ClickHouseEventSeries(const std::vector<Shard>& shards,
                                                       const SeriesQuery& query) {
  if (Status s = CheckSeriesQuery(query); !s.ok()) return s;
  using Rows = StatusOr<std::vector<std::vector<std::string>>>;
  std::vector<std::future<Rows>> parts;
  for (const Shard& shard : shards) {
    parts.push_back(std::async(std::launch::async, [&shard, &query] {
      return shard.client->Rows(ShardSql(shard, query));
    }));
  }
  SeriesMerger merged;
  Status status;
  const bool segmented = !query.segment.empty();
  for (auto& part : parts) {
    Rows rows = part.get();
    if (!rows.ok()) {
      if (status.ok()) status = rows.status();
      continue;
    }
    for (const auto& f : *rows) {
      if (f.size() != 6) {
        if (status.ok()) status = Status::Internal("clickhouse: a series row without 6 columns");
        break;
      }
      merged.Add(ToInt(f[0]), f[1], segmented ? SegmentLabel(f[2]) : std::string(), ToInt(f[3]),
                 std::strtod(f[4].c_str(), nullptr), std::strtod(f[5].c_str(), nullptr));
    }
  }
  if (!status.ok()) return status;
  return merged.Rows();
}

}  // namespace causeway::store
