#!/usr/bin/env bash
# End-to-end: write errors. tests/tools/eio_shim.c (LD_PRELOAD) makes the
# writes, syncs or truncations of chosen store files fail with EIO or
# ENOSPC, after some bytes or on the Nth call, once or for good. For each
# fault below, what must hold:
#   - tm capture exits 1 and its message names the file that failed and
#     the errno's text (Input/output error, No space left on device);
#   - nothing published is lost and nothing half-written is published:
#     no temporary file is left, every published sidecar is whole
#     (`tm store check` passes, the independent reader accepts it), and
#     `tm query -s STORE` returns exactly the packets of every published
#     segment (multiset of frames); the flow files hold no record twice;
#   - the next tm capture on the store (no fault) repairs what the fault
#     left (an unpublished segment: cut after its last whole record, its
#     sidecar rebuilt), goes on, every segment published before is still
#     there byte for byte, and the store checks clean with nothing
#     unpublished.
# Faults: a segment's pcap (a short write then EIO; ENOSPC on one call
# only; its fdatasync; the header of a new segment; a short write whose
# cut-back ftruncate fails too: a torn tail), a sidecar's publication
# (the .idx.tmp write cut short; its fsync; the directory's fsync after
# the rename), the flow file (a write cut at a record boundary then a
# transient EIO: records must not be written twice; its fdatasync), and
# a restart whose repair cannot publish the rebuilt sidecar.
#
# Env: TM, TM_BUILD, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
: "${TM_BUILD:?TM_BUILD must name the build tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"
MULTI="$TM_SRC/tests/tools/pcap_multiset.py"
SHIM="$TM_BUILD/tests/eio_shim.so"
[ -f "$SHIM" ] || { echo "fault_eio: $SHIM not built"; exit 1; }

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-eio.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
python3 "$GEN" --seed 5 --conns 3000 -o "$TMPD/t.pcap" >/dev/null || exit 1
python3 "$GEN" --seed 9 --conns 200 -o "$TMPD/small.pcap" >/dev/null || exit 1
# small segments: many publications; flow files rotate often
cat >"$TMPD/small.yaml" <<'EOF'
storage:
  segment_size: 256k
  flows:
    segment_size: 64k
EOF
# a small ring (written in chunks of 256k to 1m) and larger segments: a
# segment is written in several chunks, so a failure 6 MB into the input
# (1.8 MB into the second segment) leaves whole records behind
cat >"$TMPD/chunks.yaml" <<'EOF'
storage:
  segment_size: 4m
  memory: 2m
  flows:
    segment_size: 64k
EOF
# an instrumented tm (ASan) wants its runtime first; the shim is not
# instrumented and comes before it harmlessly
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

fails=0
fail() {
	echo "FAIL [$CASE]: $*"
	fails=$((fails + 1))
}

# faulty CASE CONF ERRTEXT VAR=VALUE...: a capture of t.pcap into a fresh
# store under the shim; it must fail with status 1 naming the file the
# shim failed and ERRTEXT.
faulty() {
	CASE=$1
	local conf=$2 text=$3 rc f
	shift 3
	ST="$TMPD/$CASE"
	rm -f "$TMPD/shim.log"
	env "$@" EIO_SHIM_LOG="$TMPD/shim.log" LD_PRELOAD="$SHIM" \
	    "$TM" capture -q -r "$TMPD/t.pcap" -s "$ST" -c "$TMPD/$conf" \
	    --cutoff none >"$TMPD/$CASE.out" 2>"$TMPD/$CASE.err"
	rc=$?
	[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
	if [ ! -s "$TMPD/shim.log" ]; then
		fail "the shim injected no fault"
		return
	fi
	f=$(awk 'NR == 1 { print $2 }' "$TMPD/shim.log")
	f=${f%.tmp}
	grep -qF "$f" "$TMPD/$CASE.err" || {
		fail "the message does not name $f:"
		cat "$TMPD/$CASE.err"
	}
	grep -qF "$text" "$TMPD/$CASE.err" || fail "no '$text' in the message"
	grep -q "what was published in .* is intact" "$TMPD/$CASE.err" ||
		fail "the message does not say what is intact"
}

# intact: what is published is whole and readable, nothing twice
intact() {
	local idx n
	if find "$ST" -name '*.tmp' | grep -q .; then
		fail "temporary files left: $(find "$ST" -name '*.tmp')"
	fi
	if ! "$TM" store check "$ST" >"$TMPD/$CASE.check" 2>&1; then
		fail "tm store check finds damage:"
		grep -v '^note' "$TMPD/$CASE.check" | head -5
	fi
	mapfile -t idx < <(ls "$ST"/segments/*/*.idx 2>/dev/null)
	n=${#idx[@]}
	if [ "$n" -gt 0 ]; then
		python3 "$CHECK" sidecar "${idx[@]}" >/dev/null ||
			fail "the independent reader refuses a sidecar"
		"$TM" query -s "$ST" -w "$TMPD/$CASE.q.pcap" \
		    2>"$TMPD/$CASE.qerr" || fail "tm query failed"
		grep -q . "$TMPD/$CASE.qerr" &&
			fail "tm query says: $(head -2 "$TMPD/$CASE.qerr")"
		python3 "$MULTI" "${idx[@]/%.idx/.pcap}" -- \
		    "$TMPD/$CASE.q.pcap" >"$TMPD/$CASE.multi" ||
			fail "tm query does not return exactly the published" \
			    "packets: $(tail -3 "$TMPD/$CASE.multi")"
	fi
	# every published file, to find again after the restart
	(cd "$ST" && for f in "${idx[@]}"; do
		r=${f#"$ST"/}
		sha256sum "$r" "${r%.idx}.pcap"
	done) >"$TMPD/$CASE.sums"
	"$TM" flows -s "$ST" >"$TMPD/$CASE.flows" 2>&1 ||
		fail "tm flows -s failed: $(head -2 "$TMPD/$CASE.flows")"
	[ -z "$(sort "$TMPD/$CASE.flows" | uniq -d | head -1)" ] ||
		fail "flow records stored twice"
	echo "  $CASE: $n published, $(grep -c . "$TMPD/$CASE.flows") flow" \
	    "records; $(tail -1 "$TMPD/$CASE.check")"
}

# samesums: every file published at the fault is there, unchanged
samesums() {
	[ -s "$TMPD/$CASE.sums" ] || return 0
	(cd "$ST" && sha256sum --quiet -c "$TMPD/$CASE.sums")
}

# restart [WANT]: the next capture, without faults, repairs and goes on
restart() {
	local want=${1:-}
	if ! "$TM" capture -r "$TMPD/small.pcap" -s "$ST" -c "$TMPD/small.yaml" \
	    --cutoff none >"$TMPD/$CASE.out2" 2>"$TMPD/$CASE.err2"; then
		fail "the capture after the fault failed:"
		head -5 "$TMPD/$CASE.err2"
		return
	fi
	if [ -n "$want" ] && ! grep -qE "$want" "$TMPD/$CASE.err2"; then
		fail "the restart does not say '$want':"
		cat "$TMPD/$CASE.err2"
	fi
	samesums || fail "a segment published before the restart changed" \
	    "or is gone"
	if ! "$TM" store check "$ST" >"$TMPD/$CASE.check2" 2>&1 ||
	    ! grep -q " 0 damaged, 0 unpublished" "$TMPD/$CASE.check2"; then
		fail "tm store check after the restart:"
		tail -3 "$TMPD/$CASE.check2"
	fi
	mapfile -t idx < <(ls "$ST"/segments/*/*.idx)
	"$TM" query -s "$ST" -w "$TMPD/$CASE.q2.pcap" 2>/dev/null &&
	    python3 "$MULTI" "${idx[@]/%.idx/.pcap}" -- "$TMPD/$CASE.q2.pcap" \
	    >/dev/null || fail "after the restart, tm query is not exact"
	"$TM" flows -s "$ST" | sort | uniq -d | grep -q . &&
		fail "flow records twice after the restart"
	echo "  $CASE: restart: $(grep '^restart' "$TMPD/$CASE.out2")"
}

# unpublished: the fault left exactly one segment unpublished
unpublished() {
	grep -q "^note .*: not published" "$TMPD/$CASE.check" ||
		fail "no unpublished segment left, expected one"
}

# a reference store without faults: where its segments and its 100th
# flow record end
CASE=reference
"$TM" capture -q --no-ndpi -r "$TMPD/t.pcap" -s "$TMPD/ref" \
    -c "$TMPD/small.yaml" --cutoff none || fail "reference capture"
B=$(python3 - "$TMPD"/ref/flows/*-00000001.flows <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, n = 16, 0
while off + 8 <= len(d) and n < 100:
    off += 8 + struct.unpack('<I', d[off:off + 4])[0]
    n += 1
print(off)
EOF
)
mapfile -t refsegs < <(ls "$TMPD"/ref/segments/default/*.pcap)
SEG12=$(( $(stat -c %s "${refsegs[0]}") + $(stat -c %s "${refsegs[1]}") ))
SEG3=$(basename "${refsegs[2]}")

echo "pcap writes:"
faulty pcap-eio small.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/pcap-eio/segments/*.pcap" EIO_SHIM_AFTER_BYTES=600000
intact
restart
faulty pcap-enospc-once chunks.yaml "No space left on device" \
    EIO_SHIM_GLOB="$TMPD/pcap-enospc-once/segments/*.pcap" \
    EIO_SHIM_AFTER_BYTES=6000000 EIO_SHIM_ONCE=1 EIO_SHIM_ERRNO=ENOSPC
intact
unpublished
grep -q "left unpublished" "$TMPD/$CASE.err" ||
	fail "the message does not say the segment is left unpublished"
restart "repaired: [1-9][0-9]* packets"
faulty pcap-torn chunks.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/pcap-torn/segments/*.pcap" \
    EIO_SHIM_OPS=write,truncate EIO_SHIM_AFTER_BYTES=6000000
intact
unpublished
grep -q "cutting it back to its last whole record" "$TMPD/$CASE.err" ||
	fail "the failed cut-back is not said"
restart "repaired: [1-9][0-9]* packets, [1-9][0-9]* torn bytes cut off"
faulty pcap-sync small.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/pcap-sync/segments/*.pcap" EIO_SHIM_OPS=sync \
    EIO_SHIM_AFTER_CALLS=2
intact
unpublished
grep -q "\.pcap: sync: Input/output error" "$TMPD/$CASE.err" ||
	fail "the failed sync is not said"
restart "repaired: [1-9][0-9]* packets"
# the first two segments written, then ENOSPC at the third's header
faulty pcap-header small.yaml "No space left on device" \
    EIO_SHIM_GLOB="$TMPD/pcap-header/segments/*.pcap" \
    EIO_SHIM_OPS=write EIO_SHIM_AFTER_BYTES="$SEG12" EIO_SHIM_ONCE=1 \
    EIO_SHIM_ERRNO=ENOSPC
grep -q "$SEG3: write: No space left on device" "$TMPD/$CASE.err" ||
	fail "the failed header write of $SEG3 is not said"
[ -e "$ST/segments/default/$SEG3" ] && fail "$SEG3 without a header is left"
[ "$(ls "$ST"/segments/default/*.idx | wc -l)" = 2 ] ||
	fail "the two segments before are not published"
intact
restart

echo "sidecar publication:"
faulty idx-write small.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/idx-write/segments/*.idx.tmp" \
    EIO_SHIM_AFTER_BYTES=25000
intact
unpublished
restart "repaired: [1-9][0-9]* packets"
faulty idx-fsync small.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/idx-fsync/segments/*.idx.tmp" EIO_SHIM_OPS=sync \
    EIO_SHIM_AFTER_CALLS=3
intact
unpublished
restart "repaired: [1-9][0-9]* packets"
faulty dir-fsync small.yaml "syncing its directory: Input/output error" \
    EIO_SHIM_GLOB="$TMPD/dir-fsync/segments/default" EIO_SHIM_OPS=sync \
    EIO_SHIM_AFTER_CALLS=2
intact
restart

echo "flow files:"
CASE=flows-boundary
ST="$TMPD/$CASE"
rm -f "$TMPD/shim.log"
EIO_SHIM_GLOB="$ST/flows/*" EIO_SHIM_AFTER_BYTES="$B" EIO_SHIM_ONCE=1 \
    EIO_SHIM_LOG="$TMPD/shim.log" LD_PRELOAD="$SHIM" \
    "$TM" capture -q --no-ndpi -r "$TMPD/t.pcap" -s "$ST" \
    -c "$TMPD/small.yaml" --cutoff none 2>"$TMPD/$CASE.err"
rc=$?
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
grep -q "flows/.*\.flows: write: Input/output error" "$TMPD/$CASE.err" ||
	fail "the message does not name the flow file and the error"
intact
n=$(grep -c . "$TMPD/$CASE.flows")
[ "$n" = 100 ] || fail "$n flow records kept, expected the 100 written whole"
restart
faulty flows-enospc small.yaml "No space left on device" \
    EIO_SHIM_GLOB="$TMPD/flows-enospc/flows/*" EIO_SHIM_AFTER_BYTES=100000 \
    EIO_SHIM_ERRNO=ENOSPC
intact
restart
faulty flows-sync small.yaml "Input/output error" \
    EIO_SHIM_GLOB="$TMPD/flows-sync/flows/*" EIO_SHIM_OPS=sync \
    EIO_SHIM_AFTER_CALLS=1
intact
restart

echo "a restart that cannot publish its repair:"
faulty again chunks.yaml "No space left on device" \
    EIO_SHIM_GLOB="$TMPD/again/segments/*.pcap" \
    EIO_SHIM_AFTER_BYTES=6000000 EIO_SHIM_ONCE=1 EIO_SHIM_ERRNO=ENOSPC
intact
unpublished
rm -f "$TMPD/shim.log"
EIO_SHIM_GLOB="$ST/segments/*.idx.tmp" EIO_SHIM_AFTER_CALLS=1 \
    EIO_SHIM_LOG="$TMPD/shim.log" LD_PRELOAD="$SHIM" \
    "$TM" capture -q -r "$TMPD/small.pcap" -s "$ST" -c "$TMPD/small.yaml" \
    >/dev/null 2>"$TMPD/again.err3"
rc=$?
[ "$rc" = 1 ] || fail "the restart under the fault: exit status $rc"
grep -q "\.idx: Input/output error" "$TMPD/again.err3" ||
	fail "the restart's failed repair is not said: $(cat "$TMPD/again.err3")"
samesums || fail "the failed repair changed a published segment"
"$TM" store check "$ST" >"$TMPD/again.check3" 2>&1 ||
	fail "tm store check after the failed repair"
grep -q "^note .*: not published" "$TMPD/again.check3" ||
	fail "the segment to repair is gone"
restart "repaired: [1-9][0-9]* packets"

if [ "$fails" -ne 0 ]; then
	echo "fault_eio: $fails failures"
	exit 1
fi
echo "fault_eio: every write error reported with its file and errno," \
    "nothing published lost, nothing half-written published, repaired" \
    "on the next start"
