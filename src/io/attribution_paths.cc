#include "io/attribution_paths.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

namespace causeway::io {
namespace {

using causal::PathTableBuilder;
using Json = nlohmann::json;

Status InvalidArgument(std::string field, std::string message) {
  return Status::InvalidArgument(std::move(field), std::move(message));
}

std::string Row(size_t i) { return "paths[" + std::to_string(i) + "]"; }

// A core row error as a 400 naming the row (and its column when the core names one).
Status RowStatus(size_t i, const causal::Error& e, const std::string& where = {}) {
  return InvalidArgument(e.field.empty() ? Row(i) : Row(i) + "." + e.field, where + e.message);
}

// One RFC 4180 record from `csv` at *pos (quotes, doubled quotes, CRLF); false at the end.
bool NextRecord(std::string_view csv, size_t* pos, std::vector<std::string>* fields) {
  fields->clear();
  if (*pos >= csv.size()) return false;
  std::string field;
  bool quoted = false;
  size_t i = *pos;
  for (; i < csv.size(); ++i) {
    const char c = csv[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < csv.size() && csv[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      field += c;
    }
  }
  fields->push_back(std::move(field));
  *pos = i + 1;
  return true;
}

bool ParseNumber(std::string_view s, double* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

}  // namespace

std::variant<causal::PathTable, Status> ReadPathsCsv(std::string_view csv,
                                                     const std::string& separator) {
  size_t pos = 0;
  std::vector<std::string> fields;
  if (!NextRecord(csv, &pos, &fields)) return InvalidArgument("body", "empty CSV");
  int ipath = -1, iconv = -1, inull = -1, ivalue = -1;
  for (size_t k = 0; k < fields.size(); ++k) {
    std::string_view h = fields[k];
    while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
    while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
    int* slot = h == "path"                     ? &ipath
                : h == "total_conversions"      ? &iconv
                : h == "total_null"             ? &inull
                : h == "total_conversion_value" ? &ivalue
                                                : nullptr;
    if (!slot) {
      return InvalidArgument("columns",
                             "unknown CSV column '" + std::string(h) +
                                 "'; the columns are path, total_conversions, total_null and "
                                 "total_conversion_value");
    }
    if (*slot >= 0)
      return InvalidArgument("columns", "CSV column '" + std::string(h) + "' appears twice");
    *slot = static_cast<int>(k);
  }
  if (ipath < 0 || iconv < 0) {
    return InvalidArgument("columns",
                           "the CSV header needs the columns path and total_conversions "
                           "(and total_null, total_conversion_value when known)");
  }
  PathTableBuilder builder(separator);
  size_t row = 0;
  while (NextRecord(csv, &pos, &fields)) {
    if (fields.size() == 1 && fields[0].find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string line = "CSV line " + std::to_string(row + 2) + ": ";
    const size_t needed = static_cast<size_t>(std::max({ipath, iconv, inull, ivalue})) + 1;
    if (fields.size() < needed) {
      return InvalidArgument(Row(row), line + "has " + std::to_string(fields.size()) +
                                           " fields, the header " + std::to_string(needed));
    }
    double conv = 0, null = 0, value = 0;
    for (auto [idx, name, out] :
         {std::tuple{iconv, "total_conversions", &conv}, std::tuple{inull, "total_null", &null},
          std::tuple{ivalue, "total_conversion_value", &value}}) {
      if (idx >= 0 && !ParseNumber(fields[idx], out)) {
        return InvalidArgument(Row(row) + "." + name,
                               line + "'" + fields[idx] + "' is not a number");
      }
    }
    if (auto e = builder.Add(fields[ipath], conv, null,
                             ivalue >= 0 ? std::optional<double>(value) : std::nullopt)) {
      return RowStatus(row, *e, line);
    }
    ++row;
  }
  if (row == 0) return InvalidArgument("body", "the CSV has a header but no rows");
  return std::move(builder).Finish();
}

namespace {

class FastJsonReader {
 public:
  explicit FastJsonReader(std::string_view s) : s_(s) {}

  std::optional<PathsBody> Read() {
    PathsBody out;
    bool paths = false;
    if (!Eat('{')) return std::nullopt;
    if (!Eat('}')) {
      for (;;) {
        std::string_view key;
        if (!String(&key) || !Eat(':')) return std::nullopt;
        if (key == "paths") {
          if (paths || !Rows(&out.rows)) return std::nullopt;
          paths = true;
          out.options["paths"] = Json::array();
        } else {
          Ws();
          const size_t start = i_;
          if (out.options.contains(key) || !SkipValue()) return std::nullopt;
          Json v = Json::parse(s_.substr(start, i_ - start), nullptr, /*allow_exceptions=*/false);
          if (v.is_discarded()) return std::nullopt;
          out.options[std::string(key)] = std::move(v);
        }
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return std::nullopt;
      }
    }
    Ws();
    if (i_ != s_.size() || !paths) return std::nullopt;
    return out;
  }

 private:
  void Ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    Ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    Ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  // A string of printable ASCII without escapes.
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        *out = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }
  // A JSON number (RFC 8259 grammar), finite as a double.
  bool Number(double* out) {
    Ws();
    const size_t start = i_;
    auto digits = [&] {
      const size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > from;
    };
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    const char* end = s_.data() + i_;
    auto [p, ec] = std::from_chars(s_.data() + start, end, *out);
    return ec == std::errc() && p == end && std::isfinite(*out);
  }
  // Moves past one value (not checked: the caller hands it to nlohmann) to the `,` or
  // `}` that ends it.
  bool SkipValue() {
    int depth = 0;
    for (; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      if (c == '"') {
        for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
          if (s_[i_] == '\\') ++i_;
        }
        if (i_ >= s_.size()) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        --depth;
      } else if (c == ',' && depth == 0) {
        return true;
      }
    }
    return false;
  }
  bool Rows(std::vector<PathRow>* rows) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    for (;;) {
      PathRow row;
      unsigned seen = 0;  // bit f: member f was given (not null)
      if (!Eat('{')) return false;
      if (!Eat('}')) {
        for (;;) {
          std::string_view key;
          if (!String(&key) || !Eat(':')) return false;
          const int f = key == "path"                     ? 0
                        : key == "total_conversions"      ? 1
                        : key == "total_null"             ? 2
                        : key == "total_conversion_value" ? 3
                                                          : -1;
          if (f < 0 || (seen >> f & 1)) return false;
          if (f == 0) {
            std::string_view path;
            if (!String(&path)) return false;
            row.path_begin = static_cast<size_t>(path.data() - s_.data());
            row.path_size = path.size();
            seen |= 1;
          } else if (!Literal("null")) {
            double* out = f == 1 ? &row.conversions : f == 2 ? &row.nulls : &row.value;
            if (!Number(out)) return false;
            seen |= 1u << f;
          }
          if (Eat(',')) continue;
          if (Eat('}')) break;
          return false;
        }
      }
      if ((seen & 3) != 3) return false;  // path or total_conversions missing or null
      row.has_value = seen >> 3 & 1;
      rows->push_back(row);
      if (Eat(',')) continue;
      return Eat(']');
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<PathsBody> ReadPathsJsonFast(std::string_view body) {
  return FastJsonReader(body).Read();
}

std::variant<causal::PathTable, Status> PathTableFromRows(std::string_view body,
                                                          const std::vector<PathRow>& rows,
                                                          const std::string& separator) {
  if (rows.empty())
    return InvalidArgument("paths", "must be a non-empty array of {path, total_conversions, ...}");
  PathTableBuilder builder(separator);
  for (size_t i = 0; i < rows.size(); ++i) {
    const PathRow& r = rows[i];
    if (auto e = builder.Add(body.substr(r.path_begin, r.path_size), r.conversions, r.nulls,
                             r.has_value ? std::optional<double>(r.value) : std::nullopt)) {
      return RowStatus(i, *e);
    }
  }
  return std::move(builder).Finish();
}

}  // namespace causeway::io
