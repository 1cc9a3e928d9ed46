#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run every test.
#   scripts/test.sh              optimised build in build/test
#   scripts/test.sh --sanitize   ASan+UBSan build in build/sanitize
#   scripts/test.sh --tsan       ThreadSanitizer build in build/tsan: only the tests
#                                that exercise threads (ctest label `threads`)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

# Every build here keeps line tables (-g1: backtraces and sanitizer reports name
# function, file and line) but not the debug information of local variables (-g),
# which costs a quarter to a half of the compile time and changes no generated code
# (docs/performance.md, "CI time"). For a debugger, build with -DCMAKE_BUILD_TYPE=Debug.
dir=build/test
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
       -DCAUSEWAY_BENCH=ON)
run=()
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build/sanitize
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCAUSEWAY_SANITIZE=ON -DCAUSEWAY_BENCH=OFF
         -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_CXX_FLAGS_DEBUG=-g1)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
elif [[ "${1:-}" == "--tsan" ]]; then
  dir=build/tsan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DCAUSEWAY_TSAN=ON -DCAUSEWAY_BENCH=OFF
         -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_CXX_FLAGS_DEBUG=-g1)
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
  # GCC 12's TSan aborts with "unexpected memory mapping" when the kernel randomises
  # mmap addresses with more bits than it expects (vm.mmap_rnd_bits > 28); without
  # ASLR for the tests (inherited by the servers they start) it always runs.
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    run=(setarch "$(uname -m)" -R)
  fi
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
"${run[@]}" ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
