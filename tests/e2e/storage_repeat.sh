#!/usr/bin/env bash
# End-to-end: a store depends on its input alone. The same gen-trace
# capture (seeds 5 and 9, small segments so that many close while nDPI is
# still at work on their connections) is stored with nDPI in line
# (ndpi.thread: false), on one thread, on three, and twice with the
# default (one per CPU); every segment (pcap and sidecar, applications
# included) and every flow file must be the same, byte for byte.
#
# The regression it guards: with nDPI on its own threads, an application
# named after a connection's last packet reached its segment's sidecar or
# not depending on how far the threads had got when the segment closed,
# or when the connection's table entry was reused meanwhile: the sidecars
# of threaded runs differed from the in-line run's in every run on seed 5,
# and one run in three from the one before.
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-repeat.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi

fails=0
fail() {
	echo "FAIL [$CASE]: $*"
	fails=$((fails + 1))
}

for seed in 5 9; do
	CASE="seed $seed"
	python3 "$GEN" --seed "$seed" --conns 4000 -o "$TMPD/t.pcap" \
	    2>/dev/null || { echo "gen-trace failed"; exit 1; }
	runs=()
	for v in "thread: false" "threads: 1" "threads: 3" "threads: auto" \
	    "threads: auto"; do
		n=${#runs[@]}
		printf 'storage:\n  segment_size: 1m\nndpi:\n  %s\n' "$v" \
		    >"$TMPD/c$n.yaml"
		"$TM" capture -r "$TMPD/t.pcap" -s "$TMPD/s$n" \
		    -c "$TMPD/c$n.yaml" -q 2>"$TMPD/err$n" ||
			fail "'$v': exit status $?: $(head -2 "$TMPD/err$n")"
		runs+=("$v")
	done
	segs=$(ls "$TMPD/s0/segments/default" | grep -c '\.idx$')
	[ "$segs" -ge 8 ] || fail "only $segs segments: too few closes"
	apps=$("$TM" query -s "$TMPD/s0" --count 'app dns' 2>/dev/null |
	    awk '{ print $1 }')
	[ "${apps:-0}" -gt 0 ] 2>/dev/null ||
		fail "no packet of a DNS connection found by app ('$apps')"
	for n in 1 2 3 4; do
		if ! diff -r "$TMPD/s0/segments" "$TMPD/s$n/segments" \
		    >"$TMPD/diff" 2>&1 ||
		    ! diff -r "$TMPD/s0/flows" "$TMPD/s$n/flows" \
		    >>"$TMPD/diff" 2>&1; then
			fail "'${runs[$n]}' differs from '${runs[0]}':" \
			    "$(head -3 "$TMPD/diff")"
		fi
	done
	echo "seed $seed: $segs segments, $apps packets of DNS" \
	    "connections; in line, 1, 3 and auto threads: same bytes"
	rm -rf "$TMPD"/s[0-9]*
done

if [ "$fails" -eq 0 ]; then
	echo "storage_repeat: PASS"
	exit 0
fi
echo "storage_repeat: FAIL ($fails)"
exit 1
