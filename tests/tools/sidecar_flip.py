#!/usr/bin/env python3
"""Bit flips in a sidecar, for tests/e2e/fault_sidecar.sh.

  sidecar_flip.py positions IDX [--per-section N] [--seed S]
      prints "OFFSET BIT WHERE" lines: positions spread over every part
      of the sidecar (docs/storage.md): the header's fields, its own
      checksum, the section table, N places in every section (its first
      and last byte and some between), the final checksum; the bit at
      each is chosen by the seed
  sidecar_flip.py flip FILE OFFSET BIT
      flips one bit of FILE in place (run it again to undo it)

Standard library only.
"""
import random
import struct
import sys

HEADER_FIELDS = [
    (0, 'magic'), (8, 'version'), (10, 'header size'), (12, 'flags'),
    (16, 'sidecar size'), (24, 'pcap size'), (32, 'earliest time'),
    (40, 'latest time'), (48, 'packets'), (56, 'wire bytes'),
    (64, 'connections'), (68, 'contexts'), (72, 'strings'),
    (76, 'directory interval'), (80, 'link type'), (84, 'snap length'),
    (88, 'class name'), (92, 'sections'), (96, 'sequence'), (104, 'start'),
    (112, 'index interval'), (116, 'time unit'), (120, 'header checksum'),
]

SECTIONS = {1: 'strings', 2: 'packet directory', 3: 'contexts',
            4: 'connections per context', 5: 'connection index',
            6: 'connection records', 7: 'shapes', 8: 'pcap checksum'}
FIELDS = ['addr4', 'addr6', 'port', 'proto', 'l3', 'ethertype', 'spi', 'app',
          'vlan', 'tunnel', 'tunnel_name', 'gre_key', 'l2tp_tunnel',
          'session', 'vni', 'teid', 'mpls_label', 'outer_addr4',
          'outer_addr6', 'tunnel_addr4', 'tunnel_addr6']


def section_name(sid):
    if sid in SECTIONS:
        return SECTIONS[sid]
    if 16 <= sid < 16 + len(FIELDS):
        return 'postings of ' + FIELDS[sid - 16]
    return 'section %d' % sid


def positions(path, per_section, seed):
    d = open(path, 'rb').read()
    rnd = random.Random(seed)
    out = []
    for off, name in HEADER_FIELDS:
        out.append((off + rnd.randrange(2), 'header: ' + name))
    nsec = struct.unpack_from('<I', d, 92)[0]
    for i in range(nsec):
        e = 128 + 24 * i
        out.append((e + rnd.choice([0, 8, 16]), 'section table entry %d' % i))
    for i in range(nsec):
        e = 128 + 24 * i
        sid, _, off, n = struct.unpack_from('<IIQQ', d, e)
        if n == 0:
            continue
        picks = {0, n - 1}
        while len(picks) < min(per_section, n):
            picks.add(rnd.randrange(n))
        for p in sorted(picks):
            out.append((off + p, '%s, byte %d of %d' % (section_name(sid),
                                                        p, n)))
    for k in (0, 7):
        out.append((len(d) - 8 + k, 'final checksum'))
    for off, where in out:
        print(off, rnd.randrange(8), where)


def flip(path, off, bit):
    with open(path, 'r+b') as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ (1 << bit)]))


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == 'positions':
        per, seed = 3, 1
        if '--per-section' in a:
            per = int(a[a.index('--per-section') + 1])
        if '--seed' in a:
            seed = int(a[a.index('--seed') + 1])
        positions(a[1], per, seed)
    elif len(a) == 4 and a[0] == 'flip':
        flip(a[1], int(a[2]), int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
