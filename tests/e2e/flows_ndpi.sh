#!/usr/bin/env bash
# End-to-end: nDPI classifies real application payloads (DNS, TLS with
# SNI, HTTP), plain and inside GRE, L2TP and VXLAN, and a class selected by
# `app` receives them (tests/fixtures/ndpi: captures, apps.yaml,
# apps.expected). Without nDPI (--no-ndpi) the same connections fall to the
# classes that do not test `app`. The TCP ones end by FIN both ways.
#
# Env: TM, TM_SRC.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
FIX="$TM_SRC/tests/fixtures/ndpi"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flows-ndpi.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT

fail=0
for kind in plain gre l2tp vxlan; do
	pcap="$FIX/apps-$kind.pcap"
	for mode in ndpi no-ndpi; do
		args=(-c "$FIX/apps.yaml")
		[ "$mode" = no-ndpi ] && args+=(--no-ndpi)
		if ! "$TM" flows --json -r "$pcap" "${args[@]}" \
		    >"$TMPD/out" 2>"$TMPD/err"; then
			echo "apps-$kind ($mode): tm flows failed:"
			cat "$TMPD/err"
			fail=1
			continue
		fi
		if ! python3 - "$FIX/apps.expected" "$TMPD/out" "$kind" "$mode" \
		    <<'EOF'
import json, sys
expected, out, kind, mode = sys.argv[1:5]
want = {}
for line in open(expected):
    if line.startswith("#") or not line.strip():
        continue
    port, cls, app, cls_off = line.split()
    want[int(port)] = (cls, app) if mode == "ndpi" else (cls_off, None)
flows = [json.loads(l) for l in open(out)]
tunnel = {"plain": None, "gre": "gre", "l2tp": "l2tp", "vxlan": "vxlan"}[kind]
bad = []
if len(flows) != len(want):
    bad.append("%d flows, expected %d" % (len(flows), len(want)))
for f in flows:
    w = want.get(f["resp_p"])
    got = (f["class"], f["app"])
    if w is None:
        bad.append("unexpected flow to port %s" % f["resp_p"])
    elif got != w:
        bad.append("port %d: class %s app %s, expected class %s app %s"
                   % (f["resp_p"], got[0], got[1], w[0], w[1]))
    types = [t["type"] for t in f["tunnels"]]
    if types != ([tunnel] if tunnel else []):
        bad.append("port %d: tunnels %s" % (f["resp_p"], types))
    if (f["orig_h"], f["resp_h"]) not in (("10.1.0.10", "10.2.0.20"),
                                          ("10.1.0.10", "10.2.0.53")):
        bad.append("port %d: %s > %s" % (f["resp_p"], f["orig_h"], f["resp_h"]))
    if f["proto"] == 6 and f["orig_pkts"] + f["resp_pkts"] != 10:
        bad.append("port %d: %d packets" % (f["resp_p"],
                                            f["orig_pkts"] + f["resp_pkts"]))
    # a class chosen by app stores what its cutoff says from the verdict on
    if mode == "ndpi" and f["class"] in ("tls", "web") and f["cutoff_hit"]:
        bad.append("port %d: cutoff hit in class %s" % (f["resp_p"], f["class"]))
for b in bad:
    print("apps-%s (%s): %s" % (kind, mode, b))
sys.exit(1 if bad else 0)
EOF
		then
			fail=1
		else
			echo "apps-$kind ($mode): ok"
		fi
	done
done

# the same verdicts in the text output
if ! "$TM" flows -r "$FIX/apps-vxlan.pcap" | grep -q "app TLS.YouTube"; then
	echo "text output lacks the application"
	fail=1
fi

if [ "$fail" -eq 0 ]; then
	echo "flows_ndpi: PASS"
	exit 0
fi
echo "flows_ndpi: FAIL"
exit 1
