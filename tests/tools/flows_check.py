#!/usr/bin/env python3
"""Checks `tm flows --json` against gen-trace's ground truth.

usage: flows_check.py --truth CONN.tsv --packet-truth PKT.tsv --flows OUT.jsonl
                      [--cutoff SIZE|none] [--keep-control 0|1] [--label TEXT]
                      [--show N]

Exactly one flow per truth connection: the flow whose first_frame is the
connection's first packet, with the same innermost tuple (l3, proto, orig and
resp address and port, SPI), VLAN ids and tunnel stack, first timestamp, and
packets and bytes in each direction (computed from the per-frame truth), and
no flow left over.

Where the truth itself cannot tell two connections apart (same
encapsulation, inner tuple, VLANs, tunnel identifiers and outer endpoints:
gen-trace's ARP exchanges between the same two addresses), a later one may
be part of an earlier one's flow; so may connections of a --known-collision
pair of encapsulations (gre/gretap: one GRE tunnel without key carrying IP
and Ethernet). Such merges are counted and reported, not failed.

With --cutoff, every flow's stored_pkts, stored_bytes and cutoff_hit must be
what the original Time Machine's rule gives, computed here independently from
the per-frame truth: a packet is stored while the connection's byte count,
this packet included, is at or below the cutoff; TCP SYN, FIN and RST are
stored regardless (unless --keep-control 0).

Exit status: 0 when everything matches, 1 otherwise, 2 on bad input.
Python standard library only.
"""
import argparse
import base64
import collections
import hashlib
import ipaddress
import json
import struct
import sys

TUNNELS = {
    "gre": ("gre", None), "grekey": ("gre", "key"), "gre6": ("gre", None),
    "gretap": ("gre", None), "l2tp": ("l2tp", "l2tp"), "6in4": ("ipip", None),
    "vxlan": ("vxlan", "vni"),
}
PROTO_NAMES = {"ip4": "ipv4", "ip6": "ipv6", "arp": "arp"}


def parse_size(s):
    if s is None or s == "none":
        return None
    mul = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    if s[-1].lower() in mul:
        return int(s[:-1]) * mul[s[-1].lower()]
    return int(s)


def norm(a):
    return None if a in (None, "-") else str(ipaddress.ip_address(a))


def opt_int(s):
    return None if s in (None, "-", "") else int(s)


def load_truth(path):
    conns = {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                row = dict(zip(header, line.rstrip("\n").split("\t")))
                conns[int(row["conn"])] = row
    return conns


def load_packets(path):
    per = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            if line.strip():
                fr, conn, d, length, flags = line.rstrip("\n").split("\t")
                per[int(conn)].append((int(fr), int(d), int(length), flags))
    return per


def expected_tunnels(row):
    encap = row["encap"]
    if encap not in TUNNELS:
        return []
    typ, ids = TUNNELS[encap]
    t = {"type": typ, "src": row["outer_src"], "dst": row["outer_dst"]}
    tid = row["tunnel_id"]
    if ids == "key":
        t["key"] = int(tid)
    elif ids == "vni":
        t["vni"] = int(tid)
    elif ids == "l2tp":
        a, b = tid.split(":")
        t["tunnel_id"], t["session_id"] = int(a), int(b)
    return [t]


def identity(c, known):
    """What the truth knows of a connection: equal identities cannot be
    told apart by any key."""
    ends = sorted([(norm(c["a_addr"]), c["a_port"]), (norm(c["b_addr"]), c["b_port"])])
    outer = tuple(sorted([c["outer_src"], c["outer_dst"]]))
    enc = c["encap"]
    for k in known:
        if enc in k:
            enc = "/".join(sorted(k))
    return (enc, c["l3"], c["proto"], tuple(ends), c["spi"], c["vlan"],
            c["tunnel_id"], outer)


def community_id(row, seed=0):
    """Community ID v1 of a TCP/UDP/ESP connection, from the truth alone."""
    proto = int(row["proto"])
    a = ipaddress.ip_address(row["a_addr"]).packed
    b = ipaddress.ip_address(row["b_addr"]).packed
    ports = proto in (6, 17, 132)
    pa = int(row["a_port"]) if ports else 0
    pb = int(row["b_port"]) if ports else 0
    if (a, pa) > (b, pb):
        a, b, pa, pb = b, a, pb, pa
    data = struct.pack("!H", seed) + a + b + struct.pack("!BB", proto, 0)
    if ports:
        data += struct.pack("!HH", pa, pb)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def stored_by_rule(pkts, cutoff, keep_control):
    total = stored_p = stored_b = 0
    hit = False
    for _fr, _d, length, flags in pkts:
        total += length
        control = flags != "-" and any(x in flags for x in "SFR")
        if cutoff is None or total <= cutoff or (control and keep_control):
            stored_p += 1
            stored_b += length
        else:
            hit = True
    return stored_p, stored_b, hit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--packet-truth", required=True)
    ap.add_argument("--flows", required=True)
    ap.add_argument("--cutoff")
    ap.add_argument("--keep-control", type=int, default=1)
    ap.add_argument("--label", default="")
    ap.add_argument("--show", type=int, default=8)
    ap.add_argument("--known-collision", action="append", default=[],
                    metavar="ENC/ENC")
    a = ap.parse_args()
    known = [set(k.split("/")) for k in a.known_collision]

    try:
        truth = load_truth(a.truth)
        packets = load_packets(a.packet_truth)
        flows = []
        with open(a.flows) as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    flows.append(json.loads(line))
    except (OSError, ValueError) as e:
        print("%s: bad input: %s" % (a.label, e), file=sys.stderr)
        return 2

    cutoff = parse_size(a.cutoff) if a.cutoff else None
    by_first = {}
    errors = collections.Counter()
    shown = []

    def bad(field, msg):
        errors[field] += 1
        if len(shown) < a.show:
            shown.append("%s: %s" % (field, msg))

    for fl in flows:
        ff = fl.get("first_frame")
        if ff in by_first:
            bad("duplicate_first_frame", "frame %s starts two flows" % ff)
        by_first[ff] = fl

    # group the truth: a connection whose first frame starts no flow joins
    # the latest earlier connection it cannot be told apart from
    groups = {}          # leader conn -> [conn, ...]
    last_of = {}         # identity -> leader
    merged = collections.Counter()
    for cid in sorted(truth, key=lambda x: int(truth[x]["first_pkt"])):
        row = truth[cid]
        ident = identity(row, known)
        if int(row["first_pkt"]) not in by_first and ident in last_of:
            lead = last_of[ident]
            groups[lead].append(cid)
            merged[row["encap"] if row["encap"] == truth[lead]["encap"] else
                   "/".join(sorted((row["encap"], truth[lead]["encap"])))] += 1
            continue
        groups[cid] = [cid]
        last_of[ident] = cid

    for cid, members in groups.items():
        row = truth[cid]
        fp = int(row["first_pkt"])
        fl = by_first.pop(fp, None)
        if fl is None:
            bad("missing", "conn %d (%s, first frame %d) has no flow"
                % (cid, row["encap"], fp))
            continue
        ctx = "conn %d (%s) uid %s" % (cid, row["encap"], fl.get("uid"))
        l3 = PROTO_NAMES[row["l3"]]
        if fl["l3"] != l3:
            bad("l3", "%s: %s, truth %s" % (ctx, fl["l3"], l3))
        if l3 != "arp" and fl["proto"] != int(row["proto"]):
            bad("proto", "%s: %s, truth %s" % (ctx, fl["proto"], row["proto"]))
        if norm(fl["orig_h"]) != norm(row["a_addr"]) or \
                norm(fl["resp_h"]) != norm(row["b_addr"]):
            bad("addresses", "%s: %s > %s, truth %s > %s" % (
                ctx, fl["orig_h"], fl["resp_h"], row["a_addr"], row["b_addr"]))
        if row["proto"] in ("6", "17") and (
                fl["orig_p"] != opt_int(row["a_port"]) or
                fl["resp_p"] != opt_int(row["b_port"])):
            bad("ports", "%s: %s > %s, truth %s > %s" % (
                ctx, fl["orig_p"], fl["resp_p"], row["a_port"], row["b_port"]))
        natt = row["proto"] == "17" and "4500" in (row["a_port"], row["b_port"])
        if fl["spi"] != opt_int(row["spi"]) and not natt:
            # UDP port 4500 is ESP-in-UDP (RFC 3948): gen-trace's random
            # ports sometimes pick it, and then the decoder rightly finds
            # an SPI in the random payload
            bad("spi", "%s: %s, truth %s" % (ctx, fl["spi"], row["spi"]))
        vl = [] if row["vlan"] == "-" else [int(x) for x in row["vlan"].split(".")]
        if fl["vlan"] != vl:
            bad("vlan", "%s: %s, truth %s" % (ctx, fl["vlan"], vl))
        if fl["tunnels"] != expected_tunnels(row):
            bad("tunnels", "%s: %s, truth %s" % (ctx, fl["tunnels"],
                                                 expected_tunnels(row)))
        if fl["ts"] != row["first_ts"]:
            bad("ts", "%s: %s, truth %s" % (ctx, fl["ts"], row["first_ts"]))
        # the group's packets; direction relative to the leader's originator
        pk = []
        for m in members:
            same = norm(truth[m]["a_addr"]) == norm(row["a_addr"]) and \
                truth[m]["a_port"] == row["a_port"]
            pk += [(fr, d if same else 1 - d, ln, fg)
                   for fr, d, ln, fg in packets.get(m, [])]
        pk.sort()
        tpk = sum(int(truth[m]["packets"]) for m in members)
        tby = sum(int(truth[m]["bytes"]) for m in members)
        op = sum(1 for p in pk if p[1] == 0)
        ob = sum(p[2] for p in pk if p[1] == 0)
        rp = len(pk) - op
        rb = sum(p[2] for p in pk) - ob
        if norm(row["a_addr"]) == norm(row["b_addr"]) and \
                row["a_port"] == row["b_port"]:
            # both ends are one endpoint: no direction to tell apart
            op, rp = op + rp, 0
            ob, rb = ob + rb, 0
            fl = dict(fl, orig_pkts=fl["orig_pkts"] + fl["resp_pkts"], resp_pkts=0,
                      orig_bytes=fl["orig_bytes"] + fl["resp_bytes"], resp_bytes=0)
        if (fl["orig_pkts"], fl["resp_pkts"]) != (op, rp) or \
                fl["orig_pkts"] + fl["resp_pkts"] != tpk:
            bad("packets", "%s: %d/%d, truth %d/%d" % (
                ctx, fl["orig_pkts"], fl["resp_pkts"], op, rp))
        if (fl["orig_bytes"], fl["resp_bytes"]) != (ob, rb) or \
                fl["orig_bytes"] + fl["resp_bytes"] != tby:
            bad("bytes", "%s: %d/%d, truth %d/%d" % (
                ctx, fl["orig_bytes"], fl["resp_bytes"], ob, rb))
        if a.cutoff:
            sp, sb, hit = stored_by_rule(pk, cutoff, a.keep_control)
            if (fl["stored_pkts"], fl["stored_bytes"], fl["cutoff_hit"]) != \
                    (sp, sb, hit):
                bad("stored", "%s: stored %d pkts %d bytes hit %s, rule "
                    "gives %d pkts %d bytes hit %s" % (
                        ctx, fl["stored_pkts"], fl["stored_bytes"],
                        fl["cutoff_hit"], sp, sb, hit))
        if l3 != "arp" and row["proto"] in ("6", "17", "50"):
            want = community_id(row)
            if fl.get("community_id") != want:
                bad("community_id", "%s: %s, computed from the truth %s" % (
                    ctx, fl.get("community_id"), want))
        elif fl.get("community_id") is None and l3 != "arp":
            bad("community_id", "%s: none" % ctx)

    for ff, fl in by_first.items():
        bad("extra", "flow %s (first frame %s) matches no truth connection"
            % (fl.get("uid"), ff))

    # twins: connections that share their inner 5-tuple with another one
    inner = collections.Counter(
        (r["l3"], r["proto"], tuple(sorted([(norm(r["a_addr"]), r["a_port"]),
                                            (norm(r["b_addr"]), r["b_port"])])))
        for r in truth.values() if r["encap"] in TUNNELS)
    twins = sum(v for v in inner.values() if v > 1)

    label = a.label or a.flows
    note = ", %d twins" % twins if twins else ""
    if merged:
        note += " (truth connections it cannot tell apart, merged: %s)" % ", ".join(
            "%s %d" % kv for kv in sorted(merged.items()))
    if errors:
        print("%s: FAIL: %d flows, %d truth connections%s" % (
            label, len(flows), len(truth), note))
        for k, v in sorted(errors.items()):
            print("  %-22s %d" % (k, v))
        for s in shown:
            print("    " + s)
        return 1
    print("%s: ok: %d flows for %d truth connections%s%s" % (
        label, len(flows), len(truth),
        ", stored as the cutoff rule says" if a.cutoff else "", note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
