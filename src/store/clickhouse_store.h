// The scale-out store: ClickHouse over its HTTP interface, a single node or a
// cluster (docs/clickhouse.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "store/clickhouse_client.h"
#include "store/clickhouse_report.h"
#include "store/store.h"

namespace causeway::store {

struct ClickHouseOptions {
  ch::Endpoint endpoint;  // the server Causeway talks to, and the database of its tables
  // A cluster of system.clusters: events in `events_local` on every shard, written
  // and counted through a Distributed table `events` (docs/clickhouse.md). Empty:
  // a single node.
  std::string cluster;
  // A report splits each shard's users by cityHash64(uid) into buckets of about
  // this many of the events it reads (at least the server's max_threads
  // buckets), and runs max_threads bucket queries at a time: the server's
  // memory for a report is bounded by max_threads buckets, whatever the data's
  // size (docs/clickhouse.md). About 1.5 GB per query at the default.
  int64_t report_rows_per_bucket = kReportRowsPerBucket;
};

// Connects to ClickHouse and creates the database and tables that are missing
// (idempotent; several processes may open at once). On failure (unreachable
// server, refused credentials, unknown cluster) returns nullptr and sets *error.
std::unique_ptr<Store> OpenClickHouseStore(const ClickHouseOptions& options, std::string* error);

}  // namespace causeway::store
