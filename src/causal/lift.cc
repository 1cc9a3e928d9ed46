#include "causal/lift.h"

#include <cmath>

#include "causal/inference.h"

namespace causeway::causal {
namespace {

std::optional<Error> ValidateGroup(const LiftGroup& g, const std::string& name) {
  if (!(g.users >= 0) || !std::isfinite(g.users))
    return Error{name + ".users", "users must be a non-negative number"};
  if (g.users == 0) return InsufficientData(name + ".users", "no users in the " + name + " group");
  if (!(g.conversions >= 0) || !(g.conversions <= g.users)) {
    return Error{name + ".conversions", "conversions must be between 0 and users"};
  }
  if (!std::isfinite(g.revenue)) return Error{name + ".revenue", "revenue must be a finite number"};
  if (g.revenue_sum_squares) {
    const double q = *g.revenue_sum_squares;
    if (!(q >= 0) || !std::isfinite(q)) {
      return Error{name + ".revenue_sum_squares", "must be a non-negative finite number"};
    }
    const double mean = g.revenue / g.users;
    if (q - g.users * mean * mean < -1e-9 * std::max(1.0, q)) {
      return Error{name + ".revenue_sum_squares",
                   "smaller than revenue^2/users: not a sum of squared per-user revenue"};
    }
    if (g.users < 2)
      return InsufficientData(name + ".users", "a revenue variance needs at least 2 users");
  }
  return std::nullopt;
}

// Normal interval and two-sided p = 2 (1 - Phi(|estimate / se|)) = erfc(|z| / sqrt 2).
Interval Normal(double estimate, double se, double z) {
  Interval out{estimate, se, estimate - z * se, estimate + z * se, std::nullopt};
  if (se > 0) out.p = std::erfc(std::fabs(estimate / se) / std::sqrt(2.0));
  return out;
}

}  // namespace

Result<LiftSummary> EstimateLift(const LiftInput& in) {
  if (auto e = ValidateGroup(in.test, "test")) return *e;
  if (auto e = ValidateGroup(in.holdout, "holdout")) return *e;
  if (in.spend && (!(*in.spend >= 0) || !std::isfinite(*in.spend))) {
    return Error{"spend", "spend must be a non-negative number"};
  }
  if (in.reach && !(*in.reach > 0 && *in.reach <= 1))
    return Error{"reach", "reach must be in (0, 1]"};
  if (!(in.confidence > 0 && in.confidence < 1)) return Error{"confidence", "must be in (0, 1)"};
  if (in.holdout.conversions == 0) {
    return InsufficientData("holdout.conversions",
                            "the holdout has no conversions: relative lift is undefined");
  }
  const double z = CriticalValue(kInfiniteDf, in.confidence);
  const LiftGroup& t = in.test;
  const LiftGroup& h = in.holdout;
  LiftSummary s;
  const double pt = t.conversions / t.users, ph = h.conversions / h.users;
  const double vt = pt * (1 - pt) / t.users, vh = ph * (1 - ph) / h.users;
  s.test_rate = pt;
  s.holdout_rate = ph;
  s.test_revenue_per_user = t.revenue / t.users;
  s.holdout_revenue_per_user = h.revenue / h.users;

  s.rate_difference = Normal(pt - ph, std::sqrt(vt + vh), z);
  s.incremental_conversions = Normal((pt - ph) * t.users, t.users * std::sqrt(vt + vh), z);
  const double lift_se = std::sqrt(vt / (ph * ph) + pt * pt * vh / (ph * ph * ph * ph));
  s.relative_lift = MakeInference(pt / ph - 1, lift_se, kInfiniteDf, in.confidence);

  const double dr = (s.test_revenue_per_user - s.holdout_revenue_per_user) * t.users;
  std::optional<double> rev_diff_se;
  if (t.revenue_sum_squares && h.revenue_sum_squares) {
    auto var = [](const LiftGroup& g) {
      const double mean = g.revenue / g.users;
      return std::max(0.0, (*g.revenue_sum_squares - g.users * mean * mean) / (g.users - 1));
    };
    rev_diff_se = std::sqrt(var(t) / t.users + var(h) / h.users);
    s.incremental_revenue = Normal(dr, t.users * *rev_diff_se, z);
  } else {
    s.incremental_revenue = Interval{dr, std::nullopt, std::nullopt, std::nullopt};
    s.warnings.push_back({"no_revenue_variance",
                          "revenue_sum_squares not given for both groups: no CI for incremental "
                          "revenue or iROAS"});
  }

  if (in.spend) {
    const double spend = *in.spend;
    if (spend > 0) {
      Interval roas{dr / spend, std::nullopt, std::nullopt, std::nullopt};
      if (s.incremental_revenue.se) {
        roas.se = *s.incremental_revenue.se / spend;
        roas.ci_lower = *s.incremental_revenue.ci_lower / spend;
        roas.ci_upper = *s.incremental_revenue.ci_upper / spend;
        roas.p = s.incremental_revenue.p;  // spend is known: the same test
      }
      s.iroas = roas;
    }
    const Interval& dc = s.incremental_conversions;
    if (dc.estimate > 0) {
      Interval cpic{spend / dc.estimate, std::nullopt, std::nullopt, std::nullopt};
      if (*dc.ci_lower > 0) {
        cpic.ci_lower = spend / *dc.ci_upper;
        cpic.ci_upper = spend / *dc.ci_lower;
      } else {
        s.warnings.push_back({"cpic_unbounded",
                              "the incremental-conversions interval includes 0, so the cost per "
                              "incremental conversion has no finite upper bound"});
      }
      s.cost_per_incremental_conversion = cpic;
    } else {
      s.warnings.push_back({"no_incremental_conversions",
                            "incremental conversions are not positive: cost per incremental "
                            "conversion is undefined"});
    }
  }

  if (in.reach) {
    const double r = *in.reach;
    auto scale = [&](const Interval& i) {
      Interval o{i.estimate / r, std::nullopt, std::nullopt, std::nullopt};
      if (i.se) {
        o.se = *i.se / r;
        o.ci_lower = *i.ci_lower / r;
        o.ci_upper = *i.ci_upper / r;
        o.p = i.p;  // reach is known: the same test
      }
      return o;
    };
    s.tot_rate_difference = scale(s.rate_difference);
    Interval rev{s.test_revenue_per_user - s.holdout_revenue_per_user, std::nullopt, std::nullopt,
                 std::nullopt};
    if (rev_diff_se) rev = Normal(rev.estimate, *rev_diff_se, z);
    s.tot_revenue_per_user = scale(rev);
  }
  return s;
}

}  // namespace causeway::causal
