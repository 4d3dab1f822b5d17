#!/usr/bin/env bash
# End-to-end: three capture services behind one query front-end (issue 7).
#
# gen-trace traffic is split by tm's direction-independent connection key
# (as a symmetric-hash packet broker splits it: `tm decode --json` gives
# each frame's key) into three parts; each part is captured into its own
# store (with a cutoff: a connection is whole in one part, so cutoffs cut
# the same bytes as in one store of the whole trace, which is captured
# too). Three `tm serve` nodes answer, the third over TCP with a token.
#  - `tm query --cluster`, `tm query --node ...` and `tm frontend` +
#    `tm query --connect` return exactly the frames (bytes and timestamps)
#    that `tm query -s WHOLE` returns, in time order, for several
#    expressions; --count agrees
#  - routing: with a cluster file that truthfully lists each node's inner
#    addresses and VLANs, queries for an address or VLAN only one part
#    holds ask only that node (-v and the front-end's log and K answer
#    say so) and still return the same frames
#  - ping, stats, flush through the front-end reach every node
#  - a node killed: the answer is partial, says "partial" and names it,
#    exits 3, holds every other node's frames, comes at once
#  - a silent node (a listener that never answers): partial after the
#    cluster's 1 s timeout, no hang; through the front-end too
#  - usage errors: a bad cluster file (FILE:LINE:COLUMN), a bad
#    expression; no node reachable at all: exit 1
#
# Env: TM, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
SPLIT="$TM_SRC/tests/tools/pcap_split_key.py"
ORDER="$TM_SRC/tests/tools/pcap_timeorder.py"
PY=${PYTHON:-python3}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-cluster.XXXXXX") || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do { kill -9 "$p"; wait "$p"; } 2>/dev/null; done
	if [ -z "${KEEP:-}" ]; then rm -rf "$TMPD"; else echo "kept $TMPD"; fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$TMPD"/*.err; do
		[ -s "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" | tail -20
	done
	exit 1
}

"$GEN" --seed 51 --conns 600 -o "$TMPD/trace.pcap" >/dev/null 2>&1 ||
    fail "gen-trace"
"$TM" decode --json -r "$TMPD/trace.pcap" >"$TMPD/trace.jsonl" ||
    fail "tm decode --json"
$PY "$SPLIT" "$TMPD/trace.pcap" "$TMPD/trace.jsonl" 3 "$TMPD/part" \
    --describe "$TMPD/parts.json" >"$TMPD/split.out" || fail "split"
echo "split by connection key: $(cat "$TMPD/split.out")"

cat >"$TMPD/conf.yaml" <<EOF
classes:
  - name: default
    cutoff: 4k
EOF
for i in 1 2 3; do
	"$TM" capture -q -r "$TMPD/part$i.pcap" -s "$TMPD/s$i" \
	    -c "$TMPD/conf.yaml" || fail "tm capture part$i"
done
"$TM" capture -q -r "$TMPD/trace.pcap" -s "$TMPD/whole" -c "$TMPD/conf.yaml" ||
    fail "tm capture whole"

# node 3 answers over TCP with a token
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'n3-token-%s\n' "$$" >"$TMPD/n3.token"
cat >"$TMPD/conf3.yaml" <<EOF
classes:
  - name: default
    cutoff: 4k
control:
  tcp: "127.0.0.1:$PORT"
  token_file: $TMPD/n3.token
EOF

wait_ping() {	# addr pid [token file]
	for _ in $(seq 100); do
		if [ -n "${3:-}" ]; then
			"$TM" ctl --connect "$1" --token-file "$3" ping \
			    >/dev/null 2>&1 && return 0
		else
			"$TM" ctl --connect "$1" ping >/dev/null 2>&1 && return 0
		fi
		kill -0 "$2" 2>/dev/null || fail "$1: the service exited"
		sleep 0.1
	done
	fail "$1 never answered"
}
"$TM" serve -s "$TMPD/s1" 2>"$TMPD/n1.err" & N1=$!
"$TM" serve -s "$TMPD/s2" 2>"$TMPD/n2.err" & N2=$!
"$TM" serve -s "$TMPD/s3" -c "$TMPD/conf3.yaml" 2>"$TMPD/n3.err" & N3=$!
PIDS="$N1 $N2 $N3"
wait_ping "$TMPD/s1" "$N1"
wait_ping "$TMPD/s2" "$N2"
wait_ping "127.0.0.1:$PORT" "$N3" "$TMPD/n3.token"

# the cluster files: plain, and one that says what each node holds
cat >"$TMPD/plain.yaml" <<EOF
timeout: 2s
nodes:
  - name: n1
    address: $TMPD/s1
  - name: n2
    address: unix:$TMPD/s2/tm.sock
  - name: n3
    address: 127.0.0.1:$PORT
    token_file: $TMPD/n3.token
EOF
$PY - "$TMPD/parts.json" "$TMPD" "$PORT" >"$TMPD/routed.yaml" <<'EOF' ||
import json, sys
d = json.load(open(sys.argv[1]))
tmpd, port = sys.argv[2], sys.argv[3]
addr = {'1': tmpd + '/s1', '2': tmpd + '/s2',
        '3': '127.0.0.1:%s' % port}
print('timeout: 2s')
print('listen:')
print('  socket: %s/front.sock' % tmpd)
print('nodes:')
for k in '123':
    print('  - name: n%s' % k)
    print('    address: "%s"' % addr[k])
    if k == '3':
        print('    token_file: %s/n3.token' % tmpd)
    print('    share: %s/3' % k)
    print('    networks: [%s]' % ', '.join('"%s"' % a
                                           for a in d[k]['addrs']))
    print('    vlans: [%s]' % ', '.join(str(v) for v in d[k]['vlans']))
EOF
    fail "routed.yaml"

# addresses and VLANs only one part holds
read -r A1 A3 V2 V3 <<<"$($PY - "$TMPD/parts.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
a = {k: set(v['addrs']) for k, v in d.items()}
v = {k: set(x['vlans']) for k, x in d.items()}
only = lambda s, k: sorted(s[k] - set().union(*(s[j] for j in s if j != k)))
print(only(a, '1')[0], only(a, '3')[-1], only(v, '2')[0], only(v, '3')[0])
EOF
)"
[ -n "$V3" ] || fail "no address or VLAN unique to one part"
START=$($PY -c "import json; print(json.loads(open('$TMPD/trace.jsonl').readline())['ts'].split('.')[0])")
MID=$((START + 300))

"$TM" frontend -c "$TMPD/routed.yaml" -v 2>"$TMPD/front.err" & FE=$!
PIDS="$PIDS $FE"
wait_ping "$TMPD/front.sock" "$FE"

# a client that prints the K answer's JSON (tm query --connect shows the
# counts only)
cat >"$TMPD/kcall.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
f = s.makefile("rb")
while True:
    hdr = f.read(5)
    if len(hdr) < 5:
        sys.exit("connection lost")
    kind, n = hdr[:1], struct.unpack(">I", hdr[1:])[0]
    payload = f.read(n)
    if kind == b"N":
        print("N " + payload.decode(), file=sys.stderr)
    elif kind in (b"K", b"E"):
        print(kind.decode() + " " + payload.decode())
        sys.exit(0)
EOF

# ---- the same frames, in time order --------------------------------------------
# expr, then how many nodes the routed cluster asks
check() {
	local q="$1" want_asked="$2" name="$3" n a b
	"$TM" query -s "$TMPD/whole" -w "$TMPD/w.pcap" $q ||
	    fail "tm query -s whole '$q'"
	n=$($PY "$TM_SRC/tests/tools/pcap_multiset.py" --count "$TMPD/w.pcap")
	"$TM" query --cluster "$TMPD/plain.yaml" -w "$TMPD/c.pcap" $q \
	    2>"$TMPD/c.err" || fail "--cluster plain '$q': exit $?"
	$PY "$ORDER" "$TMPD/w.pcap" "$TMPD/c.pcap" >"$TMPD/o.out" ||
	    fail "--cluster '$q': $(cat "$TMPD/o.out")"
	"$TM" query --cluster "$TMPD/routed.yaml" -v -w "$TMPD/r.pcap" $q \
	    2>"$TMPD/r.err" || fail "--cluster routed '$q': exit $?"
	$PY "$ORDER" "$TMPD/w.pcap" "$TMPD/r.pcap" >"$TMPD/o.out" ||
	    fail "--cluster routed '$q': $(cat "$TMPD/o.out")"
	grep -q "^tm: cluster: asking $want_asked of 3 nodes" "$TMPD/r.err" ||
	    fail "routed '$q': expected $want_asked nodes asked: $(cat "$TMPD/r.err")"
	"$TM" query --connect "$TMPD/front.sock" -w "$TMPD/f.pcap" $q \
	    2>"$TMPD/f.err" || fail "front-end '$q': exit $?"
	$PY "$ORDER" "$TMPD/w.pcap" "$TMPD/f.pcap" >"$TMPD/o.out" ||
	    fail "front-end '$q': $(cat "$TMPD/o.out")"
	[ -s "$TMPD/f.err" ] && fail "front-end '$q' printed: $(cat "$TMPD/f.err")"
	a=$("$TM" query -s "$TMPD/whole" --count $q)
	b=$("$TM" query --connect "$TMPD/front.sock" --count $q)
	[ "$a" = "$b" ] || fail "'$q' --count: '$a' direct, '$b' front-end"
	b=$(TM_TOKEN=$(head -1 "$TMPD/n3.token") "$TM" query --node "$TMPD/s1" \
	    --node "$TMPD/s2" --node "127.0.0.1:$PORT" --count $q)
	[ "$a" = "$b" ] || fail "'$q' --count: '$a' direct, '$b' with --node"
	echo "ok: $name: $n frames, equal and in time order ($want_asked of 3 nodes asked when routed)"
}
check "" 3 "everything"
check "tcp" 3 "tcp"
check "host $A1" 1 "host only part 1 has"
check "src or dst host $A1 and tcp" 1 "and-ed address"
check "host $A1 or host $A3" 2 "or of two parts' addresses"
check "vlan $V2" 1 "vlan only part 2 has"
check "vlan $V2 or vlan $V3" 2 "vlans of two parts"
check "not host $A1" 3 "not"
check "tunnel gre or udp port 53" 3 "tunnels"
check "ip6 and after $MID" 3 "time"
check "udp and last 36500d" 3 "relative time"

# the front-end's log and K answer say which nodes it skipped
grep -q "query pcap 'host $A1': asking 1 of 3 nodes" "$TMPD/front.err" ||
    fail "the front-end's log does not show the routing"
grep -q "query pcap 'host $A1': skipping n2: its networks exclude 'host $A1'" \
    "$TMPD/front.err" || fail "the front-end's log does not say why n2 was skipped"
k=$($PY "$TMPD/kcall.py" "$TMPD/front.sock" "query count vlan $V2") ||
    fail "kcall"
case "$k" in
*'"nodes":1,"asked":["n2"],"skipped":["n1","n3"],"partial":false,"missing":[]'*) ;;
*) fail "front-end K for 'vlan $V2': $k" ;;
esac
echo "ok: the front-end says which nodes it skipped and why"

# ---- the front-end forwards ping, stats, flush ----------------------------------
"$TM" ctl --connect "$TMPD/front.sock" ping >"$TMPD/ping.out" 2>&1 ||
    fail "ping: $(cat "$TMPD/ping.out")"
grep -q "3 of 3 nodes up" "$TMPD/ping.out" || fail "ping: $(cat "$TMPD/ping.out")"
"$TM" stats --connect "$TMPD/front.sock" >"$TMPD/stats.out" ||
    fail "stats through the front-end"
for i in 1 2 3; do
	grep -q "^node n$i (" "$TMPD/stats.out" || fail "stats: no node n$i"
done
grep -q "store $TMPD/s2" "$TMPD/stats.out" || fail "stats: $(cat "$TMPD/stats.out")"
"$TM" stats --connect "$TMPD/front.sock" --json >"$TMPD/stats.json" ||
    fail "stats --json"
$PY -c "
import json,sys
d = json.load(open('$TMPD/stats.json'))
assert [n['name'] for n in d['nodes']] == ['n1','n2','n3'], d
assert all('stats' in n for n in d['nodes']), d
assert d['partial'] is False
" || fail "stats --json: $(head -c 400 "$TMPD/stats.json")"
"$TM" ctl --connect "$TMPD/front.sock" flush >"$TMPD/flush.out" 2>&1 ||
    fail "flush: $(cat "$TMPD/flush.out")"
grep -q "^flushed: 0 segments published" "$TMPD/flush.out" ||
    fail "flush: $(cat "$TMPD/flush.out")"
echo "ok: ping, stats and flush reach every node through the front-end"

# ---- usage errors ----------------------------------------------------------------
printf 'nodes:\n  - name: a\n    address: /x\n    vlans: [5000]\n' >"$TMPD/bad.yaml"
"$TM" query --cluster "$TMPD/bad.yaml" --count 2>"$TMPD/e.out"
[ $? -eq 2 ] || fail "a bad cluster file is not a usage error"
grep -q "bad.yaml:4:13: vlans: '5000' is not a VLAN id" "$TMPD/e.out" ||
    fail "bad cluster file: $(cat "$TMPD/e.out")"
"$TM" query --cluster "$TMPD/plain.yaml" --count 'port abc' 2>"$TMPD/e.out"
[ $? -eq 2 ] || fail "a bad expression is not a usage error"
grep -q "column 6" "$TMPD/e.out" || fail "bad expression: $(cat "$TMPD/e.out")"
"$TM" query --cluster "$TMPD/plain.yaml" -s "$TMPD/whole" --count 2>/dev/null
[ $? -eq 2 ] || fail "--cluster with -s is not a usage error"
"$TM" query --node "$TMPD/nothing.sock" --count 2>"$TMPD/e.out"
[ $? -eq 1 ] || fail "no node answering is not an error"
grep -q "no node answered" "$TMPD/e.out" || fail "no node: $(cat "$TMPD/e.out")"
echo "ok: usage errors exit 2, no node at all exits 1"

# ---- a node killed -------------------------------------------------------------------
"$TM" query -s "$TMPD/s1" -w "$TMPD/a1.pcap" tcp || fail "query s1"
"$TM" query -s "$TMPD/s3" -w "$TMPD/a3.pcap" tcp || fail "query s3"
{ kill -9 "$N2"; wait "$N2"; } 2>/dev/null
t0=$(date +%s%N)
"$TM" query --cluster "$TMPD/plain.yaml" -w "$TMPD/k.pcap" tcp 2>"$TMPD/k.err"
rc=$?
t1=$(date +%s%N)
[ $rc -eq 3 ] || fail "a killed node: exit $rc, not 3 ($(cat "$TMPD/k.err"))"
grep -q "partial.*n2" "$TMPD/k.err" || fail "no partial notice naming n2: $(cat "$TMPD/k.err")"
$PY "$ORDER" "$TMPD/a1.pcap" "$TMPD/a3.pcap" -- "$TMPD/k.pcap" >"$TMPD/o.out" ||
    fail "killed node: the others' frames: $(cat "$TMPD/o.out")"
[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] || fail "killed node: took $(( (t1 - t0) / 1000000 )) ms"
echo "ok: a killed node: partial ($(head -1 "$TMPD/k.err")), exit 3, the others' frames in order, $(( (t1 - t0) / 1000000 )) ms"
rc=0
"$TM" query --connect "$TMPD/front.sock" -w "$TMPD/kf.pcap" tcp 2>"$TMPD/kf.err" || rc=$?
[ "$rc" = 3 ] || fail "front-end with a killed node: exit $rc, not 3 (partial)"
grep -q "partial answer: node n2 .* is missing" "$TMPD/kf.err" ||
    fail "front-end: no partial notice: $(cat "$TMPD/kf.err")"
$PY "$ORDER" "$TMPD/a1.pcap" "$TMPD/a3.pcap" -- "$TMPD/kf.pcap" >"$TMPD/o.out" ||
    fail "front-end, killed node: $(cat "$TMPD/o.out")"
k=$($PY "$TMPD/kcall.py" "$TMPD/front.sock" "query count tcp" 2>"$TMPD/kc.err")
case "$k" in
*'"partial":true,"missing":["n2"]'*) ;;
*) fail "front-end K with a killed node: $k" ;;
esac
grep -q "^N partial answer: node n2" "$TMPD/kc.err" ||
    fail "front-end: the N notice does not come before K: $(cat "$TMPD/kc.err")"
"$TM" ctl --connect "$TMPD/front.sock" ping >"$TMPD/ping.out" 2>&1 ||
    fail "ping with a killed node"
grep -q "2 of 3 nodes up" "$TMPD/ping.out" || fail "ping: $(cat "$TMPD/ping.out")"
echo "ok: the front-end with a killed node: N notice, \"partial\":true, \"missing\":[\"n2\"]"

# ---- a silent node ---------------------------------------------------------------------
cat >"$TMPD/silent.py" <<'EOF'
import os, socket, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
print("listening", flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)		# never answered, never closed
EOF
$PY "$TMPD/silent.py" "$TMPD/silent.sock" >"$TMPD/silent.out" 2>&1 & SP=$!
PIDS="$PIDS $SP"
for _ in $(seq 50); do [ -S "$TMPD/silent.sock" ] && break; sleep 0.1; done
FPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'front-token-%s\n' "$$" >"$TMPD/front.token"
cat >"$TMPD/silent.yaml" <<EOF
timeout: 1s
listen:
  socket: $TMPD/front2.sock
  tcp: "127.0.0.1:$FPORT"
  token_file: $TMPD/front.token
nodes:
  - name: n1
    address: $TMPD/s1
  - name: quiet
    address: $TMPD/silent.sock
  - name: n3
    address: 127.0.0.1:$PORT
    token_file: $TMPD/n3.token
EOF
t0=$(date +%s%N)
timeout 20 "$TM" query --cluster "$TMPD/silent.yaml" -w "$TMPD/s.pcap" tcp \
    2>"$TMPD/s.err"
rc=$?
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ $rc -eq 3 ] || fail "a silent node: exit $rc, not 3 ($(cat "$TMPD/s.err"))"
grep -q "partial answer: node quiet .* no answer for 1 s" "$TMPD/s.err" ||
    fail "silent node: $(cat "$TMPD/s.err")"
[ "$ms" -ge 950 ] && [ "$ms" -lt 5000 ] || fail "silent node: $ms ms (timeout 1 s)"
$PY "$ORDER" "$TMPD/a1.pcap" "$TMPD/a3.pcap" -- "$TMPD/s.pcap" >"$TMPD/o.out" ||
    fail "silent node: the others' frames: $(cat "$TMPD/o.out")"
echo "ok: a silent node: partial after $ms ms (timeout 1 s), exit 3, the others' frames in order"

"$TM" frontend -c "$TMPD/silent.yaml" 2>"$TMPD/front2.err" & FE2=$!
PIDS="$PIDS $FE2"
wait_ping "$TMPD/front2.sock" "$FE2"
"$TM" query --connect "127.0.0.1:$FPORT" --count tcp >/dev/null 2>"$TMPD/e.out" &&
    fail "the front-end's TCP socket answered without the token"
grep -q "authentication failed" "$TMPD/e.out" || fail "no token: $(cat "$TMPD/e.out")"
t0=$(date +%s%N)
rc=0
timeout 20 "$TM" query --connect "127.0.0.1:$FPORT" --token-file "$TMPD/front.token" \
    --count tcp >"$TMPD/fs.out" 2>"$TMPD/fs.err" || rc=$?
[ "$rc" = 3 ] || fail "front-end over TCP, silent node: exit $rc, not 3 (partial)"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
grep -q "partial answer: node quiet .* no answer for 1 s" "$TMPD/fs.err" ||
    fail "front-end, silent node: $(cat "$TMPD/fs.err")"
[ "$ms" -lt 5000 ] || fail "front-end, silent node: $ms ms"
a=$("$TM" query -s "$TMPD/s1" --count tcp | cut -d' ' -f1)
b=$("$TM" query -s "$TMPD/s3" --count tcp | cut -d' ' -f1)
grep -q "^$((a + b)) packets" "$TMPD/fs.out" ||
    fail "front-end, silent node: $(cat "$TMPD/fs.out"), want $((a + b)) packets"
grep -q "partial answer: node quiet" "$TMPD/front2.err" ||
    fail "the front-end does not log the partial answer"
echo "ok: the front-end (over TCP, with its token) with a silent node: partial after $ms ms, $((a + b)) packets from the others"

kill "$FE" "$FE2"
wait "$FE" "$FE2" 2>/dev/null
[ -e "$TMPD/front.sock" ] && fail "the front-end left its socket behind"
grep -l "Sanitizer\|runtime error" "$TMPD"/*.err && fail "sanitizer reports"
echo "ok: cluster"
