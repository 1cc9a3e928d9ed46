#!/usr/bin/env bash
# Runs bench_causal and the statsmodels equivalent on the same panel; prints the ratio.
#   bench/causal/run.sh [build dir, default build-causal] [units] [periods]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build-causal}"
units="${2:-10000}"
periods="${3:-100}"
ours=$("$build/bench/causal/bench_causal" "$units" "$periods" 21)
echo "$ours"
theirs=$(/usr/bin/python3 "$here/statsmodels_twfe.py" "$units" "$periods" 5)
echo "$theirs"
a=$(echo "$ours" | awk '/^twfe_seconds/ {print $2}')
a1=$(echo "$ours" | awk '/^twfe_one_thread_seconds/ {print $2}')
b=$(echo "$theirs" | awk '/^statsmodels_twfe_seconds/ {print $2}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio statsmodels/causeway %.1fx\n", b / a }'
awk -v a="$a1" -v b="$b" 'BEGIN { printf "ratio statsmodels/causeway on one thread %.1fx\n", b / a }'

# The model as a statsmodels user writes it (dense unit and time dummies, cluster SEs)
# only fits in memory for small panels: compare on 300 units x 50 periods.
small_ours=$("$build/bench/causal/bench_causal" 300 50 5 | awk '/^twfe_seconds/ {print $2, $4, $6}')
small_theirs=$(/usr/bin/python3 "$here/statsmodels_twfe.py" 300 50 1 --formula)
echo "small panel (300 x 50): causeway twfe_seconds/estimate/se $small_ours"
echo "small panel (300 x 50): $small_theirs"
a=$(echo "$small_ours" | awk '{print $1}')
b=$(echo "$small_theirs" | awk '{print $2}')
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio statsmodels formula/causeway on the small panel %.0fx\n", b / a }'

# Synthetic DiD with its placebo SE (200 replications) on 1 000 markets x 365 days, and on
# Prop 99 against the synthdid R package itself (needs Rscript and SYNTHDID_R_DIR).
prop99="$here/../../tests/data/california_prop99/california_prop99.csv"
sdid=$("$build/bench/causal/bench_synthdid" 1000 365 3 "$prop99")
echo "$sdid"
if [ -n "${SYNTHDID_R_DIR:-}" ] && command -v Rscript >/dev/null; then
  r=$(Rscript "$here/synthdid_time.R" "$prop99")
  echo "$r"
  a=$(echo "$sdid" | awk '/^prop99_sdid_placebo_seconds/ {print $2}')
  b=$(echo "$r" | awk '{print $2}')
  awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio synthdid (R)/causeway on Prop 99, one thread %.0fx\n", b / a }'
fi
