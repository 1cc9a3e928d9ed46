// Times as people type and read them: ISO 8601 in UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::api {

// "2026-11-23T18:47:00.123Z": milliseconds since the Unix epoch in UTC.
std::string IsoTime(int64_t ms);

// Milliseconds since the Unix epoch of an RFC 3339 / ISO 8601 time,
// "2027-01-31T12:00:00Z", "2027-01-31T12:00:00.250+02:00", or a date
// "2027-01-31" (midnight UTC); nullopt when malformed.
std::optional<int64_t> ParseIsoTime(std::string_view text);

}  // namespace causeway::api
