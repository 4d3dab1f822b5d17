#!/usr/bin/env python3
"""Writes load traces for tm capture (tests/e2e/fault_load.sh,
bench/load_bench.sh) as a classic pcap (microseconds).

usage: load_trace.py --kind syn|udp -n COUNT [-o FILE|-] [--rate PPS]
                     [--start TS] [--legit K]

  syn  N TCP SYNs (Ethernet/IPv4/TCP, 54 bytes), each from a different
       source address and port to 10.255.0.1:80: N half-open connections
  udp  N one-packet UDP flows (Ethernet/IPv4/UDP with 18 bytes of
       payload, 60 bytes), each from a different source address and port
       to 10.253.0.1:53: N tiny flows

--rate spaces the packets (default 1,000,000 per second: far below any
idle timeout, so connections end only by eviction or at the end).
--legit K adds, every K packets, one packet of a single long UDP
conversation (10.254.0.1:5353 -> 10.254.0.2:5353) that must survive as
one connection. Frame i (from 0) of the flood uses source address
10.(i >> 14 & 0xffffff) and port 1024 + (i & 0x3fff). Deterministic.
Standard library only; about a second per million packets.
"""
import argparse
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--kind', choices=('syn', 'udp'), required=True)
    ap.add_argument('-n', type=int, required=True)
    ap.add_argument('-o', default='-')
    ap.add_argument('--rate', type=float, default=1e6)
    ap.add_argument('--start', type=float, default=1764000000.0)
    ap.add_argument('--legit', type=int, default=0)
    a = ap.parse_args()

    out = sys.stdout.buffer if a.o == '-' else open(a.o, 'wb')
    out.write(struct.pack('<IHHiIII', 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    eth = b'\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00'
    if a.kind == 'syn':
        frame = bytearray(eth + struct.pack(
            '!BBHHHBBH4s4s', 0x45, 0, 40, 0, 0x4000, 64, 6, 0,
            b'\x0a\x00\x00\x00', b'\x0a\xff\x00\x01') + struct.pack(
            '!HHIIBBHHH', 0, 80, 0, 0, 0x50, 0x02, 1024, 0, 0))
    else:
        frame = bytearray(eth + struct.pack(
            '!BBHHHBBH4s4s', 0x45, 0, 46, 0, 0x4000, 64, 17, 0,
            b'\x0a\x00\x00\x00', b'\x0a\xfd\x00\x01') + struct.pack(
            '!HHHH', 0, 53, 26, 0) + b'\x12\x34\x01\x00\x00\x01' +
            bytes(12))
    legit = bytearray(eth + struct.pack(
        '!BBHHHBBH4s4s', 0x45, 0, 20 + 8 + 32, 0, 0x4000, 64, 17, 0,
        b'\x0a\xfe\x00\x01', b'\x0a\xfe\x00\x02') + struct.pack(
        '!HHHH', 5353, 5353, 8 + 32, 0) + bytes(32))
    n = len(frame)
    step = 1.0 / a.rate
    buf = []
    hdr = struct.Struct('<IIII')
    src = struct.Struct('!I')
    port = struct.Struct('!H')
    for i in range(a.n):
        t = a.start + i * step
        sec = int(t)
        usec = int((t - sec) * 1e6)
        src.pack_into(frame, 26, 0x0A000000 | ((i >> 14) & 0xFFFFFF))
        port.pack_into(frame, 34, 1024 + (i & 0x3FFF))
        buf.append(hdr.pack(sec, usec, n, n))
        buf.append(bytes(frame))
        if a.legit and i % a.legit == 0:
            buf.append(hdr.pack(sec, usec, len(legit), len(legit)))
            buf.append(bytes(legit))
        if len(buf) >= 65536:
            out.write(b''.join(buf))
            buf.clear()
    out.write(b''.join(buf))
    out.flush()


if __name__ == '__main__':
    main()
