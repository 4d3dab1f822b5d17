#!/usr/bin/env bash
# End-to-end: `tm query` against gen-trace's ground truth and tcpdump.
#
# 1. A store of several gen-trace traces (default and tunnels mixes, two
#    of them over the same seconds so that segments overlap in time), with
#    small segments and two classes (tunnelled traffic apart), ingested
#    with `tm capture --cutoff none`. tests/tools/query_check.py asks many
#    random questions (5-tuples, hosts, nets, src/dst, ports, protocols,
#    tunnel types with identifiers, outer and any-layer hosts, VLANs,
#    SPIs, time windows, and/or/not) and compares the packets returned
#    with what the truth selects, hash by hash, twins included, in time
#    order.
# 2. A store of untunnelled traces (--mix plain): the same, plus every
#    answer equals `tcpdump -r SEGMENT FILTER` over all segments.
# 3. The pipe: `tm query ... | tcpdump -r -` reads the answer, --count
#    agrees; a nanosecond pcap comes out.
# 4. Bad queries: a syntax error names the column; unknown words, bad
#    addresses, reversed time ranges: a message and exit status 2; an empty
#    answer is not an error; a directory that is no store: exit 1.
#
# Env: TM, TM_SRC. Optional: QUERY_QUESTIONS (150), QUERY_CONNS (1200),
# QUERY_SEED (1), KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/query_check.py"
QUESTIONS=${QUERY_QUESTIONS:-150}
CONNS=${QUERY_CONNS:-1200}
SEED=${QUERY_SEED:-1}

if [ ! -r "$GEN" ]; then
	echo "query_truth: $GEN not found" >&2
	exit 1
fi
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-query.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
failed=()

cat >"$TMPD/conf.yaml" <<'EOF'
storage:
  segment_size: 256k
  directory_interval: 16
classes:
  - name: tunnelled
    filter: tunnel
    cutoff: none
  - name: default
    cutoff: none
EOF

# gen NAME SEED MIX START
gen() {
	python3 "$GEN" --seed "$2" --conns "$CONNS" --mix "$3" --start "$4" \
	    -o "$TMPD/$1.pcap" --truth "$TMPD/$1.truth.tsv" \
	    --packet-truth "$TMPD/$1.pkt.tsv" >/dev/null 2>"$TMPD/$1.gen.err" ||
	    { cat "$TMPD/$1.gen.err"; exit 1; }
	traces+=(--trace "$TMPD/$1.pcap:$TMPD/$1.truth.tsv:$TMPD/$1.pkt.tsv")
}

# ingest STORE NAME...
ingest() {
	local store=$1 n
	shift
	for n in "$@"; do
		if ! "$TM" capture -q -c "$TMPD/conf.yaml" -r "$TMPD/$n.pcap" \
		    -s "$store" --cutoff none 2>"$TMPD/capture.err"; then
			echo "query_truth: tm capture $n failed:"
			cat "$TMPD/capture.err"
			exit 1
		fi
	done
}

# 1. tunnels and everything else
traces=()
gen d1 $((SEED + 10)) default 1764000000
gen d2 $((SEED + 11)) default 1764000000
gen t1 $((SEED + 12)) tunnels 1764000300
gen d3 $((SEED + 13)) default 1764003600
ingest "$TMPD/S" d1 d2 t1 d3
nseg=$(find "$TMPD/S/segments" -name '*.idx' | wc -l)
echo "store S: $nseg segments, $(ls "$TMPD/S/segments" | wc -l) classes"
mkdir -p "$TMPD/w"
python3 "$CHECK" --tm "$TM" --store "$TMPD/S" "${traces[@]}" \
    --questions "$QUESTIONS" --seed "$SEED" --workdir "$TMPD/w" \
    --label "truth (default+tunnels, $nseg segments)" --show 10 ||
    failed+=("truth questions")

# 2. untunnelled: truth and tcpdump
traces=()
gen p1 $((SEED + 20)) plain 1764000000
gen p2 $((SEED + 21)) plain 1764000100
ingest "$TMPD/P" p1 p2
python3 "$CHECK" --tm "$TM" --store "$TMPD/P" "${traces[@]}" --tcpdump \
    --questions "$QUESTIONS" --seed "$SEED" --workdir "$TMPD/w" \
    --label "truth and tcpdump (plain)" --show 10 ||
    failed+=("plain questions against tcpdump")

# 3. through a pipe into tcpdump
q='tcp and port 443'
n_count=$("$TM" query -s "$TMPD/S" --count "$q" | cut -d' ' -f1)
n_pipe=$("$TM" query -s "$TMPD/S" "$q" | tcpdump -r - -nn -tt 2>/dev/null |
    grep -c '^[0-9]')
magic=$("$TM" query -s "$TMPD/S" "$q" | head -c 4 | od -An -tx1 | tr -d ' ')
if [ "$n_count" != "$n_pipe" ] || [ "$n_count" -eq 0 ] ||
    [ "$magic" != "4d3cb2a1" ]; then
	echo "pipe: --count says $n_count, tcpdump -r - read $n_pipe, magic" \
	    "$magic (want 4d3cb2a1, nanoseconds)"
	failed+=("pipe into tcpdump")
fi

# 4. errors: expect STATUS PATTERN ARGS...
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$TM" query "$@" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -Eq -- "$pat" "$TMPD/err" "$TMPD/out"
	then
		echo "tm query $*: exit $rc (want $want), output:"
		cat "$TMPD/err" "$TMPD/out" | head -5
		failed+=("tm query $*")
	fi
}
S=$TMPD/S
expect 2 'column 24: expected a port number' -s "$S" --count \
    'host 10.0.0.1 and port abc'
expect 2 "column 1: expected a predicate .* got 'hots'" -s "$S" --count \
    'hots 10.0.0.1'
expect 2 "column 14: expected an IPv4 or IPv6 address" -s "$S" --count \
    'tcp and host 10.0.0.300'
expect 2 'column 5: .*did you mean 10.0.0.0/8' -s "$S" --count \
    'net 10.0.0.1/8'
expect 2 "column 5: expected '\\)' to close" -s "$S" --count '(tcp'
expect 2 "'after 2026-11-27T00:00:00Z' is not before 'before 2026-11-26T00:00:00Z'" \
    -s "$S" --count 'after 2026-11-27 and before 2026-11-26'
expect 2 'time range is empty' -s "$S" --count \
    'before 1764000000 and (after 1764000100 or after 1764000200)'
expect 2 "column 7: expected a time" -s "$S" --count \
    'after yesterday'
expect 0 '^0 packets, 0 bytes' -s "$S" --count 'host 192.0.2.254 and port 1'
expect 0 '^0 packets, 0 bytes' -s "$S" --count 'last 1h'
expect 1 'not a store' -s "$TMPD/w" --count tcp
expect 2 '-s STORE is required' --count tcp
# an empty answer is still a pcap tcpdump reads
"$TM" query -s "$S" -w "$TMPD/empty.pcap" 'host 192.0.2.254' &&
    tcpdump -r "$TMPD/empty.pcap" >/dev/null 2>&1 ||
    failed+=("empty answer as pcap")

echo
if [ "${#failed[@]}" -eq 0 ]; then
	echo "query_truth: PASS"
	exit 0
fi
echo "query_truth: FAIL:"
printf '  %s\n' "${failed[@]}"
exit 1
