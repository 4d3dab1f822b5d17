#!/usr/bin/env bash
# End-to-end: the control clients (`tm query --connect`, `tm stats`,
# `tm ctl`) against a fake service (tests/tools/ctl_fake_server.py) that
# answers well or badly on request:
#
#  - the request lines they send (auth first when a token is set, from
#    --token-file or TM_TOKEN; set-cutoff's size in bytes and duration);
#  - query --connect: the D stream, exact, to stdout or -w FILE; --count
#    prints the same line the local --count does, to stdout, or to stderr
#    when the pcap goes to stdout; notices on stderr;
#  - stats: the text unescaped, --json as it came; ctl: the short lines;
#  - an E answer: "tm: ADDR: message" (made printable), exit 1; a
#    connection lost before the final frame, a frame over 1 MiB, an unknown
#    frame type, silence past --timeout, no counts: exit 1 with a message;
#  - usage errors exit 2 without connecting.
#
# Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
unset TM_TOKEN

W=$(mktemp -d "${TMPDIR:-/tmp}/tm-ctlc.XXXXXX") || exit 1
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$W"; else echo "keeping $W"; fi
}
trap cleanup EXIT
S=$W/tm.sock
python3 "$TM_SRC/tests/tools/ctl_fake_server.py" "$S" "$W/requests" \
    2>"$W/server.err" &
SRV=$!
for _ in $(seq 1 100); do [ -S "$S" ] && break; sleep 0.05; done
[ -S "$S" ] || { echo "ctl_client: the fake server did not start"; exit 1; }

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run EXPECTED_STATUS ARGS...: runs tm, output in $W/out and $W/err
run() {
	local want=$1 rc
	shift
	"$TM" "$@" >"$W/out" 2>"$W/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "tm $* exited $rc, not $want: $(head -c 300 "$W/err")"
}
has() { grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 300 "$1")"; }
last_request() { tail -n 1 "$W/requests"; }

python3 - "$W/want.bin" <<'PY'
import sys
n = 3 * 1048576 + 5
open(sys.argv[1], "wb").write(bytes((i * 131 + (i >> 9)) & 0xFF for i in range(n)))
PY

# ---- query --connect ------------------------------------------------------
run 0 query --connect "$S" host 10.0.0.5 and port 443
cmp -s "$W/out" "$W/want.bin" || fail "query: the pcap differs"
has "$W/err" "tm: from memory: 2 packets"
[ "$(last_request)" = "query pcap host 10.0.0.5 and port 443" ] ||
	fail "query sent '$(last_request)'"
run 0 query --connect "$S" -w "$W/q.pcap" tcp
cmp -s "$W/q.pcap" "$W/want.bin" || fail "query -w: the pcap differs"
[ -s "$W/out" ] && fail "query -w wrote to stdout"
run 0 query --connect "unix:$S" --count tcp
[ "$(cat "$W/out")" = "42 packets, 4242 bytes" ] || fail "count: $(cat "$W/out")"
[ "$(last_request)" = "query count tcp" ] || fail "count sent '$(last_request)'"
run 0 query --connect "$W" --count -w - tcp
cmp -s "$W/out" "$W/want.bin" || fail "count -w -: the pcap differs"
has "$W/err" "42 packets, 4242 bytes"
run 0 query --connect "$S" --count -w "$W/q2.pcap"
[ "$(cat "$W/out")" = "42 packets, 4242 bytes" ] || fail "count -w: $(cat "$W/out")"
[ "$(last_request)" = "query pcap" ] || fail "no expression sent '$(last_request)'"

run 1 query --connect "$S" error
has "$W/err" "tm: $S: bad?[31m thing"
run 1 query --connect "$S" lost
has "$W/err" "tm: $S: connection lost before the answer ended"
run 1 query --connect "$S" huge
has "$W/err" "tm: $S: protocol error: a frame of 1048577 bytes (at most 1048576)"
run 1 query --connect "$S" badtype
has "$W/err" "tm: $S: protocol error: unknown frame type 0x58"
run 1 query --connect "$S" --timeout 1 silent
has "$W/err" "tm: $S: no answer for 1 s"
run 1 query --connect "$S" --count nojson
has "$W/err" "protocol error: the answer has no packet and byte counts"
run 1 query --connect "$W/nothing.sock" tcp
has "$W/err" "tm: $W/nothing.sock: no such socket"

run 2 query --connect "$S" -s "$W" tcp
has "$W/err" "one or the other"
run 2 query --connect "$S" --explain tcp
run 2 query -s "$W" --token-file /dev/null tcp
run 2 query --connect "$S" "$(printf 'tcp\nping')"

# ---- tokens -----------------------------------------------------------------
printf 's3cret-token \n' >"$W/token"
run 0 ctl --connect "$S" --token-file "$W/token" ping
[ "$(tail -n 2 "$W/requests" | head -n 1)" = "auth s3cret-token" ] ||
	fail "token file: sent '$(tail -n 2 "$W/requests")'"
TM_TOKEN=from-env run 0 stats --connect "$S"
[ "$(tail -n 2 "$W/requests" | head -n 1)" = "auth from-env" ] ||
	fail "TM_TOKEN: sent '$(tail -n 2 "$W/requests")'"
printf 'two words\n' >"$W/badtoken"
run 1 ctl --connect "$S" --token-file "$W/badtoken" ping
has "$W/err" "the first line is not a token"

# ---- stats, ctl -------------------------------------------------------------
run 0 stats --connect "$S"
printf 'seen: 5\nstored: "4"\t\xc3\xa9\n' | cmp -s - "$W/out" ||
	fail "stats text: $(od -c "$W/out" | head -3)"
[ "$(last_request)" = "stats text" ] || fail "stats sent '$(last_request)'"
run 0 stats --connect "$S" --json
[ "$(cat "$W/out")" = '{"packets":{"seen":5}}' ] || fail "stats --json: $(cat "$W/out")"
run 0 ctl --connect "$S" ping
[ "$(cat "$W/out")" = "$S: tm (protocol 1) capturing into /srv/tm" ] ||
	fail "ping: $(cat "$W/out")"
run 0 ctl --connect "$S" --json ping
[ "$(cat "$W/out")" = '{"version":1,"capturing":true,"store":"/srv/tm"}' ] ||
	fail "ping --json: $(cat "$W/out")"
run 0 ctl --connect "$S" flush
[ "$(cat "$W/out")" = "flushed: 2 segments published" ] || fail "flush: $(cat "$W/out")"
has "$W/err" "tm: flushing"
run 0 ctl --connect "$S" clear-cutoffs
[ "$(cat "$W/out")" = "1 cutoff rule cleared" ] || fail "clear: $(cat "$W/out")"
run 0 ctl --connect "$S" set-cutoff host 10.0.0.1 and tcp 20k --for 10m
[ "$(last_request)" = "set-cutoff 20480 10m host 10.0.0.1 and tcp" ] ||
	fail "set-cutoff sent '$(last_request)'"
[ "$(cat "$W/out")" = "rule 3: cutoff 20480 bytes, until 2026-11-26T12:00:00Z" ] ||
	fail "set-cutoff: $(cat "$W/out")"
run 0 ctl --connect "$S" set-cutoff --for 90s udp none
[ "$(last_request)" = "set-cutoff none 90s udp" ] || fail "set-cutoff sent '$(last_request)'"
[ "$(cat "$W/out")" = "rule 3: cutoff none, until 2026-11-26T12:00:00Z" ] ||
	fail "set-cutoff none: $(cat "$W/out")"
run 0 ctl --connect "$S" set-cutoff udp 1g
[ "$(last_request)" = "set-cutoff 1073741824 - udp" ] || fail "set-cutoff sent '$(last_request)'"
[ "$(cat "$W/out")" = "rule 3: cutoff 1073741824 bytes, no end" ] ||
	fail "set-cutoff no end: $(cat "$W/out")"

# usage errors: exit 2, nothing sent
n=$(wc -l <"$W/requests")
run 2 ctl --connect "$S"
run 2 ctl --connect "$S" pong
run 2 ctl --connect "$S" ping now
run 2 ctl --connect "$S" ping --for 1m
run 2 ctl --connect "$S" set-cutoff tcp
run 2 ctl --connect "$S" set-cutoff tcp 20x
has "$W/err" "'20x' is not a size"
run 2 ctl --connect "$S" set-cutoff tcp 1k --for 10
has "$W/err" "'10' is not a duration"
run 2 ctl ping
has "$W/err" "--connect ADDR is required"
run 2 stats --connect "$S" extra
run 2 stats --connect "$S" --timeout never
[ "$(wc -l <"$W/requests")" -eq "$n" ] || fail "a usage error sent a request"
run 0 ctl --help
has "$W/out" "set-cutoff EXPR SIZE|none"

if [ "$fails" -ne 0 ]; then
	echo "ctl_client: $fails failures"
	exit 1
fi
echo "ctl_client: PASS"
