// Experiment configurations and metric definitions as services of the application
// layer: they decode stored configurations once (through a ConfigCodec the API
// supplies, since the format of the stored text is the API's), keep the typed
// values in memory, apply the product rules on every write, and publish the
// assignment snapshot.
//
// Thread-safety: every method may be called concurrently. Writes are serialised by
// mu_; the in-memory copies are GUARDED_BY(mu_); readers get copies. Every
// successful experiment write publishes a new immutable assign::Snapshot, so the
// assignment path never waits on a write.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "app/experiment.h"
#include "assign/engine.h"
#include "common/status.h"
#include "store/store.h"

namespace causeway::app {

// The text form of stored configurations (the store keeps it opaque).
class ConfigCodec {
 public:
  virtual ~ConfigCodec() = default;
  // Only the configuration members of Experiment are written (not the state).
  virtual std::string EncodeExperiment(const Experiment& experiment) const = 0;
  virtual StatusOr<Experiment> DecodeExperiment(std::string_view text) const = 0;
  virtual std::string EncodeMetric(const MetricDefinition& metric) const = 0;
  virtual StatusOr<MetricDefinition> DecodeMetric(std::string_view text) const = 0;
};

class MetricService;

class ExperimentService {
 public:
  // REQUIRES: the arguments outlive the service.
  ExperimentService(store::Store* store, assign::SnapshotHolder* snapshots,
                    const ConfigCodec* codec)
      : store_(store), snapshots_(snapshots), codec_(codec) {}

  // Reads and decodes every stored experiment and publishes the first snapshot.
  Status Load();

  // Normalises and stores a new experiment in phase 1 (AlreadyExists on "key").
  StatusOr<Experiment> Create(Experiment config, int64_t now_ms);
  // Applies a patch under the rules (InvalidArgument, FailedPrecondition for
  // re-randomisation without a new phase, NotFound on "key").
  StatusOr<Experiment> Patch(std::string_view key, const ExperimentPatch& patch, int64_t now_ms);
  // NotFound naming "key" when unknown.
  StatusOr<Experiment> Get(std::string_view key) const;
  std::vector<Experiment> List() const;  // by key

  const assign::SnapshotHolder& snapshots() const { return *snapshots_; }

  // When set, Create and Patch refuse metric roles naming unknown metrics
  // (InvalidArgument naming "goal_metrics[0]"). REQUIRES: outlives the service.
  void SetMetricCatalog(const MetricService* metrics) { metrics_ = metrics; }

 private:
  void PublishLocked();  // REQUIRES: mu_ held
  Status CheckMetricsExist(const Experiment& x) const;

  store::Store* const store_;
  assign::SnapshotHolder* const snapshots_;
  const ConfigCodec* const codec_;
  const MetricService* metrics_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, Experiment, std::less<>> experiments_;  // GUARDED_BY(mu_)
};

class MetricService {
 public:
  MetricService(store::Store* store, const ConfigCodec* codec) : store_(store), codec_(codec) {}

  Status Load();
  // Normalises and stores a definition (AlreadyExists on "key").
  StatusOr<MetricDefinition> Create(MetricDefinition metric, int64_t now_ms);
  StatusOr<MetricDefinition> Get(std::string_view key) const;  // NotFound naming "key"
  std::vector<MetricDefinition> List() const;                  // by key

 private:
  store::Store* const store_;
  const ConfigCodec* const codec_;
  mutable std::mutex mu_;
  std::map<std::string, MetricDefinition, std::less<>> metrics_;  // GUARDED_BY(mu_)
};

}  // namespace causeway::app
