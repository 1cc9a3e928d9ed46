// The commands of the `causeway` program, one file each: argv holds the
// arguments after the command's name; each returns the process's exit status
// (0 success, 1 failure, 2 a bad command line).
#pragma once

namespace causeway::cli {

// causeway serve: the store, the services and the HTTP server (cli/serve.cc).
int RunServe(int argc, char** argv);

// causeway keys create|list|revoke: API keys, on the store directly (cli/keys.cc).
int RunKeys(int argc, char** argv);

// causeway simulate: demo data through the HTTP API (cli/simulate.h).
int RunSimulate(int argc, char** argv);

}  // namespace causeway::cli
