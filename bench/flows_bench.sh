#!/usr/bin/env bash
# Benchmark: `tm flows` (nDPI on) over gen-trace --seed 7 --conns 130000
# (1.15 M frames), next to `tcpdump -r SAME -w OUT` and nDPI's own
# `ndpiReader -i SAME` in the same run, interleaved, ROUNDS times each.
# Prints the median wall time, the median CPU time (user + system: what a
# shared machine's load does not inflate) and the peak RSS of each, and
# the ratios the issue asks for (tm flows >= 2x faster than ndpiReader,
# within 2x of tcpdump). Prints numbers; never fails on them.
#
# usage: bench/flows_bench.sh [BUILD_DIR]   (default: build)
# Env: ROUNDS (3), BENCH_DATA (BUILD_DIR/bench-data: the trace is cached).
# Needs: python3, tcpdump, ndpiReader (Debian libndpi-bin), /usr/bin/time.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/../shared/bench/gen-trace"
DATA=${BENCH_DATA:-$BUILD/bench-data}
ROUNDS=${ROUNDS:-3}
TRACE="$DATA/gentrace-s7-130k.pcap"

for tool in "$TM" /usr/bin/time tcpdump ndpiReader python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "flows_bench: $tool not found" >&2
		exit 1
	fi
done
mkdir -p "$DATA" || exit 1
if [ ! -s "$TRACE" ]; then
	echo "generating $TRACE (gen-trace --seed 7 --conns 130000)..."
	python3 "$GEN" --seed 7 --conns 130000 -o "$TRACE.tmp" || exit 1
	mv "$TRACE.tmp" "$TRACE"
fi
OUT="$DATA/tcpdump-out.pcap"
LOG="$DATA/flows_bench.log"
: >"$LOG"

# measure NAME CMD...: appends "NAME wall user sys rss_kb" to $LOG
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$DATA/time.out" "$@" \
	    >"$DATA/stdout.$name" 2>"$DATA/stderr.$name"
	read -r wall user sys rss <"$DATA/time.out"
	echo "$name $wall $user $sys $rss" >>"$LOG"
}

# warm the page cache once
cat "$TRACE" >/dev/null
for r in $(seq "$ROUNDS"); do
	measure tm_flows "$TM" flows -r "$TRACE" --json
	measure tm_flows_no_ndpi "$TM" flows -r "$TRACE" --json --no-ndpi
	measure tcpdump_w_file tcpdump -r "$TRACE" -w "$OUT"
	rm -f "$OUT"
	measure tcpdump_w_null tcpdump -r "$TRACE" -w /dev/null
	measure ndpiReader ndpiReader -i "$TRACE" -v 1
done

python3 - "$LOG" "$DATA" "$TRACE" "$ROUNDS" <<'EOF'
import os, re, statistics, sys
log, data, trace, rounds = sys.argv[1:5]
rows = {}
for line in open(log):
    name, wall, user, sys_, rss = line.split()
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_),
                                      int(rss)))
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v),
           max(r for _, _, r in v)) for k, v in rows.items()}
frames = None
flows = sum(1 for _ in open(os.path.join(data, "stdout.tm_flows")))
nr = open(os.path.join(data, "stdout.ndpiReader")).read()
m = re.search(r"Unique flows:\s+(\d+)", nr)
nr_flows = m.group(1) if m else "?"
m = re.search(r"IP packets:\s+\d+\s+of (\d+) packets total", nr)
frames = m.group(1) if m else "?"
print("trace: %s (%.0f MB, %s frames), %s rounds, medians" % (
    trace, os.path.getsize(trace) / 1e6, frames, rounds))
print("%-32s %8s %8s %9s" % ("", "wall s", "cpu s", "peak RSS"))
names = [("tm_flows", "tm flows --json (nDPI on)"),
         ("tm_flows_no_ndpi", "tm flows --json --no-ndpi"),
         ("tcpdump_w_file", "tcpdump -r T -w FILE"),
         ("tcpdump_w_null", "tcpdump -r T -w /dev/null"),
         ("ndpiReader", "ndpiReader -i T")]
for k, label in names:
    w, c, r = med[k]
    print("%-32s %8.2f %8.2f %7.0f MB" % (label, w, c, r / 1024))
print("flows: tm flows %d, ndpiReader %s (truth: 130000)" % (flows, nr_flows))
t, n, d, dn = med["tm_flows"], med["ndpiReader"], med["tcpdump_w_file"], med["tcpdump_w_null"]
print("ndpiReader / tm flows: %.2fx wall, %.2fx cpu   (target >= 2x)" % (
    n[0] / t[0], n[1] / t[1]))
print("tm flows / tcpdump -w FILE: %.2fx wall, %.2fx cpu   (target <= 2x)" % (
    t[0] / d[0], t[1] / d[1]))
print("tm flows / tcpdump -w /dev/null: %.2fx wall, %.2fx cpu" % (
    t[0] / dn[0], t[1] / dn[1]))
EOF
