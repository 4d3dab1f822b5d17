#!/usr/bin/python3
"""Writes the decode fixtures: small captures, one per encapsulation theme and
per family of malformed packets, each with what it was built to show.

usage: /usr/bin/python3 tests/tools/make_decode_fixtures.py [OUTDIR]
(default OUTDIR: tests/fixtures/decode beside this script's tests/ directory)

Debian's python3-scapy is importable only by /usr/bin/python3, hence the
interpreter. Scapy builds the ordinary layers (IPv4, IPv6, TCP, UDP, ICMP,
SCTP, ARP) so that their lengths and checksums are right; tunnel headers and
deliberately broken fields are packed by hand with struct, byte for byte.

For every fixture NAME it writes
  NAME.pcap          the capture (classic pcap, microsecond timestamps)
  NAME.intent.json   what each frame was built to be: for every frame the
                     fields `tm decode --json` must show (layers, l3,
                     ethertype, proto, src, dst, sport, dport, spi, vlan,
                     tunnels, events, fragment, icmp_type, icmp_code,
                     icmp_id; null where the field must be absent or null),
                     plus the arguments tm and tshark need for the file
                     (tm_args, tshark_args).
These intents are written here by hand from the bytes built, never taken
from tm: tests/tools/check_golden.py checks that the golden files (tm's
output, reviewed) agree with them.

The output is deterministic: fixed timestamps, no random field left to
scapy, the random generator seeded; running it again gives identical bytes.
"""
import json
import os
import random
import struct
import sys

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (ARP, ICMP, IP, TCP, UDP, IPv6, Raw,  # noqa: E402
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting,
                       ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6DestUnreach, ICMPv6ND_NS, conf)
from scapy.layers.sctp import SCTP, SCTPChunkData, SCTPChunkInit  # noqa: E402

random.seed(20240601)
conf.verb = 0

TS0 = 1700000000          # first frame's timestamp (seconds)
SNAPLEN = 65535

# addresses: documentation ranges outside, private ones inside tunnels
O1, O2 = "192.0.2.1", "198.51.100.2"          # outer IPv4
I1, I2 = "10.0.0.1", "10.0.0.2"                # inner IPv4
O61, O62 = "2001:db8::1", "2001:db8::2"        # outer IPv6
I61, I62 = "fd00::1", "fd00::2"                # inner IPv6
MAC1 = bytes.fromhex("020000000001")
MAC2 = bytes.fromhex("020000000002")

LT_NULL, LT_ETH, LT_PPP, LT_PPP_HDLC, LT_RAW, LT_LOOP = 0, 1, 9, 50, 101, 108
LT_SLL, LT_SLL2 = 113, 276

FIXTURES = []


# ---- building blocks ---------------------------------------------------------

def eth(etype, payload, src=MAC1, dst=MAC2, pad=True):
    """An Ethernet II frame; padded to the 60-byte minimum like a NIC does."""
    f = dst + src + struct.pack("!H", etype) + payload
    if pad and len(f) < 60:
        f += b"\x00" * (60 - len(f))
    return f


def dot3(payload, length=None, src=MAC1, dst=MAC2, pad=True):
    """An IEEE 802.3 frame: a length instead of a type."""
    f = dst + src + struct.pack("!H", len(payload) if length is None else length) + payload
    if pad and len(f) < 60:
        f += b"\x00" * (60 - len(f))
    return f


def snap(etype, oui=0):
    return b"\xaa\xaa\x03" + struct.pack("!I", oui)[1:] + struct.pack("!H", etype)


def vtag(tci, etype):
    """The 4 bytes after a TPID: the TCI and the next type."""
    return struct.pack("!HH", tci, etype)


def v4(src, dst, upper, proto=None, **kw):
    """IPv4 bytes around a scapy layer or, with proto, around raw bytes."""
    if isinstance(upper, (bytes, bytearray)):
        return bytes(IP(src=src, dst=dst, proto=proto, **kw) / Raw(bytes(upper)))
    return bytes(IP(src=src, dst=dst, **kw) / upper)


def v6(src, dst, upper, nh=None, **kw):
    if isinstance(upper, (bytes, bytearray)):
        return bytes(IPv6(src=src, dst=dst, nh=nh, **kw) / Raw(bytes(upper)))
    return bytes(IPv6(src=src, dst=dst, **kw) / upper)


def tcp(sport, dport, flags="S", data=b""):
    p = TCP(sport=sport, dport=dport, flags=flags, seq=1000, ack=0 if "A" not in flags else 1)
    return p / Raw(data) if data else p


def udp(sport, dport, data=b""):
    return UDP(sport=sport, dport=dport) / Raw(bytes(data)) if data else UDP(sport=sport, dport=dport)


def csum16(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def gre(proto, payload=b"", key=None, seq=None, csum=False, flags=0, ver=0):
    """A GRE version 0 header (RFC 2784/2890) and its payload."""
    f = flags | ver
    if csum:
        f |= 0x8000
    if key is not None:
        f |= 0x2000
    if seq is not None:
        f |= 0x1000
    opt = b""
    if csum:
        opt += b"\x00\x00\x00\x00"
    if key is not None:
        opt += struct.pack("!I", key)
    if seq is not None:
        opt += struct.pack("!I", seq)
    h = struct.pack("!HH", f, proto) + opt
    if csum:
        c = csum16(h + payload)
        h = h[:4] + struct.pack("!H", c) + h[6:]
    return h + payload


def pptp_gre(call_id, payload, seq=None, ack=None, paylen=None):
    """An enhanced GRE (version 1) header of PPTP, RFC 2637."""
    f = 0x2001
    if seq is not None:
        f |= 0x1000
    if ack is not None:
        f |= 0x0080
    h = struct.pack("!HHHH", f, 0x880b, len(payload) if paylen is None else paylen, call_id)
    if seq is not None:
        h += struct.pack("!I", seq)
    if ack is not None:
        h += struct.pack("!I", ack)
    return h + payload


def vxlan(vni, payload, flags=0x08):
    return struct.pack("!B3sI", flags, b"\x00\x00\x00", vni << 8) + payload


def vxlan_gpe(vni, next_proto, payload, flags=0x0c):
    return struct.pack("!BBBBI", flags, 0, 0, next_proto, vni << 8) + payload


def geneve(vni, ptype, payload, options=b"", ver=0, optlen=None):
    ol = len(options) // 4 if optlen is None else optlen
    return struct.pack("!BBHI", (ver << 6) | ol, 0, ptype, vni << 8) + options + payload


def gtpu(teid, msgtype, payload, seq=None, exts=None, flags=None, length=None):
    """GTPv1-U: version 1, PT 1, and E/S flags as asked."""
    f = 0x30
    opt = b""
    if seq is not None or exts:
        if seq is not None:
            f |= 0x02
        if exts:
            f |= 0x04
        first = exts[0][0] if exts else 0
        opt = struct.pack("!HBB", seq or 0, 0, first)
        for i, (_t, content) in enumerate(exts or []):
            nxt = exts[i + 1][0] if i + 1 < len(exts) else 0
            body = content + bytes([nxt])
            assert (len(body) + 1) % 4 == 0
            opt += bytes([(len(body) + 1) // 4]) + body
    if flags is not None:
        f = flags
    body = opt + payload
    return struct.pack("!BBHI", f, msgtype, len(body) if length is None else length, teid) + body


def mpls(labels, payload, bos=True):
    """A label stack; S set on the last entry unless bos is False."""
    out = b""
    for i, lab in enumerate(labels):
        s = 1 if (bos and i == len(labels) - 1) else 0
        out += struct.pack("!I", (lab << 12) | (s << 8) | 64)
    return out + payload


def ppp_frame(proto, payload, acfc=False, pfc=False):
    h = b"" if acfc else b"\xff\x03"
    h += bytes([proto]) if pfc else struct.pack("!H", proto)
    return h + payload


def pppoe(code, session, payload, vt=0x11, length=None):
    return struct.pack("!BBHH", vt, code, session, len(payload) if length is None else length) + payload


def l2tp_v2_data(tunnel, session, payload, length=False, seq=False, offset=None):
    f = 0x0002
    if length:
        f |= 0x4000
    if seq:
        f |= 0x0800
    if offset is not None:
        f |= 0x0200
    body = struct.pack("!HH", tunnel, session)
    if seq:
        body += struct.pack("!HH", 1, 0)
    if offset is not None:
        body += struct.pack("!H", offset) + b"\x00" * offset
    if length:
        total = 4 + len(body) + len(payload)
        return struct.pack("!HH", f, total) + body + payload
    return struct.pack("!H", f) + body + payload


def l2tp_v2_control(tunnel, session, avps=b""):
    f = 0xc802
    body = struct.pack("!HHHH", tunnel, session, 0, 0) + avps
    return struct.pack("!HH", f, 4 + len(body)) + body


# An SCCRQ's first AVP: Message Type = 1 (mandatory, length 8)
SCCRQ_AVPS = struct.pack("!HHHH", 0x8008, 0, 0, 1)


def esp(spi, seq, ct=b"\x5a" * 24):
    return struct.pack("!II", spi, seq) + ct


def ah(nh, spi, seq, payload, plen=4, icv=None):
    """AH with payload length plen (32-bit words minus 2; 4 means a 12-byte
    ICV, as HMAC-SHA1-96 uses)."""
    n = (plen + 2) * 4 - 12
    if icv is None:
        icv = b"\xa5" * max(n, 0)
    if plen + 2 < 3:   # shorter than the fixed fields: no sequence number
        return struct.pack("!BBHI", nh, plen, 0, spi) + payload
    return struct.pack("!BBHII", nh, plen, 0, spi, seq) + icv + payload


# ---- fixtures ------------------------------------------------------------------

def T(typ, src=None, dst=None, **ids):
    """A tunnel object as tm prints it."""
    t = {"type": typ, "src": src, "dst": dst}
    t.update(ids)
    return t


class Fixture:
    def __init__(self, name, linktype, description, tm_args=(), tshark_args=()):
        self.name = name
        self.linktype = linktype
        self.description = description
        self.tm_args = list(tm_args)
        self.tshark_args = list(tshark_args)
        self.frames = []   # (data, wirelen, intent)
        FIXTURES.append(self)

    def add(self, data, what, layers, l3, ethertype, proto, src, dst,
            sport=None, dport=None, spi=None, vlan=(), tunnels=(), events=(),
            fragment=None, icmp=None, wirelen=None, caplen=None):
        """One frame: its bytes and every key field tm must show for it.
        caplen cuts the captured bytes (a snap length); wirelen is the
        length on the wire (default: the bytes given)."""
        data = bytes(data)
        wl = len(data) if wirelen is None else wirelen
        if caplen is not None:
            data = data[:caplen]
        intent = {
            "frame": len(self.frames) + 1, "what": what,
            "layers": list(layers), "l3": l3, "ethertype": ethertype,
            "proto": proto, "src": src, "dst": dst, "sport": sport,
            "dport": dport, "spi": spi, "vlan": list(vlan),
            "tunnels": list(tunnels), "events": list(events),
            "fragment": fragment,
            "icmp_type": icmp[0] if icmp else None,
            "icmp_code": icmp[1] if icmp else None,
            "icmp_id": icmp[2] if icmp else None,
        }
        self.frames.append((data, wl, intent))

    def write(self, outdir):
        path = os.path.join(outdir, self.name + ".pcap")
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, SNAPLEN, self.linktype))
            for i, (data, wl, _) in enumerate(self.frames):
                f.write(struct.pack("<IIII", TS0 + i, (i * 1000) % 1000000, len(data), wl))
                f.write(data)
        # one frame per line, so a diff shows which frame changed
        head = [("file", self.name + ".pcap"), ("description", self.description),
                ("linktype", self.linktype), ("tm_args", self.tm_args),
                ("tshark_args", self.tshark_args)]
        with open(os.path.join(outdir, self.name + ".intent.json"), "w") as f:
            f.write("{\n")
            for k, v in head:
                f.write(" %s: %s,\n" % (json.dumps(k), json.dumps(v)))
            f.write(' "frames": [\n')
            f.write(",\n".join("  " + json.dumps(fr[2]) for fr in self.frames))
            f.write("\n ]\n}\n")


E4, E6 = 0x0800, 0x86dd   # ethertypes


def build():
    # ---------------------------------------------------------------- Ethernet
    fx = Fixture("eth", LT_ETH, "Ethernet II, IEEE 802.3 with LLC/SNAP, plain LLC, an unbound ethertype")
    fx.add(eth(E4, v4(O1, O2, tcp(40000, 80))), "Ethernet II, IPv4, TCP SYN",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40000, 80)
    fx.add(eth(E6, v6(O61, O62, udp(5353, 53, b"\x12\x34" + b"\x00" * 10))), "Ethernet II, IPv6, UDP",
           ["eth", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 5353, 53)
    fx.add(dot3(snap(E4) + v4(O1, O2, udp(1024, 2048, b"snap"))), "802.3, LLC/SNAP OUI 00-00-00, IPv4, UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 1024, 2048)
    fx.add(dot3(snap(E4, 0xf8) + v4(O2, O1, udp(2048, 1024, b"8021h"))), "802.3, LLC/SNAP OUI 00-00-f8 (802.1H), IPv4, UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O2, O1, 2048, 1024)
    stp = b"\x42\x42\x03" + bytes(35)   # 802.2 LLC, STP BPDU
    fx.add(dot3(stp, dst=bytes.fromhex("0180c2000000")), "802.3, plain LLC (STP): no ethertype, terminal",
           ["eth"], "other", 0, None, None, None)
    fx.add(eth(0x88cc, bytes.fromhex("0207040200000000010403020001060200780000")),
           "Ethernet II, LLDP (0x88cc): nothing bound, terminal",
           ["eth"], "other", 0x88cc, None, None, None)
    fx.add(eth(E4, v4(O1, O2, udp(7, 7, b"ab"))), "IPv4/UDP in a frame padded to 60 bytes (trailer not payload)",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 7, 7)

    # ------------------------------------------------------------- Linux SLL
    def sll(proto, payload, hatype=1):
        return struct.pack("!HHH8sH", 0, hatype, 6, MAC1 + b"\x00\x00", proto) + payload

    fx = Fixture("sll", LT_SLL, "Linux cooked capture v1 (linktype 113)")
    fx.add(sll(E4, v4(O1, O2, tcp(40001, 443))), "SLL, IPv4, TCP",
           ["sll", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40001, 443)
    fx.add(sll(E6, v6(O61, O62, udp(40002, 123, b"ntp"))), "SLL, IPv6, UDP",
           ["sll", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40002, 123)
    fx.add(sll(0x0806, bytes(ARP(op=1, hwsrc="02:00:00:00:00:01", psrc="192.0.2.10", hwdst="00:00:00:00:00:00", pdst="192.0.2.11"))),
           "SLL, ARP request", ["sll", "arp"], "arp", 0x0806, None, "192.0.2.10", "192.0.2.11")
    fx.add(sll(E4, v4(I1, I2, udp(5000, 5001, b"ipgre")), hatype=778),
           "SLL from a GRE interface (ARPHRD_IPGRE): protocol is a GRE protocol type, IPv4",
           ["sll", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 5000, 5001)
    fx.add(sll(0x0004, snap(E4) + v4(O2, O1, udp(9, 9, b"llc"))), "SLL, 802.2 LLC/SNAP, IPv4, UDP",
           ["sll", "ipv4", "udp"], "ipv4", E4, 17, O2, O1, 9, 9)

    def sll2(proto, payload, hatype=1):
        return struct.pack("!HHIHBB8s", proto, 0, 2, hatype, 0, 6, MAC1 + b"\x00\x00") + payload

    fx = Fixture("sll2", LT_SLL2, "Linux cooked capture v2 (linktype 276)")
    fx.add(sll2(E4, v4(O1, O2, tcp(40003, 22))), "SLL2, IPv4, TCP",
           ["sll2", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40003, 22)
    fx.add(sll2(E6, v6(O61, O62, ICMPv6EchoRequest(id=0x4242, seq=1))), "SLL2, IPv6, ICMPv6 echo request",
           ["sll2", "ipv6", "icmpv6"], "ipv6", E6, 58, O61, O62, icmp=(128, 0, 0x4242))

    # ------------------------------------------------------------------- raw
    fx = Fixture("raw", LT_RAW, "raw IP (linktype 101): IPv4, IPv6, and a first nibble that is neither")
    fx.add(v4(O1, O2, udp(40004, 53, b"q")), "raw IPv4, UDP",
           ["raw", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40004, 53)
    fx.add(v6(O61, O62, tcp(40005, 80)), "raw IPv6, TCP",
           ["raw", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40005, 80)
    fx.add(b"\x55" + v4(O1, O2, udp(1, 2))[1:], "raw: version nibble 5 -> raw.bad_version",
           ["raw"], "other", 0, None, None, None, events=["raw.bad_version"])

    # ------------------------------------------------------------ null / loop
    fx = Fixture("null", LT_NULL, "BSD loopback (linktype 0): the family in either byte order, AF_INET6 values, an unknown family")
    fx.add(struct.pack("<I", 2) + v4(O1, O2, udp(40006, 53, b"le")), "AF_INET little-endian, IPv4, UDP",
           ["null", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40006, 53)
    fx.add(struct.pack(">I", 2) + v4(O2, O1, tcp(80, 40007, "SA")), "AF_INET big-endian, IPv4, TCP",
           ["null", "ipv4", "tcp"], "ipv4", E4, 6, O2, O1, 80, 40007)
    fx.add(struct.pack("<I", 24) + v6(O61, O62, udp(40008, 53, b"bsd")), "AF_INET6 24 (NetBSD/OpenBSD) little-endian, IPv6, UDP",
           ["null", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40008, 53)
    fx.add(struct.pack("<I", 28) + v6(O61, O62, tcp(40009, 443)), "AF_INET6 28 (FreeBSD) little-endian, IPv6, TCP",
           ["null", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40009, 443)
    fx.add(struct.pack(">I", 30) + v6(O62, O61, tcp(443, 40010, "SA")), "AF_INET6 30 (Darwin) big-endian, IPv6, TCP",
           ["null", "ipv6", "tcp"], "ipv6", E6, 6, O62, O61, 443, 40010)
    fx.add(struct.pack("<I", 10) + v6(O61, O62, udp(40011, 53, b"lin")), "AF_INET6 10 (Linux) little-endian, IPv6, UDP",
           ["null", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40011, 53)
    fx.add(struct.pack("<I", 7) + bytes(40), "family 7 (neither AF_INET nor AF_INET6) -> null.unknown_family",
           ["null"], "other", 0, None, None, None, events=["null.unknown_family"])

    fx = Fixture("loop", LT_LOOP, "OpenBSD loopback (linktype 108): the family in network byte order")
    fx.add(struct.pack(">I", 2) + v4(O1, O2, tcp(40012, 25)), "AF_INET, IPv4, TCP",
           ["null", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40012, 25)
    fx.add(struct.pack(">I", 24) + v6(O61, O62, udp(40013, 514, b"log")), "AF_INET6 24, IPv6, UDP",
           ["null", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40013, 514)

    # ------------------------------------------------------------------- PPP
    fx = Fixture("ppp", LT_PPP, "PPP (linktype 9): address/control optional, protocol field compression, MPLS, LCP, malformed")
    fx.add(ppp_frame(0x0021, v4(O1, O2, tcp(40014, 80))), "FF 03, protocol 0x0021, IPv4, TCP",
           ["ppp", "ipv4", "tcp"], "ipv4", 0, 6, O1, O2, 40014, 80)
    fx.add(ppp_frame(0x0057, v6(O61, O62, udp(40015, 53, b"v6")), acfc=True), "no address/control, protocol 0x0057, IPv6, UDP",
           ["ppp", "ipv6", "udp"], "ipv6", 0, 17, O61, O62, 40015, 53)
    fx.add(ppp_frame(0x21, v4(O2, O1, udp(53, 40016, b"pfc")), pfc=True), "FF 03, compressed one-byte protocol 0x21, IPv4, UDP",
           ["ppp", "ipv4", "udp"], "ipv4", 0, 17, O2, O1, 53, 40016)
    fx.add(ppp_frame(0x0281, mpls([100], v4(I1, I2, udp(6000, 6001, b"vpn")))), "protocol 0x0281, MPLS label 100, IPv4, UDP",
           ["ppp", "mpls", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 6000, 6001, tunnels=[T("mpls", label=100)])
    lcp = bytes.fromhex("0101000a0506a1b2c3d4")
    fx.add(ppp_frame(0xc021, lcp), "LCP configure-request: nothing bound, terminal",
           ["ppp"], "other", 0, None, None, None)
    fx.add(b"\xff\x05\x00\x21" + v4(O1, O2, udp(1, 2)), "address FF with control 05 -> ppp.bad_control",
           ["ppp"], "other", 0, None, None, None, events=["ppp.bad_control"])
    fx.add(b"\xff\x03\x00\x20" + v4(O1, O2, udp(1, 2)), "two-byte protocol 0x0020 ending in an even byte -> ppp.bad_protocol",
           ["ppp"], "other", 0, None, None, None, events=["ppp.bad_protocol"])

    fx = Fixture("ppp_hdlc", LT_PPP_HDLC, "PPP in HDLC-like framing (linktype 50), and Cisco HDLC on the same link type")
    fx.add(ppp_frame(0x0021, v4(O1, O2, tcp(40017, 179))), "PPP FF 03 0021, IPv4, TCP",
           ["ppp", "ipv4", "tcp"], "ipv4", 0, 6, O1, O2, 40017, 179)
    fx.add(b"\x0f\x00\x08\x00" + v4(O2, O1, udp(520, 520, b"rip")), "Cisco HDLC unicast (0F 00) ethertype 0x0800, IPv4, UDP",
           ["ppp", "ipv4", "udp"], "ipv4", E4, 17, O2, O1, 520, 520)
    fx.add(b"\x8f\x00\x86\xdd" + v6(O61, O62, tcp(40018, 22)), "Cisco HDLC multicast (8F 00) ethertype 0x86dd, IPv6, TCP",
           ["ppp", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40018, 22)

    # ------------------------------------------------------------------ VLAN
    fx = Fixture("vlan", LT_ETH, "802.1Q, priority tag, QinQ (0x88a8, 0x9100, 0x9200), 802.3 inside a tag")
    fx.add(eth(0x8100, vtag(100, E4) + v4(O1, O2, tcp(40019, 80))), "802.1Q VLAN 100, IPv4, TCP",
           ["eth", "vlan", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40019, 80, vlan=[100])
    fx.add(eth(0x8100, vtag(0x6000, E6) + v6(O61, O62, udp(40020, 53, b"p"))), "priority tag (VLAN 0, PCP 3), IPv6, UDP",
           ["eth", "vlan", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40020, 53, vlan=[0])
    fx.add(eth(0x88a8, vtag(200, 0x8100) + vtag(300, E4) + v4(O1, O2, udp(40021, 161, b"snmp"))),
           "802.1ad S-tag 200, C-tag 300, IPv4, UDP",
           ["eth", "vlan", "vlan", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40021, 161, vlan=[200, 300])
    fx.add(eth(0x9100, vtag(10, 0x8100) + vtag(20, E4) + v4(O2, O1, tcp(443, 40022, "SA"))),
           "legacy QinQ 0x9100 tag 10, C-tag 20, IPv4, TCP",
           ["eth", "vlan", "vlan", "ipv4", "tcp"], "ipv4", E4, 6, O2, O1, 443, 40022, vlan=[10, 20])
    fx.add(eth(0x9200, vtag(30, E4) + v4(O1, O2, udp(40023, 69, b"tftp"))), "legacy QinQ 0x9200 tag 30, IPv4, UDP",
           ["eth", "vlan", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40023, 69, vlan=[30])
    inner = snap(E4) + v4(O1, O2, udp(40024, 7, b"x"))
    fx.add(eth(0x8100, vtag(50, len(inner)) + inner), "VLAN 50, 802.3 length, LLC/SNAP, IPv4, UDP",
           ["eth", "vlan", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40024, 7, vlan=[50])
    fx.add(eth(0x8100, vtag(60, 38) + stp, dst=bytes.fromhex("0180c2000000")), "VLAN 60, 802.3 length, plain LLC (STP): terminal; the last ethertype seen is the tag's",
           ["eth", "vlan"], "other", 0x8100, None, None, None, vlan=[60])

    # ------------------------------------------------------------------ MPLS
    fx = Fixture("mpls", LT_ETH, "MPLS label stacks: IPv4, IPv6, explicit null, pseudowire with and without control word, MPLS-in-UDP")
    fx.add(eth(0x8847, mpls([1000], v4(I1, I2, tcp(40025, 80)))), "one label (1000), IPv4, TCP",
           ["eth", "mpls", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40025, 80, tunnels=[T("mpls", label=1000)])
    fx.add(eth(0x8847, mpls([16, 2000], v6(I61, I62, udp(40026, 53, b"6")))), "two labels (16, 2000), IPv6, UDP",
           ["eth", "mpls", "ipv6", "udp"], "ipv6", E6, 17, I61, I62, 40026, 53, tunnels=[T("mpls", label=2000)])
    fx.add(eth(0x8847, mpls([0], v4(I2, I1, udp(53, 40027, b"n")))), "IPv4 explicit null label 0, IPv4, UDP",
           ["eth", "mpls", "ipv4", "udp"], "ipv4", E4, 17, I2, I1, 53, 40027, tunnels=[T("mpls", label=0)])
    fx.add(eth(0x8847, mpls([2], v6(I62, I61, tcp(443, 40028, "SA")))), "IPv6 explicit null label 2, IPv6, TCP",
           ["eth", "mpls", "ipv6", "tcp"], "ipv6", E6, 6, I62, I61, 443, 40028, tunnels=[T("mpls", label=2)])
    # Vendor MACs (Cisco 00:1b:54, Juniper 00:05:85) as routers use: both
    # start with nibble 0, like a control word. (tshark tells the two apart by
    # whether both MACs have known OUIs; tm by the ethertype at byte 12.)
    pw = eth(E4, v4(I1, I2, udp(40029, 4000, b"pw-cw")), src=bytes.fromhex("001b54000003"), dst=bytes.fromhex("000585000004"))
    fx.add(eth(0x8847, mpls([3000], b"\x00\x00\x00\x00" + pw)), "label 3000, pseudowire control word, Ethernet, IPv4, UDP",
           ["eth", "mpls", "eth", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40029, 4000, tunnels=[T("mpls", label=3000)])
    pw = eth(E4, v4(I2, I1, udp(4000, 40030, b"pw")), src=bytes.fromhex("001b54000005"), dst=bytes.fromhex("000585000006"))
    fx.add(eth(0x8847, mpls([4000], pw)), "label 4000, Ethernet pseudowire without control word (MACs starting with nibble 0), IPv4, UDP",
           ["eth", "mpls", "eth", "ipv4", "udp"], "ipv4", E4, 17, I2, I1, 4000, 40030, tunnels=[T("mpls", label=4000)])
    fx.add(eth(E4, v4(O1, O2, udp(50000, 6635, mpls([5000], v4(I1, I2, ICMP(type=8, id=77, seq=1)))))),
           "MPLS-in-UDP (port 6635), label 5000, IPv4, ICMP echo",
           ["eth", "ipv4", "udp", "mpls", "ipv4", "icmp"], "ipv4", E4, 1, I1, I2,
           tunnels=[T("mpls", O1, O2, label=5000)], icmp=(8, 0, 77))

    # ----------------------------------------------------------------- PPPoE
    fx = Fixture("pppoe", LT_ETH, "PPPoE session (IPv4, IPv6, compressed protocol, over a VLAN) and discovery")
    fx.add(eth(0x8864, pppoe(0, 0x1234, b"\x00\x21" + v4(O1, O2, tcp(40031, 80)))), "session 0x1234, PPP 0x0021, IPv4, TCP",
           ["eth", "pppoe", "ipv4", "tcp"], "ipv4", 0x8864, 6, O1, O2, 40031, 80, tunnels=[T("pppoe", session_id=0x1234)])
    fx.add(eth(0x8864, pppoe(0, 0x1234, b"\x00\x57" + v6(O61, O62, udp(40032, 53, b"v6")))), "session 0x1234, PPP 0x0057, IPv6, UDP",
           ["eth", "pppoe", "ipv6", "udp"], "ipv6", 0x8864, 17, O61, O62, 40032, 53, tunnels=[T("pppoe", session_id=0x1234)])
    fx.add(eth(0x8864, pppoe(0, 7, b"\x21" + v4(O2, O1, udp(53, 40033, b"pfc")))), "session 7, compressed PPP protocol 0x21, IPv4, UDP",
           ["eth", "pppoe", "ipv4", "udp"], "ipv4", 0x8864, 17, O2, O1, 53, 40033, tunnels=[T("pppoe", session_id=7)])
    fx.add(eth(0x8100, vtag(7, 0x8864) + pppoe(0, 0x0042, b"\x00\x21" + v4(O1, O2, tcp(40034, 443)))),
           "VLAN 7, PPPoE session 0x42, IPv4, TCP",
           ["eth", "vlan", "pppoe", "ipv4", "tcp"], "ipv4", 0x8864, 6, O1, O2, 40034, 443, vlan=[7],
           tunnels=[T("pppoe", session_id=0x42)])
    tags = bytes.fromhex("01010000") + bytes.fromhex("0103000412345678")   # Service-Name, Host-Uniq
    fx.add(eth(0x8863, pppoe(0x09, 0, tags), dst=b"\xff" * 6), "discovery PADI (terminal)",
           ["eth", "pppoe"], "other", 0x8863, None, None, None)
    fx.add(eth(0x8863, pppoe(0x65, 0x1234, tags)), "discovery PADS, session 0x1234 (terminal)",
           ["eth", "pppoe"], "other", 0x8863, None, None, None)

    # ------------------------------------------------------------------- ARP
    fx = Fixture("arp", LT_ETH, "ARP request and reply, RARP, ARP for a protocol other than IPv4")
    fx.add(eth(0x0806, bytes(ARP(op=1, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1", hwdst="00:00:00:00:00:00", pdst="192.0.2.2")), dst=b"\xff" * 6),
           "ARP who-has 192.0.2.2 tell 192.0.2.1", ["eth", "arp"], "arp", 0x0806, None, "192.0.2.1", "192.0.2.2")
    fx.add(eth(0x0806, bytes(ARP(op=2, hwsrc="02:00:00:00:00:02", psrc="192.0.2.2", hwdst="02:00:00:00:00:01", pdst="192.0.2.1")), src=MAC2, dst=MAC1),
           "ARP reply 192.0.2.2 is-at", ["eth", "arp"], "arp", 0x0806, None, "192.0.2.2", "192.0.2.1")
    fx.add(eth(0x8035, bytes(ARP(op=3, hwsrc="02:00:00:00:00:01", psrc="0.0.0.0", hwdst="02:00:00:00:00:01", pdst="0.0.0.0")), dst=b"\xff" * 6),
           "RARP request (0x8035)", ["eth", "arp"], "arp", 0x8035, None, "0.0.0.0", "0.0.0.0")
    arp6 = struct.pack("!HHBBH", 1, 0x86dd, 6, 16, 1) + MAC1 + bytes(16) + bytes(6) + bytes(16)
    fx.add(eth(0x0806, arp6), "ARP for protocol 0x86dd (16-byte addresses): an ARP layer without addresses",
           ["eth", "arp"], "arp", 0x0806, None, None, None)

    # ------------------------------------------------------------------ IPv4
    fx = Fixture("ipv4", LT_ETH, "IPv4 options, fragments (first, middle, last), DF, a protocol nothing binds")
    from scapy.all import IPOption_RR, IPOption_Router_Alert
    fx.add(eth(E4, bytes(IP(src=O1, dst=O2, options=[IPOption_RR(routers=["0.0.0.0"] * 4)]) / udp(40035, 9, b"rr"))),
           "IPv4 with a record-route option (IHL 10), UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40035, 9)
    fx.add(eth(E4, v4(O1, "224.0.0.22", bytes.fromhex("2200fa0100000000"), proto=2, ttl=1, options=[IPOption_Router_Alert()])),
           "IPv4 with router alert, IGMP (protocol 2, nothing bound)",
           ["eth", "ipv4"], "ipv4", E4, 2, O1, "224.0.0.22")
    dgram = bytes(UDP(sport=40036, dport=5000, len=8 + 1400, chksum=0x1234)) + (bytes(range(256)) * 6)[:1400]
    fx.add(eth(E4, v4(O1, O2, dgram[:1200], proto=17, flags="MF", id=0x4d2, frag=0)),
           "first fragment (MF, offset 0) of a 1408-byte UDP datagram: ports known, UDP length beyond the fragment",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40036, 5000, fragment="first")
    fx.add(eth(E4, v4(O1, O2, dgram[1200:1208], proto=17, flags="MF", id=0x4d2, frag=150)),
           "middle fragment (offset 1200): no ports",
           ["eth", "ipv4"], "ipv4", E4, 17, O1, O2, fragment="later")
    fx.add(eth(E4, v4(O1, O2, dgram[1208:], proto=17, id=0x4d2, frag=151)),
           "last fragment (offset 1208, MF clear): no ports",
           ["eth", "ipv4"], "ipv4", E4, 17, O1, O2, fragment="later")
    fx.add(eth(E4, v4(O2, O1, tcp(80, 40037, "SA"), flags="DF")), "DF set: not a fragment",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O2, O1, 80, 40037)

    # ------------------------------------------------------------------ IPv6
    fx = Fixture("ipv6", LT_ETH, "IPv6 extension headers: hop-by-hop, routing, destination options, fragments, no next header")
    fx.add(eth(E6, bytes(IPv6(src=O61, dst=O62) / IPv6ExtHdrHopByHop() / udp(40038, 547, b"hbh"))), "hop-by-hop, UDP",
           ["eth", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40038, 547)
    fx.add(eth(E6, bytes(IPv6(src=O61, dst=O62) / IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=1) / tcp(40039, 80))),
           "routing header (type 0, one address), TCP",
           ["eth", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40039, 80)
    fx.add(eth(E6, bytes(IPv6(src=O61, dst=O62) / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(id=0x600d, seq=3))),
           "destination options, ICMPv6 echo request",
           ["eth", "ipv6", "icmpv6"], "ipv6", E6, 58, O61, O62, icmp=(128, 0, 0x600d))
    dgram6 = bytes(UDP(sport=40040, dport=5001, len=8 + 2000, chksum=0x4321)) + (bytes(range(256)) * 8)[:2000]
    fx.add(eth(E6, bytes(IPv6(src=O61, dst=O62) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0xabcd) / Raw(dgram6[:1232]))),
           "fragment header, first fragment (M, offset 0): ports known",
           ["eth", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40040, 5001, fragment="first")
    fx.add(eth(E6, bytes(IPv6(src=O61, dst=O62) / IPv6ExtHdrFragment(nh=17, offset=154, m=0, id=0xabcd) / Raw(dgram6[1232:2008]))),
           "fragment header, last fragment (offset 1232): no ports, protocol from the fragment header",
           ["eth", "ipv6"], "ipv6", E6, 17, O61, O62, fragment="later")
    fx.add(eth(E6, bytes(IPv6(src=O62, dst=O61) / IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(addresses=["2001:db8::98"], segleft=1)
                         / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(nh=6, offset=0, m=0, id=7) / tcp(443, 40041, "SA"))),
           "hop-by-hop, routing, destination options, atomic fragment (offset 0, M clear): a whole datagram (RFC 6946), TCP",
           ["eth", "ipv6", "tcp"], "ipv6", E6, 6, O62, O61, 443, 40041)
    fx.add(eth(E6, v6(O61, O62, b"", nh=59)), "next header 59 (no next header): terminal",
           ["eth", "ipv6"], "ipv6", E6, 59, O61, O62)

    # ---------------------------------------------------------------- IP in IP
    fx = Fixture("ipip", LT_ETH, "IP in IP: 4in4, 6in4, 4in6, 6in6")
    fx.add(eth(E4, v4(O1, O2, v4(I1, I2, tcp(40042, 80)), proto=4)), "IPv4 in IPv4 (protocol 4), TCP",
           ["eth", "ipv4", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40042, 80, tunnels=[T("ipip", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, v6(I61, I62, udp(40043, 53, b"6in4")), proto=41)), "IPv6 in IPv4 (protocol 41), UDP",
           ["eth", "ipv4", "ipv6", "udp"], "ipv6", E4, 17, I61, I62, 40043, 53, tunnels=[T("ipip", O1, O2)])
    fx.add(eth(E6, v6(O61, O62, v4(I1, I2, udp(40044, 53, b"4in6")), nh=4)), "IPv4 in IPv6 (next header 4), UDP",
           ["eth", "ipv6", "ipv4", "udp"], "ipv4", E6, 17, I1, I2, 40044, 53, tunnels=[T("ipip", O61, O62)])
    fx.add(eth(E6, v6(O61, O62, v6(I61, I62, tcp(40045, 22)), nh=41)), "IPv6 in IPv6 (next header 41), TCP",
           ["eth", "ipv6", "ipv6", "tcp"], "ipv6", E6, 6, I61, I62, 40045, 22, tunnels=[T("ipip", O61, O62)])

    # ------------------------------------------------------------------- GRE
    fx = Fixture("gre", LT_ETH, "GRE: plain, key, checksum, sequence, all three, IPv6 inside, Ethernet inside, "
                 "MPLS inside, GRE-in-UDP, GRE in GRE, GRE over IPv6, an empty payload")
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, tcp(40046, 80))), proto=47)), "plain GRE, IPv4, TCP",
           ["eth", "ipv4", "gre", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40046, 80, tunnels=[T("gre", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, udp(40047, 53, b"k")), key=0x1234), proto=47)), "GRE key 0x1234, IPv4, UDP",
           ["eth", "ipv4", "gre", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40047, 53, tunnels=[T("gre", O1, O2, key=0x1234)])
    fx.add(eth(E4, v4(O2, O1, gre(E4, v4(I2, I1, udp(53, 40048, b"c")), csum=True), proto=47)), "GRE checksum, IPv4, UDP",
           ["eth", "ipv4", "gre", "ipv4", "udp"], "ipv4", E4, 17, I2, I1, 53, 40048, tunnels=[T("gre", O2, O1)])
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, tcp(40049, 443)), seq=17), proto=47)), "GRE sequence number, IPv4, TCP",
           ["eth", "ipv4", "gre", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40049, 443, tunnels=[T("gre", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, tcp(40050, 443)), csum=True, key=99, seq=18), proto=47)),
           "GRE checksum, key 99 and sequence number, IPv4, TCP",
           ["eth", "ipv4", "gre", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40050, 443, tunnels=[T("gre", O1, O2, key=99)])
    fx.add(eth(E4, v4(O1, O2, gre(E6, v6(I61, I62, udp(40051, 53, b"g6"))), proto=47)), "GRE protocol 0x86dd, IPv6, UDP",
           ["eth", "ipv4", "gre", "ipv6", "udp"], "ipv6", E6, 17, I61, I62, 40051, 53, tunnels=[T("gre", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, gre(0x6558, eth(E4, v4(I1, I2, tcp(40052, 80)), src=bytes.fromhex("020000000005"),
                                              dst=bytes.fromhex("020000000006")), key=5), proto=47)),
           "GRE 0x6558 (transparent Ethernet bridging), key 5, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "gre", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40052, 80, tunnels=[T("gre", O1, O2, key=5)])
    fx.add(eth(E4, v4(O1, O2, gre(0x8847, mpls([700], v4(I1, I2, udp(40053, 53, b"m")))), proto=47)),
           "GRE 0x8847, MPLS label 700, IPv4, UDP",
           ["eth", "ipv4", "gre", "mpls", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40053, 53,
           tunnels=[T("gre", O1, O2), T("mpls", O1, O2, label=700)])
    fx.add(eth(E4, v4(O1, O2, udp(50001, 4754, gre(E4, v4(I1, I2, udp(40054, 53, b"gu")))))),
           "GRE-in-UDP (port 4754), IPv4, UDP",
           ["eth", "ipv4", "udp", "gre", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40054, 53, tunnels=[T("gre", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4("10.1.0.1", "10.1.0.2", gre(E4, v4(I1, I2, udp(40055, 53, b"gg")), key=2), proto=47), key=1),
                      proto=47)),
           "GRE key 1, IPv4, GRE key 2, IPv4, UDP",
           ["eth", "ipv4", "gre", "ipv4", "gre", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40055, 53,
           tunnels=[T("gre", O1, O2, key=1), T("gre", "10.1.0.1", "10.1.0.2", key=2)])
    fx.add(eth(E6, v6(O61, O62, gre(E4, v4(I1, I2, tcp(40056, 80))), nh=47)), "GRE over IPv6, IPv4, TCP",
           ["eth", "ipv6", "gre", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40056, 80, tunnels=[T("gre", O61, O62)])
    fx.add(eth(E4, v4(O1, O2, gre(0, b""), proto=47)), "GRE with an empty payload (protocol 0): terminal",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, tunnels=[T("gre", O1, O2)])

    # ------------------------------------------------------------------ PPTP
    fx = Fixture("pptp", LT_ETH, "PPTP: enhanced GRE (version 1) carrying PPP")
    fx.add(eth(E4, v4(O1, O2, pptp_gre(0x0100, ppp_frame(0x0021, v4(I1, I2, tcp(40057, 80))), seq=1), proto=47)),
           "GRE v1 call 256, sequence, PPP FF 03 0021, IPv4, TCP",
           ["eth", "ipv4", "gre", "ppp", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40057, 80,
           tunnels=[T("pptp", O1, O2, session_id=256)])
    fx.add(eth(E4, v4(O2, O1, pptp_gre(0x0200, ppp_frame(0x21, v4(I2, I1, udp(53, 40058, b"p")), acfc=True, pfc=True), seq=2, ack=1),
                      proto=47)),
           "GRE v1 call 512, sequence and acknowledgment, PPP compressed 21, IPv4, UDP",
           ["eth", "ipv4", "gre", "ppp", "ipv4", "udp"], "ipv4", E4, 17, I2, I1, 53, 40058,
           tunnels=[T("pptp", O2, O1, session_id=512)])
    fx.add(eth(E4, v4(O1, O2, pptp_gre(0x0100, b"", ack=2), proto=47)), "GRE v1 acknowledgment only (payload length 0): terminal",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, tunnels=[T("pptp", O1, O2, session_id=256)])
    fx.add(eth(E4, v4(O1, O2, pptp_gre(0x0100, ppp_frame(0xc021, lcp), seq=3), proto=47)), "GRE v1, PPP LCP: terminal",
           ["eth", "ipv4", "gre", "ppp"], "ipv4", E4, 47, O1, O2, tunnels=[T("pptp", O1, O2, session_id=256)])

    # ---------------------------------------------------------------- ERSPAN
    mirrored = eth(E4, v4(I1, I2, tcp(40059, 80)), src=bytes.fromhex("020000000007"), dst=bytes.fromhex("020000000008"))
    fx = Fixture("erspan", LT_ETH, "ERSPAN types I, II and III (with and without the platform subheader, frame type 2)")
    fx.add(eth(E4, v4(O1, O2, gre(0x88be, mirrored), proto=47)), "type I: GRE 0x88be without sequence number, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "gre", "erspan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40059, 80,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2)])
    e2 = struct.pack("!II", (1 << 28) | (10 << 16) | 5, 42)   # ver 1, VLAN 10, session 5, index 42
    fx.add(eth(E4, v4(O1, O2, gre(0x88be, e2 + mirrored, seq=1), proto=47)), "type II: session 5, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "gre", "erspan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40059, 80,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2, session_id=5)])
    e3 = struct.pack("!IIHH", (2 << 28) | (20 << 16) | 7, 0x01020304, 0, 0)   # ver 2, session 7, ft 0, O clear
    fx.add(eth(E4, v4(O1, O2, gre(0x22eb, e3 + mirrored, seq=2), proto=47)), "type III: session 7, frame type 0, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "gre", "erspan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40059, 80,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2, session_id=7)])
    e3o = struct.pack("!IIHH", (2 << 28) | 8, 0x01020305, 0, 1) + struct.pack("!II", 0x08000000, 0x11223344)
    fx.add(eth(E4, v4(O1, O2, gre(0x22eb, e3o + mirrored, seq=3), proto=47)),
           "type III with the O bit: 8-byte platform subheader, session 8, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "gre", "erspan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40059, 80,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2, session_id=8)])
    e3ip = struct.pack("!IIHH", (2 << 28) | 9, 0x01020306, 0, 2 << 10)   # frame type 2: IP
    fx.add(eth(E4, v4(O1, O2, gre(0x22eb, e3ip + v4(I1, I2, udp(40060, 53, b"ft2")), seq=4), proto=47)),
           "type III frame type 2 (IP packet), session 9, IPv4, UDP",
           ["eth", "ipv4", "gre", "erspan", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40060, 53,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2, session_id=9)])

    # ------------------------------------------------------------------ WCCP
    fx = Fixture("wccp", LT_ETH, "WCCP redirection in GRE (0x883e): version 1 and version 2 redirect header")
    fx.add(eth(E4, v4(O1, O2, gre(0x883e, v4(I1, I2, tcp(40061, 80))), proto=47)), "WCCPv1: IPv4 right after GRE, TCP",
           ["eth", "ipv4", "gre", "wccp", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40061, 80, tunnels=[T("gre", O1, O2)])
    fx.add(eth(E4, v4(O1, O2, gre(0x883e, bytes.fromhex("00000102") + v4(I1, I2, tcp(40062, 80))), proto=47)),
           "WCCPv2: 4-byte redirect header (service 0), IPv4, TCP",
           ["eth", "ipv4", "gre", "wccp", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40062, 80, tunnels=[T("gre", O1, O2)])

    # ------------------------------------------------------------------ L2TP
    fx = Fixture("l2tp", LT_ETH, "L2TPv2 over UDP: data (plain, with length, sequence and offset) and control")
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, l2tp_v2_data(10, 20, ppp_frame(0x0021, v4(I1, I2, tcp(40063, 80))))))),
           "L2TPv2 data, tunnel 10 session 20, PPP FF 03 0021, IPv4, TCP",
           ["eth", "ipv4", "udp", "l2tp", "ppp", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40063, 80,
           tunnels=[T("l2tp", O1, O2, tunnel_id=10, session_id=20)])
    fx.add(eth(E4, v4(O2, O1, udp(1701, 1701, l2tp_v2_data(11, 21, ppp_frame(0x0057, v6(I61, I62, udp(40064, 53, b"l6"))),
                                                          length=True, seq=True, offset=2)))),
           "L2TPv2 data with length, Ns/Nr and a 2-byte offset, tunnel 11 session 21, PPP 0057, IPv6, UDP",
           ["eth", "ipv4", "udp", "l2tp", "ppp", "ipv6", "udp"], "ipv6", E4, 17, I61, I62, 40064, 53,
           tunnels=[T("l2tp", O2, O1, tunnel_id=11, session_id=21)])
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, l2tp_v2_control(0, 0, SCCRQ_AVPS)))), "L2TPv2 control message (SCCRQ): terminal, no tunnel",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O1, O2, 1701, 1701)
    fx.add(eth(E4, v4(O2, O1, udp(1701, 1701, l2tp_v2_control(5, 0)))), "L2TPv2 zero-length body acknowledgment (ZLB): terminal",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O2, O1, 1701, 1701)

    pw3 = eth(E4, v4(I1, I2, udp(40065, 53, b"v3")), src=bytes.fromhex("02000000000a"), dst=bytes.fromhex("02000000000b"))
    fx = Fixture("l2tpv3_udp", LT_ETH, "L2TPv3 over UDP port 1701: data (Ethernet pseudowire, no cookie) and control",
                 tshark_args=["-o", "l2tp.cookie_size:None", "-o", "l2tp.l2_specific:None", "-d", "l2tp.pw_type==0,eth"])
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, struct.pack("!HHI", 0x0003, 0, 0x11223344) + pw3))),
           "L2TPv3 data, session 0x11223344, Ethernet, IPv4, UDP",
           ["eth", "ipv4", "udp", "l2tp", "eth", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40065, 53,
           tunnels=[T("l2tp", O1, O2, session_id=0x11223344)])
    fx.add(eth(E4, v4(O2, O1, udp(1701, 1701, struct.pack("!HHIHH", 0xc803, 12, 0x55, 0, 0)))), "L2TPv3 control (ZLB): terminal",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O2, O1, 1701, 1701)

    fx = Fixture("l2tpv3", LT_ETH, "L2TPv3 over IP (protocol 115): data without cookie, control, over IPv6",
                 tshark_args=["-o", "l2tp.cookie_size:None", "-o", "l2tp.l2_specific:None", "-d", "l2tp.pw_type==0,eth"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!I", 0x1000) + pw3, proto=115)), "session 4096, no cookie, Ethernet, IPv4, UDP",
           ["eth", "ipv4", "l2tpv3", "eth", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40065, 53,
           tunnels=[T("l2tp", O1, O2, session_id=4096)])
    fx.add(eth(E4, v4(O2, O1, struct.pack("!IHHIHH", 0, 0xc803, 12, 0x77, 0, 0), proto=115)), "control message (session 0): terminal",
           ["eth", "ipv4", "l2tpv3"], "ipv4", E4, 115, O2, O1)
    fx.add(eth(E6, v6(O61, O62, struct.pack("!I", 0x2000) + pw3, nh=115)), "over IPv6, session 8192, Ethernet, IPv4, UDP",
           ["eth", "ipv6", "l2tpv3", "eth", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40065, 53,
           tunnels=[T("l2tp", O61, O62, session_id=8192)])

    fx = Fixture("l2tpv3_cookie", LT_ETH, "L2TPv3 over IP with a 4-byte cookie and the default L2-specific sublayer (found by heuristic)",
                 tshark_args=["-o", "l2tp.cookie_size:4 Byte Cookie", "-o", "l2tp.l2_specific:Default L2-Specific",
                              "-d", "l2tp.pw_type==0,eth"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!III", 0x3000, 0xc0c0c0c0, 0x00000001) + pw3, proto=115)),
           "session 12288, cookie c0c0c0c0, sublayer, Ethernet, IPv4, UDP",
           ["eth", "ipv4", "l2tpv3", "eth", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40065, 53,
           tunnels=[T("l2tp", O1, O2, session_id=12288)])

    # ----------------------------------------------------------------- VXLAN
    inner_eth = eth(E4, v4(I1, I2, tcp(40066, 80)), src=bytes.fromhex("02000000000c"), dst=bytes.fromhex("02000000000d"))
    fx = Fixture("vxlan", LT_ETH, "VXLAN on 4789: IPv4 and IPv6 outside, a VLAN tag inside")
    fx.add(eth(E4, v4(O1, O2, udp(49152, 4789, vxlan(100, inner_eth)))), "VXLAN VNI 100, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan", O1, O2, vni=100)])
    fx.add(eth(E4, v4(O1, O2, udp(49153, 4789, vxlan(101, eth(0x8100, vtag(10, E6) + v6(I61, I62, udp(40067, 53, b"vv"))))))),
           "VXLAN VNI 101, Ethernet, VLAN 10, IPv6, UDP",
           ["eth", "ipv4", "udp", "vxlan", "eth", "vlan", "ipv6", "udp"], "ipv6", E6, 17, I61, I62, 40067, 53,
           vlan=[10], tunnels=[T("vxlan", O1, O2, vni=101)])
    fx.add(eth(E6, v6(O61, O62, udp(49154, 4789, vxlan(0xabcdef, inner_eth)))), "VXLAN over IPv6, VNI 0xabcdef, Ethernet, IPv4, TCP",
           ["eth", "ipv6", "udp", "vxlan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan", O61, O62, vni=0xabcdef)])

    fx = Fixture("vxlan_8472", LT_ETH, "VXLAN on Linux's old default port 8472 (needs --bind)",
                 tm_args=["--bind", "vxlan=udp.port:8472"], tshark_args=["-d", "udp.port==8472,vxlan"])
    fx.add(eth(E4, v4(O1, O2, udp(49155, 8472, vxlan(42, inner_eth)))), "VXLAN VNI 42 on 8472, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan", O1, O2, vni=42)])

    fx = Fixture("vxlan_gpe", LT_ETH, "VXLAN-GPE on 4790: next protocol IPv4, IPv6, Ethernet, MPLS; P clear")
    fx.add(eth(E4, v4(O1, O2, udp(49156, 4790, vxlan_gpe(7, 1, v4(I1, I2, udp(40068, 53, b"g4")))))),
           "GPE VNI 7, next protocol 1, IPv4, UDP",
           ["eth", "ipv4", "udp", "vxlan_gpe", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40068, 53,
           tunnels=[T("vxlan-gpe", O1, O2, vni=7)])
    fx.add(eth(E4, v4(O1, O2, udp(49157, 4790, vxlan_gpe(8, 2, v6(I61, I62, tcp(40069, 443)))))),
           "GPE VNI 8, next protocol 2, IPv6, TCP",
           ["eth", "ipv4", "udp", "vxlan_gpe", "ipv6", "tcp"], "ipv6", E6, 6, I61, I62, 40069, 443,
           tunnels=[T("vxlan-gpe", O1, O2, vni=8)])
    fx.add(eth(E4, v4(O1, O2, udp(49158, 4790, vxlan_gpe(9, 3, inner_eth)))), "GPE VNI 9, next protocol 3, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "vxlan_gpe", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan-gpe", O1, O2, vni=9)])
    fx.add(eth(E4, v4(O1, O2, udp(49159, 4790, vxlan_gpe(10, 0, inner_eth, flags=0x08)))), "GPE VNI 10, P clear: Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "vxlan_gpe", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan-gpe", O1, O2, vni=10)])
    fx.add(eth(E4, v4(O1, O2, udp(49160, 4790, vxlan_gpe(11, 5, mpls([800], v4(I1, I2, udp(40070, 53, b"gm"))))))),
           "GPE VNI 11, next protocol 5, MPLS label 800, IPv4, UDP",
           ["eth", "ipv4", "udp", "vxlan_gpe", "mpls", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40070, 53,
           tunnels=[T("vxlan-gpe", O1, O2, vni=11), T("mpls", O1, O2, label=800)])

    # ---------------------------------------------------------------- Geneve
    fx = Fixture("geneve", LT_ETH, "Geneve on 6081: Ethernet with and without options, IPv4 and IPv6 directly")
    fx.add(eth(E4, v4(O1, O2, udp(49161, 6081, geneve(0x123, 0x6558, inner_eth)))), "VNI 0x123, no options, Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "geneve", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("geneve", O1, O2, vni=0x123)])
    opts = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x01\x02\x03\x04" + struct.pack("!HBB", 0xffff, 0x01, 0)
    fx.add(eth(E4, v4(O1, O2, udp(49162, 6081, geneve(0x124, 0x6558, inner_eth, options=opts)))),
           "VNI 0x124, two options (12 bytes), Ethernet, IPv4, TCP",
           ["eth", "ipv4", "udp", "geneve", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("geneve", O1, O2, vni=0x124)])
    fx.add(eth(E4, v4(O1, O2, udp(49163, 6081, geneve(0x125, E4, v4(I1, I2, udp(40071, 53, b"gv")))))),
           "VNI 0x125, protocol 0x0800, IPv4, UDP",
           ["eth", "ipv4", "udp", "geneve", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40071, 53,
           tunnels=[T("geneve", O1, O2, vni=0x125)])
    fx.add(eth(E6, v6(O61, O62, udp(49164, 6081, geneve(0x126, E6, v6(I61, I62, tcp(40072, 22)))))),
           "over IPv6, VNI 0x126, protocol 0x86dd, IPv6, TCP",
           ["eth", "ipv6", "udp", "geneve", "ipv6", "tcp"], "ipv6", E6, 6, I61, I62, 40072, 22,
           tunnels=[T("geneve", O61, O62, vni=0x126)])

    # ------------------------------------------------------------------- GTP
    fx = Fixture("gtp", LT_ETH, "GTP-U on 2152: G-PDUs (plain, sequence, extension headers), echo, end marker, GTPv2-C declined")
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x01020304, 255, v4(I1, I2, udp(40073, 53, b"gt")))))),
           "G-PDU TEID 0x01020304, IPv4, UDP",
           ["eth", "ipv4", "udp", "gtp", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40073, 53,
           tunnels=[T("gtp", O1, O2, teid=0x01020304)])
    fx.add(eth(E4, v4(O2, O1, udp(2152, 2152, gtpu(0x0a0b0c0d, 255, v6(I61, I62, tcp(40074, 443)), seq=5)))),
           "G-PDU with sequence number (S), TEID 0x0a0b0c0d, IPv6, TCP",
           ["eth", "ipv4", "udp", "gtp", "ipv6", "tcp"], "ipv6", E6, 6, I61, I62, 40074, 443,
           tunnels=[T("gtp", O2, O1, teid=0x0a0b0c0d)])
    pdu_sess = (0x85, b"\x10\x09")   # PDU session container: UL, QFI 9
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x11, 255, v4(I1, I2, ICMP(type=8, id=9, seq=1)), exts=[pdu_sess])))),
           "G-PDU with a PDU session container extension header, IPv4, ICMP echo",
           ["eth", "ipv4", "udp", "gtp", "ipv4", "icmp"], "ipv4", E4, 1, I1, I2,
           tunnels=[T("gtp", O1, O2, teid=0x11)], icmp=(8, 0, 9))
    udp_port_ext = (0x40, b"\x08\x68")  # UDP port extension header
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x12, 255, v4(I1, I2, udp(40075, 53, b"ge")), exts=[udp_port_ext, pdu_sess])))),
           "G-PDU with two chained extension headers (UDP port, PDU session container), IPv4, UDP",
           ["eth", "ipv4", "udp", "gtp", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40075, 53,
           tunnels=[T("gtp", O1, O2, teid=0x12)])
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0, 1, b"", seq=77)))), "echo request (type 1): terminal, no tunnel",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152)
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x13, 254, b"")))), "end marker (type 254): terminal, no tunnel",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152)
    gtpv2 = struct.pack("!BBHI", 0x48, 32, 12, 0) + bytes(8)
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpv2))), "GTPv2-C header (version 2) on 2152: not GTP-U, stays UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 2152, 2152)

    # ---------------------------------------------------------------- Teredo
    fx = Fixture("teredo", LT_ETH, "Teredo on 3544: plain, origin indication, authentication + origin, non-IPv6 payloads staying UDP")
    T6A, T6B = "2001:0:c000:201::1", "2001:db8:1::2"
    fx.add(eth(E4, v4(O1, O2, udp(40076, 3544, v6(T6A, T6B, udp(40077, 53, b"td"))))), "IPv6 in UDP, UDP",
           ["eth", "ipv4", "udp", "teredo", "ipv6", "udp"], "ipv6", E6, 17, T6A, T6B, 40077, 53,
           tunnels=[T("teredo", O1, O2)])
    origin = struct.pack("!HH4s", 0, 40076 ^ 0xffff, bytes(b ^ 0xff for b in bytes([192, 0, 2, 1])))
    fx.add(eth(E4, v4(O2, O1, udp(3544, 40076, origin + v6(T6B, T6A, ICMPv6EchoReply(id=5, seq=1))))),
           "origin indication, IPv6, ICMPv6 echo reply",
           ["eth", "ipv4", "udp", "teredo", "ipv6", "icmpv6"], "ipv6", E6, 58, T6B, T6A,
           tunnels=[T("teredo", O2, O1)], icmp=(129, 0, 5))
    auth = struct.pack("!HBB", 1, 0, 0) + bytes(8) + b"\x00"
    fx.add(eth(E4, v4(O2, O1, udp(3544, 40076, auth + origin + v6(T6B, T6A, b"", nh=59)))),
           "authentication indicator, origin indication, IPv6 with no next header (a bubble)",
           ["eth", "ipv4", "udp", "teredo", "ipv6"], "ipv6", E6, 59, T6B, T6A, tunnels=[T("teredo", O2, O1)])
    fx.add(eth(E4, v4(O1, O2, udp(40078, 3544, b"Not Teredo: first nibble 4"))), "not IPv6 (version nibble 6 missing): stays UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40078, 3544)
    bogus6 = v6(T6A, T6B, udp(1, 2, b"x"))
    bogus6 = bogus6[:4] + struct.pack("!H", 1000) + bogus6[6:]
    fx.add(eth(E4, v4(O1, O2, udp(40079, 3544, bogus6))), "IPv6 header whose payload length exceeds the datagram: stays UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40079, 3544)

    # ------------------------------------------------------------------- ESP
    fx = Fixture("esp", LT_ETH, "ESP over IPv4 and IPv6, NAT-T UDP 4500; IKE and a keepalive on 4500 staying UDP")
    fx.add(eth(E4, v4(O1, O2, esp(0x1000, 1), proto=50)), "ESP SPI 0x1000 over IPv4",
           ["eth", "ipv4", "esp"], "ipv4", E4, 50, O1, O2, spi=0x1000)
    fx.add(eth(E6, v6(O61, O62, esp(0x1001, 2), nh=50)), "ESP SPI 0x1001 over IPv6",
           ["eth", "ipv6", "esp"], "ipv6", E6, 50, O61, O62, spi=0x1001)
    fx.add(eth(E4, v4(O1, O2, udp(4500, 4500, esp(0x2000, 3)))), "ESP in UDP 4500 (NAT-T), SPI 0x2000: UDP kept, SPI added",
           ["eth", "ipv4", "udp", "esp"], "ipv4", E4, 17, O1, O2, 4500, 4500, spi=0x2000)
    ike = b"\x00\x00\x00\x00" + bytes.fromhex("0102030405060708") + bytes(8) + bytes.fromhex("2e202308") + struct.pack("!II", 0, 28)
    fx.add(eth(E4, v4(O2, O1, udp(4500, 4500, ike))), "IKE on 4500 (non-ESP marker): stays UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O2, O1, 4500, 4500)
    fx.add(eth(E4, v4(O1, O2, udp(4500, 4500, b"\xff"))), "NAT-keepalive (one 0xFF byte) on 4500: stays UDP",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 4500, 4500)

    # -------------------------------------------------------------------- AH
    fx = Fixture("ah", LT_ETH, "AH transport and tunnel mode, IPv4 and IPv6, AH then ESP")
    fx.add(eth(E4, v4(O1, O2, ah(6, 0x3000, 1, bytes(tcp(40080, 80))), proto=51)), "AH (SPI 0x3000) transport mode, TCP",
           ["eth", "ipv4", "ah", "tcp"], "ipv4", E4, 6, O1, O2, 40080, 80, spi=0x3000)
    fx.add(eth(E4, v4(O1, O2, ah(4, 0x3001, 2, v4(I1, I2, udp(40081, 53, b"ah"))), proto=51)),
           "AH (SPI 0x3001) tunnel mode, IPv4, UDP: the SPI survives the inner IP",
           ["eth", "ipv4", "ah", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40081, 53, spi=0x3001,
           tunnels=[T("ipip", O1, O2)])
    fx.add(eth(E6, v6(O61, O62, ah(58, 0x3002, 3, bytes(ICMPv6EchoRequest(id=6, seq=1))), nh=51)),
           "AH (SPI 0x3002) over IPv6, ICMPv6 echo request",
           ["eth", "ipv6", "ah", "icmpv6"], "ipv6", E6, 58, O61, O62, spi=0x3002, icmp=(128, 0, 6))
    fx.add(eth(E6, v6(O61, O62, ah(41, 0x3003, 4, v6(I61, I62, tcp(40082, 22))), nh=51)),
           "AH (SPI 0x3003) tunnel mode over IPv6, IPv6, TCP",
           ["eth", "ipv6", "ah", "ipv6", "tcp"], "ipv6", E6, 6, I61, I62, 40082, 22, spi=0x3003,
           tunnels=[T("ipip", O61, O62)])
    fx.add(eth(E4, v4(O1, O2, ah(50, 0x3004, 5, esp(0x4000, 1)), proto=51)), "AH (SPI 0x3004) then ESP (SPI 0x4000): ESP's SPI",
           ["eth", "ipv4", "ah", "esp"], "ipv4", E4, 50, O1, O2, spi=0x4000)

    # ------------------------------------------------------------------ ICMP
    fx = Fixture("icmp", LT_ETH, "ICMP and ICMPv6: echo (identifier), timestamp, errors (quoted packet not decoded), ND")
    fx.add(eth(E4, v4(O1, O2, ICMP(type=8, id=0x1234, seq=1) / Raw(b"ping"))), "ICMP echo request id 0x1234",
           ["eth", "ipv4", "icmp"], "ipv4", E4, 1, O1, O2, icmp=(8, 0, 0x1234))
    fx.add(eth(E4, v4(O2, O1, ICMP(type=0, id=0x1234, seq=1) / Raw(b"ping"))), "ICMP echo reply id 0x1234",
           ["eth", "ipv4", "icmp"], "ipv4", E4, 1, O2, O1, icmp=(0, 0, 0x1234))
    quoted = v4(O2, O1, udp(40083, 33434, b"trace"))[:28]
    fx.add(eth(E4, v4(O1, O2, ICMP(type=3, code=3) / Raw(quoted))), "ICMP port unreachable quoting IPv4/UDP: quote not decoded",
           ["eth", "ipv4", "icmp"], "ipv4", E4, 1, O1, O2, icmp=(3, 3, None))
    fx.add(eth(E4, v4(O1, O2, ICMP(type=11, code=0) / Raw(quoted))), "ICMP time exceeded quoting IPv4/UDP",
           ["eth", "ipv4", "icmp"], "ipv4", E4, 1, O1, O2, icmp=(11, 0, None))
    fx.add(eth(E4, v4(O1, O2, ICMP(type=13, id=0x55, seq=1, ts_ori=1, ts_rx=0, ts_tx=0))), "ICMP timestamp request id 0x55",
           ["eth", "ipv4", "icmp"], "ipv4", E4, 1, O1, O2, icmp=(13, 0, 0x55))
    fx.add(eth(E6, v6(O61, O62, ICMPv6EchoRequest(id=0x777, seq=1, data=b"ping6"))), "ICMPv6 echo request id 0x777",
           ["eth", "ipv6", "icmpv6"], "ipv6", E6, 58, O61, O62, icmp=(128, 0, 0x777))
    fx.add(eth(E6, v6(O62, O61, ICMPv6EchoReply(id=0x777, seq=1, data=b"ping6"))), "ICMPv6 echo reply id 0x777",
           ["eth", "ipv6", "icmpv6"], "ipv6", E6, 58, O62, O61, icmp=(129, 0, 0x777))
    fx.add(eth(E6, v6("fe80::1", "ff02::1:ff00:2", ICMPv6ND_NS(tgt="fe80::2"), hlim=255)), "ICMPv6 neighbour solicitation",
           ["eth", "ipv6", "icmpv6"], "ipv6", E6, 58, "fe80::1", "ff02::1:ff00:2", icmp=(135, 0, None))
    quoted6 = v6(O62, O61, udp(40084, 33434, b"t6"))
    fx.add(eth(E6, v6(O61, O62, ICMPv6DestUnreach(code=4) / Raw(quoted6))), "ICMPv6 port unreachable quoting IPv6/UDP",
           ["eth", "ipv6", "icmpv6"], "ipv6", E6, 58, O61, O62, icmp=(1, 4, None))

    # ------------------------------------------------------------- transports
    fx = Fixture("transport", LT_ETH, "TCP, UDP and SCTP over IPv4 and IPv6")
    fx.add(eth(E4, v4(O1, O2, TCP(sport=40085, dport=443, flags="PA", seq=1, ack=1,
                                  options=[("NOP", None), ("NOP", None), ("Timestamp", (1, 2))]) / Raw(b"GET / HTTP/1.1\r\n\r\n"))),
           "TCP with options and payload", ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40085, 443)
    fx.add(eth(E4, v4(O1, O2, udp(40086, 514, b"<13>syslog"))), "UDP with payload",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40086, 514)
    fx.add(eth(E4, v4(O1, O2, SCTP(sport=40087, dport=38412, tag=0) / SCTPChunkInit(init_tag=0x1234, a_rwnd=65535,
                                                                                   n_out_streams=1, n_in_streams=1, init_tsn=1))),
           "SCTP INIT", ["eth", "ipv4", "sctp"], "ipv4", E4, 132, O1, O2, 40087, 38412)
    fx.add(eth(E6, v6(O62, O61, SCTP(sport=38412, dport=40087, tag=0x1234) / SCTPChunkData(tsn=1, stream_id=0, stream_seq=0,
                                                                                          proto_id=60, data=b"ngap"))),
           "SCTP DATA over IPv6", ["eth", "ipv6", "sctp"], "ipv6", E6, 132, O62, O61, 38412, 40087)
    fx.add(eth(E6, v6(O61, O62, tcp(40088, 25, "S"))), "TCP SYN over IPv6",
           ["eth", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40088, 25)
    fx.add(eth(E6, v6(O61, O62, udp(40089, 4789))), "UDP to 4789 with no payload: nothing to hand on",
           ["eth", "ipv6", "udp"], "ipv6", E6, 17, O61, O62, 40089, 4789)

    # =========================================================== malformed
    fx = Fixture("bad_link", LT_ETH, "malformed link-layer headers: Ethernet, VLAN, ARP, PPPoE, MPLS")
    fx.add(dot3(b"\xaa\xaa\x03" + bytes(43), length=1000), "802.3 length 1000 beyond a 60-byte frame -> eth.bad_length",
           ["eth"], "other", 0, None, None, None, events=["eth.bad_length"])
    fx.add(dot3(b"\xaa\xaa\x03\x00\x00" + bytes(41), length=5), "802.3 length 5 with a SNAP header (needs 8) -> eth.bad_length",
           ["eth"], "other", 0, None, None, None, events=["eth.bad_length"])
    fx.add(eth(0x05f0, v4(O1, O2, udp(1, 2))), "type/length 0x05f0 (1520): neither -> eth.bad_type",
           ["eth"], "other", 0, None, None, None, events=["eth.bad_type"])
    tags9 = b"".join(vtag(i + 1, 0x8100) for i in range(8)) + vtag(9, E4)
    fx.add(eth(0x8100, tags9 + v4(O1, O2, udp(1, 2))), "nine 802.1Q tags -> vlan.too_many_tags",
           ["eth"] + ["vlan"] * 9, "other", 0x8100, None, None, None, vlan=list(range(1, 9)), events=["vlan.too_many_tags"])
    fx.add(eth(0x8100, vtag(70, 1400) + b"\xaa\xaa\x03" + bytes(40)), "VLAN 70, 802.3 length 1400 beyond the frame -> vlan.bad_length",
           ["eth", "vlan"], "other", 0x8100, None, None, None, vlan=[70], events=["vlan.bad_length"])
    fx.add(eth(0x8100, vtag(71, 0x05e0) + bytes(40)), "VLAN 71, type/length 0x05e0 -> vlan.bad_type",
           ["eth", "vlan"], "other", 0x8100, None, None, None, vlan=[71], events=["vlan.bad_type"])
    arp_h4 = struct.pack("!HHBBH", 1, E4, 4, 4, 1) + b"\x02\x00\x00\x01" + bytes([192, 0, 2, 5]) + bytes(4) + bytes([192, 0, 2, 6])
    fx.add(eth(0x0806, arp_h4, dst=b"\xff" * 6), "ARP on Ethernet hardware with a 4-byte hardware address -> arp.bad_hlen (addresses still read)",
           ["eth", "arp"], "arp", 0x0806, None, "192.0.2.5", "192.0.2.6", events=["arp.bad_hlen"])
    arp_p6 = struct.pack("!HHBBH", 1, E4, 6, 6, 1) + MAC1 + bytes([192, 0, 2, 7, 0, 0]) + bytes(6) + bytes([192, 0, 2, 8, 0, 0])
    fx.add(eth(0x0806, arp_p6, dst=b"\xff" * 6), "ARP for IPv4 with a 6-byte protocol address -> arp.bad_plen (no addresses)",
           ["eth", "arp"], "arp", 0x0806, None, None, None, events=["arp.bad_plen"])
    fx.add(eth(0x8864, pppoe(0, 1, b"\x00\x21" + v4(O1, O2, udp(1, 2)), vt=0x21)), "PPPoE version/type 0x21 -> pppoe.bad_version",
           ["eth", "pppoe"], "other", 0x8864, None, None, None, events=["pppoe.bad_version"])
    fx.add(eth(0x8864, pppoe(0x09, 1, b"\x00\x21" + v4(O1, O2, udp(1, 2)))), "PPPoE session with code 0x09 -> pppoe.bad_code",
           ["eth", "pppoe"], "other", 0x8864, None, None, None, events=["pppoe.bad_code"])
    fx.add(eth(0x8864, pppoe(0, 1, b"\x00\x21" + v4(O1, O2, udp(1, 2)), length=1000)), "PPPoE length 1000 beyond the frame -> pppoe.bad_length",
           ["eth", "pppoe"], "other", 0x8864, None, None, None, events=["pppoe.bad_length"])
    fx.add(eth(0x8847, mpls(list(range(16, 32)), v4(I1, I2, udp(1, 2)), bos=False)), "16 MPLS labels without bottom of stack -> mpls.too_many_labels",
           ["eth", "mpls"], "other", 0x8847, None, None, None, events=["mpls.too_many_labels"])
    fx.add(eth(0x8847, mpls([900], b"\x3f" + bytes(31))), "label 900, payload starting with nibble 3: neither IP nor Ethernet -> mpls.unknown_payload",
           ["eth", "mpls"], "other", 0x8847, None, None, None, tunnels=[T("mpls", label=900)], events=["mpls.unknown_payload"])

    fx = Fixture("bad_ip", LT_ETH, "malformed IPv4 and IPv6 headers")
    good4 = v4(O1, O2, udp(40090, 53, b"bad"))
    fx.add(eth(E4, b"\x55" + good4[1:]), "ethertype 0x0800, version nibble 5 -> ipv4.bad_version",
           ["eth", "ipv4"], "other", E4, None, None, None, events=["ipv4.bad_version"])
    fx.add(eth(E4, b"\x44" + good4[1:]), "IHL 4 (16 bytes) -> ipv4.bad_ihl",
           ["eth", "ipv4"], "other", E4, None, None, None, events=["ipv4.bad_ihl"])
    fx.add(eth(E4, good4[:2] + struct.pack("!H", 1000) + good4[4:]), "total length 1000 beyond the frame -> ipv4.bad_total_length",
           ["eth", "ipv4"], "ipv4", E4, 17, O1, O2, events=["ipv4.bad_total_length"])
    fx.add(eth(E4, good4[:2] + struct.pack("!H", 12) + good4[4:]), "total length 12, below the header -> ipv4.bad_total_length",
           ["eth", "ipv4"], "ipv4", E4, 17, O1, O2, events=["ipv4.bad_total_length"])
    tso = v4(O1, O2, tcp(40091, 80, "PA", b"A" * 100))
    fx.add(eth(E4, tso[:2] + b"\x00\x00" + tso[4:]), "total length 0 (segmentation offload) -> ipv4.tso_length, decoding goes on",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40091, 80, events=["ipv4.tso_length"])
    good6 = v6(O61, O62, udp(40092, 53, b"bad6"))
    fx.add(eth(E6, b"\x75" + good6[1:]), "ethertype 0x86dd, version nibble 7 -> ipv6.bad_version",
           ["eth", "ipv6"], "other", E6, None, None, None, events=["ipv6.bad_version"])
    fx.add(eth(E6, good6[:4] + struct.pack("!H", 2000) + good6[6:]), "payload length 2000 beyond the frame -> ipv6.bad_payload_length",
           ["eth", "ipv6"], "ipv6", E6, 17, O61, O62, events=["ipv6.bad_payload_length"])
    fx.add(eth(E6, v6(O61, O62, bytes([17, 10]) + bytes(14), nh=0)),
           "hop-by-hop header claiming 88 bytes in a 16-byte payload -> ipv6.bad_exthdr",
           ["eth", "ipv6"], "ipv6", E6, 0, O61, O62, events=["ipv6.bad_exthdr"])
    fx.add(eth(E6, v6(O61, O62, b"\x11", nh=60)), "destination options header with 1 byte of payload -> ipv6.bad_exthdr",
           ["eth", "ipv6"], "ipv6", E6, 60, O61, O62, events=["ipv6.bad_exthdr"])
    many = IPv6(src=O61, dst=O62)
    for _ in range(17):
        many = many / IPv6ExtHdrDestOpt()
    fx.add(eth(E6, bytes(many / udp(40093, 53, b"m"))), "17 destination-options headers -> ipv6.too_many_exthdrs",
           ["eth", "ipv6"], "ipv6", E6, 60, O61, O62, events=["ipv6.too_many_exthdrs"])
    jumbo_tcp = bytes(tcp(40094, 80, "PA", b"J" * 40))
    hbh = bytes([6, 0, 0xc2, 4]) + struct.pack("!I", 8 + len(jumbo_tcp))
    j = v6(O61, O62, hbh + jumbo_tcp, nh=0)
    j = j[:4] + b"\x00\x00" + j[6:]
    fx.add(eth(E6, j), "payload length 0 with a hop-by-hop header (jumbo payload option) -> ipv6.jumbogram, decoding goes on",
           ["eth", "ipv6", "tcp"], "ipv6", E6, 6, O61, O62, 40094, 80, events=["ipv6.jumbogram"])

    fx = Fixture("bad_transport", LT_ETH, "malformed TCP, UDP, SCTP; reserved ESP SPI; AH with payload length 0")
    t = bytes(tcp(40095, 80))
    fx.add(eth(E4, v4(O1, O2, t[:12] + b"\x40" + t[13:], proto=6)), "TCP data offset 4 (16 bytes) -> tcp.bad_offset",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40095, 80, events=["tcp.bad_offset"])
    fx.add(eth(E4, v4(O1, O2, t[:12] + b"\xf0" + t[13:], proto=6)), "TCP data offset 15 (60 bytes) in a 20-byte segment -> tcp.bad_offset",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40095, 80, events=["tcp.bad_offset"])
    u = struct.pack("!HHHH", 40096, 53, 4, 0) + b"four"
    fx.add(eth(E4, v4(O1, O2, u, proto=17)), "UDP length 4 (below 8) -> udp.bad_length",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40096, 53, events=["udp.bad_length"])
    u = struct.pack("!HHHH", 40097, 53, 100, 0) + b"short"
    fx.add(eth(E4, v4(O1, O2, u, proto=17)), "UDP length 100 beyond the 13-byte datagram -> udp.bad_length",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40097, 53, events=["udp.bad_length"])
    u = struct.pack("!HHHH", 40098, 5000, 0, 0) + b"zero length"
    fx.add(eth(E4, v4(O1, O2, u, proto=17)), "UDP length 0 with payload -> udp.zero_length, decoding goes on",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40098, 5000, events=["udp.zero_length"])
    s = struct.pack("!HHII", 40099, 38412, 5, 0) + struct.pack("!BBH", 0, 3, 2) + bytes(12)
    fx.add(eth(E4, v4(O1, O2, s, proto=132)), "SCTP chunk length 2 -> sctp.bad_chunk_length",
           ["eth", "ipv4", "sctp"], "ipv4", E4, 132, O1, O2, 40099, 38412, events=["sctp.bad_chunk_length"])
    fx.add(eth(E4, v4(O1, O2, esp(5, 1), proto=50)), "ESP SPI 5 (reserved) -> esp.reserved_spi, SPI kept",
           ["eth", "ipv4", "esp"], "ipv4", E4, 50, O1, O2, spi=5, events=["esp.reserved_spi"])
    fx.add(eth(E6, v6(O61, O62, ah(58, 0x3005, 0, bytes(ICMPv6EchoRequest(id=8, seq=1)), plen=0), nh=51)),
           "AH payload length 0 (8 bytes) over IPv6 -> ah.bad_length, ICMPv6 echo after it decoded",
           ["eth", "ipv6", "ah", "icmpv6"], "ipv6", E6, 58, O61, O62, spi=0x3005, events=["ah.bad_length"], icmp=(128, 0, 8))

    fx = Fixture("bad_iptun", LT_ETH, "malformed GRE, PPTP, ERSPAN and L2TPv3-over-IP headers")
    fx.add(eth(E4, v4(O1, O2, struct.pack("!HH", 0x0002, E4) + v4(I1, I2, udp(1, 2)), proto=47)), "GRE version 2 -> gre.bad_version",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.bad_version"])
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, udp(40100, 53, b"rf")), flags=0x0008), proto=47)),
           "GRE version 0 with reserved flag bits 0x0008 -> gre.reserved_flags, decoding goes on",
           ["eth", "ipv4", "gre", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40100, 53,
           tunnels=[T("gre", O1, O2)], events=["gre.reserved_flags"])
    sre = struct.pack("!HBB", 0x0800, 0, 4) + bytes([198, 51, 100, 9]) + struct.pack("!HBB", 0, 0, 0)
    fx.add(eth(E4, v4(O1, O2, struct.pack("!HHHH", 0x4000, E4, 0, 0) + sre + v4(I1, I2, udp(40101, 53, b"sr")), proto=47)),
           "GRE with RFC 1701 routing (one IPv4 SRE) -> gre.source_route, SREs skipped, decoding goes on",
           ["eth", "ipv4", "gre", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40101, 53,
           tunnels=[T("gre", O1, O2)], events=["gre.source_route"])
    ppp_in = ppp_frame(0x0021, v4(I1, I2, udp(1, 2)))
    fx.add(eth(E4, v4(O1, O2, struct.pack("!HHHH", 0x0001, 0x880b, len(ppp_in), 1) + ppp_in, proto=47)),
           "GRE version 1 without the K bit -> gre.pptp_no_key",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.pptp_no_key"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!HHHH", 0x2001, E4, 28, 1) + v4(I1, I2, udp(1, 2)), proto=47)),
           "GRE version 1 with protocol 0x0800 -> gre.pptp_bad_protocol",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.pptp_bad_protocol"])
    fx.add(eth(E4, v4(O1, O2, pptp_gre(1, ppp_in, paylen=500), proto=47)), "GRE version 1 payload length 500 beyond the packet -> gre.pptp_bad_length",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.pptp_bad_length"])
    fx.add(eth(E4, v4(O1, O2, gre(0x88be, struct.pack("!II", (3 << 28) | 5, 0) + mirrored, seq=9), proto=47)),
           "ERSPAN (GRE 0x88be with sequence number) version 3 -> erspan.bad_version",
           ["eth", "ipv4", "gre", "erspan"], "ipv4", E4, 47, O1, O2, tunnels=[T("gre", O1, O2)], events=["erspan.bad_version"])
    fx.add(eth(E4, v4(O1, O2, gre(0x22eb, struct.pack("!IIHH", (2 << 28) | 6, 0, 0, 5 << 10) + mirrored, seq=10), proto=47)),
           "ERSPAN type III frame type 5 -> erspan.unknown_frame_type",
           ["eth", "ipv4", "gre", "erspan"], "ipv4", E4, 47, O1, O2,
           tunnels=[T("gre", O1, O2), T("erspan", O1, O2, session_id=6)], events=["erspan.unknown_frame_type"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!IHHIHH", 0, 0xc802, 12, 1, 0, 0), proto=115)),
           "L2TPv3 over IP control message with version 2 -> l2tpv3.bad_version",
           ["eth", "ipv4", "l2tpv3"], "ipv4", E4, 115, O1, O2, events=["l2tpv3.bad_version"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!I", 5) + b"\x11" * 40, proto=115)),
           "L2TPv3 over IP data (session 5) whose payload is no Ethernet frame -> l2tpv3.no_ethernet",
           ["eth", "ipv4", "l2tpv3"], "ipv4", E4, 115, O1, O2, tunnels=[T("l2tp", O1, O2, session_id=5)],
           events=["l2tpv3.no_ethernet"])

    fx = Fixture("bad_udptun", LT_ETH, "malformed UDP tunnels: L2TP, GTP-U, Geneve, VXLAN, VXLAN-GPE")
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, struct.pack("!HHH", 0x0001, 1, 1) + bytes(10)))), "L2TP version 1 (L2F) -> l2tp.bad_version",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O1, O2, 1701, 1701, events=["l2tp.bad_version"])
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, struct.pack("!HHHH", 0x4002, 500, 1, 1) + ppp_in))),
           "L2TPv2 data with length 500 beyond the datagram -> l2tp.bad_length",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O1, O2, 1701, 1701, events=["l2tp.bad_length"])
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, struct.pack("!HHHHH", 0x8802, 1, 0, 0, 0)))),
           "L2TPv2 control message without the L bit -> l2tp.bad_control",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O1, O2, 1701, 1701, events=["l2tp.bad_control"])
    fx.add(eth(E4, v4(O1, O2, udp(1701, 1701, struct.pack("!HHI", 0x0003, 0, 9) + b"\x11" * 40))),
           "L2TPv3-over-UDP data (session 9) whose payload is no Ethernet frame -> l2tp.no_ethernet",
           ["eth", "ipv4", "udp", "l2tp"], "ipv4", E4, 17, O1, O2, 1701, 1701,
           tunnels=[T("l2tp", O1, O2, session_id=9)], events=["l2tp.no_ethernet"])
    gin = v4(I1, I2, udp(1, 2))
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x21, 255, gin, length=500)))), "GTP-U length 500 beyond the datagram -> gtp.bad_length",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152, events=["gtp.bad_length"])
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, struct.pack("!BBHI", 0x32, 255, 2, 0x22) + b"\x00\x01"))),
           "GTP-U with S set but length 2 (below the 4 optional bytes) -> gtp.bad_length",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152, events=["gtp.bad_length"])
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, struct.pack("!BBHIHBB", 0x34, 255, 8 + len(gin), 0x23, 0, 0, 0x85)
                                   + b"\x00\x00\x00\x00" + gin))),
           "GTP-U extension header of length 0 -> gtp.bad_ext_length",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152, events=["gtp.bad_ext_length"])
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x24, 255, gin, exts=[(0x85, b"\x00\x01")] * 17)))),
           "GTP-U with 17 chained extension headers -> gtp.too_many_exts",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152, events=["gtp.too_many_exts"])
    fx.add(eth(E4, v4(O1, O2, udp(2152, 2152, gtpu(0x25, 255, b"\x50" + bytes(27))))), "G-PDU payload with version nibble 5 -> gtp.unknown_payload",
           ["eth", "ipv4", "udp", "gtp"], "ipv4", E4, 17, O1, O2, 2152, 2152,
           tunnels=[T("gtp", O1, O2, teid=0x25)], events=["gtp.unknown_payload"])
    fx.add(eth(E4, v4(O1, O2, udp(49165, 6081, geneve(0x127, 0x6558, inner_eth, ver=1)))), "Geneve version 1 -> geneve.bad_version",
           ["eth", "ipv4", "udp", "geneve"], "ipv4", E4, 17, O1, O2, 49165, 6081, events=["geneve.bad_version"])
    fx.add(eth(E4, v4(O1, O2, udp(49166, 6081, geneve(0x128, 0x6558, bytes(16), optlen=63)))),
           "Geneve options length 252 bytes, 16 bytes after the header -> geneve.bad_option_length",
           ["eth", "ipv4", "udp", "geneve"], "ipv4", E4, 17, O1, O2, 49166, 6081,
           tunnels=[T("geneve", O1, O2, vni=0x128)], events=["geneve.bad_option_length"])
    fx.add(eth(E4, v4(O1, O2, udp(49167, 4789, vxlan(0, inner_eth, flags=0x00)))), "VXLAN with the I flag clear -> vxlan.no_vni, decoding goes on",
           ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"], "ipv4", E4, 6, I1, I2, 40066, 80,
           tunnels=[T("vxlan", O1, O2)], events=["vxlan.no_vni"])
    fx.add(eth(E4, v4(O1, O2, udp(49168, 4790, vxlan_gpe(12, 1, gin, flags=0x1c)))), "VXLAN-GPE version 1 -> vxlan_gpe.bad_version",
           ["eth", "ipv4", "udp", "vxlan_gpe"], "ipv4", E4, 17, O1, O2, 49168, 4790, events=["vxlan_gpe.bad_version"])
    fx.add(eth(E4, v4(O1, O2, udp(49169, 4790, vxlan_gpe(0, 1, v4(I1, I2, udp(40102, 53, b"nv")), flags=0x04)))),
           "VXLAN-GPE with the I flag clear, next protocol IPv4 -> vxlan_gpe.no_vni, decoding goes on",
           ["eth", "ipv4", "udp", "vxlan_gpe", "ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40102, 53,
           tunnels=[T("vxlan-gpe", O1, O2)], events=["vxlan_gpe.no_vni"])
    fx.add(eth(E4, v4(O1, O2, udp(49170, 4790, vxlan_gpe(13, 7, gin)))), "VXLAN-GPE next protocol 7 -> vxlan_gpe.unknown_next_protocol",
           ["eth", "ipv4", "udp", "vxlan_gpe"], "ipv4", E4, 17, O1, O2, 49170, 4790,
           tunnels=[T("vxlan-gpe", O1, O2, vni=13)], events=["vxlan_gpe.unknown_next_protocol"])

    # ---------------------------------------------------------------- limits
    fx = Fixture("limits", LT_ETH, "decode limits: GRE nested 8 deep (the default limit), 9 deep (decode.depth_exceeded), 31 AH headers (decode.too_many_layers)")

    def nested_gre(depth):
        pkt = v4(I1, I2, udp(40103, 53, b"deep"))
        for n in range(depth, 0, -1):   # level n's outer IP is 10.9.n.1 -> 10.9.n.2
            pkt = v4("10.9.%d.1" % n, "10.9.%d.2" % n, gre(E4, pkt, key=n), proto=47)
        return pkt
    fx.add(eth(E4, nested_gre(8)), "GRE nested 8 deep (keys 1..8): the default limit, decoded to the UDP inside",
           ["eth"] + ["ipv4", "gre"] * 8 + ["ipv4", "udp"], "ipv4", E4, 17, I1, I2, 40103, 53,
           tunnels=[T("gre", "10.9.%d.1" % n, "10.9.%d.2" % n, key=n) for n in range(1, 9)])
    fx.add(eth(E4, nested_gre(9)), "GRE nested 9 deep: the 9th GRE is past the limit -> decode.depth_exceeded",
           ["eth"] + ["ipv4", "gre"] * 9, "ipv4", E4, 47, "10.9.9.1", "10.9.9.2",
           tunnels=[T("gre", "10.9.%d.1" % n, "10.9.%d.2" % n, key=n) for n in range(1, 9)],
           events=["decode.depth_exceeded"])
    chain = bytes(udp(40104, 53, b"ah"))
    chain_nh = 17
    for n in range(31, 0, -1):
        chain = ah(chain_nh, 0x5000 + n, n, chain)
        chain_nh = 51
    fx.add(eth(E4, v4(O1, O2, chain, proto=51)), "31 AH headers in a row: layer 33 is past the 32-layer cap -> decode.too_many_layers",
           ["eth", "ipv4"] + ["ah"] * 30, "ipv4", E4, 51, O1, O2, spi=0x5000 + 30, events=["decode.too_many_layers"])

    # ------------------------------------------------------------- truncated
    fx = Fixture("truncated", LT_ETH, "frames cut by the snap length (caplen < len): <layer>.truncated")
    full = eth(E4, v4(O1, O2, tcp(40105, 80, "PA", b"x" * 20)))
    fx.add(full, "IPv4/TCP cut at 40 bytes (6 of TCP): ports read, header cut -> tcp.truncated",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40105, 80, events=["tcp.truncated"], caplen=40)
    fx.add(full, "cut at 20 bytes (6 of IPv4): before the addresses -> ipv4.truncated",
           ["eth", "ipv4"], "ipv4", E4, None, None, None, events=["ipv4.truncated"], caplen=20)
    fx.add(full, "cut at 10 bytes: inside the Ethernet header -> eth.truncated",
           ["eth"], "other", 0, None, None, None, events=["eth.truncated"], caplen=10)
    fx.add(eth(E6, v6(O61, O62, udp(40106, 53, b"cut6"))), "IPv6 cut at 30 bytes (16 of IPv6) -> ipv6.truncated",
           ["eth", "ipv6"], "ipv6", E6, None, None, None, events=["ipv6.truncated"], caplen=30)
    fx.add(eth(E4, v4(O1, O2, gre(E4, v4(I1, I2, udp(40107, 53, b"g")), key=77), proto=47)),
           "GRE with key cut at 40 bytes (6 of GRE) -> gre.truncated",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.truncated"], caplen=40)
    fx.add(eth(E4, v4(O1, O2, udp(49171, 4789, vxlan(300, inner_eth)))), "VXLAN cut inside the inner Ethernet header -> eth.truncated",
           ["eth", "ipv4", "udp", "vxlan", "eth"], "ipv4", E4, 17, O1, O2, 49171, 4789,
           tunnels=[T("vxlan", O1, O2, vni=300)], events=["eth.truncated"], caplen=14 + 20 + 8 + 8 + 10)
    fx.add(eth(E4, v4(O1, O2, udp(40108, 3544, v6(T6A, T6B, udp(1, 2, b"t"))))), "Teredo cut 2 bytes into the IPv6 header -> teredo.truncated",
           ["eth", "ipv4", "udp", "teredo"], "ipv4", E4, 17, O1, O2, 40108, 3544, events=["teredo.truncated"], caplen=14 + 20 + 8 + 2)
    fx.add(eth(E4, v4(O1, O2, esp(0x6000, 1), proto=50)), "ESP cut after the SPI -> esp.truncated, SPI kept",
           ["eth", "ipv4", "esp"], "ipv4", E4, 50, O1, O2, spi=0x6000, events=["esp.truncated"], caplen=14 + 20 + 4)
    frag_tcp = bytes(tcp(40109, 80, "S"))[:10]
    fx.add(eth(E4, v4(O1, O2, frag_tcp, proto=6, flags="MF")),
           "a first fragment (MF) whose 10 bytes end inside the TCP header: the rest is in the next fragment -> tcp.truncated",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40109, 80, fragment="first", events=["tcp.truncated"])

    fx = Fixture("too_short", LT_ETH, "frames shorter on the wire than their headers (caplen = len): <layer>.too_short")
    fx.add(bytes(10), "a 10-byte frame -> eth.too_short",
           ["eth"], "other", 0, None, None, None, events=["eth.too_short"])
    fx.add(eth(E4, v4(O1, O2, udp(1, 2))[:10], pad=False), "Ethernet with 10 bytes of IPv4 -> ipv4.too_short",
           ["eth", "ipv4"], "ipv4", E4, None, None, None, events=["ipv4.too_short"])
    fx.add(eth(E6, v6(O61, O62, udp(1, 2))[:30], pad=False), "Ethernet with 30 bytes of IPv6 -> ipv6.too_short",
           ["eth", "ipv6"], "ipv6", E6, None, None, None, events=["ipv6.too_short"])
    fx.add(eth(E4, v4(O1, O2, struct.pack("!HH", 40110, 53), proto=17)), "IPv4 total length 24: 4 bytes of UDP (frame padded) -> udp.too_short",
           ["eth", "ipv4", "udp"], "ipv4", E4, 17, O1, O2, 40110, 53, events=["udp.too_short"])
    fx.add(eth(E4, v4(O1, O2, bytes(tcp(40111, 80))[:10], proto=6)), "IPv4 with 10 bytes of TCP (not a fragment) -> tcp.too_short",
           ["eth", "ipv4", "tcp"], "ipv4", E4, 6, O1, O2, 40111, 80, events=["tcp.too_short"])
    fx.add(eth(E4, v4(O1, O2, b"\x20\x00\x08\x00\x00\x00", proto=47)), "GRE with K set and only 6 bytes -> gre.too_short",
           ["eth", "ipv4", "gre"], "ipv4", E4, 47, O1, O2, events=["gre.too_short"])
    fx.add(eth(E4, v4(O1, O2, udp(49172, 4789, b"\x08\x00\x00"))), "VXLAN with 3 bytes of header -> vxlan.too_short",
           ["eth", "ipv4", "udp", "vxlan"], "ipv4", E4, 17, O1, O2, 49172, 4789, events=["vxlan.too_short"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures", "decode")
    os.makedirs(outdir, exist_ok=True)
    build()
    total = 0
    for fx in FIXTURES:
        fx.write(outdir)
        total += os.path.getsize(os.path.join(outdir, fx.name + ".pcap"))
    nframes = sum(len(fx.frames) for fx in FIXTURES)
    print("make_decode_fixtures: %d fixtures, %d frames, %d bytes of pcap in %s" % (
        len(FIXTURES), nframes, total, os.path.normpath(outdir)))


if __name__ == "__main__":
    main()
