#!/usr/bin/env bash
# End-to-end: tm's behaviour on bad input and bad options.
#
#  - `tm decode -r` on a missing file, an empty file, a file that is not a
#    capture: a message naming the file on stderr, nothing on stdout,
#    non-zero exit;
#  - a capture cut in the middle of a record (pcap: inside a packet's data
#    and inside a record header; pcapng: inside a block): the packets
#    before the cut are printed, then an error naming the file, non-zero
#    exit (as tcpdump does);
#  - usage errors exit 2 with a message: bad --bind specs (no '=', no ':',
#    unknown dissector, unknown table, value not a number or out of range),
#    bad --max-depth (0, 65, not a number), no -r, an unknown option, an
#    extra argument; a good --bind and --max-depth are accepted;
#  - `tm plugins --plugin-dir DIR` where DIR holds a text file named x.so
#    and a real shared object without the entry symbol: both refused, each
#    refusal naming its file with a reason; the built-in modules are still
#    loaded; exit status 1. `tm decode` with the same DIR still decodes.
#
# Env: TM (the tm binary), TM_SRC. KEEP=1 keeps the temp dir.
set -u

: "${TM:?TM must name the tm binary}"
: "${TM_SRC:?TM_SRC must name the source tree}"
unset TM_PLUGIN_PATH

W=$(mktemp -d "${TMPDIR:-/tmp}/tm-cli.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$W"' EXIT
else
	echo "keeping $W"
fi

pass=0
fail=0
warn=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
note() { warn=$((warn + 1)); echo "WARN - $*"; }
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# run NAME ARGS...: runs tm, keeps $W/NAME.out, $W/NAME.err, sets $rc
run() {
	local name=$1; shift
	"$TM" "$@" >"$W/$name.out" 2>"$W/$name.err"
	rc=$?
}
# expect_fail NAME WANT_RC PATTERN ARGS...: exit WANT_RC ('nz' = any
# non-zero, but not a crash), stderr matching PATTERN, stdout empty
expect_fail() {
	local name=$1 want=$2 pat=$3; shift 3
	run "$name" "$@"
	local msg
	msg=$(head -c 300 "$W/$name.err" | tr '\n' ' ')
	if [ "$rc" -ge 128 ]; then
		bad "tm $* crashed (exit $rc): $msg"
		return
	fi
	if [ "$want" = nz ]; then
		check "tm $*: non-zero exit (got $rc)" test "$rc" -ne 0
	else
		check "tm $*: exit $want (got $rc)" test "$rc" -eq "$want"
	fi
	check "tm $*: says why on stderr ($msg)" grep -qiE -- "$pat" "$W/$name.err"
	check "tm $*: prints nothing on stdout" test ! -s "$W/$name.out"
}

# ---- captures made here (python3 stdlib) ------------------------------------
python3 - "$W" <<'EOF'
import struct, sys
w = sys.argv[1]

def frame(i):
    payload = bytes(range(32))
    udp = struct.pack("!HHHH", 1000 + i, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip

frames = [frame(i) for i in range(1, 4)]
# classic pcap, 3 records
hdr = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
recs = [struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f
        for i, f in enumerate(frames)]
good = hdr + b"".join(recs)
open(w + "/good.pcap", "wb").write(good)
before3 = len(hdr) + len(recs[0]) + len(recs[1])
# cut inside the third record's data, and inside its 16-byte record header
open(w + "/cut-data.pcap", "wb").write(good[:before3 + 16 + 20])
open(w + "/cut-rechdr.pcap", "wb").write(good[:before3 + 7])
# only part of the file header
open(w + "/cut-filehdr.pcap", "wb").write(good[:10])

# pcapng: SHB, IDB, 3 EPBs; cut inside the third EPB
def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack("<HHI", 1, 0, 65535))
epbs = [block(6, struct.pack("<IIIII", 0, 0, i, len(f), len(f)) + f)
        for i, f in enumerate(frames)]
ng = shb + idb + b"".join(epbs)
open(w + "/good.pcapng", "wb").write(ng)
open(w + "/cut.pcapng", "wb").write(ng[:len(ng) - len(epbs[2]) + 30])
EOF

# sanity: the uncut captures decode fully
for f in good.pcap good.pcapng; do
	run "$f" decode --json -r "$W/$f"
	check "tm decode $f: exit 0, 3 frames, quiet" \
		test "$rc" -eq 0 -a "$(wc -l <"$W/$f.out")" -eq 3 -a ! -s "$W/$f.err"
done

# ---- unreadable inputs --------------------------------------------------------
expect_fail missing nz "no-such-file\.pcap" decode -r "$W/no-such-file.pcap"
: >"$W/empty.pcap"
expect_fail empty nz "empty\.pcap" decode -r "$W/empty.pcap"
printf 'this is not a capture file, just some text\n%.0s' 1 2 3 >"$W/notcap.pcap"
expect_fail notcap nz "notcap\.pcap" decode -r "$W/notcap.pcap"
expect_fail cutfilehdr nz "cut-filehdr\.pcap" decode -r "$W/cut-filehdr.pcap"
expect_fail dir nz "$(basename "$W")" decode -r "$W"

# ---- truncated captures: the packets before, then an error ---------------
for f in cut-data.pcap cut-rechdr.pcap cut.pcapng; do
	for fmt in --json ""; do
		run "$f$fmt" decode $fmt -r "$W/$f"
		msg=$(head -c 300 "$W/$f$fmt.err" | tr '\n' ' ')
		if [ "$rc" -ge 128 ]; then
			bad "tm decode $fmt $f crashed (exit $rc)"
			continue
		fi
		check "tm decode $fmt $f: non-zero exit (got $rc)" test "$rc" -ne 0
		check "tm decode $fmt $f: the 2 whole packets are printed ($(wc -l <"$W/$f$fmt.out") lines)" \
			test "$(wc -l <"$W/$f$fmt.out")" -eq 2
		check "tm decode $fmt $f: error names the file ($msg)" grep -q -- "$f" "$W/$f$fmt.err"
	done
	if [ -n "$(sed -n 2p "$W/$f--json.out")" ]; then
		check "tm decode --json $f: the printed packets are frames 1 and 2, whole JSON" \
			python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; sys.exit(0 if [j["frame"] for j in l]==[1,2] else 1)' "$W/$f--json.out"
	fi
done

# ---- usage errors exit 2 ------------------------------------------------------
G="$W/good.pcap"
expect_fail bind1 2 "bind" decode -r "$G" --bind vxlan
expect_fail bind2 2 "bind" decode -r "$G" --bind vxlan=udp.port
expect_fail bind3 2 "bind" decode -r "$G" --bind =udp.port:4789
expect_fail bind4 2 "no-such-dissector" decode -r "$G" --bind no-such-dissector=udp.port:4789
expect_fail bind5 2 "nosuch\.table" decode -r "$G" --bind udp=nosuch.table:1
expect_fail bind6 2 "70000" decode -r "$G" --bind udp=udp.port:70000
expect_fail bind7 2 "abc" decode -r "$G" --bind udp=udp.port:abc
expect_fail bind8 2 "bind" decode -r "$G" --bind udp=udp.port:
expect_fail bind9 2 "bind" decode -r "$G" --bind udp=udp.port:-1
expect_fail depth1 2 "max-depth" decode -r "$G" --max-depth 0
expect_fail depth2 2 "max-depth" decode -r "$G" --max-depth 65
expect_fail depth3 2 "max-depth" decode -r "$G" --max-depth lots
expect_fail depth4 2 "max-depth" decode -r "$G" --max-depth ""
expect_fail depth5 2 "max-depth" decode -r "$G" --max-depth 3x
expect_fail nofile 2 "usage" decode --json
expect_fail badopt 2 "usage|unrecognized|invalid" decode -r "$G" --no-such-option
expect_fail extra 2 "usage" decode -r "$G" stray-argument
expect_fail plugbind 2 "bind" plugins --bind vxlan
expect_fail plugdepth 2 "max-depth" plugins --max-depth 0
run goodopts decode --json -r "$G" --bind udp=udp.port:0x1234 --max-depth 1
check "a good --bind (hex value) and --max-depth 1 are accepted (exit $rc, $(wc -l <"$W/goodopts.out") frames)" \
	test "$rc" -eq 0 -a "$(wc -l <"$W/goodopts.out")" -eq 3 -a ! -s "$W/goodopts.err"

# ---- tm plugins with bogus modules ----------------------------------------------
PD="$W/plugins"
mkdir -p "$PD"
echo "this is not a shared object" >"$PD/x.so"
echo 'int not_a_plugin(void) { return 42; }' >"$W/noentry.c"
if cc -shared -fPIC -o "$PD/noentry.so" "$W/noentry.c" 2>"$W/cc.err"; then
	have_noentry=1
else
	have_noentry=
	cat "$W/cc.err"
	bad "cc -shared builds a shared object without the entry symbol"
fi
run plugins plugins --plugin-dir "$PD"
check "tm plugins with refused modules exits 1 (got $rc)" test "$rc" -eq 1
check "tm plugins lists a 'refused:' section" grep -q '^refused:' "$W/plugins.out"
xline=$(grep -F "$PD/x.so" "$W/plugins.out" | head -1)
check "x.so (a text file) is refused, naming the file and a reason ($xline)" \
	bash -c "grep -F '$PD/x.so: ' '$W/plugins.out' | grep -qE '^[[:space:]]*$PD/x.so: .+'"
case "$xline" in
*"not found"*|*"No such file"*)
	note "x.so's refusal says the file is missing, but it exists (it is not a shared object): ($xline)";;
esac
if [ -n "$have_noentry" ]; then
	nline=$(grep -F "$PD/noentry.so" "$W/plugins.out" | head -1)
	check "noentry.so is refused, the reason names the missing entry symbol ($nline)" \
		bash -c "printf '%s' '$nline' | grep -q 'tm_plugin_entry'"
fi
run plugins_json plugins --json --plugin-dir "$PD"
check "tm plugins --json exits 1 too (got $rc)" test "$rc" -eq 1
python3 - "$W/plugins_json.out" "$PD" "$have_noentry" >"$W/plugins_json.check" <<'EOF'
import json, os, sys
mods = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pd, want_noentry = sys.argv[2], sys.argv[3] == "1"
errs = []
byfile = {m["file"]: m for m in mods}
for name in ["x.so"] + (["noentry.so"] if want_noentry else []):
    m = byfile.get(os.path.join(pd, name))
    if m is None:
        errs.append("%s not listed" % name)
    elif m.get("loaded") or not m.get("reason"):
        errs.append("%s not refused with a reason: %r" % (name, m))
builtin = [m for m in mods if m.get("loaded")]
names = {d["name"] for m in builtin for d in m.get("dissectors", [])}
for want in ("eth", "ipv4", "ipv6", "tcp", "udp"):
    if not any(n == want or n.startswith(want) for n in names):
        errs.append("built-in dissector %s not loaded" % want)
print("%d modules loaded, %d refused; %s" % (len(builtin), len(mods) - len(builtin),
                                            "; ".join(errs) or "ok"))
sys.exit(1 if errs else 0)
EOF
prc=$?
check "tm plugins --json: both refused with reasons, built-ins loaded ($(cat "$W/plugins_json.check"))" \
	test "$prc" -eq 0
run decode_pd decode --json -r "$G" --plugin-dir "$PD"
check "tm decode --plugin-dir with bogus modules still decodes (exit $rc, $(wc -l <"$W/decode_pd.out") frames)" \
	test "$rc" -eq 0 -a "$(wc -l <"$W/decode_pd.out")" -eq 3

echo
if [ "$fail" -eq 0 ]; then
	echo "cli_errors: PASS ($pass checks, $warn warnings)"
	exit 0
fi
echo "cli_errors: FAIL ($fail of $((pass + fail)) checks failed, $warn warnings)"
exit 1
