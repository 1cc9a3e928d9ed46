#include "api/events.h"

#include <cmath>

#include "api/auth.h"
#include "api/json_util.h"
#include "api/log.h"

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

bool IsNonEmptyString(const Json& j, size_t max_bytes) {
  return j.is_string() && !j.get_ref<const std::string&>().empty() &&
         j.get_ref<const std::string&>().size() <= max_bytes;
}

ApiError StorageError(const store::Status& s) {
  if (s.code() == store::Status::Code::kBusy) {
    return ApiError{503, "unavailable", s.message() + "; retry after a second", "", nullptr};
  }
  return ApiError{500, "internal",
                  "storage error, nothing from this batch was stored: " + s.message(), "", nullptr};
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
    return ApiError{413, "payload_too_large",
                    "request body is " + std::to_string(body.size()) + " bytes; the limit is " +
                        std::to_string(limits_.max_body_bytes) + " bytes (5 MB) per request",
                    "", nullptr};
  }
  Json doc;
  if (auto e = ParseJsonObject(body, &doc)) return *e;
  if (auto e = RejectUnknownFields(doc, "", {"events"})) return *e;
  if (!doc.contains("events") || !doc["events"].is_array()) {
    return InvalidArgument("events", "required: an array of events");
  }
  const Json& events = doc["events"];
  if (events.size() > limits_.max_events) {
    return ApiError{413, "payload_too_large",
                    std::to_string(events.size()) + " events in one request; the limit is " +
                        std::to_string(limits_.max_events),
                    "events", nullptr};
  }

  const assign::Snapshot& snapshot = experiments_->snapshots().Current();
  const int64_t now = NowMs();
  std::vector<store::Event> batch;
  batch.reserve(events.size());
  std::vector<EventError> errors;
  for (size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    const std::string at = Path("events", i);
    auto fail = [&](std::string_view field, std::string message) {
      errors.push_back({i, field.empty() ? at : Path(at, field), std::move(message)});
    };
    if (!e.is_object()) {
      fail("", "must be an object");
      continue;
    }
    store::Event ev;
    const size_t errors_before = errors.size();
    const Json* type = e.contains("type") ? &e["type"] : nullptr;
    if (!type || !type->is_string() || (*type != "exposure" && *type != "conversion")) {
      fail("type", "required: \"exposure\" or \"conversion\"");
      continue;
    }
    const bool exposure = *type == "exposure";
    ev.type = exposure ? store::EventType::kExposure : store::EventType::kConversion;
    for (const auto& [k, v] : e.items()) {
      static constexpr std::string_view kCommon[] = {"type", "id", "user", "ts", "attributes"};
      bool known = std::find(std::begin(kCommon), std::end(kCommon), k) != std::end(kCommon);
      known = known ||
              (exposure ? (k == "experiment" || k == "variant") : (k == "event" || k == "value"));
      if (!known)
        fail(k, std::string("unknown field for a ") + (exposure ? "n exposure" : " conversion"));
    }
    if (!e.contains("id") || !IsNonEmptyString(e["id"], limits_.max_id_bytes)) {
      fail("id", "required: a non-empty string of at most 128 bytes");
    } else {
      ev.id = e["id"].get<std::string>();
    }
    if (!e.contains("user") || !IsNonEmptyString(e["user"], kMaxUserBytes)) {
      fail("user", "required: a non-empty string of at most 256 bytes");
    } else {
      ev.user = e["user"].get<std::string>();
    }
    if (!e.contains("ts") || !(e["ts"].is_number_integer() || e["ts"].is_number_unsigned())) {
      fail("ts", "required: integer milliseconds since the Unix epoch");
    } else if (e["ts"].is_number_unsigned() && e["ts"].get<uint64_t>() > uint64_t{INT64_MAX}) {
      fail("ts", "is too far in the future");
    } else {
      ev.ts_ms = e["ts"].get<int64_t>();
      if (ev.ts_ms < kMinTsMs) {
        fail("ts", "is before 2000-01-01 (is it in seconds rather than milliseconds?)");
      } else if (ev.ts_ms > now + kMaxFutureMs) {
        fail("ts", "is more than a day in the future");
      }
    }
    if (e.contains("attributes")) {
      const Json& a = e["attributes"];
      if (!a.is_object()) {
        fail("attributes", "must be a flat JSON object");
      } else {
        for (const auto& [k, v] : a.items()) {
          if (v.is_object() || v.is_array()) {
            fail(Path("attributes", k), "must be a string, number, boolean or null (flat object)");
          }
        }
        ev.attributes = a.dump(-1, ' ', false, Json::error_handler_t::replace);
      }
    }
    if (exposure) {
      const assign::CompiledExperiment* x = nullptr;
      if (!e.contains("experiment") || !e["experiment"].is_string()) {
        fail("experiment", "required: an experiment key");
      } else if (!(x = snapshot.Find(e["experiment"].get_ref<const std::string&>()))) {
        fail("experiment", "unknown experiment \"" + e["experiment"].get<std::string>() + "\"");
      } else {
        ev.experiment = e["experiment"].get<std::string>();
      }
      if (!e.contains("variant") || !e["variant"].is_string()) {
        fail("variant", "required: a variant key");
      } else if (x) {
        const auto& variants = x->spec.variants;
        const auto& name = e["variant"].get_ref<const std::string&>();
        bool found = false;
        for (const auto& v : variants) found = found || v.key == name;
        if (!found) {
          fail("variant", "experiment \"" + ev.experiment + "\" has no variant \"" + name + "\"");
        } else {
          ev.variant = name;
        }
      }
    } else {
      if (!e.contains("event") || !IsNonEmptyString(e["event"], kMaxNameBytes)) {
        fail("event", "required: the event name, a non-empty string of at most 128 bytes");
      } else {
        ev.name = e["event"].get<std::string>();
      }
      if (e.contains("value")) {
        const Json& v = e["value"];
        if (!v.is_number() || !std::isfinite(v.get<double>())) {
          fail("value", "must be a finite number");
        } else {
          ev.value = v.get<double>();
        }
      }
    }
    if (errors.size() == errors_before) batch.push_back(std::move(ev));
  }

  if (!errors.empty()) {
    if (rejected_counter) rejected_counter->fetch_add(events.size(), std::memory_order_relaxed);
    Json list = Json::array();
    for (size_t k = 0; k < errors.size() && k < kMaxErrorsListed; ++k) {
      list.push_back(
          {{"index", errors[k].index}, {"field", errors[k].field}, {"message", errors[k].message}});
    }
    ApiError err = InvalidArgument(errors[0].field, std::to_string(errors.size()) +
                                                        " problem(s) in the batch; nothing was "
                                                        "stored. First: " +
                                                        errors[0].message);
    err.details = {{"errors", std::move(list)}, {"error_count", errors.size()}};
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
  if (auto e = RejectUnknownFields(body, "",
                                   {"key", "name", "description", "type", "event",
                                    "denominator_event", "window_hours", "higher_is_better"})) {
    return *e;
  }
  Json m = body;
  if (!m.contains("key") || !IsNonEmptyString(m["key"], kMaxNameBytes)) {
    return InvalidArgument("key", "required: a non-empty string of at most 128 bytes");
  }
  for (unsigned char c : m["key"].get<std::string>()) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.')) {
      return InvalidArgument("key", "may contain only letters, digits, '_', '-' and '.'");
    }
  }
  if (!m.contains("name")) m["name"] = m["key"];
  if (!m["name"].is_string()) return InvalidArgument("name", "must be a string");
  if (m.contains("description") && !m["description"].is_string()) {
    return InvalidArgument("description", "must be a string");
  }
  if (!m.contains("type") || !m["type"].is_string() ||
      (m["type"] != "binomial" && m["type"] != "mean" && m["type"] != "count" &&
       m["type"] != "ratio")) {
    return InvalidArgument("type", "required: \"binomial\", \"mean\", \"count\" or \"ratio\"");
  }
  if (!m.contains("event") || !IsNonEmptyString(m["event"], kMaxNameBytes)) {
    return InvalidArgument("event", "required: the conversion event name");
  }
  if (m["type"] == "ratio") {
    if (!m.contains("denominator_event") ||
        !IsNonEmptyString(m["denominator_event"], kMaxNameBytes)) {
      return InvalidArgument("denominator_event", "required for ratio metrics: an event name");
    }
  } else if (m.contains("denominator_event")) {
    return InvalidArgument("denominator_event", "only ratio metrics have a denominator");
  }
  if (m.contains("window_hours") && !m["window_hours"].is_null()) {
    const Json& w = m["window_hours"];
    if (!w.is_number() || !(w.get<double>() > 0) || w.get<double>() > 24.0 * 365 * 10) {
      return InvalidArgument("window_hours", "must be a positive number of hours");
    }
  } else {
    m["window_hours"] = nullptr;
  }
  if (!m.contains("higher_is_better")) m["higher_is_better"] = true;
  if (!m["higher_is_better"].is_boolean()) {
    return InvalidArgument("higher_is_better", "must be a boolean");
  }
  store::MetricRow row{m["key"].get<std::string>(), m.dump(), NowMs()};
  if (auto s = store_->CreateMetric(row); !s.ok()) {
    if (s.code() == store::Status::Code::kAlreadyExists) {
      return ApiError{409, "already_exists", s.message(), "key", nullptr};
    }
    return ApiError{500, "internal", s.message(), "", nullptr};
  }
  m["created_at"] = IsoTime(row.created_ms);
  return HandlerResult(m, 201);
}

HandlerResult EventService::ListMetrics() {
  Json list = Json::array();
  for (const auto& row : store_->ListMetrics()) {
    Json m = Json::parse(row.config);
    m["created_at"] = IsoTime(row.created_ms);
    list.push_back(std::move(m));
  }
  return Json{{"metrics", std::move(list)}};
}

HandlerResult EventService::GetMetric(std::string_view key) {
  auto row = store_->GetMetric(key);
  if (!row)
    return ApiError{404, "not_found", "no metric with key " + std::string(key), "key", nullptr};
  Json m = Json::parse(row->config);
  m["created_at"] = IsoTime(row->created_ms);
  return m;
}

HandlerResult EventService::Exposures(std::string_view key) {
  const assign::CompiledExperiment* x = experiments_->snapshots().Current().Find(key);
  auto since = experiments_->CurrentPhaseStart(key);
  if (!x || !since) {
    return ApiError{404, "not_found", "no experiment with key " + std::string(key), "key", nullptr};
  }
  // Copy what we need from the snapshot before any blocking call.
  std::vector<std::string> variant_keys;
  for (const auto& v : x->spec.variants) variant_keys.push_back(v.key);
  const int phase = x->spec.phase;
  store::ExposureSummary s = store_->SummarizeExposures(key, *since);
  Json variants = Json::array();
  for (const auto& vk : variant_keys) {
    int64_t exposures = 0, users = 0;
    for (const auto& v : s.variants) {
      if (v.variant == vk) exposures = v.exposures, users = v.users;
    }
    variants.push_back({{"variant", vk}, {"exposures", exposures}, {"users", users}});
  }
  return Json{{"experiment", key},
              {"phase", phase},
              {"since", IsoTime(*since)},
              {"variants", std::move(variants)},
              {"total_exposures", s.total_exposures},
              {"unique_users", s.unique_users},
              {"multi_variant_users", s.multi_variant_users}};
}

}  // namespace causeway::api
