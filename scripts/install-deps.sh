#!/usr/bin/env bash
# Installs the Debian 12 packages Causeway needs that are not yet installed, and the
# web page's npm packages (web/package-lock.json) when they are missing or stale.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the tests use (wrk, jupyter for the
#                                    notebook, chromium for the web page test,
#                                    clickhouse-server for the ClickHouse store tests,
#                                    which start their own server: no service needed;
#                                    sqlite3 and curl for the migration script's test)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config clang-format
      libssl-dev libboost-dev libeigen3-dev libcpp-httplib-dev libsqlite3-dev nlohmann-json3-dev catch2)
# Node.js and npm install the chart library the binary embeds (docs/web.md). A
# Node.js that already brings its own npm (e.g. a newer one) is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  pkgs+=(nodejs npm)
fi
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(curl sqlite3 wrk python3 python3-requests python3-pandas python3-matplotlib
         jupyter-nbconvert python3-nbformat python3-ipykernel chromium clickhouse-server)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The web page's packages, exactly as web/package-lock.json pins them; again only
# when the lockfile changed since the last install (the stamp is a copy of it).
if ! cmp -s web/package-lock.json web/node_modules/.causeway-lock 2>/dev/null; then
  echo "install-deps: npm ci in web/" >&2
  (cd web && npm ci --ignore-scripts --no-audit --no-fund)
  cp web/package-lock.json web/node_modules/.causeway-lock
fi
