#!/usr/bin/env bash
# End-to-end: a SYN flood of millions of one-packet connections (the case
# that ran the original Time Machine out of memory) stays within the
# configured connection limit. tests/tools/load_trace.py --kind syn writes
# N SYNs from distinct sources, with one long UDP conversation woven in (a
# packet every 1000 SYNs), straight into `tm flows -r -`:
#   - one flow record per connection: N + 1 lines;
#   - the table never holds more than --max-conns connections; every
#     connection beyond the limit evicted the least recently seen one
#     (evicted = N + 1 - max, counted), the rest end at end of input;
#   - the conversation that keeps talking survives the flood as ONE flow;
#   - memory is bounded: the peak RSS of the big flood is within a few MB
#     of a flood ten times smaller (same limit). The figures are printed.
#
# Env: TM, TM_SRC. Optional: FLOOD_N (3000000), FLOOD_MAX (100000).
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/tests/tools/load_trace.py"
N=${FLOOD_N:-3000000}
MAX=${FLOOD_MAX:-100000}
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flood.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT
fail=0

stat() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# flood N: runs one flood, leaves stats in $TMPD/stats.N
flood() {
	local n=$1 lines legit
	python3 "$GEN" --kind syn -n "$n" --legit 1000 |
	    "$TM" flows -r - --max-conns "$MAX" --stats 2>"$TMPD/stats.$n" |
	    awk '/ 10\.254\.0\.1:5353 > / { legit++ } END { print NR, legit + 0 }' \
	    >"$TMPD/count.$n"
	read -r lines legit <"$TMPD/count.$n"
	local peak evicted eof rss created
	peak=$(stat connections_peak "$TMPD/stats.$n")
	evicted=$(stat evicted "$TMPD/stats.$n")
	eof=$(stat ended_eof "$TMPD/stats.$n")
	created=$(stat connections "$TMPD/stats.$n")
	rss=$(stat max_rss_kb "$TMPD/stats.$n")
	echo "flood of $n SYNs, max $MAX: $lines flow records," \
	    "$created connections, peak $peak, evicted $evicted," \
	    "ended at eof $eof, peak RSS $rss kB"
	if [ "$lines" != $((n + 1)) ] || [ "$created" != $((n + 1)) ]; then
		echo "  expected $((n + 1)) connections and records"
		fail=1
	fi
	if [ -z "$peak" ] || [ "$peak" -gt "$MAX" ]; then
		echo "  the table went beyond its limit"
		fail=1
	fi
	if [ "$evicted" != $((n + 1 - MAX)) ] || [ "$eof" != "$MAX" ]; then
		echo "  expected $((n + 1 - MAX)) evicted and $MAX at eof"
		fail=1
	fi
	if [ "$legit" != 1 ]; then
		echo "  the long conversation became $legit flows, not 1"
		fail=1
	fi
}

flood $((N / 10))
small=$(stat max_rss_kb "$TMPD/stats.$((N / 10))")
flood "$N"
big=$(stat max_rss_kb "$TMPD/stats.$N")
echo "peak RSS: $small kB for $((N / 10)) SYNs, $big kB for $N SYNs" \
    "(entry $(stat conn_entry_bytes "$TMPD/stats.$N") bytes)"
if [ $((big - small)) -gt 16384 ]; then
	echo "memory grew with the flood: +$((big - small)) kB"
	fail=1
fi

if [ "$fail" -eq 0 ]; then
	echo "flows_flood: PASS"
	exit 0
fi
echo "flows_flood: FAIL"
exit 1
