#!/usr/bin/env python3
"""Checks a timemachine store against its input and gen-trace's truth.

A second, independent reader of the store's files, written from
docs/storage.md: pcap segments, sidecars (every section, both checksums,
postings recomputed from the connection records and compared) and the
flow files.

  storage_check.py packets --input IN --store S [--truth T --packet-truth P]
      the segments, merged in time order, hold exactly IN's packets
      (per-packet hash multiset), each segment in input order; every
      sidecar parses and agrees with its segment; with the truth files,
      every sidecar connection is exactly one truth connection (key,
      direction of each packet, VLANs, tunnel identifiers, outer addresses)
  storage_check.py cutoff --input IN --store S --flows F --packet-truth P
      --cutoff N [--keep-control 0|1]
      the stored packets are exactly the frames the cutoff rule keeps, and
      per connection what the flow records (tm flows -s --json) say
  storage_check.py sidecar FILE...
      parse and validate sidecars, print a summary
  storage_check.py watch --store S --pid PID [--class-budget C=B ...]
      [--disk D] [--flows-budget F --flows-segment G] --segment-size Z
      polls the store's sizes until PID exits: a class never exceeds its
      budget by more than one segment, the store never exceeds the
      store-wide budget by more than one segment per class, the flow
      files never exceed theirs by more than one flow file

Standard library only.
"""
import argparse
import bisect
import collections
import json
import os
import re
import struct
import sys
import time

# ---------------------------------------------------------------- xxh64

M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F,
                      0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
                      0x27D4EB2F165667C5)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, v):
    acc = (acc + v * P2) & M64
    return (_rotl(acc, 31) * P1) & M64


def _merge(acc, v):
    acc ^= _round(0, v)
    return (acc * P1 + P4) & M64


def xxh64(data, seed=0):
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + P1 + P2) & M64
        v2 = (seed + P2) & M64
        v3 = seed
        v4 = (seed - P1) & M64
        words = struct.unpack_from('<%dQ' % ((n // 32) * 4), data, 0)
        for k in range(0, len(words), 4):
            v1 = _round(v1, words[k])
            v2 = _round(v2, words[k + 1])
            v3 = _round(v3, words[k + 2])
            v4 = _round(v4, words[k + 3])
        i = (n // 32) * 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) \
            & M64
        h = _merge(h, v1)
        h = _merge(h, v2)
        h = _merge(h, v3)
        h = _merge(h, v4)
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        k1 = _round(0, struct.unpack_from('<Q', data, i)[0])
        h ^= k1
        h = (_rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from('<I', data, i)[0] * P1) & M64
        h = (_rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M64
        h = (_rotl(h, 11) * P1) & M64
        i += 1
    h ^= h >> 33
    h = (h * P2) & M64
    h ^= h >> 29
    h = (h * P3) & M64
    h ^= h >> 32
    return h

# ---------------------------------------------------------------- pcap


def read_pcap(path):
    """[(ts_ns, caplen, wirelen, data, offset)]"""
    b = open(path, 'rb').read()
    magic = struct.unpack_from('<I', b, 0)[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = '<'
    else:
        end = '>'
        magic = struct.unpack_from('>I', b, 0)[0]
    nano = magic == 0xa1b23c4d
    linktype = struct.unpack_from(end + 'I', b, 20)[0] & 0xffff
    out = []
    off = 24
    while off + 16 <= len(b):
        s, f, cl, wl = struct.unpack_from(end + 'IIII', b, off)
        if off + 16 + cl > len(b):
            raise ValueError('%s: torn record at %d' % (path, off))
        ts = s * 1000000000 + (f if nano else f * 1000)
        out.append((ts, cl, wl, b[off + 16:off + 16 + cl], off))
        off += 16 + cl
    if off != len(b):
        raise ValueError('%s: %d bytes after the last record' %
                         (path, len(b) - off))
    return out, linktype


SEG_RE = re.compile(r'^(\d+)-(\d+)\.(pcap|idx)$')


def segments(store):
    """{class: [(start, seq, pcap_path, idx_path or None)]} by seq"""
    root = os.path.join(store, 'segments')
    res = {}
    for cls in sorted(os.listdir(root)):
        d = os.path.join(root, cls)
        if not os.path.isdir(d):
            continue
        seen = {}
        for n in os.listdir(d):
            m = SEG_RE.match(n)
            if not m:
                continue
            key = (int(m.group(1)), int(m.group(2)))
            seen.setdefault(key, {})[m.group(3)] = os.path.join(d, n)
        res[cls] = [(k[0], k[1], v.get('pcap'), v.get('idx'))
                    for k, v in sorted(seen.items(), key=lambda kv: kv[0][1])]
    return res

# ---------------------------------------------------------------- sidecar

FIELDS = [('addr4', 4, 0), ('addr6', 16, 0), ('port', 2, 0), ('proto', 1, 0),
          ('l3', 1, 0), ('ethertype', 2, 0), ('spi', 4, 0), ('app', 4, 0),
          ('vlan', 2, 1), ('tunnel', 1, 1), ('tunnel_name', 4, 1),
          ('gre_key', 4, 1), ('l2tp_tunnel', 4, 1), ('session', 4, 1),
          ('vni', 4, 1), ('teid', 4, 1), ('mpls_label', 4, 1),
          ('outer_addr4', 4, 1), ('outer_addr6', 16, 1),
          ('tunnel_addr4', 4, 1), ('tunnel_addr6', 16, 1)]
C_ORIG_B, C_PORTS, C_SPI, C_PROTO, C_STREAM, C_KPORTS = 1, 2, 4, 8, 16, 32
TID = ['key', 'tunnel_id', 'session_id', 'vni', 'teid', 'label']
TUN_GRE, TUN_L2TP, TUN_IPIP, TUN_VXLAN = 1, 4, 5, 6


class Bad(Exception):
    pass


class Rd:
    def __init__(self, b, off=0, end=None):
        self.b, self.p = b, off
        self.end = len(b) if end is None else end

    def need(self, n):
        if self.p + n > self.end:
            raise Bad('read past the end at %d' % self.p)

    def u8(self):
        self.need(1)
        self.p += 1
        return self.b[self.p - 1]

    def le(self, n):
        self.need(n)
        v = int.from_bytes(self.b[self.p:self.p + n], 'little')
        self.p += n
        return v

    def raw(self, n):
        self.need(n)
        self.p += n
        return self.b[self.p - n:self.p]

    def varint(self):
        v, shift = 0, 0
        while True:
            c = self.u8()
            v |= (c & 0x7f) << shift
            if not c & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise Bad('varint too long')


def famlen(code):
    return {0: 0, 1: 4, 2: 16}[code]


def parse_sidecar(path):
    b = open(path, 'rb').read()
    if len(b) < 136 or b[:8] != b'TMIDX\r\n\x1a':
        raise Bad('not a sidecar')
    (ver, hsize, flags, size, pcap_size, min_ts, max_ts, npk, wire, nconn,
     nctx, nstr, dint, lt, snap, cls, nsec, seq, start, every, zero) = \
        struct.unpack_from('<HHIQQqqQQIIIIIIIIQqII', b, 8)
    # version 2 (docs/storage.md): the word at 116 is the records' time
    # unit (1 or 1000 ns); version 1 (written before it) is read as well
    if ver not in (1, 2) or hsize != 128 or every != 16 or \
            zero != (0 if ver == 1 else zero) or \
            (ver == 2 and zero not in (1, 1000)):
        raise Bad('header')
    unit = zero if ver == 2 else 1
    if struct.unpack_from('<Q', b, 120)[0] != xxh64(b[:120]):
        raise Bad('header checksum')
    if size != len(b) or struct.unpack_from('<Q', b, len(b) - 8)[0] != \
            xxh64(b[:len(b) - 8]):
        raise Bad('checksum')
    secs = {}
    for i in range(nsec):
        sid, z, off, ln = struct.unpack_from('<IIQQ', b, 128 + 24 * i)
        if off + ln > len(b) - 8 or off < 128 + 24 * nsec or sid in secs:
            raise Bad('section table')
        secs[sid] = (off, ln)
    S = {'path': path, 'flags': flags, 'pcap_size': pcap_size,
         'min_ts': min_ts, 'max_ts': max_ts, 'packets': npk, 'wire': wire,
         'dir_interval': dint, 'linktype': lt, 'snaplen': snap, 'seq': seq,
         'start': start, 'size': len(b), 'sections': secs}
    if 8 not in secs or secs[8][1] != 8:
        raise Bad('pcap checksum section')
    S['pcap_sum'] = struct.unpack_from('<Q', b, secs[8][0])[0]
    # strings
    off, ln = secs[1]
    r = Rd(b, off, off + ln)
    strings = []
    for _ in range(nstr):
        n = r.varint()
        s = r.raw(n)
        if r.u8() != 0 or b'\0' in s:
            raise Bad('string')
        strings.append(s.decode())
    if r.p != r.end or strings != sorted(strings):
        raise Bad('strings')
    S['strings'] = strings
    S['class'] = strings[cls]
    # directory
    off, ln = secs[2]
    S['dir'] = [struct.unpack_from('<Qq', b, off + 16 * k)
                for k in range(ln // 16)]
    if len(S['dir']) != (npk + dint - 1) // dint:
        raise Bad('directory size')
    # contexts
    off, ln = secs[3]
    cb, cend = b, off + ln
    if ver >= 2:
        # each context: varint bytes shared with the one before, varint
        # bytes that follow, those bytes; unfolded, a version 1 record
        r = Rd(b, off, off + ln)
        unf, prev = bytearray(), b''
        for k in range(nctx):
            sh, m = r.varint(), r.varint()
            if sh > len(prev) or m == 0:
                raise Bad('context %d' % k)
            cur = prev[:sh] + r.raw(m)
            if sh < len(prev) and cur[sh] == prev[sh]:
                raise Bad('context %d shares less than it could' % k)
            unf += cur
            prev = cur
        if r.p != r.end:
            raise Bad('contexts')
        cb, off, cend = bytes(unf), 0, len(unf)
    r = Rd(cb, off, cend)
    ctxs, raws = [], []
    for _ in range(nctx):
        p0 = r.p
        nv, nt = r.u8(), r.u8()
        vlans = [r.le(2) for _ in range(nv)]
        tuns = []
        for _ in range(nt):
            t = {'type': r.u8(), 'ids': r.u8()}
            fams = r.u8()
            t['src'] = r.raw(famlen(fams & 3))
            t['dst'] = r.raw(famlen(fams >> 2))
            for k, name in enumerate(TID):
                if t['ids'] & (1 << k):
                    t[name] = r.le(4)
            t['payload'] = r.le(2)
            nm = r.varint()
            t['name'] = strings[nm - 1] if nm else None
            tuns.append(t)
        ctxs.append({'vlans': vlans, 'tunnels': tuns})
        raws.append(cb[p0:r.p])
    if r.p != r.end or raws != sorted(raws) or len(set(raws)) != len(raws):
        raise Bad('contexts')
    S['contexts'] = ctxs
    off, ln = secs[4]
    bounds = list(struct.unpack_from('<%dI' % (nctx + 1), b, off))
    if ln != 4 * (nctx + 1) or bounds[-1] != nconn or \
            bounds != sorted(bounds):
        raise Bad('ctx conns')
    # shapes (v2: 12 bytes, the last 4 the application)
    off, ln = secs[7]
    ssz = 8 if ver == 1 else 12
    if ln % ssz:
        raise Bad('shapes')
    shapes = [struct.unpack_from('<BBBBHH' + ('' if ver == 1 else 'I'), b,
                                 off + ssz * i) for i in range(ln // ssz)]
    # postings (v2: before the records, which name addresses by their
    # index in the addr4/addr6 dictionaries)
    post, values = {}, {}
    for fi, (name, w, uni) in enumerate(FIELDS):
        off, ln = secs[16 + fi]
        universe = nconn if uni == 0 else nctx
        post[name], values[name] = parse_field(b, off, ln, name, w, uni,
                                               universe, ver)
    S['postings'] = post
    # connection records
    ioff, iln = secs[5]
    index = struct.unpack_from('<%dI' % (iln // 4), b, ioff)
    off, ln = secs[6]
    r = Rd(b, off, off + ln)
    conns = []
    pfirst = poff = 0
    for i in range(nconn):
        if i % 16 == 0:
            if index[i // 16] != r.p - off:
                raise Bad('connection index %d' % i)
            pfirst = poff = 0       # an anchor: absolute
        rl = r.varint()
        rec = Rd(b, r.p, r.p + rl)
        r.p += rl
        if ver >= 2:
            pfirst += unzz(rec.varint())
            v = rec.varint()
            poff += unzz(v >> 1)
            pos = [(poff, v & 1)]
        sh = shapes[rec.varint()]
        fl, l3, fams, proto, et, z = sh[:6]
        if z:
            raise Bad('shape')
        c = {'flags': fl, 'l3': l3, 'proto': proto if fl & C_PROTO else None,
             'ethertype': et}
        for side, fam in (('a', fams & 3), ('b', fams >> 2)):
            if ver == 1:
                c[side] = rec.raw(famlen(fam))
            elif fam:
                c[side] = values['addr4' if fam == 1 else 'addr6'][
                    rec.varint()]
            else:
                c[side] = b''
        c['pa'] = c['pb'] = None
        if fl & C_KPORTS:
            c['pa'], c['pb'] = rec.le(2), rec.le(2)
        c['spi'] = rec.le(4) if fl & C_SPI else None
        app = rec.varint() if ver == 1 else sh[6]
        c['app'] = strings[app - 1] if app else None
        if ver == 1:
            c['first'] = min_ts + rec.varint()
            c['last'] = c['first'] + rec.varint()
        else:
            c['first'] = min_ts + pfirst * unit
            c['last'] = c['first'] + rec.varint() * unit
        if not min_ts <= c['first'] <= c['last'] <= max_ts:
            raise Bad('record %d times' % i)
        n = rec.varint()
        if ver == 1:
            pos, prev = [], 0
            for _ in range(n):
                v = rec.varint()
                prev += v >> 1
                pos.append((prev, v & 1))
        else:
            # (packets - 1) << 3 | (k - 6), then the positions after the
            # first bit-coded: the quotient v >> k + 1 in Exp-Golomb
            # (L - 1 zero bits, then its L bits), then the k low bits of
            # v, most significant bit first; the last byte padded with 0
            k, n = 6 + (n & 7), (n >> 3) + 1
            if n == 1 and k != 6:
                raise Bad('record %d position code' % i)
            bits = ''.join(format(x, '08b') for x in
                           b[rec.p:rec.end])
            at, prev = 0, pos[0][0]
            for _ in range(n - 1):
                z = 0
                while bits[at + z] == '0':
                    z += 1
                q = int(bits[at + z:at + 2 * z + 1], 2) - 1
                at += 2 * z + 1
                v = q << k | (int(bits[at:at + k], 2) if k else 0)
                at += k
                prev += v >> 1
                pos.append((prev, v & 1))
            if at > len(bits) or (len(bits) - at) >= 8 or \
                    '1' in bits[at:]:
                raise Bad('record %d positions' % i)
            rec.p = rec.end
        if rec.p != rec.end:
            raise Bad('record %d' % i)
        c['pos'] = pos
        k = bisect.bisect_right(bounds, i) - 1
        c['ctx'] = k if 0 <= k < nctx else None
        conns.append(c)
    if r.p != r.end:
        raise Bad('records')
    S['conns'] = conns
    check_postings(S)
    return S


def unzz(x):
    return (x >> 1) ^ -(x & 1)


def parse_field(b, off, ln, name, w, uni, universe, ver):
    """A postings section: {value: [ids]} and the values in order."""
    if b[off] != w or b[off + 1] != uni or b[off + 2] or b[off + 3]:
        raise Bad('field %s header' % name)
    nv = struct.unpack_from('<I', b, off + 4)[0]
    refs, vals = [], []
    if ver == 1:
        blob = off + 8 + nv * (w + 4)
        for i in range(nv):
            e = off + 8 + i * (w + 4)
            vals.append(b[e:e + w])
            ref = struct.unpack_from('<I', b, e + w)[0]
            refs.append((ref & 0x7fffffff, ref >> 31))
    else:
        # blocks of 16: the first value whole, the others as differences
        # (width <= 4: varint of the difference - 1; width 16: the count
        # of leading bytes shared with the value before, then the rest),
        # each followed by a varint reference (id << 1 | 1: a single id,
        # offset << 1: a posting list)
        dlen = struct.unpack_from('<I', b, off + 8)[0]
        nb = (nv + 15) // 16
        starts = struct.unpack_from('<%dI' % nb, b, off + 12)
        d0 = off + 12 + 4 * nb
        blob = d0 + dlen
        r = Rd(b, d0, blob)
        for i in range(nv):
            if i % 16 == 0:
                if r.p - d0 != starts[i // 16]:
                    raise Bad('field %s block %d' % (name, i // 16))
                v = r.raw(w)
            elif w <= 4:
                x = int.from_bytes(vals[-1], 'big') + r.varint() + 1
                if x >= 1 << (8 * w):
                    raise Bad('field %s value' % name)
                v = x.to_bytes(w, 'big')
            else:
                pre = r.u8()
                if pre >= w:
                    raise Bad('field %s prefix' % name)
                v = vals[-1][:pre] + r.raw(w - pre)
                if v[pre] <= vals[-1][pre]:
                    raise Bad('field %s prefix' % name)
            vals.append(bytes(v))
            ref = r.varint()
            refs.append((ref >> 1, ref & 1))
        if r.p != blob:
            raise Bad('field %s dictionary length' % name)
    d = {}
    for i, (val, (x, single)) in enumerate(zip(vals, refs)):
        if i and val <= vals[i - 1]:
            raise Bad('field %s order' % name)
        if single:
            ids = [x]
        else:
            rr = Rd(b, blob + x, off + ln)
            h = rr.varint()
            cnt, kind = h >> 1, h & 1
            if kind == 0:
                ids, cur = [], -1
                for k in range(cnt):
                    dlt = rr.varint()
                    cur = dlt if k == 0 else cur + dlt + 1
                    ids.append(cur)
            else:
                bm = rr.raw((universe + 7) // 8)
                ids = [k for k in range(universe)
                       if bm[k >> 3] >> (k & 7) & 1]
            if len(ids) != cnt or cnt < 2:
                raise Bad('field %s count' % name)
        if any(x >= universe for x in ids):
            raise Bad('field %s id' % name)
        d[val] = ids
    return d, vals



def expected_postings(S):
    """What docs/storage.md says each field holds."""
    exp = collections.defaultdict(lambda: collections.defaultdict(set))
    strings = S['strings']
    for i, c in enumerate(S['conns']):
        for a in (c['a'], c['b']):
            if len(a) == 4:
                exp['addr4'][a].add(i)
            elif len(a) == 16:
                exp['addr6'][a].add(i)
        if c['flags'] & C_PORTS:
            exp['port'][c['pa'].to_bytes(2, 'big')].add(i)
            exp['port'][c['pb'].to_bytes(2, 'big')].add(i)
        if c['proto'] is not None:
            exp['proto'][bytes([c['proto']])].add(i)
        exp['l3'][bytes([c['l3']])].add(i)
        if c['l3'] not in (1, 2):
            exp['ethertype'][c['ethertype'].to_bytes(2, 'big')].add(i)
        if c['spi'] is not None:
            exp['spi'][c['spi'].to_bytes(4, 'big')].add(i)
        if c['app']:
            exp['app'][strings.index(c['app']).to_bytes(4, 'big')].add(i)
    for k, x in enumerate(S['contexts']):
        for v in x['vlans']:
            exp['vlan'][v.to_bytes(2, 'big')].add(k)
        outer = False
        for t in x['tunnels']:
            exp['tunnel'][bytes([t['type']])].add(k)
            if t['name']:
                exp['tunnel_name'][strings.index(t['name']).to_bytes(
                    4, 'big')].add(k)
            for f, n in (('gre_key', 'key'), ('l2tp_tunnel', 'tunnel_id'),
                         ('session', 'session_id'), ('vni', 'vni'),
                         ('teid', 'teid'), ('mpls_label', 'label')):
                if n in t:
                    exp[f][t[n].to_bytes(4, 'big')].add(k)
            for a in (t['src'], t['dst']):
                if a:
                    fam = '4' if len(a) == 4 else '6'
                    exp['tunnel_addr' + fam][a].add(k)
                    if not outer:
                        exp['outer_addr' + fam][a].add(k)
            if t['src'] or t['dst']:
                outer = True
    return exp


def check_postings(S):
    exp = expected_postings(S)
    for name, w, uni in FIELDS:
        got = {k: sorted(v) for k, v in S['postings'][name].items()}
        want = {k: sorted(v) for k, v in exp[name].items()}
        if got != want:
            raise Bad('postings of %s differ from the records' % name)


def check_pcap_sum(S, pcap):
    if xxh64(open(pcap, 'rb').read()) != S['pcap_sum']:
        raise Bad('%s: pcap checksum mismatch' % pcap)


def check_sidecar_vs_pcap(S, recs):
    """recs: read_pcap() of the segment."""
    offs = {r[4]: r for r in recs}
    if S['packets'] != len(recs) or S['pcap_size'] != \
            (recs[-1][4] + 16 + recs[-1][1] if recs else 24):
        raise Bad('%s: counts or size' % S['path'])
    allpos = sorted(p for c in S['conns'] for p, d in c['pos'])
    if allpos != [r[4] for r in recs]:
        raise Bad('%s: positions are not the records' % S['path'])
    for k, (off, ts) in enumerate(S['dir']):
        r = recs[k * S['dir_interval']]
        if r[4] != off or r[0] != ts:
            raise Bad('%s: directory entry %d' % (S['path'], k))
    if S['min_ts'] != min(r[0] for r in recs) or \
            S['max_ts'] != max(r[0] for r in recs):
        raise Bad('%s: time range' % S['path'])
    if S['wire'] != sum(r[2] for r in recs):
        raise Bad('%s: wire bytes' % S['path'])
    for c in S['conns']:
        ts = [offs[p][0] for p, d in c['pos']]
        if c['first'] != min(ts) or c['last'] != max(ts):
            raise Bad('%s: connection times' % S['path'])
    srt = all(recs[i][0] <= recs[i + 1][0] for i in range(len(recs) - 1))
    if bool(S['flags'] & 1) != srt:
        raise Bad('%s: sorted flag' % S['path'])

# ---------------------------------------------------------------- truth


def ip_bytes(s):
    import ipaddress
    return ipaddress.ip_address(s).packed


def load_truth(path):
    conns = {}
    with open(path) as f:
        head = f.readline().rstrip('\n').split('\t')
        for line in f:
            row = dict(zip(head, line.rstrip('\n').split('\t')))
            conns[int(row['conn'])] = row
    return conns


def load_packet_truth(path):
    """[(conn, direction, length, flags)] indexed by frame - 1"""
    out = []
    with open(path) as f:
        first = f.readline()
        if not first.split('\t')[0].isdigit():
            first = None
        for line in ([first] if first else []) + list(f):
            fr, conn, d, ln, fl = line.rstrip('\n').split('\t')[:5]
            assert int(fr) == len(out) + 1
            out.append((int(conn), int(d), int(ln), fl))
    return out


def check_truth_conn(S, c, t, frames_dirs):
    """Sidecar connection c is truth connection t: key, contexts,
    directions. frames_dirs: [(sidecar dir bit, truth direction)]"""
    where = '%s: connection of truth %s' % (S['path'], t['conn'])
    ends = set()
    ends.add((ip_bytes(t['a_addr']), t['a_port']))
    ends.add((ip_bytes(t['b_addr']), t['b_port']))
    ca = (c['a'], str(c['pa']) if t['a_port'] != '-' else '-')
    cb = (c['b'], str(c['pb']) if t['b_port'] != '-' else '-')
    if {ca, cb} != ends:
        raise Bad('%s: endpoints %s vs %s' % (where, {ca, cb}, ends))
    a_is_a = ca == (ip_bytes(t['a_addr']), t['a_port'])
    if ca == cb:
        a_is_a = None
    for sdir, tdir in frames_dirs:
        # sent by the key's endpoint a iff the truth's sender is the
        # truth's a and that is the key's a (or neither)
        if a_is_a is not None:
            sender_is_ca = sdir == 0
            truth_sender_is_a = tdir == 0
            if sender_is_ca != (truth_sender_is_a == a_is_a):
                raise Bad('%s: a packet\'s direction' % where)
    if a_is_a is not None:
        orig_b = bool(c['flags'] & C_ORIG_B)
        if orig_b != (not a_is_a):
            raise Bad('%s: originator' % where)
    if t['proto'] not in ('-', '') and c['proto'] is not None and \
            int(t['proto']) != c['proto']:
        raise Bad('%s: protocol' % where)
    if t['spi'] not in ('-', '') and c['spi'] != int(t['spi'], 0):
        raise Bad('%s: spi %s vs %s' % (where, c['spi'], t['spi']))
    ctx = S['contexts'][c['ctx']] if c['ctx'] is not None else \
        {'vlans': [], 'tunnels': []}
    want_vlans = [int(v) for v in t['vlan'].split('.')] \
        if t['vlan'] not in ('-', '') else []
    if ctx['vlans'] != want_vlans:
        raise Bad('%s: vlans %s vs %s' % (where, ctx['vlans'], want_vlans))
    enc = t['encap']
    tuns = ctx['tunnels']
    want_type = {'gre': TUN_GRE, 'grekey': TUN_GRE, 'gre6': TUN_GRE,
                 'gretap': TUN_GRE, 'l2tp': TUN_L2TP, '6in4': TUN_IPIP,
                 'vxlan': TUN_VXLAN}.get(enc)
    if want_type is None:
        if tuns:
            raise Bad('%s: tunnels in a %s connection' % (where, enc))
        return
    if not tuns or tuns[0]['type'] != want_type:
        raise Bad('%s: tunnel type' % where)
    t0 = tuns[0]
    if t['outer_src'] not in ('-', ''):
        if (t0['src'], t0['dst']) != (ip_bytes(t['outer_src']),
                                      ip_bytes(t['outer_dst'])):
            raise Bad('%s: outer addresses' % where)
    tid = t['tunnel_id']
    if tid not in ('-', ''):
        if enc == 'l2tp':
            tn, sn = (int(x) for x in tid.split(':'))
            if t0.get('tunnel_id') != tn or t0.get('session_id') != sn:
                raise Bad('%s: l2tp ids' % where)
        elif enc == 'vxlan':
            if t0.get('vni') != int(tid):
                raise Bad('%s: vni' % where)
        elif t0.get('key') != int(tid):
            raise Bad('%s: gre key' % where)


def stored_packets(store, sums=True):
    """[(class, start, seq, recs, sidecar)] of published segments"""
    out = []
    for cls, segs in segments(store).items():
        for start, seq, pcap, idx in segs:
            if pcap is None:
                raise Bad('%s: a sidecar without its segment' % idx)
            if idx is None:
                raise Bad('%s: not published' % pcap)
            recs, lt = read_pcap(pcap)
            S = parse_sidecar(idx)
            if S['class'] != cls or S['seq'] != seq or S['start'] != start:
                raise Bad('%s: names another segment' % idx)
            if recs and recs[0][0] // 1000000000 != start:
                raise Bad('%s: <start> is not its first packet' % pcap)
            check_sidecar_vs_pcap(S, recs)
            if sums:
                check_pcap_sum(S, pcap)
            out.append((cls, start, seq, recs, S))
    return out


class FrameMap:
    """Finds the input frame of a stored packet: same time, same wire
    length, and the stored bytes are the frame or its start (a class's
    snap length). Each input frame is found once at most."""

    def __init__(self, inp):
        self.recs, lt = read_pcap(inp)
        self.by_ts = collections.defaultdict(list)
        for i, r in enumerate(self.recs):
            self.by_ts[r[0]].append(i)
        self.used = set()
        self.cut = 0

    def find(self, r):
        for i in self.by_ts.get(r[0], ()):
            if i in self.used:
                continue
            x = self.recs[i]
            if x[2] == r[2] and x[3][:r[1]] == r[3] and r[1] <= x[1]:
                self.used.add(i)
                if r[1] < x[1]:
                    self.cut += 1
                return i
        return None


def cmd_packets(a):
    fm = FrameMap(a.input)
    segs = stored_packets(a.store)
    frame_of = {}
    n = 0
    for cls, start, seq, recs, S in segs:
        last = -1
        for r in recs:
            fr = fm.find(r)
            if fr is None:
                raise Bad('%s-%s: a packet not in the input (offset %d)' %
                          (cls, seq, r[4]))
            frame_of[(cls, seq, r[4])] = fr
            if fr < last:
                raise Bad('%s-%s: packets out of input order' % (cls, seq))
            last = fr
            n += 1
    if n != len(fm.recs):
        raise Bad('store vs input: %d packets missing' % (len(fm.recs) - n))
    nconn = 0
    if a.truth:
        truth = load_truth(a.truth)
        pt = load_packet_truth(a.packet_truth)
        for cls, start, seq, recs, S in segs:
            seen_truth = {}
            for ci, c in enumerate(S['conns']):
                tcs = set()
                fd = []
                for off, d in c['pos']:
                    fr = frame_of[(cls, seq, off)]
                    tcs.add(pt[fr][0])
                    fd.append((d, pt[fr][1]))
                if len(tcs) != 1:
                    raise Bad('%s: a sidecar connection holds truth '
                              'connections %s' % (S['path'], sorted(tcs)))
                tc = tcs.pop()
                if tc in seen_truth:
                    raise Bad('%s: truth connection %d split' %
                              (S['path'], tc))
                seen_truth[tc] = ci
                check_truth_conn(S, c, truth[tc], fd)
                nconn += 1
    print('storage_check: %d packets in %d segments, exactly the input\'s '
          '(%d cut to a snap length)%s' % (
              n, len(segs), fm.cut,
              '; %d sidecar connections match the truth' % nconn
              if a.truth else ''))
    if a.expect_cut is not None and fm.cut != a.expect_cut:
        raise Bad('%d packets cut, expected %d' % (fm.cut, a.expect_cut))


def cmd_cutoff(a):
    fm = FrameMap(a.input)
    pt = load_packet_truth(a.packet_truth)
    segs = stored_packets(a.store, sums=False)
    stored = collections.Counter()
    stored_bytes = collections.Counter()
    frames = set()
    for cls, start, seq, recs, S in segs:
        for r in recs:
            fr = fm.find(r)
            if fr is None:
                raise Bad('a stored packet not in the input')
            frames.add(fr)
            stored[pt[fr][0]] += 1
            stored_bytes[pt[fr][0]] += pt[fr][2]
    # the original Time Machine's rule, from the truth
    total = collections.Counter()
    want = set()
    for fr, (conn, d, ln, fl) in enumerate(pt):
        total[conn] += ln
        control = any(x in fl for x in 'SFR')
        if total[conn] <= a.cutoff or (control and a.keep_control):
            want.add(fr)
    if frames != want:
        raise Bad('stored frames differ from the cutoff rule: %d missing, '
                  '%d extra' % (len(want - frames), len(frames - want)))
    # the flow records say the same, per connection
    first = {}
    for fr, (conn, d, ln, fl) in enumerate(pt):
        first.setdefault(conn, fr + 1)
    by_first = {v: k for k, v in first.items()}
    n = 0
    with open(a.flows) as f:
        for line in f:
            r = json.loads(line)
            conn = by_first.get(r['first_frame'])
            if conn is None:
                raise Bad('a flow record of no truth connection')
            if r['stored_pkts'] != stored[conn] or \
                    r['stored_bytes'] != stored_bytes[conn]:
                raise Bad('connection %d: flow record says %d/%d stored, '
                          'the store holds %d/%d' % (
                              conn, r['stored_pkts'], r['stored_bytes'],
                              stored[conn], stored_bytes[conn]))
            n += 1
    if n != len(first):
        raise Bad('%d flow records for %d connections' % (n, len(first)))
    print('storage_check: %d stored packets of %d, as the cutoff %d rule '
          'and all %d flow records say' % (len(frames), len(pt), a.cutoff, n))


def cmd_sidecar(a):
    for p in a.files:
        S = parse_sidecar(p)
        pcap = p[:-4] + '.pcap'
        if os.path.exists(pcap):
            check_pcap_sum(S, pcap)
        print('%s: %d packets, %d connections, %d contexts, %d bytes' % (
            p, S['packets'], len(S['conns']), len(S['contexts']), S['size']))


def sizes(store):
    per = collections.Counter()
    for cls, segs in segments(store).items():
        for start, seq, pcap, idx in segs:
            for p in (pcap, idx):
                try:
                    per[cls] += os.path.getsize(p) if p else 0
                except OSError:
                    pass
    flows = 0
    fd = os.path.join(store, 'flows')
    for n in os.listdir(fd) if os.path.isdir(fd) else []:
        try:
            flows += os.path.getsize(os.path.join(fd, n))
        except OSError:
            pass
    return per, flows


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split()[2] != 'Z'
    except OSError:
        return False


def cmd_watch(a):
    budgets = {}
    for cb in a.class_budget:
        name, v = cb.split('=')
        budgets[name] = int(v)
    polls = 0
    peak_cls = collections.Counter()
    peak_all = peak_flows = 0
    seg = a.segment_size * 11 // 10 + 65536	# its sidecar too
    while True:
        running = alive(a.pid)
        try:
            per, flows = sizes(a.store)
        except (OSError, FileNotFoundError):
            per, flows = collections.Counter(), 0
        polls += 1
        for c, v in per.items():
            peak_cls[c] = max(peak_cls[c], v)
            if c in budgets and v > budgets[c] + seg:
                raise Bad('class %s: %d bytes, budget %d' %
                          (c, v, budgets[c]))
        tot = sum(per.values())
        peak_all = max(peak_all, tot)
        if a.disk and tot > a.disk + seg * max(1, len(per)):
            raise Bad('store: %d bytes, budget %d' % (tot, a.disk))
        peak_flows = max(peak_flows, flows)
        if a.flows_budget and flows > a.flows_budget + a.flows_segment:
            raise Bad('flows: %d bytes, budget %d' % (flows, a.flows_budget))
        if not running:
            break
        time.sleep(0.002)
    print('storage_check: budgets held in %d polls: peak per class %s, '
          'store %d, flows %d' % (polls, dict(peak_cls), peak_all,
                                  peak_flows))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('packets')
    p.add_argument('--input', required=True)
    p.add_argument('--store', required=True)
    p.add_argument('--truth')
    p.add_argument('--packet-truth')
    p.add_argument('--expect-cut', type=int)
    p = sub.add_parser('cutoff')
    p.add_argument('--input', required=True)
    p.add_argument('--store', required=True)
    p.add_argument('--flows', required=True)
    p.add_argument('--packet-truth', required=True)
    p.add_argument('--cutoff', type=int, required=True)
    p.add_argument('--keep-control', type=int, default=1)
    p = sub.add_parser('sidecar')
    p.add_argument('files', nargs='+')
    p = sub.add_parser('watch')
    p.add_argument('--store', required=True)
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--class-budget', action='append', default=[],
                   help='CLASS=BYTES, repeatable')
    p.add_argument('--disk', type=int, default=0)
    p.add_argument('--flows-budget', type=int, default=0)
    p.add_argument('--flows-segment', type=int, default=0)
    p.add_argument('--segment-size', type=int, required=True)
    a = ap.parse_args()
    try:
        {'packets': cmd_packets, 'cutoff': cmd_cutoff,
         'sidecar': cmd_sidecar, 'watch': cmd_watch}[a.cmd](a)
    except Bad as e:
        print('storage_check: FAIL: %s' % e)
        sys.exit(1)


if __name__ == '__main__':
    main()
