// The ClickHouse HTTP client: escaping that round-trips every byte (parse-only,
// and through a real server), errors as values.
#include "store/clickhouse_client.h"

#include <catch2/catch.hpp>

#include "clickhouse_server.h"

using causeway::StatusCode;
using namespace causeway::store::ch;

namespace {

// Strings that break naive escaping.
const std::vector<std::string>& NastyStrings() {
  static const std::vector<std::string> kCases = {
      "",
      "plain",
      "it's",
      "'",
      "''",
      "\\",
      "\\'",
      "ends with a backslash\\",
      "tab\there",
      "new\nline",
      "carriage\rreturn",
      std::string("nul\0byte", 8),
      std::string("\0", 1),
      "\b\f",
      "\\N",
      "\\n literally",
      "'; DROP TABLE x; --",
      "\"double\" quotes and `backticks`",
      "UTF-8: é, 日本語, 🎲",
      "{\"json\": \"with \\\"escapes\\\"\\n\"}",
      "%41%00&database=system",
  };
  return kCases;
}

}  // namespace

TEST_CASE("clickhouse: EscapeTsv and ParseTsv round-trip nasty strings") {
  for (const std::string& s : NastyStrings()) {
    INFO(s);
    const std::string escaped = EscapeTsv(s);
    CHECK(escaped.find('\t') == std::string::npos);
    CHECK(escaped.find('\n') == std::string::npos);
    CHECK(escaped.find('\0') == std::string::npos);
    auto rows = ParseTsv(escaped + "\t" + escaped + "\n");
    REQUIRE(rows.size() == 1);
    REQUIRE(rows[0].size() == 2);
    CHECK(rows[0][0] == s);
    CHECK(rows[0][1] == s);
  }
}

TEST_CASE("clickhouse: ParseTsv reads rows, empty fields, NULL and a missing final newline") {
  auto rows = ParseTsv("a\t\tc\n\\N\tx\\'y\n\nlast");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == std::vector<std::string>{"a", "", "c"});
  CHECK(rows[1] == std::vector<std::string>{"", "x'y"});
  CHECK(rows[2] == std::vector<std::string>{""});
  CHECK(rows[3] == std::vector<std::string>{"last"});
  CHECK(ParseTsv("").empty());
}

TEST_CASE("clickhouse: Quote escapes quotes, backslashes and control characters") {
  CHECK(Quote("") == "''");
  CHECK(Quote("it's") == "'it\\'s'");
  CHECK(Quote("a\\b") == "'a\\\\b'");
  CHECK(Quote("'; DROP TABLE x; --") == "'\\'; DROP TABLE x; --'");
  CHECK(Quote(std::string("\n\t\r\0", 4)) == "'\\n\\t\\r\\0'");
  // Unescaped, the literal has no quote that could end it early.
  for (const std::string& s : NastyStrings()) {
    const std::string q = Quote(s);
    for (size_t i = 1; i + 1 < q.size(); ++i) {
      if (q[i] == '\\') {
        ++i;
      } else {
        CHECK(q[i] != '\'');
      }
    }
  }
}

TEST_CASE("clickhouse: identifiers") {
  CHECK(IsIdentifier("causeway"));
  CHECK(IsIdentifier("_x9"));
  CHECK_FALSE(IsIdentifier(""));
  CHECK_FALSE(IsIdentifier("9x"));
  CHECK_FALSE(IsIdentifier("a-b"));
  CHECK_FALSE(IsIdentifier("a;b"));
  CHECK_FALSE(IsIdentifier("é"));
}

TEST_CASE("clickhouse: quoted literals and TSV rows round-trip through a server") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  Client admin(server->endpoint("default"));
  REQUIRE(admin.Query("DROP DATABASE IF EXISTS cw_client_test").ok());
  REQUIRE(admin.Query("CREATE DATABASE cw_client_test").ok());
  Client client(server->endpoint("cw_client_test"));
  for (const std::string& s : NastyStrings()) {
    INFO(s);
    auto rows = client.Rows("SELECT " + Quote(s) + ", length(" + Quote(s) + ")");
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0][0] == s);
    CHECK((*rows)[0][1] == std::to_string(s.size()));
  }
  REQUIRE(client.Query("CREATE TABLE t (i UInt32, s String) ENGINE = MergeTree ORDER BY i").ok());
  std::string data;
  for (size_t i = 0; i < NastyStrings().size(); ++i) {
    data += std::to_string(i) + "\t" + EscapeTsv(NastyStrings()[i]) + "\n";
  }
  REQUIRE(client.Query("INSERT INTO t FORMAT TabSeparated", data).ok());
  auto rows = client.Rows("SELECT i, s FROM t ORDER BY i");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == NastyStrings().size());
  for (size_t i = 0; i < rows->size(); ++i) {
    CHECK((*rows)[i][1] == NastyStrings()[i]);
    // A WHERE on the quoted value finds exactly that row: nothing was injected.
    auto found = client.Rows("SELECT i FROM t WHERE s = " + Quote(NastyStrings()[i]));
    REQUIRE(found.ok());
    REQUIRE(found->size() == 1);
    CHECK((*found)[0][0] == std::to_string(i));
  }
  CHECK(admin.Query("DROP DATABASE cw_client_test").ok());
}

TEST_CASE("clickhouse: engine errors are Internal with its text, no server is Unavailable") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  Client client(server->endpoint("default"));
  auto bad = client.Query("SELECT no_such_column FROM system.one");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInternal);
  CHECK(bad.status().message().rfind("clickhouse: ", 0) == 0);
  CHECK(bad.status().message().find("no_such_column") != std::string::npos);
  // An error after rows were produced is still an error, not a truncated answer.
  auto late = client.Rows("SELECT throwIf(number = 5000) FROM system.numbers LIMIT 100000",
                          {{"max_block_size", "100"}});
  CHECK_FALSE(late.ok());

  Endpoint nowhere = server->endpoint("default");
  nowhere.port = causeway::testing::FreeLoopbackPort();
  auto down = Client(nowhere).Query("SELECT 1");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("clickhouse: basic authentication with a user and password") {
  CAUSEWAY_CLICKHOUSE_OR_SKIP(server);
  Endpoint e = server->endpoint("default");
  e.user = causeway::testing::TestClickHouse::kUser;
  e.password = causeway::testing::TestClickHouse::kPassword;
  auto ok = Client(e).Rows("SELECT 42");
  REQUIRE(ok.ok());
  CHECK((*ok)[0][0] == "42");
  e.password = "wrong";
  auto refused = Client(e).Query("SELECT 1");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInternal);
  CHECK(refused.status().message().find("password") != std::string::npos);
}
