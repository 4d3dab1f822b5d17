#!/usr/bin/env bash
# End-to-end: crash recovery. `tm capture` is killed with SIGKILL at
# random points of an ingest into one store (small segments: many
# rotations, publications and syncs to fall into), again and again;
# after every kill:
#   - `tm store check` finds no damage (the segment open at the crash is
#     reported as unpublished, nothing else); a kill before the first
#     store was made leaves no store at all (it appears whole);
#   - every segment whose sidecar was published before the kill is still
#     there, byte for byte (pcap and sidecar), after every later restart;
# and every restart recovers: it repairs the open segment (cut to its
# last whole record, sidecar rebuilt by scanning), removes stale
# temporary files, and ingest continues with the next sequence numbers.
# At the end a complete capture leaves a store that `tm store check`
# passes with nothing unpublished, and whose sidecars an independent
# reader (tests/tools/storage_check.py) accepts.
#
# Env: TM, TM_SRC. Optional: CRASH_ROUNDS (8), CRASH_CONNS (12000), KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"
ROUNDS=${CRASH_ROUNDS:-8}
CONNS=${CRASH_CONNS:-12000}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-crash.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
ST="$TMPD/store"
cat >"$TMPD/c.yaml" <<'EOF'
storage:
  segment_size: 256k
  flows:
    segment_size: 64k
classes:
  - name: tunnelled
    filter: tunnel gre or tunnel vxlan or tunnel l2tp
    cutoff: none
  - name: default
    cutoff: none
EOF
python3 "$GEN" --seed 11 --conns "$CONNS" -o "$TMPD/t.pcap" >/dev/null ||
	exit 1

# how long a whole capture takes here: the kills fall anywhere in it
t0=$(date +%s%N)
"$TM" capture -q -r "$TMPD/t.pcap" -s "$TMPD/scratch" -c "$TMPD/c.yaml" ||
	exit 1
span=$(( ($(date +%s%N) - t0) / 1000000 ))
rm -rf "$TMPD/scratch"
echo "storage_crash: a whole capture takes $span ms; $ROUNDS kills within it"

fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# the published segments, with a hash of both files: "name sha sha"
published() {
	local idx
	for idx in "$ST"/segments/*/*.idx; do
		[ -e "$idx" ] || continue
		echo "${idx#$ST/} $(sha1sum <"$idx" | cut -c1-40) \
$(sha1sum <"${idx%.idx}.pcap" | cut -c1-40)"
	done
}

: >"$TMPD/kept"
kills=0
repaired=0
early=0
for r in $(seq "$ROUNDS"); do
	# anywhere in the run: recovery, ingest, rotation, publication
	delay=$(awk -v x="$RANDOM" -v s="$span" \
	    'BEGIN { printf "%.3f", (10 + x % (s > 20 ? s : 20)) / 1000 }')
	"$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" \
	    >"$TMPD/out.$r" 2>"$TMPD/err.$r" &
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait "$pid" 2>/dev/null
	if grep -q "repaired" "$TMPD/err.$r"; then
		repaired=$((repaired + 1))
	fi
	if grep -v "repaired\|rebuilding\|sidecar unusable\|no whole packet" \
	    "$TMPD/err.$r" | grep -q .; then
		fail "round $r: unexpected messages:"
		head -5 "$TMPD/err.$r"
	fi
	# killed before the store existed: a store appears whole (its
	# directories are made under another name, then renamed), so there
	# is none, and nothing published is lost
	if [ ! -e "$ST" ] && [ ! -s "$TMPD/kept" ]; then
		early=$((early + 1))
		continue
	fi
	# no damage, whatever the moment of the kill
	if ! "$TM" store check "$ST" >"$TMPD/check.$r" 2>&1; then
		fail "round $r (killed after ${delay}s): tm store check:"
		grep -v "^note" "$TMPD/check.$r" | head -5
	fi
	# what was published before stays, byte for byte
	published >"$TMPD/now"
	missing=$(sort "$TMPD/kept" | comm -23 - <(sort "$TMPD/now") | wc -l)
	if [ "$missing" -ne 0 ]; then
		fail "round $r: $missing published segments lost or changed:"
		sort "$TMPD/kept" | comm -23 - <(sort "$TMPD/now") | head -3
	fi
	cp "$TMPD/now" "$TMPD/kept"
done

# a restart that runs to the end
before=$(ls "$ST"/segments/*/*.idx 2>/dev/null | wc -l)
maxseq=$(ls "$ST"/segments/default/ 2>/dev/null | sed -n 's/.*-\([0-9]*\)\.idx$/\1/p' |
	sort -n | tail -1)
if ! "$TM" capture -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/c.yaml" \
    >"$TMPD/out.final" 2>"$TMPD/err.final"; then
	fail "the final capture:"
	head -5 "$TMPD/err.final"
fi
grep "^restart" "$TMPD/out.final"
if ! "$TM" store check "$ST" >"$TMPD/check.final" 2>&1 ||
    ! grep -q " 0 damaged, 0 unpublished" "$TMPD/check.final"; then
	fail "final tm store check:"
	tail -3 "$TMPD/check.final"
fi
published >"$TMPD/now"
missing=$(sort "$TMPD/kept" | comm -23 - <(sort "$TMPD/now") | wc -l)
[ "$missing" -eq 0 ] || fail "final: $missing published segments lost"
after=$(ls "$ST"/segments/*/*.idx | wc -l)
[ "$after" -gt "$before" ] || fail "the final capture added no segment"
first_new=$(ls "$ST"/segments/default/ | sed -n 's/.*-\([0-9]*\)\.idx$/\1/p' |
	sort -n | awk -v m="${maxseq:-0}" '$1 > m' | head -1)
if [ -n "$maxseq" ] && [ -z "$first_new" ]; then
	fail "sequence numbers did not continue after $maxseq"
fi
ls "$ST"/segments/*/*.tmp >/dev/null 2>&1 && fail "stale temporary files"
if ! python3 "$CHECK" sidecar "$ST"/segments/*/*.idx >"$TMPD/py" 2>&1; then
	fail "an independent reader refuses a sidecar:"
	tail -3 "$TMPD/py"
fi
echo "storage_crash: $kills kills ($early before the store existed)," \
    "$repaired restarts repaired a segment, $after segments published"
if [ "$fails" -ne 0 ]; then
	echo "storage_crash: $fails failures"
	exit 1
fi
echo "storage_crash: every restart recovered, nothing published was lost"
