#include "api/resources/analyses_attribution.h"

#include <cmath>
#include <optional>
#include <vector>

#include "api/codec/field_reader.h"
#include "io/attribution_paths.h"

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
    table = io::ReadPathsCsv(body, request.separator);
  } else {
    // A JSON body carries every option itself: any query parameter is unknown.
    if (Status s = FieldReader::Query(query).Finish(); !s.ok()) return s;
    if (std::optional<io::PathsBody> fast = io::ReadPathsJsonFast(body)) {
      FieldReader options(fast->options);
      ReadOptions(options, /*query=*/false, &request);
      options.Raw("paths");
      if (Status s = options.Finish(); !s.ok()) return s;
      table = io::PathTableFromRows(body, fast->rows, request.separator);
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
