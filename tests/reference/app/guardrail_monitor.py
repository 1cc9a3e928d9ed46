#!/usr/bin/env python3
"""Reference values of the guardrail monitor (src/app/experiment_monitors.h):
the one-sided always-valid test of harm beyond a non-inferiority margin.

Written from the formulas, independently of the C++ (numpy, scipy):
- seeded per-user data (binomial, mean, ratio metrics); the relative effect
  theta = m_t / m_c - 1 and its delta-method standard error
  se^2 = V_t / m_c^2 + m_t^2 V_c / m_c^4, with V the variance of each arm's
  estimate: p (1 - p) / n (binomial), s^2 / n with ddof = 1 (mean), and for a
  ratio R = sum y / sum d: (s_yy - 2 R s_yd + R^2 s_dd) / (n dbar^2) from
  numpy.cov;
- the good-direction effect g = theta (higher is better) or -theta, shifted by
  the margin: x = g + margin; H0: x >= 0 against x < 0;
- the one-sided normal-mixture confidence sequence (Howard et al. 2021;
  Waudby-Smith et al. 2023 eq. 134): with N users of both arms and
  rho = sqrt((-2 ln(2 alpha) + ln(-2 ln(2 alpha) + 1)) / N*), the upper end
  x + hw(alpha) where hw(a) = se sqrt(2 (N rho^2 + 1) / (N rho^2)
  ln(1 + sqrt(N rho^2 + 1) / (2 a)));
- the always-valid p-value: the a at which the upper end reaches 0, found by
  scipy.optimize.brentq on hw(a) = -x (1 when x >= 0), not by the closed form;
- harm when p <= alpha; bound = the good-direction upper end g + hw(alpha).

Writes guardrail_monitor.json next to this script.
"""
import json
import math

import numpy as np
from scipy.optimize import brentq


def half_width(se, n, rho, a):
    nr2 = n * rho * rho
    return se * math.sqrt(2 * (nr2 + 1) / nr2 * math.log(1 + math.sqrt(nr2 + 1) / (2 * a)))


def test(theta, se, n, higher_is_better, margin, alpha, expected_n):
    l = -2 * math.log(2 * alpha)
    rho = math.sqrt((l + math.log(l + 1)) / expected_n)
    g = theta if higher_is_better else -theta
    x = g + margin
    # f(u) = hw(e^u) + x decreases in u; its root is ln p.
    f = lambda u: half_width(se, n, rho, math.exp(u)) + x
    if x >= 0 or f(0.0) > 0:
        p = 1.0  # the upper end stays above 0 even at a = 1
    elif f(-690.0) < 0:
        p = 0.0  # below 1e-300
    else:
        p = math.exp(brentq(f, -690.0, 0.0, xtol=1e-13, rtol=1e-15, maxiter=500))
    return {"p_value": p, "bound": g + half_width(se, n, rho, alpha), "rho": rho,
            "harm": p <= alpha}


def arm_sums(y, d=None):
    y = np.asarray(y, dtype=float)
    d = np.ones_like(y) if d is None else np.asarray(d, dtype=float)
    return {"n": int(len(y)), "sum_y": float(y.sum()), "sum_d": float(d.sum()),
            "sum_yy": float((y * y).sum()), "sum_yd": float((y * d).sum()),
            "sum_dd": float((d * d).sum())}


def arm_estimate(kind, y, d=None):
    y = np.asarray(y, dtype=float)
    n = len(y)
    if kind == "binomial":
        p = y.mean()
        return p, p * (1 - p) / n
    if kind == "mean":
        return y.mean(), y.var(ddof=1) / n
    d = np.asarray(d, dtype=float)
    r = y.sum() / d.sum()
    c = np.cov(np.vstack([y, d]), ddof=1)
    return r, (c[0, 0] - 2 * r * c[0, 1] + r * r * c[1, 1]) / (n * d.mean() ** 2)


rng = np.random.default_rng(20260301)
cases = []
for kind in ("binomial", "mean", "ratio"):
    for n_c, n_t, lift in ((2000, 2100, 0.0), (20000, 19800, -0.03), (50000, 50500, -0.08),
                           (300, 320, -0.2), (100000, 99000, 0.01)):
        for higher_is_better in (True, False):
            for margin in (0.0, 0.02):
                def draw(n, scale):
                    if kind == "binomial":
                        return (rng.random(n) < 0.1 * scale).astype(float), None
                    if kind == "mean":
                        return rng.gamma(0.5, 40.0 * scale, n), None
                    d = rng.poisson(3.0, n).astype(float) + 1
                    return rng.gamma(0.5, 8.0 * scale, n) * d, d
                yc, dc = draw(n_c, 1.0)
                yt, dt = draw(n_t, 1.0 + lift)
                mc, vc = arm_estimate(kind, yc, dc)
                mt, vt = arm_estimate(kind, yt, dt)
                theta = mt / mc - 1
                se = math.sqrt(vt / mc ** 2 + mt ** 2 * vc / mc ** 4)
                alpha, expected_n = 0.05, 5000.0
                case = {"type": kind, "higher_is_better": higher_is_better, "margin": margin,
                        "alpha": alpha, "expected_n": expected_n,
                        "control": arm_sums(yc, dc), "treatment": arm_sums(yt, dt),
                        "relative": theta, "relative_std_error": se}
                case.update(test(theta, se, n_c + n_t, higher_is_better, margin, alpha, expected_n))
                cases.append(case)

with open(__file__.replace(".py", ".json"), "w") as f:
    json.dump({"cases": cases}, f, indent=1)
print(sum(c["harm"] for c in cases), "harm of", len(cases))
