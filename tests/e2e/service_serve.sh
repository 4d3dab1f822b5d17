#!/usr/bin/env bash
# End-to-end: `tm serve` answers the control socket for a store.
#
#  - queries over the Unix socket and over TCP equal `tm query -s`
#    (count and pcap bytes), stats describe the store, flush is a no-op,
#    set-cutoff is refused (nothing is captured)
#  - TCP: bound to loopback, refused without the token and with a wrong
#    one (and nothing answered), answered with it
#  - one socket, one service: a second `tm serve` on the store is refused;
#    after kill -9 the stale socket is replaced
#  - hostile requests (junk bytes, an overlong line, a path where an
#    expression goes, a request that asks to write a file) get an error
#    and the service goes on; no file appears anywhere in the test's
#    directory but the socket, and the paths named in requests stay absent
#
# Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
PY=${PYTHON:-python3}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-serve.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMPD"/serve*.err; do [ -f "$f" ] && sed 's/^/  tm: /' "$f"; done; exit 1; }

S="$TMPD/store"
"$TM" capture -q -r "$TM_SRC/tests/fixtures/sample.pcap" -s "$S" ||
    fail "tm capture -r"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 's3cret-%s\n' "$$" >"$TMPD/token"
cat >"$TMPD/conf.yaml" <<EOF
control:
  tcp: ":$PORT"
  token_file: $TMPD/token
EOF

wait_sock() {	# addr pid
	for _ in $(seq 100); do
		TM_TOKEN=$(head -1 "$TMPD/token") "$TM" ctl --connect "$1" ping \
		    >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || fail "tm serve exited"
		sleep 0.1
	done
	fail "$1 never answered"
}
"$TM" serve -s "$S" -c "$TMPD/conf.yaml" 2>"$TMPD/serve1.err" &
P1=$!
PIDS="$P1"
wait_sock "$S/tm.sock" "$P1"
wait_sock "127.0.0.1:$PORT" "$P1"

# the same answers as reading the store directly
for q in '' 'host 10.0.0.5' 'tunnel l2tp' 'tcp and not port 80'; do
	"$TM" query -s "$S" -w "$TMPD/direct.pcap" $q || fail "query -s '$q'"
	"$TM" query --connect "$S/tm.sock" -w "$TMPD/sock.pcap" $q ||
	    fail "query --connect unix '$q'"
	cmp -s "$TMPD/direct.pcap" "$TMPD/sock.pcap" ||
	    fail "'$q': the Unix socket's pcap differs from tm query -s"
	TM_TOKEN=$(head -1 "$TMPD/token") "$TM" query --connect \
	    "127.0.0.1:$PORT" -w "$TMPD/tcp.pcap" $q || fail "query over TCP '$q'"
	cmp -s "$TMPD/direct.pcap" "$TMPD/tcp.pcap" ||
	    fail "'$q': the TCP answer differs from tm query -s"
	a=$("$TM" query -s "$S" --count $q 2>&1)
	b=$("$TM" query --connect "$S/tm.sock" --count $q 2>&1)
	[ "$a" = "$b" ] || fail "'$q': --count '$a' vs '$b'"
done
rm -f "$TMPD/direct.pcap" "$TMPD/sock.pcap" "$TMPD/tcp.pcap"
echo "ok: Unix and TCP answers equal tm query -s"

"$TM" stats --connect "$S/tm.sock" --json >"$TMPD/stats.json" || fail "stats --json"
grep -q '"capturing":false' "$TMPD/stats.json" || fail "stats: $(cat "$TMPD/stats.json")"
grep -q '"name":"default","segments":1,' "$TMPD/stats.json" ||
    fail "stats do not describe the store: $(cat "$TMPD/stats.json")"
"$TM" stats --connect "$S/tm.sock" | grep -q "^class default *1 segments, 628 packets" ||
    fail "stats text: $("$TM" stats --connect "$S/tm.sock")"
"$TM" ctl --connect "$S/tm.sock" flush >/dev/null || fail "flush on tm serve"
if "$TM" ctl --connect "$S/tm.sock" set-cutoff 'host 10.0.0.5' none \
    >"$TMPD/out" 2>&1; then
	fail "set-cutoff accepted by a service that captures nothing"
fi
rm -f "$TMPD/out"

# TCP: loopback only, and the token
if command -v ss >/dev/null; then
	ss -ltn "sport = :$PORT" | grep -q "127.0.0.1:$PORT" ||
	    fail "TCP is not bound to loopback: $(ss -ltn "sport = :$PORT")"
fi
if env -u TM_TOKEN "$TM" ctl --connect "127.0.0.1:$PORT" ping >"$TMPD/o" 2>&1; then
	fail "TCP without a token was answered"
fi
grep -qi "authentication" "$TMPD/o" || fail "no token: $(cat "$TMPD/o")"
if TM_TOKEN=wrong "$TM" query --connect "127.0.0.1:$PORT" -w "$TMPD/o.pcap" \
    >"$TMPD/o" 2>&1; then
	fail "TCP with a wrong token was answered"
fi
[ ! -s "$TMPD/o.pcap" ] || fail "a wrong token got data"
rm -f "$TMPD/o" "$TMPD/o.pcap"
echo "ok: TCP on loopback, refused without the right token"

# hostile requests over the Unix socket and TCP (raw bytes)
rm -f "$TMPD/stats.json"
find "$TMPD" | sort >"$TMPD/files.before"
$PY - "$S/tm.sock" "$PORT" "$TMPD" "$(head -1 "$TMPD/token")" <<'EOF' || fail "hostile requests"
import os, socket, sys
path, port, tmpd, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def ask(data, tcp=False):
    s = socket.create_connection(('127.0.0.1', port)) if tcp else socket.socket(socket.AF_UNIX)
    if not tcp:
        s.connect(path)
    s.settimeout(15)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = b''
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out
bad = [
    b'\x00\x01\x02\xff' * 100 + b'\n',
    b'query pcap ' + b'A' * 70000 + b'\n',
    b'query pcap host 1.2.3.4 -w ' + tmpd.encode() + b'/written.pcap\n',
    b'query pcap ../../../../etc/passwd\n',
    b'write ' + tmpd.encode() + b'/written2\n',
    b'stats json\x00trailing\n',
    b'set-cutoff none - host\x1b[2J\n',
    b'\n',
]
for req in bad:
    out = ask(req)
    if not out.startswith(b'E'):
        sys.exit('unix: %r... was not refused: %r' % (req[:40], out[:80]))
    out = ask(b'auth ' + token.encode() + b'\n' + req, tcp=True)
    if not out.startswith(b'E'):
        sys.exit('tcp: %r... was not refused: %r' % (req[:40], out[:80]))
for f in ('written.pcap', 'written2'):
    if os.path.exists(os.path.join(tmpd, f)):
        sys.exit('a request made the service write ' + f)
EOF
"$TM" ctl --connect "$S/tm.sock" ping >/dev/null || fail "the service died of hostile requests"
find "$TMPD" | sort >"$TMPD/files.after"
# files.before/after themselves are the only new names
diff <(grep -v '/files\.\(before\|after\)$' "$TMPD/files.before") \
    <(grep -v '/files\.\(before\|after\)$' "$TMPD/files.after") >"$TMPD/diff" ||
    fail "files appeared or vanished: $(cat "$TMPD/diff")"
echo "ok: hostile requests refused, nothing written"

# one service per socket; a stale socket is replaced
if "$TM" serve -s "$S" 2>"$TMPD/serve2.err"; then
	fail "a second tm serve on the same socket started"
fi
grep -q "already served" "$TMPD/serve2.err" ||
    fail "second serve: $(cat "$TMPD/serve2.err")"
kill -9 "$P1"
wait "$P1" 2>/dev/null
[ -S "$S/tm.sock" ] || fail "kill -9 left no socket to test the stale case"
"$TM" serve -s "$S" 2>"$TMPD/serve3.err" &
P3=$!
PIDS="$P3"
wait_sock "$S/tm.sock" "$P3"
kill -TERM "$P3"
wait "$P3" || fail "tm serve exited non-zero on SIGTERM"
PIDS=
[ ! -e "$S/tm.sock" ] || fail "tm serve left its socket behind"
echo "ok: one service per socket, stale socket replaced, removed on exit"
exit 0
