#!/usr/bin/env python3
"""Reference values of the Dirichlet-multinomial sequential SRM test
(Lindon & Malek 2022, "Anytime-Valid Inference for Multinomial Count Data"),
written from the paper's formulas with scipy.special (not from any package's
code). Counts are seeded draws. Writes sequential_srm.json next to this script.

H0: users fall in variants with probabilities p0. Alternative: a Dirichlet(a)
mixture, a = k p0 (k = the concentration). From cumulative counts n, N = sum n:
  log BF = log B(a + n) - log B(a) - sum n_i log p0_i,
  log B(x) = sum gammaln(x_i) - gammaln(sum x_i)
(the multinomial coefficients cancel). For two variants log B is scipy's betaln,
used as a second, independent evaluation. The anytime-valid p-value after looks
1..t is min over looks of min(1, 1/BF).

cases: one look each. paths: cumulative counts at successive looks, with the
Bayes factor and the running-minimum p-value at each.
"""
import json
import math
import random

import numpy as np
from scipy.special import betaln, gammaln


def log_multivariate_beta(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(gammaln(x)) - gammaln(np.sum(x)))


def log_bf(n, p0, k):
    n = np.asarray(n, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    a = k * p0
    value = log_multivariate_beta(a + n) - log_multivariate_beta(a) - float(np.sum(n * np.log(p0)))
    # For two variants, the same through betaln. The two agree to about 1e-7
    # absolute at 10^8 users: each log-gamma is ~1e9 there, so double precision
    # leaves ~1e-7 of the difference (the C++ test's tolerance is 1e-6 absolute).
    if len(n) == 2:
        other = (betaln(a[0] + n[0], a[1] + n[1]) - betaln(a[0], a[1])
                 - float(np.sum(n * np.log(p0))))
        assert abs(other - value) <= 1e-6, (other, value)
    return value


rng = random.Random(20221128)
cases = []
for p0 in ([.5, .5], [.2, .8], [1 / 3, 1 / 3, 1 / 3], [.1, .2, .3, .2, .2]):
    for shift in (0.0, 0.02):
        true = [p * (1 - shift) + q * shift for p, q in zip(p0, p0[1:] + p0[:1])]
        for total in (1000, 10**6, 10**8):
            # approximate multinomial by rounding seeded normal draws (only needs to be seeded)
            n = [max(0, int(round(total * t + rng.gauss(0, math.sqrt(total * t))))) for t in true]
            cases.append({"counts": n, "weights": p0, "concentration": 1e4,
                          "log_bf": log_bf(n, p0, 1e4)})
# Other concentrations (the prior's spread) on a few of the same counts.
for c in list(cases[:12:3]):
    for k in (100.0, 1e6):
        cases.append({"counts": c["counts"], "weights": c["weights"], "concentration": k,
                      "log_bf": log_bf(c["counts"], c["weights"], k)})

# Paths: 5-minute looks at about 70 users per look (20 000 a day), A/A and a
# 50.5/49.5 split, and a three-variant path.
np_rng = np.random.default_rng(20221128)
paths = []
for name, p0, true, looks in (("aa", [.5, .5], [.5, .5], 300),
                              ("srm_50.5", [.5, .5], [.505, .495], 300),
                              ("three", [.25, .25, .5], [.26, .25, .49], 200)):
    counts = np.zeros(len(p0), dtype=np.int64)
    p_min = 1.0
    steps = []
    for _ in range(looks):
        counts += np_rng.multinomial(np_rng.poisson(20000 / 288), true)
        lb = log_bf(counts, p0, 1e4)
        p_min = min(p_min, min(1.0, math.exp(-lb)))
        steps.append({"counts": counts.tolist(), "log_bf": lb, "p_value": p_min})
    paths.append({"name": name, "weights": p0, "concentration": 1e4, "looks": steps})

with open(__file__.replace(".py", ".json"), "w") as f:
    json.dump({"cases": cases, "paths": paths}, f, indent=1)
