// A clickhouse-server of the tests' own: started on free loopback ports with a
// config written to a temporary directory (no root, no system service), once per
// test binary (TestClickHouse::Shared(); tests use distinct databases), stopped
// and its directory removed at exit.
//
// The binary: $CAUSEWAY_CLICKHOUSE_SERVER, else /usr/sbin/clickhouse-server. When it
// is missing, tests using CAUSEWAY_CLICKHOUSE_OR_SKIP are skipped with a message,
// and fail when the environment variable CI is set (CI must run them).
#pragma once

#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/clickhouse_client.h"

namespace causeway::testing {

class TestClickHouse {
 public:
  // The user with a password, for authentication tests.
  static constexpr const char* kUser = "cw_test";
  static constexpr const char* kPassword = "pa ss'word\\";
  // The cluster of two shards on this server itself (databases cw_shard1 and cw_shard2).
  static constexpr const char* kCluster = "two_shards";

  // The process-wide server, started at the first call. nullptr when it cannot
  // start; *why says why (also on later calls).
  static TestClickHouse* Shared(std::string* why);

  // Starts a server; throws std::runtime_error when it does not answer /ping within 30 s.
  explicit TestClickHouse(const std::string& binary);
  ~TestClickHouse();  // SIGTERM, SIGKILL after 10 s; removes the directory
  TestClickHouse(const TestClickHouse&) = delete;
  TestClickHouse& operator=(const TestClickHouse&) = delete;

  // The default user on `database` (which the caller creates, or the store does).
  store::ch::Endpoint endpoint(const std::string& database = "default") const;
  int http_port() const { return http_port_; }
  int tcp_port() const { return tcp_port_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  void Stop();  // stops the server (if running) and removes the directory

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int http_port_ = -1, tcp_port_ = -1;
};

// A free loopback TCP port (bound to port 0, read, closed).
int FreeLoopbackPort();

}  // namespace causeway::testing

// Declares `TestClickHouse* name` (the shared server) or ends the test: a failure
// when $CI is set, else a warning that it was skipped.
#define CAUSEWAY_CLICKHOUSE_OR_SKIP(name)                                        \
  std::string name##_why;                                                        \
  causeway::testing::TestClickHouse* name =                                      \
      causeway::testing::TestClickHouse::Shared(&name##_why);                    \
  if (!name) {                                                                   \
    if (std::getenv("CI")) FAIL("ClickHouse is required in CI: " << name##_why); \
    WARN("SKIPPED: no ClickHouse server for this test: " << name##_why);         \
    return;                                                                      \
  }
