#!/usr/bin/env bash
# End-to-end: what `cmake --install` puts in a prefix works on its own.
#
#  - `cmake --install $TM_BUILD --prefix $W/p` succeeds;
#  - $W/p/bin/tm plugins loads every module of $W/p/lib/timemachine/dissectors
#    (and only modules from there: none from the build tree), refuses none,
#    exits 0;
#  - $W/p/include/timemachine/dissector.h and $W/p/lib/pkgconfig/timemachine.pc
#    exist; `pkg-config --cflags timemachine` names the installed include
#    dir and --variable=plugindir the installed module dir;
#  - $W/p/bin/tm decode of tests/fixtures/sample.pcap exits 0, prints
#    nothing on stderr, one JSON line per frame, the same as the build's tm.
#
# Env: TM (the build's tm), TM_BUILD, TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_BUILD:?TM_BUILD must name the build directory}"
: "${TM_SRC:?TM_SRC must name the source tree}"
unset TM_PLUGIN_PATH

W=$(mktemp -d "${TMPDIR:-/tmp}/tm-install.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$W"' EXIT
else
	echo "keeping $W"
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo
	if [ "$fail" -eq 0 ]; then
		echo "install: PASS ($pass checks)"
		exit 0
	fi
	echo "install: FAIL ($fail of $((pass + fail)) checks failed)"
	exit 1
}

P="$W/p"
if cmake --install "$TM_BUILD" --prefix "$P" >"$W/install.log" 2>&1; then
	ok "cmake --install into a temporary prefix"
else
	cat "$W/install.log"
	bad "cmake --install into a temporary prefix"
	finish
fi
ITM="$P/bin/tm"
MODDIR="$P/lib/timemachine/dissectors"
check "bin/tm is installed and executable" test -x "$ITM"
check "the module directory holds modules" \
	bash -c "ls '$MODDIR'/*.so >/dev/null 2>&1"

# ---- tm plugins from the prefix ---------------------------------------------
"$ITM" plugins --json >"$W/plugins.json" 2>"$W/plugins.err"
rc=$?
check "installed tm plugins exits 0 (got $rc)" test "$rc" -eq 0
check "installed tm plugins prints nothing on stderr" test ! -s "$W/plugins.err"
python3 - "$W/plugins.json" "$MODDIR" >"$W/plugins.check" <<'EOF'
import json, os, sys
path, moddir = sys.argv[1], os.path.realpath(sys.argv[2])
mods = [json.loads(l) for l in open(path) if l.strip()]
files = {os.path.realpath(m["file"]): m for m in mods}
on_disk = {os.path.realpath(os.path.join(moddir, f))
           for f in os.listdir(moddir) if f.endswith(".so")}
errs = []
for f in sorted(on_disk - set(files)):
    errs.append("not listed: " + f)
for f, m in sorted(files.items()):
    if os.path.dirname(f) != moddir:
        errs.append("module from outside the prefix: " + f)
    elif not m.get("loaded"):
        errs.append("refused: %s: %s" % (f, m.get("reason")))
for e in errs:
    print(e)
print("%d modules listed, %d on disk" % (len(files), len(on_disk)))
sys.exit(1 if errs or not files else 0)
EOF
prc=$?
sed 's/^/    /' "$W/plugins.check"
check "tm plugins lists every module of $MODDIR, loaded, and nothing else" \
	test "$prc" -eq 0
check "tm plugins (text) names modules by their installed path" \
	bash -c "'$ITM' plugins 2>/dev/null | grep -q '$MODDIR/ipv4.so'"

# ---- what a plugin author needs ---------------------------------------------
check "include/timemachine/dissector.h is installed" \
	test -r "$P/include/timemachine/dissector.h"
check "the installed header is the source's" \
	cmp -s "$P/include/timemachine/dissector.h" \
	"$TM_SRC/plugins/include/timemachine/dissector.h"
check "lib/pkgconfig/timemachine.pc is installed" \
	test -r "$P/lib/pkgconfig/timemachine.pc"
if command -v pkg-config >/dev/null; then
	cflags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags timemachine)
	incdir=${cflags#-I}
	incdir=${incdir%% *}
	check "pkg-config --cflags timemachine points at the installed include dir ($cflags)" \
		test "$(realpath -m "$incdir")" = "$(realpath "$P/include")"
	pdir=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --variable=plugindir timemachine)
	check "pkg-config --variable=plugindir is the installed module dir" \
		test "$(realpath -m "$pdir")" = "$(realpath "$MODDIR")"
else
	bad "pkg-config is not installed"
fi

# ---- decoding from the prefix ----------------------------------------------
SAMPLE="$TM_SRC/tests/fixtures/sample.pcap"
"$ITM" decode --json -r "$SAMPLE" >"$W/inst.jsonl" 2>"$W/inst.err"
rc=$?
check "installed tm decodes the sample (exit $rc)" test "$rc" -eq 0
check "installed tm decode prints nothing on stderr" test ! -s "$W/inst.err"
frames=$(($(wc -l <"$TM_SRC/tests/fixtures/sample.packets.tsv")))
check "one JSON line per frame ($(wc -l <"$W/inst.jsonl") of $frames)" \
	test "$(wc -l <"$W/inst.jsonl")" -eq "$frames"
check "the decoded sample has tunnels and VLANs" \
	bash -c "grep -q '\"tunnels\":\[{' '$W/inst.jsonl' && grep -q '\"vlan\":\[[0-9]' '$W/inst.jsonl'"
"$TM" decode --json -r "$SAMPLE" >"$W/build.jsonl" 2>/dev/null
check "the installed tm decodes the sample exactly as the build's tm" \
	cmp -s "$W/inst.jsonl" "$W/build.jsonl"

finish
