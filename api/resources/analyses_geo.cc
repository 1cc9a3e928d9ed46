#include "api/resources/analyses_geo.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "api/codec/analysis_codec.h"
#include "causal/geo_design.h"
#include "causal/synthetic_control.h"

namespace causeway::api {
namespace {

constexpr int64_t kMaxPlaceboReplications = 10000;

Json InferenceJson(const causal::Inference& i, double level) {
  return Json{
      {"estimate", Number(i.estimate)},
      {"std_error", Number(i.se)},
      {"ci", {{"lower", Number(i.ci_lower)}, {"upper", Number(i.ci_upper)}, {"level", level}}},
      {"p_value", Number(i.p)}};
}

Json UnitJson(int64_t id, const std::vector<std::string>& names) {
  if (!names.empty() && id >= 0 && static_cast<size_t>(id) < names.size()) {
    return Json(names[static_cast<size_t>(id)]);
  }
  return Json(id);
}

// A core error as a Status; "options.x" names the request field x.
Status ToStatus(causal::Error e) {
  if (e.field.rfind("options.", 0) == 0) e.field = e.field.substr(8);
  return CausalStatus(e);
}

std::vector<std::string> SplitCommas(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    std::string item =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Options shared by the analysis and the design.
struct SyntheticRequest {
  causal::SyntheticOptions options;
  PanelColumns columns;
};

void ReadSyntheticOptions(FieldReader& r, bool query, bool method_required, SyntheticRequest* out) {
  causal::SyntheticOptions& o = out->options;
  PanelColumns& c = out->columns;
  std::string method;
  if (method_required) {
    r.Required("method", &method);
  } else {
    r.Optional("method", &method);
  }
  if (r.ok() && !method.empty()) {
    if (auto m = causal::ParseSyntheticMethod(method)) {
      o.method = *m;
    } else {
      r.Fail(InvalidArgument("method", "unknown method '" + method +
                                           "'; use \"synthetic_control\", \"synthetic_did\" or "
                                           "\"did\""));
    }
  }
  r.Optional("intercept", &o.intercept);
  ReadConfidence(r, &o.confidence);
  int64_t replications = o.placebo_replications;
  r.Optional("placebo_replications", &replications);
  r.Check(replications >= 2 && replications <= kMaxPlaceboReplications, "placebo_replications",
          "must be in [2, " + std::to_string(kMaxPlaceboReplications) + "]");
  o.placebo_replications = static_cast<int>(std::min<int64_t>(replications, 1 << 30));
  int64_t seed = static_cast<int64_t>(o.seed);
  r.Optional("seed", &seed);
  r.Check(seed >= 0, "seed", "must be a non-negative integer");
  o.seed = static_cast<uint64_t>(seed);
  r.Check(!o.intercept || o.method == causal::SyntheticMethod::kSyntheticControl, "intercept",
          "applies to synthetic_control only (synthetic_did and did always have intercepts)");
  r.Optional("never_treated_value", &c.never_treated_value);
  // `treatment` names a 0/1 column that is 1 exactly in treated unit-periods (synthdid's
  // panel.matrices input): read as the 2x2 flags treated = post = that column.
  auto read_roles = [&c](FieldReader& roles) {
    roles.Optional("unit", &c.unit).Optional("time", &c.time).Optional("outcome", &c.outcome);
    roles.Optional("treated", &c.treated).Optional("post", &c.post);
    roles.Optional("treatment_start", &c.treatment_start);
    std::optional<std::string> treatment;
    roles.Optional("treatment", &treatment);
    if (treatment) {
      roles.Check(!roles.Present("treated") && !roles.Present("post"), "treatment",
                  "give treatment (one 0/1 column) or treated and post, not both");
      c.treated = c.post = *treatment;
    }
  };
  if (query) {
    read_roles(r);
  } else {
    r.Object("columns", read_roles);
  }
}

// The content type decides the form; returns false (and sets *error) for anything but
// JSON or CSV.
bool IsCsv(std::string_view content_type, Status* error) {
  std::string_view mime = content_type.substr(0, content_type.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  if (mime == "text/csv") return true;
  if (mime == "application/json" || mime.empty()) return false;
  *error = Status(StatusCode::kUnsupportedMediaType,
                  "send application/json or text/csv, not '" + std::string(content_type) + "'",
                  "content_type");
  return false;
}

// Reads options with `read` (from the query for CSV, from the body for JSON) and the panel.
template <class ReadFn>
std::variant<causal::Panel, Status> ReadPanelRequest(std::string_view content_type,
                                                     std::string_view body,
                                                     const QueryParams& query,
                                                     PanelColumns* columns, ReadFn&& read,
                                                     std::vector<std::string>* unit_names) {
  Status type_error = Status::Ok();
  const bool csv = IsCsv(content_type, &type_error);
  if (!type_error.ok()) return type_error;
  if (csv) {
    FieldReader options = FieldReader::Query(query);
    read(options, /*query=*/true);
    if (Status s = options.Finish(); !s.ok()) return s;
    return ParsePanelCsv(body, *columns, unit_names);
  }
  if (Status s = FieldReader::Query(query).Finish(); !s.ok()) return s;
  const Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    return InvalidArgument("body", "the body is not a JSON object");
  }
  FieldReader options(request);
  read(options, /*query=*/false);
  const Json* rows = options.Raw("rows");
  if (Status s = options.Finish(); !s.ok()) return s;
  return PanelFromJsonRows(rows ? *rows : Json(), *columns, unit_names);
}

const char* InferenceMethod(const causal::SyntheticSummary&) {
  return "placebo: the variance of the estimates when control units in turn play the treated "
         "ones (Arkhangelsky et al. 2021, Algorithm 4; synthdid vcov method = \"placebo\"); "
         "the interval estimate +- z * std_error and the two-sided normal p-value come from "
         "that one variance";
}

// unit_names[id] labels string unit ids (empty: ids are the integers themselves).
Json SyntheticToJson(const causal::SyntheticSummary& s, double confidence,
                     const std::vector<std::string>& names) {
  Json j = InferenceJson(s.att, confidence);
  j["method"] = causal::SyntheticMethodName(s.method);
  j["intercept"] = s.intercept;
  j["estimand"] = s.estimand;
  j["inference_method"] = InferenceMethod(s);
  j["placebo"] = {{"replications", s.placebo_replications}, {"seed", s.seed}};
  j["total_effect"] = InferenceJson(s.total_effect, confidence);
  j["lift"] = InferenceJson(s.lift, confidence);
  j["counterfactual_post_mean"] = Number(s.counterfactual_post_mean);
  j["treated_units"] = s.treated_units;
  j["control_units"] = s.control_units;
  j["pre_periods"] = s.pre_periods;
  j["post_periods"] = s.post_periods;
  j["first_treated_period"] = s.first_treated_period;
  Json series = Json::array();
  for (const auto& e : s.series) {
    series.push_back({{"time", e.time},
                      {"post", e.post},
                      {"treated", Number(e.treated)},
                      {"counterfactual", Number(e.counterfactual)},
                      {"effect", Number(e.effect)}});
  }
  j["series"] = series;
  Json donors = Json::array();
  for (const auto& d : s.donors) {
    donors.push_back({{"unit", UnitJson(d.unit, names)}, {"weight", d.weight}});
  }
  j["donor_weights"] = donors;
  Json times = Json::array();
  for (const auto& t : s.time_weights) times.push_back({{"time", t.time}, {"weight", t.weight}});
  j["time_weights"] = times;
  j["pre_fit"] = {{"rmspe", Number(s.pre_rmspe)},
                  {"scaled_l2_imbalance", Number(s.scaled_l2_imbalance)},
                  {"r_squared", Number(s.pre_r_squared)}};
  j["regularization"] = {{"noise_level", Number(s.weights.noise_level)},
                         {"zeta_omega", Number(s.weights.zeta_omega)},
                         {"zeta_lambda", Number(s.weights.zeta_lambda)}};
  Json warnings = Json::array();
  for (const auto& w : s.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  j["warnings"] = warnings;
  return j;
}

}  // namespace

HandlerResult HandleSyntheticControl(std::string_view content_type, std::string_view body,
                                     const QueryParams& query) {
  SyntheticRequest r;
  std::vector<std::string> names;
  auto panel = ReadPanelRequest(
      content_type, body, query, &r.columns,
      [&r](FieldReader& f, bool q) { ReadSyntheticOptions(f, q, /*method_required=*/true, &r); },
      &names);
  if (auto* e = std::get_if<Status>(&panel)) return *e;
  auto result = causal::EstimateSynthetic(std::get<causal::Panel>(panel), r.options);
  if (!result.ok()) return ToStatus(result.error());
  const causal::Inference& att = result.value().att;
  if (!(std::isfinite(att.se) && att.se > 0)) {
    return Status::InsufficientData(
        "the placebo estimates do not vary: no standard error (controls identical up to "
        "level?)",
        "panel");
  }
  return SyntheticToJson(result.value(), r.options.confidence, names);
}

namespace {

// lifts=0.05,0.1 in the query string.
void ReadLiftsQuery(FieldReader& f, const std::string& lifts, std::vector<double>* out) {
  if (lifts.empty()) return;
  out->clear();
  for (const std::string& v : SplitCommas(lifts)) {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || !std::isfinite(d)) {
      f.Fail(InvalidArgument("lifts", "'" + v + "' is not a number"));
      return;
    }
    out->push_back(d);
  }
}

// treated_units and lifts as JSON arrays.
void ReadDesignArrays(FieldReader& f, std::vector<std::string>* treated_text,
                      std::vector<double>* design_lifts) {
  f.Array(
      "treated_units",
      [&](const Json& v, const std::string& path, size_t) {
        if (v.is_string()) {
          treated_text->push_back(v.get<std::string>());
        } else if (v.is_number_integer()) {
          treated_text->push_back(std::to_string(v.get<int64_t>()));
        } else {
          return InvalidArgument(path, "must be a unit id (a string or an integer)");
        }
        return Status::Ok();
      },
      /*required=*/true);
  bool lifts_given = false;
  std::vector<double> lifts;
  f.Array("lifts", [&](const Json& v, const std::string& path, size_t) {
    lifts_given = true;
    if (!v.is_number()) return InvalidArgument(path, "must be a number");
    lifts.push_back(v.get<double>());
    return Status::Ok();
  });
  if (lifts_given) *design_lifts = lifts;
}

// The design's options from the body (q false) or the query string (q true).
void ReadDesignOptions(FieldReader& f, bool q, SyntheticRequest* r,
                       causal::GeoDesignOptions* design, std::vector<std::string>* treated_text) {
  ReadSyntheticOptions(f, q, /*method_required=*/false, r);
  int64_t length = 0, simulations = design->simulations;
  f.Required("test_length", &length).Optional("simulations", &simulations);
  f.Check(length >= 1 && length <= 100000, "test_length", "must be in [1, 100000]");
  f.Check(simulations >= 1 && simulations <= 1000, "simulations", "must be in [1, 1000]");
  design->test_length = static_cast<int>(std::clamp<int64_t>(length, 0, 100000));
  design->simulations = static_cast<int>(std::clamp<int64_t>(simulations, 0, 1000));
  f.Optional("power", &design->power);
  f.Check(design->power > 0 && design->power < 1, "power", "must be in (0, 1)");
  if (q) {
    std::string units, lifts;
    f.Required("treated_units", &units).Optional("lifts", &lifts);
    *treated_text = SplitCommas(units);
    ReadLiftsQuery(f, lifts, &design->lifts);
  } else {
    ReadDesignArrays(f, treated_text, &design->lifts);
  }
  for (double d : design->lifts) {
    f.Check(std::isfinite(d) && d >= -1, "lifts", "each lift must be a number >= -1");
  }
  f.Check(!design->lifts.empty() && design->lifts.size() <= 1000, "lifts", "give 1 to 1000 lifts");
  f.Check(!treated_text->empty(), "treated_units", "name at least one treated unit");
}

// The treated units' ids in the panel, from their labels or integers as sent.
std::variant<std::vector<int64_t>, Status> ResolveTreated(
    const std::vector<std::string>& treated_text, const std::vector<std::string>& names,
    const causal::Panel& history) {
  std::vector<int64_t> treated;
  for (size_t k = 0; k < treated_text.size(); ++k) {
    const std::string& t = treated_text[k];
    const std::string field = "treated_units[" + std::to_string(k) + "]";
    if (!names.empty()) {
      auto it = std::find(names.begin(), names.end(), t);
      if (it == names.end()) return InvalidArgument(field, "unit '" + t + "' is not in the panel");
      treated.push_back(it - names.begin());
      continue;
    }
    char* end = nullptr;
    const long long id = std::strtoll(t.c_str(), &end, 10);
    if (end == t.c_str() || *end != '\0') {
      return InvalidArgument(field, "unit '" + t + "' is not in the panel");
    }
    if (std::find(history.unit.begin(), history.unit.end(), id) == history.unit.end()) {
      return InvalidArgument(field, "unit " + t + " is not in the panel");
    }
    treated.push_back(id);
  }
  return treated;
}

Json DesignToJson(const causal::GeoDesignSummary& s, const std::vector<int64_t>& treated,
                  const std::vector<std::string>& names, const causal::GeoDesignOptions& design,
                  const SyntheticRequest& r) {
  Json curve = Json::array();
  for (const auto& p : s.power_curve) curve.push_back({{"lift", p.lift}, {"power", p.power}});
  Json windows = Json::array();
  for (const auto& w : s.windows) {
    windows.push_back({{"first_period", w.first_period},
                       {"last_period", w.last_period},
                       {"pre_periods", w.pre_periods},
                       {"estimate", Number(w.estimate)},
                       {"std_error", Number(w.se)},
                       {"baseline", Number(w.baseline)},
                       {"detectable_lift", Number(w.threshold)}});
  }
  Json warnings = Json::array();
  for (const auto& w : s.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  Json units = Json::array();
  for (int64_t id : treated) units.push_back(UnitJson(id, names));
  return Json{{"method", causal::SyntheticMethodName(r.options.method)},
              {"treated_units", units},
              {"control_units", s.control_units},
              {"test_length", design.test_length},
              {"alpha", 1 - r.options.confidence},
              {"power", design.power},
              {"minimum_detectable_lift", Number(s.minimum_detectable_lift)},
              {"minimum_detectable_att", Number(s.minimum_detectable_att)},
              {"baseline", Number(s.baseline)},
              {"false_positive_rate", s.false_positive_rate},
              {"power_curve", curve},
              {"simulations", windows},
              {"method_note",
               "placebo in time: each window of the last test_length periods before the "
               "end of history (moved back one period at a time) is analysed as if the "
               "campaign ran there, with the same estimator and placebo inference; a lift "
               "scales the treated outcomes in the window and moves only the estimate"},
              {"warnings", warnings}};
}

}  // namespace

HandlerResult HandleGeoDesign(std::string_view content_type, std::string_view body,
                              const QueryParams& query) {
  SyntheticRequest r;
  r.columns.require_treatment = false;
  causal::GeoDesignOptions design;
  std::vector<std::string> treated_text;  // as sent: labels or integers
  auto read = [&](FieldReader& f, bool q) { ReadDesignOptions(f, q, &r, &design, &treated_text); };
  std::vector<std::string> names;
  auto panel = ReadPanelRequest(content_type, body, query, &r.columns, read, &names);
  if (auto* e = std::get_if<Status>(&panel)) return *e;
  const causal::Panel& history = std::get<causal::Panel>(panel);
  auto treated = ResolveTreated(treated_text, names, history);
  if (auto* e = std::get_if<Status>(&treated)) return *e;
  design.analysis = r.options;
  auto result = causal::DesignGeoTest(history, std::get<std::vector<int64_t>>(treated), design);
  if (!result.ok()) return ToStatus(result.error());
  return DesignToJson(result.value(), std::get<std::vector<int64_t>>(treated), names, design, r);
}

}  // namespace causeway::api
