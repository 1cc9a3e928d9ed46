#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run every test.
#   scripts/test.sh              optimised build in build/test
#   scripts/test.sh --sanitize   ASan+UBSan build in build/sanitize
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

dir=build/test
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAUSEWAY_BENCH=ON)
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build/sanitize
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCAUSEWAY_SANITIZE=ON -DCAUSEWAY_BENCH=OFF
         -DCMAKE_CXX_FLAGS=-O1)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
