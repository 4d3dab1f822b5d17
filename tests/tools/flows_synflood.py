#!/usr/bin/env python3
"""Writes a SYN flood as a classic pcap: N one-packet TCP connections.

usage: flows_synflood.py -n COUNT [-o FILE|-] [--rate PPS] [--start TS]
                         [--legit K]

Every packet is a TCP SYN (Ethernet/IPv4/TCP, 54 bytes) from a different
source address and port to 10.255.0.1:80, so every packet is a connection
of its own: the case that ran the original Time Machine out of memory.
--rate spaces the packets in time (default 1,000,000 per second: a million
connections arrive within one second, long before any timeout).
--legit K adds, every K flood packets, one packet of a single long-lived
UDP conversation (10.254.0.1:5353 -> 10.254.0.2:5353) that must survive
the flood as one connection. Python standard library only; fast enough
for millions of packets (~1 s per million).
"""
import argparse
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("-o", default="-")
    ap.add_argument("--rate", type=float, default=1e6)
    ap.add_argument("--start", type=float, default=1764000000.0)
    ap.add_argument("--legit", type=int, default=0)
    a = ap.parse_args()

    out = sys.stdout.buffer if a.o == "-" else open(a.o, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    # IPv4 (checksum left 0: nothing here verifies it) + TCP SYN
    frame = bytearray(eth + struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0,
        b"\x0a\x00\x00\x00", b"\x0a\xff\x00\x01") + struct.pack(
        "!HHIIBBHHH", 0, 80, 0, 0, 0x50, 0x02, 1024, 0, 0))
    legit = bytearray(eth + struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 32, 0, 0x4000, 64, 17, 0,
        b"\x0a\xfe\x00\x01", b"\x0a\xfe\x00\x02") + struct.pack(
        "!HHHH", 5353, 5353, 8 + 32, 0) + bytes(32))
    n = len(frame)
    step = 1.0 / a.rate
    buf = []
    hdr = struct.Struct("<IIII")
    src = struct.Struct("!I")
    port = struct.Struct("!H")
    for i in range(a.n):
        t = a.start + i * step
        sec = int(t)
        usec = int((t - sec) * 1e6)
        # source 10.x.y.z and port: distinct for every packet
        src.pack_into(frame, 26, 0x0A000000 | ((i >> 14) & 0xFFFFFF))
        port.pack_into(frame, 34, 1024 + (i & 0x3FFF))
        buf.append(hdr.pack(sec, usec, n, n))
        buf.append(bytes(frame))
        if a.legit and i % a.legit == 0:
            buf.append(hdr.pack(sec, usec, len(legit), len(legit)))
            buf.append(bytes(legit))
        if len(buf) >= 65536:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))
    out.flush()


if __name__ == "__main__":
    main()
