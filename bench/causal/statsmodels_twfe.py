#!/usr/bin/env python3
"""The bench_causal TWFE model in statsmodels: the same deterministic 1M-row panel
(splitmix64 of (unit, period)), unit and time effects absorbed by two-way demeaning in
pandas (one pass is exact for a balanced panel; 10 000 unit dummies do not fit in memory
as a dense statsmodels design), then OLS with cov_type="cluster" by unit.
Timed: demeaning + fit (panel construction excluded). Prints seconds and the estimate."""
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm

units = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
periods = int(sys.argv[2]) if len(sys.argv) > 2 else 100
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
# --formula: the model as a statsmodels user writes it, y ~ D + C(unit) + C(time) with
# cluster-robust errors (dense dummies: only feasible for small panels).
formula = "--formula" in sys.argv[4:]
M = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x):
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniform(keys):
    return (splitmix64(keys.astype(np.uint64)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


i = np.repeat(np.arange(units, dtype=np.int64), periods)
t = np.tile(np.arange(1, periods + 1, dtype=np.int64), units)
c = i % 11
start = np.where(c == 0, np.iinfo(np.int64).max, 5 + 9 * c)
alpha = 2.0 * uniform(1000000000 + np.arange(units, dtype=np.int64))[i]
treated = t >= start
effect = np.where(treated, 0.5 + 0.01 * (t - np.where(treated, start, 0)), 0.0)
y = alpha + 0.01 * t + effect + (uniform(i * 1000 + t) - 0.5)
df = pd.DataFrame({"unit": i, "time": t, "y": y, "D": treated.astype(float)})


def fit():
    d = df
    out = {}
    for v in ("y", "D"):
        x = d[v]
        out[v] = x - d.groupby("unit")[v].transform("mean") - d.groupby("time")[v].transform("mean") + x.mean()
    return sm.OLS(out["y"].to_numpy(), out["D"].to_numpy()[:, None]).fit(
        cov_type="cluster", cov_kwds={"groups": d["unit"].to_numpy()})


def fit_formula():
    import statsmodels.formula.api as smf
    return smf.ols("y ~ D + C(unit) + C(time)", data=df).fit(
        cov_type="cluster", cov_kwds={"groups": df["unit"].to_numpy()})


times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    r = fit_formula() if formula else fit()
    times.append(time.perf_counter() - t0)
times.sort()
coef = r.params["D"] if formula else r.params[0]
se = r.bse["D"] if formula else r.bse[0]
name = "statsmodels_formula_twfe_seconds" if formula else "statsmodels_twfe_seconds"
print("%s %.4f estimate %.12g se %.12g" % (name, times[len(times) // 2], coef, se))
