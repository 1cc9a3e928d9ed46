// Geo test design by placebo-in-time simulation: formulas in geo_design.h.
#include "causal/geo_design.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "causal/inference.h"

namespace causeway::causal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Share of windows where the analysis detects lift d: at d = 0 any rejection
// (|tau| > z se, a false positive); otherwise a rejection with the estimate on the side
// of the injected effect e = d m: sign(e) (tau + e) > z se.
double PowerAt(const std::vector<GeoWindow>& windows, double z, double d) {
  int detected = 0;
  for (const GeoWindow& w : windows) {
    const double e = d * w.baseline;
    const double t = w.estimate + e;
    if (e == 0) {
      detected += std::fabs(t) > z * w.se;
    } else {
      detected += (e > 0 ? t : -t) > z * w.se;
    }
  }
  return static_cast<double>(detected) / static_cast<double>(windows.size());
}

}  // namespace

bool GeoDesignOptions::IsValid(std::string* error) const {
  auto fail = [&](const char* message) {
    if (error) *error = message;
    return false;
  };
  if (!analysis.IsValid(error)) return false;
  if (test_length < 1) return fail("test_length must be at least 1");
  if (simulations < 1 || simulations > 1000) return fail("simulations must be in [1, 1000]");
  if (!(power > 0 && power < 1)) return fail("power must be in (0, 1)");
  if (lifts.empty() || lifts.size() > 1000) return fail("lifts must have 1 to 1000 values");
  for (double d : lifts) {
    if (!std::isfinite(d) || d < -1) return fail("lifts must be finite and at least -1");
  }
  return true;
}

Result<GeoDesignSummary> DesignGeoTest(const Panel& history,
                                       const std::vector<int64_t>& treated_units,
                                       const GeoDesignOptions& o) {
  std::string why;
  if (!o.IsValid(&why)) {
    return Error{"options." + why.substr(0, why.find(' ')), why, ErrorKind::kInvalidInput};
  }
  Result<PanelIndex> indexed = IndexPanel(history, RowIndices::kMaterialize, 1);
  if (!indexed.ok()) return indexed.error();
  const PanelIndex& ix = indexed.value();
  if (!ix.balanced) {
    return Error{"panel", "the history is not balanced: every unit needs every period",
                 ErrorKind::kInvalidInput};
  }
  if (treated_units.empty()) {
    return Error{"treated_units", "name at least one treated unit", ErrorKind::kInvalidInput};
  }
  const std::set<int64_t> treated(treated_units.begin(), treated_units.end());
  if (treated.size() != treated_units.size()) {
    return Error{"treated_units", "a unit is named twice", ErrorKind::kInvalidInput};
  }
  // Full matrix, controls first.
  std::vector<int32_t> order;
  for (int pass = 0; pass < 2; ++pass) {
    for (int32_t u = 0; u < ix.units(); ++u) {
      if ((treated.count(ix.unit_ids[static_cast<size_t>(u)]) > 0) == (pass == 1)) {
        order.push_back(u);
      }
    }
  }
  const int n = ix.units();
  const int n0 = n - static_cast<int>(treated.size());
  for (int64_t id : treated) {
    if (std::find(ix.unit_ids.begin(), ix.unit_ids.end(), id) == ix.unit_ids.end()) {
      return Error{"treated_units", "unit " + std::to_string(id) + " is not in the history",
                   ErrorKind::kInvalidInput};
    }
  }
  std::vector<int32_t> row_of(static_cast<size_t>(n));
  for (size_t k = 0; k < order.size(); ++k) {
    row_of[static_cast<size_t>(order[k])] = static_cast<int32_t>(k);
  }
  Eigen::MatrixXd y(n, ix.periods());
  for (size_t r = 0; r < history.rows(); ++r) {
    y(row_of[static_cast<size_t>(ix.unit_index[r])], ix.time_index[r]) = history.outcome[r];
  }
  std::vector<int64_t> ids;
  for (int32_t u : order) ids.push_back(ix.unit_ids[static_cast<size_t>(u)]);

  const int periods = ix.periods();
  const int windows = std::min(o.simulations, periods - o.test_length - 2 + 1);
  if (windows < 1) {
    return InsufficientData("panel", "the history (" + std::to_string(periods) +
                                         " periods) is too short for a test of " +
                                         std::to_string(o.test_length) +
                                         " periods after at least 2 pre-periods");
  }
  GeoDesignSummary s;
  s.treated_units = n - n0;
  s.control_units = n0;
  const double z = CriticalValue(kInfiniteDf, o.analysis.confidence);
  for (int k = 0; k < windows; ++k) {
    BlockPanel b;
    const int end = periods - k;
    b.y = y.leftCols(end);
    b.n0 = n0;
    b.t0 = end - o.test_length;
    b.unit_ids = ids;
    b.times.assign(ix.times.begin(), ix.times.begin() + end);
    Result<SyntheticSummary> r = EstimateSynthetic(b, o.analysis);
    if (!r.ok()) return r.error();
    const SyntheticSummary& a = r.value();
    GeoWindow w;
    w.first_period = b.times[static_cast<size_t>(b.t0)];
    w.last_period = b.times.back();
    w.pre_periods = b.t0;
    w.estimate = a.att.estimate;
    w.se = a.att.se;
    w.baseline = b.y.bottomRightCorner(b.n1(), o.test_length).mean();
    if (!(w.se > 0) || !std::isfinite(w.se)) {
      return InsufficientData("panel", "the placebo variance is zero in the window ending " +
                                           std::to_string(w.last_period));
    }
    // Infimum of the lifts d > 0 detected: tau + d m > z se (m > 0).
    w.threshold = w.baseline > 0 ? std::max(0.0, (z * w.se - w.estimate) / w.baseline) : kInf;
    if (k == 0) s.warnings = a.warnings;
    s.windows.push_back(w);
  }
  double baseline = 0;
  for (const GeoWindow& w : s.windows) baseline += w.baseline;
  s.baseline = baseline / static_cast<double>(s.windows.size());

  // For d > 0 a window detects d exactly when d > its threshold, so power is a step
  // function and the minimum detectable lift an order statistic of the thresholds.
  std::vector<double> thresholds;
  for (const GeoWindow& w : s.windows) thresholds.push_back(w.threshold);
  std::sort(thresholds.begin(), thresholds.end());
  const size_t need = static_cast<size_t>(std::ceil(o.power * s.windows.size() - 1e-9));
  s.minimum_detectable_lift = need == 0 ? 0 : thresholds[need - 1];
  s.minimum_detectable_att = s.minimum_detectable_lift * s.baseline;
  s.false_positive_rate = PowerAt(s.windows, z, 0);
  for (double d : o.lifts) s.power_curve.push_back({d, PowerAt(s.windows, z, d)});

  if (s.windows.size() < 10) {
    s.warnings.push_back(
        {"few_simulations", std::to_string(s.windows.size()) +
                                " simulated windows: power is estimated in steps of " +
                                std::to_string(1.0 / static_cast<double>(s.windows.size()))});
  }
  return s;
}

}  // namespace causeway::causal
