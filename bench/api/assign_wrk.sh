#!/usr/bin/env bash
# Assignment over HTTP vs a bare cpp-httplib endpoint, measured in the same run,
# with keep-alive and with a new connection per request (`Connection: close`).
#   bench/api/assign_wrk.sh [BUILD_DIR] [SECONDS]
# Needs wrk (scripts/install-deps.sh --test). Prints requests/s, p50/p99 latency and
# the ratios.
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

# Both servers listen with backlog SOMAXCONN (api/http/listen_backlog.h); the third is
# the bare server with cpp-httplib's own backlog of 5, the state before that fix.
"$build/causeway" serve --host 127.0.0.1 --port 18080 --db "$tmp/bench.db" ${CAUSEWAY_SERVE_FLAGS:-} >"$tmp/out" 2>"$tmp/err" &
"$build/bench/api/bench_bare_http" 18090 &
"$build/bench/api/bench_bare_http" 18091 5 &
for _ in $(seq 100); do
  grep -q "sdk   key" "$tmp/out" 2>/dev/null && curl -sf localhost:18090/v1/assign >/dev/null &&
    curl -sf localhost:18091/v1/assign >/dev/null && break
  sleep 0.1
done
admin=$(awk '/admin key:/ {print $3}' "$tmp/out")
export CAUSEWAY_KEY=$(awk '/sdk   key:/ {print $3}' "$tmp/out")
curl -sf -X POST localhost:18080/v1/experiments -H "Authorization: Bearer $admin" -d '{
  "key":"checkout","variants":[{"key":"control","weight":0.5},{"key":"treatment","weight":0.5}],
  "status":"running"}' >/dev/null

# TcpExt ListenDrops: SYNs and handshakes the kernel dropped at a full listen queue
# (this network namespace). wrk's latency starts once a connection is up, so time
# lost to SYN retransmits shows here and in req/s, not in p99.
listen_drops() {
  awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ListenDrops") c = i; h = 1 }
                    else print $c }' /proc/net/netstat
}
run() {  # name url [wrk options...]
  local name=$1 url=$2
  shift 2
  wrk -t2 -c64 -d2s "$@" -s bench/api/assign_wrk.lua "$url" >/dev/null  # warm-up
  local drops=$(listen_drops)
  wrk -t2 -c64 -d"${secs}s" --latency "$@" -s bench/api/assign_wrk.lua "$url" >"$tmp/$name"
  drops=$(($(listen_drops) - drops))
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$name")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/$name")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/$name")
  errors=$(awk '/Socket errors|Non-2xx/ {printf "  %s", $0}' "$tmp/$name")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s   listen drops %6s%s\n' \
    "$name" "$rps" "$p50" "$p99" "$drops" "$errors"
  echo "$rps" >"$tmp/$name.rps"
}
ratio() {  # causeway bare
  awk -v a="$(cat "$tmp/$1.rps")" -v b="$(cat "$tmp/$2.rps")" \
    'BEGIN {printf "ratio causeway/bare: %.2f (goal >= 0.80)\n", a / b}'
}

echo "wrk -t2 -c64 -d${secs}s, keep-alive, $(nproc) cores"
run bare_httplib http://127.0.0.1:18090
run causeway_assign http://127.0.0.1:18080
ratio causeway_assign bare_httplib

echo
echo "wrk -t2 -c64 -d${secs}s -H 'Connection: close' (a new connection per request)"
run bare_httplib_close http://127.0.0.1:18090 -H "Connection: close"
run causeway_assign_close http://127.0.0.1:18080 -H "Connection: close"
ratio causeway_assign_close bare_httplib_close
echo "goal: causeway p99 < 20 ms"
run bare_httplib_backlog5_close http://127.0.0.1:18091 -H "Connection: close"
echo "(the last: cpp-httplib's own backlog of 5, for comparison)"
