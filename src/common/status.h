// One error model for every layer (LevelDB's Status, google.rpc.Code's vocabulary).
//
// Expected failures are values: a function that can fail returns a Status, or a
// StatusOr<T> when it also produces a value. No exception crosses a module
// boundary. The codes are canonical and transport-free; api/http/errors.cc maps each
// to exactly one HTTP status (docs/api.md, "Errors").
//
// Thread-safety: plain values.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace causeway {

enum class StatusCode : uint8_t {
  kOk,
  kInvalidArgument,       // the request or a field of it is malformed
  kNotFound,              // a named thing (experiment, metric, key, endpoint) does not exist
  kAlreadyExists,         // creating something whose key is taken
  kFailedPrecondition,    // the current state forbids the change (e.g. re-randomising a
                          // running experiment without a new phase)
  kInsufficientData,      // a well-formed question the data cannot answer (no users, zero
                          // variance, no control unit); docs/api.md, "Data that cannot answer"
  kUnauthenticated,       // no or unknown credentials
  kPermissionDenied,      // credentials lack the scope
  kPayloadTooLarge,       // a size limit was exceeded
  kUnsupportedMediaType,  // a body in a format the endpoint does not read
  kUnavailable,           // transient: retry later (queue full, shutting down)
  kInternal,              // a bug or a storage failure; never the caller's fault
};

// snake_case name used on the wire ("invalid_argument", ...).
constexpr std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kInsufficientData:
      return "insufficient_data";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kPayloadTooLarge:
      return "payload_too_large";
    case StatusCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

// One problem in a request with several (e.g. the events of a batch).
struct FieldViolation {
  int64_t index = -1;  // position in the batch, or -1
  std::string field;   // JSON path, e.g. "events[3].ts"
  std::string message;
};

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string field, std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Status NotFound(std::string message, std::string field = {}) {
    return {StatusCode::kNotFound, std::move(message), std::move(field)};
  }
  static Status AlreadyExists(std::string message, std::string field = {}) {
    return {StatusCode::kAlreadyExists, std::move(message), std::move(field)};
  }
  static Status FailedPrecondition(std::string message, std::string field = {}) {
    return {StatusCode::kFailedPrecondition, std::move(message), std::move(field)};
  }
  static Status InsufficientData(std::string message, std::string field = {}) {
    return {StatusCode::kInsufficientData, std::move(message), std::move(field)};
  }
  static Status Unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status Internal(std::string message) {
    return {StatusCode::kInternal, std::move(message)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  std::string_view code_name() const { return StatusCodeName(code_); }
  const std::string& message() const { return message_; }
  // JSON path of the offending input ("" when no single field is to blame).
  const std::string& field() const { return field_; }
  // Every problem found when a request has several (the first is also field()).
  const std::vector<FieldViolation>& violations() const { return violations_; }
  int64_t violation_count() const { return violation_count_; }

  // Attaches the listed problems; `total` may exceed violations.size() when the
  // list was cut short.
  Status& WithViolations(std::vector<FieldViolation> violations, int64_t total) {
    violations_ = std::move(violations);
    violation_count_ = total;
    return *this;
  }
  // Prefixes field() with `parent` ("variants[1]" + "n" -> "variants[1].n").
  Status& UnderField(std::string_view parent) {
    if (parent.empty()) return *this;
    if (field_.empty()) {
      field_ = std::string(parent);
    } else if (field_.front() == '[') {
      field_ = std::string(parent) + field_;
    } else {
      field_ = std::string(parent) + "." + field_;
    }
    return *this;
  }

  // "not_found: no experiment with key x (field: key)"
  std::string ToString() const {
    std::string s(code_name());
    if (!message_.empty()) s += ": " + message_;
    if (!field_.empty()) s += " (field: " + field_ + ")";
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  std::vector<FieldViolation> violations_;
  int64_t violation_count_ = 0;
};

// A value or the Status saying why there is none (abseil's StatusOr).
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit, as abseil's
  // REQUIRES: !status.ok()
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok()
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace causeway
