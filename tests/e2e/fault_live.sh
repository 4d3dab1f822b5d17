#!/usr/bin/env bash
# End-to-end: a write error during a live capture. `tm capture -i` on one
# end of a veth pair, its segment writes failing with EIO after 300 kB
# (tests/tools/eio_shim.c), while tcpreplay sends gen-trace traffic into
# the other end. What must hold:
#   - tm capture stops by itself, exit 1, its message naming the segment
#     file and "Input/output error" and saying what is intact; the
#     control socket is gone with it;
#   - nothing published is lost or half-written: `tm store check` passes
#     (the failed segment is a note: unpublished), `tm query -s` returns
#     exactly the packets of the published segments, all of them frames
#     of the trace;
#   - the next `tm capture -i` on the store (no fault) repairs the failed
#     segment, captures again, stops cleanly on SIGTERM, and the store
#     checks clean with nothing unpublished.
# Needs root (namespaces, veth), tcpreplay and iproute2: exits 77
# (skipped) without them. Env: TM, TM_BUILD, TM_SRC. KEEP=1 keeps the
# temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
: "${TM_BUILD:?TM_BUILD must name the build tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
MS="$TM_SRC/tests/tools/pcap_multiset.py"
SHIM="$TM_BUILD/tests/eio_shim.so"
[ -f "$SHIM" ] || { echo "fault_live: $SHIM not built"; exit 1; }

. "$TM_SRC/tests/e2e/lib/veth.sh"
veth_require

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flive.XXXXXX") || exit 1
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	veth_down
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
die() { echo "FAIL: $*"; exit 1; }
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

veth_up f || die "veth pair"
A=$VETH_A
S="$TMPD/store"
cat >"$TMPD/conf.yaml" <<'EOF'
storage:
  segment_size: 64k
capture:
  timeout: 20ms
EOF
"$GEN" --seed 41 --conns 300 -o "$TMPD/t.pcap" >/dev/null 2>&1 ||
	die "gen-trace"

start_tm() {	# env...
	env "$@" "$TM" capture -i "$A" -s "$S" -c "$TMPD/conf.yaml" \
	    --cutoff none >"$TMPD/cap.out" 2>"$TMPD/cap.err" &
	PID=$!
	for _ in $(seq 100); do
		"$TM" ctl --connect "$S/tm.sock" ping >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || die "tm capture -i exited:" \
		    "$(cat "$TMPD/cap.err")"
		sleep 0.1
	done
	die "the control socket never answered"
}

# 1. the fault
start_tm EIO_SHIM_GLOB="$S/segments/*.pcap" EIO_SHIM_AFTER_BYTES=300000 \
    EIO_SHIM_LOG="$TMPD/shim.log" LD_PRELOAD="$SHIM"
veth_replay "$TMPD/t.pcap" 3000 >"$TMPD/replay.out" 2>&1 ||
	die "replay: $(cat "$TMPD/replay.out")"
for _ in $(seq 100); do
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$PID" 2>/dev/null; then
	fail "tm capture -i goes on after its write failed"
	kill -TERM "$PID"
fi
wait "$PID"
rc=$?
PID=
[ "$rc" = 1 ] || fail "exit status $rc, expected 1"
[ -s "$TMPD/shim.log" ] || die "the shim injected no fault"
f=$(awk 'NR == 1 { print $2 }' "$TMPD/shim.log")
grep -qF "$f: write: Input/output error" "$TMPD/cap.err" ||
	fail "the message does not name $f and the error: $(cat "$TMPD/cap.err")"
grep -q "what was published in .* is intact" "$TMPD/cap.err" ||
	fail "the message does not say what is intact"
"$TM" ctl --connect "$S/tm.sock" ping >/dev/null 2>&1 &&
	fail "the control socket still answers"
if ! "$TM" store check "$S" >"$TMPD/check" 2>&1; then
	fail "tm store check: $(grep -v '^note' "$TMPD/check" | head -3)"
fi
grep -q "^note .*: not published" "$TMPD/check" ||
	fail "the failed segment is not left unpublished"
mapfile -t idx < <(ls "$S"/segments/*/*.idx 2>/dev/null)
[ "${#idx[@]}" -gt 0 ] || fail "nothing was published before the fault"
"$TM" query -s "$S" -w "$TMPD/q.pcap" 2>"$TMPD/q.err" ||
	fail "tm query: $(cat "$TMPD/q.err")"
python3 "$MS" "${idx[@]/%.idx/.pcap}" -- "$TMPD/q.pcap" >"$TMPD/ms" ||
	fail "tm query is not the published packets: $(tail -2 "$TMPD/ms")"
python3 "$MS" --subset "$TMPD/t.pcap" "$TMPD/q.pcap" >"$TMPD/ms" ||
	fail "stored frames that are not the trace's: $(tail -2 "$TMPD/ms")"
echo "ok: stopped by the fault; ${#idx[@]} segments published," \
    "$(python3 "$MS" --count "$TMPD/q.pcap") frames answered"

# 2. the next start repairs and captures again
start_tm
grep -q "repaired: [0-9]* packets\|no whole packet: removed" "$TMPD/cap.err" ||
	fail "the restart does not repair: $(cat "$TMPD/cap.err")"
veth_replay "$TMPD/t.pcap" 3000 >"$TMPD/replay.out" 2>&1 ||
	fail "replay: $(cat "$TMPD/replay.out")"
sleep 0.2
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
[ "$rc" = 0 ] || fail "tm capture -i exited $rc on SIGTERM: $(cat "$TMPD/cap.err")"
if ! "$TM" store check "$S" >"$TMPD/check2" 2>&1 ||
    ! grep -q " 0 damaged, 0 unpublished" "$TMPD/check2"; then
	fail "tm store check after the restart: $(tail -3 "$TMPD/check2")"
fi

if [ "$fails" -ne 0 ]; then
	echo "fault_live: $fails failures"
	exit 1
fi
echo "fault_live: a live capture stops on a write error with a clear" \
    "message, nothing published lost, repaired on the next start"
