#!/usr/bin/env python3
"""Reference values for the alert rules' tests (src/app/alert_rules.h).

Regenerate: /usr/bin/python3 tests/reference/app/alert_tests.py > tests/reference/app/alert_tests.json
(Debian 12: python3-scipy 1.10.1, python3-statsmodels 0.13.5.)

- two_proportion: statsmodels.stats.proportion.proportions_ztest([x1, x0], [n1, n0])
  (pooled variance), z and the two-sided / one-sided ("smaller": drop) p-values.
- poisson: statsmodels.stats.rates.test_poisson_2indep(x1, t1, x0, t0, method="score"),
  z and the two-sided p; z_conditional is the normal approximation of the conditional
  binomial test, (x1 - n q) / sqrt(n q (1 - q)) with n = x1 + x0, q = t1 / (t1 + t0),
  computed here independently; p_exact_binomial is scipy.stats.binomtest(x1, n, q)'s
  exact two-sided p, recorded to show how close the approximation is at these counts.
"""
import json
import math

from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.rates import test_poisson_2indep

two_proportion = []
for n1, n0 in [(1000, 1000), (2000, 14000), (30000, 210000), (500, 7000)]:
    for p1, p0 in [(0.03, 0.03), (0.024, 0.03), (0.036, 0.03), (0.1, 0.12), (0.5, 0.45)]:
        x1, x0 = round(p1 * n1), round(p0 * n0)
        z, p_two = proportions_ztest([x1, x0], [n1, n0])
        _, p_drop = proportions_ztest([x1, x0], [n1, n0], alternative="smaller")
        two_proportion.append(dict(x1=x1, n1=n1, x0=x0, n0=n0, z=float(z), p_two_sided=float(p_two),
                                   p_drop=float(p_drop)))

poisson = []
for t1, t0 in [(15.0, 105.0), (15.0, 15.0), (900000.0, 6300000.0), (10.0, 70.0)]:
    for x1, x0 in [(900, 6300), (720, 6300), (50, 60), (1000, 6300), (130, 700)]:
        res = test_poisson_2indep(x1, t1, x0, t0, method="score")
        n, q = x1 + x0, t1 / (t1 + t0)
        z_cond = (x1 - n * q) / math.sqrt(n * q * (1 - q))
        p_exact = stats.binomtest(x1, n, q).pvalue
        poisson.append(dict(x1=x1, t1=t1, x0=x0, t0=t0, z=float(res.statistic), p_two_sided=float(res.pvalue),
                            z_conditional=z_cond, p_exact_binomial=float(p_exact)))

print(json.dumps(dict(two_proportion=two_proportion, poisson=poisson), indent=1))
