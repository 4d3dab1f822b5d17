#!/usr/bin/env python3
"""Randomized check of `tm query` against gen-trace's ground truth.

usage: query_check.py --tm TM --store STORE --trace PCAP:TRUTH:PKTTRUTH ...
                      [--questions N] [--seed S] [--tcpdump] [--workdir D]
                      [--label TEXT] [--show N]

The store holds exactly the packets of the given traces (ingested with
`tm capture --cutoff none`). For N random questions built from the truth
(a connection's inner 5-tuple, a host, a net, src/dst, ports, protocols,
network layers, a tunnel type with its identifier, an outer or any-layer
host, a VLAN, an SPI, time windows, and and/or/not combinations of them),
the truth selects the frames the question must return (per frame: its
connection's fields, its direction, its timestamp) and `tm query -w`
must return exactly those packets: the multiset of (timestamp, bytes)
hashes is compared, and the output must be in time order. Twins (the same
inner 5-tuple in another tunnel) are selected like any other connection.

With --tcpdump (traces without tunnels: gen-trace --mix plain), the
questions are BPF-expressible and the answer must also equal the packets
`tcpdump -r SEGMENT -w - FILTER` selects from every segment of the store.

Exit status: 0 when every answer matches, 1 otherwise, 2 on bad input.
Python standard library only.
"""
import argparse
import collections
import glob
import hashlib
import ipaddress
import os
import random
import struct
import subprocess
import sys

TUNNEL_TYPE = {"gre": "gre", "grekey": "gre", "gre6": "gre", "gretap": "gre",
               "l2tp": "l2tp", "6in4": "ipip", "vxlan": "vxlan"}
PROTO_NAME = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6", 50: "esp",
              51: "ah", 132: "sctp"}


def read_pcap(path):
    """[(ts_ns, bytes)] of a classic pcap (us or ns, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(path + ": not a pcap")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
        magic = struct.unpack(">I", data[:4])[0]
    if magic == 0xa1b2c3d4:
        mult = 1000
    elif magic == 0xa1b23c4d:
        mult = 1
    else:
        raise ValueError(path + ": not a classic pcap")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        out.append((sec * 1000000000 + frac * mult,
                    data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def phash(ts, b):
    return hashlib.sha1(struct.pack("<q", ts) + b).hexdigest()


def opt(s):
    return None if s in ("-", "") else s


class Conn:
    def __init__(self, f):
        self.encap = f[1]
        self.l3 = f[2]
        self.proto = int(f[3])
        self.a = ipaddress.ip_address(f[4])
        self.ap = None if f[5] == "-" else int(f[5])
        self.b = ipaddress.ip_address(f[6])
        self.bp = None if f[7] == "-" else int(f[7])
        self.spi = None if f[8] == "-" else int(f[8])
        self.vlans = [] if f[9] == "-" else [int(v) for v in f[9].split(".")]
        self.tid = opt(f[10])
        self.osrc = None if f[11] == "-" else ipaddress.ip_address(f[11])
        self.odst = None if f[12] == "-" else ipaddress.ip_address(f[12])
        self.first_ts = f[15]
        self.tunnel = TUNNEL_TYPE.get(self.encap)


class Trace:
    def __init__(self, pcap, truth, ptruth):
        self.frames = read_pcap(pcap)
        self.conns = {}
        with open(truth) as f:
            for line in f:
                fl = line.rstrip("\n").split("\t")
                if fl[0] == "conn":
                    continue
                self.conns[int(fl[0])] = Conn(fl)
        self.pkt = []   # (conn, dir) per frame
        with open(ptruth) as f:
            for line in f:
                fl = line.rstrip("\n").split("\t")
                self.pkt.append((int(fl[1]), int(fl[2])))
        if len(self.pkt) != len(self.frames):
            raise ValueError(pcap + ": packet truth and pcap disagree")


# ---- atoms: (expression text, predicate(conn, dir, ts)) ---------------------

def in_net(addr, net):
    return addr is not None and addr.version == net.version and addr in net


def a_host(x, scope=""):
    if scope == "outer":
        def p(c, d, t):
            if c.tunnel:
                return x in (c.osrc, c.odst)
            return c.l3 in ("ip4", "ip6") and x in (c.a, c.b)
    elif scope == "any":
        def p(c, d, t):
            return x in (c.a, c.b, c.osrc, c.odst)
    else:
        def p(c, d, t):
            return x in (c.a, c.b)
    return ((scope + " " if scope else "") + "host " + str(x), p)


def a_dirhost(x, which):
    def p(c, d, t):
        src, dst = (c.a, c.b) if d == 0 else (c.b, c.a)
        return (src if which == "src" else dst) == x
    return (which + " host " + str(x), p)


def a_net(net):
    return ("net " + str(net),
            lambda c, d, t: in_net(c.a, net) or in_net(c.b, net))


def a_port(port, which=None):
    def p(c, d, t):
        if c.ap is None:
            return False
        sp, dp = (c.ap, c.bp) if d == 0 else (c.bp, c.ap)
        if which == "src":
            return sp == port
        if which == "dst":
            return dp == port
        return port in (sp, dp)
    return (((which + " ") if which else "") + "port " + str(port), p)


def a_portrange(lo, hi):
    def p(c, d, t):
        return c.ap is not None and (lo <= c.ap <= hi or lo <= c.bp <= hi)
    return ("portrange %d-%d" % (lo, hi), p)


def a_proto(n):
    name = PROTO_NAME.get(n)
    return (name if name else "proto %d" % n,
            lambda c, d, t: c.l3 != "arp" and c.proto == n)


def a_l3(l3):
    word = {"ip4": "ip", "ip6": "ip6", "arp": "arp"}[l3]
    return (word, lambda c, d, t: c.l3 == l3)


def a_tunnel(ty):
    return ("tunnel " + ty, lambda c, d, t: c.tunnel == ty)


def a_tunnel_any():
    return ("tunnel", lambda c, d, t: c.tunnel is not None)


def a_tid(c0):
    """A tunnel type with its identifier, from connection c0."""
    if c0.encap == "grekey":
        k = int(c0.tid)
        return ("gre key %d" % k,
                lambda c, d, t: c.encap == "grekey" and int(c.tid) == k)
    if c0.encap == "vxlan":
        v = int(c0.tid)
        return ("vni %d" % v,
                lambda c, d, t: c.encap == "vxlan" and int(c.tid) == v)
    if c0.encap == "l2tp":
        tun, ses = (int(x) for x in c0.tid.split(":"))
        if random.random() < 0.5:
            return ("l2tp tunnel %d" % tun, lambda c, d, t: c.encap == "l2tp"
                    and int(c.tid.split(":")[0]) == tun)
        return ("(tunnel l2tp and l2tp session %d)" % ses,
                lambda c, d, t: c.encap == "l2tp"
                and int(c.tid.split(":")[1]) == ses)
    return a_tunnel(c0.tunnel)


def a_vlan(v):
    return ("vlan %d" % v, lambda c, d, t: v in c.vlans)


def a_spi(s):
    return ("spi %d" % s if random.random() < 0.5 else "spi 0x%x" % s,
            lambda c, d, t: c.spi == s)


def a_after(ts):
    return ("after %d.%09d" % divmod(ts, 1000000000),
            lambda c, d, t: t >= ts)


def a_before(ts):
    return ("before %d.%09d" % divmod(ts, 1000000000),
            lambda c, d, t: t < ts)


def a_window(t0, t1):
    return ("(after %d.%09d and before %d.%09d)" % (divmod(t0, 1000000000) +
                                                   divmod(t1, 1000000000)),
            lambda c, d, t: t0 <= t < t1)


def five_tuple(c0):
    parts = [a_host(c0.a), a_host(c0.b)]
    if c0.ap is not None:
        parts += [a_port(c0.ap), a_port(c0.bp)]
    if c0.l3 != "arp":
        parts.append(a_proto(c0.proto))
    return conj(parts)


def conj(parts):
    text = " and ".join(p[0] for p in parts)
    fs = [p[1] for p in parts]
    return ("(" + text + ")", lambda c, d, t: all(f(c, d, t) for f in fs))


def disj(parts):
    text = " or ".join(p[0] for p in parts)
    fs = [p[1] for p in parts]
    return ("(" + text + ")", lambda c, d, t: any(f(c, d, t) for f in fs))


def neg(a):
    f = a[1]
    return ("not " + a[0], lambda c, d, t: not f(c, d, t))


def masked(addr, plen):
    return ipaddress.ip_network("%s/%d" % (addr, plen), strict=False)


class Gen:
    def __init__(self, traces, rng, bpf):
        self.rng = rng
        self.bpf = bpf
        self.conns = [c for tr in traces for c in tr.conns.values()]
        ts = [f[0] for tr in traces for f in tr.frames]
        self.tmin, self.tmax = min(ts), max(ts)

    def conn(self, pred=None):
        cs = [c for c in self.conns if pred is None or pred(c)]
        return self.rng.choice(cs) if cs else None

    def time(self):
        return self.rng.randint(self.tmin - 1000, self.tmax + 1000)

    def atom(self):
        r = self.rng
        c = self.conn()
        kinds = ["host", "net", "srcdst", "port", "proto", "l3", "5tuple",
                 "time", "window", "portrange"]
        if not self.bpf:
            kinds += ["tid", "tid", "outer", "any", "vlan", "spi", "tunnel",
                      "5tuple"]
        k = r.choice(kinds)
        if k == "host":
            return a_host(r.choice([c.a, c.b]))
        if k == "net":
            x = r.choice([c.a, c.b])
            plen = r.choice([8, 16, 24] if x.version == 4 else [32, 48, 64])
            return a_net(masked(x, plen))
        if k == "srcdst":
            return a_dirhost(r.choice([c.a, c.b]), r.choice(["src", "dst"]))
        if k == "port":
            c = self.conn(lambda x: x.ap is not None)
            return a_port(r.choice([c.ap, c.bp]),
                          r.choice([None, None, "src", "dst"]))
        if k == "portrange":
            c = self.conn(lambda x: x.ap is not None)
            p = r.choice([c.ap, c.bp])
            return a_portrange(max(0, p - r.randint(0, 50)),
                               min(65535, p + r.randint(0, 50)))
        if k == "proto":
            c = self.conn(lambda x: x.l3 != "arp")
            return a_proto(c.proto)
        if k == "l3":
            return a_l3(c.l3)
        if k == "5tuple":
            return five_tuple(c)
        if k == "time":
            return (a_after if r.random() < 0.5 else a_before)(self.time())
        if k == "window":
            t0 = self.time()
            return a_window(t0, t0 + r.randint(1, 60 * 10**9))
        if k == "tid":
            c = self.conn(lambda x: x.tunnel is not None)
            return a_tid(c) if c else a_tunnel_any()
        if k == "tunnel":
            c = self.conn(lambda x: x.tunnel is not None)
            return a_tunnel(c.tunnel) if c and r.random() < 0.8 \
                else a_tunnel_any()
        if k == "outer":
            c = self.conn(lambda x: x.tunnel is not None) \
                if r.random() < 0.7 else self.conn()
            if c.tunnel:
                return a_host(r.choice([c.osrc, c.odst]), "outer")
            return a_host(r.choice([c.a, c.b]), "outer")
        if k == "any":
            c = self.conn(lambda x: x.tunnel is not None)
            if c is None:
                return a_host(self.conn().a, "any")
            return a_host(r.choice([c.osrc, c.odst, c.a, c.b]), "any")
        if k == "vlan":
            c = self.conn(lambda x: x.vlans)
            return a_vlan(r.choice(c.vlans)) if c else a_l3("ip4")
        if k == "spi":
            c = self.conn(lambda x: x.spi is not None)
            return a_spi(c.spi) if c else a_l3("ip6")
        raise AssertionError(k)

    def question(self, depth=0):
        r = self.rng
        x = r.random()
        if depth >= 2 or x < 0.45:
            return self.atom()
        if x < 0.7:
            return conj([self.question(depth + 1)
                         for _ in range(r.randint(2, 3))])
        if x < 0.9:
            return disj([self.question(depth + 1)
                         for _ in range(r.randint(2, 3))])
        return neg(self.question(depth + 1))


def expected(traces, pred):
    want = collections.Counter()
    for tr in traces:
        for i, (ts, b) in enumerate(tr.frames):
            cid, d = tr.pkt[i]
            if pred(tr.conns[cid], d, ts):
                want[phash(ts, b)] += 1
    return want


def run_query(tm, store, text, out):
    p = subprocess.run([tm, "query", "-s", store, "-w", out, text],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip())
    got = read_pcap(out)
    return got, None


def tcpdump_answer(store, bpf, workdir):
    got = collections.Counter()
    for seg in sorted(glob.glob(os.path.join(store, "segments", "*",
                                             "*.pcap"))):
        out = os.path.join(workdir, "tcpdump.pcap")
        p = subprocess.run(["tcpdump", "-r", seg, "-w", out, bpf],
                           capture_output=True, text=True)
        if "expression rejects all packets" in p.stderr:
            continue
        if p.returncode != 0:
            return None, p.stderr.strip()
        for ts, b in read_pcap(out):
            got[phash(ts, b)] += 1
    return got, None


def to_bpf(text):
    """Our plain-traffic expression as BPF: the same words except time."""
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tm", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--trace", action="append", required=True,
                    help="PCAP:TRUTH:PACKET_TRUTH")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tcpdump", action="store_true")
    ap.add_argument("--workdir", default=".")
    ap.add_argument("--label", default="query_check")
    ap.add_argument("--show", type=int, default=5)
    a = ap.parse_args()

    try:
        traces = [Trace(*t.split(":")) for t in a.trace]
    except (ValueError, OSError, TypeError) as e:
        print("query_check: %s" % e, file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    random.seed(a.seed)
    gen = Gen(traces, rng, a.tcpdump)
    out = os.path.join(a.workdir, "answer.pcap")
    bad, nonempty, total_pkts, refused = [], 0, 0, 0
    for qi in range(a.questions):
        text, pred = gen.question()
        want = expected(traces, pred)
        got, err = run_query(a.tm, a.store, text, out)
        if err and "exit 2: tm: the time range is empty" in err and \
                not want:
            refused += 1
            continue
        if err:
            bad.append((text, err))
            continue
        hs = collections.Counter(phash(ts, b) for ts, b in got)
        ordered = all(got[i][0] <= got[i + 1][0] for i in range(len(got) - 1))
        if hs != want or not ordered:
            missing = sum((want - hs).values())
            extra = sum((hs - want).values())
            bad.append((text, "%d expected, %d returned: %d missing, %d "
                        "extra%s" % (sum(want.values()), len(got), missing,
                                     extra, "" if ordered else
                                     ", NOT in time order")))
            continue
        if want:
            nonempty += 1
        total_pkts += len(got)
        if a.tcpdump and "after" not in text and "before" not in text:
            td, err = tcpdump_answer(a.store, to_bpf(text), a.workdir)
            if err:
                bad.append((text, "tcpdump: " + err))
            elif td != hs:
                bad.append((text, "tcpdump selects %d packets, tm query %d"
                            % (sum(td.values()), len(got))))
    print("%s: %d questions, %d with a non-empty answer, %d packets "
          "returned, %d refused (time predicates exclude each other); "
          "%d wrong" % (a.label, a.questions, nonempty, total_pkts, refused,
                        len(bad)))
    for text, why in bad[:a.show]:
        print("  WRONG %r: %s" % (text, why))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
