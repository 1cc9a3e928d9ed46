// The report's SQL for ClickHouse, and the reading of its answer: one aggregate
// query per shard reduces an experiment's exposures and its metrics' events to
// per-variant sufficient statistics where the data lives (store/report_aggregates.h
// defines them; ReportAccumulator is the same reduction done user by user in C++,
// which the SQLite store runs, and the store tests hold the two equal).
//
// Shape of the queries (ClickHouse 18.16: no window functions, no CTEs, arrays
// and lambdas instead):
//   users     the experiment's exposures only, GROUP BY uid (status, variant,
//             t0), then GROUP BY (status, variant, day of t0): counts.
//   changes   1. GROUP BY uid over the exposures and the metrics' events (one
//                scan along the primary key (type, key, uid, ts, id)), collecting
//                per user the arrays of (ts, value, cityHash64(id)) of each name;
//             2. per user, retried events dropped (the first of each id), the
//                user's status, the CUPED covariate of each metric, and the days
//                on which y changes with the changes of y and of its squares;
//             3. ARRAY JOIN of the analysed users' entries (day of t0) and
//                changes, GROUP BY (metric, variant, day): the daily series'
//                increments, whose sum is the final statistics.
//   segments  (segmented reports) the same per-user values, GROUP BY (variant,
//             segment) summing the final values and their cross-products.
// The GROUP BY keys past the first level are numeric but the segment's, which
// keeps ClickHouse on its fast fixed-size-key hash tables; a few hundred rows
// come back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/report_aggregates.h"

namespace causeway::store::ch {

// The aggregate queries of `query` over `table` (a database-qualified or
// plain table name, already validated), for Client::Rows.
// `event_names` are ReportAccumulator(query).EventNames().
struct ReportSql {
  std::string users;                  // exposures only: per (status, variant, day of t0)
  std::vector<std::string> changes;   // per (metric, variant, day): the daily increments,
                                      // one query per bucket of users; none when the
                                      // query reads no event name
  std::vector<std::string> segments;  // per (variant, segment): the final moments, one
                                      // per bucket; none when not segmented
};
// `buckets` > 1 splits the users by cityHash64(uid) into that many queries of
// each kind (ClickHouse 18.16 runs the per-user steps of one query in one
// thread: buckets run side by side); their rows simply add up.
ReportSql ReportQueries(const ReportQuery& query, std::string_view table,
                        const std::vector<std::string>& event_names, size_t buckets = 1);

// The TabSeparated answers of the ReportSql queries, the rows of every bucket
// of a kind together.
struct ReportRows {
  std::vector<std::vector<std::string>> users, changes, segments;
};
StatusOr<ReportAggregates> ReadReportRows(const ReportQuery& query, const ReportRows& rows);

// Segments by history (RFM): per exposed user of one shard, its id, status (0:
// analysed), variant index, events of names[history] before t0 (count, t0 minus
// the last one's time, sum of values) and each metric's final (y_num, y_den,
// x_num, x_den).
// The number of events the report's queries read (exposures since the phase,
// the metrics' conversions).
std::string ReportEventCountSql(const ReportQuery& query, std::string_view table,
                                const std::vector<std::string>& names);

std::string HistoryUsersSql(const ReportQuery& query, std::string_view table,
                            const std::vector<std::string>& names, size_t history);

// The users of one shard whose logged variant is checked against the assignment:
// (uid, variant index) of single-variant users, `every`-th by hash (1: all).
std::string AnalysedUsersSql(const ReportQuery& query, std::string_view table, int64_t every);

}  // namespace causeway::store::ch
