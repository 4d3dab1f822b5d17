#!/usr/bin/env bash
# End-to-end: applications and classes decided by nDPI reach the store.
# The nDPI fixtures (DNS, TLS, HTTP exchanges, plain and inside GRE, L2TP,
# VXLAN) are captured with classes chosen by application
# (tests/fixtures/ndpi/apps.yaml), and with the built-in single class;
# for every connection apps.expected names:
#   - the flow store has its record with that class and application
#     (tm flows -s), as tm flows -r prints it;
#   - that class's segment holds the connection, and its sidecar names the
#     application (also when nDPI answered after the connection's last
#     packet: the record written at its end still reaches the open
#     segment);
#   - tm store check passes.
#
# Env: TM, TM_SRC. Optional: KEEP=1.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
FIX="$TM_SRC/tests/fixtures/ndpi"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-apps.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$TMPD"' EXIT
else
	echo "keeping $TMPD"
fi

fails=0
for spec in apps builtin; do
for pcap in "$FIX"/apps-*.pcap; do
	name=$(basename "$pcap" .pcap)-$spec
	st="$TMPD/$name"
	conf=(-c "$FIX/apps.yaml")
	exp="$FIX/apps.expected"
	if [ "$spec" = builtin ]; then
		# one class: nothing waits for nDPI, whose answers come
		# after the packets that carried them
		conf=()
		awk -F '\t' 'BEGIN { OFS = "\t" } /^#/ { next }
		    { $2 = "default"; print }' "$FIX/apps.expected" \
		    >"$TMPD/builtin.expected"
		exp="$TMPD/builtin.expected"
	fi
	if ! "$TM" capture -q -r "$pcap" -s "$st" "${conf[@]}" \
	    2>"$TMPD/err"; then
		echo "FAIL $name: tm capture:"
		head -3 "$TMPD/err"
		fails=$((fails + 1))
		continue
	fi
	"$TM" store check "$st" >/dev/null || {
		echo "FAIL $name: tm store check"
		fails=$((fails + 1))
	}
	"$TM" flows -s "$st" --json >"$TMPD/flows" &&
	"$TM" flows -r "$pcap" "${conf[@]}" --json >"$TMPD/flows-r" &&
	cmp -s "$TMPD/flows" "$TMPD/flows-r" || {
		echo "FAIL $name: tm flows -s differs from tm flows -r"
		fails=$((fails + 1))
	}
	python3 - "$st" "$exp" "$TMPD/flows" "$name" \
	    "$TM_SRC/tests/tools" <<'EOF' || fails=$((fails + 1))
import glob, json, os, sys
st, expected, flows, name, tools = sys.argv[1:6]
sys.path.insert(0, tools)
import storage_check as S
recs = [json.loads(l) for l in open(flows)]
bad = 0
for line in open(expected):
    if line.startswith('#') or not line.strip():
        continue
    port, cls, app = line.split('\t')[:3]
    port = int(port)
    r = [x for x in recs if x['resp_p'] == port]
    if len(r) != 1 or r[0]['class'] != cls or r[0]['app'] != app:
        print('FAIL %s: port %d: flow record %s' % (name, port, r))
        bad += 1
        continue
    found = []
    for idx in glob.glob(os.path.join(st, 'segments', cls, '*.idx')):
        sc = S.parse_sidecar(idx)
        found += [c['app'] for c in sc['conns']
                  if c['pb'] == port or c['pa'] == port]
    if app not in found:
        print('FAIL %s: port %d: class %s segments name %s, not %s' %
              (name, port, cls, found, app))
        bad += 1
sys.exit(1 if bad else 0)
EOF
done
done
if [ "$fails" -ne 0 ]; then
	echo "storage_apps: $fails failures"
	exit 1
fi
echo "storage_apps: classes and applications decided by nDPI are in the" \
    "store (flow records and sidecars)"
