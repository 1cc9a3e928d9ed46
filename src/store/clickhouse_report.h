// The report's aggregate queries on ClickHouse (store/clickhouse_report_sql.h),
// run on every shard where the events live and merged here. A shard is a client
// on one server and the table holding that shard's events: a single node is one
// shard {client, "events"}; a cluster is one shard per system.clusters shard
// {its client, "events_local"}; every user's events are on one shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/clickhouse_client.h"
#include "store/report_aggregates.h"
#include "store/store.h"

namespace causeway::store {

// The default size of a ClickHouse report's bucket (ClickHouseOptions).
inline constexpr int64_t kReportRowsPerBucket = 12'500'000;

struct Shard {
  ch::Client* client;
  std::string table;
  // A report splits the shard's users into buckets of about this many of the
  // events it reads (ClickHouseOptions::report_rows_per_bucket).
  int64_t rows_per_bucket = kReportRowsPerBucket;
};

StatusOr<ReportAggregates> ClickHouseAggregateReport(const std::vector<Shard>& shards,
                                                     const ReportQuery& query);
StatusOr<ExposureSummary> ClickHouseSummarizeExposures(const std::vector<Shard>& shards,
                                                       std::string_view experiment,
                                                       int64_t since_ms);
StatusOr<std::vector<std::string>> ClickHouseSampleExposureAttributes(
    const std::vector<Shard>& shards, std::string_view experiment, int64_t since_ms, int64_t limit);
StatusOr<std::vector<VariantMetricStats>> ClickHouseMetricStats(const std::vector<Shard>& shards,
                                                                std::string_view experiment,
                                                                int64_t since_ms,
                                                                std::string_view event,
                                                                int64_t window_ms);
StatusOr<std::vector<VariantRatioStats>> ClickHouseRatioMetricStats(
    const std::vector<Shard>& shards, std::string_view experiment, int64_t since_ms,
    std::string_view numerator_event, std::string_view denominator_event, int64_t window_ms);

}  // namespace causeway::store
