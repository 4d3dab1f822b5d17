#!/usr/bin/env bash
# Builds timemachine and runs every test: the unit and end-to-end suites in a
# normal build, the same suites again under AddressSanitizer and UBSan, and
# a short run of every fuzz target. This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${TM_JOBS:-2}
fuzz_seconds=${TM_FUZZ_SECONDS:-20}
# one target per dissector module besides the whole decode loop: briefer
fuzz_mod_seconds=${TM_FUZZ_MOD_SECONDS:-3}

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build (AddressSanitizer + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$jobs")

if [ -x tests/fuzz/run.sh ]; then
	echo "== fuzzing (${fuzz_seconds}s per target, ${fuzz_mod_seconds}s per module)"
	FUZZ_MOD_SECONDS=$fuzz_mod_seconds tests/fuzz/run.sh "$fuzz_seconds"
fi
echo "== all tests passed"
