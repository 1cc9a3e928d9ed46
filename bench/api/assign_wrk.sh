#!/usr/bin/env bash
# Assignment over HTTP vs a bare cpp-httplib endpoint, measured in the same run.
#   bench/api/assign_wrk.sh [BUILD_DIR] [SECONDS]
# Needs wrk (apt-get install wrk). Prints requests/s, p50/p99 latency and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/bench}
secs=${2:-10}
if [[ ! -x $build/causeway || ! -x $build/bench/api/bench_bare_http ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAUSEWAY_TESTS=OFF >/dev/null
  cmake --build "$build" --target causeway bench_bare_http -j"$(nproc)" >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$build/causeway" serve --host 127.0.0.1 --port 18080 --db "$tmp/bench.db" >"$tmp/out" 2>"$tmp/err" &
"$build/bench/api/bench_bare_http" 18090 &
for _ in $(seq 100); do
  grep -q "sdk   key" "$tmp/out" 2>/dev/null && curl -sf localhost:18090/v1/assign >/dev/null && break
  sleep 0.1
done
admin=$(awk '/admin key:/ {print $3}' "$tmp/out")
export CAUSEWAY_KEY=$(awk '/sdk   key:/ {print $3}' "$tmp/out")
curl -sf -X POST localhost:18080/v1/experiments -H "Authorization: Bearer $admin" -d '{
  "key":"checkout","variants":[{"key":"control","weight":0.5},{"key":"treatment","weight":0.5}],
  "status":"running"}' >/dev/null

run() {  # name url
  # Warm-up: the first burst of 64 connects overflows cpp-httplib's compiled-in listen
  # backlog (5) and some SYNs are retransmitted after ~1 s; measure steady state.
  wrk -t2 -c64 -d2s -s bench/api/assign_wrk.lua "$2" >/dev/null
  wrk -t2 -c64 -d"${secs}s" --latency -s bench/api/assign_wrk.lua "$2" >"$tmp/$1"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$1")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/$1")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/$1")
  printf '%-22s %12s req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
  echo "$rps" >"$tmp/$1.rps"
}
echo "wrk -t2 -c64 -d${secs}s, keep-alive, $(nproc) cores"
run bare_httplib http://127.0.0.1:18090
run causeway_assign http://127.0.0.1:18080
awk -v a="$(cat "$tmp/causeway_assign.rps")" -v b="$(cat "$tmp/bare_httplib.rps")" \
  'BEGIN {printf "ratio causeway/bare: %.2f (goal >= 0.80)\n", a / b}'
