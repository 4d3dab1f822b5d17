#!/usr/bin/env bash
# End-to-end: `tm plan` agrees with `tm flows`. For every candidate cutoff
# of the plan, the bytes it says would be stored equal the sum of
# stored_bytes of `tm flows --cutoff C`, and the connections it says are
# kept whole are the flows without cutoff_hit; `none` keeps everything.
# The disk budget column is bytes / rate. Also checks the text table.
#
# Env: TM, TM_SRC.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
GEN="$TM_SRC/../shared/bench/gen-trace"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-plan.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT

python3 "$GEN" --seed 11 --conns 2000 --mix default -o "$TMPD/t.pcap" \
    2>/dev/null || { echo "gen-trace failed"; exit 1; }
if ! "$TM" plan -r "$TMPD/t.pcap" --disk 1g --json >"$TMPD/plan.jsonl" \
    2>"$TMPD/err"; then
	echo "tm plan failed: $(cat "$TMPD/err")"
	exit 1
fi
for c in 1k 2k 5k 10k 20k 50k 100k 1m none; do
	"$TM" flows -r "$TMPD/t.pcap" --json --no-ndpi --cutoff "$c" \
	    >"$TMPD/flows-$c.jsonl" || exit 1
done
python3 - "$TMPD" <<'EOF' || exit 1
import json, sys
d = sys.argv[1]
bad = 0
for line in open(d + "/plan.jsonl"):
    p = json.loads(line)
    c = p["cutoff"]
    flows = [json.loads(l) for l in open("%s/flows-%s.jsonl" % (d, c))]
    stored = sum(f["stored_bytes"] for f in flows)
    total = sum(f["orig_bytes"] + f["resp_bytes"] for f in flows)
    whole = sum(1 for f in flows if not f["cutoff_hit"])
    want = (len(flows), whole, total, stored)
    got = (p["connections"], p["whole"], p["bytes"], p["stored_bytes"])
    lasts = 1024 ** 3 / p["stored_bytes_per_s"]
    if got != want or abs(p["disk_lasts_s"] - lasts) > 1:
        print("cutoff %s: plan says conns/whole/bytes/stored %s, tm flows %s"
              % (c, got, want))
        bad = 1
    if c == "none" and (p["whole"] != p["connections"] or
                        p["stored_bytes"] != p["bytes"]):
        print("cutoff none keeps less than everything")
        bad = 1
    print("cutoff %-4s: %5.1f%% of connections whole, %5.1f%% of bytes" % (
        c, 100 * p["whole_share"], 100 * p["stored_share"]))
sys.exit(bad)
EOF
if ! "$TM" plan -r "$TMPD/t.pcap" --disk 500g >"$TMPD/table" 2>&1 ||
    ! grep -q "^20k " "$TMPD/table" || ! grep -q "disk lasts" "$TMPD/table"; then
	echo "tm plan table:"
	cat "$TMPD/table"
	exit 1
fi
if "$TM" plan -r "$TMPD/t.pcap" --disk 5x >/dev/null 2>&1; then
	echo "tm plan --disk 5x: accepted"
	exit 1
fi
echo "flows_plan: PASS"
