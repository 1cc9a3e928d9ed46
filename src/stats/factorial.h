// Factorial (multivariate) experiments: main effects, interactions, ANOVA and
// combination-vs-baseline contrasts from per-cell sufficient statistics.
//
// Estimand: the coefficients of the linear model for a per-user metric y
//   y_i = x_{c(i)}' beta + e_i,   E[e_i] = 0,
// where c(i) is user i's cell (combination of treatment-factor levels and, optionally,
// additive block levels) and x_c is R's default treatment coding (contr.treatment):
// an intercept, one dummy per non-baseline level of each block and factor (level 0 is
// the baseline), and for each interaction term the products of its factors' dummies.
// With the full model the intercept is the all-baseline cell mean and each contrast
// "combination vs all-baseline" is a difference of cell means.
//
// Sufficient statistics. Cell c has n_c users, mean ybar_c and M2_c = sum (y_i - ybar_c)^2.
// Every user of a cell has the same regressor row, so with W = diag(n_c)
//   X'X = sum_c n_c x_c x_c' = X_c' W X_c,   X'y = X_c' W ybar,
// and individual-level OLS is weighted least squares on the cell means:
//   beta_hat = (X_c' W X_c)^{-1} X_c' W ybar.
// Residual sum of squares: with fitted cell value f_c = x_c' beta_hat,
//   sum_{i in c} (y_i - f_c)^2 = sum_{i in c} (y_i - ybar_c)^2 + n_c (ybar_c - f_c)^2
// (the cross term sum_{i in c} (y_i - ybar_c) vanishes), so
//   RSS = sum_c M2_c  +  sum_c n_c (ybar_c - f_c)^2      (pure error + lack of fit).
// Classical: s^2 = RSS / (N - p), Cov = s^2 (X'WX)^{-1}, p the number of estimated
// (non-aliased) coefficients, t = estimate / SE with t_{N-p} p-values (R's summary.lm).
// HC1 sandwich (MacKinnon & White 1985; sandwich::vcovHC(type = "HC1")) exactly:
//   meat = sum_i x_i x_i' e_i^2 = sum_c x_c x_c' (M2_c + n_c (ybar_c - f_c)^2),
//   Cov_HC1 = N / (N - p) (X'WX)^{-1} meat (X'WX)^{-1};
// robust t = estimate / SE_HC1, p-value and interval from t_{N-p} (as
// lmtest::coeftest(fit, vcovHC(fit, "HC1")) reports them).
// Sequential (type I) ANOVA as R's anova(lm) and aov: terms in R's order (blocks, then
// main effects, two-way, three-way ..., within an order by the factors' positions),
// SS_term = RSS(terms before it) - RSS(terms up to it), computed as the squared
// "effects" Q'(W^{1/2} ybar) of a Householder QR of W^{1/2} X_c taken column by column
// (R's dqrdc2); F = (SS_term / df_term) / s^2 with an F(df_term, N - p) p-value.
// The ANOVA F tests assume a common error variance; the HC1 SEs do not.
// Aliasing: a column whose residual norm after projecting on the earlier columns is
// below 1e-7 of its own norm (R's lm tolerance) is aliased. By default that makes the
// result invalid; with allow_aliased it is dropped and reported as aliased, as lm does
// (needed for npk, where N:P:K is confounded with blocks); a contrast that loads on a
// non-estimable direction is then reported as not estimable.
// Assumptions: independent users; finite variances; inference is large-sample for the
// HC1 SEs and exact under normal homoscedastic errors for the classical ones.
// References: R lm, summary.lm, anova.lm, sandwich::vcovHC (Zeileis 2004, JSS 11(10));
// checked against R on npk and on seeded data (tests/reference/stats/factorial.R).
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "stats/moments.h"

namespace causeway::stats {

// A treatment or block factor. levels[0] is the baseline; at least 2 levels.
struct Factor {
  std::string name;
  std::vector<std::string> levels;
};

// One observed combination: the level index of each treatment factor (levels), of
// each block factor (block_levels), and the metric's moments over its users. Several
// cells may share a combination (e.g. one per day); they add up exactly.
struct FactorialCell {
  std::vector<int> levels;
  std::vector<int> block_levels;
  MomentStats stats;
};

enum class FactorialTerms {
  kMainEffects,  // y ~ blocks + A + B + C
  kTwoWay,       // y ~ blocks + (A + B + C)^2
  kFull,         // y ~ blocks + A * B * C
};

struct FactorialOptions {
  FactorialTerms terms = FactorialTerms::kFull;
  // Drop aliased (non-estimable) columns as R's lm does instead of failing.
  bool allow_aliased = false;
  double alpha = 0.05;  // robust intervals are estimate -/+ t_{N-p, 1-alpha/2} SE_HC1

  bool IsValid(std::string* error) const;
};

struct FactorialInput {
  std::vector<Factor> factors;  // treatment factors, at least one
  std::vector<Factor> blocks;   // additive nuisance factors, may be empty
  std::vector<FactorialCell> cells;
};

struct FactorialCoefficient {
  std::string name;      // R's name: "(Intercept)", "headlineb", "headlineb:imagez"
  std::string term;      // "headline:image"; "(Intercept)" for the intercept
  bool aliased = false;  // then every number is NaN
  double estimate = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();  // classical
  double t = std::numeric_limits<double>::quiet_NaN();
  double p_value = std::numeric_limits<double>::quiet_NaN();
  double robust_std_error = std::numeric_limits<double>::quiet_NaN();  // HC1
  double robust_t = std::numeric_limits<double>::quiet_NaN();
  double robust_p_value = std::numeric_limits<double>::quiet_NaN();
  double robust_lower = std::numeric_limits<double>::quiet_NaN();
  double robust_upper = std::numeric_limits<double>::quiet_NaN();
};

// A row of the sequential ANOVA table. Terms whose columns are all aliased have no row.
struct AnovaRow {
  std::string term;  // "block", "N", "N:P"
  int df = 0;
  double sum_squares = std::numeric_limits<double>::quiet_NaN();
  double mean_square = std::numeric_limits<double>::quiet_NaN();
  double f = std::numeric_limits<double>::quiet_NaN();
  double p_value = std::numeric_limits<double>::quiet_NaN();
};

// An observed non-baseline combination of treatment levels against the all-baseline
// combination: l' beta with l = x(combination) - x(baseline) over the treatment
// columns (blocks cancel). Under the full model it is the difference of the two cells'
// (block-adjusted) means; under restricted models it is the model's prediction.
struct CombinationContrast {
  std::vector<int> levels;
  bool estimable = true;  // false when l loads on an aliased direction; numbers NaN
  double estimate = std::numeric_limits<double>::quiet_NaN();
  double std_error = std::numeric_limits<double>::quiet_NaN();
  double robust_std_error = std::numeric_limits<double>::quiet_NaN();
  double robust_p_value = std::numeric_limits<double>::quiet_NaN();
  double robust_lower = std::numeric_limits<double>::quiet_NaN();
  double robust_upper = std::numeric_limits<double>::quiet_NaN();
};

// When !valid, `reason` says why (empty baseline cell, aliased columns, n <= p, no
// residual variation, malformed input) and the vectors are empty.
struct FactorialResult {
  bool valid = false;
  std::string reason;

  int64_t n = 0;        // users
  int rank = 0;         // estimated coefficients p
  int residual_df = 0;  // N - p
  double residual_sum_squares = std::numeric_limits<double>::quiet_NaN();
  double pure_error_sum_squares = std::numeric_limits<double>::quiet_NaN();  // sum M2_c
  double residual_variance = std::numeric_limits<double>::quiet_NaN();       // s^2

  std::vector<FactorialCoefficient> coefficients;  // in R's column order
  std::vector<AnovaRow> anova;                     // model terms; residual above
  std::vector<CombinationContrast> contrasts;      // observed combinations, grid order
};

FactorialResult AnalyzeFactorial(const FactorialInput& input, const FactorialOptions& options);

}  // namespace causeway::stats
