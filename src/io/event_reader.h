// The reader of event batches (POST /v1/events bodies, docs/events.md): bytes in,
// the batch's typed rows out, or a Status naming the first bad field
// (`events[3].ts`) with every problem of the batch listed in its violations.
//
// Ingestion is a hot path: building a JSON DOM (a std::map per event) costs
// more than the SQLite insert. ParseEventBatch reads the body once with a SAX
// parser and records, per event, the JSON kind and value of each field;
// ReadEvents validates them. Structure errors inside an event are recorded, not
// thrown, so one answer can list every bad event. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace causeway::io {

// One field of an event as it appeared in the JSON.
struct RawField {
  enum class Kind { kAbsent, kNull, kBool, kInt, kUInt, kFloat, kString, kObject, kArray };
  Kind kind = Kind::kAbsent;
  std::string str;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0.0;
  bool b = false;

  bool present() const { return kind != Kind::kAbsent; }
  bool is_number() const {
    return kind == Kind::kInt || kind == Kind::kUInt || kind == Kind::kFloat;
  }
  double number() const {
    return kind == Kind::kInt    ? static_cast<double>(i)
           : kind == Kind::kUInt ? static_cast<double>(u)
                                 : d;
  }
};

struct RawEvent {
  bool is_object = true;
  RawField type, id, user, ts, experiment, variant, event, value;
  bool has_attributes = false;
  bool attributes_is_object = false;
  std::string attributes_json;                 // the flat object re-serialised compactly
  std::vector<std::string> nested_attributes;  // attribute keys whose value is an object/array
  std::vector<std::string> unknown_fields;
};

struct RawBatch {
  bool has_events = false;
  bool events_is_array = false;
  std::vector<RawEvent> events;
};

// Document-level problems (not JSON, not an object, unknown top-level field) are
// returned as an error; per-event problems are left in the RawEvents.
std::optional<Status> ParseEventBatch(std::string_view body, RawBatch* out);

// Limits of one batch (docs/events.md, "Limits").
struct EventLimits {
  size_t max_events = 10000;
  size_t max_body_bytes = 5 * 1024 * 1024;
  size_t max_id_bytes = 128;
};

// Which experiments and variants exist, for exposures: the caller's configuration
// (the API passes its assignment snapshot's). Called once per exposure.
class ExposureTargets {
 public:
  virtual ~ExposureTargets() = default;
  virtual bool HasExperiment(std::string_view experiment) const = 0;
  // REQUIRES: HasExperiment(experiment)
  virtual bool HasVariant(std::string_view experiment, std::string_view variant) const = 0;
  // The key of the experiment's variant at `index` (0 = the first, as the
  // GrowthBook SDKs number variations), or nullopt beyond the last.
  // REQUIRES: HasExperiment(experiment)
  virtual std::optional<std::string> VariantAt(std::string_view experiment,
                                               uint64_t index) const = 0;
};

// The rows of a batch, each validated (docs/events.md): type, id, user, ts in
// [2000-01-01, now_ms + 1 day], flat attributes, and for an exposure a known
// experiment and variant (its key, or its index as an integer or a decimal string
// that is not itself a variant key: what a GrowthBook SDK's tracking callback
// reports), for a conversion an event name and a finite value.
// Nothing of a batch is returned unless all of it is valid: a body over the limit
// or with too many events is kPayloadTooLarge; a document problem, or any bad
// event, InvalidArgument naming the first bad field, with at most 100 problems
// listed (Status::violations) and their total count; then *rejected, when given,
// is the number of events of a batch refused for bad events (0 otherwise).
StatusOr<std::vector<store::Event>> ReadEvents(std::string_view body, const EventLimits& limits,
                                               const ExposureTargets& targets, int64_t now_ms,
                                               size_t* rejected = nullptr);

}  // namespace causeway::io
