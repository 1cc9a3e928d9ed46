// causeway: the experimentation and causal-inference service.
//
//   causeway serve [--port N] [STORE] [--host H] [--threads N]
//                  [--insecure-no-auth] [--access-log] [--config-poll-ms MS]
//   causeway keys create --scope sdk|admin|client [--name N] [--expires-in-days D] [STORE]
//   causeway keys list [STORE]
//   causeway keys revoke ID [STORE]
// where STORE is --db PATH (SQLite, the default) or --store clickhouse
// --clickhouse-url http://host:8123 [--clickhouse-database D] [--clickhouse-user U
// --clickhouse-password-file F] [--clickhouse-cluster C].
//   causeway simulate --experiment KEY [--users N] [--effect E] [--days D] [--srm]
//                     [--segments country[,platform]] [--url URL] [--key ADMIN_KEY] [--seed S]
//
// Environment: CAUSEWAY_PORT, CAUSEWAY_DB, CAUSEWAY_STORE, CAUSEWAY_CLICKHOUSE_URL,
// CAUSEWAY_CLICKHOUSE_DATABASE, CAUSEWAY_CLICKHOUSE_USER,
// CAUSEWAY_CLICKHOUSE_PASSWORD_FILE, CAUSEWAY_CLICKHOUSE_CLUSTER override the
// defaults; flags override the environment. The usage text is in cli/flags.cc.
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"

int main(int argc, char** argv) {
  namespace cli = causeway::cli;
  if (argc < 2) return cli::Usage(nullptr);
  const std::string cmd = argv[1];
  if (cmd == "serve") return cli::RunServe(argc - 2, argv + 2);
  if (cmd == "keys") return cli::RunKeys(argc - 2, argv + 2);
  if (cmd == "simulate") return cli::RunSimulate(argc - 2, argv + 2);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return cli::Help();
  return cli::Usage(("unknown command " + cmd).c_str());
}
