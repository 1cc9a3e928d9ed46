// Streaming (SAX) parser for POST /v1/events bodies.
//
// Ingestion is a hot path: building a JSON DOM (a std::map per event) costs
// more than the SQLite insert. This parser reads the body once and records, per
// event, the JSON kind and value of each field, which EventService then
// validates. Structure errors inside an event are recorded, not thrown, so one
// answer can list every bad event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/handler.h"

namespace causeway::api {

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

}  // namespace causeway::api
