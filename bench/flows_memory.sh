#!/usr/bin/env bash
# Benchmark: bytes per connection with 1 M concurrent connections.
#
# tests/tools/load_trace.py --kind syn writes N one-packet TCP connections
# within one second (nothing times out, nothing is evicted: connections.max is N),
# so at the end of input all N are in the table at once. The peak RSS of
# `tm flows --stats` minus that of a run with 1,000 connections (same
# table size: the pool is allocated alike, only touched pages count),
# divided by N, is the memory per tracked connection: entry, hash bucket,
# and what the end-of-input flush needs (4 bytes per connection to sort).
# Also prints the entry size and the table's own accounting. Numbers only.
#
# usage: bench/flows_memory.sh [BUILD_DIR]   Env: N (1000000)
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/tests/tools/load_trace.py"
N=${N:-1000000}
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flows-mem.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT

run() {	# run COUNT: prints "rss_kb table_bytes entry_bytes peak"
	python3 "$GEN" --kind syn -n "$1" -o "$TMPD/flood.pcap"
	"$TM" flows -r "$TMPD/flood.pcap" --max-conns "$N" --stats \
	    >/dev/null 2>"$TMPD/stats" || exit 1
	awk '$1 == "max_rss_kb" { r = $2 } $1 == "conn_table_bytes" { t = $2 }
	    $1 == "conn_entry_bytes" { e = $2 } $1 == "connections_peak" { p = $2 }
	    END { print r, t, e, p }' "$TMPD/stats"
}

read -r base_rss base_table entry base_peak < <(run 1000)
read -r rss table entry peak < <(run "$N")
echo "connections in the table at once: $peak (baseline run: $base_peak)"
echo "peak RSS: $rss kB with $peak connections, $base_rss kB with $base_peak"
awk -v r="$rss" -v b="$base_rss" -v n="$peak" -v bn="$base_peak" \
    -v t="$table" -v e="$entry" 'BEGIN {
	printf "RSS per connection: %.1f bytes\n", (r - b) * 1024 / (n - bn)
	printf "table accounting: %.1f bytes per connection (entry %d + bucket)\n",
	    t / n, e
}'
