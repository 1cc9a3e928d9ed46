// The contract between HTTP routing (api/server.cc) and endpoint logic.
//
// Endpoint logic is a function from parsed input to a HandlerResult: either a JSON
// body with a 2xx status, or an ApiError naming the field and the problem. Only
// api/server.cc turns results into HTTP responses (DESIGN.md, "API conventions"):
//   {"error": {"code": "invalid_argument", "message": "...", "field": "variants[1].n"}}
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace causeway::api {

using Json = nlohmann::json;

struct ApiError {
  int status = 400;
  std::string code = "invalid_argument";  // machine-readable, snake_case
  std::string message;                    // for a person
  std::string field;                      // JSON path of the offending input ("" if none)
  Json details;                           // optional extra structure (e.g. per-event errors)
};

inline ApiError InvalidArgument(std::string field, std::string message) {
  return ApiError{400, "invalid_argument", std::move(message), std::move(field), nullptr};
}

class HandlerResult {
 public:
  HandlerResult(Json body, int status = 200) : status_(status), v_(std::move(body)) {}
  HandlerResult(ApiError error) : status_(error.status), v_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<Json>(v_); }
  int status() const { return status_; }
  // REQUIRES: ok()
  const Json& body() const { return std::get<Json>(v_); }
  // REQUIRES: !ok()
  const ApiError& error() const { return std::get<ApiError>(v_); }

 private:
  int status_;
  std::variant<Json, ApiError> v_;
};

// {"error": {...}} for an ApiError; the single place the error shape is built.
inline Json ErrorBody(const ApiError& e) {
  Json err = {{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  if (!e.details.is_null()) err["details"] = e.details;
  return Json{{"error", std::move(err)}};
}

}  // namespace causeway::api
