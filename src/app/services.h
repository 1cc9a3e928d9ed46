// Experiment configurations and metric definitions as services of the application
// layer: they decode stored configurations once (through a ConfigCodec the API
// supplies, since the format of the stored text is the API's), keep the typed
// values in memory, apply the product rules on every write, and publish the
// assignment snapshot.
//
// Thread-safety: every method may be called concurrently. Writes and (re)loads
// are serialised by write_mu_, which is held across the store's I/O; the
// in-memory map changes only with write_mu_ and mu_ both held, and mu_ is held
// only to copy or swap it, so readers (who take mu_ and get copies) never wait on
// the store. A load swaps the whole map at once: readers see the old
// configuration or the new one, never a mix. Because a load holds write_mu_ from
// its first read of the store to its swap, it cannot undo a write made through
// the same service. Every successful experiment write or load publishes a new
// immutable assign::Snapshot, so the assignment path never waits on a write.
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

  // Reads and decodes every stored experiment, replaces the in-memory ones and
  // publishes a snapshot of them. On error nothing changes. Called at start and
  // again whenever another process changed the configuration (ConfigRefresher).
  Status Load();

  // Normalises and stores a new experiment in phase 1 (AlreadyExists on "key").
  StatusOr<Experiment> Create(Experiment config, int64_t now_ms);
  // Applies a patch under the rules (InvalidArgument, FailedPrecondition for
  // re-randomisation without a new phase, NotFound on "key") to the experiment as
  // stored, which another instance may have changed since this one loaded it.
  StatusOr<Experiment> Patch(std::string_view key, const ExperimentPatch& patch, int64_t now_ms);
  // Applies a rollout decision other than kHold (app/rollout.h) to the stored
  // experiment: its step, coverage and history; a rollback also stops it, and it
  // then serves its control. FailedPrecondition when it has no rollout.
  StatusOr<Experiment> ApplyRollout(std::string_view key, const RolloutDecision& decision,
                                    int64_t as_of_ms, int64_t now_ms);
  // NotFound naming "key" when unknown.
  StatusOr<Experiment> Get(std::string_view key) const;
  std::vector<Experiment> List() const;  // by key

  const assign::SnapshotHolder& snapshots() const { return *snapshots_; }

  // When set, Create and Patch refuse metric roles naming unknown metrics
  // (InvalidArgument naming "goal_metrics[0]"). REQUIRES: outlives the service.
  void SetMetricCatalog(const MetricService* metrics) { metrics_ = metrics; }

 private:
  void PublishLocked();  // REQUIRES: write_mu_ held
  // Stores x (and new_phase, if any) and publishes it. REQUIRES: write_mu_ held
  Status UpdateLocked(const Experiment& x, const store::PhaseRow* new_phase);
  // A stored row decoded, with its phases up to row.phase.
  StatusOr<Experiment> Decode(const store::ExperimentRow& row) const;
  Status CheckMetricsExist(const Experiment& x) const;

  store::Store* const store_;
  assign::SnapshotHolder* const snapshots_;
  const ConfigCodec* const codec_;
  const MetricService* metrics_ = nullptr;
  std::mutex write_mu_;  // serialises Create, Patch and Load, store I/O included
  mutable std::mutex mu_;
  // Written with write_mu_ and mu_ held; read with either.
  std::map<std::string, Experiment, std::less<>> experiments_;
};

class MetricService {
 public:
  MetricService(store::Store* store, const ConfigCodec* codec) : store_(store), codec_(codec) {}

  // Reads and decodes every stored definition and replaces the in-memory ones; on
  // error nothing changes.
  Status Load();
  // Normalises and stores a definition (AlreadyExists on "key").
  StatusOr<MetricDefinition> Create(MetricDefinition metric, int64_t now_ms);
  StatusOr<MetricDefinition> Get(std::string_view key) const;  // NotFound naming "key"
  std::vector<MetricDefinition> List() const;                  // by key

 private:
  store::Store* const store_;
  const ConfigCodec* const codec_;
  std::mutex write_mu_;  // serialises Create and Load, store I/O included
  mutable std::mutex mu_;
  // Written with write_mu_ and mu_ held; read with either.
  std::map<std::string, MetricDefinition, std::less<>> metrics_;
};

}  // namespace causeway::app
