#!/usr/bin/env bash
# End-to-end: IPFIX export to a real collector, nfdump's nfcapd.
#
# nfcapd listens on a free loopback UDP port; `tm flows -r` exports the
# records of a gen-trace capture to it (--ipfix, then the configuration's
# export.ipfix with an observation domain); nfcapd is stopped (SIGTERM
# writes its file) and `nfdump` reads back what it stored. tm exports one
# uniflow record per direction that sent packets (docs/ipfix.md), so,
# exactly:
#   - nfdump's flows   = the IP connections' directions with packets
#                        (orig_pkts > 0, resp_pkts > 0) in `tm flows --json`
#   - nfdump's packets = the sum of orig_pkts + resp_pkts
#   - nfdump's bytes   = the sum of orig_bytes + resp_bytes
#   - and record by record: protocol, addresses, ports (ICMP: type/code),
#     packets, bytes of each direction;
# non-IP records (ARP) are not exported: tm says how many it skipped.
# Then the same through `tm capture -r FILE -s STORE -c CONF`.
#
# Skips (77) without nfcapd/nfdump. Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"

if ! command -v nfcapd >/dev/null 2>&1 || ! command -v nfdump >/dev/null 2>&1
then
	echo "ipfix_nfcapd: nfcapd/nfdump not installed (Debian: nfdump): skipped"
	exit 77
fi
if [ ! -r "$GEN" ]; then
	echo "ipfix_nfcapd: $GEN not found" >&2
	exit 1
fi
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-ipfix.XXXXXX") || exit 1
NFPID=
cleanup() {
	if [ -n "$NFPID" ]; then
		kill "$NFPID" 2>/dev/null
		wait "$NFPID" 2>/dev/null
	fi
	if [ -z "${KEEP:-}" ]; then
		rm -rf "$TMPD"
	else
		echo "keeping $TMPD"
	fi
}
trap cleanup EXIT

fail() {
	echo "ipfix_nfcapd: FAIL: $*"
	exit 1
}

# A UDP port nobody uses on loopback now.
free_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Is something bound to UDP 127.0.0.1:$1?
bound() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}

# start_nfcapd DIR: sets PORT and NFPID (a big socket buffer: tm sends a
# file's records as fast as it reads them).
start_nfcapd() {
	local dir=$1 try i
	mkdir -p "$dir"
	for try in 1 2 3; do
		PORT=$(free_port)
		nfcapd -b 127.0.0.1 -p "$PORT" -w "$dir" -B 8388608 -t 3600 \
		    >"$dir.log" 2>&1 &
		NFPID=$!
		for i in $(seq 50); do
			if bound "$PORT"; then
				return 0
			fi
			kill -0 "$NFPID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$NFPID" 2>/dev/null
		wait "$NFPID" 2>/dev/null
		NFPID=
	done
	cat "$dir.log"
	fail "nfcapd did not start"
}

stop_nfcapd() {
	local i
	kill -TERM "$NFPID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$NFPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NFPID" 2>/dev/null; then
		fail "nfcapd did not stop on SIGTERM"
	fi
	wait "$NFPID" 2>/dev/null
	NFPID=
}

# check LABEL FLOWS.json NFDIR TM-STATS-FILE: compares nfdump's records
# with the flow records.
check() {
	local label=$1 json=$2 dir=$3 stats=$4
	nfdump -R "$dir" -N -6 -q \
	    -o 'fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt' >"$dir.records" 2>"$dir.err" ||
	    fail "$label: nfdump: $(cat "$dir.err")"
	nfdump -R "$dir" -N -6 -o 'fmt:%pr' >"$dir.summary" 2>>"$dir.err" ||
	    fail "$label: nfdump: $(cat "$dir.err")"
	python3 - "$label" "$json" "$dir.records" "$dir.summary" "$stats" <<'EOF' ||
import collections, json, re, sys

label, jf, rf, sf, stf = sys.argv[1:6]
flows = [json.loads(l) for l in open(jf)]
ip = [r for r in flows if r["l3"] in ("ipv4", "ipv6")]
want = collections.Counter()
for r in ip:
    for rev in (0, 1):
        d = "resp" if rev else "orig"
        if r[d + "_pkts"] == 0:
            continue
        sa, da = (r["resp_h"], r["orig_h"]) if rev else (r["orig_h"], r["resp_h"])
        if r["proto"] in (1, 58):
            sp = dp = "-"          # nfdump shows ICMP type.code there
        else:
            sp, dp = (r["resp_p"], r["orig_p"]) if rev else (r["orig_p"], r["resp_p"])
            sp, dp = sp or 0, dp or 0
        want[(r["proto"], sa, sp, da, dp, r[d + "_pkts"], r[d + "_bytes"])] += 1
got = collections.Counter()
for line in open(rf):
    f = [x.strip() for x in line.split("|")]
    if len(f) != 7:
        continue
    proto = int(f[0])
    sp, dp = (f[2], f[4]) if proto in (1, 58) else (int(f[2]), int(f[4]))
    if proto in (1, 58):
        sp = dp = "-"
    got[(proto, f[1], sp, f[3], dp, int(f[5]), int(f[6]))] += 1
m = re.search(r"total flows: (\d+), total bytes: (\d+), total packets: (\d+)",
              open(sf).read())
if not m:
    sys.exit(f"{label}: no summary from nfdump")
nf_flows, nf_bytes, nf_pkts = map(int, m.groups())
dirs = sum(want.values())
pkts = sum(r["orig_pkts"] + r["resp_pkts"] for r in ip)
byts = sum(r["orig_bytes"] + r["resp_bytes"] for r in ip)
st = dict(l.split() for l in open(stf) if l.startswith("ipfix_"))
print(f"ipfix_nfcapd: {label}: tm flows: {len(flows)} records, {len(ip)} IP "
      f"({dirs} directions with packets), {pkts} packets, {byts} bytes; "
      f"nfdump: {nf_flows} flows, {nf_pkts} packets, {nf_bytes} bytes; "
      f"tm sent {st.get('ipfix_records')} records"
      + (f" in {st['ipfix_messages']} messages" if "ipfix_messages" in st else "")
      + f", skipped {st.get('ipfix_skipped')} non-IP")
bad = []
if (nf_flows, nf_pkts, nf_bytes) != (dirs, pkts, byts):
    bad.append("totals differ")
if got != want:
    bad.append(f"records differ: missing {list((want - got).items())[:5]}, "
               f"unexpected {list((got - want).items())[:5]}")
if int(st.get("ipfix_records", -1)) != dirs:
    bad.append(f"ipfix_records {st.get('ipfix_records')} != {dirs}")
if int(st.get("ipfix_skipped", -1)) != len(flows) - len(ip):
    bad.append("ipfix_skipped is not the non-IP records")
if int(st.get("ipfix_lost", -1)) != 0 or int(st.get("ipfix_errors", -1)) != 0:
    bad.append("lost or errors")
if len(ip) < 400 or len(flows) == len(ip):
    bad.append("the trace is not what the test expects (IP and ARP)")
if bad:
    sys.exit(f"{label}: " + "; ".join(bad))
EOF
	fail "$label"
}

python3 "$GEN" --seed 5 --conns 500 -o "$TMPD/t.pcap" >/dev/null 2>&1 ||
	fail "gen-trace"

# 1. --ipfix on the command line
start_nfcapd "$TMPD/nf1"
"$TM" flows -r "$TMPD/t.pcap" --json --stats --ipfix "127.0.0.1:$PORT" \
    >"$TMPD/f1.json" 2>"$TMPD/f1.err" || fail "tm flows --ipfix: $(cat "$TMPD/f1.err")"
stop_nfcapd
check "tm flows --ipfix" "$TMPD/f1.json" "$TMPD/nf1" "$TMPD/f1.err"

# 2. the configuration's export.ipfix, with an observation domain
start_nfcapd "$TMPD/nf2"
cat >"$TMPD/conf.yaml" <<EOF
export:
  ipfix:
    collector: 127.0.0.1:$PORT
    transport: udp
    observation_domain: 42
    template_refresh: 30s
EOF
"$TM" flows -r "$TMPD/t.pcap" -c "$TMPD/conf.yaml" --json --stats \
    >"$TMPD/f2.json" 2>"$TMPD/f2.err" || fail "tm flows -c: $(cat "$TMPD/f2.err")"
stop_nfcapd
check "tm flows -c (export.ipfix)" "$TMPD/f2.json" "$TMPD/nf2" "$TMPD/f2.err"
grep -q "Observation domain 42" "$TMPD/nf2.log" ||
	fail "nfcapd did not see observation domain 42: $(cat "$TMPD/nf2.log")"

# 3. a collector that is not there: tm says so, and fails
PORT=$(free_port)
if "$TM" flows -r "$TMPD/t.pcap" --ipfix "127.0.0.1:$PORT" --ipfix-tcp \
    >/dev/null 2>"$TMPD/f3.err"; then
	fail "tm flows --ipfix-tcp to nobody succeeded"
fi
grep -q "records not sent.*connect" "$TMPD/f3.err" ||
	fail "no reason given: $(cat "$TMPD/f3.err")"
if "$TM" flows -r "$TMPD/t.pcap" --ipfix "127.0.0.1" >/dev/null \
    2>"$TMPD/f4.err"; then
	fail "--ipfix without a port accepted"
fi
grep -q "HOST:PORT" "$TMPD/f4.err" || fail "bad --ipfix: $(cat "$TMPD/f4.err")"
printf 'classes: []\n' >"$TMPD/none.yaml"
if "$TM" flows -r "$TMPD/t.pcap" -c "$TMPD/none.yaml" --ipfix-tcp >/dev/null \
    2>"$TMPD/f5.err"; then
	fail "--ipfix-tcp without a collector accepted"
fi
grep -q "names no collector" "$TMPD/f5.err" ||
	fail "--ipfix-tcp alone: $(cat "$TMPD/f5.err")"

# 4. tm capture with export.ipfix (the writer thread hands the records on)
start_nfcapd "$TMPD/nf3"
sed "s/127.0.0.1:[0-9]*/127.0.0.1:$PORT/" "$TMPD/conf.yaml" \
    >"$TMPD/conf3.yaml"
"$TM" capture -q -r "$TMPD/t.pcap" -s "$TMPD/S" -c "$TMPD/conf3.yaml" \
    >"$TMPD/c.out" 2>"$TMPD/c.err" || fail "tm capture: $(cat "$TMPD/c.err")"
stop_nfcapd
"$TM" flows -s "$TMPD/S" --json >"$TMPD/f6.json" 2>/dev/null ||
	fail "tm flows -s"
# the capture's own counters are not printed with -q: take the
# expected ones from the store's records
python3 - "$TMPD/f6.json" >"$TMPD/c.stats" <<'EOF'
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])]
ip = [r for r in f if r["l3"] in ("ipv4", "ipv6")]
print("ipfix_records", sum((r["orig_pkts"] > 0) + (r["resp_pkts"] > 0) for r in ip))
print("ipfix_skipped", len(f) - len(ip))
print("ipfix_lost 0\nipfix_errors 0")
EOF
check "tm capture (export.ipfix)" "$TMPD/f6.json" "$TMPD/nf3" \
    "$TMPD/c.stats"
echo "ipfix_nfcapd: PASS"
exit 0
