#!/usr/bin/env python3
"""Writes the capture files of the fault tests (tests/e2e/fault_inputs.sh):
odd frames, odd timestamps, bad headers, several link types.

  make_fault_pcaps.py DIR

Every file is deterministic (no randomness, fixed times). The frames are
small valid TCP/UDP packets unless said otherwise. Files:

  runts.pcap       Ethernet frames with caplen 0, 1, 13 (and len 60), a
                   frame of 14 bytes (a header, nothing after it), between
                   whole UDP packets; its truth in runts.txt
  jumbo.pcap       snaplen 262144: UDP in Ethernet frames of 9000, 65535
                   and 262144 bytes (the last an IPv4 packet of 65535
                   bytes, then padding: a segmentation-offloaded frame)
  over.pcap        snaplen 262144, a good frame, then a record of 262145
                   bytes (bad: beyond what libpcap accepts), then a good one
  caplen_gt_len.pcap  a record whose caplen (100) exceeds its len (60)
  caplen_gt_snap.pcap snaplen 128, a record of 200 bytes
  backwards.pcap   UDP and TCP packets whose time goes forth, jumps back
                   3 hours, forth again, back 10 minutes, and on: the time
                   of each frame in backwards.times (one per line, ns)
  bad_magic.pcap, bad_version.pcap, snaplen0.pcap, snaplen_huge.pcap,
  linktype_unknown.pcap, short_header.pcap (10 bytes), empty.pcap (0 bytes),
  no_packets.pcap (a good header, no record),
  torn_record.pcap (a good frame, then a record header cut short)
  multi_link.pcapng  pcapng: interface 0 Ethernet and two packets on it,
                   then interface 1 raw IP (LINKTYPE_RAW, 101) and six
                   packets alternating between them
  two_eth.pcapng   pcapng: two Ethernet interfaces, packets alternating
  late.pcapng      pcapng: a packet in 2106 (time beyond 32-bit seconds)
                   between two of 2025

Standard library only.
"""
import os
import struct
import sys

ETH_MAC = b'\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02'
T0 = 1764000000  # 2025-11-24T16:00:00Z


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, total=None):
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tl & 0xffff, 1, 0, 64, proto,
                    0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, data, length=None):
    ln = length if length is not None else 8 + len(data)
    return struct.pack('!HHHH', sport, dport, ln & 0xffff, 0) + data


def tcp(sport, dport, seq, flags, data=b''):
    return struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, flags,
                       65535, 0, 0) + data


def eth(payload, ethertype=0x0800):
    return ETH_MAC + struct.pack('!H', ethertype) + payload


def udp_frame(i, size=0, sport=None):
    data = bytes([i & 0xff]) * size
    return eth(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17,
                    udp(sport or 40000 + i, 9999, data)))


def pcap(path, recs, snaplen=65535, linktype=1, magic=0xa1b2c3d4,
         version=(2, 4)):
    """recs: (ts_ns, caplen, len, bytes) or (ts_ns, frame)."""
    nano = magic == 0xa1b23c4d
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', magic, version[0], version[1], 0, 0,
                            snaplen, linktype))
        for r in recs:
            if len(r) == 2:
                ts, frame = r
                cap, ln = len(frame), len(frame)
            else:
                ts, cap, ln, frame = r
            sec, ns = divmod(ts, 10**9)
            frac = ns if nano else ns // 1000
            f.write(struct.pack('<IIII', sec, frac, cap, ln))
            f.write(frame[:cap])


def ns(sec, frac=0):
    return (T0 + sec) * 10**9 + frac


def runts(d):
    recs = []
    truth = []
    t = 0
    for kind, cap, ln, frame in [
            ('good', None, None, udp_frame(1)),
            ('caplen0', 0, 60, b''),
            ('good', None, None, udp_frame(2)),
            ('caplen1', 1, 60, b'\x02'),
            ('caplen13', 13, 60, udp_frame(3)[:13]),
            ('header_only', 14, 14, udp_frame(4)[:14]),
            ('good', None, None, udp_frame(5)),
            ('caplen0_len0', 0, 0, b''),
            ('good', None, None, udp_frame(6))]:
        t += 1
        if cap is None:
            recs.append((ns(t), frame))
        else:
            recs.append((ns(t), cap, ln, frame))
        truth.append(kind)
    pcap(os.path.join(d, 'runts.pcap'), recs, magic=0xa1b23c4d)
    with open(os.path.join(d, 'runts.txt'), 'w') as f:
        f.write('\n'.join(truth) + '\n')


def jumbo(d):
    recs = [(ns(1), udp_frame(1))]
    # IPv4 + UDP lengths are 16 bits: a 65535-byte frame holds 65521 of IP
    f9000 = eth(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17,
                     udp(40001, 9, b'J' * (9000 - 14 - 28))))
    f65535 = eth(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17,
                      udp(40002, 9, b'K' * (65535 - 14 - 28))))
    # a frame of 262144 bytes, the largest a pcap record may hold: an IP
    # packet of 65535 bytes (its limit) and padding after it
    big = eth(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17,
                   udp(40003, 9, b'L' * (65535 - 28)), total=65535))
    big = (big + b'\0' * 262144)[:262144]
    recs += [(ns(2), f9000), (ns(3), f65535),
             (ns(4), big), (ns(5), udp_frame(5))]
    pcap(os.path.join(d, 'jumbo.pcap'), recs, snaplen=262144)
    over = (big + b'\0')[:262145]
    pcap(os.path.join(d, 'over.pcap'),
         [(ns(1), udp_frame(1)), (ns(2), 262145, 262145, over),
          (ns(3), udp_frame(3))], snaplen=262144)


def lengths(d):
    f = udp_frame(1, 58)
    pcap(os.path.join(d, 'caplen_gt_len.pcap'),
         [(ns(1), udp_frame(0)), (ns(2), 100, 60, f[:100]),
          (ns(3), udp_frame(2))])
    f = udp_frame(1, 200)
    pcap(os.path.join(d, 'caplen_gt_snap.pcap'),
         [(ns(1), udp_frame(0)), (ns(2), 200, 200, f[:200]),
          (ns(3), udp_frame(2))], snaplen=128)


def backwards(d):
    """Time: 0..59 s, then 3 h back, 60 s on, then forth to +2 h, 10 min
    back, on. Two conversations (UDP, TCP) throughout."""
    times = []
    t = ns(10800)  # start 3 h after T0 so that "3 h back" stays >= T0
    steps = [(30, 2 * 10**9)] + [(1, -3 * 3600 * 10**9)] + \
        [(30, 2 * 10**9)] + [(1, 5 * 3600 * 10**9)] + \
        [(30, 2 * 10**9)] + [(1, -600 * 10**9)] + [(30, 2 * 10**9)]
    for n, dt in steps:
        for _ in range(n):
            times.append(t)
            t += dt
    recs = []
    seq = 1000
    for i, ts in enumerate(times):
        if i % 2:
            frame = udp_frame(i, 20, sport=40000)
        else:
            frame = eth(ipv4([10, 0, 0, 3], [10, 0, 0, 4], 6,
                             tcp(50000, 80, seq, 0x18, b'x' * 10)))
            seq += 10
        recs.append((ts, frame))
    pcap(os.path.join(d, 'backwards.pcap'), recs, magic=0xa1b23c4d)
    with open(os.path.join(d, 'backwards.times'), 'w') as f:
        f.write(''.join('%d\n' % ts for ts in times))


def bad_headers(d):
    good = [(ns(1), udp_frame(1))]
    pcap(os.path.join(d, 'bad_magic.pcap'), good, magic=0xdeadbeef)
    pcap(os.path.join(d, 'bad_version.pcap'), good, version=(3, 0))
    pcap(os.path.join(d, 'snaplen0.pcap'), good, snaplen=0)
    pcap(os.path.join(d, 'snaplen_huge.pcap'), good, snaplen=0x7fffffff)
    pcap(os.path.join(d, 'linktype_unknown.pcap'), good, linktype=4000)
    with open(os.path.join(d, 'short_header.pcap'), 'wb') as f:
        f.write(struct.pack('<IHHiI', 0xa1b2c3d4, 2, 4, 0, 0)[:10])
    open(os.path.join(d, 'empty.pcap'), 'wb').close()
    pcap(os.path.join(d, 'no_packets.pcap'), [])
    p = os.path.join(d, 'torn_record.pcap')
    pcap(p, good + [(ns(2), udp_frame(2))])
    with open(p, 'r+b') as f:
        f.truncate(os.path.getsize(p) - len(udp_frame(2)) - 6)


def pcapng_block(btype, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return struct.pack('<II', btype, total) + body + b'\0' * pad + \
        struct.pack('<I', total)


def idb(linktype):
    opt = struct.pack('<HHB3x', 9, 1, 9) + struct.pack('<HH', 0, 0)
    return pcapng_block(1, struct.pack('<HHI', linktype, 0, 262144) + opt)


def epb(iface, ts, frame):
    body = struct.pack('<IIIII', iface, ts >> 32, ts & 0xffffffff,
                       len(frame), len(frame)) + frame
    return pcapng_block(6, body + b'\0' * ((-len(frame)) % 4))


def pcapng(path, blocks):
    """blocks: ('if', linktype) or (iface, ts_ns, frame), in file order.
    Nanosecond resolution (if_tsresol 9) on every interface."""
    out = [pcapng_block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0,
                                                -1))]
    for b in blocks:
        out.append(idb(b[1]) if b[0] == 'if' else epb(*b))
    with open(path, 'wb') as f:
        f.write(b''.join(out))


def multi_link(d):
    """multi_link.pcapng: an Ethernet interface, two packets on it, then
    a raw IP interface (LINKTYPE_RAW) and packets alternating on both;
    two_eth.pcapng: two Ethernet interfaces, packets alternating;
    late.pcapng: a packet in 2106 (beyond 32-bit seconds) between two."""
    ips = [ipv4([10, 0, 1, 1], [10, 0, 1, 2], 17,
                udp(41000 + i, 9999, b'q' * 12)) for i in range(8)]
    blocks = [('if', 1), (0, ns(1), eth(ips[0])), (0, ns(2), eth(ips[1])),
              ('if', 101)]
    for i in range(2, 8):
        blocks.append((0, ns(i + 1), eth(ips[i])) if i % 2 == 0 else
                      (1, ns(i + 1), ips[i]))
    pcapng(os.path.join(d, 'multi_link.pcapng'), blocks)
    pcapng(os.path.join(d, 'two_eth.pcapng'), [('if', 1), ('if', 1)] +
           [(i % 2, ns(i + 1), eth(ips[i])) for i in range(8)])
    pcapng(os.path.join(d, 'late.pcapng'), [
        ('if', 1), (0, ns(1), udp_frame(1)),
        (0, (2**32 + 5) * 10**9, udp_frame(2)), (0, ns(3), udp_frame(3))])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    runts(d)
    jumbo(d)
    lengths(d)
    backwards(d)
    bad_headers(d)
    multi_link(d)


if __name__ == '__main__':
    main()
