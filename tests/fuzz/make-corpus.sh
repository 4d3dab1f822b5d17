#!/usr/bin/env bash
# Makes the seed corpus of fuzz_decode from real captures.
#
#   tests/fuzz/make-corpus.sh OUTDIR [CAPTURE-DIR...]
#
# Every frame of every pcap/pcapng under the capture directories (default:
# the shared captures, ../shared/pcaps/*/ beside the source tree) becomes
# one file: its link type as 2 bytes big-endian, then the captured bytes.
# Identical inputs are written once (files are named by their SHA-1, as
# libFuzzer names its own). So that every link type of the fuzzer has
# seeds, a few IPv4/IPv6 frames of each Ethernet capture are also written
# re-framed as raw IP (101, and 228/229), Linux cooked SLL (113) and SLL2
# (276), BSD loopback (0, host order) and OpenBSD loopback (108), PPP (9)
# and Cisco HDLC (50).
# python3 standard library only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 OUTDIR [CAPTURE-DIR...]" >&2
	exit 2
fi
out=$1
shift
if [ $# -eq 0 ]; then
	set -- "$here"/../../../shared/pcaps/*/
fi
mkdir -p "$out"
exec python3 - "$out" "$@" <<'EOF'
import hashlib, os, struct, sys

out, dirs = sys.argv[1], sys.argv[2:]

def pcap_frames(b):
    """(linktype, frame) of a classic pcap, either byte order."""
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    lt = struct.unpack(e + "I", b[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(b):
        incl = struct.unpack(e + "I", b[off + 8:off + 12])[0]
        off += 16
        if off + incl > len(b):
            break
        yield lt, b[off:off + incl]
        off += incl

def pcapng_frames(b):
    """(linktype, frame) of a pcapng: EPB, SPB and the obsolete PB."""
    e, off, ifaces = "<", 0, []
    while off + 12 <= len(b):
        btype = struct.unpack(e + "I", b[off:off + 4])[0]
        if btype == 0x0A0D0D0A:            # section header: byte order
            e = "<" if b[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", b[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(b):
            break
        body = b[off + 8:off + blen - 4]
        if btype == 1:                     # interface description
            ifaces.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:   # enhanced packet
            ifid, _, _, cap, _ = struct.unpack(e + "IIIII", body[:20])
            if ifid < len(ifaces):
                yield ifaces[ifid], body[20:20 + cap]
        elif btype == 3 and ifaces and len(body) >= 4:  # simple packet
            ln = struct.unpack(e + "I", body[:4])[0]
            yield ifaces[0], body[4:4 + ln]
        elif btype == 2 and len(body) >= 20:   # obsolete packet block
            ifid = struct.unpack(e + "H", body[:2])[0]
            cap = struct.unpack(e + "I", body[12:16])[0]
            if ifid < len(ifaces):
                yield ifaces[ifid], body[20:20 + cap]
        off += blen

def frames(path):
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] == b"\x0a\x0d\x0d\x0a":
        return pcapng_frames(b)
    return pcap_frames(b) or []

def reframe(frame):
    """Other link types' seeds from an Ethernet frame carrying IP."""
    if len(frame) < 34:
        return
    etype = struct.unpack("!H", frame[12:14])[0]
    if etype not in (0x0800, 0x86DD):
        return
    ip = frame[14:]
    v6 = etype == 0x86DD
    yield 101, ip
    yield 113, struct.pack("!HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0",
                           etype) + ip
    yield 276, struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6,
                           frame[6:12] + b"\0\0") + ip
    yield 0, struct.pack("<I", 24 if v6 else 2) + ip
    yield 108, struct.pack("!I", 24 if v6 else 2) + ip
    yield 9, struct.pack("!BBH", 0xFF, 0x03, 0x0057 if v6 else 0x0021) + ip
    yield 50, struct.pack("!BBH", 0x0F, 0x00, etype) + ip   # Cisco HDLC
    yield 229 if v6 else 228, ip                           # raw IPv6 / IPv4

written = seen = files = 0
def emit(lt, frame):
    global written, seen
    data = struct.pack("!H", lt & 0xFFFF) + frame
    seen += 1
    name = os.path.join(out, hashlib.sha1(data).hexdigest())
    if not os.path.exists(name):
        with open(name, "wb") as f:
            f.write(data)
        written += 1

for d in dirs:
    for root, _, names in os.walk(d):
        for n in sorted(names):
            if not (n.endswith(".pcap") or n.endswith(".pcapng") or
                    n.endswith(".cap")):
                continue
            files += 1
            reframed = 0
            for lt, fr in frames(os.path.join(root, n)):
                emit(lt, fr)
                if lt == 1 and reframed < 4:
                    before = reframed
                    for lt2, fr2 in reframe(fr):
                        emit(lt2, fr2)
                        reframed = before + 1
print("make-corpus: %d captures, %d inputs, %d new files in %s"
      % (files, seen, written, out))
EOF
