// Power and minimum detectable lift of a proposed geo test, by simulating it on history
// with the estimator and the inference the analysis will use (EstimateSynthetic).
//
// Placebo in time. Given a balanced history of T periods, the proposed treated units and
// a test length L, window k = 0..S-1 pretends the campaign ran in the L periods ending
// k periods before the end of history: the panel is cut after that window, its first
// T - k - L periods are the pre-periods, and the proposed units are the treated ones.
// A campaign with relative lift d multiplies the treated units' outcomes in the window by
// (1 + d). The analysis rejects "no effect" at level alpha when |tau| / se > z_{1-alpha/2}
// (the p-value and the interval of EstimateSynthetic are the same test); it detects a
// lift d > 0 when it rejects with a positive estimate (a negative one would be read as
// harm, not as the lift).
//
// Exactness. Injecting the lift changes only treated post-period cells. The unit weights
// are fit on the treated units' pre-periods, the time weights and the placebo variance on
// the controls alone, so none of them move, and tau is linear in those cells:
//   tau_k(d) = tau_k + d m_k,   m_k = mean treated outcome in window k,   se_k unchanged.
// So one estimate per window gives the whole power curve exactly, with no Monte Carlo
// over effect sizes:
//   power(d) = (1/S) #{k : tau_k + d m_k > z se_k}          (d > 0, m_k > 0)
//   power(0) = (1/S) #{k : |tau_k| > z se_k}                 (false-positive rate)
// and the minimum detectable lift is the infimum of d > 0 with power(d) >= the target:
// the ceil(power S)-th smallest window threshold max(0, (z se_k - tau_k) / m_k).
// (Negative lifts mirror this.)
//
// Assumptions: the test periods will behave like the simulated windows (no structural
// break), the lift is multiplicative and equal across treated units and periods.
// S windows give power in steps of 1/S.
#pragma once

#include <cstdint>
#include <vector>

#include "causal/panel.h"
#include "causal/result.h"
#include "causal/synthetic_control.h"

namespace causeway::causal {

struct GeoDesignOptions {
  SyntheticOptions analysis;  // method, intercept, confidence (= 1 - alpha), placebo, seed
  int test_length = 0;        // L: post-periods of the test, >= 1
  int simulations = 10;       // S: windows, ending 0..S-1 periods before the end
  double power = 0.8;         // target power for the minimum detectable lift, in (0, 1)
  // Relative lifts at which the power curve is reported (default: 0 .. 0.5).
  std::vector<double> lifts = {0,    0.01, 0.02, 0.03, 0.05, 0.075, 0.1,
                               0.15, 0.2,  0.25, 0.3,  0.4,  0.5};
  bool IsValid(std::string* error) const;
};

struct GeoWindow {
  int64_t first_period = 0;  // first simulated test period
  int64_t last_period = 0;
  int pre_periods = 0;
  double estimate = 0;  // tau with no campaign
  double se = 0;
  double baseline = 0;   // m: mean treated outcome in the window
  double threshold = 0;  // infimum of the lifts d > 0 detected in this window (+inf if none)
};

struct PowerPoint {
  double lift = 0;
  double power = 0;
};

struct GeoDesignSummary {
  double minimum_detectable_lift = 0;  // +inf when no lift reaches the power
  double minimum_detectable_att = 0;   // the lift times the mean baseline
  double baseline = 0;                 // mean over windows of m_k
  double false_positive_rate = 0;      // power(0)
  std::vector<PowerPoint> power_curve;
  std::vector<GeoWindow> windows;
  int64_t treated_units = 0, control_units = 0;
  std::vector<Warning> warnings;  // of the analysis on the latest window, plus design ones
};

// Errors: invalid options (kInvalidInput, "options.<name>"); a treated unit not in the
// history ("treated_units"); an unbalanced history; no window with at least 2
// pre-periods, fewer controls than needed for the placebo (kInsufficientData).
Result<GeoDesignSummary> DesignGeoTest(const Panel& history,
                                       const std::vector<int64_t>& treated_units,
                                       const GeoDesignOptions& options);

}  // namespace causeway::causal
