#include "api/resources/analyses_ab.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "api/codec/analysis_codec.h"
#include "api/codec/field_reader.h"
#include "app/ab_analysis.h"
#include "app/design.h"
#include "stats/group_sequential.h"
#include "stats/power.h"

namespace causeway::api {
namespace {

namespace st = causeway::stats;

const std::initializer_list<std::pair<std::string_view, st::Alternative>> kAlternatives = {
    {"two_sided", st::Alternative::kTwoSided},
    {"greater", st::Alternative::kGreater},
    {"less", st::Alternative::kLess}};
const std::initializer_list<std::pair<std::string_view, st::SpendingFunction>> kSpendings = {
    {"obrien_fleming", st::SpendingFunction::kObrienFleming},
    {"pocock", st::SpendingFunction::kPocock}};

// Marks the members an endpoint knows, so that whatever the order of reads and
// however early a rule fails, only members outside `names` count as unknown.
void MarkKnown(FieldReader& r, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) r.Raw(name);
}

// A non-negative integer count.
FieldReader& RequireCount(FieldReader& r, std::string_view name, int64_t* out) {
  r.Required(name, out);
  return r.Check(*out >= 0, name, "must be ≥ 0");
}

// Information fractions: an array of numbers (their order and range are rules of
// the design, checked by the core).
FieldReader& ReadLooks(FieldReader& r, std::vector<double>* out) {
  return r.Array(
      "looks",
      [out](const Json& t, const std::string& path, size_t) {
        if (!t.is_number()) return Status::InvalidArgument(path, "must be a number");
        out->push_back(t.get<double>());
        return Status::Ok();
      },
      /*required=*/true);
}

// ------------------------------------------------------------------ analyses/ab

// Mean metric: (mean, variance) or (sum, sum_squares); optional covariate in the
// matching form: (covariate_mean, covariate_variance, covariance) or
// (covariate_sum, covariate_sum_squares, sum_products).
void ReadMeanVariant(FieldReader& r, const std::string& path, app::AbVariant* out) {
  const bool moment_form = r.Present("mean") || r.Present("variance");
  const bool sum_form = r.Present("sum") || r.Present("sum_squares");
  const bool cov_moment =
      r.Present("covariate_mean") || r.Present("covariate_variance") || r.Present("covariance");
  const bool cov_sum =
      r.Present("covariate_sum") || r.Present("covariate_sum_squares") || r.Present("sum_products");
  if (moment_form && sum_form) {
    r.Fail(InvalidArgument(path, "give either mean and variance or sum and sum_squares, not both"));
    return;
  }
  const double n = static_cast<double>(out->n);
  if (sum_form) {
    double sum = 0, sum_squares = 0;
    r.Required("sum", &sum).Required("sum_squares", &sum_squares);
    r.Check(sum_squares >= 0, "sum_squares", "must be ≥ 0");
    r.Check(!(out->n > 0 && sum_squares < sum * sum / n * (1.0 - 1e-9) - 1e-9), "sum_squares",
            "must be ≥ sum²/n");
    r.Check(!cov_moment, "covariate_mean",
            "with sum and sum_squares give covariate_sum, covariate_sum_squares, sum_products");
    out->moments = st::MomentStats::FromSums(out->n, sum, sum_squares);
    if (cov_sum) {
      double xs = 0, xss = 0, xy = 0;
      r.Required("covariate_sum", &xs)
          .Required("covariate_sum_squares", &xss)
          .Required("sum_products", &xy);
      r.Check(xss >= 0, "covariate_sum_squares", "must be ≥ 0");
      Eigen::Matrix2d cross;
      cross << sum_squares, xy, xy, xss;
      out->cuped_mean = st::CupedMeanStats::FromSums(out->n, Eigen::Vector2d(sum, xs), cross);
    }
    return;
  }
  double mean = 0, variance = 0;
  r.Required("mean", &mean).Required("variance", &variance);
  r.Check(variance >= 0, "variance", "must be ≥ 0");
  r.Check(!cov_sum, "covariate_sum",
          "with mean and variance give covariate_mean, covariate_variance, covariance");
  out->moments = st::MomentStats::FromMeanVariance(out->n, mean, variance);
  if (cov_moment) {
    double xm = 0, xv = 0, cxy = 0;
    r.Required("covariate_mean", &xm)
        .Required("covariate_variance", &xv)
        .Required("covariance", &cxy);
    r.Check(xv >= 0, "covariate_variance", "must be ≥ 0");
    r.Check(!(cxy * cxy > variance * xv * (1.0 + 1e-9) + 1e-300), "covariance",
            "must satisfy covariance² ≤ variance · covariate_variance");
    st::CupedMeanStats s;
    s.n = out->n;
    s.mean = Eigen::Vector2d(mean, xm);
    const double dof = out->n >= 2 ? n - 1.0 : 0.0;
    s.m2 << variance * dof, cxy * dof, cxy * dof, xv * dof;
    out->cuped_mean = s;
  }
}

// Ratio metric from raw sums of the per-user numerator y and denominator d, and
// optionally the pre-period covariate numerator x and denominator e.
void ReadRatioVariant(FieldReader& r, app::AbVariant* out) {
  double ys = 0, yss = 0, ds = 0, dss = 0, yd = 0;
  r.Required("numerator_sum", &ys)
      .Required("numerator_sum_squares", &yss)
      .Required("denominator_sum", &ds)
      .Required("denominator_sum_squares", &dss)
      .Required("numerator_denominator_sum_product", &yd);
  r.Check(yss >= 0, "numerator_sum_squares", "must be ≥ 0");
  r.Check(dss >= 0, "denominator_sum_squares", "must be ≥ 0");
  Eigen::Matrix2d cross;
  cross << yss, yd, yd, dss;
  out->ratio = st::RatioStats::FromSums(out->n, Eigen::Vector2d(ys, ds), cross);
  const bool cov = r.Present("covariate_numerator_sum") || r.Present("covariate_denominator_sum") ||
                   r.Present("sum_products") || r.Present("covariate_numerator_sum_squares") ||
                   r.Present("covariate_denominator_sum_squares") ||
                   r.Present("covariate_numerator_denominator_sum_product");
  if (!cov) return;
  double xs = 0, xss = 0, es = 0, ess = 0, xe = 0;
  r.Required("covariate_numerator_sum", &xs)
      .Required("covariate_numerator_sum_squares", &xss)
      .Required("covariate_denominator_sum", &es)
      .Required("covariate_denominator_sum_squares", &ess)
      .Required("covariate_numerator_denominator_sum_product", &xe);
  double yx = 0, ye = 0, dx = 0, de = 0;
  r.Object(
      "sum_products",
      [&](FieldReader& sp) {
        sp.Required("numerator_covariate_numerator", &yx)
            .Required("numerator_covariate_denominator", &ye)
            .Required("denominator_covariate_numerator", &dx)
            .Required("denominator_covariate_denominator", &de);
      },
      /*required=*/true);
  Eigen::Matrix4d c;
  c << yss, yd, yx, ye,  //
      yd, dss, dx, de,   //
      yx, dx, xss, xe,   //
      ye, de, xe, ess;
  out->cuped_ratio = st::CupedRatioStats::FromSums(out->n, Eigen::Vector4d(ys, ds, xs, es), c);
}

Status ReadVariant(const Json& v, const std::string& path, app::AbMetricType type,
                   app::AbVariant* out) {
  FieldReader r(v, path);
  switch (type) {
    case app::AbMetricType::kBinomial:
      MarkKnown(r, {"key", "n", "weight", "conversions"});
      break;
    case app::AbMetricType::kMean:
      MarkKnown(r, {"key", "n", "weight", "mean", "variance", "sum", "sum_squares",
                    "covariate_mean", "covariate_variance", "covariance", "covariate_sum",
                    "covariate_sum_squares", "sum_products"});
      break;
    case app::AbMetricType::kRatio:
      MarkKnown(r,
                {"key", "n", "weight", "numerator_sum", "numerator_sum_squares", "denominator_sum",
                 "denominator_sum_squares", "numerator_denominator_sum_product",
                 "covariate_numerator_sum", "covariate_numerator_sum_squares",
                 "covariate_denominator_sum", "covariate_denominator_sum_squares",
                 "covariate_numerator_denominator_sum_product", "sum_products"});
      break;
  }
  r.Required("key", &out->key).Check(!out->key.empty(), "key", "must be a non-empty string");
  RequireCount(r, "n", &out->n);
  r.Optional("weight", &out->weight);
  if (!r.ok()) return r.Finish();
  switch (type) {
    case app::AbMetricType::kBinomial:
      RequireCount(r, "conversions", &out->conversions);
      r.Check(out->conversions <= out->n, "conversions", "must be ≤ n");
      break;
    case app::AbMetricType::kMean:
      ReadMeanVariant(r, path, out);
      break;
    case app::AbMetricType::kRatio:
      ReadRatioVariant(r, out);
      break;
  }
  return r.Finish();
}

// Decodes the body of POST /v1/analyses/ab.
Status DecodeAb(const Json& body, app::AbInput* input, app::AbOptions* options) {
  FieldReader r(body);
  MarkKnown(r, {"metric_type", "variants", "alpha", "alternative", "sequential", "multiple_testing",
                "srm_threshold"});
  r.Enum("metric_type", &input->type,
         {{"binomial", app::AbMetricType::kBinomial},
          {"mean", app::AbMetricType::kMean},
          {"ratio", app::AbMetricType::kRatio}});
  r.Check(r.Present("metric_type") || !r.ok(), "metric_type", "is required");
  r.Optional("alpha", &options->alpha)
      .Check(options->alpha > 0 && options->alpha < 1, "alpha", "must be in (0, 1)");
  r.Enum("alternative", &options->alternative, kAlternatives);
  r.Enum("multiple_testing", &options->correction,
         {{"holm", st::Correction::kHolm},
          {"benjamini_hochberg", st::Correction::kBenjaminiHochberg},
          {"none", st::Correction::kNone}});
  r.Optional("srm_threshold", &options->srm_threshold);
  r.Object("sequential", [options](FieldReader& s) {
    enum class Method { kAlwaysValid, kGroupSequential } method = Method::kAlwaysValid;
    MarkKnown(s, {"method"});
    s.Check(s.Present("method"), "method", "is required");
    s.Enum(
        "method", &method,
        {{"always_valid", Method::kAlwaysValid}, {"group_sequential", Method::kGroupSequential}});
    if (method == Method::kAlwaysValid) {
      app::AlwaysValidPlan plan;
      s.Required("expected_n", &plan.expected_n);
      options->always_valid = plan;
      return;
    }
    app::GroupSequentialPlan plan;
    ReadLooks(s, &plan.looks);
    if (s.ok()) s.Fail(app::ValidateLooks(plan.looks, s.PathOf("looks")));
    s.Enum("spending", &plan.spending, kSpendings);
    int64_t look = 0;
    RequireCount(s, "current_look", &look);
    plan.current_look = static_cast<int>(std::min<int64_t>(look, 1000));
    options->group_sequential = plan;
  });
  if (!r.ok()) return r.Finish();
  const Json* variants = r.Raw("variants");
  if (!variants) return InvalidArgument("variants", "is required");
  if (!variants->is_array()) return InvalidArgument("variants", "must be an array");
  if (variants->size() < 2) {
    return InvalidArgument("variants", "needs at least 2 variants (control first)");
  }
  if (variants->size() > 100) return InvalidArgument("variants", "at most 100 variants");
  for (size_t i = 0; i < variants->size(); ++i) {
    app::AbVariant v;
    Status s = ReadVariant((*variants)[i], "variants[" + std::to_string(i) + "]", input->type, &v);
    if (!s.ok()) return s;
    input->variants.push_back(std::move(v));
  }
  return r.Finish();
}

// -------------------------------------------------------------- design/sample-size

// Decodes the body of POST /v1/design/sample-size: the per-field rules (400 naming
// the field); which quantity is solved for is app::SolveSampleSize's.
Status DecodeSampleSize(const Json& body, app::SampleSizeOptions* o) {
  FieldReader r(body);
  MarkKnown(r, {"metric_type", "baseline_rate", "baseline_mean", "standard_deviation", "mde",
                "relative_mde", "n_control", "ratio", "alpha", "power", "alternative"});
  r.Enum("metric_type", &o->kind,
         {{"binomial", st::MetricKind::kProportion}, {"mean", st::MetricKind::kMean}});
  r.Check(r.Present("metric_type") || !r.ok(), "metric_type", "is required");
  if (!r.ok()) return r.Finish();
  if (o->kind == st::MetricKind::kProportion) {
    r.Required("baseline_rate", &o->baseline_rate)
        .Check(o->baseline_rate > 0 && o->baseline_rate < 1, "baseline_rate", "must be in (0, 1)");
    r.Check(!r.Present("standard_deviation"), "standard_deviation",
            "only for metric_type \"mean\"");
    r.Check(!r.Present("baseline_mean"), "baseline_mean", "only for metric_type \"mean\"");
  } else {
    r.Required("standard_deviation", &o->standard_deviation)
        .Check(o->standard_deviation > 0, "standard_deviation", "must be > 0");
    r.Check(!r.Present("baseline_rate"), "baseline_rate", "only for metric_type \"binomial\"");
    r.Optional("baseline_mean", &o->baseline_mean);
    r.Check(!o->baseline_mean || *o->baseline_mean != 0, "baseline_mean", "must be non-zero");
  }
  r.Optional("alpha", &o->alpha).Check(o->alpha > 0 && o->alpha < 1, "alpha", "must be in (0, 1)");
  r.Enum("alternative", &o->alternative, kAlternatives);
  r.Optional("power", &o->power)
      .Check(o->power > o->alpha && o->power < 1, "power", "must be in (alpha, 1)");
  r.Optional("ratio", &o->ratio).Check(o->ratio > 0, "ratio", "must be > 0");
  r.Optional("mde", &o->mde).Optional("relative_mde", &o->relative_mde);
  r.Optional("n_control", &o->n_control);
  return r.Finish();
}

Json EncodeSampleSize(const app::SampleSizeDesign& d) {
  Json out = {{"metric_type", d.kind == st::MetricKind::kProportion ? "binomial" : "mean"},
              {"alpha", d.alpha},
              {"alternative", AlternativeName(d.alternative)},
              {"ratio", d.ratio},
              {"power", d.power},
              {"mde", d.mde}};
  switch (d.solved_for) {
    case app::SolvedFor::kPower:
      out["solved_for"] = "power";
      break;
    case app::SolvedFor::kMde:
      out["solved_for"] = "mde";
      break;
    case app::SolvedFor::kSampleSize:
      out["solved_for"] = "sample_size";
      out["n_control_exact"] = d.n_control_exact;
      out["n_control"] = static_cast<int64_t>(d.n_control);
      out["n_treatment"] = static_cast<int64_t>(d.n_treatment);
      out["n_total"] = d.n_total;
      break;
  }
  if (d.solved_for != app::SolvedFor::kSampleSize) {
    out["n_control"] = d.n_control;
    out["n_treatment"] = d.n_treatment;
  }
  if (d.relative_mde) out["relative_mde"] = *d.relative_mde;
  return out;
}

// -------------------------------------------------------------- design/sequential

Status DecodeSequential(const Json& body, app::SequentialDesignOptions* o) {
  FieldReader r(body);
  ReadLooks(r, &o->looks);
  if (r.ok()) r.Fail(app::ValidateLooks(o->looks, "looks"));
  r.Optional("alpha", &o->alpha).Check(o->alpha > 0 && o->alpha < 1, "alpha", "must be in (0, 1)");
  r.Enum("spending", &o->spending, kSpendings);
  int64_t sides = 2;
  r.Optional("sides", &sides).Check(sides == 1 || sides == 2, "sides", "must be 1 or 2");
  o->sides = static_cast<int>(sides);
  return r.Finish();
}

Json EncodeSequential(const app::SequentialDesign& d) {
  Json looks = Json::array();
  for (const app::SequentialLook& k : d.looks) {
    looks.push_back({{"information_fraction", k.information_fraction},
                     {"z", Number(k.z)},
                     {"nominal_p", k.nominal_p},
                     {"cumulative_alpha", k.cumulative_alpha},
                     {"incremental_alpha", k.incremental_alpha}});
  }
  return Json{{"alpha", d.alpha},
              {"spending", SpendingName(d.spending)},
              {"sides", d.sides},
              {"method", "lan_demets"},
              {"looks", std::move(looks)}};
}

}  // namespace

HandlerResult HandleAnalysesAb(const Json& body) {
  app::AbInput input;
  app::AbOptions options;
  if (Status s = DecodeAb(body, &input, &options); !s.ok()) return s;
  StatusOr<app::AbSummary> summary = app::AnalyzeAb(input, options);
  if (!summary.ok()) return summary.status();
  const app::AbSummary& a = *summary;

  Json out = {{"metric_type", AbMetricTypeName(a.type)},
              {"alpha", a.alpha},
              {"alternative", AlternativeName(a.alternative)},
              {"control", a.control}};
  Json variants = Json::array();
  for (const auto& v : a.variants) variants.push_back(EncodeVariantSummary(v));
  out["variants"] = std::move(variants);
  Json comparisons = Json::array();
  for (const auto& c : a.comparisons) comparisons.push_back(EncodeComparison(c));
  out["comparisons"] = std::move(comparisons);
  out["multiple_testing"] = {{"method", CorrectionName(a.correction_applied)},
                             {"comparisons", a.comparisons.size()}};
  if (!a.srm) {
    out["srm"] = nullptr;
  } else if (a.srm->valid) {
    out["srm"] = {{"valid", true},
                  {"chi_square", a.srm->chi_square},
                  {"df", a.srm->df},
                  {"p_value", a.srm->p_value},
                  {"mismatch", a.srm->mismatch},
                  {"threshold", a.srm_threshold},
                  {"expected_counts", a.srm->expected_counts}};
  } else {
    out["srm"] = {{"valid", false},
                  {"reason", a.srm->reason},
                  {"mismatch", false},
                  {"threshold", a.srm_threshold}};
  }
  return out;
}

HandlerResult HandleDesignSampleSize(const Json& body) {
  app::SampleSizeOptions options;
  if (Status s = DecodeSampleSize(body, &options); !s.ok()) return s;
  StatusOr<app::SampleSizeDesign> design = app::SolveSampleSize(options);
  if (!design.ok()) return design.status();
  return EncodeSampleSize(*design);
}

HandlerResult HandleDesignSequential(const Json& body) {
  app::SequentialDesignOptions options;
  if (Status s = DecodeSequential(body, &options); !s.ok()) return s;
  StatusOr<app::SequentialDesign> design = app::DesignSequential(options);
  if (!design.ok()) return design.status();
  return EncodeSequential(*design);
}

}  // namespace causeway::api
