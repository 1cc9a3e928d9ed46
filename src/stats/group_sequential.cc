#include "stats/group_sequential.h"

#include <algorithm>
#include <cmath>

#include "stats/distributions.h"

namespace causeway::stats {
namespace {

using internal::NormalCdf;
using internal::NormalPdf;
using internal::NormalQuantile;
using internal::NormalSf;

constexpr double kInf = std::numeric_limits<double>::infinity();
// Increments below this are treated as "nothing to spend" (boundary at +inf).
constexpr double kMinSpend = 1e-300;
// exp(-kKernelCutoff^2 / 2) ~ 1e-17: the normal kernel is negligible beyond this.
constexpr double kKernelCutoff = 8.8;
// Grid refinement for small information increments (ContinuationDensity::Advance).
constexpr double kNodesPerKernelSd = 3.0;
constexpr double kRefineLimit = 8.5;              // density beyond 8.5 sd is < 1e-16
constexpr double kMaxRefinedIntervals = 40000.0;  // caps the cost for increments < ~1e-6

// Sub-density of S(t) on the continuation region, as Simpson nodes.
class ContinuationDensity {
 public:
  explicit ContinuationDensity(int grid_r) : r_(grid_r) {}

  // P(first crossing at the next look at information t with boundary c), and its
  // derivative with respect to c in *derivative (if not null).
  double Crossing(double c, double t, int sides, double* derivative = nullptr) const {
    if (t_ == 0.0) {
      if (derivative) *derivative = -sides * NormalPdf(c);
      return sides == 2 ? 2.0 * NormalSf(c) : NormalSf(c);
    }
    const double sd = std::sqrt(t - t_);
    const double sqrt_t = std::sqrt(t);
    const double b = c * sqrt_t;
    double p = 0.0, dp = 0.0;
    for (const Node& node : nodes_) {
      const double upper = (b - node.s) / sd;
      double q = NormalSf(upper);
      double dq = -NormalPdf(upper);
      if (sides == 2) {
        const double lower = (-b - node.s) / sd;
        q += NormalCdf(lower);
        dq -= NormalPdf(lower);
      }
      p += node.wf * q;
      dp += node.wf * dq;
    }
    if (derivative) *derivative = dp * sqrt_t / sd;
    return p;
  }

  // Moves to the next look at information t, truncated to (-c, c) or (-inf, c).
  // next_increment is the information between this look and the next (0 if none):
  // the next step integrates this density against a normal kernel of standard
  // deviation sqrt(next_increment), and the density itself varies on the scale
  // sqrt(t - t_prev) near the previous boundary, so the grid is refined until the node
  // spacing is at most a third of the smaller of the two (Simpson is then accurate
  // whatever the increments; the plain Jennison-Turnbull grid is not when the kernel
  // is narrower than its spacing, e.g. 120 daily looks or a day with little traffic).
  void Advance(double c, double t, int sides, double next_increment = 0.0) {
    const double sqrt_t = std::sqrt(t);
    const double hi = c;
    const double lo = sides == 2 ? -c : -kInf;
    // Jennison & Turnbull grid in units of the standard deviation of Z(t).
    std::vector<double> jt;
    jt.reserve(6 * r_ + 1);
    const double r = r_;
    for (int i = 1; i <= 6 * r_ - 1; ++i) {
      double x;
      if (i < r_) {
        x = -3.0 - 4.0 * std::log(r / i);
      } else if (i <= 5 * r_) {
        x = -3.0 + 3.0 * (i - r) / (2.0 * r);
      } else {
        x = 3.0 + 4.0 * std::log(r / (6.0 * r - i));
      }
      if (x > lo && x < hi) jt.push_back(x);
    }
    if (std::isfinite(lo) && (jt.empty() || lo > -3.0 - 4.0 * std::log(r)))
      jt.insert(jt.begin(), lo);
    if (std::isfinite(hi) && (jt.empty() || hi < 3.0 + 4.0 * std::log(r))) jt.push_back(hi);
    // Refinement: Simpson intervals (two node spacings) no longer than
    // 2 sd_next / kNodesPerKernelSd in z units, where the density is not negligible
    // (|z| <= kRefineLimit), with at most kMaxRefinedIntervals intervals added.
    std::vector<double> z;
    double max_len = kInf;
    // The density at this look also varies on the scale sqrt(t - t_) near the previous
    // boundary, so the smaller of the two increments sets the spacing.
    double increment = next_increment > 0.0 ? next_increment : kInf;
    if (t_ > 0.0) increment = std::min(increment, t - t_);
    if (std::isfinite(increment)) {
      max_len = std::max(2.0 * std::sqrt(increment / t) / kNodesPerKernelSd,
                         2.0 * kRefineLimit / kMaxRefinedIntervals);
    }
    z.reserve(jt.size());
    for (size_t i = 0; i < jt.size(); ++i) {
      if (i > 0) {
        const double a = std::max(jt[i - 1], -kRefineLimit), b = std::min(jt[i], kRefineLimit);
        if (b - a > max_len) {
          const int pieces = static_cast<int>(std::ceil((jt[i] - jt[i - 1]) / max_len));
          for (int j = 1; j < pieces; ++j)
            z.push_back(jt[i - 1] + (jt[i] - jt[i - 1]) * j / pieces);
        }
      }
      z.push_back(jt[i]);
    }

    // Composite Simpson on consecutive intervals: weights h/6, 4h/6, h/6.
    std::vector<double> s, w;
    s.reserve(2 * z.size());
    w.reserve(2 * z.size());
    for (size_t i = 0; i < z.size(); ++i) {
      if (i == 0) {
        s.push_back(z[0] * sqrt_t);
        w.push_back(0.0);
        continue;
      }
      const double a = z[i - 1] * sqrt_t, b = z[i] * sqrt_t, h = b - a;
      w.back() += h / 6.0;
      s.push_back(0.5 * (a + b));
      w.push_back(4.0 * h / 6.0);
      s.push_back(b);
      w.push_back(h / 6.0);
    }

    std::vector<Node> next(s.size());
    if (t_ == 0.0) {
      for (size_t i = 0; i < s.size(); ++i)
        next[i] = {s[i], w[i] * NormalPdf(s[i] / sqrt_t) / sqrt_t};
    } else {
      const double sd = std::sqrt(t - t_);
      const double inv2var = 0.5 / (t - t_);
      const double norm = 0.39894228040143267794 / sd;
      // Nodes are sorted by s; terms beyond kKernelCutoff sd contribute < 1e-16
      // relative to the largest, so only a window of nodes is summed.
      const double cutoff = kKernelCutoff * sd;
      size_t first = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        while (first < nodes_.size() && nodes_[first].s < s[i] - cutoff) ++first;
        double f = 0.0;
        for (size_t j = first; j < nodes_.size() && nodes_[j].s <= s[i] + cutoff; ++j) {
          const double d = s[i] - nodes_[j].s;
          f += nodes_[j].wf * std::exp(-d * d * inv2var);
        }
        next[i] = {s[i], w[i] * f * norm};
      }
    }
    nodes_ = std::move(next);
    t_ = t;
  }

 private:
  struct Node {
    double s;   // score S(t)
    double wf;  // Simpson weight times sub-density
  };
  int r_;
  double t_ = 0.0;
  std::vector<Node> nodes_;
};

// c with Crossing(c) = target (to ~1e-10 in c); crossing is decreasing in c.
// Newton's method on log(crossing), safeguarded by bisection inside a bracket.
double SolveBoundary(const ContinuationDensity& density, double t, int sides, double target) {
  if (!(target > kMinSpend)) return kInf;
  double lo = sides == 2 ? 0.0 : -10.0, hi = 40.0;
  if (density.Crossing(lo, t, sides) <= target) return lo;
  // Start from the boundary that ignores earlier looks.
  double c = std::clamp(NormalQuantile(1.0 - target / sides), lo, hi);
  const double log_target = std::log(target);
  for (int it = 0; it < 100; ++it) {
    double derivative = 0.0;
    const double p = density.Crossing(c, t, sides, &derivative);
    if (p > target) {
      lo = c;
    } else {
      hi = c;
    }
    double next;
    if (p > 0.0 && derivative < 0.0) {
      next = c - (std::log(p) - log_target) * p / derivative;  // Newton on log(p)
    } else {
      next = 0.5 * (lo + hi);
    }
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - c) < 1e-11 || hi - lo < 1e-11) return next;
    c = next;
  }
  return c;
}

bool ValidFractions(const std::vector<double>& t, std::string* error) {
  if (t.empty()) {
    *error = "at least one look is required";
    return false;
  }
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] > 0.0 && t[i] <= 1.0)) {
      *error = "information fractions must be in (0, 1]";
      return false;
    }
    if (i > 0 && !(t[i] > t[i - 1])) {
      *error = "information fractions must be strictly increasing";
      return false;
    }
  }
  return true;
}

}  // namespace

bool GroupSequentialDesign::IsValid(std::string* error) const {
  std::string local;
  std::string* e = error ? error : &local;
  if (!ValidFractions(information_fractions, e)) return false;
  if (!(alpha > 0.0 && alpha < 1.0)) {
    *e = "alpha must be in (0, 1)";
    return false;
  }
  if (sides != 1 && sides != 2) {
    *e = "sides must be 1 or 2";
    return false;
  }
  if (grid_r < 4 || grid_r > 200) {
    *e = "grid_r must be in [4, 200]";
    return false;
  }
  return true;
}

double CumulativeAlphaSpent(SpendingFunction spending, double alpha, int sides, double t) {
  if (t <= 0.0) return 0.0;
  t = std::min(t, 1.0);
  const double a = alpha / sides;
  double one_sided;
  if (spending == SpendingFunction::kObrienFleming) {
    one_sided = 2.0 * NormalSf(NormalQuantile(1.0 - a / 2.0) / std::sqrt(t));
  } else {
    one_sided = a * std::log(1.0 + (std::exp(1.0) - 1.0) * t);
  }
  return sides * one_sided;
}

GroupSequentialBoundaries LanDeMetsBoundaries(const GroupSequentialDesign& design) {
  GroupSequentialBoundaries out;
  if (!design.IsValid(&out.reason)) return out;
  ContinuationDensity density(design.grid_r);
  double spent_before = 0.0;
  const auto& t = design.information_fractions;
  for (size_t k = 0; k < t.size(); ++k) {
    const double spent = CumulativeAlphaSpent(design.spending, design.alpha, design.sides, t[k]);
    const double c = SolveBoundary(density, t[k], design.sides, spent - spent_before);
    out.z.push_back(c);
    out.nominal_p.push_back(std::isinf(c) ? 0.0 : design.sides * NormalSf(c));
    out.cumulative_alpha.push_back(spent);
    spent_before = spent;
    if (k + 1 < t.size()) density.Advance(c, t[k], design.sides, t[k + 1] - t[k]);
  }
  out.valid = true;
  return out;
}

std::vector<double> CrossingProbabilities(const std::vector<double>& information_fractions,
                                          const std::vector<double>& z, int sides, int grid_r) {
  std::vector<double> p;
  ContinuationDensity density(grid_r);
  for (size_t k = 0; k < information_fractions.size() && k < z.size(); ++k) {
    p.push_back(std::isinf(z[k]) ? 0.0 : density.Crossing(z[k], information_fractions[k], sides));
    if (k + 1 < information_fractions.size())
      density.Advance(z[k], information_fractions[k], sides,
                      information_fractions[k + 1] - information_fractions[k]);
  }
  return p;
}

ClassicalBoundaries ClassicalDesign(int looks, double alpha, int sides, BoundaryShape shape,
                                    int grid_r) {
  ClassicalBoundaries out;
  if (looks < 1 || looks > 100) {
    out.reason = "looks must be in [1, 100]";
    return out;
  }
  if (!(alpha > 0.0 && alpha < 1.0) || (sides != 1 && sides != 2)) {
    out.reason = "alpha must be in (0, 1) and sides 1 or 2";
    return out;
  }
  std::vector<double> t(looks), z(looks);
  for (int k = 0; k < looks; ++k) t[k] = static_cast<double>(k + 1) / looks;
  auto boundaries = [&](double c) {
    for (int k = 0; k < looks; ++k) {
      z[k] =
          shape == BoundaryShape::kPocock ? c : c * std::sqrt(static_cast<double>(looks) / (k + 1));
    }
  };
  auto total = [&](double c) {
    boundaries(c);
    double sum = 0.0;
    for (double p : CrossingProbabilities(t, z, sides, grid_r)) sum += p;
    return sum;
  };
  double lo = 0.0, hi = 10.0;
  for (int it = 0; it < 100 && hi - lo > 1e-9; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (total(mid) > alpha) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  out.constant = 0.5 * (lo + hi);
  boundaries(out.constant);
  out.z = z;
  out.valid = true;
  return out;
}

}  // namespace causeway::stats
