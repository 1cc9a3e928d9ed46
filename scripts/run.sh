#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and start the service on
# its embedded SQLite default (port 8080, ./data/causeway.db). Extra arguments go
# to `causeway serve` (e.g. --port 9090, --insecure-no-auth).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCAUSEWAY_TESTS=OFF -DCAUSEWAY_BENCH=OFF >/dev/null
cmake --build build --target causeway -j"$(nproc)"
exec build/causeway serve "$@"
