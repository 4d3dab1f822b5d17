#!/usr/bin/env python3
"""Compares the frames of pcap files as multisets of their bytes.

  pcap_multiset.py [--subset] EXPECTED.pcap GOT.pcap [GOT2.pcap ...]
  pcap_multiset.py [--subset] EXP1.pcap EXP2.pcap ... -- GOT.pcap ...
  pcap_multiset.py --count FILE.pcap

Every frame of the EXPECTED files (its captured bytes, timestamps
ignored) must be among the GOT files' frames exactly as many times as in
EXPECTED, and no other frame may be there. With --subset, GOT's frames
must only be among EXPECTED's (each at most as often). --count prints the
number of frames. Prints the counts and, on a difference, up to
ten missing and ten extra frames (length and first bytes); exits 1 then.
Reads classic pcap (micro- or nanosecond magic, either byte order).

Standard library only.
"""
import collections
import hashlib
import sys

import pcap_records


def frames(path):
    return [r[1] for r in pcap_records.read(path)[1]]


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == '--count':
        print(len(frames(args[1])))
        return
    subset = False
    if args and args[0] == '--subset':
        subset = True
        args = args[1:]
    if '--' in args:
        i = args.index('--')
        expected, got_files = args[:i], args[i + 1:]
    else:
        expected, got_files = args[:1], args[1:]
    if not expected or not got_files:
        raise SystemExit(__doc__)
    exp = collections.Counter()
    sample = {}
    for p in expected:
        for b in frames(p):
            h = hashlib.sha1(b).digest()
            exp[h] += 1
            sample.setdefault(h, b)
    got = collections.Counter()
    for p in got_files:
        for b in frames(p):
            h = hashlib.sha1(b).digest()
            got[h] += 1
            sample.setdefault(h, b)
    missing = collections.Counter() if subset else exp - got
    extra = got - exp
    print('expected %d frames, got %d; missing %d, extra %d%s' %
          (sum(exp.values()), sum(got.values()), sum(missing.values()),
           sum(extra.values()), ' (subset)' if subset else ''))
    for name, c in (('missing', missing), ('extra', extra)):
        for h, n in list(c.items())[:10]:
            b = sample[h]
            print('  %s x%d: %d bytes %s' % (name, n, len(b), b[:24].hex()))
    sys.exit(1 if missing or extra else 0)


if __name__ == '__main__':
    main()
