#!/usr/bin/env python3
"""Independent cross-check of tests/reference/app/rfm_reference.json (the R package
`rfm` run on its own data): recomputes recency/frequency/monetary per customer from
rfm_data_orders.csv and the scores with numpy's linear quantile (= R type 7), breaks
q + 1, bins [min, b1), ..., [b4, max + 1), recency reversed, and the first-match
segment rules; prints the number of customers whose scores or segment differ (0).

    /usr/bin/python3 tests/reference/app/rfm_check.py
"""
import csv
import datetime
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = datetime.date(2006, 12, 31)
RULES = [  # name, R lo/hi, F lo/hi, M lo/hi; first match wins
    ("Champions", 4, 5, 4, 5, 4, 5), ("Loyal Customers", 2, 5, 3, 5, 3, 5),
    ("Potential Loyalist", 3, 5, 1, 3, 1, 3), ("New Customers", 4, 5, 1, 1, 1, 1),
    ("Promising", 3, 4, 1, 1, 1, 1), ("Need Attention", 2, 3, 2, 3, 2, 3),
    ("About To Sleep", 2, 3, 1, 2, 1, 2), ("At Risk", 1, 2, 2, 5, 2, 5),
    ("Can't Lose Them", 1, 1, 4, 5, 4, 5), ("Lost", 1, 2, 1, 2, 1, 2)]

last, count, amount = {}, {}, {}
with open(os.path.join(HERE, "rfm_data_orders.csv")) as f:
    for row in csv.DictReader(f):
        c, d = row["customer_id"], datetime.date.fromisoformat(row["order_date"])
        last[c] = max(last.get(c, d), d)
        count[c] = count.get(c, 0) + 1
        amount[c] = amount.get(c, 0.0) + float(row["revenue"])
ids = sorted(last)
rec = np.array([(ANALYSIS - last[c]).days for c in ids], float)
freq = np.array([count[c] for c in ids], float)
mon = np.array([amount[c] for c in ids], float)


def breaks(x):
    return np.quantile(x, [0.2, 0.4, 0.6, 0.8], method="linear") + 1.0


def bins(x, b):
    return 1 + (x[:, None] >= b[None, :]).sum(axis=1)


br, bf, bm = breaks(rec), breaks(freq), breaks(mon)
r, fq, m = 6 - bins(rec, br), bins(freq, bf), bins(mon, bm)
ref = json.load(open(os.path.join(HERE, "rfm_reference.json")))
by_id = {c["customer_id"]: c for c in ref["customers"]}
diff = 0
for i, c in enumerate(ids):
    seg = next((n for n, a, b, e, g, h, k in RULES
                if a <= r[i] <= b and e <= fq[i] <= g and h <= m[i] <= k), "Others")
    e = by_id[c]
    diff += (e["r"], e["f"], e["m"], e["segment"]) != (r[i], fq[i], m[i], seg)
print(f"customers {len(ids)}, differing from R: {diff}")
print("breaks", br.tolist(), bf.tolist(), bm.tolist(), "R:", ref["breaks"])
