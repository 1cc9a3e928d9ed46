// Small JSON helpers shared by the endpoint handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "assign/value.h"
#include "io/json_text.h"

namespace causeway::api {

// Converts parsed JSON into the assignment core's Value tree.
assign::Value ToValue(const Json& j);
// And back; integral numbers are written as integers so a condition or a
// feature value reads back as it was sent.
Json FromValue(const assign::Value& v);

// Parses a request body as a JSON object, or an error naming the problem.
std::optional<Status> ParseJsonObject(std::string_view body, Json* out);

// The JSON text helpers live with the readers (io/json_text.h).
using io::AppendJsonString;
using io::AppendNumber;
using io::IsValidUtf8;
using io::Path;

}  // namespace causeway::api
