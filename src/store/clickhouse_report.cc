// Placeholder: the report SQL replaces this file.
#include "store/clickhouse_report.h"

namespace causeway::store {

StatusOr<ReportAggregates> ClickHouseAggregateReport(const std::vector<Shard>&,
                                                     const ReportQuery&) {
  return Status::Internal("not yet");
}
StatusOr<ExposureSummary> ClickHouseSummarizeExposures(const std::vector<Shard>&, std::string_view,
                                                       int64_t) {
  return Status::Internal("not yet");
}
StatusOr<std::vector<VariantMetricStats>> ClickHouseMetricStats(const std::vector<Shard>&,
                                                                std::string_view, int64_t,
                                                                std::string_view, int64_t) {
  return Status::Internal("not yet");
}
StatusOr<std::vector<VariantRatioStats>> ClickHouseRatioMetricStats(const std::vector<Shard>&,
                                                                    std::string_view, int64_t,
                                                                    std::string_view,
                                                                    std::string_view, int64_t) {
  return Status::Internal("not yet");
}

}  // namespace causeway::store
