// Canonical status codes -> HTTP, and the one error body. Nothing else in the
// code base chooses an HTTP status for a failure.
#include "api/handler.h"

namespace causeway::api {

int HttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnsupportedMediaType:
      return 415;
    case StatusCode::kInsufficientData:
      return 422;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

Json ErrorBody(const Status& s) {
  Json err = {{"code", std::string(s.code_name())}, {"message", s.message()}};
  if (!s.field().empty()) err["field"] = s.field();
  if (!s.violations().empty()) {
    Json list = Json::array();
    for (const FieldViolation& v : s.violations()) {
      Json item = {{"field", v.field}, {"message", v.message}};
      if (v.index >= 0) item["index"] = v.index;
      list.push_back(std::move(item));
    }
    err["details"] = {{"errors", std::move(list)}, {"error_count", s.violation_count()}};
  }
  return Json{{"error", std::move(err)}};
}

}  // namespace causeway::api
