// Experiment configuration: validation, storage, phases, and the assignment
// snapshot. Writes are serialised by mu_; every successful write publishes a new
// immutable assign::Snapshot so the assignment path never waits on them.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/handler.h"
#include "assign/engine.h"
#include "store/store.h"

namespace causeway::api {

class ExperimentService {
 public:
  ExperimentService(store::Store* store, assign::SnapshotHolder* snapshots)
      : store_(store), snapshots_(snapshots) {}

  // Loads every stored experiment and publishes the first snapshot.
  bool Load(std::string* error);

  HandlerResult Create(const Json& body);                       // POST /v1/experiments
  HandlerResult List();                                         // GET /v1/experiments
  HandlerResult Get(std::string_view key);                      // GET /v1/experiments/{key}
  HandlerResult Patch(std::string_view key, const Json& body);  // PATCH /v1/experiments/{key}

  // What the analysis endpoints need of an experiment, copied from the current
  // snapshot, with the start of its current phase; a 404 naming `key` if unknown.
  struct View {
    std::string key;
    int phase = 1;
    // Lower bound on exposure timestamps for analyses: the start of the current
    // phase, or 0 in phase 1 (no earlier phase to separate from, so backfilled
    // history and slightly early client clocks still count).
    int64_t since_ms = 0;
    assign::ExperimentStatus status = assign::ExperimentStatus::kDraft;
    std::vector<assign::VariantSpec> variants;
  };
  std::variant<View, Status> Find(std::string_view key);

  const assign::SnapshotHolder& snapshots() const { return *snapshots_; }

 private:
  StatusOr<Json> Render(const store::ExperimentRow& row);
  bool Republish(std::string* error);  // REQUIRES: mu_ held

  store::Store* store_;
  assign::SnapshotHolder* snapshots_;
  std::mutex mu_;  // serialises configuration writes
};

// Parses a stored/validated experiment config into the engine's spec.
// REQUIRES: `config` passed validation.
assign::ExperimentSpec SpecFromConfig(const Json& config, int phase);

}  // namespace causeway::api
