#!/usr/bin/env bash
# End-to-end: disk budgets. Captures far larger than their budgets go
# into a store with tiny ones (64 KiB segments; class budgets of 256 KiB
# and 512 KiB, a store-wide budget of 640 KiB, 128 KiB for flow files)
# while tests/tools/storage_check.py polls the store's files every few
# milliseconds: no class ever holds more than its budget plus one
# segment, the store never more than its budget plus one segment per
# class, the flow files never more than theirs plus one file. Whole
# oldest segments go, with their sidecars: `tm store check` finds no
# orphan. A restart with smaller budgets counts the old segments and
# deletes down to the new budgets at once.
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-budget.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
python3 "$GEN" --seed 9 --conns 10000 -o "$TMPD/t.pcap" >/dev/null || exit 1
budgets() {
	cat <<EOF
storage:
  segment_size: 64k
  disk: $3
  flows:
    disk: $4
    segment_size: 64k
classes:
  - name: tunnelled
    filter: tunnel gre or tunnel vxlan or tunnel l2tp
    cutoff: none
    disk: $1
  - name: default
    cutoff: none
    disk: $2
EOF
}
budgets 256k 512k 640k 128k >"$TMPD/c.yaml"
budgets 128k 192k 256k 64k >"$TMPD/small.yaml"

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

ST="$TMPD/store"
for round in 1 2; do
	"$TM" capture -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" \
	    >"$TMPD/out.$round" 2>"$TMPD/err.$round" &
	pid=$!
	python3 "$CHECK" watch --store "$ST" --pid "$pid" \
	    --class-budget tunnelled=262144 --class-budget default=524288 \
	    --disk 655360 --flows-budget 131072 --flows-segment 65536 \
	    --segment-size 65536 || fail "round $round: a budget was exceeded"
	wait "$pid" || { fail "round $round: tm capture failed"; head -3 "$TMPD/err.$round"; }
	grep "^budgets\|^store" "$TMPD/out.$round"
	grep -q "^budgets .* deleted" "$TMPD/out.$round" ||
		fail "round $round: nothing was deleted"
	if ! "$TM" store check "$ST" >"$TMPD/check" 2>&1 ||
	    ! grep -q " 0 damaged, 0 unpublished" "$TMPD/check"; then
		fail "round $round: tm store check:"
		grep -v "^note" "$TMPD/check" | tail -3
	fi
done

# smaller budgets on restart: the old segments count at once (an input
# without packets: only the restart does anything)
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack(
    "<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' "$TMPD/empty.pcap"
"$TM" capture -q -r "$TMPD/empty.pcap" -s "$ST" -c "$TMPD/small.yaml" ||
	fail "the restart with smaller budgets failed"
python3 - "$ST" <<'EOF' || fail "after a restart with smaller budgets"
import os, sys
st = sys.argv[1]
lim = {'tunnelled': 131072, 'default': 196608}
tot = 0
for c, b in lim.items():
    d = os.path.join(st, 'segments', c)
    n = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    tot += n
    if n > b:
        sys.exit('class %s: %d bytes after the restart, budget %d' % (c, n, b))
if tot > 262144:
    sys.exit('store: %d bytes, budget 262144' % tot)
fd = os.path.join(st, 'flows')
n = sum(os.path.getsize(os.path.join(fd, f)) for f in os.listdir(fd))
if n > 65536 + 65536:
    sys.exit('flows: %d bytes after the restart, budget 65536' % n)
EOF
if [ "$fails" -ne 0 ]; then
	echo "storage_budget: $fails failures"
	exit 1
fi
echo "storage_budget: the budgets held at every poll and after a restart"
