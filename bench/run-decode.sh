#!/usr/bin/env bash
# Decode benchmark on a gen-trace capture:
#
#   bench/run-decode.sh [CONNS [ROUNDS]] [-- decode_bench options...]
#
# CONNS: connections of the trace (default 130000: about 1.15 M frames,
# 400 MB, the reference size; a smaller number makes a quicker run).
# ROUNDS: timed rounds (default 7). The trace is
#   gen-trace --seed 7 --conns CONNS --mix default
# made once and kept in $BENCH_DATA (default BUILD/bench-data).
# Builds decode_bench in $BENCH_BUILD (default SRC/build-bench: an
# optimized build of this tree without tests), then runs it pinned to one
# core: packets/s and ns/packet of decode + key (best and median round),
# straight from memory and with the next packets' headers prefetched, and
# the wall time of `tcpdump -r TRACE -w /dev/null` for comparison.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
conns=130000
rounds=7
if [ $# -gt 0 ] && [ "$1" != "--" ]; then conns=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
build=${BENCH_BUILD:-$src/build-bench}
data=${BENCH_DATA:-$build/bench-data}
gen=$src/../shared/bench/gen-trace
trace=$data/gen-trace-s7-c$conns-default.pcap

if ! [[ $conns =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ ]]; then
	echo "usage: $0 [CONNS [ROUNDS]] [-- decode_bench options...]" >&2
	exit 2
fi
echo "== building decode_bench in $build"
mkdir -p "$build"
cmake -S "$src" -B "$build" -DTM_TESTS=OFF >"$build/tm-cmake.log" 2>&1 || {
	cat "$build/tm-cmake.log"; exit 1; }
cmake --build "$build" -j2 --target decode_bench dissectors \
	>"$build/tm-build.log" 2>&1 || { tail -30 "$build/tm-build.log"; exit 1; }

mkdir -p "$data"
if [ ! -s "$trace" ]; then
	echo "== generating $trace (gen-trace --seed 7 --conns $conns)"
	python3 "$gen" --seed 7 --conns "$conns" --mix default -o "$trace.tmp"
	mv "$trace.tmp" "$trace"
fi

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo |
	cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bin/decode_bench" -n "$rounds" "$@" "$trace"
