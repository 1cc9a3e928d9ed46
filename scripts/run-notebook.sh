#!/usr/bin/env bash
# Executes a notebook (default notebooks/campaign_did.ipynb) top to bottom against a
# Causeway server it starts on a free port with a fresh database, then stops the server.
# The notebook must write its plot to $CAUSEWAY_PLOT.
#   scripts/run-notebook.sh BUILD_DIR [NOTEBOOK]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test}
notebook=${2:-notebooks/campaign_did.ipynb}
tmp=$(mktemp -d)
server=""
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/causeway" serve --host 127.0.0.1 --port 0 --db "$tmp/nb.db" >"$tmp/out" 2>"$tmp/err" &
server=$!
port=""
for _ in $(seq 200); do
  port=$(grep -o '"msg":"listening","port":[0-9]*' "$tmp/err" | grep -o '[0-9]*$' || true)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || { cat "$tmp/err"; echo "server did not start" >&2; exit 1; }
export CAUSEWAY_URL="http://127.0.0.1:$port"
export CAUSEWAY_ADMIN_KEY=$(awk '/admin key:/ {print $3}' "$tmp/out")
export CAUSEWAY_PLOT="$tmp/event_study.png"
export CAUSEWAY_GEO_PLOT="$tmp/geo_campaign.png"
# Debian's Jupyter runs on Debian's Python (/usr/bin/python3), whatever python3 is first on PATH.
/usr/bin/python3 -m nbconvert --to notebook --execute --ExecutePreprocessor.timeout=120 \
  --output-dir "$tmp" "$notebook"
if [[ $notebook == *campaign_did.ipynb ]]; then
  test -s "$tmp/event_study.png"
  test -s "$tmp/geo_campaign.png"
fi
cp "$tmp/event_study.png" "${NOTEBOOK_PLOT_COPY:-/dev/null}" 2>/dev/null || true
echo "notebook ran top to bottom; plots written"
