// Expected failures of the causal core are values, not exceptions (STYLE.md, "Errors").
//
// Result<T> holds either a T or an Error naming the offending input ("panel",
// "rows", "options.reference_period", ...), a sentence for a person and its kind:
// malformed input, or well-formed input the data cannot answer (no treated unit, no
// control unit, no pre-period, a singular design, fewer than 2 clusters). The api
// layer maps the kinds to canonical codes in one place (docs/api.md, "Data that
// cannot answer").
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace causeway::causal {

enum class ErrorKind {
  kInvalidInput,      // malformed: wrong lengths, duplicate rows, out-of-range options
  kInsufficientData,  // well-formed, but the data cannot answer the question
};

struct Error {
  std::string field;    // which input is wrong: "panel", "outcome", "options.method", ...
  std::string message;  // what is wrong, e.g. "duplicate (unit, time) row: unit 8001, time 2004"
  ErrorKind kind = ErrorKind::kInvalidInput;
};

// An Error of kind kInsufficientData.
inline Error InsufficientData(std::string field, std::string message) {
  return Error{std::move(field), std::move(message), ErrorKind::kInsufficientData};
}

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  // REQUIRES: ok()
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace causeway::causal
