#include "api/resources/events.h"

#include "api/codec/json_util.h"
#include "api/http/auth.h"
#include "api/http/log.h"
#include "app/report.h"
#include "io/event_reader.h"
#include "stats/srm.h"

namespace causeway::api {
namespace {

Status StorageError(const Status& s) {
  if (s.code() == StatusCode::kUnavailable) {
    return Status(StatusCode::kUnavailable, s.message() + "; retry after a second");
  }
  return Status(StatusCode::kInternal,
                "storage error, nothing from this batch was stored: " + s.message());
}

}  // namespace

std::string DerivedExposureId(std::string_view experiment, int phase, std::string_view user) {
  std::string material;
  material.reserve(experiment.size() + user.size() + 16);
  material.append(experiment).push_back('\0');
  material.append(std::to_string(phase)).push_back('\0');
  material.append(user);
  return "cw-exp-" + Sha256Hex(material).substr(0, 40);
}

namespace {

// The exposure targets of the assignment snapshot.
class SnapshotTargets : public io::ExposureTargets {
 public:
  explicit SnapshotTargets(const assign::Snapshot& snapshot) : snapshot_(snapshot) {}
  bool HasExperiment(std::string_view experiment) const override {
    return snapshot_.Find(experiment) != nullptr;
  }
  bool HasVariant(std::string_view experiment, std::string_view variant) const override {
    for (const auto& v : snapshot_.Find(experiment)->spec.variants) {
      if (v.key == variant) return true;
    }
    return false;
  }
  std::optional<std::string> VariantAt(std::string_view experiment, uint64_t index) const override {
    const auto& variants = snapshot_.Find(experiment)->spec.variants;
    if (index >= variants.size()) return std::nullopt;
    return variants[index].key;
  }

 private:
  const assign::Snapshot& snapshot_;
};

}  // namespace

HandlerResult EventService::Ingest(std::string_view body, bool exposures_only) {
  SnapshotTargets targets(experiments_->snapshots().Current());
  size_t rejected = 0;
  StatusOr<std::vector<store::Event>> batch =
      io::ReadEvents(body, limits_, targets, NowMs(), &rejected);
  if (!batch.ok()) {
    if (rejected_counter) rejected_counter->fetch_add(rejected, std::memory_order_relaxed);
    return batch.status();
  }
  if (exposures_only) {
    for (size_t i = 0; i < batch->size(); ++i) {
      if ((*batch)[i].type != store::EventType::kExposure) {
        if (rejected_counter) rejected_counter->fetch_add(batch->size(), std::memory_order_relaxed);
        return Status(StatusCode::kPermissionDenied,
                      "a client key may send exposures only; send conversions from the server "
                      "with an sdk key",
                      "events[" + std::to_string(i) + "].type");
      }
    }
  }
  store::WriteResult r = writer_->Write(*batch);
  if (!r.status.ok()) return StorageError(r.status);
  if (accepted_counter) accepted_counter->fetch_add(r.accepted, std::memory_order_relaxed);
  if (duplicate_counter) duplicate_counter->fetch_add(r.duplicates, std::memory_order_relaxed);
  return Json{{"accepted", r.accepted}, {"duplicates", r.duplicates}};
}

bool EventService::LogExposure(std::string_view experiment, int phase, std::string_view user,
                               std::string_view variant) {
  std::vector<store::Event> batch(1);
  store::Event& e = batch[0];
  e.type = store::EventType::kExposure;
  e.id = DerivedExposureId(experiment, phase, user);
  e.experiment = experiment;
  e.user = user;
  e.variant = variant;
  e.ts_ms = NowMs();
  store::WriteResult r = writer_->Write(batch);
  if (r.status.ok()) {
    if (accepted_counter) accepted_counter->fetch_add(r.accepted, std::memory_order_relaxed);
    if (duplicate_counter) duplicate_counter->fetch_add(r.duplicates, std::memory_order_relaxed);
  }
  return r.status.ok();
}

HandlerResult EventService::Exposures(std::string_view key) {
  auto found = experiments_->Find(key);
  if (auto* e = std::get_if<Status>(&found)) return *e;
  const ExperimentService::View& x = std::get<ExperimentService::View>(found);
  auto summary = store_->SummarizeExposures(key, x.since_ms);
  if (!summary.ok()) return summary.status();
  const store::ExposureSummary& s = *summary;
  Json variants = Json::array();
  std::vector<int64_t> user_counts;
  std::vector<double> weights;
  for (const auto& spec : x.variants) {
    int64_t exposures = 0, users = 0;
    for (const auto& v : s.variants) {
      if (v.variant == spec.key) exposures = v.exposures, users = v.users;
    }
    variants.push_back({{"variant", spec.key},
                        {"weight", spec.weight},
                        {"exposures", exposures},
                        {"users", users}});
    user_counts.push_back(users);
    weights.push_back(spec.weight);
  }
  // The report's SRM check on the same users (docs/report.md), so a list of
  // experiments can flag a mismatch without computing any report.
  const double threshold = app::ReportOptions{}.srm_threshold;
  const stats::SrmResult srm_result = stats::SampleRatioMismatch(user_counts, weights, threshold);
  Json srm = {{"valid", srm_result.valid}, {"threshold", threshold}};
  if (srm_result.valid) {
    srm.update({{"chi_square", srm_result.chi_square},
                {"df", srm_result.df},
                {"p_value", srm_result.p_value},
                {"mismatch", srm_result.mismatch},
                {"expected_users", srm_result.expected_counts}});
  } else {
    srm["reason"] = srm_result.reason;
  }
  return Json{{"experiment", key},
              {"phase", x.phase},
              {"since", x.since_ms > 0 ? Json(IsoTime(x.since_ms)) : Json(nullptr)},
              {"variants", std::move(variants)},
              {"total_exposures", s.total_exposures},
              {"unique_users", s.unique_users},
              {"multi_variant_users", s.multi_variant_users},
              {"srm", std::move(srm)}};
}

}  // namespace causeway::api
