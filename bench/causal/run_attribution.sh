#!/usr/bin/env bash
# Runs bench_attribution and the pandas/numpy equivalent on the same 1M paths; prints the
# ratio. Needs Debian's python3-pandas.
#   bench/causal/run_attribution.sh [build dir, default build/dev] [rows]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build/dev}"
rows="${2:-1000000}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ours=$("$build/bench/causal/bench_attribution" "$rows" 5 "$tmp/paths.csv")
echo "$ours"
theirs=$(/usr/bin/python3 "$here/attribution_pandas.py" "$tmp/paths.csv")
echo "$theirs"
a=$(echo "$ours" | awk '/^shapley_and_markov_seconds/ {print $2}')
b=$(echo "$theirs" | awk '/_seconds/ {s += $2} END {print s}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio pandas/causeway (shapley + markov) %.1fx\n", b / a }'
