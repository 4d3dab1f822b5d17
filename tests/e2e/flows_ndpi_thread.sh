#!/usr/bin/env bash
# End-to-end: nDPI on its own thread (ndpi.thread: true, the default), or
# on three (ndpi.threads: 3), changes nothing but the time: `tm flows
# --json --stats` writes the same records, byte for byte, and the same
# counters as with nDPI inline, for
#   - the documented example configuration (classes that wait for nDPI:
#     pending connections, decided on the verdict),
#   - the same with a pool of 8 nDPI states (states taken back from idle
#     flows, pending ones among them),
#   - the built-in configuration,
# on a gen-trace capture and on the nDPI fixtures (real payloads).
#
# Env: TM, TM_SRC.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-ndpi-thread.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT

python3 "$GEN" --seed 5 --conns 4000 --mix default -o "$TMPD/t.pcap" \
    2>/dev/null || { echo "gen-trace failed"; exit 1; }

# config NAME THREAD BASE: BASE (a file or empty) plus ndpi settings
config() {
	local out="$TMPD/$1-$2.yaml"
	if [ -n "$3" ]; then
		awk '/^[^ #]/ { skip = 0 } /^ndpi:/ { skip = 1 } !skip' \
		    "$3" >"$out"
	else
		: >"$out"
	fi
	{
		echo "ndpi:"
		case $2 in
		true | false) echo "  thread: $2" ;;
		*) echo "  thread: true"; echo "  threads: $2" ;;
		esac
		[ "$1" = tiny ] && echo "  max_flows: 8"
	} >>"$out"
	echo "$out"
}

fail=0
for pcap in "$TMPD/t.pcap" "$TM_SRC"/tests/fixtures/ndpi/apps-*.pcap; do
	for name in example tiny builtin; do
		case $name in
		builtin) base="" ;;
		*) base="$TM_SRC/docs/timemachine.example.yaml" ;;
		esac
		for th in true false 3; do
			"$TM" flows -r "$pcap" --json --stats \
			    -c "$(config "$name" "$th" "$base")" \
			    >"$TMPD/out-$th" 2>"$TMPD/stats-$th" || fail=1
			grep -v -e '^max_rss_kb' -e '^ndpi_busy_peak' \
			    "$TMPD/stats-$th" >"$TMPD/st-$th"
		done
		label="$(basename "$pcap") $name"
		same=1
		for th in true 3; do
			if ! cmp -s "$TMPD/out-$th" "$TMPD/out-false" ||
			    ! cmp -s "$TMPD/st-$th" "$TMPD/st-false"; then
				echo "$label: nDPI threads '$th' and inline differ:"
				diff "$TMPD/out-$th" "$TMPD/out-false" | head -4
				diff "$TMPD/st-$th" "$TMPD/st-false" | head -4
				same=0
				fail=1
			fi
		done
		if [ "$same" = 1 ]; then
			echo "$label: same $(wc -l <"$TMPD/out-true") records," \
			    "$(awk '$1=="ndpi_reclaimed"{r=$2}
			    $1=="class_pending"{p=$2} END{print p " pending, " r \
			    " reclaimed"}' "$TMPD/stats-true")"
		fi
	done
done

if [ "$fail" -eq 0 ]; then
	echo "flows_ndpi_thread: PASS"
	exit 0
fi
echo "flows_ndpi_thread: FAIL"
exit 1
