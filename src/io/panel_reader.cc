#include "io/panel_reader.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "io/csv.h"

namespace causeway::io {
namespace {

using causal::Panel;
using Json = nlohmann::json;

Status Invalid(std::string field, std::string message) {
  return Status::InvalidArgument(std::move(field), std::move(message));
}

std::string RowField(size_t row, const std::string& column) {
  return "rows[" + std::to_string(row) + "]." + column;
}

// Applies never_treated_value.
int64_t StartValue(int64_t v, const PanelColumns& c) {
  return c.never_treated_value && v == *c.never_treated_value ? causal::kNeverTreated : v;
}

Panel EmptyPanel(const PanelColumns& c) {
  Panel p;
  p.covariates.resize(c.covariates.size());
  p.covariate_names = c.covariates;
  return p;
}

// ---- JSON rows ----------------------------------------------------------------------

// Reads one JSON row at a time into the panel; string unit ids map to integers.
class JsonRowReader {
 public:
  JsonRowReader(const PanelColumns& c, bool flags) : c_(c), flags_(flags), panel_(EmptyPanel(c)) {}

  std::optional<Status> Read(const Json& row, size_t i) {
    if (!row.is_object())
      return Invalid("rows[" + std::to_string(i) + "]", "each row must be an object");
    row_ = &row;
    i_ = i;
    if (auto e = ReadUnit()) return e;
    int64_t t;
    double y;
    if (auto e = Integer(c_.time, &t)) return e;
    if (auto e = Number(c_.outcome, &y)) return e;
    panel_.time.push_back(t);
    panel_.outcome.push_back(y);
    if (auto e = flags_ ? ReadFlags() : ReadStart()) return e;
    for (size_t k = 0; k < c_.covariates.size(); ++k) {
      double x;
      if (auto e = Number(c_.covariates[k], &x)) return e;
      panel_.covariates[k].push_back(x);
    }
    if (c_.weight.empty()) return std::nullopt;
    double w;
    if (auto e = Number(c_.weight, &w)) return e;
    panel_.weight.push_back(w);
    return std::nullopt;
  }

  Panel& panel() { return panel_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::optional<Status> Number(const std::string& col, double* out) const {
    if (!row_->contains(col)) return Invalid(RowField(i_, col), "missing column '" + col + "'");
    const Json& v = (*row_)[col];
    if (v.is_number()) {
      *out = v.get<double>();
    } else if (!(v.is_string() && ParseDouble(v.get<std::string>(), out))) {
      return Invalid(RowField(i_, col), "'" + col + "' is not a number");
    }
    if (!std::isfinite(*out)) return Invalid(RowField(i_, col), "'" + col + "' is not finite");
    return std::nullopt;
  }

  std::optional<Status> Integer(const std::string& col, int64_t* out) const {
    double d;
    if (auto e = Number(col, &d)) return e;
    if (std::floor(d) != d) return Invalid(RowField(i_, col), "'" + col + "' must be an integer");
    *out = static_cast<int64_t>(d);
    return std::nullopt;
  }

  // An integer or string id.
  std::optional<Status> ReadUnit() {
    if (!row_->contains(c_.unit)) {
      return Invalid(RowField(i_, c_.unit), "missing column '" + c_.unit + "'");
    }
    const Json& v = (*row_)[c_.unit];
    if (v.is_string()) {
      auto [it, inserted] =
          string_ids_.emplace(v.get<std::string>(), static_cast<int64_t>(names_.size()));
      if (inserted) names_.push_back(it->first);
      panel_.unit.push_back(it->second);
      return std::nullopt;
    }
    int64_t u;
    if (auto e = Integer(c_.unit, &u)) return e;
    if (!names_.empty()) return Invalid(RowField(i_, c_.unit), "mixes string and integer unit ids");
    panel_.unit.push_back(u);
    return std::nullopt;
  }

  std::optional<Status> ReadFlags() {
    for (auto [col, vec] :
         {std::pair{&c_.treated, &panel_.treated}, std::pair{&c_.post, &panel_.post}}) {
      if (!row_->contains(*col))
        return Invalid(RowField(i_, *col), "missing column '" + *col + "'");
      const Json& v = (*row_)[*col];
      if (v.is_boolean()) {
        vec->push_back(v.get<bool>());
      } else if (v.is_number() && (v.get<double>() == 0 || v.get<double>() == 1)) {
        vec->push_back(v.get<double>() == 1);
      } else {
        return Invalid(RowField(i_, *col), "'" + *col + "' must be 0/1 or true/false");
      }
    }
    return std::nullopt;
  }

  std::optional<Status> ReadStart() {
    const std::string& col = c_.treatment_start;
    const bool absent = !row_->contains(col) || (*row_)[col].is_null() ||
                        ((*row_)[col].is_string() && (*row_)[col].get<std::string>().empty());
    if (absent) {
      panel_.treatment_start.push_back(causal::kNeverTreated);
      return std::nullopt;
    }
    int64_t s;
    if (auto e = Integer(col, &s)) return e;
    panel_.treatment_start.push_back(StartValue(s, c_));
    return std::nullopt;
  }

  const PanelColumns& c_;
  const bool flags_;
  Panel panel_;
  std::unordered_map<std::string, int64_t> string_ids_;
  std::vector<std::string> names_;
  const Json* row_ = nullptr;
  size_t i_ = 0;
};

// ---- CSV ----------------------------------------------------------------------------

// The header's column positions (-1: absent).
struct CsvLayout {
  int unit = -1, time = -1, outcome = -1, treated = -1, post = -1, start = -1, weight = -1;
  std::vector<int> covariates;
  bool flags = false;         // treated and post columns: a 2x2 panel
  bool no_treatment = false;  // neither, and allowed: every unit never treated
};

std::variant<CsvLayout, Status> ReadHeader(const std::vector<std::string_view>& fields,
                                           const PanelColumns& c) {
  std::vector<std::string> header;
  for (auto f : fields) {
    std::string h(f);
    while (!h.empty() && (h.back() == '\r' || h.back() == ' ')) h.pop_back();
    header.push_back(h);
  }
  auto find = [&](const std::string& name) -> int {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  CsvLayout l;
  l.unit = find(c.unit), l.time = find(c.time), l.outcome = find(c.outcome);
  l.treated = find(c.treated), l.post = find(c.post), l.start = find(c.treatment_start);
  l.weight = c.weight.empty() ? -1 : find(c.weight);
  for (auto [idx, name] :
       {std::pair{l.unit, &c.unit}, std::pair{l.time, &c.time}, std::pair{l.outcome, &c.outcome}}) {
    if (idx < 0) return Invalid("columns", "CSV header has no column '" + *name + "'");
  }
  l.flags = l.treated >= 0 && l.post >= 0;
  l.no_treatment = !l.flags && l.start < 0 && !c.require_treatment;
  if (!l.flags && l.start < 0 && c.require_treatment) {
    return Invalid("columns", "CSV needs '" + c.treated + "' and '" + c.post + "' or '" +
                                  c.treatment_start + "' columns");
  }
  if (!c.weight.empty() && l.weight < 0) {
    return Invalid("weight", "CSV header has no column '" + c.weight + "'");
  }
  for (const auto& name : c.covariates) {
    l.covariates.push_back(find(name));
    if (l.covariates.back() < 0) {
      return Invalid("covariates", "CSV header has no column '" + name + "'");
    }
  }
  return l;
}

// Reads the data records of a CSV panel into a Panel.
class CsvRowReader {
 public:
  CsvRowReader(const PanelColumns& c, const CsvLayout& l, size_t expected_rows)
      : c_(c), l_(l), panel_(EmptyPanel(c)) {
    panel_.unit.reserve(expected_rows);
    panel_.time.reserve(expected_rows);
    panel_.outcome.reserve(expected_rows);
    if (l.flags) {
      panel_.treated.reserve(expected_rows);
      panel_.post.reserve(expected_rows);
    } else {
      panel_.treatment_start.reserve(expected_rows);
    }
  }

  // Row `row` (0 = the first data record, CSV line row + 2).
  std::optional<Status> Read(const std::vector<std::string_view>& fields, size_t row) {
    fields_ = &fields;
    row_ = row;
    int64_t u, t;
    double y;
    if (auto e = ReadUnit(&u)) return e;
    if (auto e = Integer(l_.time, c_.time, &t)) return e;
    if (auto e = Number(l_.outcome, c_.outcome, &y)) return e;
    panel_.unit.push_back(u);
    panel_.time.push_back(t);
    panel_.outcome.push_back(y);
    if (auto e = ReadTreatment()) return e;
    for (size_t k = 0; k < l_.covariates.size(); ++k) {
      double x;
      if (auto e = Number(l_.covariates[k], c_.covariates[k], &x)) return e;
      panel_.covariates[k].push_back(x);
    }
    if (l_.weight < 0) return std::nullopt;
    double w;
    if (auto e = Number(l_.weight, c_.weight, &w)) return e;
    panel_.weight.push_back(w);
    return std::nullopt;
  }

  Panel& panel() { return panel_; }
  std::vector<std::string>& names() { return names_; }

 private:
  std::string Line() const { return std::to_string(row_ + 2); }

  std::variant<std::string_view, Status> Field(int idx, const std::string& col) const {
    if (static_cast<size_t>(idx) >= fields_->size()) {
      return Invalid(RowField(row_, col), "CSV line " + Line() + " has too few fields");
    }
    return (*fields_)[idx];
  }

  std::optional<Status> Number(int idx, const std::string& col, double* out) const {
    auto f = Field(idx, col);
    if (auto* e = std::get_if<Status>(&f)) return *e;
    const std::string_view text = std::get<std::string_view>(f);
    if (ParseDouble(text, out)) return std::nullopt;
    return Invalid(RowField(row_, col), "'" + col + "' is not a number on CSV line " + Line() +
                                            ": '" + std::string(text) + "'");
  }

  std::optional<Status> Integer(int idx, const std::string& col, int64_t* out) const {
    auto f = Field(idx, col);
    if (auto* e = std::get_if<Status>(&f)) return *e;
    if (ParseInt(std::get<std::string_view>(f), out)) return std::nullopt;
    return Invalid(RowField(row_, col), "'" + col + "' is not an integer on CSV line " + Line());
  }

  // Unit ids are integers until a row has one that is not (e.g. "geo-07"); from then
  // on every id is a label mapped to a dense integer. Rows read before that point
  // are labelled by their integer's decimal form.
  std::optional<Status> ReadUnit(int64_t* u) {
    auto f = Field(l_.unit, c_.unit);
    if (auto* e = std::get_if<Status>(&f)) return *e;
    const std::string_view text = Trim(std::get<std::string_view>(f));
    if (text.empty()) {
      return Invalid(RowField(row_, c_.unit), "'" + c_.unit + "' is empty on CSV line " + Line());
    }
    if (labels_.empty() && ParseInt(text, u)) return std::nullopt;
    if (labels_.empty()) {
      for (int64_t& prev : panel_.unit) prev = Label(std::to_string(prev));
    }
    *u = Label(std::string(text));
    return std::nullopt;
  }

  int64_t Label(std::string text) {
    auto [it, inserted] = labels_.emplace(std::move(text), static_cast<int64_t>(names_.size()));
    if (inserted) names_.push_back(it->first);
    return it->second;
  }

  std::optional<Status> ReadTreatment() {
    if (l_.flags) {
      int64_t a, b;
      if (auto e = Integer(l_.treated, c_.treated, &a)) return e;
      if (auto e = Integer(l_.post, c_.post, &b)) return e;
      if ((a != 0 && a != 1) || (b != 0 && b != 1)) {
        return Invalid(RowField(row_, a != 0 && a != 1 ? c_.treated : c_.post), "must be 0 or 1");
      }
      panel_.treated.push_back(static_cast<uint8_t>(a));
      panel_.post.push_back(static_cast<uint8_t>(b));
      return std::nullopt;
    }
    if (l_.no_treatment) {
      panel_.treatment_start.push_back(causal::kNeverTreated);
      return std::nullopt;
    }
    auto f = Field(l_.start, c_.treatment_start);
    if (auto* e = std::get_if<Status>(&f)) return *e;
    if (Blank(std::get<std::string_view>(f))) {
      panel_.treatment_start.push_back(causal::kNeverTreated);
      return std::nullopt;
    }
    int64_t s;
    if (auto e = Integer(l_.start, c_.treatment_start, &s)) return e;
    panel_.treatment_start.push_back(StartValue(s, c_));
    return std::nullopt;
  }

  const PanelColumns& c_;
  const CsvLayout& l_;
  Panel panel_;
  std::unordered_map<std::string, int64_t> labels_;
  std::vector<std::string> names_;
  const std::vector<std::string_view>* fields_ = nullptr;
  size_t row_ = 0;
};

}  // namespace

std::variant<Panel, Status> PanelFromJsonRows(const Json& rows, const PanelColumns& c,
                                              std::vector<std::string>* unit_names) {
  if (!rows.is_array() || rows.empty()) return Invalid("rows", "rows must be a non-empty array");
  const bool flags = rows[0].is_object() && rows[0].contains(c.treated);
  JsonRowReader reader(c, flags);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (auto e = reader.Read(rows[i], i)) return *e;
  }
  if (!reader.names().empty()) *unit_names = reader.names();
  return std::move(reader.panel());
}

std::variant<Panel, Status> ParsePanelCsv(std::string_view csv, const PanelColumns& c,
                                          std::vector<std::string>* unit_names) {
  CsvRecords records(csv);
  std::vector<std::string_view> fields;
  if (!records.Next(&fields)) return Invalid("body", "empty CSV");
  auto layout = ReadHeader(fields, c);
  if (auto* e = std::get_if<Status>(&layout)) return *e;
  const size_t expect = std::count(csv.begin(), csv.end(), '\n') + 1;
  CsvRowReader reader(c, std::get<CsvLayout>(layout), expect);
  size_t row = 0;
  while (records.Next(&fields)) {
    if (fields.size() == 1 && Blank(fields[0])) continue;
    if (auto e = reader.Read(fields, row)) return *e;
    ++row;
  }
  if (row == 0) return Invalid("body", "the CSV has a header but no rows");
  if (unit_names) *unit_names = std::move(reader.names());
  return std::move(reader.panel());
}

}  // namespace causeway::io
