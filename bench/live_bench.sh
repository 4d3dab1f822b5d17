#!/usr/bin/env bash
# Benchmark: the capture service on a real interface pair (issue 6).
#
#  1. The highest tcpreplay rate with zero loss: a veth pair, one end in a
#     network namespace this script owns; `tm capture -i` on the other end
#     (the built-in configuration: one class, cutoff 20k, nDPI; and with
#     --cutoff none); tcpreplay --pps RATE replays a gen-trace trace into
#     the namespace's end. Loss is everything tcpreplay sent that tm did
#     not read (kernel drops included) plus what the rings dropped. Rates
#     double until loss, then bisect (each trial is one replay; a rate
#     passes when one replay loses nothing). `tcpdump -i -w FILE` on the
#     same pair, same rates, is the reference. --topspeed is tried too.
#     Rates are tcpreplay's achieved rates, in packets/s and Mbit/s.
#  2. Query latency while capturing at half that rate: the trace replayed
#     in a loop, `tm query --connect` (a host, a 5-tuple, everything in
#     the last 10 s) timed REPEAT times each; and the same questions with
#     no traffic, for comparison. Medians and 90th percentiles.
#
# usage: bench/live_bench.sh [BUILD_DIR]    (default: build)
# Env: CONNS (3000: the trace's connections), REPEAT (30), MAXRATE (2000000),
# TRIAL_SECONDS (4: each trial loops the trace this long at its rate).
# Needs root, tcpreplay, iproute2, tcpdump. Prints numbers; never fails on
# them.
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
TM="$BUILD/bin/tm"
GEN="$SRC/../shared/bench/gen-trace"
CONNS=${CONNS:-3000}
REPEAT=${REPEAT:-30}
MAXRATE=${MAXRATE:-2000000}
TRIAL_SECONDS=${TRIAL_SECONDS:-4}

if [ "$(id -u)" != 0 ]; then
	echo "live_bench: needs root (network namespaces)" >&2
	exit 1
fi
for tool in "$TM" tcpreplay tcpdump ip python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "live_bench: $tool not found" >&2; exit 1; }
done

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-livebench.XXXXXX") || exit 1
NS=tmlb$$
A=tmla$$
B=tmlb$$
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	ip link del "$A" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT
ip netns add "$NS" && ip link add "$A" type veth peer name "$B" &&
    ip link set "$B" netns "$NS" || exit 1
sysctl -qw "net.ipv6.conf.$A.disable_ipv6=1"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$B.disable_ipv6=1"
ip link set "$A" mtu 65535 up
ip netns exec "$NS" ip link set "$B" mtu 65535 up

TRACE="$TMPD/trace.pcap"
"$GEN" --seed 7 --conns "$CONNS" -o "$TRACE" >/dev/null 2>&1 || exit 1
NFR=$(tcpdump -r "$TRACE" -nn 2>/dev/null | wc -l)
BYTES=$(stat -c %s "$TRACE")
echo "trace: gen-trace --seed 7 --conns $CONNS: $NFR frames, $BYTES bytes"
echo "machine: $(nproc) cores; $(uname -r)"

# one trial: $1 tool (tm|tm-none|tcpdump), $2 rate (pps, or 0: topspeed)
# prints: sent achieved_pps achieved_mbps lost
trial() {
	local tool=$1 rate=$2 out="$TMPD/out" rflag
	rm -rf "$TMPD/store" "$TMPD/td.pcap"
	case $tool in
	tm) "$TM" capture -i "$A" -s "$TMPD/store" --no-control >"$out.tm" 2>"$out.err" & ;;
	tm-none) "$TM" capture -i "$A" -s "$TMPD/store" --no-control --cutoff none >"$out.tm" 2>"$out.err" & ;;
	tcpdump) tcpdump -i "$A" -s 0 -B 131072 -w "$TMPD/td.pcap" >"$out.tm" 2>"$out.err" & ;;
	esac
	PID=$!
	sleep 1
	# sustained: the trace is looped for about TRIAL_SECONDS at the rate
	# (a single pass is a burst the kernel's buffer alone absorbs)
	local loops=$(( ( (rate > 0 ? rate : 300000) * TRIAL_SECONDS + NFR - 1) / NFR ))
	if [ "$rate" = 0 ]; then rflag=--topspeed; else rflag="--pps=$rate"; fi
	ip netns exec "$NS" tcpreplay -i "$B" $rflag --loop="$loops" "$TRACE" >"$out.rp" 2>&1
	# longer than any buffer timeout (tcpdump's is 1 s): the kernel has
	# handed every block on before the capture is told to stop
	sleep 1.5
	kill -INT "$PID"
	wait "$PID" 2>/dev/null
	PID=
	local sent pps mbps got drops
	sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' "$out.rp")
	pps=$(sed -n 's/.*Rated: .* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\2/p' "$out.rp")
	mbps=$(sed -n 's/.*Rated: .* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\1/p' "$out.rp")
	if [ "$tool" = tcpdump ]; then
		got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$out.err")
		drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$out.err")
	else
		got=$(sed -n 's/^packets read *\([0-9]*\).*/\1/p' "$out.tm")
		drops=$(sed -n 's/^packets dropped *\([0-9]*\).*/\1/p' "$out.tm")
	fi
	: "${sent:=0}" "${got:=0}" "${drops:=0}" "${pps:=0}" "${mbps:=0}"
	echo "$sent $pps $mbps $((sent - got + drops))"
}

search() {	# tool: prints the highest lossless rate found
	local tool=$1 lo=0 hi=0 r=20000 res lost best=""
	while [ "$r" -le "$MAXRATE" ]; do
		res=$(trial "$tool" "$r")
		lost=${res##* }
		printf '  %-8s --pps %-8s -> %s\n' "$tool" "$r" "$res" >&2
		if [ "$lost" = 0 ]; then lo=$r; best=$res; r=$((r * 2)); else hi=$r; break; fi
	done
	if [ "$hi" -gt 0 ] && [ "$lo" -gt 0 ]; then
		for _ in 1 2 3; do
			r=$(((lo + hi) / 2))
			res=$(trial "$tool" "$r")
			lost=${res##* }
			printf '  %-8s --pps %-8s -> %s\n' "$tool" "$r" "$res" >&2
			if [ "$lost" = 0 ]; then lo=$r; best=$res; else hi=$r; fi
		done
	fi
	res=$(trial "$tool" 0)
	printf '  %-8s topspeed       -> %s\n' "$tool" "$res" >&2
	echo "$lo|$best|$res"
}

echo
echo "== highest lossless rate (trial lines: sent, achieved pps, Mbit/s, lost)"
for tool in tm tm-none tcpdump; do
	out=$(search "$tool")
	lo=${out%%|*}
	rest=${out#*|}
	best=${rest%%|*}
	top=${rest#*|}
	set -- $best
	printf '%-8s lossless up to --pps %s: achieved %s pps, %s Mbit/s' "$tool" "$lo" "${2:-?}" "${3:-?}"
	set -- $top
	printf '; topspeed %s pps, %s Mbit/s, lost %s of %s\n' "$2" "$3" "$4" "$1"
	if [ "$tool" = tm ]; then set -- $best; TMRATE=${2%.*}; fi
done

echo
echo "== query latency, idle and while capturing at half the lossless rate (achieved)"
HALF=$(( ${TMRATE:-20000} / 2 ))
[ "$HALF" -lt 1000 ] && HALF=1000
for SEG in 256m 32m; do
echo "-- storage.segment_size $SEG (the open segment's index is rebuilt for every query)"
printf 'storage:\n  segment_size: %s\n' "$SEG" >"$TMPD/seg.yaml"
rm -rf "$TMPD/store"
"$TM" capture -i "$A" -s "$TMPD/store" -c "$TMPD/seg.yaml" >"$TMPD/svc.out" 2>"$TMPD/svc.err" &
PID=$!
for _ in $(seq 50); do "$TM" ctl --connect "$TMPD/store/tm.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
# fill the store first, then query idle, then under load
ip netns exec "$NS" tcpreplay -i "$B" --pps="$HALF" "$TRACE" >/dev/null 2>&1
TUPLE=$(tcpdump -r "$TRACE" -nn -c 2000 'ip and tcp and not vlan' 2>/dev/null | awk 'NR==500{print $3, $5}' | tr -d :)
set -- $TUPLE
SRCIP=${1%.*}; SPORT=${1##*.}; DSTIP=${2%.*}; DPORT=${2##*.}
HOST=$SRCIP
Q1="host $HOST"
Q2="host $SRCIP and host $DSTIP and port $SPORT and port $DPORT"
Q3="last 10s"
timeq() {	# label query: median and p90 of REPEAT runs, ms
	python3 - "$TM" "$TMPD/store/tm.sock" "$REPEAT" "$1" "$2" <<'EOF'
import subprocess, sys, time
tm, sock, n, label, q = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ts = []
pk = ''
for _ in range(n):
    t = time.perf_counter()
    r = subprocess.run([tm, 'query', '--connect', sock, '--count'] + q.split(), capture_output=True, text=True)
    ts.append((time.perf_counter() - t) * 1000)
    pk = (r.stdout + r.stderr).strip().splitlines()[-1] if (r.stdout + r.stderr).strip() else '?'
ts.sort()
print('  %-9s %-55s median %7.2f ms  p90 %7.2f ms  (%s)' % (label, q[:55], ts[len(ts) // 2], ts[int(len(ts) * 0.9)], pk))
EOF
}
for q in "$Q1" "$Q2" "$Q3"; do timeq idle "$q"; done
ip netns exec "$NS" tcpreplay -i "$B" --pps="$HALF" --loop=1000 "$TRACE" >/dev/null 2>&1 &
RP=$!
sleep 2
for q in "$Q1" "$Q2" "$Q3"; do timeq "@${HALF}pps" "$q"; done
kill "$RP" 2>/dev/null
wait "$RP" 2>/dev/null
"$TM" stats --connect "$TMPD/store/tm.sock" | sed -n 's/^\(packets\|dropped\)/  &/p'
kill -INT "$PID"
wait "$PID"
PID=
done
