// Readers of conversion paths in ChannelAttribution's layout (docs/causal.md,
// "Channel attribution"): bytes in, a causal::PathTable out, or a Status naming the
// row and column (`paths[2].total_conversions`, with the CSV line in the message).
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "causal/attribution.h"
#include "common/status.h"

namespace causeway::io {

// CSV with a header naming path and total_conversions, and optionally total_null and
// total_conversion_value (no other column); RFC 4180 quotes, CRLF. Row i counts data
// rows from 0.
std::variant<causal::PathTable, Status> ReadPathsCsv(std::string_view csv,
                                                     const std::string& separator);

// The usual JSON body read in one pass without a DOM. A 1 M-row body is about 100 MB,
// and nlohmann's DOM spends seconds allocating a node per value. This reads the shape
// clients send: a top-level object whose `paths` is an array of objects with only the
// four row members, each at most once, `path` an ASCII string without escapes and the
// counts numbers (null for an absent optional one). The other top-level members are
// parsed by nlohmann one at a time. Anything else (escapes, non-ASCII, an unknown or
// repeated member, a wrong type, a missing required member, malformed JSON) gives
// nullopt and the caller reads the body the general way (a DOM and its field reader),
// so every answer and every error is the general way's.
struct PathRow {
  size_t path_begin = 0, path_size = 0;  // in the body
  double conversions = 0, nulls = 0, value = 0;
  bool has_value = false;
};

struct PathsBody {
  nlohmann::json options =
      nlohmann::json::object();  // the top-level members, `paths` as an empty array
  std::vector<PathRow> rows;
};

// The body's rows and other members, or nullopt when it is not of the shape above.
std::optional<PathsBody> ReadPathsJsonFast(std::string_view body);

// The table of rows read by ReadPathsJsonFast from `body`.
std::variant<causal::PathTable, Status> PathTableFromRows(std::string_view body,
                                                          const std::vector<PathRow>& rows,
                                                          const std::string& separator);

}  // namespace causeway::io
