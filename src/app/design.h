// Experiment design (docs/statistics.md, "API"): the answers of
// POST /v1/design/sample-size and POST /v1/design/sequential as plain functions.
//
//   SampleSizeOptions {metric, effect and/or n_control, alpha, power, ratio}
//     -> SolveSampleSize -> SampleSizeDesign {solved_for, power, mde, n_control, ...}
//   SequentialDesignOptions {looks, alpha, spending, sides}
//     -> DesignSequential -> SequentialDesign {one boundary per look}
//
// Policy held here:
// - which quantity is solved for follows from what is given: an effect (mde or
//   relative_mde) and n_control -> the power (stats::Power); an effect alone -> the
//   control-arm sample size for `power` (stats::SampleSize, rounded up per arm);
//   n_control alone -> the minimum detectable effect (stats::MinimumDetectableEffect);
// - relative_mde is relative to the baseline (baseline_rate, or baseline_mean for
//   means): mde = relative_mde * baseline; relative_mde is reported whenever a
//   baseline is known;
// - group-sequential boundaries are Lan-DeMets (Jennison & Turnbull 1999, ch. 7) with
//   incremental alpha = cumulative_alpha[k] - cumulative_alpha[k-1].
// Errors: InvalidArgument naming the request field ("mde", "relative_mde",
// "n_control", "looks[2]", ...); a design no finite sample reaches is
// InsufficientData naming the field solved from. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "stats/fixed_horizon.h"
#include "stats/group_sequential.h"
#include "stats/power.h"

namespace causeway::app {

// At most this many looks in a group-sequential design.
inline constexpr size_t kMaxDesignLooks = 100;

// InvalidArgument naming `field` ("looks") or its item ("looks[1]") unless `looks`
// holds 1..100 strictly increasing information fractions in (0, 1].
Status ValidateLooks(const std::vector<double>& looks, const std::string& field);

struct SampleSizeOptions {
  stats::MetricKind kind = stats::MetricKind::kProportion;  // binomial or mean
  double baseline_rate = 0;                                 // binomial: control rate in (0, 1)
  double standard_deviation = 0;                            // mean: per-user sigma > 0
  std::optional<double> baseline_mean;                      // mean: non-zero, for relative_mde
  std::optional<double> mde;                                // absolute effect, non-zero
  std::optional<double> relative_mde;  // effect relative to the baseline; not with mde
  std::optional<double> n_control;     // control-arm users, >= 2
  double ratio = 1.0;                  // n_treatment / n_control, > 0
  double alpha = 0.05;                 // in (0, 1)
  double power = 0.8;                  // in (alpha, 1)
  stats::Alternative alternative = stats::Alternative::kTwoSided;
};

enum class SolvedFor { kPower, kSampleSize, kMde };

struct SampleSizeDesign {
  stats::MetricKind kind = stats::MetricKind::kProportion;
  double alpha = 0.05;
  stats::Alternative alternative = stats::Alternative::kTwoSided;
  double ratio = 1.0;
  SolvedFor solved_for = SolvedFor::kSampleSize;
  double power = 0;  // solved (kPower) or asked
  double mde = 0;    // absolute; solved (kMde, with its sign) or asked
  // kPower, kMde: as given (n_treatment = n_control * ratio). kSampleSize: whole
  // users per arm, ceil(n_control_exact) and ceil(n_control_exact * ratio).
  double n_control = 0;
  double n_treatment = 0;
  double n_control_exact = 0;          // kSampleSize only
  int64_t n_total = 0;                 // kSampleSize only
  std::optional<double> relative_mde;  // mde / baseline when a baseline is known
};

// Chooses the quantity to solve for (see above) and solves it.
StatusOr<SampleSizeDesign> SolveSampleSize(const SampleSizeOptions& options);

struct SequentialDesignOptions {
  std::vector<double> looks;  // information fractions; ValidateLooks
  double alpha = 0.05;        // in (0, 1)
  stats::SpendingFunction spending = stats::SpendingFunction::kObrienFleming;
  int sides = 2;  // 1 or 2
};

struct SequentialLook {
  double information_fraction = 0;
  double z = 0;  // boundary; may be +inf when no alpha is spent at the look
  double nominal_p = 0;
  double cumulative_alpha = 0;
  double incremental_alpha = 0;
};

struct SequentialDesign {
  double alpha = 0.05;
  stats::SpendingFunction spending = stats::SpendingFunction::kObrienFleming;
  int sides = 2;
  std::vector<SequentialLook> looks;
};

// Lan-DeMets boundaries of the design; InvalidArgument("looks", reason) when the
// core cannot compute them.
StatusOr<SequentialDesign> DesignSequential(const SequentialDesignOptions& options);

}  // namespace causeway::app
