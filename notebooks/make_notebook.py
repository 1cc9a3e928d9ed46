"""Writes campaign_did.ipynb (DiD, then a geo test with synthetic control / SDID) (run: /usr/bin/python3 notebooks/make_notebook.py).

The notebook is generated so its JSON stays valid and reviewable as code.
"""
import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s))
code = lambda s: cells.append(nbf.v4.new_code_cell(s))

md("""# Did the TV campaign work? Difference-in-differences with Causeway

A regional TV campaign started on day 30 in 15 of 40 geos. Nobody randomised
users, so an A/B test cannot answer what it caused. We have daily sales per geo
(a geo × day panel) and ask a running Causeway service for:

1. the two-way fixed-effects (TWFE) difference-in-differences estimate, with
   standard errors clustered by geo;
2. the event study: the effect by day relative to launch, with a pre-trend test.

Set `CAUSEWAY_URL` and `CAUSEWAY_ADMIN_KEY` in the environment (the admin key is
printed when the server first starts).""")

code("""import io, os
import numpy as np
import pandas as pd
import requests
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

URL = os.environ.get("CAUSEWAY_URL", "http://localhost:8080")
KEY = os.environ.get("CAUSEWAY_ADMIN_KEY", "")
HEADERS = {"Authorization": f"Bearer {KEY}"} if KEY else {}
print(requests.get(f"{URL}/healthz", timeout=5).json())""")

md("""## The panel

Simulated so we know the truth: each geo has its own level, every day has a
common shock (weekends sell more), and from launch the campaign adds sales that
build up over the first week to +8 a day.""")

code("""rng = np.random.default_rng(2026)
geos, days, launch = 40, 60, 30
treated = set(range(15))
level = rng.normal(100, 15, geos)
day_shock = rng.normal(0, 3, days) + np.where(np.arange(days) % 7 >= 5, 6.0, 0.0)

def true_effect(day):
    k = day - launch
    return 0.0 if k < 0 else 8.0 * min(1.0, (k + 1) / 7)

rows = []
for g in range(geos):
    for d in range(days):
        effect = true_effect(d) if g in treated else 0.0
        rows.append({"geo": f"geo-{g:02d}", "day": d,
                     "sales": level[g] + day_shock[d] + effect + rng.normal(0, 4),
                     "campaign_start": launch if g in treated else None})
panel = pd.DataFrame(rows)
panel.head()""")

md("""## TWFE difference-in-differences

We post the panel as CSV and name its columns. Geos that never got the campaign
have an empty `campaign_start`. Options go in the query string; a misspelt one is
refused (400 naming it), and `alpha` sets the CI level 1 − α (default 0.05).""")

code("""def did(method, **options):
    params = {"method": method, "unit": "geo", "time": "day", "outcome": "sales",
              "treatment_start": "campaign_start", **options}
    body = panel.to_csv(index=False)
    r = requests.post(f"{URL}/v1/analyses/did", params=params, data=body,
                      headers={**HEADERS, "Content-Type": "text/csv"}, timeout=60)
    if r.status_code != 200:
        raise RuntimeError(r.text)
    return r.json()

twfe = did("twfe", alpha=0.05)
truth = np.mean([true_effect(d) for d in range(launch, days)])
level = twfe["ci"]["level"]
print(f"TWFE effect: {twfe['estimate']:.2f} sales/day (SE {twfe['std_error']:.2f}; "
      f"{level:.0%} CI {twfe['ci']['lower']:.2f} to {twfe['ci']['upper']:.2f}, "
      f"p = {twfe['p_value']:.2g}, {twfe['clusters']} clusters, df = {twfe['df']})")
print(f"true average effect over the post period: {truth:.2f}")
for w in twfe.get("warnings", []):
    print("warning:", w["code"], "-", w["message"])
assert twfe["ci"]["lower"] < truth < twfe["ci"]["upper"], "the CI should cover the truth here" """)

md("""## Event study

Effects by day relative to launch (day −1 is the reference), and a joint test
that all pre-launch coefficients are zero: if it rejected, the parallel-trends
assumption behind the estimate above would be in doubt.""")

code("""es = did("event_study", min_event_time=-10, max_event_time=20)
# Each event time is one answer: {"valid": false, "reason": ...} when the data cannot
# give it (e.g. collinear with the fixed effects), with its inference fields null.
series = pd.DataFrame([{"event_time": p["event_time"], "estimate": p["estimate"],
                        "std_error": p["std_error"], "p_value": p["p_value"],
                        "lower": p["ci"]["lower"], "upper": p["ci"]["upper"]}
                       for p in es["event_time"] if p["valid"]])
pt = es["pretrend_test"]
print(f"pre-trend test: chi2 = {pt['statistic']:.2f} on {pt['df']} df, "
      f"p = {pt['p_value']:.3f}")
series.head(12)""")

code("""fig, ax = plt.subplots(figsize=(8, 4))
ax.axhline(0, color="grey", lw=0.8)
ax.axvline(-0.5, color="grey", lw=0.8, ls="--")
err = [series.estimate - series.lower, series.upper - series.estimate]
ax.errorbar(series.event_time, series.estimate, yerr=err, fmt="o", ms=4, capsize=2,
            label="Causeway event study (95% CI)")
k = np.arange(series.event_time.min(), series.event_time.max() + 1)
ax.plot(k, [true_effect(launch + i) for i in k], color="C3", label="true effect")
ax.set_xlabel("days since launch")
ax.set_ylabel("incremental sales per geo-day")
ax.set_title("TV campaign: event study")
ax.legend()
fig.tight_layout()
fig.savefig(os.environ.get("CAUSEWAY_PLOT", "event_study.png"), dpi=100)""")

md("""## Reading it

- The TWFE estimate is the average effect over the post-launch days; its CI
  uses standard errors clustered by geo with G − 1 degrees of freedom.
- The event study shows the effect building up over the first week, which the
  single TWFE number averages away; flat pre-launch coefficients and a large
  pre-trend p-value support parallel trends.
- With fewer than 30 clusters Causeway warns that cluster-robust SEs may be
  optimistic; here there are 40.""")

md("""## A geo campaign: synthetic control and synthetic DiD

An out-of-home campaign ran for the last 21 days in 3 of 30 cities. The 3 cities grow
faster than the average city, so a plain difference-in-differences against all
other cities is biased. Synthetic control builds the counterfactual from a weighted
average of donor cities that tracks the treated cities before launch; synthetic DiD
(Arkhangelsky et al. 2021) adds time weights and an intercept. Causeway's inference is
the placebo variance: control cities in turn play the treated ones; the same variance
gives the standard error, the interval and the p-value.""")

code("""rng = np.random.default_rng(13)
cities, days, test_days = 30, 120, 21
treated_cities = ["city-00", "city-01", "city-02"]
growth = np.r_[np.full(3, 0.004), rng.uniform(-0.001, 0.005, cities - 3)]
base = rng.uniform(800, 1200, cities)
week = 1 + 0.08 * np.sin(2 * np.pi * np.arange(days) / 7)
geo_rows = []
for c in range(cities):
    name = f"city-{c:02d}"
    for d in range(days):
        sales = base[c] * (1 + growth[c] * d) * week[d] * (1 + rng.normal(0, 0.01))
        on = name in treated_cities and d >= days - test_days
        geo_rows.append({"city": name, "day": d, "sales": sales * (1.05 if on else 1.0),
                         "launch": days - test_days if name in treated_cities else None})
geo = pd.DataFrame(geo_rows)

def geo_test(method, **options):
    body = {"method": method, "rows": geo_rows,  # None = never treated (not NaN)
            "columns": {"unit": "city", "time": "day", "outcome": "sales",
                        "treatment_start": "launch"},
            "placebo_replications": 100, **options}
    r = requests.post(f"{URL}/v1/analyses/synthetic_control", json=body, headers=HEADERS,
                      timeout=120)
    if r.status_code != 200:
        raise RuntimeError(r.text)
    return r.json()

results = {m: geo_test(m) for m in ["synthetic_did", "synthetic_control", "did"]}
summary = pd.DataFrame([{"method": m, "ATT (sales/city-day)": r["estimate"],
                         "std_error": r["std_error"], "ci_lower": r["ci"]["lower"],
                         "ci_upper": r["ci"]["upper"], "p_value": r["p_value"],
                         "lift": r["lift"]["estimate"],
                         "pre-period RMSPE": r["pre_fit"]["rmspe"]}
                        for m, r in results.items()])
truth = geo[(geo.city.isin(treated_cities)) & (geo.day >= days - test_days)].sales.mean() * (1 - 1 / 1.05)
print(f"true ATT: {truth:.1f} sales per city-day (a 5% lift)")
summary.round(3)""")

code("""sdid = results["synthetic_did"]
print("largest donor weights:", [(d["unit"], round(d["weight"], 3)) for d in sdid["donor_weights"][:5]])
print("incremental sales over the test:", round(sdid["total_effect"]["estimate"]),
      "+-", round(1.96 * sdid["total_effect"]["std_error"]))
for w in sdid["warnings"]:
    print("warning:", w["code"], "-", w["message"])
assert sdid["ci"]["lower"] < truth < sdid["ci"]["upper"], "the SDID interval should cover the truth"

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, m in zip(axes, ["synthetic_did", "synthetic_control"]):
    s = pd.DataFrame(results[m]["series"])
    ax.plot(s.time, s.treated, color="black", lw=1.2, label="treated cities (mean)")
    ax.plot(s.time, s.counterfactual, color="C0", lw=1.2, ls="--", label="synthetic counterfactual")
    ax.axvline(days - test_days - 0.5, color="grey", lw=0.8)
    ax.set_title(f"{m}: ATT {results[m]['estimate']:.1f} (p = {results[m]['p_value']:.2g})")
    ax.set_xlabel("day")
axes[0].set_ylabel("sales per city-day")
axes[0].legend()
fig.tight_layout()
fig.savefig(os.environ.get("CAUSEWAY_GEO_PLOT", "geo_campaign.png"), dpi=100)""")

md("""## Designing the next geo test

Before launching, `POST /v1/design/geo` simulates the test on history with the same
estimator and placebo inference: each of the last windows of the test length is
analysed as if the campaign had run there, and a lift d scales the treated cities'
sales in the window. The answer is the minimum detectable lift at 80% power and the
power curve.""")

code("""history = geo[geo.day < days - test_days][["city", "day", "sales"]]
r = requests.post(f"{URL}/v1/design/geo", headers=HEADERS, timeout=120, json={
    "rows": history.to_dict(orient="records"),
    "columns": {"unit": "city", "time": "day", "outcome": "sales"},
    "treated_units": treated_cities, "test_length": 14, "simulations": 10,
    "placebo_replications": 50, "lifts": [0, 0.01, 0.02, 0.03, 0.05]})
design = r.json()
assert r.status_code == 200, design
print(f"minimum detectable lift at 80% power: {design['minimum_detectable_lift']:.2%} "
      f"(false-positive rate on history {design['false_positive_rate']:.0%})")
pd.DataFrame(design["power_curve"])""")

nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/campaign_did.ipynb")
