#!/usr/bin/env bash
# Benchmark: `tm query` latency on a store of >= 1 GB, next to scanning
# every segment with tcpdump (the equivalent BPF) in the same run.
#
# The store: three gen-trace captures (--conns 130000, seeds 7, 8, 9, an
# hour apart with --start), 1.25 GB of pcap, ingested with
# `tm capture --cutoff none` (cached in BENCH_DATA; REBUILD=1 redoes it).
# Questions, picked from gen-trace's truth of the middle capture:
#   5-tuple   host A and host B and port PA and port PB and tcp
#   host      host A              (an address seen in untunnelled traffic)
#   tunnel id vni V               BPF: udp port 4789 and udp[12:4] >> 8 = V
#   window    after T and before T+10s (no BPF: editcap -A/-B, and a bare
#             tcpdump scan, over every segment)
#   large     tcp port 443 (a tenth of the store), and everything
# Each command runs ROUNDS times, interleaved; the best and the median wall
# time are printed, with the packets each side returned. Warm page cache
# (the store is read once first). Prints numbers; never fails on them.
#
# usage: bench/query_bench.sh [BUILD_DIR]   (default: build)
# Env: ROUNDS (7), BENCH_DATA (BUILD_DIR/bench-data), REBUILD.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/../shared/bench/gen-trace"
DATA=${BENCH_DATA:-$BUILD/bench-data}
ROUNDS=${ROUNDS:-7}
STORE="$DATA/query-store"

for tool in "$TM" tcpdump editcap python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "query_bench: $tool not found" >&2
		exit 1
	fi
done
mkdir -p "$DATA" || exit 1
n=0
for seed in 7 8 9; do
	start=$((1764000000 + 3600 * n))
	n=$((n + 1))
	t="$DATA/gentrace-s$seed-130k-$start"
	if [ ! -s "$t.pcap" ] || [ ! -s "$t.truth.tsv" ]; then
		echo "generating $t.pcap (gen-trace --seed $seed --conns 130000" \
		    "--start $start)..."
		python3 "$GEN" --seed "$seed" --conns 130000 --start "$start" \
		    -o "$t.pcap.tmp" --truth "$t.truth.tsv" >/dev/null || exit 1
		mv "$t.pcap.tmp" "$t.pcap"
	fi
done
if [ -n "${REBUILD:-}" ] || [ ! -d "$STORE/segments" ] ||
    ! "$TM" query -s "$STORE" --count 'host 192.0.2.254' >/dev/null 2>&1; then
	rm -rf "$STORE"
	for t in "$DATA"/gentrace-s*-130k-*.pcap; do
		echo "ingesting $t..."
		"$TM" capture -q -r "$t" -s "$STORE" --cutoff none || exit 1
	done
fi

python3 - "$TM" "$STORE" "$DATA" "$ROUNDS" <<'EOF'
import glob, os, statistics, subprocess, sys, time

tm, store, data, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
segs = sorted(glob.glob(os.path.join(store, "segments", "*", "*.pcap")))
pcap_bytes = sum(os.path.getsize(s) for s in segs)
idx_bytes = sum(os.path.getsize(s[:-5] + ".idx") for s in segs)
truth = sorted(glob.glob(os.path.join(data, "gentrace-s8-130k-*.truth.tsv")))[0]
conns = []
with open(truth) as f:
    for line in f:
        x = line.rstrip("\n").split("\t")
        if x[0] != "conn":
            conns.append(x)
# a plain IPv4 TCP connection with a few packets; its client's address
# for the host question; a VXLAN connection's VNI; a 10 s window
plain = [c for c in conns if c[1] == "plain4" and c[3] == "6"
         and int(c[13]) >= 8]
c5 = plain[len(plain) // 2]
plain_hosts = {}
tun_hosts = set()
for c in conns:
    for a in (c[4], c[6]):
        if c[1] in ("plain4",):
            plain_hosts[a] = plain_hosts.get(a, 0) + 1
        elif c[10] != "-" or c[11] != "-":
            tun_hosts.add(a)
host = max((a for a in plain_hosts if a not in tun_hosts and
            a.startswith("10.")), key=lambda a: plain_hosts[a])
vx = [c for c in conns if c[1] == "vxlan"]
vni = int(vx[len(vx) // 2][10])
t0 = int(float(c5[15])) - 5
questions = [
    ("5-tuple",
     "host %s and host %s and port %s and port %s and tcp"
     % (c5[4], c5[6], c5[5], c5[7]),
     "host %s and host %s and port %s and port %s and tcp"
     % (c5[4], c5[6], c5[5], c5[7])),
    ("host", "host " + host, "host " + host),
    ("tunnel id", "vni %d" % vni,
     "udp port 4789 and udp[12:4] >> 8 = %d" % vni),
    ("time window (10 s)", "after %d and before %d" % (t0, t0 + 10), None),
    ("large: tcp port 443", "tcp port 443", "tcp port 443"),
    ("large: everything", "", ""),
]


def wall(cmd, out=subprocess.DEVNULL):
    a = time.perf_counter()
    p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
    b = time.perf_counter()
    if p.returncode != 0:
        sys.exit("query_bench: %s: exit %d: %s"
                 % (" ".join(cmd[:3]), p.returncode, p.stderr.decode()))
    return (b - a) * 1000


def scan(bpf):
    a = time.perf_counter()
    for s in segs:
        subprocess.run(["tcpdump", "-r", s, "-w", "/dev/null"] +
                       ([bpf] if bpf else []), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return (time.perf_counter() - a) * 1000


def editcap(t1, t2):
    a = time.perf_counter()
    for s in segs:
        subprocess.run(["editcap", "-A", str(t1), "-B", str(t2), s,
                        "/dev/null"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return (time.perf_counter() - a) * 1000


def count_tm(q):
    p = subprocess.run([tm, "query", "-s", store, "--count", q],
                       capture_output=True, text=True)
    return int(p.stdout.split()[0])


def count_tcpdump(bpf):
    n = 0
    for s in segs:
        p = subprocess.run("tcpdump -nn -tt -r '%s' '%s' 2>/dev/null | "
                           "grep -c '^[0-9]'" % (s, bpf), shell=True,
                           capture_output=True, text=True)
        n += int(p.stdout.strip() or 0)
    return n


for s in segs:                      # warm the page cache
    with open(s, "rb") as f:
        while f.read(1 << 24):
            pass
print("store: %d segments, %.2f GB of pcap, %.1f MB of sidecars "
      "(index/data %.2f%%)" % (len(segs), pcap_bytes / 1e9, idx_bytes / 1e6,
                               100.0 * idx_bytes / pcap_bytes))
print("tm query: --count and -w FILE; scan: every segment, one process "
      "each; best and median of %d rounds (ms)" % rounds)
print()
print("%-20s %9s %9s %9s %9s %10s %10s %8s" % (
    "question", "tm best", "tm med", "-w best", "scan best", "scan med",
    "packets", "speedup"))
for name, q, bpf in questions:
    tq, tw, ts = [], [], []
    for r in range(rounds):
        tq.append(wall([tm, "query", "-s", store, "--count", q]))
        tw.append(wall([tm, "query", "-s", store, "-w", "/dev/null", q]))
        if bpf is not None:
            ts.append(scan(bpf if bpf else None))
        elif r < 3:
            ts.append(editcap(t0, t0 + 10))
    n_tm = count_tm(q)
    n_td = count_tcpdump(bpf) if bpf else None
    print("%-20s %9.2f %9.2f %9.2f %9.1f %10.1f %10s %7.0fx" % (
        name, min(tq), statistics.median(tq), min(tw), min(ts),
        statistics.median(ts),
        "%d" % n_tm if n_td is None else "%d/%d" % (n_tm, n_td),
        min(ts) / min(tq)))
    print("%-20s   tm: %s" % ("", q or "(everything)"))
    print("%-20s   scan: %s" % ("", ("tcpdump " + bpf) if bpf else
                                "tcpdump (no filter)" if bpf == "" else
                                "editcap -A %d -B %d" % (t0, t0 + 10)))
bare = [scan(None) for _ in range(3)]
print()
print("bare scan (tcpdump -r SEG -w /dev/null, no filter, all segments): "
      "best %.1f ms" % min(bare))
print("packets: tm query's / tcpdump's count (tcpdump's host and port see "
      "the outermost layer; ours the innermost, tunnels included)")
EOF
