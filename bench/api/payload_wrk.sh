#!/usr/bin/env bash
# The SDK payload (GET /api/features/{clientKey}) over HTTP vs a bare cpp-httplib
# endpoint answering the same bytes, measured in the same run: revalidation with
# If-None-Match (304, what a polling SDK sends) and full fetches (200).
#   bench/api/payload_wrk.sh [BUILD_DIR] [SECONDS] [FEATURES]
# Needs wrk (scripts/install-deps.sh --test). Prints requests/s, p50/p99 and ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/bench}
secs=${2:-10}
features=${3:-100}
if [[ ! -x $build/causeway || ! -x $build/bench/api/bench_bare_http ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAUSEWAY_TESTS=OFF >/dev/null
  cmake --build "$build" --target causeway bench_bare_http -j"$(nproc)" >/dev/null
fi
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$build/causeway" serve --host 127.0.0.1 --port 18082 --db "$tmp/bench.db" >"$tmp/out" 2>"$tmp/err" &
for _ in $(seq 100); do
  grep -q "admin key" "$tmp/out" 2>/dev/null && curl -sf localhost:18082/healthz >/dev/null && break
  sleep 0.1
done
admin=$(awk '/admin key:/ {print $3}' "$tmp/out")
auth="Authorization: Bearer $admin"
curl -sf -X POST localhost:18082/v1/experiments -H "$auth" -d '{"key":"checkout",
  "variants":[{"key":"control"},{"key":"treatment"}],"status":"running"}' >/dev/null
for i in $(seq "$features"); do
  if ((i % 2)); then
    rule='{"type":"experiment","experiment":"checkout","values":["a","b"]}'
  else
    rule='{"type":"force","value":"x","condition":{"country":{"$in":["FR","DE"]}},"coverage":0.5}'
  fi
  curl -sf -X POST localhost:18082/v1/features -H "$auth" -d "{\"key\":\"feature-$i\",
    \"value_type\":\"string\",\"default_value\":\"off\",\"rules\":[$rule]}" >/dev/null
done
client=$(curl -sf -X POST localhost:18082/v1/keys -H "$auth" -d '{"scope":"client"}' |
  sed 's/.*"key":"\([^"]*\)".*/\1/')
url=/api/features/$client
curl -sf "localhost:18082$url" >"$tmp/payload.json"
etag=$(curl -sfI "localhost:18082$url" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
"$build/bench/api/bench_bare_http" 18092 128 "$tmp/payload.json" &
for _ in $(seq 100); do curl -sf localhost:18092/api/features/x >/dev/null && break; sleep 0.1; done
bare_etag=$(curl -sfI localhost:18092/api/features/x | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')

run() {  # name url [wrk options...]
  local name=$1 url=$2
  shift 2
  wrk -t2 -c64 -d2s "$@" "$url" >/dev/null  # warm-up
  wrk -t2 -c64 -d"${secs}s" --latency "$@" "$url" >"$tmp/$name"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$name")
  p50=$(awk '$1=="50%" {print $2}' "$tmp/$name")
  p99=$(awk '$1=="99%" {print $2}' "$tmp/$name")
  errors=$(awk '/Socket errors|Non-2xx/ {printf "  %s", $0}' "$tmp/$name")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s%s\n' "$name" "$rps" "$p50" "$p99" "$errors"
  echo "$rps" >"$tmp/$name.rps"
}
ratio() {  # causeway bare
  awk -v a="$(cat "$tmp/$1.rps")" -v b="$(cat "$tmp/$2.rps")" \
    'BEGIN {printf "ratio causeway/bare: %.2f\n", a / b}'
}

echo "$features features, payload $(wc -c <"$tmp/payload.json") bytes; wrk -t2 -c64 -d${secs}s, keep-alive, $(nproc) cores"
echo "If-None-Match (304)"
run bare_httplib_304 "http://127.0.0.1:18092/api/features/x" -H "If-None-Match: $bare_etag"
run causeway_payload_304 "http://127.0.0.1:18082$url" -H "If-None-Match: $etag"
ratio causeway_payload_304 bare_httplib_304
echo "full fetch (200)"
run bare_httplib_200 "http://127.0.0.1:18092/api/features/x"
run causeway_payload_200 "http://127.0.0.1:18082$url"
ratio causeway_payload_200 bare_httplib_200
