// Which store a process opens: the one place that chooses a backend, so the HTTP
// server and the command line depend on the Store interface and these options only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "store/clickhouse_store.h"
#include "store/store.h"

namespace causeway::store {

struct StoreOptions {
  std::string db_path = "data/causeway.db";  // the SQLite store, unless `clickhouse` is set
  // The ClickHouse store (docs/clickhouse.md) instead of SQLite when set.
  std::optional<ClickHouseOptions> clickhouse;
};

// OpenClickHouseStore when options.clickhouse is set, else OpenSqliteStore.
// nullptr and *error on failure.
std::unique_ptr<Store> OpenStore(const StoreOptions& options, std::string* error);

}  // namespace causeway::store
