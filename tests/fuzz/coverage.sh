#!/usr/bin/env bash
# Which lines of the core and of every dissector the fuzz corpus reaches:
#
#   tests/fuzz/coverage.sh [FILE...]
#
# Builds fuzz_decode and the modules with clang source-based coverage in
# build-fuzz-cov, replays the corpus of tests/fuzz/run.sh (build-fuzz/fuzz:
# seeds and what the fuzzer found) once, and prints llvm-cov's per-file
# report. With FILE arguments (e.g. dissectors/esp.c), also prints the
# lines of those files that no input reached.
# Env: FUZZ_BUILD (the run.sh build whose corpus is replayed, default
# SRC/build-fuzz), COV_BUILD (default SRC/build-fuzz-cov).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=${FUZZ_BUILD:-$src/build-fuzz}
build=${COV_BUILD:-$src/build-fuzz-cov}
ver=14
for tool in clang llvm-profdata-$ver llvm-cov-$ver; do
	command -v "$tool" >/dev/null || { echo "coverage: $tool is needed" >&2; exit 1; }
done
if [ ! -d "$fuzz/fuzz/seeds" ]; then
	echo "coverage: no corpus in $fuzz/fuzz: run tests/fuzz/run.sh first" >&2
	exit 1
fi

mkdir -p "$build"
flags="-fprofile-instr-generate -fcoverage-mapping"
CC=clang cmake -S "$src" -B "$build" -DTM_FUZZ=ON -DTM_SANITIZE=ON \
	-DTM_TESTS=OFF -DCMAKE_C_FLAGS="$flags" \
	-DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate \
	-DCMAKE_MODULE_LINKER_FLAGS=-fprofile-instr-generate \
	>"$build/tm-cmake.log" 2>&1 || { cat "$build/tm-cmake.log"; exit 1; }
cmake --build "$build" -j"${JOBS:-2}" --target fuzz_decode \
	>"$build/tm-build.log" 2>&1 || { tail -30 "$build/tm-build.log"; exit 1; }

prof=$build/profile
rm -rf "$prof"
mkdir -p "$prof"
# every module writes its own profile (%m) when the process exits
LLVM_PROFILE_FILE="$prof/%m-%p.profraw" "$build/bin/fuzz_decode" -runs=0 \
	"$fuzz/fuzz/corpus" "$fuzz/fuzz/seeds" 2>&1 | grep -E 'DONE|fuzz_decode:' || true
llvm-profdata-$ver merge -o "$prof/all.profdata" "$prof"/*.profraw

objs=()
for so in "$build"/lib/timemachine/dissectors/*.so; do
	objs+=(-object "$so")
done
llvm-cov-$ver report "$build/bin/fuzz_decode" "${objs[@]}" \
	-instr-profile="$prof/all.profdata" \
	-ignore-filename-regex='tests/fuzz|timemachine/dissector\.h' |
	sed "s|$src/||"
for f in "$@"; do
	echo "== lines of $f no input reached"
	llvm-cov-$ver show "$build/bin/fuzz_decode" "${objs[@]}" \
		-instr-profile="$prof/all.profdata" "$src/$f" |
		grep -E '^ +[0-9]+\| +0\|' || echo "(none)"
done
