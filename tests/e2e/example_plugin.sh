#!/usr/bin/env bash
# End-to-end: the example plugin (plugins/example, EtherIP) as a plugin
# author meets it.
#
#  1. installs the build into a temporary prefix and builds the example out
#     of tree with nothing but the installed header and timemachine.pc;
#  2. writes a small pcap of EtherIP packets (python3 stdlib only);
#  3. `tm decode --json` stops at the outer IP layer (proto 97) without the
#     plugin and goes through etherip/eth/ipv4/tcp|udp with --plugin-dir,
#     with TM_PLUGIN_PATH, and once installed into the prefix's plugindir;
#     the bad-version packet gets etherip.bad_version, and so on;
#  4. `tm plugins --plugin-dir DIR` lists it with its binding;
#  5. refusals, each naming the file: a dissector built for ABI 999, a
#     plugin built against a header of ABI 999, a module without the entry
#     symbol, a binding already taken (ip.proto 47 by gre, or 17 by udp
#     when gre is not there) unless --override NAME, and the same plugin
#     name loaded twice.
#
# Env: TM (the build's tm), TM_BUILD (its build dir), TM_SRC (the source
# tree). KEEP=1 keeps the temporary directory.
set -euo pipefail

: "${TM:?TM must name the tm binary}"
: "${TM_BUILD:?TM_BUILD must name the build directory}"
: "${TM_SRC:?TM_SRC must name the source tree}"

for tool in make cc pkg-config python3 cmake; do
	if ! command -v "$tool" >/dev/null; then
		echo "example_plugin: $tool is needed" >&2
		exit 1
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/tm-example.XXXXXX")
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$W"' EXIT
else
	echo "keeping $W"
fi

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: the command must succeed
check() {
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# ---- 1. install, then build the example out of tree ------------------------
P="$W/prefix"
cmake --install "$TM_BUILD" --prefix "$P" >"$W/install.log" 2>&1 || {
	cat "$W/install.log"; echo "example_plugin: install failed" >&2; exit 1; }
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
check "timemachine.pc is installed and found" \
	pkg-config --exists timemachine
inc=$(pkg-config --cflags timemachine)
inc=${inc%% *}			# "-I/path " -> "-I/path"
plugindir=$(pkg-config --variable=plugindir timemachine)
check "pkg-config --cflags points into the prefix ($inc)" \
	test -r "${inc#-I}/timemachine/dissector.h"
check "plugindir is the prefix's module directory" \
	test -d "$plugindir" -a -r "$plugindir/ipv4.so"

SRC="$W/src"			# a copy: nothing of the source tree is used
mkdir -p "$SRC"
cp "$TM_SRC/plugins/example/etherip.c" "$TM_SRC/plugins/example/test_etherip.c" \
	"$TM_SRC/plugins/example/Makefile" "$SRC/"
if make -C "$SRC" >"$W/make.log" 2>&1; then
	ok "make builds etherip.so out of tree"
else
	cat "$W/make.log"; bad "make builds etherip.so out of tree"; exit 1
fi
check "the build is warning-free" \
	bash -c "! grep -i warning '$W/make.log'"
check "make check (the example's own unit test)" \
	make -C "$SRC" check >"$W/check.log" 2>&1
DIR="$W/plugins"
mkdir -p "$DIR"
cp "$SRC/etherip.so" "$DIR/"

# ---- 2. the capture ---------------------------------------------------------
PCAP="$W/etherip.pcap"
python3 - "$PCAP" <<'EOF'
import socket, struct, sys

def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h + payload

def ipv6(src, dst, nh, payload):
    return (struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) +
            socket.inet_pton(socket.AF_INET6, src) +
            socket.inet_pton(socket.AF_INET6, dst) + payload)

def eth(etype, payload, dst=b"\x02\0\0\0\0\x02", src=b"\x02\0\0\0\0\x01"):
    return dst + src + struct.pack("!H", etype) + payload

def tcp(sport, dport):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535,
                       0, 0)

def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload

def etherip(frame, hdr=0x3000):
    return struct.pack("!H", hdr) + frame

inner_tcp = eth(0x0800, ipv4("10.1.0.1", "10.1.0.2", 6, tcp(40000, 80)),
                b"\x02\0\0\0\1\x02", b"\x02\0\0\0\1\x01")
inner_udp = eth(0x0800, ipv4("10.2.0.1", "10.2.0.2", 17,
                             udp(5353, 53, b"abcd")))
frames = [
    # 1: EtherIP over IPv4, TCP inside
    eth(0x0800, ipv4("192.0.2.1", "192.0.2.2", 97, etherip(inner_tcp))),
    # 2: EtherIP over IPv6, UDP inside
    eth(0x86dd, ipv6("2001:db8::1", "2001:db8::2", 97, etherip(inner_udp))),
    # 3: version 4: etherip.bad_version
    eth(0x0800, ipv4("192.0.2.1", "192.0.2.2", 97,
                     etherip(inner_tcp, 0x4000))),
    # 4: reserved bits set: an event, and decoding goes on
    eth(0x0800, ipv4("192.0.2.1", "192.0.2.2", 97,
                     etherip(inner_udp, 0x3005))),
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
        f.write(fr)
    # 5: the capture cut one byte into the EtherIP header (snap length)
    fr = frames[0]
    f.write(struct.pack("<IIII", 1700000010, 0, 14 + 20 + 1, len(fr)))
    f.write(fr[:14 + 20 + 1])
EOF

# check_json FILE MODE: asserts on `tm decode --json` output
check_json() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
mode = sys.argv[2]
errors = []
def expect(i, key, want):
    got = rows[i].get(key)
    if got != want:
        errors.append("frame %d: %s is %r, expected %r" % (i + 1, key, got, want))
if len(rows) != 5:
    print("expected 5 frames, got %d" % len(rows)); sys.exit(1)
if mode == "without":
    for i in range(4):
        expect(i, "proto", 97)
        expect(i, "events", [])
        expect(i, "tunnels", [])
        layers = rows[i]["layers"]
        if layers[-1] not in ("ipv4", "ipv6") or layers[0] != "eth":
            errors.append("frame %d: layers %r do not end at IP" % (i + 1, layers))
    expect(0, "src", "192.0.2.1")
    expect(1, "src", "2001:db8::1")
    expect(4, "layers", ["eth", "ipv4"])
else:
    expect(0, "layers", ["eth", "ipv4", "etherip", "eth", "ipv4", "tcp"])
    expect(0, "src", "10.1.0.1"); expect(0, "dst", "10.1.0.2")
    expect(0, "proto", 6); expect(0, "sport", 40000); expect(0, "dport", 80)
    expect(0, "tunnels", [{"type": "etherip", "src": "192.0.2.1",
                           "dst": "192.0.2.2"}])
    expect(0, "events", [])
    expect(1, "layers", ["eth", "ipv6", "etherip", "eth", "ipv4", "udp"])
    expect(1, "src", "10.2.0.1"); expect(1, "dst", "10.2.0.2")
    expect(1, "proto", 17); expect(1, "sport", 5353); expect(1, "dport", 53)
    expect(1, "tunnels", [{"type": "etherip", "src": "2001:db8::1",
                           "dst": "2001:db8::2"}])
    expect(2, "layers", ["eth", "ipv4", "etherip"])
    expect(2, "events", ["etherip.bad_version"])
    expect(2, "tunnels", [])
    expect(2, "src", "192.0.2.1")
    expect(3, "layers", ["eth", "ipv4", "etherip", "eth", "ipv4", "udp"])
    expect(3, "events", ["etherip.reserved_set"])
    expect(3, "dport", 53)
    expect(4, "layers", ["eth", "ipv4", "etherip"])
    expect(4, "events", ["etherip.truncated"])
    # the inner TCP and UDP conversations are told apart from each other
    # and from a plain one by their keys
    if rows[0]["key"] == rows[1]["key"]:
        errors.append("frames 1 and 2 share a key")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF
}

# ---- 3. decoding ------------------------------------------------------------
"$TM" decode --json -r "$PCAP" >"$W/without.jsonl" 2>"$W/without.err"
check "without the plugin: decoding stops at IP, proto 97" \
	check_json "$W/without.jsonl" without
"$TM" decode --json --plugin-dir "$DIR" -r "$PCAP" >"$W/with.jsonl" \
	2>"$W/with.err"
check "--plugin-dir: etherip/eth/ipv4/tcp|udp, inner addresses, events" \
	check_json "$W/with.jsonl" with
check "--plugin-dir: nothing on stderr" test ! -s "$W/with.err"
TM_PLUGIN_PATH="/nonexistent-dir-is-reported:$DIR" "$TM" decode --json \
	-r "$PCAP" >"$W/env.jsonl" 2>"$W/env.err"
check "TM_PLUGIN_PATH: the same" check_json "$W/env.jsonl" with
"$TM" decode -r "$PCAP" --plugin-dir "$DIR" >"$W/with.txt"
check "text output names the tunnel" \
	grep -q '\[etherip 192.0.2.1>192.0.2.2\]' "$W/with.txt"

# installed into the prefix's plugin directory, the installed tm loads it
make -C "$SRC" install >/dev/null
check "make install puts it into pkg-config's plugindir" \
	test -r "$plugindir/etherip.so"
"$P/bin/tm" decode --json -r "$PCAP" >"$W/installed.jsonl"
check "the installed tm loads it from its own plugin directory" \
	check_json "$W/installed.jsonl" with
rm -f "$plugindir/etherip.so"

# ---- 4. tm plugins ----------------------------------------------------------
"$TM" plugins --plugin-dir "$DIR" >"$W/plugins.txt"
check "tm plugins lists etherip with its file" \
	grep -q "^etherip 1.0  $DIR/etherip.so\$" "$W/plugins.txt"
check "tm plugins shows the binding ip.proto 97" \
	grep -q 'bound to ip.proto 97 (0x0061)' "$W/plugins.txt"
check "tm plugins shows its events" \
	grep -q 'events: etherip.truncated etherip.too_short etherip.bad_version etherip.reserved_set' \
	"$W/plugins.txt"
"$TM" plugins --json --plugin-dir "$DIR" >"$W/plugins.jsonl"
check "tm plugins --json has the binding" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m["name"] == "etherip":
        d = m["dissectors"][0]
        sys.exit(0 if m["loaded"] and d["bindings"] ==
                 [{"table": "ip.proto", "value": 97}] else 1)
sys.exit(1)' "$W/plugins.jsonl"

# ---- 5. refusals ------------------------------------------------------------
# refused NAME DIR PATTERN [tm options...]: `tm plugins` exits 1 and names
# DIR/etherip.so with a reason matching PATTERN; `tm decode` says so on
# stderr and still decodes without it
refused() {
	local what=$1 dir=$2 pat=$3 rc=0
	shift 3
	"$TM" plugins --plugin-dir "$dir" "$@" >"$W/r.out" 2>&1 || rc=$?
	if [ "$rc" -eq 1 ] && grep -q "^  $dir/etherip.so: .*$pat" "$W/r.out"
	then
		ok "$what: refused by tm plugins, naming the file"
	else
		cat "$W/r.out"
		bad "$what: refused by tm plugins (exit $rc)"
	fi
	"$TM" decode --json -r "$PCAP" --plugin-dir "$dir" "$@" \
		>"$W/r.jsonl" 2>"$W/r.err" || true
	if grep -q "^tm: plugin $dir/etherip.so refused: .*$pat" "$W/r.err" &&
	    check_json "$W/r.jsonl" without >/dev/null; then
		ok "$what: tm decode reports it and decodes without it"
	else
		cat "$W/r.err"
		bad "$what: tm decode reports it and decodes without it"
	fi
}

variant() {	# variant NAME SED-EXPRESSION [cc flags]: DIR with etherip.so
	local d="$W/$1" e=$2
	shift 2
	mkdir -p "$d"
	sed -e "$e" "$SRC/etherip.c" >"$d/etherip.c"
	cc -std=c11 -Wall -Wextra -fPIC -shared -fvisibility=hidden "$@" \
		$(pkg-config --cflags timemachine) -o "$d/etherip.so" "$d/etherip.c"
}

# a dissector whose abi field says 999
variant abi999 's/\.abi = TM_DISSECTOR_ABI,/.abi = 999,/'
check "the ABI 999 variant really says 999" \
	grep -q '\.abi = 999,' "$W/abi999/etherip.c"
refused "dissector ABI 999" "$W/abi999" \
	"dissector built for ABI 999, this tm speaks ABI 2"

# the whole plugin built against a header of another ABI
mkdir -p "$W/hdr999/timemachine"
sed -e 's/^#define TM_DISSECTOR_ABI [0-9]*u$/#define TM_DISSECTOR_ABI 999u/' \
	"$P/include/timemachine/dissector.h" >"$W/hdr999/timemachine/dissector.h"
check "the ABI 999 header really says 999" \
	grep -q '^#define TM_DISSECTOR_ABI 999u$' "$W/hdr999/timemachine/dissector.h"
variant plugin999 's/^//' -I"$W/hdr999"
refused "plugin built against ABI 999" "$W/plugin999" \
	"built for plugin ABI 999, this tm speaks ABI 2"

# built against a header of the same ABI number whose packet view differs
# (a field added without bumping the version): the size guard refuses it
mkdir -p "$W/hdrsize/timemachine"
sed -e 's/^\tuint32_t scratch;\(.*\)$/\tuint32_t scratch;\1\n\tuint64_t added_field;/' \
	"$P/include/timemachine/dissector.h" >"$W/hdrsize/timemachine/dissector.h"
check "the changed header really has the added field" \
	grep -q 'added_field' "$W/hdrsize/timemachine/dissector.h"
variant pluginsize 's/^//' -I"$W/hdrsize"
refused "plugin built against a header with another view size" "$W/pluginsize" \
	"structures have other sizes"

# a shared object that is no timemachine plugin
mkdir -p "$W/noentry"
echo 'int etherip_something(void); int etherip_something(void) { return 0; }' \
	>"$W/noentry/etherip.c"
cc -fPIC -shared -o "$W/noentry/etherip.so" "$W/noentry/etherip.c"
refused "no entry symbol" "$W/noentry" "no entry symbol tm_plugin_entry"

# a binding that a built-in dissector holds
"$TM" plugins >"$W/builtin.txt" || true	# (not a pipe: grep -q would cut it)
if grep -q 'bound to ip.proto 47 ' "$W/builtin.txt"; then
	taken=47 owner=gre
else
	taken=17 owner=udp
fi
variant taken "s/{ TM_TABLE_IP_PROTO, 97 }/{ TM_TABLE_IP_PROTO, $taken }/"
refused "binding ip.proto $taken (held by $owner)" "$W/taken" \
	"binding ip.proto $taken of 'etherip' is already taken by '$owner'.*--override"
for name in etherip; do	# the plugin name (the file stem is the same here)
	rc=0
	"$TM" plugins --plugin-dir "$W/taken" --override "$name" \
		>"$W/ov.txt" 2>&1 || rc=$?
	check "--override $name: accepted" test "$rc" -eq 0
	check "--override $name: etherip now holds ip.proto $taken" \
		python3 -c '
import sys, re
cur = None
for l in open(sys.argv[1]):
    m = re.match(r"  dissector (\S+):", l)
    if m: cur = m.group(1)
    if "bound to ip.proto %s " % sys.argv[2] in l:
        sys.exit(0 if cur == "etherip" else 1)
sys.exit(1)' "$W/ov.txt" "$taken"
done

# the same plugin name twice: --plugin-dir first, TM_PLUGIN_PATH second
mkdir -p "$W/twice"
cp "$DIR/etherip.so" "$W/twice/"
rc=0
TM_PLUGIN_PATH="$W/twice" "$TM" plugins --plugin-dir "$DIR" >"$W/twice.txt" \
	2>&1 || rc=$?
check "duplicate plugin name: the second copy is refused" \
	grep -q "^  $W/twice/etherip.so: a plugin named 'etherip' is already loaded from $DIR/etherip.so" \
	"$W/twice.txt"
check "duplicate plugin name: tm plugins exits 1" test "$rc" -eq 1
check "duplicate plugin name: the first copy is in use" \
	grep -q "^etherip 1.0  $DIR/etherip.so\$" "$W/twice.txt"

echo "example_plugin: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
