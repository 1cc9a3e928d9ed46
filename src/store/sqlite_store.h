// The embedded store: one SQLite file in WAL mode (docs/events.md, "Durability").
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace causeway::store {

// Opens (creating if needed) the SQLite database at `path`, creating parent
// directories. On failure returns nullptr and sets *error.
std::unique_ptr<Store> OpenSqliteStore(const std::string& path, std::string* error);

}  // namespace causeway::store
