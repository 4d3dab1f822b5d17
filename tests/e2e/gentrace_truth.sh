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
set -uo pipefail

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
SHARED="$TM_SRC/../shared"
GEN="$SHARED/bench/gen-trace"
CHECK="$TM_SRC/tests/tools/check_truth.py"
SEEDS=${GENTRACE_SEEDS:-"1 2 3"}
CONNS=${GENTRACE_CONNS:-800}
MIXES=${GENTRACE_MIXES:-"default tunnels plain"}
# Known issues, reported but not failing. gre/gretap: a GRE tunnel carrying
# IP and one carrying Ethernet (protocol 0x6558) between the same outer
# endpoints, without a key, are different tunnels (Linux: a gre and a gretap
# device), but their tunnel context is the same (type gre, same endpoints),
# so twins across them share one key. Remove once the context tells them
# apart. Override with GENTRACE_KNOWN="" to see them fail.
KNOWN=${GENTRACE_KNOWN-}
known_args=()
for k in $KNOWN; do
	known_args+=(--known-collision "$k")
done

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
known_seen=0
failed=()

# check LABEL PCAP TRUTH PACKET_TRUTH OUTBASE: decode and compare
check() {
	local label=$1 pcap=$2 truth=$3 ptruth=$4 out=$5 rc
	runs=$((runs + 1))
	"$TM" decode --json -r "$pcap" >"$out.jsonl" 2>"$out.err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$out.err" ]; then
		echo "$label: tm decode exited $rc, stderr:"
		head -5 "$out.err"
		failed+=("$label (tm exit $rc)")
	fi
	if ! python3 "$CHECK" --truth "$truth" --packet-truth "$ptruth" \
	    --decoded "$out.jsonl" --label "$label" "${known_args[@]}" \
	    | tee "$out.check"; then
		failed+=("$label")
	fi
	known_seen=$((known_seen + $(grep -c '^  KNOWN' "$out.check")))
}

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
		check "$label" "$base.pcap" "$base.truth.tsv" "$base.pkt.tsv" "$base"
	done
done

# the bundled sample (tests/fixtures/README.md) against its own truth
FIX="$TM_SRC/tests/fixtures"
check tests/fixtures/sample.pcap "$FIX/sample.pcap" "$FIX/sample.truth.tsv" \
    "$FIX/sample.packets.tsv" "$TMPD/sample"

echo
if [ "${#failed[@]}" -eq 0 ]; then
	echo "gentrace_truth: PASS ($runs traces, every frame matches its truth;" \
	    "$known_seen known issue(s) reported above)"
	exit 0
fi
echo "gentrace_truth: FAIL (${#failed[@]} of $runs traces):"
printf '  %s\n' "${failed[@]}"
exit 1
