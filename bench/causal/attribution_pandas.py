"""The named reference of bench_attribution: Shapley (closed form) and first-order Markov
removal-effect attribution of the same CSV with pandas and numpy, timed the same way
(reading the CSV is not timed; splitting the paths is, as our parse is).

    /usr/bin/python3 attribution_pandas.py paths.csv
"""
import sys
import time

import numpy as np
import pandas as pd


def shapley(df):
    conv = df[df.total_conversions > 0]
    touches = conv.path.str.split(" > ").explode()
    frame = pd.DataFrame({"row": touches.index, "channel": touches.values}).drop_duplicates()
    size = frame.groupby("row").channel.transform("size")
    credit = conv.total_conversions.loc[frame.row].values / size.values
    return pd.Series(credit).groupby(frame.channel.values).sum()


def markov(df):
    touches = df.path.str.split(" > ").explode()
    frame = pd.DataFrame({"row": touches.index, "channel": touches.values})
    # Merge consecutive repeats (ChannelAttribution's chain has no self-loops).
    frame = frame[~((frame.row == frame.row.shift()) & (frame.channel == frame.channel.shift()))]
    channels = sorted(frame.channel.unique())
    index = {c: i + 1 for i, c in enumerate(channels)}
    n = len(channels) + 1
    state = frame.channel.map(index).values
    row = frame.row.values
    weight = (df.total_conversions + df.total_null).values[row]
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    prev = np.where(first, 0, np.r_[0, state[:-1]])
    counts = np.zeros((n, n))
    np.add.at(counts, (prev, state), weight)
    conv_end = np.zeros(n)
    null_end = np.zeros(n)
    np.add.at(conv_end, state[last], df.total_conversions.values[row[last]])
    np.add.at(null_end, state[last], df.total_null.values[row[last]])
    out = counts.sum(axis=1) + conv_end + null_end
    q = counts / out[:, None]
    r = conv_end / out

    def p_conv(keep):
        k = np.array(keep)
        return np.linalg.solve(np.eye(len(k)) - q[np.ix_(k, k)], r[k])[0]

    p = p_conv(range(n))
    re = np.array([1 - p_conv([s for s in range(n) if s != i]) / p for i in range(1, n)])
    return pd.Series(df.total_conversions.sum() * re / re.sum(), index=channels)


def main():
    df = pd.read_csv(sys.argv[1])
    for name, f in (("pandas_shapley", shapley), ("pandas_markov", markov)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = f(df)
            times.append(time.perf_counter() - t0)
        shown = " ".join(f"{c}={result[c]:.6f}" for c in ("search", "social", "email"))
        print(f"{name}_seconds {sorted(times)[1]:.4f} | {shown}")


if __name__ == "__main__":
    main()
