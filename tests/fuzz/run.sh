#!/usr/bin/env bash
# Fuzzes every libFuzzer target of tests/fuzz for SECONDS seconds each:
#
#   tests/fuzz/run.sh SECONDS [extra libFuzzer options...]
#
# 1. configures a clang + ASan + UBSan + libFuzzer build in build-fuzz
#    (CC=clang, -DTM_FUZZ=ON -DTM_SANITIZE=ON; every dissector module is
#    built instrumented and sanitized too) and builds the fuzz_* targets;
# 2. fuzz_decode (the whole decode loop): makes the seed corpus from the
#    shared captures (make-corpus.sh) in build-fuzz/fuzz/seeds; inputs the
#    fuzzer finds go to build-fuzz/fuzz/corpus and are kept for the next
#    run; writes a dictionary of every value bound in the dispatch tables
#    (ports, protocols, ethertypes, link types), which libFuzzer cannot
#    learn from table lookups by itself;
#    any other target T: seeds from tests/fuzz/T.seeds.sh DIR if that script
#    exists, the dictionary tests/fuzz/T.dict if it exists, corpus in
#    build-fuzz/fuzz/T/ (fuzz_ctl: inputs up to 140000 bytes, past the
#    protocol's line limit);
# 3. runs each target for SECONDS seconds on one core, then prints the
#    executions, the coverage, and any crash with its reproducer file
#    (build-fuzz/fuzz/artifacts/TARGET-crash-*). Exits 1 on a crash.
#
# Reproduce a crash:  build-fuzz/bin/TARGET build-fuzz/fuzz/artifacts/TARGET-crash-...
# Only some targets:  FUZZ_TARGETS="fuzz_decode" tests/fuzz/run.sh 60
# The per-module targets fuzz_mod_NAME (one per dissector module, the bytes
# starting at that module's header) run FUZZ_MOD_SECONDS each (default:
# SECONDS); the whole decode loop (fuzz_decode) reaches them all too.
# Env: FUZZ_BUILD (default SRC/build-fuzz), CC (default clang), JOBS (2),
# FUZZ_MOD_SECONDS.
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
targets=${FUZZ_TARGETS:-$(cmake --build "$build" --target help |
	sed -n 's/^\.\.\. \(fuzz_[a-z0-9_]*\)$/\1/p' | sort)}
if [ -z "$targets" ]; then
	echo "run.sh: no fuzz_* target in $build" >&2
	exit 1
fi
echo "== building" $targets
# shellcheck disable=SC2086
# (tm too: fuzz_sidecar's seeds are the sidecars of stores it builds)
cmake --build "$build" -j"${JOBS:-2}" --target $targets tm \
	>"$build/tm-build.log" 2>&1 || { tail -40 "$build/tm-build.log"; exit 1; }
mkdir -p "$work/artifacts"

passed=0
failed=0
for t in $targets; do
	opts=()
	if [ "$t" = fuzz_decode ]; then
		dirs=("$work/corpus" "$work/seeds")
		mkdir -p "${dirs[@]}"
		echo "== $t: seed corpus"
		"$src/tests/fuzz/make-corpus.sh" "$work/seeds"
		TM_FUZZ_DICT_OUT="$work/bindings.dict" "$build/bin/$t" 2>&1 |
			grep -E '^fuzz_decode: [0-9]+ dictionary' || true
		opts+=(-max_len=4096 -dict="$work/bindings.dict")
	else
		dirs=("$work/$t/corpus" "$work/$t/seeds")
		mkdir -p "${dirs[@]}"
		if [ -x "$src/tests/fuzz/$t.seeds.sh" ]; then
			echo "== $t: seed corpus"
			TM="$build/bin/tm" "$src/tests/fuzz/$t.seeds.sh" \
			    "$work/$t/seeds"
		fi
		if [ -f "$src/tests/fuzz/$t.dict" ]; then
			opts+=(-dict="$src/tests/fuzz/$t.dict")
		fi
		# the control protocol's lines reach their 65536-byte limit
		if [ "$t" = fuzz_ctl ]; then
			opts+=(-max_len=140000)
		fi
	fi
	log=$work/$t.last-run.log
	# every crash ever found stays a regression input: replayed first
	regs=("$src"/tests/fuzz/regressions/"$t"-*)
	if [ -e "${regs[0]}" ]; then
		echo "== $t: ${#regs[@]} regression inputs"
		if ! "$build/bin/$t" "${opts[@]}" "${regs[@]}" >"$log" 2>&1; then
			echo "== $t fails on a regression input:"
			grep -nE 'ERROR: |runtime error|SUMMARY|Running:' "$log" | head -20 || true
			failed=$((failed + 1))
			continue
		fi
	fi
	before=$(ls "$work/artifacts" | wc -l)
	tsecs=$secs
	case $t in fuzz_mod_*) tsecs=${FUZZ_MOD_SECONDS:-$secs}; opts+=(-max_len=4096) ;; esac
	echo "== $t: fuzzing for $tsecs s (log: $log)"
	rc=0
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$build/bin/$t" -max_total_time="$tsecs" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 "${opts[@]}" \
		-artifact_prefix="$work/artifacts/$t-" "$@" \
		"${dirs[@]}" >"$log" 2>&1 || rc=$?

	grep -E '^fuzz_[a-z0-9_]+:|INFO: Loaded [0-9]+ modules' "$log" |
		sed -e 's/counters):.*/counters)/' || true
	grep -E '#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -2 || true
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
	after=$(ls "$work/artifacts" | wc -l)
	if [ "$rc" -ne 0 ]; then
		echo "== $t exited $rc; the report:"
		grep -nE 'ERROR: |runtime error|SUMMARY|inconsistent|Test unit written|artifact' "$log" | head -20 || true
		grep -A25 -m1 -E 'ERROR: (Address|Undefined|libFuzzer)|runtime error' "$log" | head -40 || true
		echo "reproducers (in $work/artifacts):"
		ls -t "$work/artifacts" | head -5
		failed=$((failed + 1))
		continue
	fi
	if [ "$after" -gt "$before" ]; then
		echo "== new artifacts in $work/artifacts:"
		ls -t "$work/artifacts" | head -5
	fi
	passed=$((passed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
