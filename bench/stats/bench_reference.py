#!/usr/bin/python3
"""Times the core of the bench_stats analysis (50 metrics x 5 variants: Welch t or
two-proportion z per comparison, Holm per metric, one SRM check) in scipy/statsmodels
for comparison. Run: /usr/bin/python3 bench/stats/bench_reference.py"""
import time

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

rng = np.random.default_rng(1)
metrics = []
for m in range(50):
    n = (20000 + rng.uniform(0, 500, 5)).astype(int)
    metrics.append((m % 2, n, (n * (0.1 + 0.005 * rng.uniform(size=5))).astype(int),
                    10 + rng.uniform(size=5), 9 + rng.uniform(size=5)))


def analyse(correct=True):
    for kind, n, conv, mean, var in metrics:
        p = []
        for v in range(1, 5):
            if kind == 0:
                p.append(proportions_ztest([conv[v], conv[0]], [n[v], n[0]])[1])
            else:
                p.append(stats.ttest_ind_from_stats(mean[v], np.sqrt(var[v]), n[v], mean[0],
                                                    np.sqrt(var[0]), n[0], equal_var=False).pvalue)
        if correct:
            multipletests(p, method="holm")
    stats.chisquare(metrics[0][1])


for correct in (False, True):
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        analyse(correct)
        times.append((time.perf_counter() - t0) * 1e3)
    label = "with" if correct else "without"
    print(f"scipy/statsmodels analysis 50 metrics x 5 variants, {label} Holm (multipletests): "
          f"median {np.median(times):.2f} ms")
