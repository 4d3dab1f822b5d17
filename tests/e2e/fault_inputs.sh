#!/usr/bin/env bash
# End-to-end: odd and broken capture files and segments through
# `tm capture -r`, `tm store check`, `tm query -s` and a restart. The
# files come from tests/tools/make_fault_pcaps.py (deterministic). What
# must hold:
#   runts      caplen 0, 1, 13 and a bare 14-byte Ethernet header are
#              stored as they are (a caplen-0 record too), flagged with
#              their named events (summary: eth.truncated 3,
#              ipv4.too_short 1), counted; a frame with neither bytes nor
#              length is not stored and said (stderr, with its number);
#              the store checks clean, answers every stored record
#              exactly (time, caplen, len, bytes), and a repair (sidecar
#              lost) keeps every record after the caplen-0 one
#   jumbo      snaplen 262144, frames of 9000, 65535 and 262144 bytes:
#              stored and answered byte for byte, tcpdump reads them
#   over       a record of 262145 bytes (beyond any pcap): exit 1 naming
#              the file and the frame; what came before is stored whole
#   caplen > len, caplen > snaplen: stored (len raised to caplen, said;
#              a record longer than the file's snaplen is cut to it by
#              libpcap, len kept), the store checks clean
#   time       going back 3 hours and forth, back 10 minutes: stored and
#              checked, sidecars not flagged sorted, each segment's time
#              range exactly its packets', time-window queries exact (the
#              frames of the window, in time order); a time beyond 32-bit
#              seconds (2106) is not stored and said, the rest is
#   headers    bad magic, version, a truncated or empty file: exit 1 with
#              the file named, no store written; snaplen 0 or huge and an
#              unknown link type are accepted and stored (the segment
#              keeps the link type); a record cut short: exit 1, the frame
#              before it stored
#   pcapng     two Ethernet interfaces: stored; an Ethernet and a raw-IP
#              interface: refused (libpcap reads one link type per file)
#              with exit 1 and a message naming the file, by tm capture
#              and tm decode alike; the packets before the second
#              interface are stored whole with the first's link type
#   segments   a published pcap cut at several points, its sidecar
#              intact: tm store check names it; tm query skips it with a
#              message and answers the other segments exactly (no crash,
#              no read past the file); a restart repairs it (cut after
#              its last whole record, sidecar rebuilt) and checks clean
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
MAKE="$TM_SRC/tests/tools/make_fault_pcaps.py"
CHECK="$TM_SRC/tests/tools/storage_check.py"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-inputs.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
F="$TMPD/in"
python3 "$MAKE" "$F" || exit 1

fails=0
fail() {
	echo "FAIL [$CASE]: $*"
	fails=$((fails + 1))
}

# records FILE: one line per record: time_ns caplen len sha1-of-bytes
records() {
	python3 - "$1" <<'EOF'
import hashlib, struct, sys
d = open(sys.argv[1], 'rb').read()
magic = struct.unpack_from('<I', d, 0)[0]
nano = magic == 0xa1b23c4d
off = 24
while off + 16 <= len(d):
    s, f, cl, wl = struct.unpack_from('<IIII', d, off)
    ts = s * 10**9 + (f if nano else f * 1000)
    print(ts, cl, wl, hashlib.sha1(d[off + 16:off + 16 + cl]).hexdigest())
    off += 16 + cl
EOF
}

# cap CASE FILE [args]: a capture into a fresh store $ST; sets rc
cap() {
	CASE=$1
	ST="$TMPD/st-$CASE"
	"$TM" capture -r "$2" -s "$ST" --cutoff none "${@:3}" \
	    >"$TMPD/$CASE.out" 2>"$TMPD/$CASE.err"
	rc=$?
}
clean() {
	if ! "$TM" store check "$ST" >"$TMPD/$CASE.check" 2>&1; then
		fail "tm store check: $(grep -m2 -v '^note' "$TMPD/$CASE.check")"
	fi
	grep -q "^note" "$TMPD/$CASE.check" &&
		fail "unpublished or temporary files: $(grep -m1 '^note' \
		    "$TMPD/$CASE.check")"
	python3 "$CHECK" sidecar "$ST"/segments/*/*.idx >/dev/null ||
		fail "the independent reader refuses a sidecar"
}
# answers WANT: tm query -s $ST (everything) holds exactly WANT's records
answers() {
	"$TM" query -s "$ST" -w "$TMPD/$CASE.q.pcap" 2>"$TMPD/$CASE.qerr" ||
		fail "tm query: $(head -2 "$TMPD/$CASE.qerr")"
	records "$TMPD/$CASE.q.pcap" >"$TMPD/$CASE.got"
	diff "$1" "$TMPD/$CASE.got" >"$TMPD/$CASE.diff" ||
		fail "the store's records differ from the expected:" \
		    "$(head -6 "$TMPD/$CASE.diff")"
}

echo "runts and empty frames"
cap runts "$F/runts.pcap"
[ "$rc" = 0 ] || fail "exit status $rc: $(cat "$TMPD/$CASE.err")"
grep -q "runts.pcap: 1 frames not stored (the first is frame 8): 1 with" \
    "$TMPD/$CASE.err" || fail "the empty frame is not said:" \
    "$(cat "$TMPD/$CASE.err")"
grep -q "^events .*eth.truncated 3" "$TMPD/$CASE.out" ||
	fail "eth.truncated not counted 3 times: $(grep events "$TMPD/$CASE.out")"
grep -q "^events .*ipv4.too_short 1" "$TMPD/$CASE.out" ||
	fail "ipv4.too_short not counted"
grep -q "^packets stored    8$" "$TMPD/$CASE.out" || fail "not 8 stored"
clean
records "$F/runts.pcap" | sed 8d >"$TMPD/runts.want"
answers "$TMPD/runts.want"
awk '$2 == 0' "$TMPD/$CASE.got" | grep -q . ||
	fail "the caplen-0 record is not in the store"
"$TM" decode -r "$TMPD/$CASE.q.pcap" >"$TMPD/$CASE.decode" 2>&1
[ "$(grep -c '!eth.truncated' "$TMPD/$CASE.decode")" = 3 ] ||
	fail "the stored runts do not decode with eth.truncated"
# a repair scans the pcap: the caplen-0 record is not its end
rm "$ST"/segments/default/*.idx
"$TM" capture -r "$F/no_packets.pcap" -s "$ST" >/dev/null 2>"$TMPD/$CASE.err2"
grep -q "repaired: 8 packets, 0 torn bytes" "$TMPD/$CASE.err2" ||
	fail "the repair does not keep all 8: $(cat "$TMPD/$CASE.err2")"
clean
answers "$TMPD/runts.want"

echo "jumbo frames, snaplen 262144"
cap jumbo "$F/jumbo.pcap"
[ "$rc" = 0 ] || fail "exit status $rc: $(cat "$TMPD/$CASE.err")"
clean
records "$F/jumbo.pcap" >"$TMPD/jumbo.want"
awk '{ print $2 }' "$TMPD/jumbo.want" | grep -qx 262144 ||
	fail "the fixture has no 262144-byte record"
answers "$TMPD/jumbo.want"
tcpdump -n -r "$TMPD/$CASE.q.pcap" >/dev/null 2>&1 ||
	fail "tcpdump cannot read the answer"
cap over "$F/over.pcap"
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q "over.pcap: after frame 1: .*262145" "$TMPD/$CASE.err" ||
	fail "the bad record is not said: $(cat "$TMPD/$CASE.err")"
clean
records "$F/over.pcap" | sed -n 1p >"$TMPD/over.want"
answers "$TMPD/over.want"

echo "captured lengths beyond the wire length and the snap length"
cap caplen_gt_len "$F/caplen_gt_len.pcap"
[ "$rc" = 0 ] || fail "exit status $rc"
grep -q "1 frames captured beyond their wire length" "$TMPD/$CASE.err" ||
	fail "not said: $(cat "$TMPD/$CASE.err")"
clean
records "$F/caplen_gt_len.pcap" | awk '$2 > $3 { $3 = $2 } 1' \
    >"$TMPD/cgl.want"
answers "$TMPD/cgl.want"
cap caplen_gt_snap "$F/caplen_gt_snap.pcap"
[ "$rc" = 0 ] || fail "exit status $rc"
clean
# libpcap cuts a record longer than the file's snap length to it
records "$F/caplen_gt_snap.pcap" >"$TMPD/cgs.all"
python3 - "$F/caplen_gt_snap.pcap" >"$TMPD/cgs.want" <<'EOF'
import hashlib, struct, sys
d = open(sys.argv[1], 'rb').read()
snap, = struct.unpack_from('<I', d, 16)
off = 24
while off + 16 <= len(d):
    s, f, cl, wl = struct.unpack_from('<IIII', d, off)
    k = min(cl, snap)
    print(s * 10**9 + f * 1000, k, wl,
          hashlib.sha1(d[off + 16:off + 16 + k]).hexdigest())
    off += 16 + cl
EOF
answers "$TMPD/cgs.want"

echo "time going backwards, and beyond 2106"
cap backwards "$F/backwards.pcap"
[ "$rc" = 0 ] || fail "exit status $rc: $(cat "$TMPD/$CASE.err")"
clean
records "$F/backwards.pcap" >"$TMPD/bw.all"
# each segment: not flagged sorted, its time range exactly its packets'
for idx in "$ST"/segments/default/*.idx; do
	python3 - "$idx" "${idx%.idx}.pcap" <<'EOF' || fail "$(basename "$idx")"
import struct, sys
d = open(sys.argv[1], 'rb').read()
flags, = struct.unpack_from('<I', d, 12)
lo, hi, n = struct.unpack_from('<qqQ', d, 32)
p = open(sys.argv[2], 'rb').read()
ts, off = [], 24
while off < len(p):
    s, f, cl, wl = struct.unpack_from('<IIII', p, off)
    ts.append(s * 10**9 + f)
    off += 16 + cl
sorted_ = all(a <= b for a, b in zip(ts, ts[1:]))
ok = (lo, hi, n) == (min(ts), max(ts), len(ts)) and \
    bool(flags & 1) == sorted_
if not ok:
    sys.exit('header says %d..%d, %d packets, flags %d; the pcap has '
             '%d..%d, %d, sorted %s' % (lo, hi, n, flags, min(ts),
                                         max(ts), len(ts), sorted_))
if sorted_:
    sys.exit('a segment of this trace should not be sorted')
EOF
done
[ "$(ls "$ST"/segments/default/*.idx | wc -l)" -ge 2 ] ||
	fail "the jump forward did not start a new segment (segment age)"
for w in "after 1764000050 and before 1764000070" \
    "after 1764010790 and before 1764010830" "before 1764005000" \
    "after 1764017000" "after 1764017990 and before 1764018150" \
    "after 1764000059.5 and before 1764000061.000000001" \
    "udp and after 1764010800"; do
	"$TM" query -s "$ST" -w "$TMPD/bw.q" "$w" 2>/dev/null ||
		fail "query '$w'"
	records "$TMPD/bw.q" >"$TMPD/bw.got"
	python3 - "$TMPD/bw.all" "$TMPD/bw.got" "$w" <<'EOF' ||
import sys
allr = [l.split() for l in open(sys.argv[1])]
got = [l.split() for l in open(sys.argv[2])]
w = sys.argv[3].replace(' and', '').split()
udp = w[0] == 'udp'
if udp:
    w = w[1:]
lo, hi = -1, 1 << 62
for i in range(0, len(w), 2):
    s = w[i + 1]
    v = int(s.split('.')[0]) * 10**9
    if '.' in s:
        v += int((s.split('.')[1] + '0' * 9)[:9])
    if w[i] == 'after':
        lo = v
    else:
        hi = v
want = [r for i, r in enumerate(allr)
        if lo <= int(r[0]) < hi and (not udp or i % 2)]
if sorted(want) != sorted(got):
    sys.exit('%d frames, expected %d' % (len(got), len(want)))
ts = [int(r[0]) for r in got]
if ts != sorted(ts):
    sys.exit('not in time order')
EOF
		fail "window '$w'"
done
cap late "$F/late.pcapng"
[ "$rc" = 0 ] || fail "exit status $rc"
grep -q "late.pcapng: 1 frames not stored (the first is frame 2): 0 with no bytes and no length, 1 with a time a pcap cannot hold" \
    "$TMPD/$CASE.err" || fail "the 2106 frame is not said: $(cat \
    "$TMPD/$CASE.err")"
grep -q "^packets stored    2$" "$TMPD/$CASE.out" || fail "not 2 stored"
clean

echo "bad file headers"
for f in bad_magic bad_version short_header empty; do
	cap "$f" "$F/$f.pcap"
	[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
	grep -q "$F/$f.pcap: cannot read as a capture file: " \
	    "$TMPD/$CASE.err" || fail "no clear error: $(cat "$TMPD/$CASE.err")"
	ls "$ST"/segments/*/* >/dev/null 2>&1 && fail "something was stored"
	"$TM" decode -r "$F/$f.pcap" >/dev/null 2>"$TMPD/$CASE.derr"
	[ $? = 1 ] && grep -q "$F/$f.pcap" "$TMPD/$CASE.derr" ||
		fail "tm decode: no clear error"
done
for f in snaplen0 snaplen_huge linktype_unknown; do
	cap "$f" "$F/$f.pcap"
	[ "$rc" = 0 ] || fail "exit status $rc: $(cat "$TMPD/$CASE.err")"
	clean
	records "$F/$f.pcap" >"$TMPD/$f.want"
	answers "$TMPD/$f.want"
done
lt=$(python3 -c 'import struct, sys
print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 20)[0])' \
    "$(ls "$TMPD"/st-linktype_unknown/segments/default/*.pcap)")
[ "$lt" = 4000 ] || { CASE=linktype_unknown; fail "segment link type $lt"; }
cap torn_record "$F/torn_record.pcap"
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q "torn_record.pcap: after frame 1: " "$TMPD/$CASE.err" ||
	fail "the torn record is not said: $(cat "$TMPD/$CASE.err")"
clean
records "$F/torn_record.pcap" | sed -n 1p >"$TMPD/torn.want"
answers "$TMPD/torn.want"

echo "pcapng with several interfaces"
cap two_eth "$F/two_eth.pcapng"
[ "$rc" = 0 ] || fail "exit status $rc: $(cat "$TMPD/$CASE.err")"
grep -q "^packets stored    8$" "$TMPD/$CASE.out" || fail "not 8 stored"
clean
cap multi_link "$F/multi_link.pcapng"
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q "multi_link.pcapng: after frame 2: .*different from the type of the first interface" \
    "$TMPD/$CASE.err" || fail "no clear refusal: $(cat "$TMPD/$CASE.err")"
grep -q "^packets stored    2$" "$TMPD/$CASE.out" ||
	fail "the two Ethernet packets before the second interface"
clean
"$TM" query -s "$ST" -w "$TMPD/ml.q" 2>/dev/null
[ "$(tshark -r "$TMPD/ml.q" -T fields -e frame.protocols 2>/dev/null |
    grep -c '^eth:ethertype:ip:udp')" = 2 ] 2>/dev/null ||
    [ "$("$TM" decode -r "$TMPD/ml.q" | grep -c 'eth/ipv4/udp')" = 2 ] ||
	fail "the stored packets are not the two Ethernet ones"
"$TM" decode -r "$F/multi_link.pcapng" >"$TMPD/ml.decode" 2>"$TMPD/ml.derr"
[ $? = 1 ] && grep -q "multi_link.pcapng: .*different from the type" \
    "$TMPD/ml.derr" || fail "tm decode does not refuse it clearly"

echo "segments cut short"
CASE=truncated
python3 "$GEN" --seed 11 --conns 300 -o "$TMPD/t.pcap" 2>/dev/null
printf 'storage:\n  segment_size: 64k\n' >"$TMPD/c.yaml"
ST="$TMPD/st-truncated"
"$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" --cutoff none ||
	fail "capture"
mapfile -t segs < <(ls "$ST"/segments/default/*.pcap)
victim=${segs[2]}
name=$(basename "$victim")
cp "$victim" "$TMPD/victim.pcap"
cp -a "$ST" "$TMPD/minus"
rm "$TMPD/minus/segments/default/${name%.pcap}".*
"$TM" query -s "$TMPD/minus" -w "$TMPD/minus.q" || fail "query minus"
size=$(stat -c %s "$victim")
for cut in 10 24 40 $((size / 3)) $((size / 2 + 7)) $((size - 1)); do
	cp "$TMPD/victim.pcap" "$victim"
	truncate -s "$cut" "$victim"
	"$TM" store check "$ST" >"$TMPD/tr.check" 2>&1
	r=$?
	[ "$r" = 1 ] && grep -q "^DAMAGE $victim: $cut bytes, its sidecar says $size" \
	    "$TMPD/tr.check" || fail "cut at $cut: check ($r) $(grep -m1 \
	    DAMAGE "$TMPD/tr.check")"
	"$TM" query -s "$ST" -w "$TMPD/tr.q" 2>"$TMPD/tr.qerr"
	r=$?
	[ "$r" = 0 ] || fail "cut at $cut: query exit $r: $(head -2 \
	    "$TMPD/tr.qerr")"
	grep -q "$victim: $cut bytes, its sidecar says $size; segment skipped" \
	    "$TMPD/tr.qerr" || fail "cut at $cut: no message from the query"
	cmp -s "$TMPD/tr.q" "$TMPD/minus.q" ||
		fail "cut at $cut: the other segments do not answer exactly"
done
cp "$TMPD/victim.pcap" "$victim"
truncate -s $((size / 2 + 7)) "$victim"
"$TM" capture -r "$F/no_packets.pcap" -s "$ST" >/dev/null 2>"$TMPD/tr.err" ||
	true
grep -q "$name: sidecar unusable (the pcap is $((size / 2 + 7)) bytes, its sidecar says $size): rebuilding it" \
    "$TMPD/tr.err" || fail "the restart does not rebuild it: $(cat \
    "$TMPD/tr.err")"
grep -q "$name: repaired: [1-9][0-9]* packets, [1-9][0-9]* torn bytes cut off" \
    "$TMPD/tr.err" || fail "the restart does not cut it"
clean
n_after=$(records "$victim" | wc -l)
n_before=$(records "$TMPD/victim.pcap" | wc -l)
[ "$n_after" -gt 0 ] && [ "$n_after" -lt "$n_before" ] ||
	fail "the repaired segment holds $n_after of $n_before records"
records "$TMPD/victim.pcap" | sed -n "1,${n_after}p" >"$TMPD/tr.want"
records "$victim" | cmp -s - "$TMPD/tr.want" ||
	fail "the repaired segment is not the first records of the original"

if [ "$fails" -ne 0 ]; then
	echo "fault_inputs: $fails failures"
	exit 1
fi
echo "fault_inputs: odd frames stored and flagged, bad files refused" \
    "clearly, time windows exact, cut segments skipped and repaired"
