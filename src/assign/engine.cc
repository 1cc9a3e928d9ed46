#include "assign/engine.h"

#include <array>
#include <utility>

namespace causeway::assign {

std::string_view ReasonName(AssignReason reason) {
  switch (reason) {
    case AssignReason::kHashed:
      return "hashed";
    case AssignReason::kOverride:
      return "override";
    case AssignReason::kNotRunning:
      return "not_running";
    case AssignReason::kNotTargeted:
      return "not_targeted";
    case AssignReason::kNotInNamespace:
      return "not_in_namespace";
    case AssignReason::kCoverage:
      return "coverage";
    case AssignReason::kReleased:
      return "released";
  }
  return "unknown";
}

CompiledExperiment CompileExperiment(ExperimentSpec spec) {
  CompiledExperiment compiled;
  std::vector<double> weights;
  weights.reserve(spec.variants.size());
  for (const VariantSpec& v : spec.variants) weights.push_back(v.weight);
  compiled.ranges = BucketRanges(static_cast<int>(weights.size()), spec.coverage, &weights);
  compiled.override_index.reserve(spec.overrides.size());
  for (const auto& [user, variant] : spec.overrides) compiled.override_index.emplace(user, variant);
  if (spec.hash_version == 2) compiled.seed_state = Fnv1a32(spec.seed);
  compiled.spec = std::move(spec);
  return compiled;
}

namespace {

// The override for `user`, or nullptr. Uses the heterogeneous index built by
// CompileExperiment so lookups by string_view do not allocate; a hand-built
// CompiledExperiment without that index falls back to the spec's map.
const int* FindOverride(const CompiledExperiment& experiment, std::string_view user) {
  const auto& overrides = experiment.spec.overrides;
  if (overrides.empty()) return nullptr;
  if (experiment.override_index.size() == overrides.size()) {
    const auto it = experiment.override_index.find(user);
    return it == experiment.override_index.end() ? nullptr : &it->second;
  }
  const auto it = overrides.find(std::string(user));
  return it == overrides.end() ? nullptr : &it->second;
}

}  // namespace

Assignment Assign(const CompiledExperiment& experiment, std::string_view user,
                  const Value* attributes) {
  const ExperimentSpec& spec = experiment.spec;
  Assignment result;

  // 1. Overrides (GrowthBook: forcedVariations) win over everything, but the
  //    user is not part of the analysed population.
  if (const int* forced = FindOverride(experiment, user)) {
    result.variant_index = *forced;
    result.in_experiment = false;
    result.reason = AssignReason::kOverride;
    return result;
  }
  // 2. Only running experiments assign.
  if (spec.status != ExperimentStatus::kRunning) {
    if (spec.released_variant >= 0) {
      result.variant_index = spec.released_variant;
      result.reason = AssignReason::kReleased;
      return result;
    }
    result.reason = AssignReason::kNotRunning;
    return result;
  }
  // 3. Namespace: hash("__" + name, user, 1) must fall in [start, end).
  if (spec.ns.has_value() && !InNamespace(user, spec.ns->name, spec.ns->start, spec.ns->end)) {
    result.reason = AssignReason::kNotInNamespace;
    return result;
  }
  // 4. Targeting condition.
  if (spec.condition != nullptr) {
    bool matches;
    if (attributes != nullptr) {
      matches = spec.condition->Matches(*attributes);
    } else {
      const Value implied(Value::Object{{"id", Value(std::string(user))}});
      matches = spec.condition->Matches(implied);
    }
    if (!matches) {
      result.reason = AssignReason::kNotTargeted;
      return result;
    }
  }
  // 5./6. Hash into the precomputed ranges.
  const std::optional<double> h = experiment.seed_state.has_value() && spec.hash_version == 2
                                      ? HashV2FromSeedState(*experiment.seed_state, user)
                                      : Hash(spec.seed, user, spec.hash_version);
  if (!h.has_value()) {
    // Unknown hash version (the API only accepts 1 and 2): nobody is included,
    // as GrowthBook's _run returns "not in experiment" when hash() is null.
    result.reason = AssignReason::kCoverage;
    return result;
  }
  result.hash_value = *h;
  const int index = ChooseVariation(*h, experiment.ranges);
  if (index < 0) {
    result.reason = AssignReason::kCoverage;
    return result;
  }
  result.variant_index = index;
  result.in_experiment = true;
  result.reason = AssignReason::kHashed;
  return result;
}

Snapshot::Snapshot(std::vector<ExperimentSpec> experiments) {
  experiments_.reserve(experiments.size());
  index_.reserve(experiments.size());
  for (ExperimentSpec& spec : experiments) {
    if (index_.count(std::string_view(spec.key)) != 0) continue;  // first definition wins
    index_.emplace(spec.key, experiments_.size());
    experiments_.push_back(CompileExperiment(std::move(spec)));
  }
}

const CompiledExperiment* Snapshot::Find(std::string_view key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &experiments_[it->second];
}

namespace {

std::atomic<uint64_t> next_holder_id{1};

// Per-thread cache of the snapshots this thread last read, one slot per
// holder (identified by a process-unique id, never by address, so a holder
// constructed where a destroyed one lived cannot hit a stale slot). Holding the
// shared_ptr keeps the snapshot alive while the thread may still use it.
struct CachedSnapshot {
  uint64_t holder_id = 0;
  uint64_t version = 0;
  std::shared_ptr<const Snapshot> snapshot;
};

constexpr size_t kCacheSlots = 8;

struct SnapshotCache {
  std::array<CachedSnapshot, kCacheSlots> slots;
  size_t next_victim = 0;
};

thread_local SnapshotCache snapshot_cache;

}  // namespace

SnapshotHolder::SnapshotHolder()
    : id_(next_holder_id.fetch_add(1, std::memory_order_relaxed)),
      current_(std::make_shared<const Snapshot>()) {}

void SnapshotHolder::Publish(std::shared_ptr<Snapshot> snapshot) {
  if (snapshot == nullptr) snapshot = std::make_shared<Snapshot>();
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t version = version_.load(std::memory_order_relaxed) + 1;
  snapshot->version_ = version;
  current_ = std::move(snapshot);
  version_.store(version, std::memory_order_release);
}

const Snapshot& SnapshotHolder::Current() const {
  const uint64_t version = version_.load(std::memory_order_acquire);
  SnapshotCache& cache = snapshot_cache;
  CachedSnapshot* slot = nullptr;
  for (CachedSnapshot& s : cache.slots) {
    if (s.holder_id == id_) {
      slot = &s;
      break;
    }
  }
  if (slot != nullptr && slot->version == version) return *slot->snapshot;  // hot path
  if (slot == nullptr) {
    slot = &cache.slots[cache.next_victim];
    cache.next_victim = (cache.next_victim + 1) % kCacheSlots;
  }
  std::shared_ptr<const Snapshot> current;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    current = current_;
  }
  slot->holder_id = id_;
  slot->version = current->version();  // >= version: Publish stores the counter last
  slot->snapshot = std::move(current);
  return *slot->snapshot;
}

}  // namespace causeway::assign
