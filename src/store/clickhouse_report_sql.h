// The report's SQL for ClickHouse, and the reading of its answer: one aggregate
// query per shard reduces an experiment's exposures and its metrics' events to
// per-variant sufficient statistics where the data lives (store/report_aggregates.h
// defines them; ReportAccumulator is the same reduction done user by user in C++,
// which the SQLite store runs, and the store tests hold the two equal).
//
// Shape of the query (ClickHouse 18.16: no window functions, no CTEs, arrays and
// lambdas instead):
//   1. GROUP BY uid over the experiment's exposures and the metrics' events (one
//      scan along the primary key (type, key, uid, ts, id)), collecting per user
//      the arrays of (ts, value, cityHash64(id)) of each event name;
//   2. per user, retried events dropped (the first of each id), the user's status
//      (single-variant, multi-variant, unknown variant), y and the CUPED covariate
//      of each metric, and the day-by-day changes of y, emitted as an array of
//      contribution rows (kind, metric, variant, day, segment, values);
//   3. ARRAY JOIN and GROUP BY (kind, metric, variant, day, segment) summing the
//      values element-wise (sumForEach): a few hundred rows come back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/report_aggregates.h"

namespace causeway::store::ch {

// The aggregate query of `query` over `table` (a database-qualified or plain
// table name, already validated), for Client::Rows.
// `event_names` are ReportAccumulator(query).EventNames().
std::string ReportSql(const ReportQuery& query, std::string_view table,
                      const std::vector<std::string>& event_names);

// Reads the TabSeparated answer of ReportSql into aggregates shaped by `query`.
StatusOr<ReportAggregates> ReadReportRows(const ReportQuery& query,
                                          const std::vector<std::vector<std::string>>& rows);

// Segments by history (RFM): per exposed user of one shard, its id, status (0:
// analysed), variant index, events of names[history] before t0 (count, t0 minus
// the last one's time, sum of values) and each metric's final (y_num, y_den,
// x_num, x_den).
std::string HistoryUsersSql(const ReportQuery& query, std::string_view table,
                            const std::vector<std::string>& names, size_t history);

// The users of one shard whose logged variant is checked against the assignment:
// (uid, variant index) of single-variant users, `every`-th by hash (1: all).
std::string AnalysedUsersSql(const ReportQuery& query, std::string_view table, int64_t every);

}  // namespace causeway::store::ch
