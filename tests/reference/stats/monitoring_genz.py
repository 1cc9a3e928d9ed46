#!/usr/bin/env python3
"""Lan-DeMets O'Brien-Fleming boundaries (two-sided, alpha = 0.05) for look sequences
with small information increments, computed independently of the recursion in
src/stats/group_sequential.cc: the probability of not crossing through look k is
the multivariate normal rectangle probability P(|Z_j| < c_j, j <= k) with
corr(Z_i, Z_j) = sqrt(t_i / t_j), evaluated by Genz's algorithm
(scipy.stats.multivariate_normal.cdf, abseps 1e-10), and each c_k solves
P(no crossing through k-1) - P(no crossing through k) = A(t_k) - A(t_{k-1}) by brentq.
rpact's fixed grid is inaccurate for such increments (see monitoring_boundaries.R).
Slow (about 15 minutes); regenerate with Debian's python3-scipy 1.10:

    /usr/bin/python3 tests/reference/stats/monitoring_genz.py > tests/reference/stats/monitoring_genz.json
"""
import json

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.stats import multivariate_normal, norm

ALPHA = 0.05
DESIGNS = [[0.3, 0.6, 0.6001, 1.0], [0.3, 0.6, 0.605, 1.0], [0.3, 0.6, 0.9999, 1.0]]


def spent(t):  # A(t) = 2 * a(t), a(t) = 2 (1 - Phi(z_{1 - alpha/4} / sqrt(t)))
    return 2.0 * 2.0 * norm.sf(norm.isf(ALPHA / 4.0) / np.sqrt(t))


def no_crossing(ts, cs):
    ts, cs = np.array(ts), np.array(cs)
    if len(ts) == 1:
        return norm.cdf(cs[0]) - norm.cdf(-cs[0])
    cov = np.sqrt(np.minimum.outer(ts, ts) / np.maximum.outer(ts, ts))
    return multivariate_normal.cdf(cs, mean=np.zeros(len(ts)), cov=cov, maxpts=2000000 * len(ts),
                                   abseps=1e-10, releps=1e-8, lower_limit=-cs)


def boundaries(ts):
    cs, before, spent_before = [], 1.0, 0.0
    for k, t in enumerate(ts):
        target = spent(t) - spent_before
        c = brentq(lambda c: before - no_crossing(ts[:k + 1], cs + [c]) - target, 0.5, 12.0,
                   xtol=1e-9)
        cs.append(c)
        before, spent_before = no_crossing(ts[:k + 1], cs), spent(t)
    return cs


out = {"generator": f"scipy {scipy.__version__} multivariate_normal.cdf (Genz), brentq",
       "alpha": ALPHA, "sides": 2,
       "designs": [{"information_fractions": ts, "z": boundaries(ts)} for ts in DESIGNS]}
print(json.dumps(out, indent=1))
