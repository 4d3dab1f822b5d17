#!/usr/bin/env bash
# Benchmark: floods through `tm capture -r` (the heavy variants of
# tests/e2e/fault_load.sh). For a SYN flood and for one-packet UDP flows
# (tests/tools/load_trace.py, a million packets per second of packet
# time, one long conversation woven in), N packets each, at each
# connections.max in MAXES, with nDPI and without: wall time, packets per
# second, peak RSS (/usr/bin/time), connections created / peak /
# evicted, packets stored, sidecar index/data ratio, flow record bytes.
# Also checks, and says FAIL if not, what the e2e test checks: peak <=
# max, evicted = created - max, every packet stored. Numbers only
# otherwise: the machine is shared, wall times vary.
#
# usage: bench/load_bench.sh [BUILD_DIR]
# Env: N (2000000), MAXES ("100000 1000000"), MEMORY (64m), SEGMENT (256m)
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/tests/tools/load_trace.py"
N=${N:-2000000}
MAXES=${MAXES:-"100000 1000000"}
MEMORY=${MEMORY:-64m}
SEGMENT=${SEGMENT:-256m}
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-load-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT

printf '%-4s %8s %-8s %6s %8s %9s %9s %8s %9s %9s %6s %8s\n' kind packets \
    max ndpi wall_s pkts/s rss_MB created peak evicted idx% flows_MB
for kind in syn udp; do
	python3 "$GEN" --kind "$kind" -n "$N" --legit 1000 -o "$TMPD/t.pcap" ||
		exit 1
	total=$((N + (N + 999) / 1000))
	for max in $MAXES; do
		printf 'storage:\n  memory: %s\n  segment_size: %s\nconnections:\n  max: %s\n' \
		    "$MEMORY" "$SEGMENT" "$max" >"$TMPD/c.yaml"
		for ndpi in on off; do
			opt=()
			[ "$ndpi" = off ] && opt=(--no-ndpi)
			rm -rf "$TMPD/st"
			/usr/bin/time -f "%e %M" -o "$TMPD/time" "$TM" capture \
			    "${opt[@]}" -r "$TMPD/t.pcap" -s "$TMPD/st" \
			    -c "$TMPD/c.yaml" --cutoff none >"$TMPD/out" \
			    2>"$TMPD/err" || { cat "$TMPD/err"; exit 1; }
			read -r wall rss <"$TMPD/time"
			read -r created peak evicted < <(awk '$1 == "connections" {
			    gsub(/[(),]/, ""); print $2, $5, $8 }' "$TMPD/out")
			stored=$(awk '$1 == "packets" && $2 == "stored" { print $3 }' \
			    "$TMPD/out")
			ratio=$(sed -n 's/.*index\/data \([0-9.]*\)%.*/\1/p' \
			    "$TMPD/out")
			fbytes=$(du -sb "$TMPD/st/flows" | awk '{ print $1 }')
			printf '%-4s %8s %-8s %6s %8s %9.0f %9.1f %8s %9s %9s %6s %8.1f\n' \
			    "$kind" "$total" "$max" "$ndpi" "$wall" \
			    "$(echo "$total / $wall" | bc -l)" \
			    "$(echo "$rss / 1024" | bc -l)" "$created" "$peak" \
			    "$evicted" "$ratio" \
			    "$(echo "$fbytes / 1048576" | bc -l)"
			[ "$peak" -le "$max" ] || echo "FAIL: peak $peak > max $max"
			exp=$((created > max ? created - max : 0))
			[ "$evicted" = "$exp" ] ||
				echo "FAIL: evicted $evicted, expected $exp"
			[ "$stored" = "$total" ] ||
				echo "FAIL: stored $stored of $total"
		done
	done
done
