#!/usr/bin/env python3
"""Seeded synthetic panels for the causal reference fixtures (numpy only).

Writes synth_balanced.csv and synth_unbalanced.csv: columns
unit,time,y,x1,w,start (start empty for never-treated units). Run with Debian's
/usr/bin/python3 (python3-numpy). Deterministic: numpy.random.default_rng(seed).
"""
import numpy as np


def panel(seed, units, periods, drop_share):
    rng = np.random.default_rng(seed)
    ids = 1000 + 7 * np.arange(units)  # sparse ids exercise the dense re-indexing
    cohorts = np.array([0, 4, 6, 8])  # 0 = never treated; periods are 1..T
    start = rng.choice(cohorts, size=units, p=[0.4, 0.2, 0.2, 0.2])
    alpha = rng.normal(0, 1, units)
    lam = rng.normal(0, 0.5, periods)
    w_unit = rng.uniform(0.5, 2.0, units)
    rows = []
    for i in range(units):
        for t in range(1, periods + 1):
            if drop_share > 0 and rng.uniform() < drop_share:
                continue
            x1 = rng.normal(0, 1) + 0.3 * t
            treated = start[i] > 0 and t >= start[i]
            effect = (1.0 + 0.2 * (t - start[i])) if treated else 0.0
            y = alpha[i] + lam[t - 1] + 0.5 * x1 + effect + rng.normal(0, 1)
            w = w_unit[i] * rng.uniform(0.8, 1.25)
            rows.append((ids[i], t, y, x1, w, "" if start[i] == 0 else str(start[i])))
    return rows


def write(path, rows):
    with open(path, "w") as f:
        f.write("unit,time,y,x1,w,start\n")
        for u, t, y, x1, w, s in rows:
            f.write(f"{u},{t},{y!r},{x1!r},{w!r},{s}\n")


write("synth_balanced.csv", panel(20261123, 60, 10, 0.0))
write("synth_unbalanced.csv", panel(7, 80, 10, 0.15))
