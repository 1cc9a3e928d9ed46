// Store::EventSeries on ClickHouse (store.h, "Metric series"): one aggregate query
// per shard where the events live (clickhouse_report.h's Shard), merged here.
#pragma once

#include <vector>

#include "common/status.h"
#include "store/clickhouse_report.h"
#include "store/store.h"

namespace causeway::store {

StatusOr<std::vector<SeriesRow>> ClickHouseEventSeries(const std::vector<Shard>& shards,
                                                       const SeriesQuery& query);

}  // namespace causeway::store
