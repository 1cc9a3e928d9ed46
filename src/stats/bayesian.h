// Bayesian decision summaries under a normal approximation with a flat prior:
// the posterior of the effect is Delta ~ N(d, se^2), d the estimated difference and
// se its standard error (as GrowthBook and Eppo do for large samples).
//   chance to beat control  P(Delta > 0) = Phi(d / se)
//   expected loss of shipping treatment   E[max(-Delta, 0)] = se phi(d/se) - d Phi(-d/se)
//   expected loss of keeping control      E[max(Delta, 0)]  = se phi(d/se) + d Phi(d/se)
// (the risk measures of Stucchio 2015, "Bayesian A/B testing at VWO").
// Reference: numerical integration with scipy.integrate.quad.
#pragma once

#include <limits>
#include <string>

namespace causeway::stats {

struct BayesianSummary {
  bool valid = false;
  std::string reason;
  double chance_to_beat_control = std::numeric_limits<double>::quiet_NaN();
  double expected_loss_treatment = std::numeric_limits<double>::quiet_NaN();
  double expected_loss_control = std::numeric_limits<double>::quiet_NaN();
};

BayesianSummary SummarizePosterior(double difference, double std_error);

}  // namespace causeway::stats
