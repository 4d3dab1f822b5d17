#!/usr/bin/env bash
# End-to-end: the capture service on a real interface pair.
#
# The test owns a network namespace with one end of a veth pair; `tm
# capture -i` listens on the other end, tcpreplay replays gen-trace traffic
# into the namespace's end at a fixed rate. While the replay runs, queries
# over the control socket return valid pcaps whose frames are all among
# the trace's. After it, the socket's answer holds every replayed frame
# exactly once, the newest from memory (the published segments alone hold
# fewer). Then: the socket refuses a user without permission; the service
# stops on SIGTERM, restarts on the same store (as an unprivileged user,
# -u), captures a second trace, and the store holds both traces' frames
# exactly once (per-frame hash multiset), through the socket and read
# directly.
#
# Needs root (namespaces, veth), tcpreplay and iproute2: exits 77 (skipped)
# without them. Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
MS="$TM_SRC/tests/tools/pcap_multiset.py"
PY=${PYTHON:-python3}

. "$TM_SRC/tests/e2e/lib/veth.sh"
veth_require

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-svc.XXXXXX") || exit 1
chmod 755 "$TMPD"
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	veth_down
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$TMPD/cap.err" ] && sed 's/^/  tm: /' "$TMPD/cap.err"; exit 1; }

veth_up s || fail "veth pair"
A=$VETH_A

S="$TMPD/store"
cat >"$TMPD/conf.yaml" <<'EOF'
storage:
  segment_size: 64k
  segment_age: 1h
capture:
  timeout: 20ms
classes:
  - name: tunnelled
    filter: tunnel
    cutoff: none
  - name: default
    cutoff: none
EOF
"$GEN" --seed 31 --conns 300 --mix tunnels -o "$TMPD/one.pcap" >/dev/null 2>&1 ||
    fail "gen-trace one"
"$GEN" --seed 32 --conns 300 --start 1700003600 -o "$TMPD/two.pcap" \
    >/dev/null 2>&1 || fail "gen-trace two"

start_tm() {	# extra args
	"$TM" capture -i "$A" -s "$S" -c "$TMPD/conf.yaml" "$@" \
	    >"$TMPD/cap.out" 2>"$TMPD/cap.err" &
	PID=$!
	for _ in $(seq 100); do
		"$TM" ctl --connect "$S/tm.sock" ping >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || fail "tm capture -i exited"
		sleep 0.1
	done
	fail "the control socket never answered"
}
stop_tm() {
	kill -TERM "$PID"
	wait "$PID"
	local rc=$?
	PID=
	[ "$rc" = 0 ] || fail "tm capture -i exited $rc on SIGTERM"
	grep -q "^packets read" "$TMPD/cap.out" || fail "no summary after SIGTERM"
}
replay() {	# file
	veth_replay "$1" 3000 >"$TMPD/replay.out" || fail "$(cat "$TMPD/replay.out")"
}

# 1. capture the first trace, querying while it runs
start_tm
replay "$TMPD/one.pcap" &
RP=$!
n=0
while kill -0 "$RP" 2>/dev/null; do
	"$TM" query --connect "$S/tm.sock" -w "$TMPD/during.pcap" \
	    'tunnel or not tunnel' 2>"$TMPD/q.err" || fail "query while capturing: $(cat "$TMPD/q.err")"
	$PY "$MS" --subset "$TMPD/one.pcap" "$TMPD/during.pcap" >"$TMPD/ms.out" ||
	    fail "a query during the replay: $(cat "$TMPD/ms.out")"
	n=$((n + 1))
	sleep 0.2
done
wait "$RP" || fail "replay"
[ "$n" -ge 2 ] || fail "only $n queries ran while capturing"
sleep 0.2	# more than capture.timeout: the kernel has handed everything on
"$TM" query --connect "$S/tm.sock" -w "$TMPD/sock1.pcap" ||
    fail "query over the socket"
$PY "$MS" "$TMPD/one.pcap" "$TMPD/sock1.pcap" >"$TMPD/ms.out" ||
    fail "the socket's answer is not the trace: $(cat "$TMPD/ms.out")"
"$TM" query -s "$S" -w "$TMPD/disk1.pcap" || fail "query -s while capturing"
total=$($PY "$MS" --count "$TMPD/one.pcap")
ondisk=$($PY "$MS" --count "$TMPD/disk1.pcap")
[ "$ondisk" -lt "$total" ] ||
    fail "published segments hold $ondisk of $total frames: nothing came from memory"
echo "ok: $n queries while capturing; $total frames over the socket, $ondisk of them published"

# 2. the socket's permissions: another user is refused
if command -v setpriv >/dev/null; then
	if setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$TM" ctl --connect "$S/tm.sock" ping >"$TMPD/perm.out" 2>&1; then
		fail "a user without permission was answered"
	fi
	grep -qi "permission denied" "$TMPD/perm.out" ||
	    fail "refusal without a reason: $(cat "$TMPD/perm.out")"
	mode=$(stat -c %a "$S/tm.sock")
	[ "$mode" = 660 ] || fail "socket mode $mode, not 660"
	echo "ok: socket mode 660, another user refused"
fi

# 3. stop, restart on the same store as nobody, second trace
stop_tm
if getent passwd nobody >/dev/null; then USER_OPT="-u nobody"; else USER_OPT=; fi
# shellcheck disable=SC2086
start_tm $USER_OPT
if [ -n "$USER_OPT" ]; then
	owner=$(ps -o user= -p "$PID" | tr -d ' ')
	[ "$owner" = nobody ] || fail "-u nobody: the service runs as $owner"
fi
replay "$TMPD/two.pcap"
sleep 0.2
"$TM" query --connect "$S/tm.sock" -w "$TMPD/sock2.pcap" ||
    fail "query after the restart"
$PY "$MS" "$TMPD/one.pcap" "$TMPD/two.pcap" -- "$TMPD/sock2.pcap" \
    >"$TMPD/ms.out" || fail "after the restart, over the socket: $(cat "$TMPD/ms.out")"
stop_tm
"$TM" query -s "$S" -w "$TMPD/disk2.pcap" || fail "query -s after stopping"
$PY "$MS" "$TMPD/one.pcap" "$TMPD/two.pcap" -- "$TMPD/disk2.pcap" \
    >"$TMPD/ms.out" || fail "the stopped store: $(cat "$TMPD/ms.out")"
"$TM" store check "$S" >"$TMPD/check.out" 2>&1 ||
    fail "tm store check: $(cat "$TMPD/check.out")"
echo "ok: both traces exactly once after a restart ($USER_OPT), store check passes"
exit 0
