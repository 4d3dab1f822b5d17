#!/usr/bin/env python3
"""Splits a pcap into N parts by tm's connection key, as a symmetric-hash
packet broker would: both directions of a connection go to the same part.

  pcap_split_key.py IN.pcap DECODE.jsonl N OUT_PREFIX [--describe FILE]

DECODE.jsonl is `tm decode --json -r IN.pcap` (one object per frame, in
order; "key" is tm's direction-independent connection key hash). Frame i
goes to OUT_PREFIX<k>.pcap with k = int(key, 16) % N (k from 1). The
records are copied byte for byte (header included).

--describe FILE writes, per part, what a cluster file could truthfully say
of it: the inner addresses its frames carry (src and dst, from the decode)
and the VLAN ids of its frames, as JSON {"1": {"addrs": [...], "vlans":
[...]}, ...}, plus the frame counts.

Standard library only.
"""
import json
import sys

import pcap_records


def records(path):
    hdr, recs = pcap_records.read(path)
    return hdr, [r[3] for r in recs]


def main():
    args = sys.argv[1:]
    describe = None
    if '--describe' in args:
        i = args.index('--describe')
        describe = args[i + 1]
        del args[i:i + 2]
    if len(args) != 4:
        raise SystemExit(__doc__)
    src, dec, n, prefix = args[0], args[1], int(args[2]), args[3]
    hdr, recs = records(src)
    frames = [json.loads(line) for line in open(dec) if line.strip()]
    if len(frames) != len(recs):
        raise SystemExit('%d frames decoded, %d in the pcap' %
                         (len(frames), len(recs)))
    outs = [open('%s%d.pcap' % (prefix, k + 1), 'wb') for k in range(n)]
    for o in outs:
        o.write(hdr)
    desc = {str(k + 1): {'addrs': set(), 'vlans': set(), 'frames': 0}
            for k in range(n)}
    for fr, rec in zip(frames, recs):
        key = fr.get('key')
        if not key:
            raise SystemExit('frame %d has no key' % fr['frame'])
        k = int(key, 16) % n
        outs[k].write(rec)
        d = desc[str(k + 1)]
        d['frames'] += 1
        for a in (fr.get('src'), fr.get('dst')):
            if a:
                d['addrs'].add(a)
        for v in fr.get('vlan') or []:
            d['vlans'].add(int(v))
    for o in outs:
        o.close()
    if describe:
        with open(describe, 'w') as f:
            json.dump({k: {'addrs': sorted(v['addrs']),
                           'vlans': sorted(v['vlans']),
                           'frames': v['frames']}
                       for k, v in desc.items()}, f)
    print(' '.join('%s:%d' % (k, v['frames']) for k, v in desc.items()))


if __name__ == '__main__':
    main()
