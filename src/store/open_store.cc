#include "store/open_store.h"

#include "store/sqlite_store.h"

namespace causeway::store {

std::unique_ptr<Store> OpenStore(const StoreOptions& options, std::string* error) {
  if (options.clickhouse) return OpenClickHouseStore(*options.clickhouse, error);
  return OpenSqliteStore(options.db_path, error);
}

}  // namespace causeway::store
