#include "app/design.h"

#include <cmath>

namespace causeway::app {
namespace {

namespace st = causeway::stats;

// The baseline that relative effects are relative to, when one is known.
std::optional<double> Baseline(const SampleSizeOptions& o) {
  if (o.kind == st::MetricKind::kProportion) return o.baseline_rate;
  return o.baseline_mean;
}

// The per-field rules, in the order the API reports them.
Status ValidateFields(const SampleSizeOptions& o) {
  if (o.kind == st::MetricKind::kProportion) {
    if (!(o.baseline_rate > 0 && o.baseline_rate < 1)) {
      return Status::InvalidArgument("baseline_rate", "must be in (0, 1)");
    }
  } else {
    if (!(o.standard_deviation > 0)) {
      return Status::InvalidArgument("standard_deviation", "must be > 0");
    }
    if (o.baseline_mean && *o.baseline_mean == 0) {
      return Status::InvalidArgument("baseline_mean", "must be non-zero");
    }
  }
  if (!(o.alpha > 0 && o.alpha < 1)) return Status::InvalidArgument("alpha", "must be in (0, 1)");
  if (!(o.power > o.alpha && o.power < 1)) {
    return Status::InvalidArgument("power", "must be in (alpha, 1)");
  }
  if (!(o.ratio > 0)) return Status::InvalidArgument("ratio", "must be > 0");
  return Status::Ok();
}

}  // namespace

Status ValidateLooks(const std::vector<double>& looks, const std::string& field) {
  if (looks.empty()) return Status::InvalidArgument(field, "must be a non-empty array");
  if (looks.size() > kMaxDesignLooks) return Status::InvalidArgument(field, "at most 100 looks");
  for (size_t i = 0; i < looks.size(); ++i) {
    const std::string item = field + "[" + std::to_string(i) + "]";
    if (!(looks[i] > 0 && looks[i] <= 1)) return Status::InvalidArgument(item, "must be in (0, 1]");
    if (i > 0 && !(looks[i] > looks[i - 1])) {
      return Status::InvalidArgument(
          item, "must be greater than the previous look (looks must increase)");
    }
  }
  return Status::Ok();
}

StatusOr<SampleSizeDesign> SolveSampleSize(const SampleSizeOptions& o) {
  if (Status s = ValidateFields(o); !s.ok()) return s;
  const std::optional<double> baseline = Baseline(o);
  const bool has_mde = o.mde.has_value(), has_relative = o.relative_mde.has_value(),
             has_n = o.n_control.has_value();
  const char* mde_field = has_relative ? "relative_mde" : "mde";
  if (has_mde && has_relative) {
    return Status::InvalidArgument("relative_mde", "give mde or relative_mde, not both");
  }
  double mde = o.mde.value_or(0.0);
  if (has_relative) {
    if (!baseline) return Status::InvalidArgument("baseline_mean", "is required with relative_mde");
    mde = *o.relative_mde * *baseline;
  }
  const bool solve_with_mde = has_mde || has_relative;
  if (solve_with_mde && mde == 0) return Status::InvalidArgument(mde_field, "must be non-zero");
  if (has_n && !(*o.n_control >= 2)) return Status::InvalidArgument("n_control", "must be ≥ 2");
  if (!solve_with_mde && !has_n) {
    return Status::InvalidArgument("mde", "give mde (or relative_mde) and/or n_control");
  }
  if (o.kind == st::MetricKind::kProportion && solve_with_mde &&
      !(o.baseline_rate + mde > 0 && o.baseline_rate + mde < 1)) {
    return Status::InvalidArgument(mde_field, "baseline_rate + mde must be in (0, 1)");
  }
  if (solve_with_mde && ((o.alternative == st::Alternative::kGreater && mde < 0) ||
                         (o.alternative == st::Alternative::kLess && mde > 0))) {
    return Status::InvalidArgument(mde_field, "has the wrong sign for the alternative");
  }

  st::PowerInputs in;
  in.kind = o.kind;
  in.baseline = o.kind == st::MetricKind::kProportion ? o.baseline_rate : 0.0;
  in.sigma = o.kind == st::MetricKind::kMean ? o.standard_deviation : 0.0;
  in.effect = solve_with_mde ? mde : 0.0;
  in.n_control = o.n_control.value_or(0.0);
  in.ratio = o.ratio;
  in.alpha = o.alpha;
  in.alternative = o.alternative;

  SampleSizeDesign out;
  out.kind = o.kind;
  out.alpha = o.alpha;
  out.alternative = o.alternative;
  out.ratio = o.ratio;
  out.power = o.power;
  out.mde = mde;
  // A design the inputs cannot give (e.g. no finite sample size reaches the power)
  // is a question the data cannot answer, naming the field solved from.
  if (solve_with_mde && has_n) {
    const st::PowerResult p = st::Power(in);
    if (!p.valid) return Status::InsufficientData(p.reason, "n_control");
    out.solved_for = SolvedFor::kPower;
    out.power = p.value;
    out.n_control = in.n_control;
    out.n_treatment = in.n_control * in.ratio;
  } else if (solve_with_mde) {
    const st::PowerResult p = st::SampleSize(in, o.power);
    if (!p.valid) return Status::InsufficientData(p.reason, mde_field);
    const auto n_control = static_cast<int64_t>(std::ceil(p.value - 1e-9));
    const auto n_treatment = static_cast<int64_t>(std::ceil(p.value * in.ratio - 1e-9));
    out.solved_for = SolvedFor::kSampleSize;
    out.n_control_exact = p.value;
    out.n_control = static_cast<double>(n_control);
    out.n_treatment = static_cast<double>(n_treatment);
    out.n_total = n_control + n_treatment;
  } else {
    const st::PowerResult p = st::MinimumDetectableEffect(in, o.power);
    if (!p.valid) return Status::InsufficientData(p.reason, "n_control");
    out.solved_for = SolvedFor::kMde;
    out.n_control = in.n_control;
    out.n_treatment = in.n_control * in.ratio;
    out.mde = p.value;
  }
  if (baseline) out.relative_mde = out.mde / *baseline;
  return out;
}

StatusOr<SequentialDesign> DesignSequential(const SequentialDesignOptions& o) {
  if (Status s = ValidateLooks(o.looks, "looks"); !s.ok()) return s;
  if (!(o.alpha > 0 && o.alpha < 1)) return Status::InvalidArgument("alpha", "must be in (0, 1)");
  if (o.sides != 1 && o.sides != 2) return Status::InvalidArgument("sides", "must be 1 or 2");
  st::GroupSequentialDesign design;
  design.information_fractions = o.looks;
  design.alpha = o.alpha;
  design.spending = o.spending;
  design.sides = o.sides;
  const st::GroupSequentialBoundaries b = st::LanDeMetsBoundaries(design);
  if (!b.valid) return Status::InvalidArgument("looks", b.reason);
  SequentialDesign out;
  out.alpha = o.alpha;
  out.spending = o.spending;
  out.sides = o.sides;
  double previous = 0.0;
  for (size_t k = 0; k < b.z.size(); ++k) {
    out.looks.push_back({o.looks[k], b.z[k], b.nominal_p[k], b.cumulative_alpha[k],
                         b.cumulative_alpha[k] - previous});
    previous = b.cumulative_alpha[k];
  }
  return out;
}

}  // namespace causeway::app
