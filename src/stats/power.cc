#include "stats/power.h"

#include <cmath>

#include "stats/distributions.h"

namespace causeway::stats {
namespace {

using internal::NormalCdf;
using internal::NormalQuantile;
using internal::NormalSf;

// Power at n_control and delta; assumes validated inputs.
double PowerAt(const PowerInputs& in, double n_control, double delta) {
  const double nc = n_control, nt = n_control * in.ratio;
  double se0, se1;
  if (in.kind == MetricKind::kMean) {
    se0 = se1 = in.sigma * std::sqrt(1.0 / nc + 1.0 / nt);
  } else {
    const double pc = in.baseline, pt = in.baseline + delta;
    const double pbar = (nc * pc + nt * pt) / (nc + nt);
    se0 = std::sqrt(pbar * (1.0 - pbar) * (1.0 / nc + 1.0 / nt));
    se1 = std::sqrt(pc * (1.0 - pc) / nc + pt * (1.0 - pt) / nt);
  }
  switch (in.alternative) {
    case Alternative::kGreater:
      return NormalSf((NormalQuantile(1.0 - in.alpha) * se0 - delta) / se1);
    case Alternative::kLess:
      return NormalCdf((-NormalQuantile(1.0 - in.alpha) * se0 - delta) / se1);
    case Alternative::kTwoSided:
      break;
  }
  const double q = NormalQuantile(1.0 - in.alpha / 2.0);
  return NormalSf((q * se0 - delta) / se1) + NormalCdf((-q * se0 - delta) / se1);
}

PowerResult Fail(std::string reason) { return PowerResult{false, std::move(reason), std::nan("")}; }

}  // namespace

bool PowerInputs::IsValid(std::string* error) const {
  auto fail = [&](const char* m) {
    if (error) *error = m;
    return false;
  };
  if (!(alpha > 0.0 && alpha < 1.0)) return fail("alpha must be in (0, 1)");
  if (!(ratio > 0.0) || !std::isfinite(ratio)) return fail("ratio must be positive");
  if (kind == MetricKind::kProportion) {
    if (!(baseline > 0.0 && baseline < 1.0)) return fail("baseline must be in (0, 1)");
    if (!(baseline + effect >= 0.0 && baseline + effect <= 1.0))
      return fail("baseline + effect must be in [0, 1]");
  } else {
    if (!(sigma > 0.0) || !std::isfinite(sigma)) return fail("sigma must be positive");
  }
  if (!std::isfinite(effect)) return fail("effect must be finite");
  return true;
}

PowerResult Power(const PowerInputs& inputs) {
  std::string error;
  if (!inputs.IsValid(&error)) return Fail(error);
  if (!(inputs.n_control >= 1.0)) return Fail("n_control must be at least 1");
  return PowerResult{true, "", PowerAt(inputs, inputs.n_control, inputs.effect)};
}

PowerResult SampleSize(const PowerInputs& inputs, double power) {
  std::string error;
  if (!inputs.IsValid(&error)) return Fail(error);
  if (!(power > inputs.alpha && power < 1.0)) return Fail("power must be in (alpha, 1)");
  if (inputs.effect == 0.0) return Fail("effect must be non-zero");
  if ((inputs.alternative == Alternative::kGreater && inputs.effect < 0) ||
      (inputs.alternative == Alternative::kLess && inputs.effect > 0)) {
    return Fail("effect is in the direction the one-sided test cannot detect");
  }
  // Power increases in n; bracket on the log scale.
  double lo = 1.0, hi = 2.0;
  while (PowerAt(inputs, hi, inputs.effect) < power) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e15) return Fail("required sample size exceeds 1e15");
  }
  if (PowerAt(inputs, lo, inputs.effect) >= power) return PowerResult{true, "", lo};
  for (int it = 0; it < 200 && hi - lo > 1e-9 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (PowerAt(inputs, mid, inputs.effect) < power ? lo : hi) = mid;
  }
  return PowerResult{true, "", 0.5 * (lo + hi)};
}

PowerResult MinimumDetectableEffect(const PowerInputs& inputs, double power) {
  std::string error;
  if (!inputs.IsValid(&error)) return Fail(error);
  if (!(inputs.n_control >= 1.0)) return Fail("n_control must be at least 1");
  if (!(power > inputs.alpha && power < 1.0)) return Fail("power must be in (alpha, 1)");
  double sign = inputs.effect < 0 ? -1.0 : 1.0;
  if (inputs.alternative == Alternative::kGreater) sign = 1.0;
  if (inputs.alternative == Alternative::kLess) sign = -1.0;
  double max_abs;
  if (inputs.kind == MetricKind::kProportion) {
    max_abs = sign > 0 ? 1.0 - inputs.baseline : inputs.baseline;
  } else {
    max_abs = 1e6 * inputs.sigma;
  }
  double lo = 0.0, hi = max_abs;
  if (PowerAt(inputs, inputs.n_control, sign * hi) < power)
    return Fail("no effect reaches this power");
  for (int it = 0; it < 200 && hi - lo > 1e-13 * max_abs; ++it) {
    const double mid = 0.5 * (lo + hi);
    (PowerAt(inputs, inputs.n_control, sign * mid) < power ? lo : hi) = mid;
  }
  return PowerResult{true, "", sign * 0.5 * (lo + hi)};
}

}  // namespace causeway::stats
