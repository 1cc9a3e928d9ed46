#include "api/stats_handlers.h"

#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "stats/always_valid.h"
#include "stats/bayesian.h"
#include "stats/fixed_horizon.h"
#include "stats/group_sequential.h"
#include "stats/moments.h"
#include "stats/multiple_testing.h"
#include "stats/power.h"
#include "stats/ratio_cuped.h"
#include "stats/srm.h"

namespace causeway::api {
namespace {

namespace st = causeway::stats;
using Error = std::optional<Status>;

std::string Child(const std::string& parent, std::string_view child) {
  return parent.empty() ? std::string(child) : parent + "." + std::string(child);
}
std::string Index(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

Error RejectUnknown(const Json& obj, const std::string& path,
                    std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj.items()) {
    bool known = false;
    for (auto a : allowed) known = known || a == k;
    if (!known) return InvalidArgument(Child(path, k), "unknown field");
  }
  return std::nullopt;
}

// Reads an optional finite number; *present says whether it was there.
Error ReadNumber(const Json& obj, const std::string& path, std::string_view name, double* out,
                 bool* present = nullptr) {
  const auto it = obj.find(std::string(name));
  if (present) *present = it != obj.end();
  if (it == obj.end()) return std::nullopt;
  if (!it->is_number()) return InvalidArgument(Child(path, name), "must be a number");
  *out = it->get<double>();
  if (!std::isfinite(*out)) return InvalidArgument(Child(path, name), "must be finite");
  return std::nullopt;
}

Error RequireNumber(const Json& obj, const std::string& path, std::string_view name, double* out) {
  bool present = false;
  if (auto e = ReadNumber(obj, path, name, out, &present)) return e;
  if (!present) return InvalidArgument(Child(path, name), "is required");
  return std::nullopt;
}

// A non-negative integer count.
Error RequireCount(const Json& obj, const std::string& path, std::string_view name, int64_t* out) {
  double v = 0;
  if (auto e = RequireNumber(obj, path, name, &v)) return e;
  if (v < 0) return InvalidArgument(Child(path, name), "must be ≥ 0");
  if (v != std::floor(v) || v > 9.0e15)
    return InvalidArgument(Child(path, name), "must be an integer");
  *out = static_cast<int64_t>(v);
  return std::nullopt;
}

Error ReadAlpha(const Json& body, double* alpha) {
  *alpha = 0.05;
  if (auto e = ReadNumber(body, "", "alpha", alpha)) return e;
  if (!(*alpha > 0.0 && *alpha < 1.0)) return InvalidArgument("alpha", "must be in (0, 1)");
  return std::nullopt;
}

Error ReadAlternative(const Json& body, st::Alternative* out) {
  *out = st::Alternative::kTwoSided;
  const auto it = body.find("alternative");
  if (it == body.end()) return std::nullopt;
  if (!it->is_string()) return InvalidArgument("alternative", "must be a string");
  const std::string s = it->get<std::string>();
  if (s == "two_sided") return std::nullopt;
  if (s == "greater") {
    *out = st::Alternative::kGreater;
  } else if (s == "less") {
    *out = st::Alternative::kLess;
  } else {
    return InvalidArgument("alternative", "must be \"two_sided\", \"greater\" or \"less\"");
  }
  return std::nullopt;
}

const char* AlternativeName(st::Alternative a) {
  switch (a) {
    case st::Alternative::kGreater:
      return "greater";
    case st::Alternative::kLess:
      return "less";
    case st::Alternative::kTwoSided:
      break;
  }
  return "two_sided";
}

// Non-finite numbers (e.g. the open end of a one-sided interval) become null.
Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
Json IntervalJson(const st::Interval& ci) {
  return Json::array({Number(ci.lower), Number(ci.upper)});
}

// Strictly increasing information fractions in (0, 1].
Error ReadLooks(const Json& obj, const std::string& path, std::vector<double>* out) {
  const std::string field = Child(path, "looks");
  const auto looks = obj.find("looks");
  if (looks == obj.end()) return InvalidArgument(field, "is required");
  if (!looks->is_array() || looks->empty())
    return InvalidArgument(field, "must be a non-empty array");
  if (looks->size() > 100) return InvalidArgument(field, "at most 100 looks");
  for (size_t i = 0; i < looks->size(); ++i) {
    const Json& t = (*looks)[i];
    const std::string item = Index(field, i);
    if (!t.is_number()) return InvalidArgument(item, "must be a number");
    const double v = t.get<double>();
    if (!(v > 0 && v <= 1)) return InvalidArgument(item, "must be in (0, 1]");
    if (i > 0 && !(v > out->back())) {
      return InvalidArgument(item, "must be greater than the previous look (looks must increase)");
    }
    out->push_back(v);
  }
  return std::nullopt;
}

Error ReadSpending(const Json& obj, const std::string& path, st::SpendingFunction* out,
                   std::string* name) {
  *name = "obrien_fleming";
  *out = st::SpendingFunction::kObrienFleming;
  const auto it = obj.find("spending");
  if (it == obj.end()) return std::nullopt;
  if (!it->is_string()) return InvalidArgument(Child(path, "spending"), "must be a string");
  *name = it->get<std::string>();
  if (*name == "pocock") {
    *out = st::SpendingFunction::kPocock;
  } else if (*name != "obrien_fleming") {
    return InvalidArgument(Child(path, "spending"), "must be \"obrien_fleming\" or \"pocock\"");
  }
  return std::nullopt;
}

// ------------------------------------------------------------------ analyses/ab

enum class MetricType { kBinomial, kMean, kRatio };

// One variant's validated inputs. Exactly one of the stats members is used, by
// metric type and whether CUPED covariate fields were given.
struct Variant {
  std::string key;
  int64_t n = 0;
  std::optional<double> weight;
  int64_t conversions = 0;          // binomial
  st::MomentStats moments;          // mean (no CUPED)
  st::CupedMeanStats cuped_mean;    // mean with covariate
  st::RatioStats ratio;             // ratio (no CUPED)
  st::CupedRatioStats cuped_ratio;  // ratio with covariate
  bool has_covariate = false;
};

Error ReadBinomialVariant(const Json& v, const std::string& path, Variant* out) {
  if (auto e = RejectUnknown(v, path, {"key", "n", "weight", "conversions"})) return e;
  if (auto e = RequireCount(v, path, "conversions", &out->conversions)) return e;
  if (out->conversions > out->n) return InvalidArgument(Child(path, "conversions"), "must be ≤ n");
  return std::nullopt;
}

// Mean metric: (mean, variance) or (sum, sum_squares); optional covariate in the
// matching form: (covariate_mean, covariate_variance, covariance) or
// (covariate_sum, covariate_sum_squares, sum_products).
Error ReadMeanVariant(const Json& v, const std::string& path, Variant* out) {
  if (auto e = RejectUnknown(v, path,
                             {"key", "n", "weight", "mean", "variance", "sum", "sum_squares",
                              "covariate_mean", "covariate_variance", "covariance", "covariate_sum",
                              "covariate_sum_squares", "sum_products"})) {
    return e;
  }
  const bool moment_form = v.contains("mean") || v.contains("variance");
  const bool sum_form = v.contains("sum") || v.contains("sum_squares");
  if (moment_form && sum_form) {
    return InvalidArgument(path, "give either mean and variance or sum and sum_squares, not both");
  }
  const double n = static_cast<double>(out->n);
  if (sum_form) {
    double sum = 0, sum_squares = 0;
    if (auto e = RequireNumber(v, path, "sum", &sum)) return e;
    if (auto e = RequireNumber(v, path, "sum_squares", &sum_squares)) return e;
    if (sum_squares < 0) return InvalidArgument(Child(path, "sum_squares"), "must be ≥ 0");
    if (out->n > 0 && sum_squares < sum * sum / n * (1.0 - 1e-9) - 1e-9) {
      return InvalidArgument(Child(path, "sum_squares"), "must be ≥ sum²/n");
    }
    out->moments = st::MomentStats::FromSums(out->n, sum, sum_squares);
    const bool cov = v.contains("covariate_sum") || v.contains("covariate_sum_squares") ||
                     v.contains("sum_products");
    if (v.contains("covariate_mean") || v.contains("covariate_variance") ||
        v.contains("covariance")) {
      return InvalidArgument(
          Child(path, "covariate_mean"),
          "with sum and sum_squares give covariate_sum, covariate_sum_squares, sum_products");
    }
    if (cov) {
      double xs = 0, xss = 0, xy = 0;
      if (auto e = RequireNumber(v, path, "covariate_sum", &xs)) return e;
      if (auto e = RequireNumber(v, path, "covariate_sum_squares", &xss)) return e;
      if (auto e = RequireNumber(v, path, "sum_products", &xy)) return e;
      if (xss < 0) return InvalidArgument(Child(path, "covariate_sum_squares"), "must be ≥ 0");
      Eigen::Matrix2d cross;
      cross << sum_squares, xy, xy, xss;
      out->cuped_mean = st::CupedMeanStats::FromSums(out->n, Eigen::Vector2d(sum, xs), cross);
      out->has_covariate = true;
    }
    return std::nullopt;
  }
  double mean = 0, variance = 0;
  if (auto e = RequireNumber(v, path, "mean", &mean)) return e;
  if (auto e = RequireNumber(v, path, "variance", &variance)) return e;
  if (variance < 0) return InvalidArgument(Child(path, "variance"), "must be ≥ 0");
  out->moments = st::MomentStats::FromMeanVariance(out->n, mean, variance);
  if (v.contains("covariate_sum") || v.contains("covariate_sum_squares") ||
      v.contains("sum_products")) {
    return InvalidArgument(
        Child(path, "covariate_sum"),
        "with mean and variance give covariate_mean, covariate_variance, covariance");
  }
  if (v.contains("covariate_mean") || v.contains("covariate_variance") ||
      v.contains("covariance")) {
    double xm = 0, xv = 0, cxy = 0;
    if (auto e = RequireNumber(v, path, "covariate_mean", &xm)) return e;
    if (auto e = RequireNumber(v, path, "covariate_variance", &xv)) return e;
    if (auto e = RequireNumber(v, path, "covariance", &cxy)) return e;
    if (xv < 0) return InvalidArgument(Child(path, "covariate_variance"), "must be ≥ 0");
    if (cxy * cxy > variance * xv * (1.0 + 1e-9) + 1e-300) {
      return InvalidArgument(Child(path, "covariance"),
                             "must satisfy covariance² ≤ variance · covariate_variance");
    }
    st::CupedMeanStats s;
    s.n = out->n;
    s.mean = Eigen::Vector2d(mean, xm);
    const double dof = out->n >= 2 ? n - 1.0 : 0.0;
    s.m2 << variance * dof, cxy * dof, cxy * dof, xv * dof;
    out->cuped_mean = s;
    out->has_covariate = true;
  }
  return std::nullopt;
}

// Ratio metric from raw sums of the per-user numerator y and denominator d, and
// optionally the pre-period covariate numerator x and denominator e.
Error ReadRatioVariant(const Json& v, const std::string& path, Variant* out) {
  if (auto e = RejectUnknown(
          v, path,
          {"key", "n", "weight", "numerator_sum", "numerator_sum_squares", "denominator_sum",
           "denominator_sum_squares", "numerator_denominator_sum_product",
           "covariate_numerator_sum", "covariate_numerator_sum_squares",
           "covariate_denominator_sum", "covariate_denominator_sum_squares",
           "covariate_numerator_denominator_sum_product", "sum_products"})) {
    return e;
  }
  double ys = 0, yss = 0, ds = 0, dss = 0, yd = 0;
  if (auto e = RequireNumber(v, path, "numerator_sum", &ys)) return e;
  if (auto e = RequireNumber(v, path, "numerator_sum_squares", &yss)) return e;
  if (auto e = RequireNumber(v, path, "denominator_sum", &ds)) return e;
  if (auto e = RequireNumber(v, path, "denominator_sum_squares", &dss)) return e;
  if (auto e = RequireNumber(v, path, "numerator_denominator_sum_product", &yd)) return e;
  if (yss < 0) return InvalidArgument(Child(path, "numerator_sum_squares"), "must be ≥ 0");
  if (dss < 0) return InvalidArgument(Child(path, "denominator_sum_squares"), "must be ≥ 0");
  Eigen::Matrix2d cross;
  cross << yss, yd, yd, dss;
  out->ratio = st::RatioStats::FromSums(out->n, Eigen::Vector2d(ys, ds), cross);
  const bool cov = v.contains("covariate_numerator_sum") ||
                   v.contains("covariate_denominator_sum") || v.contains("sum_products") ||
                   v.contains("covariate_numerator_sum_squares") ||
                   v.contains("covariate_denominator_sum_squares") ||
                   v.contains("covariate_numerator_denominator_sum_product");
  if (!cov) return std::nullopt;
  double xs = 0, xss = 0, es = 0, ess = 0, xe = 0;
  if (auto e = RequireNumber(v, path, "covariate_numerator_sum", &xs)) return e;
  if (auto e = RequireNumber(v, path, "covariate_numerator_sum_squares", &xss)) return e;
  if (auto e = RequireNumber(v, path, "covariate_denominator_sum", &es)) return e;
  if (auto e = RequireNumber(v, path, "covariate_denominator_sum_squares", &ess)) return e;
  if (auto e = RequireNumber(v, path, "covariate_numerator_denominator_sum_product", &xe)) return e;
  const std::string sp_path = Child(path, "sum_products");
  const auto sp = v.find("sum_products");
  if (sp == v.end()) return InvalidArgument(sp_path, "is required with covariate fields");
  if (!sp->is_object()) return InvalidArgument(sp_path, "must be an object");
  if (auto e =
          RejectUnknown(*sp, sp_path,
                        {"numerator_covariate_numerator", "numerator_covariate_denominator",
                         "denominator_covariate_numerator", "denominator_covariate_denominator"})) {
    return e;
  }
  double yx = 0, ye = 0, dx = 0, de = 0;
  if (auto e = RequireNumber(*sp, sp_path, "numerator_covariate_numerator", &yx)) return e;
  if (auto e = RequireNumber(*sp, sp_path, "numerator_covariate_denominator", &ye)) return e;
  if (auto e = RequireNumber(*sp, sp_path, "denominator_covariate_numerator", &dx)) return e;
  if (auto e = RequireNumber(*sp, sp_path, "denominator_covariate_denominator", &de)) return e;
  Eigen::Matrix4d c;
  c << yss, yd, yx, ye,  //
      yd, dss, dx, de,   //
      yx, dx, xss, xe,   //
      ye, de, xe, ess;
  out->cuped_ratio = st::CupedRatioStats::FromSums(out->n, Eigen::Vector4d(ys, ds, xs, es), c);
  out->has_covariate = true;
  return std::nullopt;
}

Error ReadVariants(const Json& body, MetricType type, std::vector<Variant>* variants) {
  const auto it = body.find("variants");
  if (it == body.end()) return InvalidArgument("variants", "is required");
  if (!it->is_array()) return InvalidArgument("variants", "must be an array");
  if (it->size() < 2)
    return InvalidArgument("variants", "needs at least 2 variants (control first)");
  if (it->size() > 100) return InvalidArgument("variants", "at most 100 variants");
  std::set<std::string> keys;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    const std::string path = Index("variants", i);
    if (!v.is_object()) return InvalidArgument(path, "must be an object");
    Variant out;
    const auto key = v.find("key");
    if (key == v.end()) return InvalidArgument(Child(path, "key"), "is required");
    if (!key->is_string() || key->get<std::string>().empty()) {
      return InvalidArgument(Child(path, "key"), "must be a non-empty string");
    }
    out.key = key->get<std::string>();
    if (!keys.insert(out.key).second)
      return InvalidArgument(Child(path, "key"), "duplicates another variant");
    if (auto e = RequireCount(v, path, "n", &out.n)) return e;
    double weight = 0;
    bool has_weight = false;
    if (auto e = ReadNumber(v, path, "weight", &weight, &has_weight)) return e;
    if (has_weight) {
      if (!(weight > 0)) return InvalidArgument(Child(path, "weight"), "must be > 0");
      out.weight = weight;
    }
    Error e;
    switch (type) {
      case MetricType::kBinomial:
        e = ReadBinomialVariant(v, path, &out);
        break;
      case MetricType::kMean:
        e = ReadMeanVariant(v, path, &out);
        break;
      case MetricType::kRatio:
        e = ReadRatioVariant(v, path, &out);
        break;
    }
    if (e) return e;
    if (i > 0 && out.weight.has_value() != variants->front().weight.has_value()) {
      return InvalidArgument(Child(path, "weight"), "give a weight for every variant or for none");
    }
    if (i > 0 && out.has_covariate != variants->front().has_covariate) {
      return InvalidArgument(path,
                             "give covariate (CUPED) statistics for every variant or for none");
    }
    variants->push_back(std::move(out));
  }
  return std::nullopt;
}

struct Comparison {
  st::EffectResult effect;
  std::optional<st::CupedResult> cuped;
};

Comparison Compare(MetricType type, const Variant& c, const Variant& t,
                   const st::TestOptions& options) {
  Comparison out;
  switch (type) {
    case MetricType::kBinomial:
      out.effect = st::CompareProportions(c.n, c.conversions, t.n, t.conversions, options);
      break;
    case MetricType::kMean:
      if (c.has_covariate) {
        out.cuped = st::CompareMeansCuped(c.cuped_mean, t.cuped_mean, options);
        out.effect = out.cuped->effect;
      } else {
        out.effect = st::CompareMeans(c.moments, t.moments, options);
      }
      break;
    case MetricType::kRatio:
      if (c.has_covariate) {
        out.cuped = st::CompareRatiosCuped(c.cuped_ratio, t.cuped_ratio, options);
        out.effect = out.cuped->effect;
      } else {
        out.effect = st::CompareRatios(c.ratio, t.ratio, options);
      }
      break;
  }
  return out;
}

// Per-variant point estimate for the response ("rate", "mean" or "ratio").
Json VariantSummary(MetricType type, const Variant& v) {
  Json j = {{"key", v.key}, {"n", v.n}};
  switch (type) {
    case MetricType::kBinomial:
      j["conversions"] = v.conversions;
      j["estimate"] =
          v.n > 0 ? Number(static_cast<double>(v.conversions) / static_cast<double>(v.n)) : nullptr;
      break;
    case MetricType::kMean:
      j["estimate"] = v.n > 0 ? Number(v.moments.mean) : nullptr;
      j["variance"] = Number(v.moments.Variance());
      break;
    case MetricType::kRatio: {
      std::string ignored;
      j["estimate"] = Number(st::RatioArmEstimate(v.ratio, &ignored).estimate);
      break;
    }
  }
  if (v.weight) j["weight"] = *v.weight;
  return j;
}

}  // namespace

HandlerResult HandleAnalysesAb(const Json& body) {
  if (!body.is_object()) return InvalidArgument("", "request body must be a JSON object");
  if (auto e = RejectUnknown(body, "",
                             {"metric_type", "variants", "alpha", "alternative", "sequential",
                              "multiple_testing", "srm_threshold"})) {
    return *e;
  }
  const auto mt = body.find("metric_type");
  if (mt == body.end()) return InvalidArgument("metric_type", "is required");
  if (!mt->is_string()) return InvalidArgument("metric_type", "must be a string");
  MetricType type;
  const std::string type_name = mt->get<std::string>();
  if (type_name == "binomial") {
    type = MetricType::kBinomial;
  } else if (type_name == "mean") {
    type = MetricType::kMean;
  } else if (type_name == "ratio") {
    type = MetricType::kRatio;
  } else {
    return InvalidArgument("metric_type", "must be \"binomial\", \"mean\" or \"ratio\"");
  }
  st::TestOptions options;
  if (auto e = ReadAlpha(body, &options.alpha)) return *e;
  if (auto e = ReadAlternative(body, &options.alternative)) return *e;

  st::Correction correction = st::Correction::kHolm;
  std::string correction_name = "holm";
  if (const auto it = body.find("multiple_testing"); it != body.end()) {
    if (!it->is_string()) return InvalidArgument("multiple_testing", "must be a string");
    correction_name = it->get<std::string>();
    if (correction_name == "none") {
      correction = st::Correction::kNone;
    } else if (correction_name == "benjamini_hochberg") {
      correction = st::Correction::kBenjaminiHochberg;
    } else if (correction_name != "holm") {
      return InvalidArgument("multiple_testing",
                             "must be \"holm\", \"benjamini_hochberg\" or \"none\"");
    }
  }
  double srm_threshold = 0.001;
  if (auto e = ReadNumber(body, "", "srm_threshold", &srm_threshold)) return *e;
  if (!(srm_threshold > 0.0 && srm_threshold < 1.0))
    return InvalidArgument("srm_threshold", "must be in (0, 1)");

  std::optional<st::AlwaysValidOptions> sequential;
  // Group sequential analysis: the design and the (1-based) look being analysed.
  std::optional<st::GroupSequentialDesign> gs_design;
  std::string gs_spending;
  size_t gs_look = 0;
  if (const auto it = body.find("sequential"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("sequential", "must be an object");
    const auto method = it->find("method");
    if (method == it->end()) return InvalidArgument("sequential.method", "is required");
    const std::string method_name = method->is_string() ? method->get<std::string>() : "";
    if (method_name == "group_sequential") {
      if (auto e =
              RejectUnknown(*it, "sequential", {"method", "looks", "spending", "current_look"}))
        return *e;
      st::GroupSequentialDesign design;
      if (auto e = ReadLooks(*it, "sequential", &design.information_fractions)) return *e;
      if (auto e = ReadSpending(*it, "sequential", &design.spending, &gs_spending)) return *e;
      int64_t look = 0;
      if (auto e = RequireCount(*it, "sequential", "current_look", &look)) return *e;
      if (look < 1 || look > static_cast<int64_t>(design.information_fractions.size())) {
        return InvalidArgument("sequential.current_look",
                               "must be between 1 and the number of looks");
      }
      gs_look = static_cast<size_t>(look);
      design.alpha = options.alpha;
      design.sides = options.alternative == st::Alternative::kTwoSided ? 2 : 1;
      gs_design = design;
    } else if (method_name != "always_valid") {
      return InvalidArgument("sequential.method",
                             "must be \"always_valid\" or \"group_sequential\"");
    }
  }
  if (const auto it = body.find("sequential"); it != body.end() && !it->is_null() && !gs_design) {
    if (auto e = RejectUnknown(*it, "sequential", {"method", "expected_n"})) return *e;
    st::AlwaysValidOptions av;
    av.alpha = options.alpha;
    av.alternative = options.alternative;
    if (auto e = RequireNumber(*it, "sequential", "expected_n", &av.expected_n)) return *e;
    if (!(av.expected_n >= 1.0)) return InvalidArgument("sequential.expected_n", "must be ≥ 1");
    if (av.alternative != st::Alternative::kTwoSided && !(av.alpha < 0.5)) {
      return InvalidArgument("alpha", "must be < 0.5 for a one-sided sequential test");
    }
    sequential = av;
  }

  std::vector<Variant> variants;
  if (auto e = ReadVariants(body, type, &variants)) return *e;

  const Variant& control = variants.front();
  std::vector<Comparison> comparisons;
  for (size_t i = 1; i < variants.size(); ++i)
    comparisons.push_back(Compare(type, control, variants[i], options));

  // Multiple-testing adjustment across the treatments of this request, for the
  // fixed-horizon and for the sequential p-values (each its own family).
  std::vector<double> p, p_seq;
  std::vector<st::AlwaysValidResult> seq_results;
  for (size_t i = 0; i < comparisons.size(); ++i) {
    const auto& effect = comparisons[i].effect;
    p.push_back(effect.valid ? effect.p_value : 1.0);
    if (sequential) {
      const double total = static_cast<double>(control.n + variants[i + 1].n);
      seq_results.push_back(st::AlwaysValid(effect, total, *sequential));
      p_seq.push_back(seq_results.back().valid ? seq_results.back().p_value : 1.0);
    }
  }
  const st::Correction applied = comparisons.size() > 1 ? correction : st::Correction::kNone;
  const std::vector<double> p_adj = st::AdjustPValues(p, applied);
  const std::vector<double> p_seq_adj = st::AdjustPValues(p_seq, applied);

  // Group sequential: Bonferroni across treatments (alpha / m per comparison) when a
  // correction is requested, since step-wise corrections do not carry over to
  // boundaries directly.
  std::optional<st::GroupSequentialBoundaries> gs_bounds;
  double gs_alpha = options.alpha;
  if (gs_design) {
    if (applied != st::Correction::kNone)
      gs_alpha = options.alpha / static_cast<double>(comparisons.size());
    st::GroupSequentialDesign design = *gs_design;
    design.alpha = gs_alpha;
    gs_bounds = st::LanDeMetsBoundaries(design);
    if (!gs_bounds->valid) return InvalidArgument("sequential.looks", gs_bounds->reason);
  }

  Json out_comparisons = Json::array();
  for (size_t i = 0; i < comparisons.size(); ++i) {
    const st::EffectResult& r = comparisons[i].effect;
    Json c = {{"variant", variants[i + 1].key}, {"control", control.key}, {"valid", r.valid}};
    if (!r.valid) {
      c["reason"] = r.reason;
      c["significant"] = false;
      out_comparisons.push_back(std::move(c));
      continue;
    }
    c["absolute"] = {{"estimate", Number(r.difference)},
                     {"std_error", Number(r.std_error)},
                     {"ci", IntervalJson(r.ci)},
                     {"statistic", Number(r.statistic)},
                     {"df", Number(r.df)},
                     {"p_value", Number(r.p_value)}};
    if (r.relative_valid) {
      c["relative"] = {{"estimate", Number(r.relative)},
                       {"std_error", Number(r.relative_std_error)},
                       {"ci", IntervalJson(r.relative_ci)}};
    } else {
      c["relative"] = {{"reason", r.relative_reason}};
    }
    c["p_value"] = Number(r.p_value);
    c["p_value_adjusted"] = Number(p_adj[i]);
    c["significant"] = p_adj[i] < options.alpha;
    if (sequential) {
      const st::AlwaysValidResult& s = seq_results[i];
      Json sj = {
          {"method", "always_valid"}, {"expected_n", sequential->expected_n}, {"valid", s.valid}};
      if (s.valid) {
        sj["rho"] = s.rho;
        sj["absolute"] = {{"ci", IntervalJson(s.ci)}};
        sj["relative"] =
            s.relative_valid ? Json{{"ci", IntervalJson(s.relative_ci)}} : Json(nullptr);
        sj["p_value"] = Number(s.p_value);
        sj["p_value_adjusted"] = Number(p_seq_adj[i]);
        sj["significant"] = p_seq_adj[i] < options.alpha;
      } else {
        sj["reason"] = s.reason;
        sj["significant"] = false;
      }
      c["sequential"] = std::move(sj);
    }
    if (gs_bounds) {
      const size_t k = gs_look - 1;
      // Reject at look k when the fixed-horizon p-value (same sidedness) is at or below
      // the look's nominal level, i.e. |z| >= c_k.
      const bool reject = r.p_value <= gs_bounds->nominal_p[k];
      c["sequential"] = {{"method", "group_sequential"},
                         {"spending", gs_spending},
                         {"look", gs_look},
                         {"information_fraction", gs_design->information_fractions[k]},
                         {"alpha", gs_alpha},
                         {"z_boundary", Number(gs_bounds->z[k])},
                         {"nominal_p", gs_bounds->nominal_p[k]},
                         {"cumulative_alpha", gs_bounds->cumulative_alpha[k]},
                         {"p_value", Number(r.p_value)},
                         {"significant", reject}};
    }
    const st::BayesianSummary b = st::SummarizePosterior(r.difference, r.std_error);
    if (b.valid) {
      c["chance_to_beat_control"] = b.chance_to_beat_control;
      c["expected_loss"] = {{"treatment", b.expected_loss_treatment},
                            {"control", b.expected_loss_control}};
    }
    if (comparisons[i].cuped) {
      const st::CupedResult& cu = *comparisons[i].cuped;
      c["cuped"] = {{"theta", Number(cu.theta)},
                    {"variance_reduction", Number(cu.variance_reduction)},
                    {"unadjusted_std_error", Number(cu.unadjusted_std_error)}};
    }
    out_comparisons.push_back(std::move(c));
  }

  Json out = {{"metric_type", type_name},
              {"alpha", options.alpha},
              {"alternative", AlternativeName(options.alternative)},
              {"control", control.key}};
  Json summaries = Json::array();
  for (const Variant& v : variants) summaries.push_back(VariantSummary(type, v));
  out["variants"] = std::move(summaries);
  out["comparisons"] = std::move(out_comparisons);
  out["multiple_testing"] = {
      {"method", applied == st::Correction::kNone ? "none" : correction_name},
      {"comparisons", comparisons.size()}};

  if (control.weight) {
    std::vector<int64_t> counts;
    std::vector<double> weights;
    for (const Variant& v : variants) {
      counts.push_back(v.n);
      weights.push_back(*v.weight);
    }
    const st::SrmResult srm = st::SampleRatioMismatch(counts, weights, srm_threshold);
    if (srm.valid) {
      out["srm"] = {{"chi_square", srm.chi_square}, {"df", srm.df},
                    {"p_value", srm.p_value},       {"mismatch", srm.mismatch},
                    {"threshold", srm_threshold},   {"expected_counts", srm.expected_counts}};
    } else {
      out["srm"] = {{"reason", srm.reason}, {"mismatch", false}};
    }
  } else {
    out["srm"] = nullptr;
  }
  return out;
}

// -------------------------------------------------------------- design/sample-size

HandlerResult HandleDesignSampleSize(const Json& body) {
  if (!body.is_object()) return InvalidArgument("", "request body must be a JSON object");
  if (auto e = RejectUnknown(
          body, "",
          {"metric_type", "baseline_rate", "baseline_mean", "standard_deviation", "mde",
           "relative_mde", "n_control", "ratio", "alpha", "power", "alternative"})) {
    return *e;
  }
  st::PowerInputs in;
  const auto mt = body.find("metric_type");
  if (mt == body.end()) return InvalidArgument("metric_type", "is required");
  if (!mt->is_string()) return InvalidArgument("metric_type", "must be a string");
  const std::string type_name = mt->get<std::string>();
  double baseline = 0;  // for converting relative and absolute effects
  bool has_baseline = false;
  if (type_name == "binomial") {
    in.kind = st::MetricKind::kProportion;
    if (auto e = RequireNumber(body, "", "baseline_rate", &in.baseline)) return *e;
    if (!(in.baseline > 0 && in.baseline < 1))
      return InvalidArgument("baseline_rate", "must be in (0, 1)");
    if (body.contains("standard_deviation") || body.contains("baseline_mean")) {
      return InvalidArgument(
          body.contains("standard_deviation") ? "standard_deviation" : "baseline_mean",
          "only for metric_type \"mean\"");
    }
    baseline = in.baseline;
    has_baseline = true;
  } else if (type_name == "mean") {
    in.kind = st::MetricKind::kMean;
    if (auto e = RequireNumber(body, "", "standard_deviation", &in.sigma)) return *e;
    if (!(in.sigma > 0)) return InvalidArgument("standard_deviation", "must be > 0");
    if (body.contains("baseline_rate"))
      return InvalidArgument("baseline_rate", "only for metric_type \"binomial\"");
    if (auto e = ReadNumber(body, "", "baseline_mean", &baseline, &has_baseline)) return *e;
    if (has_baseline && baseline == 0) return InvalidArgument("baseline_mean", "must be non-zero");
  } else {
    return InvalidArgument("metric_type", "must be \"binomial\" or \"mean\"");
  }
  if (auto e = ReadAlpha(body, &in.alpha)) return *e;
  if (auto e = ReadAlternative(body, &in.alternative)) return *e;
  double power = 0.8;
  if (auto e = ReadNumber(body, "", "power", &power)) return *e;
  if (!(power > in.alpha && power < 1)) return InvalidArgument("power", "must be in (alpha, 1)");
  if (auto e = ReadNumber(body, "", "ratio", &in.ratio)) return *e;
  if (!(in.ratio > 0)) return InvalidArgument("ratio", "must be > 0");

  bool has_mde = false, has_relative = false, has_n = false;
  double mde = 0, relative = 0;
  if (auto e = ReadNumber(body, "", "mde", &mde, &has_mde)) return *e;
  if (auto e = ReadNumber(body, "", "relative_mde", &relative, &has_relative)) return *e;
  if (auto e = ReadNumber(body, "", "n_control", &in.n_control, &has_n)) return *e;
  if (has_mde && has_relative)
    return InvalidArgument("relative_mde", "give mde or relative_mde, not both");
  if (has_relative) {
    if (!has_baseline) return InvalidArgument("baseline_mean", "is required with relative_mde");
    mde = relative * baseline;
    has_mde = true;
  }
  if (has_mde && mde == 0)
    return InvalidArgument(has_relative ? "relative_mde" : "mde", "must be non-zero");
  if (has_n && !(in.n_control >= 2)) return InvalidArgument("n_control", "must be ≥ 2");
  if (!has_mde && !has_n)
    return InvalidArgument("mde", "give mde (or relative_mde) and/or n_control");
  in.effect = has_mde ? mde : 0.0;
  if (in.kind == st::MetricKind::kProportion && has_mde &&
      !(in.baseline + mde > 0 && in.baseline + mde < 1)) {
    return InvalidArgument(has_relative ? "relative_mde" : "mde",
                           "baseline_rate + mde must be in (0, 1)");
  }
  if (has_mde && ((in.alternative == st::Alternative::kGreater && mde < 0) ||
                  (in.alternative == st::Alternative::kLess && mde > 0))) {
    return InvalidArgument(has_relative ? "relative_mde" : "mde",
                           "has the wrong sign for the alternative");
  }

  Json out = {{"metric_type", type_name},
              {"alpha", in.alpha},
              {"alternative", AlternativeName(in.alternative)},
              {"ratio", in.ratio}};
  if (has_mde && has_n) {
    const st::PowerResult r = st::Power(in);
    if (!r.valid) return InvalidArgument("", r.reason);
    out["solved_for"] = "power";
    out["power"] = r.value;
    out["mde"] = mde;
    out["n_control"] = in.n_control;
    out["n_treatment"] = in.n_control * in.ratio;
  } else if (has_mde) {
    const st::PowerResult r = st::SampleSize(in, power);
    if (!r.valid) return InvalidArgument("mde", r.reason);
    const auto n_control = static_cast<int64_t>(std::ceil(r.value - 1e-9));
    const auto n_treatment = static_cast<int64_t>(std::ceil(r.value * in.ratio - 1e-9));
    out["solved_for"] = "sample_size";
    out["power"] = power;
    out["mde"] = mde;
    out["n_control_exact"] = r.value;
    out["n_control"] = n_control;
    out["n_treatment"] = n_treatment;
    out["n_total"] = n_control + n_treatment;
  } else {
    const st::PowerResult r = st::MinimumDetectableEffect(in, power);
    if (!r.valid) return InvalidArgument("n_control", r.reason);
    out["solved_for"] = "mde";
    out["power"] = power;
    out["n_control"] = in.n_control;
    out["n_treatment"] = in.n_control * in.ratio;
    out["mde"] = r.value;
  }
  if (has_baseline) out["relative_mde"] = out["mde"].get<double>() / baseline;
  return out;
}

// -------------------------------------------------------------- design/sequential

HandlerResult HandleDesignSequential(const Json& body) {
  if (!body.is_object()) return InvalidArgument("", "request body must be a JSON object");
  if (auto e = RejectUnknown(body, "", {"looks", "alpha", "spending", "sides"})) return *e;
  st::GroupSequentialDesign design;
  if (auto e = ReadLooks(body, "", &design.information_fractions)) return *e;
  if (auto e = ReadAlpha(body, &design.alpha)) return *e;
  std::string spending;
  if (auto e = ReadSpending(body, "", &design.spending, &spending)) return *e;
  if (const auto it = body.find("sides"); it != body.end()) {
    if (!it->is_number_integer() || (it->get<int64_t>() != 1 && it->get<int64_t>() != 2)) {
      return InvalidArgument("sides", "must be 1 or 2");
    }
    design.sides = static_cast<int>(it->get<int64_t>());
  }
  const st::GroupSequentialBoundaries b = st::LanDeMetsBoundaries(design);
  if (!b.valid) return InvalidArgument("looks", b.reason);
  Json out_looks = Json::array();
  double previous = 0.0;
  for (size_t k = 0; k < b.z.size(); ++k) {
    out_looks.push_back({{"information_fraction", design.information_fractions[k]},
                         {"z", Number(b.z[k])},
                         {"nominal_p", b.nominal_p[k]},
                         {"cumulative_alpha", b.cumulative_alpha[k]},
                         {"incremental_alpha", b.cumulative_alpha[k] - previous}});
    previous = b.cumulative_alpha[k];
  }
  return Json{{"alpha", design.alpha},
              {"spending", spending},
              {"sides", design.sides},
              {"method", "lan_demets"},
              {"looks", std::move(out_looks)}};
}

}  // namespace causeway::api
