#!/usr/bin/env bash
# End-to-end: `tm flows` against gen-trace's ground truth.
#
# For several seeds and the traffic mixes default and tunnels (plain too),
# generates a trace with shared/bench/gen-trace (--truth, --packet-truth),
# runs `tm flows --json` and checks with tests/tools/flows_check.py:
#   - exactly one flow per truth connection (twins that share an inner
#     5-tuple in different tunnels included), same tuple, VLANs, tunnels,
#     first timestamp, packets and bytes each way, a Community ID;
#   - stored_pkts / stored_bytes / cutoff_hit equal the original Time
#     Machine's cutoff rule, computed independently from the per-frame
#     truth, for the built-in configuration (one class, 20k), for
#     --cutoff SIZE and none, and for a configuration file with one class
#     and its own cutoff (with and without keep_control_packets).
#
# Env: TM, TM_SRC. Optional: FLOWS_SEEDS ("1 2 3"), FLOWS_CONNS (1500),
# FLOWS_MIXES ("default tunnels plain"), KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/flows_check.py"
SEEDS=${FLOWS_SEEDS:-"1 2 3"}
CONNS=${FLOWS_CONNS:-1500}
MIXES=${FLOWS_MIXES:-"default tunnels plain"}

if [ ! -r "$GEN" ]; then
	echo "flows_truth: $GEN not found" >&2
	exit 1
fi
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flows.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi

cat >"$TMPD/one-class.yaml" <<'EOF'
classes:
  - name: everything
    filter: ip or ip6 or arp
    cutoff: 3000
EOF
cat >"$TMPD/one-class-nocontrol.yaml" <<'EOF'
keep_control_packets: false
classes:
  - name: default
    cutoff: 1500
EOF

runs=0
failed=()
# run LABEL CUTOFF KEEP_CONTROL TM-ARGS...
run() {
	local label=$1 cutoff=$2 keep=$3
	shift 3
	runs=$((runs + 1))
	if ! "$TM" flows --json -r "$base.pcap" "$@" >"$base.flows" \
	    2>"$base.err" || [ -s "$base.err" ]; then
		echo "$label: tm flows $* failed:"
		head -5 "$base.err"
		failed+=("$label")
		return
	fi
	if ! python3 "$CHECK" --truth "$base.truth.tsv" \
	    --packet-truth "$base.pkt.tsv" --flows "$base.flows" \
	    --cutoff "$cutoff" --keep-control "$keep" --label "$label"; then
		failed+=("$label")
	fi
}

for mix in $MIXES; do
	for seed in $SEEDS; do
		base="$TMPD/$mix-$seed"
		gl="gen-trace --seed $seed --conns $CONNS --mix $mix"
		if ! python3 "$GEN" --seed "$seed" --conns "$CONNS" --mix "$mix" \
		    -o "$base.pcap" --truth "$base.truth.tsv" \
		    --packet-truth "$base.pkt.tsv" 2>"$base.gen.err"; then
			echo "$gl: gen-trace failed:"
			cat "$base.gen.err"
			failed+=("$gl")
			continue
		fi
		run "$gl (built-in, 20k)" 20k 1
		run "$gl --cutoff 1k" 1k 1 --cutoff 1k
		run "$gl --cutoff none" none 1 --cutoff none --no-ndpi
		run "$gl -c one class 3000" 3000 1 -c "$TMPD/one-class.yaml"
		run "$gl -c no control 1500" 1500 0 \
		    -c "$TMPD/one-class-nocontrol.yaml"
	done
done

echo
if [ "${#failed[@]}" -eq 0 ]; then
	echo "flows_truth: PASS ($runs runs)"
	exit 0
fi
echo "flows_truth: FAIL (${#failed[@]} of $runs runs):"
printf '  %s\n' "${failed[@]}"
exit 1
