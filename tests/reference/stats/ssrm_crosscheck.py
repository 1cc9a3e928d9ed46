#!/usr/bin/env python3
"""Cross-check of sequential_srm.json against Optimizely's ssrm package
(github.com/optimizely/ssrm, ssrm_test/ssrm_test.py; the implementation by the
paper's first author). Not run by CI: it needs a checkout of ssrm and numpy,
scipy, toolz (Debian: python3-numpy python3-scipy python3-toolz).

    /usr/bin/python3 tests/reference/stats/ssrm_crosscheck.py /path/to/ssrm

Feeds each case to ssrm as one aggregated data point and each path as its
per-look increments (ssrm multiplies the posterior predictive ratios of the
increments), with ssrm's default prior (dirichlet_probability = the null
probabilities, dirichlet_concentration = 10000) or the case's concentration,
and prints the largest differences. docs/statistics.md records the output.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
from ssrm_test import ssrm_test  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
fixture = json.load(open(os.path.join(here, "sequential_srm.json")))

worst_case = 0.0
for c in fixture["cases"]:
    post = ssrm_test.sequential_posteriors(np.array([c["counts"]]), c["weights"],
                                           dirichlet_concentration=c["concentration"])[-1]
    ref = c["log_bf"]
    got = float(post["log_bayes_factor"])
    worst_case = max(worst_case, abs(got - ref) / max(1.0, abs(ref)))

worst_path_bf = 0.0
worst_path_p = 0.0
for path in fixture["paths"]:
    counts = np.array([s["counts"] for s in path["looks"]])
    increments = np.diff(np.vstack([np.zeros_like(counts[0]), counts]), axis=0)
    posts = ssrm_test.sequential_posteriors(increments, path["weights"],
                                            dirichlet_concentration=path["concentration"])
    for step, post in zip(path["looks"], posts):
        worst_path_bf = max(worst_path_bf, abs(float(post["log_bayes_factor"]) - step["log_bf"]))
        worst_path_p = max(worst_path_p, abs(float(post["p_value"]) - step["p_value"]))

defaults = ssrm_test.sequential_p_values.__defaults__
print(json.dumps({
    "cases": len(fixture["cases"]),
    "max_relative_log_bf_difference_cases": worst_case,
    "path_looks": sum(len(p["looks"]) for p in fixture["paths"]),
    "max_abs_log_bf_difference_paths": worst_path_bf,
    "max_abs_p_value_difference_paths": worst_path_p,
    "ssrm_default_dirichlet_concentration": defaults[-1],
}, indent=1))
