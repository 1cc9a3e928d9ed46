// causeway simulate: demo data for an experiment, sent through the public HTTP API.
//
// Creates the metrics and the experiment when they do not exist (a second run
// reuses them), then sends exposures and conversions for `users` simulated users
// with POST /v1/events, as a product would: every user gets the variant the
// experiment's hash gives (the same src/assign code the server runs), a pre-period
// of sessions and purchases before their first exposure (so CUPED has a covariate),
// and post-exposure behaviour with a relative lift of `effect` on purchases in the
// treatment. Event ids are derived from (experiment, seed, user, event), so a rerun
// with the same flags sends only duplicates and changes no count.
//
// The model and the flags are documented in docs/running.md ("Demo data").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace causeway::cli {

struct SimulateOptions {
  std::string experiment;             // required; the experiment key
  int64_t users = 20000;              // simulated users, 1..10 000 000
  double effect = 0.03;               // relative lift of the purchase rate, in (-1, 10]
  int days = 14;                      // first exposures spread over the last `days` days
  bool srm = false;                   // drop every exposure of ~8 % of treatment users
  std::vector<std::string> segments;  // "country", "platform": attributes sent with exposures
  std::string url = "http://127.0.0.1:8080";
  std::string key;  // admin key (--key, else CAUSEWAY_ADMIN_KEY)
  uint64_t seed = 1;
};

// Reads the flags after `causeway simulate`. False with *error naming the flag
// when one is unknown, lacks its value or has a bad value.
bool ParseSimulateOptions(int argc, char** argv, SimulateOptions* options, std::string* error);

// Runs the simulation against the server at options.url; prints progress and, at
// the end, the report and page URLs on standard output. Returns the exit status:
// 0 on success, 1 when the server refuses or cannot be reached (the reason on
// standard error).
int RunSimulate(const SimulateOptions& options);

}  // namespace causeway::cli
