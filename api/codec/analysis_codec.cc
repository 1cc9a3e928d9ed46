#include "api/codec/analysis_codec.h"

#include <cmath>

namespace causeway::api {

Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json EncodeInference(const app::Inference& x) {
  return Json{
      {"estimate", Number(x.estimate)},
      {"std_error", Number(x.std_error)},
      {"ci",
       {{"lower", Number(x.ci.lower)}, {"upper", Number(x.ci.upper)}, {"level", Number(x.level)}}},
      {"p_value", Number(x.p_value)}};
}

namespace {

// The inference fields of an answer the data cannot give.
Json NullInference() {
  return Json{{"estimate", nullptr}, {"std_error", nullptr}, {"ci", nullptr}, {"p_value", nullptr}};
}

Json EncodeAlwaysValid(const app::AlwaysValidComparison& a) {
  Json j = {{"method", "always_valid"}, {"expected_n", a.expected_n}, {"valid", a.valid}};
  if (!a.valid) {
    j["reason"] = a.reason;
    j["absolute"] = nullptr;
    j["relative"] = nullptr;
    j["p_value"] = nullptr;
    j["p_value_adjusted"] = nullptr;
    j["significant"] = false;
    return j;
  }
  j["rho"] = Number(a.rho);
  j["absolute"] = EncodeInference(a.absolute);
  j["relative"] = a.relative ? EncodeInference(*a.relative) : Json(nullptr);
  j["p_value"] = Number(a.p_value);
  j["p_value_adjusted"] = Number(a.p_value_adjusted);
  j["significant"] = a.significant;
  return j;
}

Json EncodeGroupSequential(const app::GroupSequentialComparison& g) {
  Json j{{"method", "group_sequential"},
         {"spending", SpendingName(g.spending)},
         {"look", g.look},
         {"information_fraction", g.information_fraction},
         {"alpha", g.alpha},
         {"z_boundary", Number(g.z_boundary)},
         {"nominal_p", Number(g.nominal_p)},
         {"cumulative_alpha", Number(g.cumulative_alpha)},
         {"p_value", Number(g.p_value)},
         {"significant", g.significant}};
  // The report's monitoring adds the repeated confidence interval of the look.
  if (g.absolute) j["absolute"] = EncodeInference(*g.absolute);
  if (g.absolute) j["relative"] = g.relative ? EncodeInference(*g.relative) : Json();
  if (g.absolute) j["crossed_look"] = g.crossed_look ? Json(*g.crossed_look) : Json();
  return j;
}

}  // namespace

Json EncodeVariantSummary(const app::VariantSummary& v) {
  Json j = {{"key", v.key}, {"n", v.n}};
  if (v.conversions) j["conversions"] = *v.conversions;
  j["estimate"] = Number(v.estimate);
  if (v.variance) j["variance"] = Number(*v.variance);
  if (v.weight) j["weight"] = *v.weight;
  return j;
}

Json EncodeComparison(const app::AbComparison& c) {
  Json j = {{"variant", c.variant}, {"control", c.control}, {"valid", c.valid}};
  if (!c.valid) {
    j["reason"] = c.reason;
    j["absolute"] = nullptr;
    j["relative"] = nullptr;
    j["p_value"] = nullptr;
    j["p_value_adjusted"] = nullptr;
    j["significant"] = false;
    return j;
  }
  j["absolute"] = EncodeInference(c.absolute);
  j["absolute"]["statistic"] = Number(c.statistic);
  j["absolute"]["df"] = Number(c.df);
  if (c.relative_valid) {
    j["relative"] = EncodeInference(c.relative);
    j["relative"]["valid"] = true;
  } else {
    j["relative"] = NullInference();
    j["relative"]["valid"] = false;
    j["relative"]["reason"] = c.relative_reason;
  }
  j["p_value"] = Number(c.p_value);
  j["p_value_adjusted"] = Number(c.p_value_adjusted);
  j["significant"] = c.significant;
  if (c.always_valid) j["sequential"] = EncodeAlwaysValid(*c.always_valid);
  if (c.group_sequential) j["sequential"] = EncodeGroupSequential(*c.group_sequential);
  if (c.bayesian) {
    j["chance_to_beat_control"] = c.bayesian->chance_to_beat_control;
    j["expected_loss"] = {{"treatment", c.bayesian->expected_loss_treatment},
                          {"control", c.bayesian->expected_loss_control}};
  }
  if (c.cuped) {
    j["cuped"] = {{"theta", Number(c.cuped->theta)},
                  {"variance_reduction", Number(c.cuped->variance_reduction)},
                  {"unadjusted_std_error", Number(c.cuped->unadjusted_std_error)}};
  }
  return j;
}

std::string_view AlternativeName(stats::Alternative a) {
  switch (a) {
    case stats::Alternative::kGreater:
      return "greater";
    case stats::Alternative::kLess:
      return "less";
    case stats::Alternative::kTwoSided:
      break;
  }
  return "two_sided";
}

std::string_view CorrectionName(stats::Correction c) {
  switch (c) {
    case stats::Correction::kHolm:
      return "holm";
    case stats::Correction::kBenjaminiHochberg:
      return "benjamini_hochberg";
    case stats::Correction::kNone:
      break;
  }
  return "none";
}

std::string_view SpendingName(stats::SpendingFunction s) {
  return s == stats::SpendingFunction::kPocock ? "pocock" : "obrien_fleming";
}

std::string_view AbMetricTypeName(app::AbMetricType t) {
  switch (t) {
    case app::AbMetricType::kMean:
      return "mean";
    case app::AbMetricType::kRatio:
      return "ratio";
    case app::AbMetricType::kBinomial:
      break;
  }
  return "binomial";
}

}  // namespace causeway::api
