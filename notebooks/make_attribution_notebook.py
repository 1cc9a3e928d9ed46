"""Writes attribution.ipynb (run: /usr/bin/python3 notebooks/make_attribution_notebook.py).

The notebook is generated so its JSON stays valid and reviewable as code; it is
executed against a live server by scripts/run-notebook.sh (test notebook_attribution).
"""
import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s))
code = lambda s: cells.append(nbf.v4.new_code_cell(s))

md("""# Which channel gets the credit? Channel attribution with Causeway

Our analytics export has one row per conversion path — the channels a customer
touched, in order — with how many journeys on that path converted
(`total_conversions`), how many did not (`total_null`) and the revenue
(`total_conversion_value`): the layout of the R package ChannelAttribution. We ask a
running Causeway for the last-touch, linear, Shapley and Markov (removal effect)
attributions side by side.

These methods share out conversions that happened; none of them measures what a
channel *caused* — that takes an experiment or a geo test.""")

code("""import os
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

md("""## The paths

Simulated so the story is known: paid search often closes, social and display open
journeys, email nudges people who already came back. Conversion probability grows
with the touches on search and email.""")

code("""rng = np.random.default_rng(13)
channels = ["search", "social", "display", "email", "affiliate"]
opens = [0.2, 0.35, 0.3, 0.05, 0.1]
journeys = []
for _ in range(20000):
    length = rng.integers(1, 6)
    path = [rng.choice(channels, p=opens)]
    for _ in range(length - 1):
        path.append(rng.choice(channels, p=[0.35, 0.15, 0.1, 0.3, 0.1]))
    p = 0.01 + 0.03 * path.count("search") + 0.02 * path.count("email") + 0.005 * len(path)
    converted = rng.random() < p
    journeys.append((" > ".join(path), converted, 60.0 * converted))
df = (pd.DataFrame(journeys, columns=["path", "converted", "value"])
        .groupby("path")
        .agg(total_conversions=("converted", "sum"),
             total_null=("converted", lambda c: int((~c).sum())),
             total_conversion_value=("value", "sum"))
        .reset_index())
print(f"{len(journeys)} journeys, {len(df)} distinct paths, "
      f"{df.total_conversions.sum()} conversions")
df.sort_values("total_conversions", ascending=False).head()""")

md("""## Several methods in one request

The CSV goes as is; options in the query string (`methods` comma-separated). A bad
row — an empty channel name, a negative count — comes back as a 400 naming it.""")

code("""r = requests.post(f"{URL}/v1/analyses/attribution",
                  params={"methods": "last_touch,linear,shapley,markov"},
                  data=df.to_csv(index=False),
                  headers={**HEADERS, "Content-Type": "text/csv"}, timeout=60)
if r.status_code != 200:
    raise RuntimeError(r.text)
result = r.json()
for w in result["warnings"]:
    print("warning:", w["code"], "-", w["message"])
table = pd.DataFrame({
    method: {c["channel"]: c["conversions"] for c in a["channels"]}
    for method, a in result["attributions"].items()})
table["markov_removal_effect"] = pd.Series(
    {c["channel"]: c["removal_effect"] for c in result["attributions"]["markov"]["channels"]})
table = table.loc[channels]
assert np.allclose(table[["last_touch", "linear", "shapley", "markov"]].sum(),
                   result["total_conversions"])
table.round(2)""")

code("""ax = table[["last_touch", "linear", "shapley", "markov"]].plot.bar(figsize=(8, 4), rot=0)
ax.set_ylabel("conversions credited")
ax.set_title("Credit by channel and method")
fig = ax.get_figure()
fig.tight_layout()
fig.savefig(os.environ.get("CAUSEWAY_PLOT", "attribution.png"), dpi=100)""")

md("""## The Markov chain behind the removal effect

`transition_matrix` lists every observed transition with its probability;
`conversion_probability` is the chance a journey from `(start)` ends in
`(conversion)`, and a channel's removal effect is the share of it lost when the
channel is taken out of the chain.""")

code("""markov = result["attributions"]["markov"]
print(f"P(conversion) = {markov['conversion_probability']:.4f}")
tm = pd.DataFrame(markov["transition_matrix"]).pivot(index="from", columns="to",
                                                     values="probability").fillna(0)
tm.round(3)""")

md("""## Reading it

- Last touch gives search most of the credit because it closes journeys; the
  Shapley value and the removal effect credit the channels that open them too.
- The Shapley value here splits each path's conversions equally among its distinct
  channels (the closed form of the coalition game whose worth is the conversions of
  the paths within a coalition); the Markov credit follows the removal effects.
- All of them are descriptive. To move budget, confirm with a holdout or geo test.""")

nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/attribution.ipynb")
