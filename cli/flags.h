// The flag parsing the commands share: the usage text, port numbers and the
// store choice (--db or --store clickhouse and its options).
#pragma once

#include <string>

#include "store/open_store.h"

namespace causeway::cli {

// Prints "causeway: <problem>" (when given) and the usage to standard error;
// returns 2, the exit status of a bad command line.
int Usage(const char* problem);

// Prints the usage to standard output (--help); returns 0.
int Help();

// True when argv holds --help or -h.
bool WantsHelp(int argc, char** argv);

// Parses a port number in [0, 65535].
bool ParsePort(const char* s, int* port);

// Where the data lives: --db (SQLite) or --store clickhouse and its options,
// from the environment, then the flags.
struct StoreChoice {
  std::string kind = "sqlite";
  std::string db = "data/causeway.db";
  std::string url, database = "causeway", user, password_file, cluster;
  bool clickhouse_flag = false;  // a --clickhouse-* option was given

  // CAUSEWAY_DB, CAUSEWAY_STORE and CAUSEWAY_CLICKHOUSE_*.
  void FromEnvironment();

  // Consumes argv[i] (and its value) when it is a store option: 1 when consumed,
  // 0 when it is not one, -1 (and *problem) when its value is missing.
  int Flag(int argc, char** argv, int* i, std::string* problem);

  // The store to open, or false and *error for a bad choice, URL or password file.
  bool Resolve(store::StoreOptions* out, std::string* error) const;
};

}  // namespace causeway::cli
