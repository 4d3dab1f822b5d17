#!/usr/bin/env bash
# End-to-end: damage, found and repaired. In a store of many small
# segments:
#   A  a byte of a sidecar changed       -> check: DAMAGE, checksum
#   B  a byte of a packet changed        -> check: DAMAGE, pcap checksum
#   C  sidecar lost, pcap torn mid-record (a power cut) -> note unpublished
#   D  pcap lost, sidecar left           -> check: DAMAGE, no segment
#   E  a stale temporary sidecar         -> note
# `tm store check` names each, with its file, and exits 1. The next start
# rebuilds A's sidecar from its pcap (a damaged sidecar is never
# trusted), cuts C after its last whole record and rebuilds its sidecar,
# removes D's orphan sidecar and E; B's pcap is not read on a start (its
# sidecar is intact), so only `tm store check` can tell, and still does.
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-damage.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
python3 "$GEN" --seed 4 --conns 2000 -o "$TMPD/t.pcap" >/dev/null || exit 1
printf 'storage:\n  segment_size: 128k\n' >"$TMPD/c.yaml"
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack(
    "<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' "$TMPD/empty.pcap"
ST="$TMPD/store"
"$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" --cutoff none ||
	exit 1

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# flip FILE OFFSET: changes one byte
flip() {
	python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 0x20
open(p, "wb").write(b)' "$1" "$2"
}

mapfile -t segs < <(ls "$ST"/segments/default/*.pcap)
[ "${#segs[@]}" -ge 6 ] || { echo "too few segments"; exit 1; }
A=${segs[1]%.pcap} B=${segs[2]%.pcap} C=${segs[3]%.pcap} D=${segs[4]%.pcap}
E=${segs[5]%.pcap}
flip "$A.idx" $(( $(stat -c %s "$A.idx") / 2 ))
flip "$B.pcap" 3000
truncate -s -7 "$C.pcap"
rm "$C.idx"
rm "$D.pcap"
cp "$E.idx" "$E.idx.tmp"

"$TM" store check "$ST" >"$TMPD/check1" 2>&1
rc=$?
cat "$TMPD/check1"
[ "$rc" = 1 ] || fail "check: exit status $rc, expected 1"
grep -q "^DAMAGE $A.idx: checksum mismatch" "$TMPD/check1" ||
	fail "A: a changed sidecar byte not reported"
grep -q "^DAMAGE $B.pcap: .*pcap checksum mismatch" "$TMPD/check1" ||
	fail "B: a changed packet byte not reported"
grep -q "^note $C.pcap: not published" "$TMPD/check1" ||
	fail "C: the unpublished segment not reported"
grep -q "^DAMAGE $D.idx: a sidecar without its segment" "$TMPD/check1" ||
	fail "D: the orphan sidecar not reported"
grep -q "^note $E.idx.tmp: a temporary file" "$TMPD/check1" ||
	fail "E: the temporary file not reported"

# a start repairs what can be repaired
"$TM" capture -r "$TMPD/empty.pcap" -s "$ST" -c "$TMPD/c.yaml" \
    >"$TMPD/out" 2>"$TMPD/err" || fail "the restart failed"
cat "$TMPD/err"
grep "^restart" "$TMPD/out"
grep -q "$A.pcap: sidecar unusable (checksum mismatch): rebuilding it" \
    "$TMPD/err" || fail "A: the damaged sidecar was not rebuilt"
grep -q "$C.pcap: repaired: [0-9]* packets, [1-9][0-9]* torn bytes cut off" \
    "$TMPD/err" || fail "C: the torn segment was not repaired"
[ -e "$D.idx" ] && fail "D: the orphan sidecar is still there"
[ -e "$E.idx.tmp" ] && fail "E: the temporary file is still there"
grep -q "^restart .* 2 repaired, 2 files removed" "$TMPD/out" ||
	fail "the restart's summary"

"$TM" store check "$ST" >"$TMPD/check2" 2>&1
rc=$?
grep -v "^note" "$TMPD/check2"
[ "$rc" = 1 ] || fail "check after the restart: exit status $rc"
[ "$(grep -c "^DAMAGE" "$TMPD/check2")" = 1 ] &&
    grep -q "^DAMAGE $B.pcap" "$TMPD/check2" ||
	fail "after the restart only B should be damaged"
python3 "$CHECK" sidecar "$A.idx" "$C.idx" >/dev/null ||
	fail "the rebuilt sidecars do not parse"
tcpdump -n -r "$C.pcap" >/dev/null 2>&1 || fail "tcpdump cannot read C"
if [ "$fails" -ne 0 ]; then
	echo "storage_damage: $fails failures"
	exit 1
fi
echo "storage_damage: every damage found and named, repairs on restart"
