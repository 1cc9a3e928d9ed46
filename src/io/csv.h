// CSV records as RFC 4180 writes them: comma-separated fields, double quotes
// around a field that holds commas, quotes ("" inside) or newlines. Shared by the
// panel and conversion-path readers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::io {

// Reads one record at a time from `csv`, which must outlive the reader.
class CsvRecords {
 public:
  explicit CsvRecords(std::string_view csv) : csv_(csv) { unquoted_.reserve(64); }

  // The next record's fields (views into the input, or into the reader's copy of
  // a quoted field, valid until the next call); false at the end of the input.
  bool Next(std::vector<std::string_view>* fields);

 private:
  std::string_view csv_;
  size_t pos_ = 0;
  std::vector<std::string> unquoted_;
};

// The field without leading spaces and trailing spaces or '\r'.
std::string_view Trim(std::string_view s);
// An empty field, "NA" or "null" (after Trim).
bool Blank(std::string_view s);
// A finite decimal number, optionally with a leading '+' (after Trim).
bool ParseDouble(std::string_view s, double* out);
// An integer-valued number of magnitude at most 9e15 ("3", "3.0", "+3").
bool ParseInt(std::string_view s, int64_t* out);

}  // namespace causeway::io
