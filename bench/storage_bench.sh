#!/usr/bin/env bash
# Benchmark: `tm capture -r` into a fresh store next to `tcpdump -r SAME
# -w OUT`, same run, same file (gen-trace --seed 7 --conns 130000, 1.15 M
# frames, 424 MB), interleaved, ROUNDS times each: no cutoff and a 20k
# cutoff, with nDPI (the default configuration) and without. tm capture
# exits only once everything is synced and published; tcpdump does not
# sync, so `tcpdump + sync` (dd conv=fsync on its output) is shown too.
# Prints medians and bests of wall time, medians of CPU time (user + sys:
# what other load on a shared machine does not inflate), the ratios to
# tcpdump the issue sets (no cutoff <= 1.2x, 20k <= 0.6x), and the
# index/data ratio. `tm flows -r T --no-ndpi` (decode, connection table,
# flow records to /dev/null, nothing stored) is measured beside them: the
# reading thread's own work, a floor for any ingest of the same file.
#
# Then, unless RESTART=0: a store of >= 10 GB (three traces with shifted
# --start, each ingested several times), the time a start takes to read
# it (sidecars: header and checksums, never a pcap), warm and cold
# (drop_caches), next to rebuilding all its sidecars by scanning (what a
# start does for a segment without one). Target: <= 1 s per 10 GB.
# Checks the free space first and removes the store afterwards.
#
# usage: bench/storage_bench.sh [BUILD_DIR]    (default: build)
# Env: ROUNDS (3), BENCH_DATA (BUILD_DIR/bench-data: traces are cached),
# RESTART (1), RESTART_GB (10). Prints numbers; never fails on them.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/../shared/bench/gen-trace"
DATA=${BENCH_DATA:-$BUILD/bench-data}
ROUNDS=${ROUNDS:-3}
TRACE="$DATA/gentrace-s7-130k.pcap"
RESTART=${RESTART:-1}
RESTART_GB=${RESTART_GB:-10}

for tool in "$TM" /usr/bin/time tcpdump python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "storage_bench: $tool not found" >&2
		exit 1
	fi
done
mkdir -p "$DATA" || exit 1
if [ ! -s "$TRACE" ]; then
	echo "generating $TRACE (gen-trace --seed 7 --conns 130000)..."
	python3 "$GEN" --seed 7 --conns 130000 -o "$TRACE.tmp" || exit 1
	mv "$TRACE.tmp" "$TRACE"
fi
LOG="$DATA/storage_bench.log"
ST="$DATA/bench-store"
OUT="$DATA/tcpdump-out.pcap"
: >"$LOG"
: >"$LOG.cpu"

# measure NAME CMD...: appends "NAME wall user sys" to $LOG
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$DATA/time.out" "$@" \
	    >"$DATA/stdout.$name" 2>"$DATA/stderr.$name"
	read -r wall user sys <"$DATA/time.out"
	echo "$name $wall $user $sys" >>"$LOG"
	# tm capture's own split of the CPU time by stage
	sed -n "s/^cpu  */$name /p" "$DATA/stdout.$name" >>"$LOG.cpu"
}

cat "$TRACE" >/dev/null		# warm the page cache once
for r in $(seq "$ROUNDS"); do
	rm -f "$OUT"
	measure tcpdump tcpdump -r "$TRACE" -w "$OUT"
	rm -f "$OUT"
	measure tcpdump_sync sh -c 'tcpdump -r "$1" -w "$2" 2>/dev/null &&
	    dd if=/dev/null of="$2" conv=notrunc,fsync 2>/dev/null' sh \
	    "$TRACE" "$OUT"
	rm -f "$OUT"
	# the reading thread's work alone (decode, connections, flow records
	# to /dev/null: nothing stored): a floor for the 20k ingest
	measure flows_nondpi sh -c '"$1" flows -r "$2" --no-ndpi --cutoff 20k \
	    >/dev/null' sh "$TM" "$TRACE"
	for spec in "none ndpi" "20k ndpi" "none nondpi" "20k nondpi"; do
		set -- $spec
		rm -rf "$ST"
		extra=()
		[ "$2" = nondpi ] && extra=(--no-ndpi)
		measure "capture_$1_$2" "$TM" capture -r "$TRACE" -s "$ST" \
		    --cutoff "$1" "${extra[@]}"
	done
done
rm -rf "$ST" "$OUT"

python3 - "$LOG" "$DATA" "$TRACE" "$ROUNDS" <<'EOF'
import os, re, statistics, sys
log, data, trace, rounds = sys.argv[1:5]
rows = {}
for line in open(log):
    name, wall, user, sys_ = line.split()
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_)))
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v),
           min(w for w, _ in v))
       for k, v in rows.items()}
print("trace: %s (%.0f MB), %s rounds: median wall, best wall, median cpu"
      % (trace, os.path.getsize(trace) / 1e6, rounds))
print("%-40s %8s %8s %8s %10s %10s" % ("", "wall s", "best s", "cpu s",
                                       "vs tcpdump", "best vs"))
tw = med["tcpdump"][0]
tb = med["tcpdump"][2]
for k, label in [("tcpdump", "tcpdump -r T -w OUT"),
                 ("tcpdump_sync", "tcpdump -r T -w OUT, then fsync"),
                 ("capture_none_ndpi", "tm capture --cutoff none"),
                 ("capture_20k_ndpi", "tm capture --cutoff 20k"),
                 ("capture_none_nondpi", "tm capture --cutoff none --no-ndpi"),
                 ("capture_20k_nondpi", "tm capture --cutoff 20k --no-ndpi"),
                 ("flows_nondpi", "tm flows --no-ndpi (nothing stored)")]:
    if k in med:
        print("%-40s %8.2f %8.2f %8.2f %9.2fx %9.2fx" % (
            label, med[k][0], med[k][2], med[k][1], med[k][0] / tw,
            med[k][2] / tb))
print("targets: no cutoff <= 1.2x tcpdump's wall time, 20k cutoff <= 0.6x")
cpu = {}
for line in open(log + ".cpu"):
    name, rest = line.split(" ", 1)
    for stage, pat in (("reading", r"reading thread ([\d.]+) s"),
                       ("nDPI", r"nDPI ([\d.]+) s"),
                       ("writer", r"writer ([\d.]+) s")):
        m = re.search(pat, rest)
        if m:
            cpu.setdefault(name, {}).setdefault(stage, []).append(
                float(m.group(1)))
if cpu:
    print("CPU seconds by stage (tm capture's cpu line), medians:")
    for name in sorted(cpu):
        print("  %-22s %s" % (name, ", ".join(
            "%s %.2f" % (st, statistics.median(v))
            for st, v in cpu[name].items())))
for k in ("capture_none_ndpi", "capture_20k_ndpi"):
    out = open(os.path.join(data, "stdout." + k)).read()
    m = re.search(r"segments\s+(\d+) published: (.*?), sidecars (.*?) "
                  r"\(index/data ([\d.]+)%\)", out)
    if m:
        print("%s: %s segments, %s + %s sidecars, index/data %s%%" % (
            k, m.group(1), m.group(2), m.group(3), m.group(4)))
EOF

[ "$RESTART" = 1 ] || exit 0

# ---- restart on a store of >= RESTART_GB GB ---------------------------------
need=$((RESTART_GB * 1024 * 1024 + 3 * 1024 * 1024))	# KiB: store + traces
avail=$(df -Pk "$DATA" | awk 'NR == 2 { print $4 }')
df -h "$DATA"
if [ "$avail" -lt "$need" ]; then
	echo "storage_bench: restart: $((avail / 1024)) MiB free, $((need / 1024))" \
	    "MiB needed: skipped"
	exit 0
fi
trap 'rm -rf "$ST" "$DATA"/shift-*.pcap' EXIT
for i in 1 2 3; do
	t="$DATA/shift-$i.pcap"
	[ -s "$t" ] || python3 "$GEN" --seed $((6 + i)) --conns 130000 \
	    --start $((1764000000 + 86400 * i)) -o "$t" >/dev/null
done
rm -rf "$ST"
printf 'storage:\n  segment_size: 256m\n' >"$DATA/restart.yaml"
bytes=0
n=0
while [ "$bytes" -lt $((RESTART_GB * 1000 * 1000 * 1000)) ]; do
	i=$((n % 3 + 1))
	"$TM" capture -q -r "$DATA/shift-$i.pcap" -s "$ST" -c "$DATA/restart.yaml" \
	    --cutoff none --no-ndpi || exit 1
	n=$((n + 1))
	bytes=$(du -sb "$ST/segments" | cut -f1)
done
segs=$(ls "$ST"/segments/default/*.idx | wc -l)
idx=$(cat "$ST"/segments/default/*.idx | wc -c)
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack(
    "<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' "$DATA/empty.pcap"
echo "store: $n captures, $segs segments, $((bytes / 1000000)) MB" \
    "(sidecars $((idx / 1000000)) MB)"
for mode in warm cold; do
	sync
	if [ "$mode" = cold ]; then
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null ||
			{ echo "cold: cannot drop caches (not root)"; continue; }
	fi
	/usr/bin/time -f "%e" -o "$DATA/time.out" "$TM" capture -r \
	    "$DATA/empty.pcap" -s "$ST" -c "$DATA/restart.yaml" >"$DATA/restart.out"
	echo "restart ($mode cache): $(grep '^restart' "$DATA/restart.out" |
	    sed 's/^restart *//'); whole command $(cat "$DATA/time.out") s"
done
# rebuilding every sidecar by scanning (decode + key of every packet)
rm -f "$ST"/segments/default/*.idx
sync
/usr/bin/time -f "%e" -o "$DATA/time.out" "$TM" capture -r "$DATA/empty.pcap" \
    -s "$ST" -c "$DATA/restart.yaml" >"$DATA/rebuild.out" 2>"$DATA/rebuild.err"
echo "rebuild by scanning: $(grep '^restart' "$DATA/rebuild.out" |
    sed 's/^restart *//'); whole command $(cat "$DATA/time.out") s"
