#include "app/services.h"

#include <memory>
#include <random>

namespace causeway::app {
namespace {

// 64 random bits as 16 hex digits: the seed of a new phase.
std::string RandomSeed() {
  std::random_device rd;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const uint32_t w = rd();
    for (int b = 0; b < 4; ++b) {
      const unsigned byte = (w >> (8 * b)) & 0xff;
      s.push_back(kDigits[byte >> 4]);
      s.push_back(kDigits[byte & 15]);
    }
    if (s.size() >= 16) break;
  }
  return s.substr(0, 16);
}

Status KeyError(const Status& s) {
  if (s.code() == StatusCode::kAlreadyExists) return Status::AlreadyExists(s.message(), "key");
  return s;
}

}  // namespace

// ------------------------------------------------------------------ experiments

StatusOr<Experiment> ExperimentService::Decode(const store::ExperimentRow& row) const {
  auto decoded = codec_->DecodeExperiment(row.config);
  if (!decoded.ok() || !NormalizeExperiment(&*decoded).ok()) {
    return Status::Internal("stored configuration of experiment " + row.key + " is invalid");
  }
  Experiment x = std::move(*decoded);
  x.phase = row.phase;
  x.created_ms = row.created_ms;
  x.updated_ms = row.updated_ms;
  auto phases = store_->ListPhases(row.key);
  if (!phases.ok()) return phases.status();
  // A phase another process added after `row` was read belongs to the next read
  // (its version change makes the refresher load again).
  for (const auto& p : *phases) {
    if (p.phase <= row.phase) x.phases.push_back({p.phase, p.seed, p.started_ms});
  }
  return x;
}

Status ExperimentService::Load() {
  std::lock_guard write(write_mu_);
  auto rows = store_->ListExperiments();
  if (!rows.ok()) return rows.status();
  std::map<std::string, Experiment, std::less<>> loaded;
  for (const auto& row : *rows) {
    auto x = Decode(row);
    if (!x.ok()) return x.status();
    loaded.emplace(row.key, std::move(*x));
  }
  {
    std::lock_guard lock(mu_);
    experiments_.swap(loaded);
  }
  PublishLocked();
  return Status::Ok();  // `loaded` (the old map) is freed outside mu_
}

void ExperimentService::PublishLocked() {
  std::vector<assign::ExperimentSpec> specs;
  specs.reserve(experiments_.size());
  for (const auto& [key, x] : experiments_) specs.push_back(ToAssignSpec(x));
  snapshots_->Publish(std::make_shared<assign::Snapshot>(std::move(specs)));
}

Status ExperimentService::CheckMetricsExist(const Experiment& x) const {
  if (!metrics_) return Status::Ok();
  auto known = [&](const std::string& key, const std::string& path) {
    if (metrics_->Get(key).ok()) return Status::Ok();
    return Status::InvalidArgument(path, "no metric with key " + key + " (create it first)");
  };
  for (size_t i = 0; i < x.goal_metrics.size(); ++i) {
    if (Status s = known(x.goal_metrics[i], "goal_metrics[" + std::to_string(i) + "]"); !s.ok())
      return s;
  }
  for (size_t i = 0; i < x.secondary_metrics.size(); ++i) {
    if (Status s = known(x.secondary_metrics[i], "secondary_metrics[" + std::to_string(i) + "]");
        !s.ok())
      return s;
  }
  for (size_t i = 0; i < x.guardrail_metrics.size(); ++i) {
    if (Status s = known(x.guardrail_metrics[i].metric,
                         "guardrail_metrics[" + std::to_string(i) + "].metric");
        !s.ok())
      return s;
  }
  return Status::Ok();
}

StatusOr<Experiment> ExperimentService::Create(Experiment x, int64_t now_ms) {
  if (Status s = NormalizeExperiment(&x); !s.ok()) return s;
  if (Status s = CheckMetricsExist(x); !s.ok()) return s;
  x.phase = 1;
  x.created_ms = x.updated_ms = now_ms;
  x.phases = {Phase{1, *x.seed, now_ms}};
  if (x.rollout) x.rollout_state = RolloutState{};
  x.rollout_state.step_started_ms = now_ms;
  const store::ExperimentRow row{x.key, codec_->EncodeExperiment(x), 1, now_ms, now_ms};
  const store::PhaseRow phase{x.key, 1, *x.seed, now_ms};
  std::lock_guard write(write_mu_);
  if (Status s = store_->CreateExperiment(row, phase); !s.ok()) return KeyError(s);
  {
    std::lock_guard lock(mu_);
    experiments_[x.key] = x;
  }
  PublishLocked();
  return x;
}

StatusOr<Experiment> ExperimentService::Patch(std::string_view key, const ExperimentPatch& patch,
                                              int64_t now_ms) {
  if (patch.key && *patch.key != key) {
    return Status::InvalidArgument("key", "cannot be changed; create a new experiment instead");
  }
  std::lock_guard write(write_mu_);
  // The patch applies to the stored experiment, not to this instance's copy:
  // another instance may have changed it since the last load, and patching the
  // copy would silently undo that change (docs/architecture.md, "Several
  // instances"). One indexed read; admin writes are rare.
  auto stored_row = store_->GetExperiment(key);
  if (!stored_row.ok()) return stored_row.status();  // NotFound naming "key"
  auto stored = Decode(*stored_row);
  if (!stored.ok()) return stored.status();
  const Experiment& before = *stored;
  Experiment x = before;
  if (patch.name) x.name = patch.name;
  if (patch.description) x.description = patch.description;
  if (patch.variants) x.variants = *patch.variants;
  if (patch.seed) x.seed = patch.seed;
  if (patch.hash_version) x.hash_version = *patch.hash_version;
  if (patch.coverage) x.coverage = *patch.coverage;
  if (patch.ns) x.ns = *patch.ns;
  if (patch.condition) x.condition = *patch.condition;
  if (patch.overrides) x.overrides = *patch.overrides;
  if (patch.status) x.status = *patch.status;
  if (patch.goal_metrics) x.goal_metrics = *patch.goal_metrics;
  if (patch.secondary_metrics) x.secondary_metrics = *patch.secondary_metrics;
  if (patch.guardrail_metrics) x.guardrail_metrics = *patch.guardrail_metrics;
  if (patch.planned_sample_size) x.planned_sample_size = *patch.planned_sample_size;
  if (patch.planned_end_ms) x.planned_end_ms = *patch.planned_end_ms;
  const bool has_rollout = patch.rollout ? patch.rollout->has_value() : x.rollout.has_value();
  if (patch.coverage && has_rollout) {
    return Status::InvalidArgument("coverage", "follows rollout.steps while there is a rollout");
  }
  if (patch.rollout) {
    if (*patch.rollout && x.rollout_state.status == RolloutStatus::kPaused) {
      x.rollout_state.status = RolloutStatus::kRamping;
      x.rollout_state.step_started_ms = now_ms;
    }
    if (*patch.rollout && !x.rollout) {
      x.rollout_state = RolloutState{};
      x.rollout_state.step_started_ms = now_ms;
    }
    x.rollout = *patch.rollout;
  }
  if (x.rollout && before.status == assign::ExperimentStatus::kDraft &&
      x.status == assign::ExperimentStatus::kRunning) {
    x.rollout_state.step_started_ms = now_ms;  // the ramp's clock starts when it runs
  }
  if (patch.new_phase && !patch.seed) x.seed = RandomSeed();
  if (Status s = NormalizeExperiment(&x); !s.ok()) return s;
  if (Status s = CheckMetricsExist(x); !s.ok()) return s;
  if (Status s = CheckRerandomisation(before, x, patch.new_phase); !s.ok()) return s;

  x.updated_ms = now_ms;
  std::optional<store::PhaseRow> phase;
  if (patch.new_phase) {
    x.phase += 1;
    x.phases.push_back({x.phase, *x.seed, now_ms});
    phase = store::PhaseRow{x.key, x.phase, *x.seed, now_ms};
  }
  if (Status s = UpdateLocked(x, phase ? &*phase : nullptr); !s.ok()) return s;
  return x;
}

Status ExperimentService::UpdateLocked(const Experiment& x, const store::PhaseRow* new_phase) {
  const store::ExperimentRow row{x.key, codec_->EncodeExperiment(x), x.phase, x.created_ms,
                                 x.updated_ms};
  if (Status s = store_->UpdateExperiment(row, new_phase); !s.ok()) return KeyError(s);
  {
    std::lock_guard lock(mu_);
    experiments_[x.key] = x;
  }
  PublishLocked();
  return Status::Ok();
}

StatusOr<Experiment> ExperimentService::ApplyRollout(std::string_view key,
                                                     const RolloutDecision& decision,
                                                     int64_t as_of_ms, int64_t now_ms) {
  std::lock_guard write(write_mu_);
  auto stored_row = store_->GetExperiment(key);
  if (!stored_row.ok()) return stored_row.status();
  auto stored = Decode(*stored_row);
  if (!stored.ok()) return stored.status();
  Experiment x = std::move(*stored);
  if (!x.rollout) return Status::FailedPrecondition("the experiment has no rollout", "rollout");
  if (decision.action == RolloutAction::kHold) return x;
  ApplyRolloutDecision(decision, as_of_ms, &x.rollout_state);
  if (decision.action == RolloutAction::kRollback) x.status = assign::ExperimentStatus::kStopped;
  if (Status s = NormalizeExperiment(&x); !s.ok()) return s;  // coverage follows the step
  x.updated_ms = now_ms;
  if (Status s = UpdateLocked(x, nullptr); !s.ok()) return s;
  return x;
}

StatusOr<Experiment> ExperimentService::Get(std::string_view key) const {
  std::lock_guard lock(mu_);
  const auto it = experiments_.find(key);
  if (it == experiments_.end()) {
    return Status::NotFound("no experiment with key " + std::string(key), "key");
  }
  return it->second;
}

std::vector<Experiment> ExperimentService::List() const {
  std::lock_guard lock(mu_);
  std::vector<Experiment> out;
  out.reserve(experiments_.size());
  for (const auto& [key, x] : experiments_) out.push_back(x);
  return out;
}

// ------------------------------------------------------------------ metrics

Status MetricService::Load() {
  std::lock_guard write(write_mu_);
  auto rows = store_->ListMetrics();
  if (!rows.ok()) return rows.status();
  std::map<std::string, MetricDefinition, std::less<>> loaded;
  for (const auto& row : *rows) {
    auto decoded = codec_->DecodeMetric(row.config);
    if (!decoded.ok() || !NormalizeMetric(&*decoded).ok()) {
      return Status::Internal("stored definition of metric " + row.key + " is invalid");
    }
    decoded->created_ms = row.created_ms;
    loaded.emplace(decoded->key, std::move(*decoded));
  }
  std::lock_guard lock(mu_);
  metrics_.swap(loaded);
  return Status::Ok();
}

StatusOr<MetricDefinition> MetricService::Create(MetricDefinition m, int64_t now_ms) {
  if (Status s = NormalizeMetric(&m); !s.ok()) return s;
  m.created_ms = now_ms;
  std::lock_guard write(write_mu_);
  if (Status s = store_->CreateMetric({m.key, codec_->EncodeMetric(m), now_ms}); !s.ok()) {
    return KeyError(s);
  }
  std::lock_guard lock(mu_);
  metrics_[m.key] = m;
  return m;
}

StatusOr<MetricDefinition> MetricService::Get(std::string_view key) const {
  std::lock_guard lock(mu_);
  const auto it = metrics_.find(key);
  if (it == metrics_.end()) {
    return Status::NotFound("no metric with key " + std::string(key), "key");
  }
  return it->second;
}

std::vector<MetricDefinition> MetricService::List() const {
  std::lock_guard lock(mu_);
  std::vector<MetricDefinition> out;
  for (const auto& [key, m] : metrics_) out.push_back(m);
  return out;
}

}  // namespace causeway::app
