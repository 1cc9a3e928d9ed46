// Multiple-testing adjustment of p-values across metrics and variants.
//
// Holm (1979) step-down, controls the family-wise error rate:
//   sort p_(1) <= ... <= p_(m); adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)).
// Benjamini & Hochberg (1995) step-up, controls the false discovery rate under
// independence or positive dependence:
//   adj_(i) = min_{j >= i} min(1, m p_(j) / j).
// Reject H_i at level alpha iff adj_i <= alpha. Reference: statsmodels
// multipletests(method="holm" | "fdr_bh"). NaN inputs are treated as 1.
#pragma once

#include <vector>

namespace causeway::stats {

enum class Correction { kNone, kHolm, kBenjaminiHochberg };

// Adjusted p-values in the input order.
std::vector<double> AdjustPValues(const std::vector<double>& p_values, Correction correction);

}  // namespace causeway::stats
