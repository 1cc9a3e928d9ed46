#include "io/event_reader.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "io/json_text.h"

namespace causeway::io {
namespace {

using Json = nlohmann::json;

Status InvalidArgument(std::string field, std::string message) {
  return Status::InvalidArgument(std::move(field), std::move(message));
}

class EventSax : public nlohmann::json_sax<Json> {
 public:
  explicit EventSax(RawBatch* out) : out_(out) {}

  std::optional<Status> error;

  bool null() override {
    return Scalar([](RawField& f) { f.kind = RawField::Kind::kNull; }, "null");
  }
  bool boolean(bool v) override {
    return Scalar([v](RawField& f) { f.kind = RawField::Kind::kBool, f.b = v; },
                  v ? "true" : "false");
  }
  bool number_integer(number_integer_t v) override {
    return Scalar([v](RawField& f) { f.kind = RawField::Kind::kInt, f.i = v; }, std::to_string(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Scalar([v](RawField& f) { f.kind = RawField::Kind::kUInt, f.u = v; }, std::to_string(v));
  }
  bool number_float(number_float_t v, const string_t& text) override {
    return Scalar([v](RawField& f) { f.kind = RawField::Kind::kFloat, f.d = v; }, text);
  }
  bool string(string_t& v) override {
    if (skip_ > 0) return true;
    if (state_ == State::kAttributes) {
      AttributeKey();
      AppendJsonString(current().attributes_json, v);
      return true;
    }
    return Scalar([&v](RawField& f) { f.kind = RawField::Kind::kString, f.str = std::move(v); },
                  "");
  }
  bool binary(binary_t&) override { return true; }

  bool start_object(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kStart:
        state_ = State::kTop;
        return true;
      case State::kTopValue:  // "events": {...}
        out_->has_events = true;
        return Skip(State::kTop);
      case State::kEvents:
        out_->events.emplace_back();
        state_ = State::kEvent;
        return true;
      case State::kEventValue:
        if (field_ == nullptr && key_ == "attributes") {
          RawEvent& e = current();
          e.has_attributes = e.attributes_is_object = true;
          e.attributes_json.assign(1, '{');  // not = "{": GCC 12 -Wrestrict false positive
          attr_count_ = 0;
          state_ = State::kAttributes;
          return true;
        }
        Mark(RawField::Kind::kObject);
        return Skip(State::kEvent);
      case State::kAttributes:
        current().nested_attributes.push_back(attr_key_);
        return Skip(State::kAttributes);
      default:
        return Fail("request body must be a JSON object");
    }
  }
  bool end_object() override {
    if (skip_ > 0) return EndSkip();
    if (state_ == State::kAttributes) {
      current().attributes_json += '}';
      state_ = State::kEvent;
    } else if (state_ == State::kEvent) {
      state_ = State::kEvents;
    } else if (state_ == State::kTop) {
      state_ = State::kDone;
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kTopValue:
        out_->has_events = out_->events_is_array = true;
        state_ = State::kEvents;
        return true;
      case State::kEvents:
        out_->events.emplace_back().is_object = false;
        return Skip(State::kEvents);
      case State::kEventValue:
        Mark(RawField::Kind::kArray);
        return Skip(State::kEvent);
      case State::kAttributes:
        current().nested_attributes.push_back(attr_key_);
        return Skip(State::kAttributes);
      default:
        return Fail("request body must be a JSON object");
    }
  }
  bool end_array() override {
    if (skip_ > 0) return EndSkip();
    if (state_ == State::kEvents) state_ = State::kTop;
    return true;
  }
  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kTop:
        if (k != "events") {
          error = InvalidArgument(k, "unknown field");
          return false;
        }
        state_ = State::kTopValue;
        return true;
      case State::kEvent:
        key_ = std::move(k);
        field_ = FieldFor(key_);
        if (field_ == nullptr && key_ != "attributes") current().unknown_fields.push_back(key_);
        state_ = State::kEventValue;
        return true;
      case State::kAttributes:
        attr_key_ = std::move(k);
        return true;
      default:
        return true;
    }
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (!error) error = InvalidArgument("", "request body is not valid JSON");
    return false;
  }

 private:
  enum class State { kStart, kTop, kTopValue, kEvents, kEvent, kEventValue, kAttributes, kDone };

  RawEvent& current() { return out_->events.back(); }

  RawField* FieldFor(std::string_view k) {
    RawEvent& e = current();
    if (k == "type") return &e.type;
    if (k == "id") return &e.id;
    if (k == "user") return &e.user;
    if (k == "ts") return &e.ts;
    if (k == "experiment") return &e.experiment;
    if (k == "variant") return &e.variant;
    if (k == "event") return &e.event;
    if (k == "value") return &e.value;
    return nullptr;
  }

  void AttributeKey() {
    std::string& a = current().attributes_json;
    if (attr_count_++ > 0) a += ',';
    AppendJsonString(a, attr_key_);
    a += ':';
  }

  template <typename F>
  bool Scalar(F set, const std::string& text) {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kEventValue: {
        if (field_) {
          set(*field_);
        } else if (key_ == "attributes") {
          current().has_attributes = true;  // not an object
        }
        state_ = State::kEvent;
        return true;
      }
      case State::kAttributes:
        AttributeKey();
        current().attributes_json += text;
        return true;
      case State::kTopValue:  // "events": 3
        out_->has_events = true;
        state_ = State::kTop;
        return true;
      case State::kEvents:
        out_->events.emplace_back().is_object = false;
        return true;
      default:
        return Fail("request body must be a JSON object");
    }
  }

  void Mark(RawField::Kind kind) {
    if (field_) {
      field_->kind = kind;
    } else if (key_ == "attributes") {
      current().has_attributes = true;
    }
  }

  bool Skip(State resume) {
    skip_ = 1;
    resume_ = resume;
    return true;
  }
  bool EndSkip() {
    if (--skip_ == 0) state_ = resume_;
    return true;
  }
  bool Fail(const char* message) {
    error = InvalidArgument("", message);
    return false;
  }

  RawBatch* out_;
  State state_ = State::kStart;
  State resume_ = State::kStart;
  int skip_ = 0;  // depth inside a value being skipped
  std::string key_;
  RawField* field_ = nullptr;
  std::string attr_key_;
  int attr_count_ = 0;
};

}  // namespace

std::optional<Status> ParseEventBatch(std::string_view body, RawBatch* out) {
  EventSax sax(out);
  bool ok = Json::sax_parse(body.begin(), body.end(), &sax, nlohmann::detail::input_format_t::json,
                            /*strict=*/true);
  if (sax.error) return sax.error;
  if (!ok) return InvalidArgument("", "request body is not valid JSON");
  return std::nullopt;
}

namespace {

constexpr int64_t kMinTsMs = 946684800000;          // 2000-01-01T00:00:00Z
constexpr int64_t kMaxFutureMs = 24 * 3600 * 1000;  // one day
constexpr size_t kMaxUserBytes = 256;
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxErrorsListed = 100;

using Kind = RawField::Kind;

// Validates one parsed event into a row, recording each problem with its field
// in the order the fields are checked (the order of the answer's list).
class EventValidator {
 public:
  EventValidator(size_t index, const EventLimits& limits, const ExposureTargets& targets,
                 int64_t now_ms, std::vector<FieldViolation>* errors)
      : index_(index), limits_(limits), targets_(targets), now_ms_(now_ms), errors_(errors) {}

  // True when the event had no problem; *out is then the row.
  bool Validate(RawEvent& e, store::Event* out) {
    const size_t before = errors_->size();
    if (!e.is_object) return Fail("", "must be an object");
    if (e.type.kind != Kind::kString || (e.type.str != "exposure" && e.type.str != "conversion")) {
      return Fail("type", "required: \"exposure\" or \"conversion\"");
    }
    const bool exposure = e.type.str == "exposure";
    out->type = exposure ? store::EventType::kExposure : store::EventType::kConversion;
    for (const auto& k : e.unknown_fields) Fail(k, "unknown field");
    const RawField* wrong[] = {exposure ? &e.event : &e.experiment,
                               exposure ? &e.value : &e.variant};
    const char* wrong_names[] = {exposure ? "event" : "experiment", exposure ? "value" : "variant"};
    for (int w = 0; w < 2; ++w) {
      if (wrong[w]->present()) {
        Fail(wrong_names[w],
             std::string("is not a field of ") + (exposure ? "an exposure" : "a conversion"));
      }
    }
    out->id = StringField(e.id, "id", limits_.max_id_bytes,
                          "required: a non-empty string of at most 128 bytes");
    out->user = StringField(e.user, "user", kMaxUserBytes,
                            "required: a non-empty string of at most 256 bytes");
    ReadTs(e.ts, out);
    ReadAttributes(e, out);
    if (exposure) {
      ReadExposure(e, out);
    } else {
      ReadConversion(e, out);
    }
    return errors_->size() == before;
  }

 private:
  bool Fail(std::string_view field, std::string message) {
    std::string at = Path("events", index_);
    errors_->push_back(
        {static_cast<int64_t>(index_), field.empty() ? at : Path(at, field), std::move(message)});
    return false;
  }

  std::string StringField(RawField& f, const char* name, size_t max_bytes, const char* problem) {
    if (f.kind != Kind::kString || f.str.empty() || f.str.size() > max_bytes) {
      Fail(name, problem);
      return {};
    }
    return std::move(f.str);
  }

  void ReadTs(const RawField& ts, store::Event* out) {
    if (ts.kind == Kind::kUInt && ts.u > uint64_t{INT64_MAX}) {
      Fail("ts", "is more than a day in the future");
    } else if (ts.kind != Kind::kInt && ts.kind != Kind::kUInt) {
      Fail("ts", "required: integer milliseconds since the Unix epoch");
    } else {
      out->ts_ms = ts.kind == Kind::kInt ? ts.i : static_cast<int64_t>(ts.u);
      if (out->ts_ms < kMinTsMs) {
        Fail("ts", "is before 2000-01-01 (is it in seconds rather than milliseconds?)");
      } else if (out->ts_ms > now_ms_ + kMaxFutureMs) {
        Fail("ts", "is more than a day in the future");
      }
    }
  }

  void ReadAttributes(RawEvent& e, store::Event* out) {
    if (!e.has_attributes) return;
    if (!e.attributes_is_object) {
      Fail("attributes", "must be a flat JSON object");
      return;
    }
    for (const auto& k : e.nested_attributes) {
      Fail(Path("attributes", k), "must be a string, number, boolean or null (flat object)");
    }
    out->attributes = std::move(e.attributes_json);
  }

  void ReadExposure(RawEvent& e, store::Event* out) {
    bool known = false;
    if (e.experiment.kind != Kind::kString) {
      Fail("experiment", "required: an experiment key");
    } else if (!targets_.HasExperiment(e.experiment.str)) {
      Fail("experiment", "unknown experiment \"" + e.experiment.str + "\"");
    } else {
      out->experiment = std::move(e.experiment.str);
      known = true;
    }
    if (e.variant.kind == Kind::kInt || e.variant.kind == Kind::kUInt) {
      if (!known) return;
      const bool negative = e.variant.kind == Kind::kInt && e.variant.i < 0;
      const uint64_t index =
          e.variant.kind == Kind::kInt ? static_cast<uint64_t>(e.variant.i) : e.variant.u;
      std::optional<std::string> key =
          negative ? std::nullopt : targets_.VariantAt(out->experiment, index);
      if (!key) {
        Fail("variant", "experiment \"" + out->experiment + "\" has no variant at index " +
                            (negative ? std::to_string(e.variant.i) : std::to_string(index)));
      } else {
        out->variant = std::move(*key);
      }
    } else if (e.variant.kind != Kind::kString) {
      Fail("variant", "required: a variant key or index");
    } else if (known) {
      if (targets_.HasVariant(out->experiment, e.variant.str)) {
        out->variant = std::move(e.variant.str);
      } else if (std::optional<std::string> key =
                     VariantAtDecimal(out->experiment, e.variant.str)) {
        out->variant = std::move(*key);
      } else {
        Fail("variant",
             "experiment \"" + out->experiment + "\" has no variant \"" + e.variant.str + "\"");
      }
    }
  }

  // "0", "1", …: the index the SDKs report as a variation's key when it has no
  // meta key.
  std::optional<std::string> VariantAtDecimal(std::string_view experiment,
                                              std::string_view text) const {
    if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return {};
    uint64_t index = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return {};
      index = index * 10 + static_cast<uint64_t>(c - '0');
    }
    return targets_.VariantAt(experiment, index);
  }

  void ReadConversion(RawEvent& e, store::Event* out) {
    out->name = StringField(e.event, "event", kMaxNameBytes,
                            "required: the event name, a non-empty string of at most 128 bytes");
    if (!e.value.present()) return;
    if (!e.value.is_number() || !std::isfinite(e.value.number())) {
      Fail("value", "must be a finite number");
    } else {
      out->value = e.value.number();
    }
  }

  const size_t index_;
  const EventLimits& limits_;
  const ExposureTargets& targets_;
  const int64_t now_ms_;
  std::vector<FieldViolation>* errors_;
};

// The batch's problems as one Status: the first names the field; at most
// kMaxErrorsListed are listed.
Status BatchError(std::vector<FieldViolation> errors) {
  const int64_t total = static_cast<int64_t>(errors.size());
  Status err = InvalidArgument(errors[0].field, std::to_string(total) +
                                                    " problem(s) in the batch; nothing was "
                                                    "stored. First: " +
                                                    errors[0].message);
  if (errors.size() > kMaxErrorsListed) errors.resize(kMaxErrorsListed);
  err.WithViolations(std::move(errors), total);
  return err;
}

}  // namespace

StatusOr<std::vector<store::Event>> ReadEvents(std::string_view body, const EventLimits& limits,
                                               const ExposureTargets& targets, int64_t now_ms,
                                               size_t* rejected) {
  if (rejected) *rejected = 0;
  if (body.size() > limits.max_body_bytes) {
    return Status(StatusCode::kPayloadTooLarge,
                  "request body is " + std::to_string(body.size()) + " bytes; the limit is " +
                      std::to_string(limits.max_body_bytes) + " bytes (5 MB) per request");
  }
  RawBatch raw;
  if (auto e = ParseEventBatch(body, &raw)) return *e;
  if (!raw.has_events || !raw.events_is_array) {
    return InvalidArgument("events", "required: an array of events");
  }
  const size_t count = raw.events.size();
  if (count > limits.max_events) {
    return Status(StatusCode::kPayloadTooLarge,
                  std::to_string(count) + " events in one request; the limit is " +
                      std::to_string(limits.max_events),
                  "events");
  }
  std::vector<store::Event> batch;
  batch.reserve(count);
  std::vector<FieldViolation> errors;
  for (size_t i = 0; i < count; ++i) {
    store::Event ev;
    if (EventValidator(i, limits, targets, now_ms, &errors).Validate(raw.events[i], &ev)) {
      batch.push_back(std::move(ev));
    }
  }
  if (errors.empty()) return batch;
  if (rejected) *rejected = count;
  return BatchError(std::move(errors));
}

}  // namespace causeway::io
