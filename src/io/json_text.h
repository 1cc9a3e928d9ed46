// JSON text without a DOM: UTF-8 validation, string and number literals, and the
// "a.b" / "a[3]" paths that name a field in errors. Shared by the readers of
// src/io/ and the API's hand-written answers (the assignment hot path).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace causeway::io {

// "a.b" / "a[3]" paths for error messages.
inline std::string Path(std::string_view parent, std::string_view child) {
  return parent.empty() ? std::string(child) : std::string(parent) + "." + std::string(child);
}
inline std::string Path(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// True when `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Appends `s` to `out` as a JSON string literal (with quotes).
// REQUIRES: IsValidUtf8(s), or the output is not valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

// Appends the shortest decimal form that reads back to the same double.
void AppendNumber(std::string& out, double v);

}  // namespace causeway::io
