#!/usr/bin/python3
"""Reference values for src/stats/, computed with Debian's scipy and statsmodels.

Regenerate (from the repository root):
    /usr/bin/python3 tests/reference/stats/make_fixtures.py > tests/reference/stats/fixtures.json

Every case stores the *inputs* the C++ core sees (sufficient statistics computed
from seeded synthetic data) and the *expected* outputs produced here by scipy /
statsmodels. Where no library function exists (relative-lift delta method,
GrowthBook's mixture-SPRT formula, normal-approximation Bayesian summaries) the
expected value is written out from the published formula independently of the
C++ code, and the source is named next to it. Infinite interval ends are null.
"""
import json
import math
import sys

import numpy as np
import scipy
import statsmodels
from scipy import integrate, optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (confint_proportions_2indep,
                                          power_proportions_2indep,
                                          proportions_ztest)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
import statsmodels.api as sm

rng = np.random.default_rng(20261123)
SM_ALT = {"two_sided": "two-sided", "greater": "larger", "less": "smaller"}


def fin(x):
    x = float(x)
    return x if math.isfinite(x) else None


def moments(x):
    x = np.asarray(x, dtype=float)
    return {"n": int(x.size), "sum": float(x.sum()), "sum_squares": float((x * x).sum()),
            "mean": float(x.mean()), "variance": float(x.var(ddof=1))}


def cross(x, y):
    return float((np.asarray(x, float) * np.asarray(y, float)).sum())


# ---------------------------------------------------------------- Welch t test
def mean_cases():
    out = []
    specs = [
        # n_c, n_t, generator, alpha, alternative
        (500, 520, "normal", 0.05, "two_sided"),
        (40, 35, "normal", 0.10, "two_sided"),
        (3000, 2900, "exponential", 0.05, "two_sided"),
        (12, 200, "normal", 0.01, "two_sided"),
        (800, 760, "lognormal", 0.05, "greater"),
        (800, 760, "lognormal", 0.05, "less"),
        (5000, 5000, "normal", 0.2, "two_sided"),
        (2, 3, "normal", 0.05, "two_sided"),
    ]
    for n_c, n_t, gen, alpha, alt in specs:
        if gen == "normal":
            c = rng.normal(10.0, 3.0, n_c)
            t = rng.normal(10.4, 4.0, n_t)
        elif gen == "exponential":
            c = rng.exponential(2.0, n_c)
            t = rng.exponential(2.1, n_t)
        else:
            c = rng.lognormal(1.0, 0.8, n_c)
            t = rng.lognormal(1.05, 0.8, n_t)
        cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        tstat, p, df = cm.ttest_ind(alternative=SM_ALT[alt], usevar="unequal")
        lo, hi = cm.tconfint_diff(alpha=alpha, alternative=SM_ALT[alt], usevar="unequal")
        mc, mt = c.mean(), t.mean()
        vc, vt = c.var(ddof=1) / n_c, t.var(ddof=1) / n_t
        # Relative lift mt/mc - 1, delta-method variance for a ratio of independent
        # means (e.g. Casella & Berger 5.5.4; GrowthBook gbstats frequentist):
        #   Var ~= vt/mc^2 + mt^2 vc / mc^4, interval on the lift scale with the Welch df.
        rel = mt / mc - 1
        rel_se = math.sqrt(vt / mc**2 + mt**2 * vc / mc**4)
        if alt == "two_sided":
            q = stats.t.ppf(1 - alpha / 2, df)
            rlo, rhi = rel - q * rel_se, rel + q * rel_se
        elif alt == "greater":
            rlo, rhi = rel - stats.t.ppf(1 - alpha, df) * rel_se, math.inf
        else:
            rlo, rhi = -math.inf, rel + stats.t.ppf(1 - alpha, df) * rel_se
        out.append({"control": moments(c), "treatment": moments(t), "alpha": alpha,
                    "alternative": alt,
                    "expected": {"difference": float(mt - mc), "std_error": float(cm.std_meandiff_separatevar),
                                 "df": float(df), "statistic": float(tstat), "p_value": float(p),
                                 "ci": [fin(lo), fin(hi)], "relative": float(rel),
                                 "relative_std_error": rel_se, "relative_ci": [fin(rlo), fin(rhi)]}})
    return out


# ------------------------------------------------------- two-proportion z test
def proportion_cases():
    out = []
    specs = [
        (10000, 1000, 10000, 1100, 0.05, "two_sided"),
        (2500, 50, 2600, 71, 0.05, "two_sided"),
        (400, 120, 380, 100, 0.10, "two_sided"),
        (100000, 3020, 99000, 3100, 0.01, "two_sided"),
        (1500, 300, 1500, 345, 0.05, "greater"),
        (1500, 300, 1500, 345, 0.05, "less"),
        (50, 5, 60, 1, 0.05, "two_sided"),
    ]
    for n_c, x_c, n_t, x_t, alpha, alt in specs:
        z, p = proportions_ztest([x_t, x_c], [n_t, n_c], alternative=SM_ALT[alt])
        if alt == "two_sided":
            lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=alpha)
        else:
            lo2, hi2 = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=2 * alpha)
            lo, hi = (lo2, math.inf) if alt == "greater" else (-math.inf, hi2)
        pc, pt = x_c / n_c, x_t / n_t
        vc, vt = pc * (1 - pc) / n_c, pt * (1 - pt) / n_t
        rel = pt / pc - 1
        rel_se = math.sqrt(vt / pc**2 + pt**2 * vc / pc**4)
        if alt == "two_sided":
            q = stats.norm.ppf(1 - alpha / 2)
            rlo, rhi = rel - q * rel_se, rel + q * rel_se
        elif alt == "greater":
            rlo, rhi = rel - stats.norm.ppf(1 - alpha) * rel_se, math.inf
        else:
            rlo, rhi = -math.inf, rel + stats.norm.ppf(1 - alpha) * rel_se
        out.append({"control": {"n": n_c, "conversions": x_c}, "treatment": {"n": n_t, "conversions": x_t},
                    "alpha": alpha, "alternative": alt,
                    "expected": {"difference": pt - pc, "statistic": float(z), "p_value": float(p),
                                 "ci": [fin(lo), fin(hi)], "relative": rel, "relative_std_error": rel_se,
                                 "relative_ci": [fin(rlo), fin(rhi)]}})
    return out


# ------------------------------------------------------ sample ratio mismatch
def srm_cases():
    out = []
    for counts, weights in [([10000, 10120], [0.5, 0.5]), ([5000, 5400], [1, 1]),
                            ([3300, 3350, 3390], [1, 1, 1]), ([2000, 6150], [0.25, 0.75]),
                            ([1000, 2000, 2900, 4100], [0.1, 0.2, 0.3, 0.4]), ([50, 50], [0.5, 0.5])]:
        w = np.asarray(weights, float)
        exp = np.sum(counts) * w / w.sum()
        chi2, p = stats.chisquare(counts, f_exp=exp)
        out.append({"counts": counts, "weights": weights,
                    "expected": {"chi_square": float(chi2), "df": len(counts) - 1, "p_value": float(p)}})
    return out


# ----------------------------------------------------------- multiple testing
def multiple_testing_cases():
    out = []
    for p in [[0.01, 0.04, 0.03, 0.005], [0.2, 0.001, 0.04, 0.04, 0.9, 0.011],
              [0.5], [0.049, 0.051], list(rng.uniform(0, 0.1, 12).round(6))]:
        holm = multipletests(p, alpha=0.05, method="holm")[1]
        bh = multipletests(p, alpha=0.05, method="fdr_bh")[1]
        out.append({"p": [float(v) for v in p], "holm": [float(v) for v in holm],
                    "benjamini_hochberg": [float(v) for v in bh]})
    return out


# ------------------------------------------------------------------ power etc.
def power_cases():
    """Power includes both rejection tails of the z test. statsmodels:
    power_proportions_2indep (null variance pooled, alternative unpooled) and
    NormalIndPower (means, common sigma). Sample size and MDE solve power = target
    with brentq on the statsmodels power function."""
    out = []
    for p_c, delta, n_c, ratio, alpha, alt in [(0.10, 0.01, 10000, 1.0, 0.05, "two_sided"),
                                               (0.03, 0.005, 30000, 1.0, 0.05, "two_sided"),
                                               (0.40, -0.05, 800, 2.0, 0.10, "two_sided"),
                                               (0.20, 0.02, 5000, 1.0, 0.05, "greater")]:
        # statsmodels' group 1 is the treatment (prop2 + diff); ratio = nobs2 / nobs1.
        n_t = n_c * ratio
        pw = lambda n1: power_proportions_2indep(delta, p_c, n1, ratio=1 / ratio, alpha=alpha,
                                                 alternative=SM_ALT[alt], return_results=False)
        power = float(pw(n_t))
        target = 0.8
        n1_star = optimize.brentq(lambda n1: pw(n1) - target, 2, 1e9, xtol=1e-9)
        sign = 1 if delta > 0 else -1
        mde = optimize.brentq(lambda d: power_proportions_2indep(d, p_c, n_t, ratio=1 / ratio, alpha=alpha,
                                                                 alternative=SM_ALT[alt], return_results=False) - target,
                              1e-9 * sign, (1 - p_c - 1e-9) if sign > 0 else (-p_c + 1e-9), xtol=1e-12)
        out.append({"metric_type": "binomial", "baseline": p_c, "effect": delta, "n_control": n_c,
                    "ratio": ratio, "alpha": alpha, "alternative": alt, "power_target": target,
                    "expected": {"power": power, "n_control_for_target": n1_star / ratio,
                                 "mde_at_n": mde}})
    for sigma, delta, n_c, ratio, alpha, alt in [(3.0, 0.2, 4000, 1.0, 0.05, "two_sided"),
                                                 (50.0, 2.5, 2000, 0.5, 0.01, "two_sided"),
                                                 (1.0, 0.1, 1500, 1.0, 0.05, "greater")]:
        # NormalIndPower: effect size d = delta / sigma, nobs1 = control, ratio = n_t / n_c.
        pa = NormalIndPower()
        power = pa.power(effect_size=delta / sigma, nobs1=n_c, alpha=alpha, ratio=ratio,
                         alternative=SM_ALT[alt])
        n_star = pa.solve_power(effect_size=delta / sigma, nobs1=None, alpha=alpha, ratio=ratio,
                                power=0.8, alternative=SM_ALT[alt])
        # solve_power's own root finder stops at ~1e-5; solve the statsmodels power
        # function to full precision instead.
        es = optimize.brentq(lambda e: pa.power(effect_size=e, nobs1=n_c, alpha=alpha, ratio=ratio,
                                                alternative=SM_ALT[alt]) - 0.8, 1e-9, 10, xtol=1e-14)
        out.append({"metric_type": "mean", "sigma": sigma, "effect": delta, "n_control": n_c,
                    "ratio": ratio, "alpha": alpha, "alternative": alt, "power_target": 0.8,
                    "expected": {"power": float(power), "n_control_for_target": float(n_star),
                                 "mde_at_n": float(es) * sigma}})
    return out


# ------------------------------------------------- ratio metrics and CUPED
def ratio_cuped_cases():
    """Ratio metric R = sum(y)/sum(d) per arm; delta-method variance equals the
    variance of the mean of the linearised values z = (y - R d) / mean(d)
    (Deng, Knoblich & Lu 2018). CUPED: theta is the pooled within-arm slope,
    identical to the coefficient of x in the OLS fit y ~ arm + x (statsmodels);
    the effect is that OLS arm coefficient, and its standard error is the Welch
    (unequal-variance) z standard error of the adjusted values y - theta x."""
    out = []
    for n_c, n_t, lift in [(3000, 3100, 1.03), (800, 760, 1.0), (20000, 20000, 1.01)]:
        def arm(n, mult):
            orders = rng.poisson(2.0, n) + 1                 # denominator: orders per user
            pre_orders = rng.poisson(2.0, n) + 1
            base = rng.gamma(2.0, 10.0, n)                    # user-level spend propensity
            revenue = orders * base * mult * rng.lognormal(0, 0.3, n)
            pre_revenue = pre_orders * base * rng.lognormal(0, 0.3, n)
            return revenue, orders.astype(float), pre_revenue, pre_orders.astype(float)
        yc, dc, xc, ec = arm(n_c, 1.0)
        yt, dt, xt, et = arm(n_t, lift)

        def suff(y, d, x, e):
            return {"n": int(y.size),
                    "numerator_sum": float(y.sum()), "numerator_sum_squares": float((y * y).sum()),
                    "denominator_sum": float(d.sum()), "denominator_sum_squares": float((d * d).sum()),
                    "numerator_denominator_sum_product": cross(y, d),
                    "covariate_sum": float(x.sum()), "covariate_sum_squares": float((x * x).sum()),
                    "covariate_numerator_sum_product": cross(x, y),
                    # For CUPED on the ratio metric: pre-period denominator e and all cross products.
                    "covariate_denominator_sum": float(e.sum()), "covariate_denominator_sum_squares": float((e * e).sum()),
                    "cross_products": {"y_x": cross(y, x), "y_e": cross(y, e), "d_x": cross(d, x),
                                       "d_e": cross(d, e), "x_e": cross(x, e)}}
        # --- ratio metric, delta method via linearisation + statsmodels CompareMeans
        rc, rt = yc.sum() / dc.sum(), yt.sum() / dt.sum()
        zc = (yc - rc * dc) / dc.mean()
        zt = (yt - rt * dt) / dt.mean()
        se_c, se_t = DescrStatsW(zc).std_mean, DescrStatsW(zt).std_mean
        se_ratio = CompareMeans(DescrStatsW(zt), DescrStatsW(zc)).std_meandiff_separatevar
        ratio_expected = {"control": rc, "treatment": rt, "control_std_error": float(se_c),
                          "treatment_std_error": float(se_t), "difference": rt - rc,
                          "std_error": float(se_ratio)}
        # --- CUPED on the per-user mean metric y with covariate x
        y = np.concatenate([yc, yt]); x = np.concatenate([xc, xt])
        arm_ind = np.concatenate([np.zeros(n_c), np.ones(n_t)])
        ols = sm.OLS(y, sm.add_constant(np.column_stack([arm_ind, x]))).fit()
        theta = float(ols.params[2])
        adj_c, adj_t = yc - theta * xc, yt - theta * xt
        cm_adj = CompareMeans(DescrStatsW(adj_t), DescrStatsW(adj_c))
        cm_raw = CompareMeans(DescrStatsW(yt), DescrStatsW(yc))
        # Adjusted arm means are centred at the pooled covariate mean.
        xbar = x.mean()
        cuped_expected = {"theta": theta, "difference": float(ols.params[1]),
                          "std_error": float(cm_adj.std_meandiff_separatevar),
                          "unadjusted_std_error": float(cm_raw.std_meandiff_separatevar),
                          "variance_reduction": 1 - float(cm_adj.std_meandiff_separatevar**2 / cm_raw.std_meandiff_separatevar**2),
                          "control_adjusted_mean": float(yc.mean() - theta * (xc.mean() - xbar)),
                          "treatment_adjusted_mean": float(yt.mean() - theta * (xt.mean() - xbar))}
        # --- CUPED on the ratio metric: linearise both the metric ratio and the
        # pre-period ratio, pooled within-arm OLS slope of one on the other.
        qc, qt = xc.sum() / ec.sum(), xt.sum() / et.sum()
        wc = (xc - qc * ec) / ec.mean()
        wt = (xt - qt * et) / et.mean()
        zz = np.concatenate([zc, zt]); ww = np.concatenate([wc, wt])
        ols2 = sm.OLS(zz, sm.add_constant(np.column_stack([arm_ind, ww]))).fit()
        theta2 = float(ols2.params[2])
        q_pool = x.sum() / np.concatenate([ec, et]).sum()
        lin_c, lin_t = zc - theta2 * wc, zt - theta2 * wt
        ratio_cuped_expected = {"theta": theta2,
                                "control_adjusted": float(rc - theta2 * (qc - q_pool)),
                                "treatment_adjusted": float(rt - theta2 * (qt - q_pool)),
                                "difference": float((rt - theta2 * qt) - (rc - theta2 * qc)),
                                "std_error": float(CompareMeans(DescrStatsW(lin_t), DescrStatsW(lin_c)).std_meandiff_separatevar)}
        out.append({"control": suff(yc, dc, xc, ec), "treatment": suff(yt, dt, xt, et),
                    "expected": {"ratio": ratio_expected, "cuped": cuped_expected,
                                 "ratio_cuped": ratio_cuped_expected}})
    return out


# ------------------------------------- always-valid (mixture SPRT) intervals
def sequential_rho(alpha, expected_n, two_sided=True):
    # GrowthBook gbstats/frequentist/tests.py `sequential_rho`, citing eq. 161 of
    # Waudby-Smith et al. (arXiv:2103.06476v7): rho^2 chosen so the boundary is
    # tightest at n = expected_n (sequential_tuning_parameter).
    a = alpha if two_sided else 2 * alpha
    return math.sqrt((-2 * math.log(a) + math.log(-2 * math.log(a) + 1)) / expected_n)


def always_valid_cases():
    out = []
    for (mc, vc, nc, mt, vt, nt, alpha, expected_n) in [
            (10.0, 9.0, 5000, 10.2, 10.0, 5100, 0.05, 20000),
            (0.10, 0.09, 10000, 0.11, 0.0979, 10000, 0.05, 20000),
            (3.0, 4.0, 300, 3.1, 4.5, 320, 0.10, 5000),
            (100.0, 2500.0, 50000, 100.3, 2600.0, 50000, 0.01, 200000)]:
        n = nc + nt
        d = mt - mc
        se = math.sqrt(vc / nc + vt / nt)
        rho = sequential_rho(alpha, expected_n)
        # eq. 9 (two-sided normal-mixture confidence sequence), GrowthBook `sequential_interval_halfwidth`
        s2 = se**2 * n
        hw = math.sqrt(s2) * math.sqrt(2 * (n * rho**2 + 1) * math.log(math.sqrt(n * rho**2 + 1) / alpha) / (n * rho) ** 2)
        st2 = d**2 * n / se**2
        tr2p1 = n * rho**2 + 1
        evalue = math.exp(rho**2 * st2 / (2 * tr2p1)) / math.sqrt(tr2p1)
        p = min(1.0, 1.0 / evalue)
        rel = mt / mc - 1
        rel_se = math.sqrt(vt / nt / mc**2 + mt**2 * vc / nc / mc**4)
        rel_hw = rel_se * math.sqrt(2 * (n * rho**2 + 1) * math.log(math.sqrt(n * rho**2 + 1) / alpha) / (n * rho**2))
        # one-sided (treatment greater) lower bound, eq. 134, rho tuned with 2*alpha
        rho1 = sequential_rho(alpha, expected_n, two_sided=False)
        hw1 = math.sqrt(se**2 * n * 2 * (n * rho1**2 + 1) / (n * rho1) ** 2 *
                        math.log(1 + math.sqrt(n * rho1**2 + 1) / (2 * alpha)))
        out.append({"control": {"n": nc, "mean": mc, "variance": vc}, "treatment": {"n": nt, "mean": mt, "variance": vt},
                    "alpha": alpha, "expected_n": expected_n,
                    "expected": {"rho": rho, "ci": [d - hw, d + hw], "p_value": p,
                                 "relative_ci": [rel - rel_hw, rel + rel_hw],
                                 "one_sided_greater_lower": d - hw1}})
    return out


# ----------------------------------------------------------- Bayesian summary
def bayesian_cases():
    """Flat prior, normal approximation: delta ~ N(d, se^2). Chance to beat
    control P(delta > 0); expected loss of shipping treatment E[max(-delta, 0)]
    and of keeping control E[max(delta, 0)], by numerical integration (scipy quad)."""
    out = []
    for d, se in [(0.01, 0.004), (-0.3, 0.5), (0.0, 1.0), (2.0, 0.7), (-0.001, 0.0002)]:
        pdf = lambda x: stats.norm.pdf(x, d, se)
        # Finite limits d -/+ 40 se (the mass beyond is < 1e-300) so quad sees the peak.
        lo, hi = d - 40 * se, d + 40 * se
        kw = dict(epsabs=1e-15, epsrel=1e-12, limit=200)
        ctw = integrate.quad(pdf, max(lo, 0), hi, **kw)[0] if hi > 0 else 0.0
        loss_t = integrate.quad(lambda x: -x * pdf(x), lo, min(hi, 0), **kw)[0] if lo < 0 else 0.0
        loss_c = integrate.quad(lambda x: x * pdf(x), max(lo, 0), hi, **kw)[0] if hi > 0 else 0.0
        out.append({"difference": d, "std_error": se,
                    "expected": {"chance_to_beat_control": ctw, "expected_loss_treatment": loss_t,
                                 "expected_loss_control": loss_c}})
    return out


fixtures = {
    "generator": f"scipy {scipy.__version__}, statsmodels {statsmodels.__version__}, numpy {np.__version__}",
    "means": mean_cases(), "proportions": proportion_cases(), "srm": srm_cases(),
    "multiple_testing": multiple_testing_cases(), "power": power_cases(),
    "ratio_cuped": ratio_cuped_cases(), "always_valid": always_valid_cases(),
    "bayesian": bayesian_cases(),
}
json.dump(fixtures, sys.stdout, indent=1, allow_nan=False)
sys.stdout.write("\n")
