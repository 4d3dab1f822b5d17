#!/usr/bin/env bash
# End-to-end: load through `tm capture -r`. Two traces from
# tests/tools/load_trace.py: a SYN flood (N half-open TCP connections from
# distinct sources) and N one-packet UDP flows, each with one long UDP
# conversation woven in (a packet every 1000), a million packets per
# second of packet time (no idle timeout fires). connections.max is far
# below N, the rings are at their smallest (storage.memory 2m), cutoff
# none. What must hold, for each trace:
#   - the connection limit: the summary's peak <= connections.max, and
#     the table fills up to it;
#   - evictions are counted: every connection beyond the limit evicts one
#     (evicted = created - max, the rest end at end of input), and the
#     flow records say so (as many records with reason `evicted`, one
#     record per connection);
#   - the long conversation survives the flood as one connection;
#   - memory stays bounded by the configuration, not by the segment size
#     (the default, 256 MiB, would hold millions of these connections):
#     peak RSS (/usr/bin/time) is below the RSS of the same command on
#     1000 packets plus twice storage.memory (the rings, and the index of
#     the open segment, which ends when its connections would take more),
#     the 8 MiB flow ring, 512 bytes per connection of connections.max and
#     16 MiB; and it does not grow with the input:
#     a trace twice as long peaks within 8 MiB of the shorter one (both
#     far past the limit: the table, the rings and the open segment's
#     index are at their steady size);
#   - everything is stored: the store holds exactly as many packets as
#     the input (cutoff none), `tm store check` passes, nothing dropped.
# Heavier variants (millions of packets, bigger tables): bench/load_bench.sh.
#
# Env: TM, TM_SRC. Optional: LOAD_N (400000), LOAD_MAX (20000), KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/tests/tools/load_trace.py"
N=${LOAD_N:-400000}
MAX=${LOAD_MAX:-20000}
MEM_MB=2
[ -x /usr/bin/time ] || { echo "fault_load: needs /usr/bin/time"; exit 1; }
# AddressSanitizer keeps freed memory in quarantine and adds its shadow:
# the memory bounds are checked in the normal build only
asan=0
ldd "$TM" 2>/dev/null | grep -q libasan && asan=1
[ "$asan" = 1 ] && echo "fault_load: sanitizer build: RSS bounds not checked"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-load.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
cat >"$TMPD/c.yaml" <<EOF
storage:
  memory: ${MEM_MB}m
connections:
  max: $MAX
EOF

fails=0
fail() {
	echo "FAIL [$CASE]: $*"
	fails=$((fails + 1))
}

# run KIND COUNT: a capture of COUNT flood packets (+ the conversation)
# into a fresh store; leaves $TMPD/KIND.COUNT.{out,err,rss}
run() {
	local kind=$1 n=$2
	ST="$TMPD/st-$kind-$n"
	python3 "$GEN" --kind "$kind" -n "$n" --legit 1000 \
	    -o "$TMPD/$kind.pcap" || exit 1
	/usr/bin/time -f "%M" -o "$TMPD/$kind.$n.rss" \
	    "$TM" capture -r "$TMPD/$kind.pcap" -s "$ST" -c "$TMPD/c.yaml" \
	    --cutoff none >"$TMPD/$kind.$n.out" 2>"$TMPD/$kind.$n.err"
	rc=$?
}

for kind in syn udp; do
	CASE=$kind
	run "$kind" 1000
	[ "$rc" = 0 ] || fail "the small run: $(head -3 "$TMPD/$kind.1000.err")"
	base=$(tail -1 "$TMPD/$kind.1000.rss")
	run "$kind" $((N / 2))
	[ "$rc" = 0 ] || fail "the N/2 run: $(head -3 "$TMPD/$kind.$((N / 2)).err")"
	half=$(tail -1 "$TMPD/$kind.$((N / 2)).rss")
	run "$kind" "$N"
	[ "$rc" = 0 ] || fail "exit status $rc: $(head -3 "$TMPD/$kind.$N.err")"
	out="$TMPD/$kind.$N.out"
	rss=$(tail -1 "$TMPD/$kind.$N.rss")
	legit=$(( (N + 999) / 1000 ))
	total=$((N + legit))

	# the connection limit, evictions
	read -r created peak max evicted < <(awk '$1 == "connections" {
	    gsub(/[(),]/, ""); print $2, $5, $7, $8 }' "$out")
	echo "  $kind: $total packets, $created connections, peak $peak" \
	    "(max $max), $evicted evicted; peak RSS $rss kB ($half kB for" \
	    "N/2, $base kB for 1000 packets)"
	[ "$max" = "$MAX" ] || fail "max $max, configured $MAX"
	[ "$created" = $((N + 1)) ] ||
		fail "$created connections, expected $((N + 1))"
	[ "$peak" -le "$MAX" ] || fail "peak $peak beyond the limit $MAX"
	[ "$peak" = "$MAX" ] || fail "the table never filled ($peak of $MAX)"
	[ "$evicted" = $((created - MAX)) ] ||
		fail "$evicted evicted, expected $((created - MAX))"
	"$TM" flows -s "$ST" >"$TMPD/flows" 2>"$TMPD/flows.err" ||
		fail "tm flows -s: $(head -2 "$TMPD/flows.err")"
	[ "$(grep -c . "$TMPD/flows")" = "$created" ] ||
		fail "$(grep -c . "$TMPD/flows") flow records, expected $created"
	[ "$(grep -c ' evicted ' "$TMPD/flows")" = "$evicted" ] ||
		fail "$(grep -c ' evicted ' "$TMPD/flows") flow records say" \
		    "evicted, the summary $evicted"
	[ "$(grep -c ' 10\.254\.0\.1:5353 > ' "$TMPD/flows")" = 1 ] ||
		fail "the long conversation is not one flow"
	grep -q "10\.254\.0\.1:5353 > .* pkts $legit/0 " "$TMPD/flows" ||
		fail "the long conversation lost packets"

	# memory
	bound=$((base + (2 * MEM_MB + 8) * 1024 + MAX / 2 + 16 * 1024))
	if [ "$asan" = 0 ]; then
		[ "$rss" -le "$bound" ] ||
			fail "peak RSS $rss kB above the bound $bound kB"
		[ $((rss - half)) -le 8192 ] ||
			fail "RSS grew with the input: $half kB -> $rss kB"
	fi

	# everything stored
	grep -q "^packets stored    $total$" "$out" ||
		fail "stored: $(grep '^packets stored' "$out"), read $total"
	grep -q "^packets dropped" "$out" && fail "packets dropped"
	"$TM" store info "$ST" >"$TMPD/info" || fail "tm store info"
	grep -q "^total: .*, $total packets," "$TMPD/info" ||
		fail "the store holds: $(grep '^total' "$TMPD/info")"
	"$TM" store check "$ST" >"$TMPD/check" 2>&1 ||
		fail "tm store check: $(grep -m2 DAMAGE "$TMPD/check")"
	rm -rf "$TMPD"/st-"$kind"-*
done

if [ "$fails" -ne 0 ]; then
	echo "fault_load: $fails failures"
	exit 1
fi
echo "fault_load: the connection limit holds, evictions counted, memory" \
    "bounded by the configuration, every packet stored"
