#include "causal/inference.h"

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace causeway::causal {
namespace {

namespace bmp = boost::math::policies;
using NoThrow =
    bmp::policy<bmp::domain_error<bmp::ignore_error>, bmp::pole_error<bmp::ignore_error>,
                bmp::overflow_error<bmp::ignore_error>, bmp::evaluation_error<bmp::ignore_error>,
                bmp::promote_double<false>>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double CriticalValue(double df, double confidence) {
  if (!(confidence > 0 && confidence < 1)) return kNaN;
  const double q = 1 - (1 - confidence) / 2;
  if (std::isinf(df))
    return boost::math::quantile(boost::math::normal_distribution<double, NoThrow>(), q);
  if (!(df > 0)) return kNaN;
  return boost::math::quantile(boost::math::students_t_distribution<double, NoThrow>(df), q);
}

Inference MakeInference(double estimate, double se, double df, double confidence) {
  Inference out;
  out.estimate = estimate;
  out.se = se;
  out.df = df;
  if (!(se > 0) || !std::isfinite(se)) {
    out.statistic = kNaN;
    out.p = kNaN;
    out.ci_lower = out.ci_upper = kNaN;
    return out;
  }
  out.statistic = estimate / se;
  const double a = std::fabs(out.statistic);
  if (std::isinf(df)) {
    out.p = 2 * boost::math::cdf(boost::math::complement(
                    boost::math::normal_distribution<double, NoThrow>(), a));
  } else if (df > 0) {
    out.p = 2 * boost::math::cdf(boost::math::complement(
                    boost::math::students_t_distribution<double, NoThrow>(df), a));
  } else {
    out.p = kNaN;
  }
  const double c = CriticalValue(df, confidence);
  out.ci_lower = estimate - c * se;
  out.ci_upper = estimate + c * se;
  return out;
}

double ChiSquareSurvival(double statistic, double df) {
  if (!(df > 0) || !std::isfinite(statistic)) return kNaN;
  if (statistic <= 0) return 1.0;
  return boost::math::cdf(boost::math::complement(
      boost::math::chi_squared_distribution<double, NoThrow>(df), statistic));
}

double FSurvival(double statistic, double df1, double df2) {
  if (!(df1 > 0) || !(df2 > 0) || !std::isfinite(statistic)) return kNaN;
  if (statistic <= 0) return 1.0;
  return boost::math::cdf(boost::math::complement(
      boost::math::fisher_f_distribution<double, NoThrow>(df1, df2), statistic));
}

}  // namespace causeway::causal
