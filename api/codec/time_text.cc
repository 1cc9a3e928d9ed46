#include "api/codec/time_text.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace causeway::api {
namespace {

// Reads exactly `width` decimal digits at text[*pos].
bool Digits(std::string_view text, size_t* pos, size_t width, int* out) {
  if (*pos + width > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += width;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, std::string_view one_of) {
  if (*pos >= text.size() || one_of.find(text[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

}  // namespace

std::string IsoTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return ts;
}

std::optional<int64_t> ParseIsoTime(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, "-") || !Digits(text, &pos, 2, &month) ||
      !Expect(text, &pos, "-") || !Digits(text, &pos, 2, &day)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::sys_days(date).time_since_epoch())
                   .count();
  if (pos == text.size()) return ms;  // a date alone: midnight UTC
  if (!Expect(text, &pos, "Tt") || !Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ":") ||
      !Digits(text, &pos, 2, &minute) || !Expect(text, &pos, ":") ||
      !Digits(text, &pos, 2, &second) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  ms += ((hour * 60 + minute) * 60 + second) * int64_t{1000};
  if (pos < text.size() && text[pos] == '.') {  // fraction: milliseconds kept, the rest dropped
    ++pos;
    const size_t start = pos;
    int64_t scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ms += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (Expect(text, &pos, "Zz")) return pos == text.size() ? std::optional(ms) : std::nullopt;
  if (pos >= text.size()) return std::nullopt;  // a time needs its offset
  const int sign = text[pos] == '-' ? -1 : 1;
  int oh, om;
  if (!Expect(text, &pos, "+-") || !Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ":") ||
      !Digits(text, &pos, 2, &om) || pos != text.size() || oh > 23 || om > 59) {
    return std::nullopt;
  }
  return ms - sign * (oh * 60 + om) * int64_t{60000};
}

}  // namespace causeway::api
