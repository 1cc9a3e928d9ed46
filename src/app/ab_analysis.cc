#include "app/ab_analysis.h"

#include <cmath>
#include <set>

#include "app/design.h"
#include "stats/always_valid.h"

namespace causeway::app {
namespace {

namespace st = causeway::stats;

constexpr size_t kMaxVariants = 100;

std::string VariantPath(size_t i) { return "variants[" + std::to_string(i) + "]"; }

double Level(double alpha) { return 1.0 - alpha; }

struct Compared {
  st::EffectResult effect;
  std::optional<st::CupedResult> cuped;
};

Compared Compare(AbMetricType type, const AbVariant& c, const AbVariant& t,
                 const st::TestOptions& options) {
  Compared out;
  switch (type) {
    case AbMetricType::kBinomial:
      out.effect = st::CompareProportions(c.n, c.conversions, t.n, t.conversions, options);
      break;
    case AbMetricType::kMean:
      if (c.cuped_mean) {
        out.cuped = st::CompareMeansCuped(*c.cuped_mean, *t.cuped_mean, options);
        out.effect = out.cuped->effect;
      } else {
        out.effect = st::CompareMeans(c.moments, t.moments, options);
      }
      break;
    case AbMetricType::kRatio:
      if (c.cuped_ratio) {
        out.cuped = st::CompareRatiosCuped(*c.cuped_ratio, *t.cuped_ratio, options);
        out.effect = out.cuped->effect;
      } else {
        out.effect = st::CompareRatios(c.ratio, t.ratio, options);
      }
      break;
  }
  return out;
}

VariantSummary Summarize(AbMetricType type, const AbVariant& v) {
  VariantSummary s{v.key, v.n, std::nullopt, kNaN, std::nullopt, v.weight};
  switch (type) {
    case AbMetricType::kBinomial:
      s.conversions = v.conversions;
      if (v.n > 0) s.estimate = static_cast<double>(v.conversions) / static_cast<double>(v.n);
      break;
    case AbMetricType::kMean:
      if (v.n > 0) s.estimate = v.moments.mean;
      s.variance = v.moments.Variance();
      break;
    case AbMetricType::kRatio: {
      std::string ignored;
      s.estimate = st::RatioArmEstimate(v.ratio, &ignored).estimate;
      break;
    }
  }
  return s;
}

}  // namespace

stats::Correction FamilyCorrection(size_t treatments, stats::Correction requested) {
  return treatments > 1 ? requested : st::Correction::kNone;
}

double GroupSequentialAlpha(double alpha, size_t treatments, stats::Correction requested) {
  if (FamilyCorrection(treatments, requested) == st::Correction::kNone) return alpha;
  return alpha / static_cast<double>(treatments);
}

bool RejectsAtLook(double p_value, double nominal_p) { return p_value <= nominal_p; }

Status ValidateAbInput(const AbInput& input, const AbOptions& options) {
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) {
    return Status::InvalidArgument("alpha", "must be in (0, 1)");
  }
  if (!(options.srm_threshold > 0.0 && options.srm_threshold < 1.0)) {
    return Status::InvalidArgument("srm_threshold", "must be in (0, 1)");
  }
  const auto& variants = input.variants;
  if (variants.size() < 2) {
    return Status::InvalidArgument("variants", "needs at least 2 variants (control first)");
  }
  if (variants.size() > kMaxVariants) {
    return Status::InvalidArgument("variants", "at most 100 variants");
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < variants.size(); ++i) {
    const AbVariant& v = variants[i];
    const std::string path = VariantPath(i);
    if (v.key.empty()) return Status::InvalidArgument(path + ".key", "must be a non-empty string");
    if (!keys.insert(v.key).second) {
      return Status::InvalidArgument(path + ".key", "duplicates another variant");
    }
    if (v.n < 0) return Status::InvalidArgument(path + ".n", "must be ≥ 0");
    if (v.weight && !(*v.weight > 0))
      return Status::InvalidArgument(path + ".weight", "must be > 0");
    if (input.type == AbMetricType::kBinomial && !(v.conversions >= 0 && v.conversions <= v.n)) {
      return Status::InvalidArgument(path + ".conversions",
                                     v.conversions < 0 ? "must be ≥ 0" : "must be ≤ n");
    }
    if (i == 0) continue;
    if (v.weight.has_value() != variants.front().weight.has_value()) {
      return Status::InvalidArgument(path + ".weight",
                                     "give a weight for every variant or for none");
    }
    if (v.has_covariate() != variants.front().has_covariate()) {
      return Status::InvalidArgument(
          path, "give covariate (CUPED) statistics for every variant or for none");
    }
  }
  if (options.always_valid && options.group_sequential) {
    return Status::InvalidArgument("sequential.method",
                                   "choose always_valid or group_sequential, not both");
  }
  if (options.always_valid) {
    if (!(options.always_valid->expected_n >= 1.0)) {
      return Status::InvalidArgument("sequential.expected_n", "must be ≥ 1");
    }
    if (options.alternative != st::Alternative::kTwoSided && !(options.alpha < 0.5)) {
      return Status::InvalidArgument("alpha", "must be < 0.5 for a one-sided sequential test");
    }
  }
  if (options.group_sequential) {
    const auto& looks = options.group_sequential->looks;
    if (Status s = ValidateLooks(looks, "sequential.looks"); !s.ok()) return s;
    const int look = options.group_sequential->current_look;
    if (look < 1 || look > static_cast<int>(looks.size())) {
      return Status::InvalidArgument("sequential.current_look",
                                     "must be between 1 and the number of looks");
    }
  }
  return Status::Ok();
}

StatusOr<AbSummary> AnalyzeAb(const AbInput& input, const AbOptions& options) {
  if (Status s = ValidateAbInput(input, options); !s.ok()) return s;
  const st::TestOptions test{options.alpha, options.alternative};
  const AbVariant& control = input.variants.front();
  const size_t m = input.variants.size() - 1;

  AbSummary out;
  out.type = input.type;
  out.alpha = options.alpha;
  out.alternative = options.alternative;
  out.control = control.key;
  out.srm_threshold = options.srm_threshold;
  out.correction_applied = FamilyCorrection(m, options.correction);
  for (const AbVariant& v : input.variants) out.variants.push_back(Summarize(input.type, v));

  // Group sequential: Bonferroni across treatments (GroupSequentialAlpha).
  std::optional<st::GroupSequentialBoundaries> bounds;
  st::GroupSequentialDesign design;
  if (options.group_sequential) {
    design.information_fractions = options.group_sequential->looks;
    design.spending = options.group_sequential->spending;
    design.sides = options.alternative == st::Alternative::kTwoSided ? 2 : 1;
    design.alpha = GroupSequentialAlpha(options.alpha, m, options.correction);
    bounds = st::LanDeMetsBoundaries(design);
    if (!bounds->valid) return Status::InvalidArgument("sequential.looks", bounds->reason);
  }

  // Fixed-horizon and always-valid p-values: each its own family.
  std::vector<double> p_fixed, p_seq;
  for (size_t i = 1; i <= m; ++i) {
    const AbVariant& treatment = input.variants[i];
    const Compared compared = Compare(input.type, control, treatment, test);
    const st::EffectResult& r = compared.effect;
    AbComparison c;
    c.variant = treatment.key;
    c.control = control.key;
    c.valid = r.valid;
    c.reason = r.reason;
    p_fixed.push_back(r.valid ? r.p_value : 1.0);
    if (options.always_valid) {
      st::AlwaysValidOptions av{options.alpha, options.always_valid->expected_n,
                                options.alternative};
      const double total = static_cast<double>(control.n + treatment.n);
      const st::AlwaysValidResult s = st::AlwaysValid(r, total, av);
      p_seq.push_back(s.valid ? s.p_value : 1.0);
      if (r.valid) {
        AlwaysValidComparison a;
        a.expected_n = av.expected_n;
        a.valid = s.valid;
        a.reason = s.reason;
        if (s.valid) {
          a.rho = s.rho;
          a.p_value = s.p_value;
          a.absolute = {r.difference, r.std_error, s.ci, Level(options.alpha), s.p_value};
          if (s.relative_valid) {
            a.relative = Inference{r.relative, r.relative_std_error, s.relative_ci,
                                   Level(options.alpha), s.p_value};
          }
        }
        c.always_valid = a;
      }
    }
    if (r.valid) {
      c.absolute = {r.difference, r.std_error, r.ci, Level(options.alpha), r.p_value};
      c.statistic = r.statistic;
      c.df = r.df;
      c.relative_valid = r.relative_valid;
      c.relative_reason = r.relative_reason;
      if (r.relative_valid) {
        // H0 "no relative effect" is H0 "no absolute effect": the same test.
        c.relative = {r.relative, r.relative_std_error, r.relative_ci, Level(options.alpha),
                      r.p_value};
      }
      c.p_value = r.p_value;
      c.cuped = compared.cuped;
      if (bounds) {
        const size_t k = static_cast<size_t>(options.group_sequential->current_look) - 1;
        GroupSequentialComparison g;
        g.spending = design.spending;
        g.look = options.group_sequential->current_look;
        g.information_fraction = design.information_fractions[k];
        g.alpha = design.alpha;
        g.z_boundary = bounds->z[k];
        g.nominal_p = bounds->nominal_p[k];
        g.cumulative_alpha = bounds->cumulative_alpha[k];
        g.p_value = r.p_value;
        g.significant = RejectsAtLook(r.p_value, bounds->nominal_p[k]);
        c.group_sequential = g;
      }
      const st::BayesianSummary b = st::SummarizePosterior(r.difference, r.std_error);
      if (b.valid) c.bayesian = b;
    }
    out.comparisons.push_back(std::move(c));
  }
  const std::vector<double> fixed_adj = st::AdjustPValues(p_fixed, out.correction_applied);
  const std::vector<double> seq_adj = st::AdjustPValues(p_seq, out.correction_applied);
  for (size_t i = 0; i < m; ++i) {
    AbComparison& c = out.comparisons[i];
    if (!c.valid) continue;
    c.p_value_adjusted = fixed_adj[i];
    c.significant = fixed_adj[i] < options.alpha;
    if (c.always_valid && c.always_valid->valid) {
      c.always_valid->p_value_adjusted = seq_adj[i];
      c.always_valid->significant = seq_adj[i] < options.alpha;
    }
  }

  if (control.weight) {
    std::vector<int64_t> counts;
    std::vector<double> weights;
    for (const AbVariant& v : input.variants) {
      counts.push_back(v.n);
      weights.push_back(*v.weight);
    }
    out.srm = st::SampleRatioMismatch(counts, weights, options.srm_threshold);
  }
  return out;
}

}  // namespace causeway::app
