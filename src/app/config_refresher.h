// Follows configuration written by other processes on the same store.
//
// Several Causeway instances may share one store (docs/architecture.md, "Several
// instances"). Each keeps its experiments and metrics in memory; this class
// tells whether the stored configuration changed since the instance last loaded
// it, by the store's ConfigVersion, and when it did, reloads metrics and then
// experiments (so an experiment is never loaded without the metrics that existed
// before it), each swapped whole (app/services.h).
//
// Bound: a change committed by any process is served by an instance after at most
// one poll interval plus one reload (the caller polls; api/http/server.cc).
//
// Thread-safety: Load and Poll must not run concurrently with each other (one
// poller thread calls them); the services they reload are thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "app/feature_service.h"
#include "app/services.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

class ConfigRefresher {
 public:
  // REQUIRES: the arguments outlive the refresher.
  ConfigRefresher(store::Store* store, MetricService* metrics, ExperimentService* experiments)
      : store_(store), metrics_(metrics), experiments_(experiments) {}

  // Reads the version, then loads metrics and experiments. On error the version
  // is not recorded, so the next Poll loads again.
  Status Load();

  // true when the version differed from the one last loaded and the reload
  // succeeded; false when nothing changed. On error (the store unreachable, a
  // stored configuration undecodable) the services keep what they had and the
  // next Poll tries again.
  StatusOr<bool> Poll();

  // Also reloads features (after experiments, which they name). REQUIRES: outlives
  // the refresher; set before Load.
  void SetFeatures(FeatureService* features) { features_ = features; }

  // The version of the configuration last loaded; nullopt before a successful Load.
  std::optional<int64_t> loaded_version() const { return loaded_version_; }

 private:
  Status LoadAt(int64_t version);

  store::Store* const store_;
  MetricService* const metrics_;
  ExperimentService* const experiments_;
  FeatureService* features_ = nullptr;
  std::optional<int64_t> loaded_version_;
};

}  // namespace causeway::app
