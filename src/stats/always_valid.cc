#include "stats/always_valid.h"

#include <cmath>

namespace causeway::stats {
namespace {

// Half-width of the confidence sequence for an estimate with standard error se.
double HalfWidth(double se, double n, double rho, double alpha, bool two_sided) {
  const double nr2 = n * rho * rho;
  const double log_term = two_sided ? std::log(std::sqrt(nr2 + 1.0) / alpha)
                                    : std::log1p(std::sqrt(nr2 + 1.0) / (2.0 * alpha));
  // s^2 = se^2 n, so s^2 * 2 (n rho^2 + 1) / (n rho)^2 = se^2 * 2 (n rho^2 + 1) / (n rho^2).
  return se * std::sqrt(2.0 * (nr2 + 1.0) / nr2 * log_term);
}

Interval SequenceInterval(double estimate, double se, double n, double rho,
                          const AlwaysValidOptions& o) {
  const bool two_sided = o.alternative == Alternative::kTwoSided;
  const double hw = HalfWidth(se, n, rho, o.alpha, two_sided);
  Interval ci;
  if (o.alternative != Alternative::kLess) ci.lower = estimate - hw;
  if (o.alternative != Alternative::kGreater) ci.upper = estimate + hw;
  return ci;
}

}  // namespace

bool AlwaysValidOptions::IsValid(std::string* error) const {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    if (error) *error = "alpha must be in (0, 1)";
    return false;
  }
  if (alternative != Alternative::kTwoSided && !(alpha < 0.5)) {
    if (error) *error = "one-sided sequential tests need alpha < 0.5";
    return false;
  }
  if (!(expected_n > 0.0) || !std::isfinite(expected_n)) {
    if (error) *error = "expected_n must be positive";
    return false;
  }
  return true;
}

double MixtureRho(double alpha, double expected_n, bool two_sided) {
  const double a = two_sided ? alpha : 2.0 * alpha;
  const double l = -2.0 * std::log(a);
  return std::sqrt((l + std::log(l + 1.0)) / expected_n);
}

AlwaysValidResult AlwaysValid(const EffectResult& effect, double total_n,
                              const AlwaysValidOptions& options) {
  AlwaysValidResult r;
  if (!options.IsValid(&r.reason)) return r;
  if (!effect.valid) {
    r.reason = effect.reason;
    return r;
  }
  if (!(total_n >= 2.0)) {
    r.reason = "need at least 2 users";
    return r;
  }
  if (!(effect.std_error > 0.0)) {
    r.reason = "zero standard error";
    return r;
  }
  const bool two_sided = options.alternative == Alternative::kTwoSided;
  r.rho = MixtureRho(options.alpha, options.expected_n, two_sided);
  const double n = total_n, rho = r.rho, nr2 = n * rho * rho;
  r.ci = SequenceInterval(effect.difference, effect.std_error, n, rho, options);
  const double z = effect.difference / effect.std_error;
  if (two_sided) {
    // ln E_N = rho^2 S^2 / (2 (N rho^2 + 1)) - ln sqrt(N rho^2 + 1), S^2 = z^2 N.
    const double log_e = nr2 * z * z / (2.0 * (nr2 + 1.0)) - 0.5 * std::log1p(nr2);
    r.p_value = std::min(1.0, std::exp(-log_e));
  } else {
    // Invert the one-sided half-width: hw(alpha') = |estimate| on the alternative side.
    const double signed_z = options.alternative == Alternative::kGreater ? z : -z;
    if (signed_z <= 0.0) {
      r.p_value = 1.0;
    } else {
      const double l = signed_z * signed_z * nr2 / (2.0 * (nr2 + 1.0));
      r.p_value = std::min(1.0, std::sqrt(nr2 + 1.0) / (2.0 * std::expm1(l)));
    }
  }
  if (effect.relative_valid && effect.relative_std_error > 0.0) {
    r.relative_valid = true;
    r.relative_ci = SequenceInterval(effect.relative, effect.relative_std_error, n, rho, options);
  }
  r.valid = true;
  return r;
}

}  // namespace causeway::stats
