// The assignment engine: which variant of an experiment does a user get?
//
// variant = f(hash(seed, user), weights, coverage, namespace, condition). Pure and
// stateless: any number of service instances agree without talking. The engine
// reads an immutable Snapshot of every experiment; SnapshotHolder swaps in a new
// one atomically when configuration changes, so Assign takes no lock and does
// no I/O.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "assign/condition.h"
#include "assign/hash.h"
#include "assign/value.h"

namespace causeway::assign {

enum class ExperimentStatus { kDraft, kRunning, kStopped };

struct VariantSpec {
  std::string key;
  double weight = 0.0;
};

struct NamespaceSpec {
  std::string name;
  double start = 0.0;  // 0 <= start < end <= 1
  double end = 1.0;
};

// Configuration of one experiment as the engine sees it (already validated).
struct ExperimentSpec {
  std::string key;
  std::string seed;  // the API defaults it to `key`
  int hash_version = 2;
  std::vector<VariantSpec> variants;
  double coverage = 1.0;
  std::optional<NamespaceSpec> ns;
  std::shared_ptr<const Condition> condition;      // null: everyone matches
  std::unordered_map<std::string, int> overrides;  // user id -> variant index
  ExperimentStatus status = ExperimentStatus::kDraft;
  int phase = 1;
  // Served to everyone (in_experiment=false, "released") when not running: a
  // rolled-back rollout serves its control. -1: none.
  int released_variant = -1;
};

enum class AssignReason {
  kHashed,
  kOverride,
  kNotRunning,
  kNotTargeted,
  kNotInNamespace,
  kCoverage,
  kReleased,
};

// "hashed", "override", "not_running", "not_targeted", "not_in_namespace", "coverage",
// "released".
std::string_view ReasonName(AssignReason reason);

struct Assignment {
  int variant_index = -1;      // -1: no variant
  bool in_experiment = false;  // counts towards analysis (false for overrides, as in GrowthBook)
  double hash_value = 0.0;     // hash(seed, user, hash_version)
  AssignReason reason = AssignReason::kNotRunning;
};

// std::hash over string_view for maps looked up by string_view without
// building a std::string (C++20 heterogeneous lookup).
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// An experiment prepared for evaluation: bucket ranges precomputed once.
struct CompiledExperiment {
  ExperimentSpec spec;
  std::vector<BucketRange> ranges;
  // spec.overrides, searchable by string_view without allocating. Filled by
  // CompileExperiment; when left empty, Assign falls back to spec.overrides.
  std::unordered_map<std::string, int, StringViewHash, std::equal_to<>> override_index;
  // Fnv1a32(spec.seed) for hash version 2, so Assign hashes only the user id.
  // Set by CompileExperiment; when empty, Assign hashes seed and user.
  std::optional<uint32_t> seed_state;
};

// ranges = BucketRanges(variants.size(), coverage, variant weights), plus the
// override index. Snapshot compiles every experiment with it.
CompiledExperiment CompileExperiment(ExperimentSpec spec);

// Decision order (docs/assignment.md explains each step). hash_value is set for
// the "hashed" and "coverage" outcomes only (0 otherwise).
//   1. user has an override           -> that variant, in_experiment=false, "override"
//   2. status is not running          -> released_variant if set (in_experiment=false,
//                                        "released"), else no variant, "not_running"
//   3. namespace given and user outside [start, end) of hash("__"+name, user, 1)
//                                     -> "not_in_namespace"
//   4. condition given and attributes do not match -> "not_targeted"
//   5. h = hash(seed, user); i = ChooseVariation(h, ranges); i < 0 -> "coverage"
//   6. otherwise variant i, in_experiment=true, "hashed".
// `attributes` may be null (treated as {"id": user}).
Assignment Assign(const CompiledExperiment& experiment, std::string_view user,
                  const Value* attributes);

// An immutable set of experiments, looked up by key.
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::vector<ExperimentSpec> experiments);

  // nullptr when unknown.
  const CompiledExperiment* Find(std::string_view key) const;
  const std::vector<CompiledExperiment>& experiments() const { return experiments_; }
  uint64_t version() const { return version_; }

 private:
  friend class SnapshotHolder;
  std::vector<CompiledExperiment> experiments_;
  std::unordered_map<std::string, size_t, StringViewHash, std::equal_to<>> index_;
  uint64_t version_ = 0;
};

// Holds the current snapshot. Readers call Current() on every request: an
// acquire load of a version counter and, only when it changed since this thread
// last looked, a copy of the shared pointer under mutex_. Writers call Publish.
// Thread-safe.
class SnapshotHolder {
 public:
  SnapshotHolder();
  // Takes ownership; assigns the next version number (1, 2, ...). A null
  // snapshot publishes an empty one.
  void Publish(std::shared_ptr<Snapshot> snapshot);
  // The snapshot current for this thread; valid until this thread calls Current again.
  // Before the first Publish: an empty snapshot with version 0. The cache keeps
  // one slot per holder for up to 8 holders per thread.
  const Snapshot& Current() const;

 private:
  const uint64_t id_;  // process-unique; keys the per-thread cache in Current()
  std::atomic<uint64_t> version_{0};
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;  // GUARDED_BY(mutex_)
};

}  // namespace causeway::assign
