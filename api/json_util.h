// Small JSON helpers shared by the endpoint handlers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/handler.h"
#include "assign/value.h"

namespace causeway::api {

// Converts parsed JSON into the assignment core's Value tree.
assign::Value ToValue(const Json& j);

// "a.b" / "a[3]" paths for error messages.
inline std::string Path(std::string_view parent, std::string_view child) {
  return parent.empty() ? std::string(child) : std::string(parent) + "." + std::string(child);
}
inline std::string Path(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// Parses a request body as a JSON object, or an error naming the problem.
std::optional<Status> ParseJsonObject(std::string_view body, Json* out);

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `s` to `out` as a JSON string literal (with quotes).
// REQUIRES: IsValidUtf8(s), or the output is not valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Appends the shortest decimal form that reads back to the same double.
void AppendNumber(std::string& out, double v);

}  // namespace causeway::api
