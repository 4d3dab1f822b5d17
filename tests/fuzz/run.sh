#!/usr/bin/env bash
# Fuzzes the whole decode loop for SECONDS seconds:
#
#   tests/fuzz/run.sh SECONDS [extra libFuzzer options...]
#
# 1. configures a clang + ASan + UBSan + libFuzzer build in build-fuzz
#    (CC=clang, -DTM_FUZZ=ON -DTM_SANITIZE=ON; every dissector module is
#    built instrumented and sanitized too) and builds fuzz_decode;
# 2. makes the seed corpus from the shared captures (make-corpus.sh) in
#    build-fuzz/fuzz/seeds; inputs the fuzzer finds go to build-fuzz/fuzz/corpus
#    and are kept for the next run; writes a dictionary of every value bound
#    in the dispatch tables (ports, protocols, ethertypes, link types), which
#    libFuzzer cannot learn from table lookups by itself;
# 3. runs fuzz_decode for SECONDS seconds on one core, then prints the
#    executions, the coverage, and any crash with its reproducer file
#    (build-fuzz/fuzz/artifacts/crash-*). Exits 1 on a crash.
#
# Reproduce a crash:  build-fuzz/bin/fuzz_decode build-fuzz/fuzz/artifacts/crash-...
# Env: FUZZ_BUILD (default SRC/build-fuzz), CC (default clang), JOBS (2).
set -euo pipefail

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 SECONDS [libFuzzer options...]" >&2
	exit 2
fi
secs=$1
shift
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD:-$src/build-fuzz}
work=$build/fuzz
cc=${CC:-clang}

echo "== configuring $build ($cc, ASan+UBSan+libFuzzer)"
mkdir -p "$build"
CC=$cc cmake -S "$src" -B "$build" -DTM_FUZZ=ON -DTM_SANITIZE=ON \
	-DTM_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/tm-cmake.log" 2>&1 || {
	cat "$build/tm-cmake.log"; exit 1; }
echo "== building fuzz_decode and the modules"
cmake --build "$build" -j"${JOBS:-2}" --target fuzz_decode >"$build/tm-build.log" 2>&1 || {
	tail -40 "$build/tm-build.log"; exit 1; }

mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts"
echo "== seed corpus"
"$src/tests/fuzz/make-corpus.sh" "$work/seeds"

echo "== dictionary of the values bound in the dispatch tables"
TM_FUZZ_DICT_OUT="$work/bindings.dict" "$build/bin/fuzz_decode" 2>&1 |
	grep -E '^fuzz_decode: [0-9]+ dictionary' || true

log=$work/last-run.log
before=$(ls "$work/artifacts" | wc -l)
echo "== fuzzing for $secs s (log: $log)"
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$build/bin/fuzz_decode" -max_total_time="$secs" -print_final_stats=1 \
	-max_len=4096 -timeout=10 -rss_limit_mb=2048 -dict="$work/bindings.dict" \
	-artifact_prefix="$work/artifacts/" "$@" \
	"$work/corpus" "$work/seeds" >"$log" 2>&1 || rc=$?

grep -E '^fuzz_decode:|INFO: Loaded [0-9]+ modules' "$log" |
	sed -e 's/counters):.*/counters)/' || true
grep -E '#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -2 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
after=$(ls "$work/artifacts" | wc -l)
if [ "$rc" -ne 0 ]; then
	echo "== fuzz_decode exited $rc; the report:"
	grep -nE 'ERROR: |runtime error|SUMMARY|inconsistent|Test unit written|artifact' "$log" | head -20
	grep -A25 -m1 -E 'ERROR: (Address|Undefined|libFuzzer)|runtime error' "$log" | head -40
	echo "reproducers (in $work/artifacts):"
	ls -t "$work/artifacts" | head -5
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi
if [ "$after" -gt "$before" ]; then
	echo "== new artifacts in $work/artifacts:"
	ls -t "$work/artifacts" | head -5
fi
echo "fuzz: 1 passed, 0 failed"
