#!/usr/bin/env bash
# End-to-end: bit flips in a published sidecar. One bit at a time is
# flipped at positions spread over one sidecar of a store of many
# segments (tests/tools/sidecar_flip.py: every header field, its own
# checksum, the section table, several bytes of every section: strings,
# directory, contexts, connection records and index, shapes, the pcap's
# checksum, the postings of every field; the final checksum). For every
# flip, what must hold:
#   - `tm store check` reports that sidecar (a DAMAGE line naming it, and
#     only it) and exits 1;
#   - `tm query -s` never trusts it: for each of several queries, exit 0,
#     a message naming the sidecar and saying its segment is skipped, and
#     an answer byte for byte equal to the same query on the store
#     without that segment (the other segments stay usable and exact);
#   - nothing crashes (exit status above 1, a signal, a sanitizer report).
# Then, for flips in the header, a posting, a connection record and the
# final checksum: a restart (`tm capture` on the store) says the sidecar
# is unusable and rebuilds it from its pcap (docs/storage.md, Restart and
# crash recovery); afterwards the store checks clean and `tm query`
# returns exactly the packets of the undamaged store.
#
# Env: TM, TM_SRC. Optional: KEEP=1, FLIP_PER_SECTION (2).
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
FLIP="$TM_SRC/tests/tools/sidecar_flip.py"
MULTI="$TM_SRC/tests/tools/pcap_multiset.py"
PER=${FLIP_PER_SECTION:-2}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flip.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
python3 "$GEN" --seed 4 --conns 700 -o "$TMPD/t.pcap" 2>/dev/null || exit 1
python3 -c 'import struct, sys; open(sys.argv[1], "wb").write(struct.pack(
    "<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' "$TMPD/empty.pcap"
printf 'storage:\n  segment_size: 128k\n' >"$TMPD/c.yaml"
ST="$TMPD/store"
"$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" --cutoff none ||
	exit 1
mapfile -t segs < <(ls "$ST"/segments/default/*.idx)
[ "${#segs[@]}" -ge 8 ] || { echo "too few segments: ${#segs[@]}"; exit 1; }
IDX=${segs[$(( ${#segs[@]} / 2 ))]}
BASE=$(basename "${IDX%.idx}")
cp "$IDX" "$TMPD/orig.idx"
# the same store without that segment: what the others must answer
cp -a "$ST" "$TMPD/minus"
rm "$TMPD/minus/segments/default/$BASE".*

# flipbit FILE OFFSET BIT (twice: undone); no python per flip
flipbit() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1")
	# shellcheck disable=SC2059
	printf "\\x$(printf %02x $((b ^ (1 << $3))))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# the queries: everything, by index fields, by context fields, decided
# per packet, and by time within the segment
T0=$(python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
lo, hi = struct.unpack_from("<qq", d, 32)
print("%d.%09d" % divmod((lo + hi) // 2, 10**9))' "$IDX")
QUERIES=("" "udp" "net 10.0.0.0/8 and not port 80" "tunnel gre or vlan"
    "after $T0")
query() {	# query STORE INDEX
	local q=${QUERIES[$2]}
	if [ -z "$q" ]; then
		"$TM" query -s "$1"
	else
		"$TM" query -s "$1" "$q"
	fi
}
for i in "${!QUERIES[@]}"; do
	query "$TMPD/minus" "$i" >"$TMPD/minus.$i" 2>/dev/null ||
		fail "query '${QUERIES[$i]}' on the store without the segment"
	query "$ST" "$i" >"$TMPD/full.$i" 2>/dev/null ||
		fail "query '${QUERIES[$i]}' on the undamaged store"
	cmp -s "$TMPD/minus.$i" "$TMPD/full.$i" &&
		fail "query '${QUERIES[$i]}' does not touch the segment $BASE"
done

python3 "$FLIP" positions "$IDX" --per-section "$PER" --seed 3 \
    >"$TMPD/positions" || exit 1
nflips=0
while read -r off bit where; do
	nflips=$((nflips + 1))
	flipbit "$IDX" "$off" "$bit"
	"$TM" store check "$ST" >"$TMPD/check" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "[$where, bit $bit]: check exit status $rc"
	if ! grep -q "^DAMAGE $IDX: " "$TMPD/check"; then
		fail "[$where, bit $bit]: check does not report $IDX"
	elif [ "$(grep -c '^DAMAGE' "$TMPD/check")" != 1 ]; then
		fail "[$where, bit $bit]: check reports more than $IDX"
	fi
	for i in "${!QUERIES[@]}"; do
		query "$ST" "$i" >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" != 0 ]; then
			fail "[$where, bit $bit] '${QUERIES[$i]}': exit" \
			    "status $rc: $(head -3 "$TMPD/err")"
		elif ! grep -q "$IDX: .*skipped" "$TMPD/err"; then
			fail "[$where, bit $bit] '${QUERIES[$i]}': no" \
			    "message that $IDX is skipped"
		fi
		grep -q "ERROR: .*Sanitizer\|runtime error" "$TMPD/err" &&
			fail "[$where, bit $bit]: $(grep -m1 Sanitizer "$TMPD/err")"
		cmp -s "$TMPD/got" "$TMPD/minus.$i" ||
			fail "[$where, bit $bit] '${QUERIES[$i]}': the answer is" \
			    "not exactly the other segments' (the damaged" \
			    "sidecar was trusted)"
	done
	flipbit "$IDX" "$off" "$bit"
done <"$TMPD/positions"
cmp -s "$IDX" "$TMPD/orig.idx" || { fail "the flips were not undone"; exit 1; }
[ "$nflips" -ge 60 ] || fail "only $nflips positions"
echo "$nflips bit flips in $BASE.idx: each reported by tm store check," \
    "skipped by tm query with the other segments exact"

# restarts: the damaged sidecar is rebuilt from its pcap
grep -E "header: packets|header checksum|postings of addr4|connection records|final checksum" \
    "$TMPD/positions" | awk '!seen[$3 $4]++' | head -5 >"$TMPD/restart"
while read -r off bit where; do
	flipbit "$IDX" "$off" "$bit"
	if ! "$TM" capture -r "$TMPD/empty.pcap" -s "$ST" -c "$TMPD/c.yaml" \
	    >"$TMPD/out" 2>"$TMPD/err"; then
		fail "[$where] the restart failed: $(head -3 "$TMPD/err")"
	fi
	grep -q "$BASE.pcap: sidecar unusable (.*): rebuilding it" \
	    "$TMPD/err" || fail "[$where] the restart does not rebuild it:" \
	    "$(cat "$TMPD/err")"
	grep -q "^restart .* 1 repaired" "$TMPD/out" ||
		fail "[$where] the restart's summary: $(grep '^restart' \
		    "$TMPD/out")"
	"$TM" store check "$ST" >"$TMPD/check" 2>&1 ||
		fail "[$where] check after the rebuild: $(grep -m2 DAMAGE \
		    "$TMPD/check")"
	query "$ST" 0 >"$TMPD/got" 2>"$TMPD/err"
	[ -s "$TMPD/err" ] && fail "[$where] query says: $(head -2 "$TMPD/err")"
	cmp -s "$TMPD/got" "$TMPD/full.0" ||
		python3 "$MULTI" "$TMPD/full.0" "$TMPD/got" >/dev/null ||
		fail "[$where] after the rebuild the store does not answer" \
		    "every packet"
	echo "  restart after a flip in $where: rebuilt, check clean, exact"
	cp "$TMPD/orig.idx" "$IDX"
done <"$TMPD/restart"
[ "$(wc -l <"$TMPD/restart")" -ge 4 ] || fail "too few restart cases"

if [ "$fails" -ne 0 ]; then
	echo "fault_sidecar: $fails failures"
	exit 1
fi
echo "fault_sidecar: a damaged sidecar is always found, never trusted," \
    "rebuilt by the next start"
