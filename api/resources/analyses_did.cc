#include "api/resources/analyses_did.h"

#include <cmath>

namespace causeway::api {
namespace {

using causal::Panel;

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
Json Opt(const std::optional<double>& v) { return v ? Num(*v) : Json(nullptr); }

Json CiJson(double lower, double upper, double level) {
  return {{"lower", Num(lower)}, {"upper", Num(upper)}, {"level", level}};
}

// The shared Inference shape (api/openapi.yaml): estimate, std_error, ci {lower, upper,
// level}, p_value; plus the test statistic and its df (null for normal inference).
Json InferenceJson(const causal::Inference& i, double level) {
  return Json{{"estimate", Num(i.estimate)},
              {"std_error", Num(i.se)},
              {"ci", CiJson(i.ci_lower, i.ci_upper, level)},
              {"p_value", Num(i.p)},
              {"statistic", Num(i.statistic)},
              {"df", Num(i.df)}};
}

// Estimates with a normal interval; std_error, ci and p_value are null when the input
// gives no variance (e.g. revenue without its sum of squares).
Json IntervalJson(const causal::Interval& i, double level) {
  return Json{{"estimate", Num(i.estimate)},
              {"std_error", Opt(i.se)},
              {"ci", {{"lower", Opt(i.ci_lower)}, {"upper", Opt(i.ci_upper)}, {"level", level}}},
              {"p_value", Opt(i.p)}};
}

// True when the data gave the whole inference: a finite estimate, standard error,
// p-value and interval.
bool Answered(const causal::Inference& i) {
  return std::isfinite(i.estimate) && std::isfinite(i.se) && std::isfinite(i.p) &&
         std::isfinite(i.ci_lower) && std::isfinite(i.ci_upper);
}

// One answer of several (a coefficient, an event time, a group-time cell, a cohort, an
// aggregation): {"valid": true, ...inference} or, when the data cannot give it,
// {"valid": false, "reason"} with the inference fields null (docs/api.md, "Data that
// cannot answer").
Json AnswerJson(const causal::Inference& i, double level, std::string reason = {}) {
  if (reason.empty() && !Answered(i)) {
    reason =
        "the data give no finite standard error for this estimate (too few units or no "
        "variation)";
  }
  if (!reason.empty()) {
    return Json{{"valid", false},       {"reason", reason}, {"estimate", nullptr},
                {"std_error", nullptr}, {"ci", nullptr},    {"p_value", nullptr},
                {"statistic", nullptr}, {"df", nullptr}};
  }
  Json j = InferenceJson(i, level);
  j["valid"] = true;
  return j;
}

// A core error as a Status: malformed input is invalid_argument (400), a well-formed
// panel or aggregate the data cannot answer is insufficient_data (422).
Status FromCausal(const causal::Error& e, std::string message) {
  return e.kind == causal::ErrorKind::kInsufficientData
             ? Status::InsufficientData(std::move(message), e.field)
             : InvalidArgument(e.field, std::move(message));
}
Status FromCausal(const causal::Error& e) { return FromCausal(e, e.message); }

// ---- request options ----------------------------------------------------------------

struct DidRequest {
  causal::DidOptions options;
  PanelColumns columns;
};

std::vector<std::string> SplitCommas(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    std::string name =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) out.push_back(std::move(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The column roles, weight and covariates: parameters of the query string, or the
// body's `columns` object, `weight` and `covariates` array.
void ReadColumnRoles(FieldReader& r, bool query, PanelColumns* columns) {
  PanelColumns& c = *columns;
  auto read_roles = [&c](FieldReader& roles) {
    roles.Optional("unit", &c.unit).Optional("time", &c.time).Optional("outcome", &c.outcome);
    roles.Optional("treated", &c.treated).Optional("post", &c.post);
    roles.Optional("treatment_start", &c.treatment_start);
  };
  if (query) {
    read_roles(r);
    r.Optional("weight", &c.weight);
    std::string covariates;
    r.Optional("covariates", &covariates);
    c.covariates = SplitCommas(covariates);
  } else {
    std::optional<std::string> columns_weight, weight;
    r.Object("columns", [&](FieldReader& roles) {
      read_roles(roles);
      roles.Optional("weight", &columns_weight);
    });
    r.Optional("weight", &weight);
    r.Check(!(weight && columns_weight), "weight",
            "name the weight column once: weight or columns.weight");
    c.weight = weight ? *weight : columns_weight.value_or("");
    r.Array("covariates", [&c](const Json& name, const std::string& path, size_t) {
      if (!name.is_string()) return InvalidArgument(path, "must be a column name (a string)");
      c.covariates.push_back(name.get<std::string>());
      return Status::Ok();
    });
  }
}

// The DiD options, from a JSON body (column roles in `columns`, covariates an array) or
// from the query string of the CSV form (column roles as parameters, covariates
// comma-separated). Every name is read through `r`, so anything else is refused.
void ReadDidOptions(FieldReader& r, bool query, DidRequest* out) {
  causal::DidOptions& o = out->options;
  PanelColumns& c = out->columns;
  std::string method;
  r.Required("method", &method);
  if (r.ok()) {
    if (auto m = causal::ParseDidMethod(method)) {
      o.method = *m;
    } else {
      r.Fail(InvalidArgument("method", "unknown method '" + method +
                                           "'; use \"2x2\", \"twfe\", \"event_study\" or "
                                           "\"callaway_santanna\""));
    }
  }
  ReadConfidence(r, &o.confidence);
  r.Enum("fe_dof", &o.fe_dof,
         {{"all_fixed_effects", causal::FixedEffectDof::kAllFixedEffects},
          {"slopes_only", causal::FixedEffectDof::kSlopesOnly}});
  r.Optional("reference_period", &o.reference_period);
  r.Optional("min_event_time", &o.min_event_time).Optional("max_event_time", &o.max_event_time);
  r.Enum("control_group", &o.control_group,
         {{"never_treated", causal::ControlGroup::kNeverTreated},
          {"not_yet_treated", causal::ControlGroup::kNotYetTreated}});
  r.Enum(
      "base_period", &o.base_period,
      {{"varying", causal::BasePeriod::kVarying}, {"universal", causal::BasePeriod::kUniversal}});
  r.Enum("aggregation", &o.aggregation,
         {{"group", causal::CsAggregation::kGroup},
          {"simple", causal::CsAggregation::kSimple},
          {"dynamic", causal::CsAggregation::kDynamic}});
  r.Optional("never_treated_value", &c.never_treated_value);

  ReadColumnRoles(r, query, &c);
  std::string why;
  if (r.ok() && !o.IsValid(&why)) r.Fail(InvalidArgument(why.substr(0, why.find(' ')), why));
}

}  // namespace

void ReadConfidence(FieldReader& r, double* confidence) {
  std::optional<double> alpha, level;
  r.Optional("alpha", &alpha).Optional("confidence", &level);
  r.Check(!(alpha && level), "confidence",
          "give alpha or its synonym confidence (= 1 - alpha), not both");
  if (alpha) {
    r.Check(*alpha > 0 && *alpha < 1, "alpha", "must be in (0, 1)");
    *confidence = 1 - *alpha;
  } else if (level) {
    r.Check(*level > 0 && *level < 1, "confidence", "must be in (0, 1)");
    *confidence = *level;
  }
}

namespace {

// The event-time series, the pre-trend test and the Callaway-Sant'Anna cells,
// cohorts and aggregations, where the method gives them.
void AddDidSeries(const causal::DidSummary& s, double confidence, Json* out) {
  Json& j = *out;
  if (!s.event_time.empty()) {
    Json series = Json::array();
    for (const auto& e : s.event_time) {
      Json x = AnswerJson(e.inference, confidence, e.unavailable);
      x["event_time"] = e.event_time;
      x["reference"] = e.reference;
      x["observations"] = e.observations;
      series.push_back(x);
    }
    j["event_time"] = series;
  }
  if (s.pretrend) {
    j["pretrend_test"] = {
        {"statistic", Num(s.pretrend->statistic)}, {"df", s.pretrend->df},
        {"p_value", Num(s.pretrend->p)},           {"f_statistic", Num(s.pretrend->f_statistic)},
        {"f_df2", Num(s.pretrend->f_df2)},         {"f_p_value", Num(s.pretrend->f_p)},
        {"event_times", s.pretrend->event_times}};
  }
  if (!s.group_time.empty()) {
    Json cells = Json::array();
    for (const auto& g : s.group_time) {
      Json x = AnswerJson(g.inference, confidence);
      x["group"] = g.group;
      x["time"] = g.time;
      x["base_time"] = g.base_time;
      x["post"] = g.post;
      x["treated_units"] = g.treated_units;
      x["control_units"] = g.control_units;
      cells.push_back(x);
    }
    j["group_time"] = cells;
    Json cohorts = Json::array();
    for (const auto& c : s.by_cohort) {
      Json x = AnswerJson(c.inference, confidence);
      x["group"] = c.group;
      x["units"] = c.units;
      cohorts.push_back(x);
    }
    j["by_cohort"] = cohorts;
    j["aggregations"] = {{"simple", AnswerJson(*s.simple, confidence)},
                         {"group", AnswerJson(*s.group, confidence)},
                         {"dynamic", AnswerJson(*s.dynamic, confidence)}};
  }
}

}  // namespace

Json DidToJson(const causal::DidSummary& s, double confidence) {
  Json j = InferenceJson(s.att, confidence);
  j["method"] = causal::DidMethodName(s.method);
  j["estimand"] = s.estimand;
  j["observations"] = s.observations;
  j["units"] = s.units;
  j["clusters"] = s.clusters;
  j["periods"] = s.periods;
  j["treated_units"] = s.treated_units;
  j["control_units"] = s.control_units;
  j["balanced"] = s.balanced;
  if (s.method == causal::DidMethod::kCallawaySantAnna) {
    j["se_type"] = "analytic influence function, clustered by unit; normal critical values";
  } else {
    j["se_type"] = "CR1 clustered by unit, t with clusters - 1 df";
    j["parameters"] = s.parameters;
    if (s.demean_iterations > 0) j["demean_iterations"] = s.demean_iterations;
  }
  Json coefs = Json::array();
  for (const auto& c : s.coefficients) {
    Json x = AnswerJson(c.inference, confidence);
    x["name"] = c.name;
    coefs.push_back(x);
  }
  if (!coefs.empty()) j["coefficients"] = coefs;
  if (s.cells) {
    j["cells"] = {{"control_pre", s.cells->control_pre},
                  {"control_post", s.cells->control_post},
                  {"treated_pre", s.cells->treated_pre},
                  {"treated_post", s.cells->treated_post}};
  }
  AddDidSeries(s, confidence, &j);
  Json warnings = Json::array();
  for (const auto& w : s.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  j["warnings"] = warnings;
  return j;
}

HandlerResult HandleDid(std::string_view content_type, std::string_view body,
                        const QueryParams& query) {
  std::string_view mime = content_type.substr(0, content_type.find(';'));
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  const bool csv = mime == "text/csv";
  if (!csv && !(mime == "application/json" || mime.empty())) {
    return Status(StatusCode::kUnsupportedMediaType,
                  "send application/json or text/csv, not '" + std::string(content_type) + "'",
                  "content_type");
  }
  DidRequest r;
  Json request;
  const Json* rows = nullptr;
  if (csv) {
    FieldReader options = FieldReader::Query(query);
    ReadDidOptions(options, /*query=*/true, &r);
    if (Status s = options.Finish(); !s.ok()) return s;
  } else {
    // A JSON body carries every option itself: a query parameter is unknown.
    if (Status s = FieldReader::Query(query).Finish(); !s.ok()) return s;
    request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      return InvalidArgument("body", "the body is not a JSON object");
    }
    FieldReader options(request);
    ReadDidOptions(options, /*query=*/false, &r);
    rows = options.Raw("rows");
    if (Status s = options.Finish(); !s.ok()) return s;
  }
  std::vector<std::string> unit_names;
  std::variant<Panel, Status> panel =
      csv ? ParsePanelCsv(body, r.columns, &unit_names)
          : PanelFromJsonRows(rows ? *rows : Json(), r.columns, &unit_names);
  if (auto* e = std::get_if<Status>(&panel)) return *e;
  auto result = causal::EstimateDid(std::get<Panel>(panel), r.options);
  if (!result.ok()) {
    std::string message = result.error().message;
    // Report string unit ids as the caller sent them.
    const std::string tag = "unit ";
    size_t at = message.find(tag);
    if (!unit_names.empty() && at != std::string::npos) {
      size_t end = at + tag.size();
      while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
      const std::string digits = message.substr(at + tag.size(), end - at - tag.size());
      if (!digits.empty()) {
        const size_t id = std::stoul(digits);
        if (id < unit_names.size())
          message.replace(at + tag.size(), digits.size(), "'" + unit_names[id] + "'");
      }
    }
    return FromCausal(result.error(), std::move(message));
  }
  // The headline is the one question asked: without its inference there is no answer.
  if (!Answered(result.value().att)) {
    return Status::InsufficientData(
        "the data give no finite standard error for the estimate (zero residual variance, or "
        "too few units)",
        "panel");
  }
  return DidToJson(result.value(), r.options.confidence);
}

Json LiftToJson(const causal::LiftSummary& s, const causal::LiftInput& in) {
  const double c = in.confidence;
  Json j = {{"test_conversion_rate", Num(s.test_rate)},
            {"holdout_conversion_rate", Num(s.holdout_rate)},
            {"test_revenue_per_user", Num(s.test_revenue_per_user)},
            {"holdout_revenue_per_user", Num(s.holdout_revenue_per_user)},
            {"rate_difference", IntervalJson(s.rate_difference, c)},
            {"relative_lift", InferenceJson(s.relative_lift, c)},
            {"incremental_conversions", IntervalJson(s.incremental_conversions, c)},
            {"incremental_revenue", IntervalJson(s.incremental_revenue, c)},
            {"ci_method",
             "normal; relative lift by the delta method; cost per incremental "
             "conversion by inverting the incremental-conversions interval"}};
  j["iroas"] = s.iroas ? IntervalJson(*s.iroas, c) : Json(nullptr);
  j["cost_per_incremental_conversion"] = s.cost_per_incremental_conversion
                                             ? IntervalJson(*s.cost_per_incremental_conversion, c)
                                             : Json(nullptr);
  if (s.tot_rate_difference) {
    j["treatment_on_treated"] = {{"reach", *in.reach},
                                 {"rate_difference", IntervalJson(*s.tot_rate_difference, c)},
                                 {"revenue_per_user", IntervalJson(*s.tot_revenue_per_user, c)}};
  } else {
    j["treatment_on_treated"] = nullptr;
  }
  Json warnings = Json::array();
  for (const auto& w : s.warnings) warnings.push_back({{"code", w.code}, {"message", w.message}});
  j["warnings"] = warnings;
  return j;
}

HandlerResult HandleLiftAggregate(const Json& body) {
  FieldReader r(body);
  causal::LiftInput in;
  for (auto [name, g] : {std::pair{"test", &in.test}, std::pair{"holdout", &in.holdout}}) {
    r.Object(
        name,
        [g = g](FieldReader& group) {
          group.Required("users", &g->users)
              .Required("conversions", &g->conversions)
              .Required("revenue", &g->revenue)
              .Optional("revenue_sum_squares", &g->revenue_sum_squares);
        },
        /*required=*/true);
  }
  r.Optional("spend", &in.spend).Optional("reach", &in.reach);
  ReadConfidence(r, &in.confidence);
  if (Status s = r.Finish(); !s.ok()) return s;
  auto result = causal::EstimateLift(in);
  if (!result.ok()) return FromCausal(result.error());
  return LiftToJson(result.value(), in);
}

Status CausalStatus(const causal::Error& error) { return FromCausal(error); }

}  // namespace causeway::api
