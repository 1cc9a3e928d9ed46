#include "stats/bayesian.h"

#include <cmath>

#include "stats/distributions.h"

namespace causeway::stats {

BayesianSummary SummarizePosterior(double difference, double std_error) {
  BayesianSummary s;
  if (!std::isfinite(difference) || !std::isfinite(std_error) || !(std_error > 0.0)) {
    s.reason = "needs a finite effect and a positive standard error";
    return s;
  }
  const double z = difference / std_error;
  const double density = internal::NormalPdf(z);
  s.chance_to_beat_control = internal::NormalCdf(z);
  s.expected_loss_treatment = std_error * density - difference * internal::NormalCdf(-z);
  s.expected_loss_control = std_error * density + difference * internal::NormalCdf(z);
  s.valid = true;
  return s;
}

}  // namespace causeway::stats
