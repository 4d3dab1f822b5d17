#!/usr/bin/env bash
# End-to-end: a full disk. A store on a small tmpfs (8 MB) receives a
# capture several times larger:
#   - tm capture stops with a clear error naming the file and "No space
#     left on device", exit status 1, and says what was published is
#     intact;
#   - no sidecar is corrupt: `tm store check` finds no damage, an
#     independent reader accepts every sidecar, tcpdump reads every
#     published segment; no temporary file is left;
#   - once space is freed, the next capture repairs the segment the full
#     disk interrupted and the store checks clean.
# Needs root (mount); says "skipped" and passes otherwise.
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-full.XXXXXX") || exit 1
MNT="$TMPD/mnt"
mkdir -p "$MNT"
cleanup() {
	umount "$MNT" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=8m tmpfs "$MNT" 2>/dev/null
then
	echo "storage_diskfull: skipped (mounting a tmpfs needs root)"
	exit 0
fi
python3 "$GEN" --seed 5 --conns 4000 -o "$TMPD/t.pcap" >/dev/null || exit 1
cat >"$TMPD/c.yaml" <<'EOF'
storage:
  segment_size: 1m
  flows:
    segment_size: 256k
EOF

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

ST="$MNT/store"
"$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" --cutoff none \
    >"$TMPD/out" 2>"$TMPD/err"
rc=$?
cat "$TMPD/err"
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q "No space left on device" "$TMPD/err" ||
	fail "no 'No space left on device' in the message"
grep -q "what was published in .* is intact" "$TMPD/err" ||
	fail "the message does not say what is intact"
grep -q "$ST/" "$TMPD/err" || fail "the message names no file"

n=$(ls "$ST"/segments/default/*.idx 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "nothing was published before the disk filled"
if ! "$TM" store check "$ST" >"$TMPD/check" 2>&1; then
	fail "tm store check finds damage:"
	grep -v "^note" "$TMPD/check" | head -5
fi
tail -1 "$TMPD/check"
ls "$ST"/segments/*/*.tmp >/dev/null 2>&1 && fail "temporary files left"
if [ "$n" -gt 0 ]; then
	python3 "$CHECK" sidecar "$ST"/segments/default/*.idx >/dev/null ||
		fail "an independent reader refuses a sidecar"
	for f in "$ST"/segments/default/*.idx; do
		tcpdump -n -r "${f%.idx}.pcap" >/dev/null 2>&1 ||
			fail "tcpdump cannot read ${f%.idx}.pcap"
	done
fi

# room again: the next capture repairs what the full disk interrupted
mount -o remount,size=64m "$MNT" || fail "remount"
python3 "$GEN" --seed 6 --conns 300 -o "$TMPD/small.pcap" >/dev/null
if ! "$TM" capture -r "$TMPD/small.pcap" -s "$ST" -c "$TMPD/c.yaml" \
    >"$TMPD/out2" 2>"$TMPD/err2"; then
	fail "the capture after the disk full:"
	head -5 "$TMPD/err2"
fi
grep "^restart" "$TMPD/out2"
if ! "$TM" store check "$ST" >"$TMPD/check2" 2>&1 ||
    ! grep -q " 0 damaged, 0 unpublished" "$TMPD/check2"; then
	fail "tm store check after the repair:"
	tail -3 "$TMPD/check2"
fi
if [ "$fails" -ne 0 ]; then
	echo "storage_diskfull: $fails failures"
	exit 1
fi
echo "storage_diskfull: a clear error, no corrupt sidecar, all published" \
    "segments readable, repaired on the next start"
