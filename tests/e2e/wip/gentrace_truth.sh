#!/usr/bin/env bash
# End-to-end: tm decode against gen-trace's ground truth.
#
# For several seeds and the three traffic mixes (default, tunnels, plain),
# generates a trace with shared/bench/gen-trace (per-connection --truth and
# per-frame --packet-truth), decodes it with `tm decode --json` and checks
# every frame with tests/tools/check_truth.py: innermost l3, proto,
# addresses and ports in the packet's direction, SPI, VLAN ids, the tunnel
# stack (types, outer endpoints, GRE key / L2TP tunnel:session / VXLAN VNI),
# no events; one key hash per connection, opposite dir per direction, and
# distinct key hashes for distinct connections (the tunnel "twins").
# Then the same for the bundled tests/fixtures/sample.pcap and its truth.
#
# Env: TM (the tm binary), TM_SRC (the source tree; the shared data is
# $TM_SRC/../shared). Optional: GENTRACE_SEEDS ("1 2 3"), GENTRACE_CONNS (800),
# GENTRACE_MIXES ("default tunnels plain"), KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
SHARED="$TM_SRC/../shared"
GEN="$SHARED/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/check_truth.py"
SEEDS=${GENTRACE_SEEDS:-"1 2 3"}
CONNS=${GENTRACE_CONNS:-800}
MIXES=${GENTRACE_MIXES:-"default tunnels plain"}

if [ ! -r "$GEN" ]; then
	echo "gentrace_truth: $GEN not found" >&2
	exit 1
fi

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-gentrace.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi

runs=0
failed=()
for mix in $MIXES; do
	for seed in $SEEDS; do
		base="$TMPD/$mix-$seed"
		label="gen-trace --seed $seed --conns $CONNS --mix $mix"
		if ! python3 "$GEN" --seed "$seed" --conns "$CONNS" --mix "$mix" \
		    -o "$base.pcap" --truth "$base.truth.tsv" \
		    --packet-truth "$base.pkt.tsv" 2>"$base.gen.err"; then
			echo "$label: gen-trace failed:"
			cat "$base.gen.err"
			failed+=("$label")
			continue
		fi
		runs=$((runs + 1))
		"$TM" decode --json -r "$base.pcap" >"$base.jsonl" 2>"$base.err"
		rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$base.err" ]; then
			echo "$label: tm decode exited $rc, stderr:"
			head -5 "$base.err"
			failed+=("$label (tm exit $rc)")
		fi
		if ! python3 "$CHECK" --truth "$base.truth.tsv" \
		    --packet-truth "$base.pkt.tsv" --decoded "$base.jsonl" \
		    --label "$label"; then
			failed+=("$label")
		fi
	done
done

# the bundled sample (tests/fixtures/README.md) against its own truth
FIX="$TM_SRC/tests/fixtures"
if [ -r "$FIX/sample.pcap" ]; then
	label="tests/fixtures/sample.pcap"
	runs=$((runs + 1))
	"$TM" decode --json -r "$FIX/sample.pcap" >"$TMPD/sample.jsonl" 2>"$TMPD/sample.err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$TMPD/sample.err" ]; then
		echo "$label: tm decode exited $rc, stderr:"
		head -5 "$TMPD/sample.err"
		failed+=("$label (tm exit $rc)")
	fi
	if ! python3 "$CHECK" --truth "$FIX/sample.truth.tsv" \
	    --packet-truth "$FIX/sample.packets.tsv" --decoded "$TMPD/sample.jsonl" \
	    --label "$label"; then
		failed+=("$label")
	fi
fi

echo
if [ "${#failed[@]}" -eq 0 ]; then
	echo "gentrace_truth: PASS ($runs traces, every frame matches its truth)"
	exit 0
fi
echo "gentrace_truth: FAIL (${#failed[@]} of $runs traces):"
printf '  %s\n' "${failed[@]}"
exit 1
