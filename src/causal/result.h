// Expected failures of the causal core are values, not exceptions (STYLE.md, "Errors").
//
// Result<T> holds either a T or an Error naming the offending input ("panel",
// "rows", "options.reference_period", ...) and a sentence for a person. The api
// layer maps an Error to HTTP 400 in one place.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace causeway::causal {

struct Error {
  std::string field;    // which input is wrong: "panel", "outcome", "options.method", ...
  std::string message;  // what is wrong, e.g. "duplicate (unit, time) row: unit 8001, time 2004"
};

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
