#!/usr/bin/env bash
# Connections that stay open (issue 22 part 5): GET /v1/assign from 64 keep-alive
# clients alone (the reference), then with 5 000 server-sent-event subscribers and
# 1 000 idle keep-alive connections open on the same instance, and one feature
# change that must reach every subscriber. bench/api/connections_bench.cc says what
# is measured.
#   bench/api/connections.sh [BUILD_DIR] [SECONDS] [STREAMS] [IDLE] [LOAD]
# LOAD: "wrk" (default; wrk -t2 -c64 as in assign_wrk.sh, saturating: needs wrk from
# scripts/install-deps.sh --test) or paced:CLIENTS:RATE (CLIENTS keep-alive clients
# at RATE requests/s each, latency from the scheduled send time).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/bench}
secs=${2:-10}
streams=${3:-5000}
idle=${4:-1000}
mode=${5:-wrk}
if [[ ! -x $build/causeway || ! -x $build/bench/api/bench_connections ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAUSEWAY_TESTS=OFF >/dev/null
  cmake --build "$build" --target causeway bench_connections -j"$(nproc)" >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

"$build/causeway" serve --host 127.0.0.1 --port 18083 --db "$tmp/bench.db" --no-monitor-scheduler \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
  grep -q "sdk   key" "$tmp/out" 2>/dev/null && curl -sf localhost:18083/healthz >/dev/null && break
  sleep 0.1
done
admin=$(awk '/admin key:/ {print $3}' "$tmp/out")
sdk=$(awk '/sdk   key:/ {print $3}' "$tmp/out")
auth="Authorization: Bearer $admin"
curl -sf -X POST localhost:18083/v1/experiments -H "$auth" -d '{"key":"checkout",
  "variants":[{"key":"control"},{"key":"treatment"}],"status":"running"}' >/dev/null
curl -sf -X POST localhost:18083/v1/features -H "$auth" -d '{"key":"banner",
  "value_type":"string","default_value":"v1","rules":[]}' >/dev/null
client=$(curl -sf -X POST localhost:18083/v1/keys -H "$auth" -d '{"scope":"client"}' |
  sed 's/.*"key":"\([^"]*\)".*/\1/')
export CAUSEWAY_KEY=$sdk
load=$mode
if [[ $mode == wrk ]]; then
  load="wrk -t2 -c64 -d${secs}s --latency -s bench/api/assign_wrk.lua http://127.0.0.1:18083"
  wrk -t2 -c64 -d2s -s bench/api/assign_wrk.lua http://127.0.0.1:18083 >/dev/null  # warm-up
fi
echo "causeway serve (default --threads 128), $(nproc) cores, descriptor limit $(ulimit -n)"
"$build/bench/api/bench_connections" 18083 "$admin" "$client" "$pid" "$load" "$secs" \
  "$streams" "$idle" "$sdk"
