#include "api/attribution_handler.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "api/field_reader.h"

namespace causeway::api {
namespace {

using causal::AttributionMethod;
using causal::AttributionOptions;
using causal::PathTableBuilder;

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

std::string Row(size_t i) { return "paths[" + std::to_string(i) + "]"; }

// A core row error as a 400 naming the row (and its column when the core names one).
Status RowStatus(size_t i, const causal::Error& e, const std::string& where = {}) {
  return InvalidArgument(e.field.empty() ? Row(i) : Row(i) + "." + e.field, where + e.message);
}

std::vector<std::string> SplitCommas(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = v.find(',', start);
    std::string_view name =
        v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Request {
  AttributionOptions options;
  std::string separator = ">";
};

// The options, from the JSON body or the query string of the CSV form. `method` names one
// method, `methods` several (a JSON array, or comma-separated in a query); one of the two.
void ReadOptions(FieldReader& r, bool query, Request* out) {
  std::optional<std::string> method;
  r.Optional("method", &method);
  std::vector<std::string> names;
  bool has_methods = false;
  if (query) {
    std::optional<std::string> list;
    r.Optional("methods", &list);
    if (list) {
      has_methods = true;
      names = SplitCommas(*list);
    }
  } else {
    has_methods = r.Present("methods");
    r.Array("methods", [&names](const Json& v, const std::string& path, size_t) {
      if (!v.is_string()) return InvalidArgument(path, "must be a method name (a string)");
      names.push_back(v.get<std::string>());
      return Status::Ok();
    });
  }
  r.Check(!(method && has_methods), "methods", "give method or methods, not both");
  r.Check(method || has_methods, "method",
          "is required (or methods, a list): first_touch, last_touch, linear, shapley, "
          "shapley_ordered or markov");
  if (method) names = {*method};
  const std::string field = method ? "method" : "methods";
  out->options.methods.clear();
  for (size_t i = 0; i < names.size() && r.ok(); ++i) {
    auto m = causal::ParseAttributionMethod(names[i]);
    const std::string path = method || query ? field : field + "[" + std::to_string(i) + "]";
    r.Check(m.has_value(), path,
            "unknown method '" + names[i] +
                "'; use first_touch, last_touch, linear, shapley, shapley_ordered or markov");
    if (m) out->options.methods.push_back(*m);
  }
  int64_t order = 1;
  r.Optional("order", &order);
  r.Check(order >= 1 && order <= causal::kMaxMarkovOrder, "order",
          "must be an integer from 1 to " + std::to_string(causal::kMaxMarkovOrder));
  out->options.markov_order = static_cast<int>(order);
  r.Optional("transition_matrix", &out->options.transition_matrix);
  r.Optional("separator", &out->separator);
  r.Check(!out->separator.empty(), "separator", "must not be empty");
  std::string why;
  if (r.ok() && !out->options.IsValid(&why)) r.Fail(InvalidArgument(field, why));
}

// ---- CSV ---------------------------------------------------------------------------------

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

std::variant<causal::PathTable, Status> TableFromCsv(std::string_view csv,
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

// ---- JSON ---------------------------------------------------------------------------------

std::variant<causal::PathTable, Status> TableFromJson(const Json* paths,
                                                      const std::string& separator) {
  if (!paths || !paths->is_array() || paths->empty())
    return InvalidArgument("paths", "must be a non-empty array of {path, total_conversions, ...}");
  PathTableBuilder builder(separator);
  for (size_t i = 0; i < paths->size(); ++i) {
    FieldReader r((*paths)[i], Row(i));
    std::string path;
    double conv = 0, null = 0;
    std::optional<double> value;
    r.Required("path", &path)
        .Required("total_conversions", &conv)
        .Optional("total_null", &null)
        .Optional("total_conversion_value", &value);
    if (Status s = r.Finish(); !s.ok()) return s;
    if (auto e = builder.Add(path, conv, null, value)) return RowStatus(i, *e);
  }
  return std::move(builder).Finish();
}

// The usual JSON body read in one pass without a DOM. A 1 M-row body is about 100 MB,
// and nlohmann's DOM spends seconds allocating a node per value. This reads the shape
// clients send: a top-level object whose `paths` is an array of objects with only the
// four row members, each at most once, `path` an ASCII string without escapes and the
// counts numbers (null for an absent optional one). The other top-level members are
// parsed by nlohmann one at a time. Anything else (escapes, non-ASCII, an unknown or
// repeated member, a wrong type, a missing required member, malformed JSON) gives
// nullopt and the caller reads the body the general way (Json::parse + FieldReader), so
// every answer and every error is the general way's.
struct FastRow {
  size_t path_begin = 0, path_size = 0;  // in the body
  double conversions = 0, nulls = 0, value = 0;
  bool has_value = false;
};

struct FastBody {
  Json options = Json::object();  // the top-level members, `paths` as an empty array
  std::vector<FastRow> rows;
};

class FastJsonReader {
 public:
  explicit FastJsonReader(std::string_view s) : s_(s) {}

  std::optional<FastBody> Read() {
    FastBody out;
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
  bool Rows(std::vector<FastRow>* rows) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    for (;;) {
      FastRow row;
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

std::variant<causal::PathTable, Status> TableFromFastRows(std::string_view body,
                                                          const std::vector<FastRow>& rows,
                                                          const std::string& separator) {
  if (rows.empty())
    return InvalidArgument("paths", "must be a non-empty array of {path, total_conversions, ...}");
  PathTableBuilder builder(separator);
  for (size_t i = 0; i < rows.size(); ++i) {
    const FastRow& r = rows[i];
    if (auto e = builder.Add(body.substr(r.path_begin, r.path_size), r.conversions, r.nulls,
                             r.has_value ? std::optional<double>(r.value) : std::nullopt)) {
      return RowStatus(i, *e);
    }
  }
  return std::move(builder).Finish();
}

// Attribution of a decoded table (or the error that decoding gave), as the response.
HandlerResult Respond(const std::variant<causal::PathTable, Status>& table,
                      const Request& request) {
  if (auto* e = std::get_if<Status>(&table)) return *e;
  const causal::PathTable& t = std::get<causal::PathTable>(table);
  auto result = causal::Attribute(t, request.options);
  if (!result.ok()) {
    const causal::Error& e = result.error();
    std::string field = e.field.rfind("options.", 0) == 0 ? e.field.substr(8) : e.field;
    return e.kind == causal::ErrorKind::kInsufficientData
               ? Status::InsufficientData(e.message, field)
               : InvalidArgument(field, e.message);
  }
  return AttributionToJson(t, result.value());
}

}  // namespace

Json AttributionToJson(const causal::PathTable& t, const causal::AttributionSummary& s) {
  Json j = {{"total_conversions", s.total_conversions},
            {"total_null", s.total_nulls},
            {"total_conversion_value", t.has_value ? Json(s.total_value) : Json(nullptr)},
            {"rows", t.rows},
            {"distinct_paths", t.size()},
            {"max_path_length", s.max_path_length},
            {"channels", t.channels}};
  Json attributions = Json::object();
  for (const auto& m : s.methods) {
    Json channels = Json::array();
    for (size_t c = 0; c < m.channels.size(); ++c) {
      const auto& credit = m.channels[c];
      Json x = {{"channel", t.channels[c]},
                {"conversions", Num(credit.conversions)},
                {"conversion_value", t.has_value ? Num(credit.value) : Json(nullptr)},
                {"share", Num(credit.conversions / s.total_conversions)}};
      if (m.method == AttributionMethod::kMarkov) {
        x["removal_effect"] = Num(credit.removal_effect);
        x["removal_effect_value"] = t.has_value ? Num(credit.removal_effect_value) : Json(nullptr);
        x["conversion_probability_without"] = Num(credit.conversion_probability_without);
      }
      if (m.method == AttributionMethod::kShapleyOrdered) {
        x["by_touchpoint"] = credit.by_touchpoint;
        x["by_touchpoint_value"] = t.has_value ? Json(credit.by_touchpoint_value) : Json(nullptr);
      }
      channels.push_back(std::move(x));
    }
    Json a = {{"channels", std::move(channels)}};
    if (m.markov) {
      const auto& chain = *m.markov;
      a["order"] = chain.order;
      a["conversion_probability"] = Num(chain.conversion_probability);
      a["expected_value"] = t.has_value ? Num(chain.expected_value) : Json(nullptr);
      a["state_count"] = chain.states.size();
      Json transitions = Json::array();
      for (const auto& tr : chain.transitions) {
        transitions.push_back({{"from", chain.states[tr.from]},
                               {"to", chain.states[tr.to]},
                               {"count", tr.count},
                               {"probability", Num(tr.probability)}});
      }
      a["transition_matrix"] = std::move(transitions);
    }
    attributions[causal::AttributionMethodName(m.method)] = std::move(a);
  }
  j["attributions"] = std::move(attributions);
  Json warnings = Json::array();
  for (const auto& w : s.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  j["warnings"] = std::move(warnings);
  return j;
}

HandlerResult HandleAttribution(std::string_view content_type, std::string_view body,
                                const std::multimap<std::string, std::string>& query) {
  std::string_view mime = content_type.substr(0, content_type.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  const bool csv = mime == "text/csv";
  Request request;
  std::variant<causal::PathTable, Status> table;
  if (csv) {
    FieldReader options = FieldReader::Query(query);
    ReadOptions(options, /*query=*/true, &request);
    if (Status s = options.Finish(); !s.ok()) return s;
    table = TableFromCsv(body, request.separator);
  } else {
    // A JSON body carries every option itself: any query parameter is unknown.
    if (Status s = FieldReader::Query(query).Finish(); !s.ok()) return s;
    if (std::optional<FastBody> fast = FastJsonReader(body).Read()) {
      FieldReader options(fast->options);
      ReadOptions(options, /*query=*/false, &request);
      options.Raw("paths");
      if (Status s = options.Finish(); !s.ok()) return s;
      table = TableFromFastRows(body, fast->rows, request.separator);
      return Respond(table, request);
    }
    const Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      const bool json = mime.empty() || mime == "application/json" || mime.ends_with("+json");
      if (!json) {
        return Status(StatusCode::kUnsupportedMediaType,
                      "send the paths as JSON with 'Content-Type: application/json' or as CSV "
                      "with 'Content-Type: text/csv'",
                      "Content-Type");
      }
      return InvalidArgument("body", "the body is not valid JSON");
    }
    if (!parsed.is_object()) return InvalidArgument("body", "the body must be a JSON object");
    FieldReader options(parsed);
    ReadOptions(options, /*query=*/false, &request);
    const Json* paths = options.Raw("paths");
    if (Status s = options.Finish(); !s.ok()) return s;
    table = TableFromJson(paths, request.separator);
  }
  return Respond(table, request);
}

}  // namespace causeway::api
