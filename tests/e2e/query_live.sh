#!/usr/bin/env bash
# End-to-end: `tm query` while `tm capture` writes the same store
# (tests/tools/query_live.py): a gen-trace capture is fed to
# `tm capture -r -` slowly, with 64 KB segments, while queries run in a
# loop; every answer is a valid, time-ordered subset of the trace that
# keeps everything earlier answers had, and at the end everything equals
# the trace.
#
# Env: TM, TM_SRC. Optional: KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-qlive.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi
cat >"$TMPD/conf.yaml" <<'EOF'
storage:
  segment_size: 64k
classes:
  - name: tunnelled
    filter: tunnel
    cutoff: none
  - name: default
    cutoff: none
EOF
python3 "$GEN" --seed 31 --conns 800 -o "$TMPD/t.pcap" >/dev/null 2>&1 || {
	echo "query_live: gen-trace failed"
	exit 1
}
if python3 "$TM_SRC/tests/tools/query_live.py" --tm "$TM" \
    --conf "$TMPD/conf.yaml" --pcap "$TMPD/t.pcap" --store "$TMPD/S" \
    --seconds 4 --workdir "$TMPD"; then
	echo "query_live: PASS"
	exit 0
fi
echo "query_live: FAIL"
exit 1
