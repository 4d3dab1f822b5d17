#!/usr/bin/env bash
# End-to-end: dynamic cutoffs on a live capture (tm ctl set-cutoff).
#
# One TCP connection (10.9.0.1:40000 -> 10.9.0.2:80, 1054-byte data
# frames) is replayed in four phases into a veth pair that `tm capture -i`
# listens on, with the class cutoff at 2k:
#   1. handshake + 10 data frames: the handshake and the first data frame
#      are stored (the second passes 2048 bytes)
#   2. set-cutoff 'host 10.9.0.1' none, 10 frames: all stored (raised
#      mid-stream: later packets are stored again)
#   3. set-cutoff 'host 10.9.0.1' 0, 10 frames: none stored (lowered)
#   4. clear-cutoffs; set-cutoff ... none --for 1s; 1.5 s later 10 frames:
#      none stored (the rule ended; the class's 2k applies again)
# A second connection (10.9.0.3) no rule matches keeps the class cutoff
# throughout. The store then holds exactly the frames listed above.
#
# Needs root, tcpreplay, iproute2: exits 77 (skipped) without them.
# Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
MS="$TM_SRC/tests/tools/pcap_multiset.py"
PY=${PYTHON:-python3}

. "$TM_SRC/tests/e2e/lib/veth.sh"
veth_require

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-cut.XXXXXX") || exit 1
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	veth_down
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMPD/cap.err" ] && sed 's/^/  tm: /' "$TMPD/cap.err"; exit 1; }

veth_up c 1500 || fail "veth pair"
A=$VETH_A

# phases as pcap files, and the frames each phase must store
$PY - "$TMPD" <<'EOF' || fail "building the phases"
import struct, sys
d = sys.argv[1]

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(src, dst, sp, dp, seq, ack, flags, payload=b''):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ph = bytes(map(int, src.split('.'))) + bytes(map(int, dst.split('.'))) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(ph + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(map(int, src.split('.'))), bytes(map(int, dst.split('.'))))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00' + ip + tcp

def write(name, frames):
    with open('%s/%s' % (d, name), 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack('<IIII', 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)

def conn(host, tag):
    c, s = host, '10.9.0.2'
    seq = [1000, 5000]
    hs = [frame(c, s, 40000, 80, 999, 0, 0x02), frame(s, c, 80, 40000, 4999, 1000, 0x12),
          frame(c, s, 40000, 80, 1000, 5000, 0x10)]
    def data(n, phase):
        out = []
        for i in range(n):
            p = (b'%s-%d-%d-' % (tag, phase, i)).ljust(1000, b'x')
            out.append(frame(c, s, 40000, 80, seq[0], 5000, 0x18, p))
            seq[0] += 1000
        return out
    return hs, data

hs, data = conn('10.9.0.1', b'a')
ohs, odata = conn('10.9.0.3', b'b')
ph = [hs + data(10, 1), data(10, 2), data(10, 3), data(10, 4)]
oph = [ohs + odata(10, 1), odata(10, 2), odata(10, 3), odata(10, 4)]
for i in range(4):
    write('p%d.pcap' % (i + 1), ph[i] + oph[i])
# stored: handshake + first data frame of phase 1 (both connections),
# all of phase 2 for 10.9.0.1
write('expected.pcap', ph[0][:4] + oph[0][:4] + ph[1])
EOF

S="$TMPD/store"
cat >"$TMPD/conf.yaml" <<'EOF'
capture:
  timeout: 20ms
classes:
  - name: default
    cutoff: 2k
EOF
"$TM" capture -i "$A" -s "$S" -c "$TMPD/conf.yaml" >"$TMPD/cap.out" \
    2>"$TMPD/cap.err" &
PID=$!
for _ in $(seq 100); do
	"$TM" ctl --connect "$S/tm.sock" ping >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null || fail "tm capture -i exited"
	sleep 0.1
done
ctl() { "$TM" ctl --connect "$S/tm.sock" "$@" >>"$TMPD/ctl.out" 2>&1 || fail "tm ctl $*: $(tail -1 "$TMPD/ctl.out")"; }
replay() {
	veth_replay "$TMPD/$1" 500 >"$TMPD/replay.out" || fail "$(cat "$TMPD/replay.out")"
	sleep 0.2	# the kernel's buffer timeout (20 ms) and the loop
}
count() {	# the frames of 10.9.0.1 stored so far
	"$TM" query --connect "$S/tm.sock" --count "$1" 2>&1 | sed -n 's/^\([0-9]*\) packets.*/\1/p'
}

replay p1.pcap
[ "$(count 'host 10.9.0.1')" = 4 ] || fail "phase 1: $(count 'host 10.9.0.1') frames stored, not 4"
ctl set-cutoff 'host 10.9.0.1' none
replay p2.pcap
[ "$(count 'host 10.9.0.1')" = 14 ] || fail "phase 2 (raised): $(count 'host 10.9.0.1') frames stored, not 14"
ctl set-cutoff 'host 10.9.0.1' 0
replay p3.pcap
[ "$(count 'host 10.9.0.1')" = 14 ] || fail "phase 3 (lowered): $(count 'host 10.9.0.1') frames stored, not 14"
ctl clear-cutoffs
ctl set-cutoff 'host 10.9.0.1' none --for 1s
"$TM" stats --connect "$S/tm.sock" --json >"$TMPD/stats1.json" || fail "stats"
grep -q '"cutoff_rules":\[{"id":3,"expr":"host 10.9.0.1","cutoff":null' "$TMPD/stats1.json" ||
    fail "stats do not show the rule: $(cat "$TMPD/stats1.json")"
sleep 1.6
"$TM" stats --connect "$S/tm.sock" --json >"$TMPD/stats2.json" || fail "stats"
grep -q '"cutoff_rules":\[\]' "$TMPD/stats2.json" ||
    fail "the rule did not end after 1 s: $(cat "$TMPD/stats2.json")"
replay p4.pcap
[ "$(count 'host 10.9.0.1')" = 14 ] || fail "phase 4 (rule ended): $(count 'host 10.9.0.1') frames stored, not 14"
[ "$(count 'host 10.9.0.3')" = 4 ] || fail "the other connection: $(count 'host 10.9.0.3') frames stored, not 4"
# a bad expression names its column; tm serve-like misuse is refused
if "$TM" ctl --connect "$S/tm.sock" set-cutoff 'host 10.9.0.1 and' none >"$TMPD/bad.out" 2>&1; then
	fail "a bad expression was accepted"
fi
grep -q "column 18" "$TMPD/bad.out" || fail "no position in: $(cat "$TMPD/bad.out")"

kill -TERM "$PID"
wait "$PID" || fail "tm capture exited non-zero on SIGTERM"
PID=
"$TM" query -s "$S" -w "$TMPD/stored.pcap" || fail "query -s"
$PY "$MS" "$TMPD/expected.pcap" "$TMPD/stored.pcap" >"$TMPD/ms.out" ||
    fail "stored frames: $(cat "$TMPD/ms.out")"
echo "ok: raised, lowered, expired; exactly the expected frames stored"
exit 0
