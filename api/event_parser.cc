#include "api/event_parser.h"

#include "api/json_util.h"

namespace causeway::api {
namespace {

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

}  // namespace causeway::api
