#!/usr/bin/env bash
# End-to-end: a bad configuration or a bad filter stops `tm flows` and
# `tm plan` before anything starts: exit status 2, one message naming
# FILE:LINE:COLUMN (and the filter's own column for a filter), nothing on
# standard output, and the capture is never opened (it does not even
# exist here, so an error about it would show that something started).
# Bad command-line values (--cutoff) likewise. docs/timemachine.example.yaml
# itself must pass.
#
# Env: TM, TM_SRC.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tm-flows-conf.XXXXXX") || exit 1
trap 'rm -rf "$TMPD"' EXIT
NOFILE="$TMPD/never-opened.pcap"
fail=0

# expect NAME 'YAML' 'FILE-RELATIVE-PREFIX' 'TEXT'
expect() {
	local name=$1 yaml=$2 where=$3 what=$4 cf="$TMPD/$1.yaml" rc
	printf '%s' "$yaml" >"$cf"
	for cmd in flows plan; do
		"$TM" "$cmd" -r "$NOFILE" -c "$cf" >"$TMPD/out" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 2 ] || [ -s "$TMPD/out" ] ||
		    ! grep -qF "tm: $cf:$where: " "$TMPD/err" ||
		    ! grep -qF "$what" "$TMPD/err" ||
		    grep -qF "never-opened" "$TMPD/err"; then
			echo "$name ($cmd): expected exit 2 and '$cf:$where: ...$what',"
			echo "  got exit $rc: $(cat "$TMPD/err")"
			fail=1
		else
			echo "$name ($cmd): ok: $(cat "$TMPD/err")"
		fi
	done
}

expect unknown_key $'connections:\n  max: 10\n  maxx: 5\n' 3:3 \
    "unknown key 'maxx' in connections"
expect unknown_top $'clases:\n  - name: a\n' 1:1 "unknown key 'clases'"
expect bad_size $'classes:\n  - name: web\n    filter: tcp\n    cutoff: 20 k\n' \
    4:13 "cutoff: '20 k' is not a size"
expect bad_disk $'classes:\n  - name: web\n    filter: tcp\n    disk: 1.5g\n' \
    4:11 "disk: '1.5g' is not a size"
expect bad_duration $'connections:\n  timeouts:\n    udp: 1min\n' 3:10 \
    "timeouts.udp: '1min' is not a duration"
expect bad_filter $'classes:\n  - name: web\n    filter: tcp and port http\n' \
    3:26 "class 'web': bad filter: column 14"
expect bad_filter_quoted $'classes:\n  - name: web\n    filter: "host 300.1.2.3"\n' \
    3:19 "class 'web': bad filter: column 6"
expect unknown_app $'classes:\n  - name: web\n    filter: app NoSuchApp\n' \
    3:17 "unknown application 'NoSuchApp'"
expect duplicate_class $'classes:\n  - name: a\n    filter: tcp\n  - name: a\n    filter: udp\n' \
    4:11 "duplicate class 'a' (first defined at line 2)"
expect duplicate_key $'ndpi:\n  enabled: true\n  enabled: false\n' 3:3 \
    "'enabled' given twice"
expect bad_context $'connections:\n  context: vlan+tunnel\n' 2:12 \
    "'vlan+tunnel' is not one of vlan, tunnel, both, none"
expect yaml_syntax $'classes:\n  - name: a\n    filter: [tcp\n' 4:1 ""
expect default_filter $'classes:\n  - name: default\n    filter: tcp\n' 2:5 \
    "takes what no other class matches"

# command-line values
"$TM" flows -r "$NOFILE" --cutoff 20q >"$TMPD/out" 2>"$TMPD/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF -- "--cutoff: '20q' is not a size" \
    "$TMPD/err"; then
	echo "--cutoff 20q: expected exit 2, got $rc: $(cat "$TMPD/err")"
	fail=1
fi
"$TM" flows -r "$NOFILE" -c "$TMPD/missing.yaml" >"$TMPD/out" 2>"$TMPD/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF "missing.yaml: cannot open" "$TMPD/err"; then
	echo "missing config: expected exit 2, got $rc: $(cat "$TMPD/err")"
	fail=1
fi

# the documented example is a valid configuration
if ! "$TM" flows --check -c "$TM_SRC/docs/timemachine.example.yaml" \
    >"$TMPD/out" 2>"$TMPD/err"; then
	echo "docs/timemachine.example.yaml does not load: $(cat "$TMPD/err")"
	fail=1
fi

if [ "$fail" -eq 0 ]; then
	echo "flows_config_errors: PASS"
	exit 0
fi
echo "flows_config_errors: FAIL"
exit 1
