#include "api/events.h"

#include <cmath>

#include "api/auth.h"
#include "api/event_parser.h"
#include "api/json_util.h"
#include "api/log.h"
#include "app/report.h"
#include "stats/srm.h"

namespace causeway::api {
namespace {

constexpr int64_t kMinTsMs = 946684800000;          // 2000-01-01T00:00:00Z
constexpr int64_t kMaxFutureMs = 24 * 3600 * 1000;  // one day
constexpr size_t kMaxUserBytes = 256;
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxErrorsListed = 100;

struct EventError {
  size_t index;
  std::string field;
  std::string message;
};

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

HandlerResult EventService::Ingest(std::string_view body) {
  if (body.size() > limits_.max_body_bytes) {
    return Status(StatusCode::kPayloadTooLarge,
                  "request body is " + std::to_string(body.size()) + " bytes; the limit is " +
                      std::to_string(limits_.max_body_bytes) + " bytes (5 MB) per request");
  }
  RawBatch raw;
  if (auto e = ParseEventBatch(body, &raw)) return *e;
  if (!raw.has_events || !raw.events_is_array) {
    return InvalidArgument("events", "required: an array of events");
  }
  const size_t count = raw.events.size();
  if (count > limits_.max_events) {
    return Status(StatusCode::kPayloadTooLarge,
                  std::to_string(count) + " events in one request; the limit is " +
                      std::to_string(limits_.max_events),
                  "events");
  }

  using Kind = RawField::Kind;
  const assign::Snapshot& snapshot = experiments_->snapshots().Current();
  const int64_t now = NowMs();
  std::vector<store::Event> batch;
  batch.reserve(count);
  std::vector<EventError> errors;
  for (size_t i = 0; i < count; ++i) {
    RawEvent& e = raw.events[i];
    const size_t errors_before = errors.size();
    auto fail = [&](std::string_view field, std::string message) {
      std::string at = Path("events", i);
      errors.push_back({i, field.empty() ? at : Path(at, field), std::move(message)});
    };
    if (!e.is_object) {
      fail("", "must be an object");
      continue;
    }
    if (e.type.kind != Kind::kString || (e.type.str != "exposure" && e.type.str != "conversion")) {
      fail("type", "required: \"exposure\" or \"conversion\"");
      continue;
    }
    store::Event ev;
    const bool exposure = e.type.str == "exposure";
    ev.type = exposure ? store::EventType::kExposure : store::EventType::kConversion;
    for (const auto& k : e.unknown_fields) fail(k, "unknown field");
    const RawField* wrong[] = {exposure ? &e.event : &e.experiment,
                               exposure ? &e.value : &e.variant};
    const char* wrong_names[] = {exposure ? "event" : "experiment", exposure ? "value" : "variant"};
    for (int w = 0; w < 2; ++w) {
      if (wrong[w]->present()) {
        fail(wrong_names[w],
             std::string("is not a field of ") + (exposure ? "an exposure" : "a conversion"));
      }
    }
    auto string_field = [&](RawField& f, const char* name, size_t max_bytes,
                            const char* problem) -> std::string {
      if (f.kind != Kind::kString || f.str.empty() || f.str.size() > max_bytes) {
        fail(name, problem);
        return {};
      }
      return std::move(f.str);
    };
    ev.id = string_field(e.id, "id", limits_.max_id_bytes,
                         "required: a non-empty string of at most 128 bytes");
    ev.user = string_field(e.user, "user", kMaxUserBytes,
                           "required: a non-empty string of at most 256 bytes");
    if (e.ts.kind == Kind::kUInt && e.ts.u > uint64_t{INT64_MAX}) {
      fail("ts", "is more than a day in the future");
    } else if (e.ts.kind != Kind::kInt && e.ts.kind != Kind::kUInt) {
      fail("ts", "required: integer milliseconds since the Unix epoch");
    } else {
      ev.ts_ms = e.ts.kind == Kind::kInt ? e.ts.i : static_cast<int64_t>(e.ts.u);
      if (ev.ts_ms < kMinTsMs) {
        fail("ts", "is before 2000-01-01 (is it in seconds rather than milliseconds?)");
      } else if (ev.ts_ms > now + kMaxFutureMs) {
        fail("ts", "is more than a day in the future");
      }
    }
    if (e.has_attributes) {
      if (!e.attributes_is_object) {
        fail("attributes", "must be a flat JSON object");
      } else {
        for (const auto& k : e.nested_attributes) {
          fail(Path("attributes", k), "must be a string, number, boolean or null (flat object)");
        }
        ev.attributes = std::move(e.attributes_json);
      }
    }
    if (exposure) {
      const assign::CompiledExperiment* x = nullptr;
      if (e.experiment.kind != Kind::kString) {
        fail("experiment", "required: an experiment key");
      } else if (!(x = snapshot.Find(e.experiment.str))) {
        fail("experiment", "unknown experiment \"" + e.experiment.str + "\"");
      } else {
        ev.experiment = std::move(e.experiment.str);
      }
      if (e.variant.kind != Kind::kString) {
        fail("variant", "required: a variant key");
      } else if (x) {
        bool found = false;
        for (const auto& v : x->spec.variants) found = found || v.key == e.variant.str;
        if (!found) {
          fail("variant",
               "experiment \"" + ev.experiment + "\" has no variant \"" + e.variant.str + "\"");
        } else {
          ev.variant = std::move(e.variant.str);
        }
      }
    } else {
      ev.name = string_field(e.event, "event", kMaxNameBytes,
                             "required: the event name, a non-empty string of at most 128 bytes");
      if (e.value.present()) {
        if (!e.value.is_number() || !std::isfinite(e.value.number())) {
          fail("value", "must be a finite number");
        } else {
          ev.value = e.value.number();
        }
      }
    }
    if (errors.size() == errors_before) batch.push_back(std::move(ev));
  }

  if (!errors.empty()) {
    if (rejected_counter) rejected_counter->fetch_add(count, std::memory_order_relaxed);
    std::vector<FieldViolation> listed;
    for (size_t k = 0; k < errors.size() && k < kMaxErrorsListed; ++k) {
      listed.push_back({static_cast<int64_t>(errors[k].index), errors[k].field, errors[k].message});
    }
    Status err = InvalidArgument(errors[0].field, std::to_string(errors.size()) +
                                                      " problem(s) in the batch; nothing was "
                                                      "stored. First: " +
                                                      errors[0].message);
    err.WithViolations(std::move(listed), static_cast<int64_t>(errors.size()));
    return err;
  }

  store::WriteResult r = writer_->Write(batch);
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

HandlerResult EventService::CreateMetric(const Json& body) {
  app::MetricDefinition m;
  if (Status s = DecodeMetric(body, &m); !s.ok()) return s;
  auto created = experiments_->metrics().Create(std::move(m), NowMs());
  if (!created.ok()) return created.status();
  return HandlerResult(RenderMetric(*created), 201);
}

HandlerResult EventService::ListMetrics() {
  Json list = Json::array();
  for (const auto& m : experiments_->metrics().List()) list.push_back(RenderMetric(m));
  return Json{{"metrics", std::move(list)}};
}

HandlerResult EventService::GetMetric(std::string_view key) {
  auto m = experiments_->metrics().Get(key);
  if (!m.ok()) return m.status();
  return RenderMetric(*m);
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
