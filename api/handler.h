// The contract between HTTP routing (api/server.cc, api/routes.h) and endpoint logic.
//
// Endpoint logic is a function from parsed input to a HandlerResult: either a JSON
// body with a 2xx status, or a Status (src/common/status.h) naming the code, the
// field and the problem. Only api/errors.cc turns a Status into an HTTP status and
// the one error shape (DESIGN.md, "API conventions"):
//   {"error": {"code": "invalid_argument", "message": "...", "field": "variants[1].n"}}
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace causeway::api {

using Json = nlohmann::json;

inline Status InvalidArgument(std::string field, std::string message) {
  return Status::InvalidArgument(std::move(field), std::move(message));
}

// A body that is not JSON, or JSON already serialised (the hot paths write it
// without building a DOM), with its content type.
struct RawBody {
  std::string text;
  std::string content_type = "application/json";
};

class HandlerResult {
 public:
  HandlerResult(Json body, int http_status = 200)
      : http_status_(http_status), v_(std::move(body)) {}
  HandlerResult(RawBody body, int http_status = 200)
      : http_status_(http_status), v_(std::move(body)) {}
  // REQUIRES: !error.ok()
  HandlerResult(Status error) : v_(std::move(error)) {}

  bool ok() const { return !std::holds_alternative<Status>(v_); }
  // The 2xx (or 304) status of a success. REQUIRES: ok()
  int http_status() const { return http_status_; }
  bool is_raw() const { return std::holds_alternative<RawBody>(v_); }
  // REQUIRES: ok() && !is_raw()
  const Json& body() const { return std::get<Json>(v_); }
  // REQUIRES: is_raw()
  RawBody& raw() { return std::get<RawBody>(v_); }
  // REQUIRES: !ok()
  const Status& error() const { return std::get<Status>(v_); }

  // Response headers beside Content-Type (ETag, Cache-Control, ...).
  HandlerResult& Header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  int http_status_ = 200;
  std::variant<Json, RawBody, Status> v_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// The HTTP status of a failure: the single table from canonical codes to HTTP
// (api/errors.cc; docs/api.md, "Errors").
int HttpStatus(StatusCode code);

// {"error": {"code", "message", "field"?, "details"?}} for a failed Status; the
// single place the error shape is built.
Json ErrorBody(const Status& s);

}  // namespace causeway::api
