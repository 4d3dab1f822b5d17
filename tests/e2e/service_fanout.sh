#!/usr/bin/env bash
# End-to-end: three capture services on one interface in one AF_PACKET
# fanout group (capture.fanout, mode hash), each with its own store.
# gen-trace traffic (plain IPv4/IPv6 and VLANs: no tunnels, whose outer
# headers may differ by direction) is replayed into a veth pair. Then:
#  - together the three stores hold every frame exactly once
#  - each service got a share (no store is empty)
#  - no connection is split: its flow record is in one store only, with
#    all its packets (the kernel's flow hash is symmetric)
#  - a fourth service asking for another fanout mode in the same group
#    is refused with a clear message
#
# Needs root, tcpreplay, iproute2: exits 77 (skipped) without them.
# Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
MS="$TM_SRC/tests/tools/pcap_multiset.py"
PY=${PYTHON:-python3}

. "$TM_SRC/tests/e2e/lib/veth.sh"
veth_require

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-fan.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	veth_down
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMPD"/cap*.err; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done; exit 1; }

veth_up f || fail "veth pair"
A=$VETH_A

"$GEN" --seed 41 --conns 600 --mix plain -o "$TMPD/trace.pcap" >/dev/null 2>&1 ||
    fail "gen-trace"
GROUP=$(( ($$ % 60000) + 1000 ))
cat >"$TMPD/conf.yaml" <<EOF
capture:
  timeout: 20ms
  fanout:
    group: $GROUP
    mode: hash
classes:
  - name: default
    cutoff: none
EOF

for i in 1 2 3; do
	"$TM" capture -i "$A" -s "$TMPD/s$i" -c "$TMPD/conf.yaml" \
	    >"$TMPD/cap$i.out" 2>"$TMPD/cap$i.err" &
	PIDS="$PIDS $!"
done
for i in 1 2 3; do
	for _ in $(seq 100); do
		"$TM" ctl --connect "$TMPD/s$i/tm.sock" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	"$TM" ctl --connect "$TMPD/s$i/tm.sock" ping >/dev/null 2>&1 ||
	    fail "service $i never answered"
done
# another mode in the same group: refused, named
sed 's/mode: hash/mode: cpu/' "$TMPD/conf.yaml" >"$TMPD/conf-cpu.yaml"
if "$TM" capture -i "$A" -s "$TMPD/s4" -c "$TMPD/conf-cpu.yaml" -q \
    >/dev/null 2>"$TMPD/cap4.err"; then
	fail "a service with another fanout mode joined the group"
fi
grep -q "capture.fanout" "$TMPD/cap4.err" || fail "refusal: $(cat "$TMPD/cap4.err")"
rm -f "$TMPD/cap4.err"

veth_replay "$TMPD/trace.pcap" 3000 >"$TMPD/replay.out" || fail "$(cat "$TMPD/replay.out")"
sleep 0.3
for p in $PIDS; do kill -TERM "$p"; done
for p in $PIDS; do wait "$p" || fail "a service exited non-zero"; done
PIDS=
for i in 1 2 3; do
	"$TM" query -s "$TMPD/s$i" -w "$TMPD/q$i.pcap" || fail "query store $i"
	n=$($PY "$MS" --count "$TMPD/q$i.pcap")
	[ "$n" -gt 0 ] || fail "service $i got no packets"
	echo "service $i: $n frames"
	"$TM" flows -s "$TMPD/s$i" --json >"$TMPD/f$i.json" || fail "flows $i"
done
$PY "$MS" "$TMPD/trace.pcap" -- "$TMPD/q1.pcap" "$TMPD/q2.pcap" "$TMPD/q3.pcap" \
    >"$TMPD/ms.out" || fail "the stores together: $(cat "$TMPD/ms.out")"
$PY - "$TMPD" <<'EOF' || fail "a connection was split between services"
import json, sys
d = sys.argv[1]
seen = {}
for i in (1, 2, 3):
    for line in open('%s/f%d.json' % (d, i)):
        r = json.loads(line)
        ends = sorted([(r['orig_h'], r.get('orig_p')), (r['resp_h'], r.get('resp_p'))], key=str)
        k = (r['l3'], r.get('proto'), str(ends), r.get('spi'), str(r.get('vlan')))
        if k in seen and seen[k] != i:
            sys.exit('connection %s in stores %d and %d' % (k, seen[k], i))
        seen[k] = i
print('%d connections, each in one store' % len(seen))
EOF
echo "ok: three services in fanout group $GROUP hold every frame exactly once, no connection split"
exit 0
