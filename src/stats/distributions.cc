#include "stats/distributions.h"

#include <cmath>
#include <limits>

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>

namespace causeway::stats::internal {
namespace {

namespace bmp = boost::math::policies;
using NoThrow =
    bmp::policy<bmp::domain_error<bmp::errno_on_error>, bmp::pole_error<bmp::errno_on_error>,
                bmp::overflow_error<bmp::errno_on_error>,
                bmp::evaluation_error<bmp::errno_on_error>,
                bmp::rounding_error<bmp::errno_on_error>, bmp::promote_double<false>>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSqrt2 = 1.41421356237309504880;
// Above this many degrees of freedom the t and normal quantiles agree to < 1e-9.
constexpr double kNormalDf = 1e12;

}  // namespace

double NormalCdf(double x) { return 0.5 * std::erfc(-x / kSqrt2); }
double NormalSf(double x) { return 0.5 * std::erfc(x / kSqrt2); }
double NormalPdf(double x) { return 0.39894228040143267794 * std::exp(-0.5 * x * x); }

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0.0 || p > 1.0) return kNaN;
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  // Phi^{-1}(p) = -sqrt(2) erfc^{-1}(2p); erfc_inv is accurate in both tails.
  return -kSqrt2 * boost::math::erfc_inv(2.0 * p, NoThrow());
}

double StudentTCdf(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || df <= 0.0) return kNaN;
  if (df >= kNormalDf) return NormalCdf(x);
  if (std::isinf(x)) return x > 0 ? 1.0 : 0.0;
  return boost::math::cdf(boost::math::students_t_distribution<double, NoThrow>(df), x);
}

double StudentTSf(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || df <= 0.0) return kNaN;
  if (df >= kNormalDf) return NormalSf(x);
  if (std::isinf(x)) return x > 0 ? 0.0 : 1.0;
  return boost::math::cdf(
      boost::math::complement(boost::math::students_t_distribution<double, NoThrow>(df), x));
}

double StudentTQuantile(double p, double df) {
  if (std::isnan(p) || p < 0.0 || p > 1.0 || std::isnan(df) || df <= 0.0) return kNaN;
  if (df >= kNormalDf) return NormalQuantile(p);
  if (p == 0.0) return -kInf;
  if (p == 1.0) return kInf;
  return boost::math::quantile(boost::math::students_t_distribution<double, NoThrow>(df), p);
}

double FisherFSf(double f, double d1, double d2) {
  if (!(f >= 0.0) || !(d1 > 0.0) || !(d2 > 0.0)) return kNaN;
  const boost::math::fisher_f_distribution<double, NoThrow> dist(d1, d2);
  return boost::math::cdf(boost::math::complement(dist, f));
}

double ChiSquareSf(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || df <= 0.0) return kNaN;
  if (x <= 0.0) return 1.0;
  if (std::isinf(x)) return 0.0;
  return boost::math::gamma_q(df / 2.0, x / 2.0, NoThrow());
}

}  // namespace causeway::stats::internal
