#!/usr/bin/env bash
# End-to-end: `tm capture` against the input and gen-trace's truth.
#
# For several seeds and traffic mixes:
#   - no cutoff: the store's segments, merged in time order, hold exactly
#     the input's packets (tests/tools/storage_check.py packets: every
#     stored packet is one input frame byte for byte, each input frame
#     once, each segment in input order), every sidecar parses (an
#     independent reader) and agrees with its segment, and every sidecar
#     connection is exactly one truth connection (key, direction of each
#     packet, originator, VLANs, tunnel type, identifiers, outer
#     addresses); with the built-in configuration and with three classes,
#     small segments (so connections span segments) and a snap length;
#   - cutoffs (3000 and the built-in 20k; keep_control_packets on and
#     off): the stored packets are exactly the frames the cutoff rule
#     keeps, and what the flow records of `tm flows -s STORE` say;
#   - `tm store check` passes, `tm flows -s` prints what `tm flows -r`
#     prints, tcpdump reads the segments, a second capture into the same
#     store continues its sequence numbers.
#
# Env: TM, TM_SRC. Optional: STORAGE_SEEDS ("1 2"), STORAGE_CONNS (2500),
# STORAGE_MIXES ("default tunnels plain"), KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/storage_check.py"
SEEDS=${STORAGE_SEEDS:-"1 2"}
CONNS=${STORAGE_CONNS:-2500}
MIXES=${STORAGE_MIXES:-"default tunnels plain"}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-storage.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi

cat >"$TMPD/classes.yaml" <<'EOF'
storage:
  segment_size: 128k
  directory_interval: 16
classes:
  - name: tunnelled
    filter: tunnel gre or tunnel vxlan or tunnel l2tp
    cutoff: none
  - name: dns
    filter: port 53
    cutoff: none
    snaplen: 96
  - name: default
    cutoff: none
EOF
cat >"$TMPD/nocontrol.yaml" <<'EOF'
keep_control_packets: false
storage:
  segment_size: 256k
classes:
  - name: default
    cutoff: 1500
EOF

runs=0
failed=()
fail() {
	echo "FAIL $*"
	failed+=("$1")
}

# capture LABEL STORE ARGS...: tm capture, then tm store check
capture() {
	local label=$1 store=$2
	shift 2
	runs=$((runs + 1))
	if ! "$TM" capture -q -r "$base.pcap" -s "$store" "$@" \
	    >"$base.out" 2>"$base.err" || [ -s "$base.err" ]; then
		fail "$label" "tm capture $*:"
		head -5 "$base.err"
		return 1
	fi
	if ! "$TM" store check "$store" >"$base.check" 2>&1; then
		fail "$label" "tm store check:"
		grep -v "^note" "$base.check" | head -5
		return 1
	fi
	return 0
}

for mix in $MIXES; do
	for seed in $SEEDS; do
		base="$TMPD/$mix-$seed"
		if ! python3 "$GEN" --seed "$seed" --conns "$CONNS" --mix "$mix" \
		    -o "$base.pcap" --truth "$base.truth.tsv" \
		    --packet-truth "$base.pkt.tsv" 2>"$base.gen.err"; then
			fail "$mix-$seed" "gen-trace:"
			cat "$base.gen.err"
			continue
		fi
		truth=(--truth "$base.truth.tsv" --packet-truth "$base.pkt.tsv")

		# no cutoff, built-in configuration: one class, one segment
		l="$mix-$seed none"
		if capture "$l" "$base.st1" --cutoff none; then
			python3 "$CHECK" packets --input "$base.pcap" \
			    --store "$base.st1" "${truth[@]}" --expect-cut 0 ||
			    fail "$l"
		fi

		# three classes, small segments, a snap length
		l="$mix-$seed classes"
		if capture "$l" "$base.st2" -c "$TMPD/classes.yaml"; then
			python3 "$CHECK" packets --input "$base.pcap" \
			    --store "$base.st2" "${truth[@]}" || fail "$l"
			# every DNS packet cut to 96 bytes at most
			for f in "$base.st2"/segments/dns/*.pcap; do
				[ -e "$f" ] || continue
				big=$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(); o = 24; n = 0
while o < len(b):
    cl = struct.unpack_from("<I", b, o + 8)[0]; n += cl > 96; o += 16 + cl
print(n)' "$f")
				[ "$big" = 0 ] || fail "$l" "$f: $big packets over the snap length"
			done
		fi

		# cutoffs: stored packets == the rule == the flow records
		for spec in "3000 1 --cutoff 3000" "20480 1" \
		    "1500 0 -c $TMPD/nocontrol.yaml"; do
			set -- $spec
			cut=$1 keep=$2
			shift 2
			l="$mix-$seed cutoff $cut keep $keep"
			st="$base.st-$cut-$keep"
			capture "$l" "$st" "$@" || continue
			if ! "$TM" flows -s "$st" --json >"$base.flows" \
			    2>"$base.flows.err"; then
				fail "$l" "tm flows -s:"
				head -3 "$base.flows.err"
				continue
			fi
			python3 "$CHECK" cutoff --input "$base.pcap" --store "$st" \
			    --flows "$base.flows" --packet-truth "$base.pkt.tsv" \
			    --cutoff "$cut" --keep-control "$keep" || fail "$l"
			# the flow store holds what tm flows -r prints
			if ! "$TM" flows -r "$base.pcap" --json "$@" \
			    >"$base.flows-r" 2>/dev/null ||
			    ! cmp -s "$base.flows" "$base.flows-r"; then
				fail "$l" "tm flows -s differs from tm flows -r"
			fi
		done
	done
done

# tcpdump reads a segment; a filter on the flow store; info
base="$TMPD/default-${SEEDS%% *}"
seg=$(ls "$base.st1"/segments/default/*.pcap 2>/dev/null | head -1)
if [ -z "$seg" ] || ! tcpdump -nr "$seg" >/dev/null 2>&1; then
	fail "tcpdump" "cannot read $seg"
fi
n_all=$("$TM" flows -s "$base.st1" | wc -l)
n_tcp=$("$TM" flows -s "$base.st1" tcp | wc -l)
if [ "$n_tcp" -le 0 ] || [ "$n_tcp" -ge "$n_all" ]; then
	fail "flows filter" "tcp: $n_tcp of $n_all"
fi
if ! "$TM" store info "$base.st2" | grep -q "^class dns: "; then
	fail "store info" "no class dns"
fi

# a second capture into the same store continues it
l="continue"
runs=$((runs + 1))
before=$(ls "$base.st1"/segments/default/*.idx | wc -l)
other="$TMPD/plain-${SEEDS%% *}.pcap"
[ -f "$other" ] || other="$base.pcap"
if "$TM" capture -q -r "$other" -s "$base.st1" --cutoff none 2>"$base.err" &&
    "$TM" store check "$base.st1" >/dev/null; then
	after=$(ls "$base.st1"/segments/default/*.idx | wc -l)
	last=$(ls "$base.st1"/segments/default/*.idx | tail -1)
	if [ "$after" -le "$before" ] || ! [[ "$last" == *-0000000$after.idx ]]; then
		fail "$l" "segments $before -> $after, last $last"
	fi
else
	fail "$l" "second capture failed"
	head -3 "$base.err"
fi

if [ ${#failed[@]} -ne 0 ]; then
	echo "storage_truth: ${#failed[@]} of $runs runs failed: ${failed[*]}"
	exit 1
fi
echo "storage_truth: all $runs runs match the input, the truth and the flow records"
