#!/usr/bin/env python3
"""Compares `tm decode --json` with tshark's view of the real captures.

usage: check_oracle.py --tm TM --pcaps DIR --exceptions FILE [--report] [--suggest]
                       [--only SUBSTRING]

For every capture DIR/*/*.pcap and *.pcapng, runs `TM decode --json -r FILE`
(with `--bind NAME=udp.port:N` where MANIFEST.tsv gives tshark a
`-d udp.port==N,NAME`) and compares, frame by frame, the fields l3, proto,
src, dst, sport, dport, spi and vlan with FILE.expected.jsonl (made by
shared/bench/tshark-oracle). Also: tm must exit 0, not crash, print nothing
on stderr and print one JSON line per frame.

Known, justified disagreements are listed in the exceptions file, a TSV with
a header and the columns
    file  frame  field  ours  tshark  reason
file is the capture's name (without directory), frame a number or '*',
field one of the fields above (or 'frames', 'exit', 'stderr' for the whole
file, frame '*'), ours and tshark the two values as JSON (null, 17,
"10.0.0.1", [10,20]) or '*' for any. A disagreement not listed fails the
check; so does a listed exception that no longer matches anything (the list
must stay true).

--report prints every disagreement group, listed or not; --suggest prints
TSV rows for the disagreements not listed yet (reason left as TODO).
Exit status: 0 all good, 1 a check failed, 2 bad usage or input.
Python standard library only.
"""
import argparse
import collections
import glob
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys

FIELDS = ("l3", "proto", "src", "dst", "sport", "dport", "spi", "vlan")
TIMEOUT = 120


def norm(field, v):
    """Canonical form of a value, so formatting differences do not count."""
    if field in ("src", "dst") and isinstance(v, str):
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            return v
    if field in ("proto", "sport", "dport", "spi") and isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return v
    return v


def enc(v):
    if v == "*":
        return "*"
    return json.dumps(v, separators=(",", ":"))


def parse_value(s):
    if s == "*":
        return "*"
    try:
        return json.loads(s)
    except ValueError:
        return s


def load_manifest(pcaps):
    """file name -> extra tm arguments translated from the tshark ones."""
    args = {}
    path = os.path.join(pcaps, "MANIFEST.tsv")
    if not os.path.exists(path):
        return args
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            extra = row.get("tshark_extra_args", "") or ""
            toks = shlex.split(extra)
            out = []
            for i, t in enumerate(toks):
                if t != "-d" or i + 1 >= len(toks):
                    continue
                # tshark "decode as": -d udp.port==8472,vxlan -> --bind vxlan=udp.port:8472
                m = re.fullmatch(r"(udp\.port|tcp\.port|sctp\.port)==(\d+),(\w+)", toks[i + 1])
                if m:
                    out += ["--bind", "%s=%s:%s" % (m.group(3), m.group(1), m.group(2))]
                # other decode-as (l2tp.pw_type==0,eth) have no tm table: tm
                # decides those itself
            args[row["file"]] = out
    return args


class Exceptions:
    def __init__(self, path):
        self.rows = []
        self.path = path
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if n == 1 or not line.strip() or line.startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) < 6 or not cols[5].strip():
                    raise ValueError("%s:%d: expected 6 tab-separated columns "
                                     "(file frame field ours tshark reason)" % (path, n))
                fr = cols[1]
                if fr != "*" and not fr.isdigit():
                    raise ValueError("%s:%d: frame must be a number or '*'" % (path, n))
                self.rows.append({"line": n, "file": cols[0], "frame": fr,
                                  "field": cols[2], "ours": parse_value(cols[3]),
                                  "tshark": parse_value(cols[4]), "reason": cols[5],
                                  "used": 0})

    def match(self, fname, frame, field, ours, theirs):
        for r in self.rows:
            if r["file"] != fname or r["field"] != field:
                continue
            if r["frame"] != "*" and int(r["frame"]) != frame:
                continue
            if r["ours"] != "*" and norm(field, r["ours"]) != ours:
                continue
            if r["tshark"] != "*" and norm(field, r["tshark"]) != theirs:
                continue
            r["used"] += 1
            return r
        return None


def ranges(nums):
    nums = sorted(set(nums))
    out, i = [], 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d-%d" % (nums[i], nums[j]))
        i = j + 1
    s = ",".join(out)
    return s if len(s) < 100 else s[:97] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tm", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--exceptions", required=True)
    ap.add_argument("--report", action="store_true", help="show listed disagreements too")
    ap.add_argument("--suggest", action="store_true", help="print TSV rows for new ones")
    ap.add_argument("--only", help="only captures whose path contains this")
    a = ap.parse_args()

    try:
        exc = Exceptions(a.exceptions)
    except (OSError, ValueError) as e:
        print("check_oracle: %s" % e)
        return 2
    margs = load_manifest(a.pcaps)
    files = sorted(glob.glob(os.path.join(a.pcaps, "*", "*.pcap")) +
                   glob.glob(os.path.join(a.pcaps, "*", "*.pcapng")))
    if a.only:
        files = [f for f in files if a.only in f]
    if not files:
        print("check_oracle: no captures under %s" % a.pcaps)
        return 2

    # (file, field) -> list of (frame, ours, theirs, exception row or None)
    groups = collections.OrderedDict()
    nframes = 0
    problems = []   # whole-file failures not excepted
    notes = []

    def disagree(fname, frame, field, ours, theirs):
        r = exc.match(fname, frame, field, ours, theirs)
        groups.setdefault((fname, field), []).append((frame, ours, theirs, r))
        return r

    for path in files:
        fname = os.path.basename(path)
        rel = os.path.relpath(path, a.pcaps)
        exp_path = path + ".expected.jsonl"
        if not os.path.exists(exp_path):
            problems.append("%s: no %s" % (rel, os.path.basename(exp_path)))
            continue
        with open(exp_path) as f:
            expected = [json.loads(line) for line in f if line.strip()]
        cmd = [a.tm, "decode", "--json"] + margs.get(fname, []) + ["-r", path]
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append("%s: tm did not finish in %ds" % (rel, TIMEOUT))
            continue
        err = p.stderr.decode(errors="replace").strip()
        if p.returncode < 0:
            problems.append("%s: tm CRASHED (signal %d): %s" % (rel, -p.returncode, err[:300]))
            continue
        if p.returncode != 0:
            if not disagree(fname, 0, "exit", p.returncode, 0):
                problems.append("%s: tm exited %d: %s" % (rel, p.returncode, err[:300]))
            else:
                notes.append("%s: tm exited %d (listed): %s" % (rel, p.returncode, err[:200]))
        if err and not disagree(fname, 0, "stderr", err, None):
            problems.append("%s: tm wrote on stderr: %s" % (rel, err[:300]))
        got = {}
        bad = 0
        for line in p.stdout.decode(errors="replace").splitlines():
            try:
                j = json.loads(line)
                got[j["frame"]] = j
            except (ValueError, KeyError, TypeError):
                bad += 1
        if bad:
            problems.append("%s: %d lines of tm output are not JSON objects with a frame" % (
                rel, bad))
        if len(got) != len(expected):
            if not disagree(fname, 0, "frames", len(got), len(expected)):
                problems.append("%s: tm printed %d frames, tshark %d" % (
                    rel, len(got), len(expected)))
        for e in expected:
            fr = e["frame"]
            nframes += 1
            g = got.get(fr)
            if g is None:
                continue
            for field in FIELDS:
                ours, theirs = norm(field, g.get(field)), norm(field, e.get(field))
                if ours != theirs:
                    disagree(fname, fr, field, ours, theirs)

    # ---- report ------------------------------------------------------------
    new_total = listed_total = 0
    print("real captures: %d files, %d frames compared with tshark" % (len(files), nframes))
    for (fname, field), items in groups.items():
        new = [x for x in items if x[3] is None]
        listed = [x for x in items if x[3] is not None]
        listed_total += len(listed)
        if field in ("exit", "stderr", "frames"):
            continue  # whole-file checks: reported as problems or notes
        new_total += len(new)
        show = new if not a.report else items
        if not show:
            continue
        pairs = collections.Counter((enc(x[1]), enc(x[2])) for x in show)
        tag = "NEW" if new else "listed"
        if a.report and new and listed:
            tag = "NEW+listed"
        print("  %-6s %s: %s differs in %d frame(s) [%s]" % (
            tag, fname, field, len(show), ranges(x[0] for x in show)))
        for (o, t), n in pairs.most_common(4):
            print("           ours %s  tshark %s  (%d)" % (o, t, n))
        if len(pairs) > 4:
            print("           ... %d more value pairs" % (len(pairs) - 4))
        if a.report and listed:
            for reason in sorted({x[3]["reason"] for x in listed}):
                print("           listed: %s" % reason)
    stale = [r for r in exc.rows if not r["used"]]
    for r in stale:
        print("  STALE  %s line %d: %s frame %s %s ours %s tshark %s no longer occurs" % (
            os.path.basename(exc.path), r["line"], r["file"], r["frame"], r["field"],
            enc(r["ours"]), enc(r["tshark"])))
    for n in notes:
        print("  note   " + n)
    for pr in problems:
        print("  FAIL   " + pr)
    if a.suggest:
        print("# rows for %s (fill in the reason):" % os.path.basename(a.exceptions))
        for (fname, field), items in groups.items():
            new = [x for x in items if x[3] is None]
            if not new:
                continue
            pairs = collections.Counter((enc(x[1]), enc(x[2])) for x in new)
            for (o, t), n in pairs.items():
                frames = [x[0] for x in new if (enc(x[1]), enc(x[2])) == (o, t)]
                fr = str(frames[0]) if len(frames) == 1 else "*"
                print("\t".join((fname, fr, field, o, t, "TODO (%d frames)" % n)))
    ok = new_total == 0 and not stale and not problems
    print("real_pcaps: %s (%d disagreements not listed, %d listed, %d stale exceptions, "
          "%d file problems)" % ("PASS" if ok else "FAIL", new_total, listed_total,
                                  len(stale), len(problems)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
