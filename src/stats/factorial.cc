#include "stats/factorial.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>

#include <Eigen/Dense>

#include "stats/distributions.h"
#include "stats/fixed_horizon.h"

namespace causeway::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// R's lm: a column is aliased when its norm after projection on the earlier columns
// is below this fraction of its own norm (qr(tol = 1e-7)).
constexpr double kAliasTolerance = 1e-7;
constexpr int kMaxFactors = 16;
constexpr int64_t kMaxColumns = 4096;

// A model term: the factors it multiplies (indices into blocks + factors).
struct Term {
  std::string name;
  std::vector<int> factors;
};

// One model-matrix column: its term, and the level of each of the term's factors.
struct Column {
  int term = 0;
  std::vector<int> levels;
  std::string name;
};

FactorialResult Invalid(std::string reason) {
  FactorialResult r;
  r.reason = std::move(reason);
  return r;
}

bool ValidFactor(const Factor& f, const char* what, std::string* error) {
  if (f.name.empty()) {
    *error = std::string(what) + " without a name";
    return false;
  }
  if (f.levels.size() < 2) {
    *error = std::string(what) + " " + f.name + " needs at least 2 levels";
    return false;
  }
  return true;
}

}  // namespace

bool FactorialOptions::IsValid(std::string* error) const {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    *error = "alpha must be in (0, 1)";
    return false;
  }
  return true;
}

FactorialResult AnalyzeFactorial(const FactorialInput& input, const FactorialOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) return Invalid(error);
  const int num_factors = static_cast<int>(input.factors.size());
  const int num_blocks = static_cast<int>(input.blocks.size());
  if (num_factors == 0) return Invalid("no treatment factors");
  if (num_factors > kMaxFactors) return Invalid("more than 16 treatment factors");
  for (const Factor& f : input.factors)
    if (!ValidFactor(f, "factor", &error)) return Invalid(error);
  for (const Factor& f : input.blocks)
    if (!ValidFactor(f, "block factor", &error)) return Invalid(error);

  // Levels of blocks then factors, per used cell (n > 0).
  std::vector<std::vector<int>> cell_levels;
  std::vector<const MomentStats*> cell_stats;
  for (const FactorialCell& c : input.cells) {
    if (static_cast<int>(c.levels.size()) != num_factors ||
        static_cast<int>(c.block_levels.size()) != num_blocks)
      return Invalid("a cell does not give one level per factor and per block factor");
    std::vector<int> all(c.block_levels);
    all.insert(all.end(), c.levels.begin(), c.levels.end());
    for (int j = 0; j < num_blocks + num_factors; ++j) {
      const Factor& f = j < num_blocks ? input.blocks[j] : input.factors[j - num_blocks];
      if (all[j] < 0 || all[j] >= static_cast<int>(f.levels.size()))
        return Invalid("a cell has a level index outside factor " + f.name);
    }
    if (c.stats.n < 0 || !std::isfinite(c.stats.mean) || !std::isfinite(c.stats.m2) ||
        c.stats.m2 < 0.0)
      return Invalid("a cell has invalid moments (n < 0, non-finite mean or M2 < 0)");
    if (c.stats.n == 0) continue;
    cell_levels.push_back(std::move(all));
    cell_stats.push_back(&c.stats);
  }
  const auto is_baseline = [&](const std::vector<int>& levels) {
    for (int j = num_blocks; j < num_blocks + num_factors; ++j)
      if (levels[j] != 0) return false;
    return true;
  };
  if (std::none_of(cell_levels.begin(), cell_levels.end(), is_baseline))
    return Invalid("the all-baseline combination has no users");

  // Terms in R's order: blocks, then treatment terms by order, within an order by the
  // bit mask of their factors (a:b, a:c, b:c, a:d, ...).
  const auto factor_at = [&](int j) -> const Factor& {
    return j < num_blocks ? input.blocks[j] : input.factors[j - num_blocks];
  };
  const int max_order = options.terms == FactorialTerms::kMainEffects ? 1
                        : options.terms == FactorialTerms::kTwoWay    ? 2
                                                                      : num_factors;
  std::vector<Term> terms;
  for (int j = 0; j < num_blocks; ++j) terms.push_back({input.blocks[j].name, {j}});
  std::vector<uint32_t> masks;
  for (uint32_t m = 1; m < (1u << num_factors); ++m)
    if (std::popcount(m) <= max_order) masks.push_back(m);
  std::stable_sort(masks.begin(), masks.end(),
                   [](uint32_t a, uint32_t b) { return std::popcount(a) < std::popcount(b); });
  for (uint32_t m : masks) {
    Term t;
    for (int j = 0; j < num_factors; ++j) {
      if (!(m & (1u << j))) continue;
      if (!t.name.empty()) t.name += ":";
      t.name += input.factors[j].name;
      t.factors.push_back(num_blocks + j);
    }
    terms.push_back(std::move(t));
  }

  // Columns: intercept, then per term the products of non-baseline dummies, the first
  // factor's level varying fastest (R's model.matrix).
  std::vector<Column> columns;
  columns.push_back({-1, {}, "(Intercept)"});
  for (int t = 0; t < static_cast<int>(terms.size()); ++t) {
    const std::vector<int>& fs = terms[t].factors;
    int64_t count = 1;
    for (int j : fs) count *= static_cast<int64_t>(factor_at(j).levels.size()) - 1;
    if (static_cast<int64_t>(columns.size()) + count > kMaxColumns)
      return Invalid("the model has more than 4096 coefficients");
    std::vector<int> levels(fs.size(), 1);
    for (int64_t k = 0; k < count; ++k) {
      Column c{t, levels, ""};
      for (size_t i = 0; i < fs.size(); ++i) {
        if (i > 0) c.name += ":";
        c.name += factor_at(fs[i]).name + factor_at(fs[i]).levels[levels[i]];
      }
      columns.push_back(std::move(c));
      for (size_t i = 0; i < fs.size(); ++i) {  // odometer, first digit fastest
        if (++levels[i] < static_cast<int>(factor_at(fs[i]).levels.size())) break;
        levels[i] = 1;
      }
    }
  }
  const int num_cells = static_cast<int>(cell_levels.size());
  const int num_columns = static_cast<int>(columns.size());
  const auto row_of = [&](const std::vector<int>& levels, bool treatment_only) {
    Eigen::RowVectorXd x = Eigen::RowVectorXd::Zero(num_columns);
    for (int k = 0; k < num_columns; ++k) {
      const Column& c = columns[k];
      if (c.term < 0) {
        x(k) = treatment_only ? 0.0 : 1.0;
        continue;
      }
      const std::vector<int>& fs = terms[c.term].factors;
      if (treatment_only && fs[0] < num_blocks) continue;
      bool on = true;
      for (size_t i = 0; i < fs.size() && on; ++i) on = levels[fs[i]] == c.levels[i];
      x(k) = on ? 1.0 : 0.0;
    }
    return x;
  };

  Eigen::MatrixXd x(num_cells, num_columns);
  Eigen::VectorXd weight(num_cells), mean(num_cells), m2(num_cells);
  int64_t n = 0;
  for (int c = 0; c < num_cells; ++c) {
    x.row(c) = row_of(cell_levels[c], false);
    weight(c) = static_cast<double>(cell_stats[c]->n);
    mean(c) = cell_stats[c]->mean;
    m2(c) = cell_stats[c]->m2;
    n += cell_stats[c]->n;
  }

  // Householder QR of W^{1/2} X, column by column, leaving aliased columns out
  // (R's dqrdc2 with limited pivoting). z becomes the effects Q' W^{1/2} ybar.
  const Eigen::VectorXd sqrt_w = weight.cwiseSqrt();
  Eigen::MatrixXd a = sqrt_w.asDiagonal() * x;
  Eigen::VectorXd z = sqrt_w.cwiseProduct(mean);
  std::vector<int> accepted;                   // column indices, in order
  std::vector<int> position(num_columns, -1);  // index into accepted
  // For an aliased column: its coordinates on the accepted columns before it,
  // in the R basis (rows 0..k-1 of the transformed column).
  std::map<int, Eigen::VectorXd> alias_coordinates;
  for (int j = 0; j < num_columns; ++j) {
    const int k = static_cast<int>(accepted.size());
    const double norm = x.col(j).cwiseProduct(sqrt_w).norm();
    const double rest = k < num_cells ? a.col(j).tail(num_cells - k).norm() : 0.0;
    if (norm == 0.0 || rest < kAliasTolerance * norm) {
      alias_coordinates[j] = a.col(j).head(k);
      continue;
    }
    // Reflection H = I - v v' / tau mapping a(k:, j) to (-sign * rest, 0, ...).
    Eigen::VectorXd v = a.col(j).tail(num_cells - k);
    const double alpha = v(0) >= 0.0 ? -rest : rest;
    v(0) -= alpha;
    const double tau = v.squaredNorm();
    if (tau > 0.0) {
      for (int l = j; l < num_columns; ++l) {
        auto col = a.col(l).tail(num_cells - k);
        col -= v * (v.dot(col) * 2.0 / tau);
      }
      auto zt = z.tail(num_cells - k);
      zt -= v * (v.dot(zt) * 2.0 / tau);
    }
    position[j] = k;
    accepted.push_back(j);
  }
  if (!alias_coordinates.empty() && !options.allow_aliased) {
    std::string names;
    for (const auto& [j, unused] : alias_coordinates) {
      if (!names.empty()) names += ", ";
      names += columns[j].name;
    }
    return Invalid("aliased (not estimable from the observed cells): " + names);
  }
  const int p = static_cast<int>(accepted.size());
  if (n <= p) return Invalid("n <= p: no more users than coefficients");

  Eigen::MatrixXd r_upper(p, p);
  for (int i = 0; i < p; ++i) r_upper.col(i) = a.col(accepted[i]).head(p);
  const auto r_tri = r_upper.triangularView<Eigen::Upper>();
  const Eigen::VectorXd effects = z.head(p);
  const Eigen::VectorXd beta = r_tri.solve(effects);
  Eigen::MatrixXd xa(num_cells, p);
  for (int i = 0; i < p; ++i) xa.col(i) = x.col(accepted[i]);
  const Eigen::VectorXd resid = mean - xa * beta;
  const Eigen::VectorXd cell_sq = m2 + weight.cwiseProduct(resid.cwiseAbs2());
  const double pure = m2.sum();
  const double rss = cell_sq.sum();
  const double df = static_cast<double>(n - p);
  // Residual SD below ~1e-10 of the data's scale is rounding: no residual variation.
  const double scale = pure + weight.dot(mean.cwiseAbs2());
  if (!std::isfinite(rss) || !(rss > 1e-20 * scale)) return Invalid("no residual variation");
  const double s2 = rss / df;

  const Eigen::MatrixXd r_inv = r_tri.solve(Eigen::MatrixXd::Identity(p, p));
  const Eigen::MatrixXd bread = r_inv * r_inv.transpose();  // (X'WX)^{-1}
  const Eigen::MatrixXd meat = xa.transpose() * cell_sq.asDiagonal() * xa;
  const Eigen::MatrixXd cov = s2 * bread;
  const Eigen::MatrixXd cov_hc1 = (static_cast<double>(n) / df) * bread * meat * bread;
  const double q = internal::StudentTQuantile(1.0 - options.alpha / 2.0, df);

  FactorialResult result;
  result.valid = true;
  result.n = n;
  result.rank = p;
  result.residual_df = static_cast<int>(n - p);
  result.residual_sum_squares = rss;
  result.pure_error_sum_squares = pure;
  result.residual_variance = s2;

  for (int j = 0; j < num_columns; ++j) {
    FactorialCoefficient c;
    c.name = columns[j].name;
    c.term = columns[j].term < 0 ? "(Intercept)" : terms[columns[j].term].name;
    const int i = position[j];
    if (i < 0) {
      c.aliased = true;
    } else {
      c.estimate = beta(i);
      c.std_error = std::sqrt(cov(i, i));
      c.t = c.estimate / c.std_error;
      c.p_value = internal::PValue(c.t, df, Alternative::kTwoSided);
      c.robust_std_error = std::sqrt(cov_hc1(i, i));
      c.robust_t = c.estimate / c.robust_std_error;
      c.robust_p_value = internal::PValue(c.robust_t, df, Alternative::kTwoSided);
      c.robust_lower = c.estimate - q * c.robust_std_error;
      c.robust_upper = c.estimate + q * c.robust_std_error;
    }
    result.coefficients.push_back(std::move(c));
  }

  for (int t = 0; t < static_cast<int>(terms.size()); ++t) {
    AnovaRow row;
    row.term = terms[t].name;
    double ss = 0.0;
    for (int i = 0; i < p; ++i) {
      if (columns[accepted[i]].term != t) continue;
      ++row.df;
      ss += effects(i) * effects(i);
    }
    if (row.df == 0) continue;
    row.sum_squares = ss;
    row.mean_square = ss / row.df;
    row.f = row.mean_square / s2;
    row.p_value = internal::FisherFSf(row.f, row.df, df);
    result.anova.push_back(std::move(row));
  }

  // Distinct observed treatment combinations, in grid order (first factor fastest).
  std::vector<std::vector<int>> combinations;
  for (const std::vector<int>& levels : cell_levels)
    combinations.emplace_back(levels.begin() + num_blocks, levels.end());
  std::sort(combinations.begin(), combinations.end(),
            [](const std::vector<int>& u, const std::vector<int>& v) {
              return std::lexicographical_compare(u.rbegin(), u.rend(), v.rbegin(), v.rend());
            });
  combinations.erase(std::unique(combinations.begin(), combinations.end()), combinations.end());
  for (const std::vector<int>& combination : combinations) {
    if (std::all_of(combination.begin(), combination.end(), [](int l) { return l == 0; })) continue;
    std::vector<int> all(num_blocks, 0);
    all.insert(all.end(), combination.begin(), combination.end());
    const Eigen::RowVectorXd l = row_of(all, true);
    Eigen::VectorXd la(p);
    for (int i = 0; i < p; ++i) la(i) = l(accepted[i]);
    CombinationContrast c;
    c.levels = combination;
    // l' beta is estimable iff l is orthogonal to every null direction
    // e_j - (coordinates of aliased column j on the accepted columns).
    for (const auto& [j, coords] : alias_coordinates) {
      const int k = static_cast<int>(coords.size());
      const Eigen::VectorXd on_accepted =
          r_upper.topLeftCorner(k, k).triangularView<Eigen::Upper>().solve(coords);
      const double loading = l(j) - la.head(k).dot(on_accepted);
      if (std::abs(loading) > 1e-6 * (1.0 + la.head(k).cwiseAbs().dot(on_accepted.cwiseAbs())))
        c.estimable = false;
    }
    if (c.estimable) {
      c.estimate = la.dot(beta);
      c.std_error = std::sqrt(la.dot(cov * la));
      c.robust_std_error = std::sqrt(la.dot(cov_hc1 * la));
      c.robust_p_value =
          internal::PValue(c.estimate / c.robust_std_error, df, Alternative::kTwoSided);
      c.robust_lower = c.estimate - q * c.robust_std_error;
      c.robust_upper = c.estimate + q * c.robust_std_error;
    }
    result.contrasts.push_back(std::move(c));
  }
  return result;
}

}  // namespace causeway::stats
