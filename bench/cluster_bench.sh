#!/usr/bin/env bash
# Benchmark: the query front-end's latency against a direct query of one
# service, same questions, same run.
#
# gen-trace traffic (--seed 51, CONNS connections) is captured twice: into
# one store of the whole trace, and split by tm's connection key (as a
# symmetric-hash broker splits it) into three stores. Services: `tm serve`
# on the whole store (the direct answer), `tm serve` on each third, and
# `tm frontend` over the three (its cluster file lists each node's inner
# addresses, as /32 and /128 prefixes, and VLANs, so routing applies).
# Each question is asked
#   direct    tm query --connect WHOLE_SERVICE
#   frontend  tm query --connect FRONTEND_SOCKET
#   cluster   tm query --cluster CLUSTER.yaml  (no front-end process; the
#             command reads that file, tens of thousands of prefixes,
#             every time)
#   plain     tm query --cluster PLAIN.yaml    (the three nodes and
#             nothing else: every node is asked)
# with -w /dev/null (the pcap travels and is written) and with --count,
# ROUNDS times each, interleaved (direct, cluster, frontend, direct, ...).
# Prints the median and 90th percentile wall time in ms and the packets
# returned (the three must agree). Warm page cache. Prints numbers; never
# fails on them.
#
# usage: bench/cluster_bench.sh [BUILD_DIR]   (default: build)
# Env: ROUNDS (21), CONNS (20000), BENCH_DATA (BUILD_DIR/bench-data),
#      REBUILD=1 redoes the stores.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/../shared/bench/gen-trace"
DATA=${BENCH_DATA:-$BUILD/bench-data}
ROUNDS=${ROUNDS:-21}
CONNS=${CONNS:-20000}
D="$DATA/cluster-$CONNS"

for tool in "$TM" python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "cluster_bench: $tool not found" >&2
		exit 1
	fi
done
mkdir -p "$D" || exit 1
if [ -n "${REBUILD:-}" ] || [ ! -s "$D/parts.json" ] ||
    [ ! -d "$D/whole/segments" ]; then
	rm -rf "$D/whole" "$D/s1" "$D/s2" "$D/s3"
	echo "generating (gen-trace --seed 51 --conns $CONNS) and splitting..."
	python3 "$GEN" --seed 51 --conns "$CONNS" -o "$D/trace.pcap" \
	    >/dev/null || exit 1
	"$TM" decode --json -r "$D/trace.pcap" >"$D/trace.jsonl" || exit 1
	python3 "$SRC/tests/tools/pcap_split_key.py" "$D/trace.pcap" \
	    "$D/trace.jsonl" 3 "$D/part" --describe "$D/parts.json" || exit 1
	rm -f "$D/trace.jsonl"
	for i in 1 2 3; do
		"$TM" capture -q -r "$D/part$i.pcap" -s "$D/s$i" \
		    --cutoff none || exit 1
	done
	"$TM" capture -q -r "$D/trace.pcap" -s "$D/whole" --cutoff none ||
	    exit 1
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/tm-cbench.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do { kill "$p"; wait "$p"; } 2>/dev/null; done
	rm -rf "$RUN"
}
trap cleanup EXIT
python3 - "$D" "$RUN" >"$RUN/cluster.yaml" <<'EOF' || exit 1
import json, sys
d, run = sys.argv[1], sys.argv[2]
p = json.load(open(d + "/parts.json"))
print("timeout: 10s")
print("listen:\n  socket: %s/front.sock" % run)
print("nodes:")
for k in "123":
    print("  - name: n%s\n    address: %s/s%s\n    share: %s/3" % (k, d, k, k))
    print("    networks: [%s]" % ", ".join('"%s"' % a for a in p[k]["addrs"]))
    print("    vlans: [%s]" % ", ".join(str(v) for v in p[k]["vlans"]))
EOF
printf 'nodes:\n' >"$RUN/plain.yaml"
for i in 1 2 3; do
	printf '  - {name: n%s, address: %s}\n' "$i" "$D/s$i" >>"$RUN/plain.yaml"
done
for s in whole s1 s2 s3; do
	"$TM" serve -s "$D/$s" 2>"$RUN/$s.err" &
	PIDS="$PIDS $!"
done
"$TM" frontend -c "$RUN/cluster.yaml" 2>"$RUN/front.err" &
PIDS="$PIDS $!"
for a in "$D/whole" "$D/s1" "$D/s2" "$D/s3" "$RUN/front.sock"; do
	for _ in $(seq 100); do
		"$TM" ctl --connect "$a" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
done

python3 - "$TM" "$D" "$RUN" "$ROUNDS" <<'EOF'
import glob, json, os, statistics, subprocess, sys, time

tm, d, run, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
parts = json.load(open(d + "/parts.json"))
a = {k: set(v["addrs"]) for k, v in parts.items()}
v = {k: set(x["vlans"]) for k, x in parts.items()}
only = lambda s, k: sorted(s[k] - set().union(*(s[j] for j in s if j != k)))
h1 = [x for x in only(a, "1") if x.startswith("10.")]
host = h1[len(h1) // 2]
vlan = only(v, "2")[0]
questions = [
    ("host (1 node)", "host " + host),
    ("vlan (1 node)", "vlan %d" % vlan),
    ("tcp port 443 (3)", "tcp port 443"),
    ("udp (3 nodes)", "udp"),
    ("everything (3)", ""),
]
direct = ["--connect", d + "/whole"]
cluster = ["--cluster", run + "/cluster.yaml"]
plain = ["--cluster", run + "/plain.yaml"]
front = ["--connect", run + "/front.sock"]
ways = [("direct", direct), ("frontend", front), ("cluster", cluster),
        ("plain", plain)]


def wall(args, q):
    t = time.perf_counter()
    p = subprocess.run([tm, "query"] + args + ([q] if q else []),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit("cluster_bench: %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                     p.stderr.decode()))
    return ms, p


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


segs = glob.glob(os.path.join(d, "*", "segments", "*", "*.pcap"))
for s in segs:
    with open(s, "rb") as f:
        while f.read(1 << 24):
            pass
whole_bytes = sum(os.path.getsize(s) for s in segs if "/whole/" in s)
print("whole store: %.1f MB of pcap; three nodes hold a third each "
      "(split by connection key); %d rounds, interleaved" %
      (whole_bytes / 1e6, rounds))
print()
print("%-18s %-6s %8s %7s %9s %7s %8s %7s %8s %7s %8s" % (
    "question", "mode", "direct", "p90", "frontend", "p90", "cluster",
    "p90", "plain", "p90", "packets"))
for name, q in questions:
    for mode, extra in (("pcap", ["-w", "/dev/null"]), ("count", ["--count"])):
        t = {w: [] for w, _ in ways}
        counts = {}
        for r in range(rounds):
            for w, args in ways:
                ms, p = wall(args + extra, q)
                t[w].append(ms)
        for w, args in ways:
            _, p = wall(args + ["--count"], q)
            counts[w] = (p.stdout or p.stderr).decode().split()[0]
        same = len(set(counts.values())) == 1
        print("%-18s %-6s %8.2f %7.2f %9.2f %7.2f %8.2f %7.2f %8.2f %7.2f %8s"
              % ((name, mode) + tuple(
                  f(t[w]) for w, _ in ways
                  for f in (statistics.median, lambda x: pct(x, 90))) +
                 (counts["direct"] if same else "DIFFER " + str(counts),)))
    print("%-18s   %s" % ("", q or "(everything)"))
print()
print("median and p90 wall ms per command (a tm process each); direct: one "
      "service holding the whole trace; frontend: tm query --connect to tm "
      "frontend over three services holding a third each; cluster: tm query "
      "--cluster over the same three with the routing file; plain: the same "
      "without networks and vlans")
EOF
