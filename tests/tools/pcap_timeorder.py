#!/usr/bin/env python3
"""Checks that a merged pcap holds exactly the expected frames, with their
timestamps, in time order.

  pcap_timeorder.py EXPECTED.pcap GOT.pcap
  pcap_timeorder.py EXP1.pcap EXP2.pcap ... -- GOT.pcap

The (timestamp in ns, captured bytes, wire length) of every frame of the
EXPECTED files, as a multiset, must equal GOT's; and GOT's timestamps
must never go back. Reads classic pcap (micro- or nanosecond magic, either
byte order). Prints the counts; on a difference, up to ten missing and
extra frames, or the first place time goes back; exits 1 then.

Standard library only.
"""
import collections
import sys

import pcap_records


def frames(path):
    return [r[:3] for r in pcap_records.read(path)[1]]


def show(fr):
    return 'ts %d, %d bytes (wire %d) %s' % (fr[0], len(fr[1]), fr[2],
                                            fr[1][:16].hex())


def main():
    args = sys.argv[1:]
    if '--' in args:
        i = args.index('--')
        exp_paths, got_paths = args[:i], args[i + 1:]
    else:
        exp_paths, got_paths = args[:-1], args[-1:]
    if not exp_paths or len(got_paths) != 1:
        raise SystemExit(__doc__)
    exp = collections.Counter()
    for p in exp_paths:
        exp.update(frames(p))
    got_list = frames(got_paths[0])
    got = collections.Counter(got_list)
    missing = exp - got
    extra = got - exp
    back = None
    for k in range(1, len(got_list)):
        if got_list[k][0] < got_list[k - 1][0]:
            back = k
            break
    print('expected %d frames, got %d; missing %d, extra %d; time order %s'
          % (sum(exp.values()), len(got_list), sum(missing.values()),
             sum(extra.values()), 'ok' if back is None else
             'broken at frame %d' % (back + 1)))
    for fr in list(missing.elements())[:10]:
        print('  missing: ' + show(fr))
    for fr in list(extra.elements())[:10]:
        print('  extra:   ' + show(fr))
    if back is not None:
        print('  frame %d: %s' % (back, show(got_list[back - 1])))
        print('  frame %d: %s' % (back + 1, show(got_list[back])))
    sys.exit(1 if missing or extra or back is not None else 0)


if __name__ == '__main__':
    main()
