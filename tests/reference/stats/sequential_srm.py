#!/usr/bin/env python3
"""Reference log Bayes factors of the Dirichlet-multinomial SRM test
(Lindon & Malek 2022). scipy/numpy were not importable on the build machine, so
this uses the standard library (math.lgamma); counts are seeded draws.
Writes sequential_srm.json next to this script."""
import json, math, random

def log_bf(n, p0, k):
    a = [k * p for p in p0]
    return (sum(math.lgamma(ai + ni) - math.lgamma(ai) for ai, ni in zip(a, n))
            - math.lgamma(k + sum(n)) + math.lgamma(k)
            - sum(ni * math.log(p) for ni, p in zip(n, p0)))

rng = random.Random(20221128)
cases = []
for p0 in ([.5, .5], [.2, .8], [1/3, 1/3, 1/3], [.1, .2, .3, .2, .2]):
    for shift in (0.0, 0.02):
        true = [p * (1 - shift) + q * shift for p, q in zip(p0, p0[1:] + p0[:1])]
        for total in (1000, 10**6, 10**8):
            # approximate multinomial by rounding seeded normal draws (only needs to be seeded)
            n = [max(0, int(round(total * t + rng.gauss(0, math.sqrt(total * t))))) for t in true]
            cases.append({"counts": n, "weights": p0, "concentration": 1e4,
                          "log_bf": log_bf(n, p0, 1e4)})
with open(__file__.replace(".py", ".json"), "w") as f:
    json.dump({"cases": cases}, f, indent=1)
