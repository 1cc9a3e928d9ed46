// Distribution functions used across src/stats/, wrapping Boost.Math with a
// no-throw policy (errors set errno and return NaN/inf), so nothing throws out of
// the statistics core (STYLE.md "Errors"). Internal to src/stats/.
#pragma once

namespace causeway::stats::internal {

double NormalCdf(double x);       // Phi(x)
double NormalSf(double x);        // 1 - Phi(x), accurate in the upper tail
double NormalPdf(double x);       // phi(x)
double NormalQuantile(double p);  // Phi^{-1}(p); +-inf at 0/1, NaN outside [0,1]
// Student t with df degrees of freedom (df = +inf means standard normal).
double StudentTCdf(double x, double df);
double StudentTSf(double x, double df);
double StudentTQuantile(double p, double df);
// Upper tail of the chi-square distribution with df degrees of freedom.
double ChiSquareSf(double x, double df);
double FisherFSf(double f, double d1, double d2);  // upper tail of F(d1, d2); NaN for f < 0

}  // namespace causeway::stats::internal
