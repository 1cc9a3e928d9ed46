#include "io/csv.h"

#include <charconv>
#include <cmath>

namespace causeway::io {

bool CsvRecords::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  if (pos_ >= csv_.size()) return false;
  size_t i = pos_;
  unquoted_.clear();
  for (;;) {
    if (i < csv_.size() && csv_[i] == '"') {
      std::string value;
      ++i;
      while (i < csv_.size()) {
        if (csv_[i] != '"') {
          value += csv_[i++];
        } else if (i + 1 < csv_.size() && csv_[i + 1] == '"') {
          value += '"';
          i += 2;
        } else {
          ++i;
          break;
        }
      }
      // The reserve in the constructor keeps earlier views valid for up to 64
      // quoted fields; past that the vector may move them, so views are taken last.
      unquoted_.push_back(std::move(value));
      fields->push_back(std::string_view());
      while (i < csv_.size() && csv_[i] != ',' && csv_[i] != '\n') ++i;
    } else {
      size_t start = i;
      while (i < csv_.size() && csv_[i] != ',' && csv_[i] != '\n') ++i;
      fields->push_back(csv_.substr(start, i - start));
    }
    if (i >= csv_.size() || csv_[i] == '\n') break;
    ++i;  // comma
  }
  pos_ = i + 1;
  // Point the quoted fields at their copies, now that the copies no longer move.
  size_t q = 0;
  for (auto& f : *fields) {
    if (f.data() == nullptr) f = unquoted_[q++];
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool Blank(std::string_view s) {
  s = Trim(s);
  return s.empty() || s == "NA" || s == "null";
}

bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseInt(std::string_view s, int64_t* out) {
  double d;
  if (!ParseDouble(s, &d) || std::floor(d) != d || std::fabs(d) > 9e15) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

}  // namespace causeway::io
