#include "app/experiment.h"

#include <cctype>
#include <cmath>
#include <set>

#include "assign/condition.h"

namespace causeway::app {
namespace {

constexpr size_t kMaxVariants = 100;
constexpr size_t kMaxKeyBytes = 128;
constexpr size_t kMaxSeedBytes = 256;
constexpr size_t kMaxNameBytes = 128;
constexpr double kWeightTolerance = 1e-6;
constexpr double kMaxWindowHours = 24.0 * 365 * 10;

}  // namespace

bool IsKey(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyBytes) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

namespace {

std::string VariantPath(size_t i) { return "variants[" + std::to_string(i) + "]"; }

Status NormalizeVariants(std::vector<ExperimentVariant>* variants) {
  if (variants->size() < 2 || variants->size() > kMaxVariants) {
    return Status::InvalidArgument(
        "variants", "must have between 2 and " + std::to_string(kMaxVariants) + " variants");
  }
  std::set<std::string> seen;
  size_t with_weight = 0;
  double sum = 0;
  for (size_t i = 0; i < variants->size(); ++i) {
    const ExperimentVariant& v = (*variants)[i];
    if (!IsKey(v.key)) {
      return Status::InvalidArgument(VariantPath(i) + ".key",
                                     "must be a string of 1-128 letters, digits, '_', '-' or '.'");
    }
    if (!seen.insert(v.key).second) {
      return Status::InvalidArgument(VariantPath(i) + ".key", "duplicate variant key");
    }
    if (v.weight) {
      if (!std::isfinite(*v.weight) || *v.weight < 0) {
        return Status::InvalidArgument(VariantPath(i) + ".weight", "must be a number >= 0");
      }
      ++with_weight;
      sum += *v.weight;
    }
  }
  if (with_weight == 0) {
    for (auto& v : *variants) v.weight = 1.0 / static_cast<double>(variants->size());
  } else if (with_weight != variants->size()) {
    return Status::InvalidArgument("variants", "give a weight for every variant or for none");
  } else if (std::fabs(sum - 1.0) > kWeightTolerance) {
    return Status::InvalidArgument(
        "variants", "weights must sum to 1 (they sum to " + std::to_string(sum) + ")");
  }
  return Status::Ok();
}

bool SameAssignment(const std::vector<ExperimentVariant>& a,
                    const std::vector<ExperimentVariant>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].weight != b[i].weight) return false;
  }
  return true;
}

}  // namespace

int64_t Experiment::SinceMs() const {
  if (phase <= 1) return 0;
  int64_t since = created_ms;
  for (const Phase& p : phases) {
    if (p.phase == phase) since = p.started_ms;
  }
  return since;
}

Status NormalizeExperiment(Experiment* e) {
  if (!IsKey(e->key)) {
    return Status::InvalidArgument("key",
                                   "required: a string of 1-128 letters, digits, '_', '-' or '.'");
  }
  if (!e->name) e->name = e->key;
  if (Status s = NormalizeVariants(&e->variants); !s.ok()) return s;
  if (!e->seed) e->seed = e->key;
  if (e->seed->empty() || e->seed->size() > kMaxSeedBytes) {
    return Status::InvalidArgument("seed", "must be a non-empty string of at most 256 bytes");
  }
  if (e->hash_version != 1 && e->hash_version != 2) {
    return Status::InvalidArgument("hash_version", "must be 1 or 2");
  }
  if (!(e->coverage >= 0.0 && e->coverage <= 1.0)) {
    return Status::InvalidArgument("coverage", "must be a number in [0, 1]");
  }
  if (e->ns) {
    if (e->ns->name.empty()) {
      return Status::InvalidArgument("namespace.name", "required: a non-empty string");
    }
    if (!(e->ns->start >= 0.0 && e->ns->start < e->ns->end && e->ns->end <= 1.0)) {
      return Status::InvalidArgument("namespace", "requires 0 <= start < end <= 1");
    }
  }
  if (e->condition) {
    if (!e->condition->is_object()) {
      return Status::InvalidArgument("condition", "must be an object (GrowthBook syntax)");
    }
    std::string error;
    if (!assign::Condition::Parse(*e->condition, &error)) {
      return Status::InvalidArgument("condition", error);
    }
  }
  for (const auto& [user, variant] : e->overrides) {
    bool found = false;
    for (const auto& v : e->variants) found = found || v.key == variant;
    if (!found) {
      return Status::InvalidArgument("overrides." + user, "must name one of the variants");
    }
  }
  if (e->rollout) {
    if (Status s = CheckRolloutPlan(*e->rollout); !s.ok()) return s;
    const int last = static_cast<int>(e->rollout->steps.size()) - 1;
    if (e->rollout_state.step > last) e->rollout_state.step = last;
    if (e->rollout_state.step < 0) e->rollout_state.step = 0;
    if (e->rollout_state.status != RolloutStatus::kRolledBack) {
      e->coverage = e->rollout->steps[static_cast<size_t>(e->rollout_state.step)];
    }
  }
  return CheckRolesAndPlan(*e);
}

Status CheckRolesAndPlan(const Experiment& e) {
  std::set<std::string> seen;
  auto check = [&](const std::string& key, const std::string& path) {
    if (!IsKey(key)) return Status::InvalidArgument(path, "must be a metric key");
    if (!seen.insert(key).second) {
      return Status::InvalidArgument(path, "a metric may have only one role in an experiment");
    }
    return Status::Ok();
  };
  constexpr size_t kMaxRoleMetrics = 50;
  if (e.goal_metrics.size() + e.secondary_metrics.size() + e.guardrail_metrics.size() >
      kMaxRoleMetrics) {
    return Status::InvalidArgument("goal_metrics", "at most 50 metrics over all roles");
  }
  for (size_t i = 0; i < e.goal_metrics.size(); ++i) {
    if (Status s = check(e.goal_metrics[i], "goal_metrics[" + std::to_string(i) + "]"); !s.ok())
      return s;
  }
  for (size_t i = 0; i < e.secondary_metrics.size(); ++i) {
    if (Status s = check(e.secondary_metrics[i], "secondary_metrics[" + std::to_string(i) + "]");
        !s.ok())
      return s;
  }
  for (size_t i = 0; i < e.guardrail_metrics.size(); ++i) {
    const std::string path = "guardrail_metrics[" + std::to_string(i) + "]";
    if (Status s = check(e.guardrail_metrics[i].metric, path + ".metric"); !s.ok()) return s;
    const auto& margin = e.guardrail_metrics[i].margin;
    if (margin && !(*margin > 0 && *margin <= 1)) {
      return Status::InvalidArgument(path + ".margin",
                                     "must be a relative change in (0, 1], e.g. 0.01 for 1 %");
    }
  }
  if (e.planned_sample_size &&
      !(*e.planned_sample_size >= 2 && *e.planned_sample_size <= int64_t{1'000'000'000'000})) {
    return Status::InvalidArgument("planned_sample_size",
                                   "must be an integer number of users in [2, 10^12]");
  }
  return Status::Ok();
}

Status CheckRerandomisation(const Experiment& before, const Experiment& after, bool new_phase) {
  if (before.status != assign::ExperimentStatus::kRunning || new_phase) return Status::Ok();
  const char* changed = nullptr;
  if (!SameAssignment(before.variants, after.variants)) {
    changed = "variants";
  } else if (before.seed != after.seed) {
    changed = "seed";
  } else if (before.coverage != after.coverage &&
             !(after.rollout && after.coverage > before.coverage)) {
    changed = "coverage";
  } else if (before.hash_version != after.hash_version) {
    changed = "hash_version";
  }
  if (!changed) return Status::Ok();
  return Status::FailedPrecondition(
      "changing " + std::string(changed) +
          " of a running experiment re-randomises its users; send \"new_phase\": true to start "
          "a new phase with a new seed",
      changed);
}

assign::ExperimentSpec ToAssignSpec(const Experiment& e) {
  assign::ExperimentSpec spec;
  spec.key = e.key;
  spec.seed = e.seed.value_or(e.key);
  spec.hash_version = e.hash_version;
  for (const auto& v : e.variants) spec.variants.push_back({v.key, v.weight.value_or(0.0)});
  spec.coverage = e.coverage;
  if (e.ns) spec.ns = assign::NamespaceSpec{e.ns->name, e.ns->start, e.ns->end};
  if (e.condition) {
    std::string error;
    spec.condition = assign::Condition::Parse(*e.condition, &error);
  }
  for (const auto& [user, variant] : e.overrides) {
    for (size_t i = 0; i < spec.variants.size(); ++i) {
      if (spec.variants[i].key == variant) spec.overrides[user] = static_cast<int>(i);
    }
  }
  spec.status = e.status;
  spec.phase = e.phase;
  // A rolled-back rollout serves its control (the old behaviour) to everyone.
  if (e.rollout && e.rollout_state.status == RolloutStatus::kRolledBack) spec.released_variant = 0;
  return spec;
}

const char* StatusName(assign::ExperimentStatus status) {
  switch (status) {
    case assign::ExperimentStatus::kRunning:
      return "running";
    case assign::ExperimentStatus::kStopped:
      return "stopped";
    case assign::ExperimentStatus::kDraft:
      break;
  }
  return "draft";
}

Status NormalizeMetric(MetricDefinition* m) {
  if (m->key.empty() || m->key.size() > kMaxNameBytes) {
    return Status::InvalidArgument("key", "required: a non-empty string of at most 128 bytes");
  }
  if (!IsKey(m->key)) {
    return Status::InvalidArgument("key", "may contain only letters, digits, '_', '-' and '.'");
  }
  if (!m->name) m->name = m->key;
  if (m->event.empty() || m->event.size() > kMaxNameBytes) {
    return Status::InvalidArgument("event", "required: the conversion event name");
  }
  if (m->type == MetricType::kRatio) {
    if (!m->denominator_event || m->denominator_event->empty() ||
        m->denominator_event->size() > kMaxNameBytes) {
      return Status::InvalidArgument("denominator_event",
                                     "required for ratio metrics: an event name");
    }
  } else if (m->denominator_event) {
    return Status::InvalidArgument("denominator_event", "only ratio metrics have a denominator");
  }
  if (m->window_hours && !(*m->window_hours > 0 && *m->window_hours <= kMaxWindowHours)) {
    return Status::InvalidArgument("window_hours", "must be a positive number of hours");
  }
  if (!(m->cuped_lookback_days >= 0 && m->cuped_lookback_days <= 365)) {
    return Status::InvalidArgument("cuped_lookback_days", "must be a number of days in [0, 365]");
  }
  return Status::Ok();
}

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kMean:
      return "mean";
    case MetricType::kCount:
      return "count";
    case MetricType::kRatio:
      return "ratio";
    case MetricType::kBinomial:
      break;
  }
  return "binomial";
}

}  // namespace causeway::app
