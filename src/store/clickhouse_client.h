// A ClickHouse client over its HTTP interface (cpp-httplib's client), for the
// ClickHouse store (clickhouse_store.cc) and its report queries.
//
// Values never reach SQL unescaped: ClickHouse 18.16 has no query parameters
// ({x:String} came in 19.x), so every value written into SQL goes through
// Quote(), and row data goes in the request body as TabSeparated (EscapeTsv),
// which the server parses as data, never as SQL. Identifiers (database, table,
// cluster names) are checked with IsIdentifier before they are spliced in.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace causeway::store::ch {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 8123;
  std::string database = "causeway";  // sent as ?database=; empty: the server's default
  std::string user, password;         // basic auth when user is set
};

// Thread-safe: every call opens its own connection (httplib::Client is not
// shared), so concurrent calls neither block nor interleave.
class Client {
 public:
  explicit Client(Endpoint e);
  const Endpoint& endpoint() const { return endpoint_; }

  // POSTs `sql` (then "\n" and `data`, for INSERT ... FORMAT TabSeparated) to
  // http://host:port/ with database=endpoint.database and the extra URL
  // `settings`. The server answers only once the query has finished
  // (wait_end_of_query=1), so an error late in a SELECT is an HTTP error, never a
  // truncated 200 body. Returns the body; Internal("clickhouse: <its error>") when
  // the server refuses the query; Unavailable when it cannot be reached.
  StatusOr<std::string> Query(
      std::string_view sql, std::string_view data = {},
      const std::vector<std::pair<std::string, std::string>>& settings = {});

  // Query(sql + " FORMAT TabSeparated") parsed into rows of unescaped fields.
  StatusOr<std::vector<std::vector<std::string>>> Rows(
      std::string_view sql, const std::vector<std::pair<std::string, std::string>>& settings = {});

 private:
  Endpoint endpoint_;
};

// A ClickHouse string literal: '...' with \\ \' \n \t \r \0 (and \b \f) escaped.
std::string Quote(std::string_view s);

// A field of the TabSeparated format: \\ \t \n \r \0 \b \f escaped.
std::string EscapeTsv(std::string_view s);

// A TabSeparated body into rows of unescaped fields (the inverse of EscapeTsv,
// plus the escapes ClickHouse writes: \' and \N, read as the text "\N" is not: a
// NULL field reads as the empty string). A final newline ends the last row.
std::vector<std::vector<std::string>> ParseTsv(std::string_view body);

// [A-Za-z_][A-Za-z0-9_]*: a database, table or cluster name safe to splice into SQL.
bool IsIdentifier(std::string_view name);

}  // namespace causeway::store::ch
