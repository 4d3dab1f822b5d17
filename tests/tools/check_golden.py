#!/usr/bin/env python3
"""Checks the decode fixtures (tests/fixtures/decode) three ways.

usage: check_golden.py --tm TM [--dir DIR] [--oracle PATH] [--no-tshark]
                       [--only NAME] [--bless] [--suggest] [--report]

For every NAME.pcap in DIR (default: tests/fixtures/decode beside this
script's tests/ directory), with NAME.intent.json (written by
make_decode_fixtures.py: what each frame was built to be) and
NAME.golden.jsonl (tm's reviewed output, key fields only):

 1. tm = golden: `TM decode --json TM_ARGS -r NAME.pcap` (TM_ARGS from the
    intent) must exit 0 with nothing on stderr, and its key fields must
    equal the golden file's, line for line, exactly.
 2. golden = intent: every field the intent states (all of them, null where
    a field must be null or absent) must hold in the golden file. This is
    what keeps a golden file honest: it is checked against what the fixture
    script says it built, not only against tm.
 3. tshark: when tshark is installed (and not --no-tshark), the oracle
    (shared/bench/tshark-oracle, run with the intent's tshark_args) gives
    tshark's l3, proto, src, dst, sport, dport, spi and vlan of every frame;
    each disagreement with the golden file must be listed, with its reason,
    in DIR/tshark-disagreements.tsv (columns: file frame field ours tshark
    reason; frame a number or '*', ours/tshark JSON or '*'). An unlisted
    disagreement fails, and so does a listed one that no longer happens.
Also: every dissector event that `TM plugins --json` reports (but the
automatic <name>.truncated and <name>.too_short) and the decode loop's
decode.depth_exceeded and decode.too_many_layers must occur in some golden
file; DIR/uncovered-events.tsv lists, with a reason, the events no fixture
can produce.

--bless rewrites every NAME.golden.jsonl from tm's output (then checks 2 as
usual): review the diff by hand before committing it. --suggest prints TSV
rows for unlisted tshark disagreements (reason left as TODO); --report
shows the listed ones too. Exit status: 0 all good, 1 a check failed, 2 bad
usage or input. Python standard library only.
"""
import argparse
import concurrent.futures
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import sys

KEY_FIELDS = ("frame", "layers", "l3", "ethertype", "proto", "src", "dst", "sport", "dport",
              "spi", "vlan", "tunnels", "events")
OPTIONAL_FIELDS = ("fragment", "icmp_type", "icmp_code", "icmp_id")   # only when present
INTENT_FIELDS = KEY_FIELDS[1:] + OPTIONAL_FIELDS
ORACLE_FIELDS = ("l3", "proto", "src", "dst", "sport", "dport", "spi", "vlan")
LOOP_EVENTS = ("decode.depth_exceeded", "decode.too_many_layers", "decode.bad_verdict")
TIMEOUT = 60


def key_fields(j):
    out = {k: j.get(k) for k in KEY_FIELDS}
    for k in OPTIONAL_FIELDS:
        if k in j:
            out[k] = j[k]
    return out


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def norm(field, v):
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


def parse_value(s):
    if s == "*":
        return "*"
    try:
        return json.loads(s)
    except ValueError:
        return s


class Disagreements:
    """tshark-disagreements.tsv: file frame field ours tshark reason."""

    def __init__(self, path):
        self.path = path
        self.rows = []
        if not os.path.exists(path):
            return
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if n == 1 or not line.strip() or line.startswith("#"):
                    continue
                c = line.split("\t")
                if len(c) < 6 or not c[5].strip():
                    raise ValueError("%s:%d: expected 6 tab-separated columns "
                                     "(file frame field ours tshark reason)" % (path, n))
                if c[1] != "*" and not c[1].isdigit():
                    raise ValueError("%s:%d: frame must be a number or '*'" % (path, n))
                if c[2] not in ORACLE_FIELDS:
                    raise ValueError("%s:%d: field must be one of %s" % (path, n, ", ".join(ORACLE_FIELDS)))
                self.rows.append({"line": n, "file": c[0], "frame": c[1], "field": c[2],
                                  "ours": parse_value(c[3]), "tshark": parse_value(c[4]),
                                  "reason": c[5], "used": 0})

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


def run_tm(tm, args, path):
    p = subprocess.run([tm, "decode", "--json"] + args + ["-r", path],
                       capture_output=True, timeout=TIMEOUT)
    lines, bad = [], 0
    for line in p.stdout.decode(errors="replace").splitlines():
        try:
            lines.append(key_fields(json.loads(line)))
        except (ValueError, AttributeError):
            bad += 1
    return p.returncode, p.stderr.decode(errors="replace").strip(), lines, bad


def run_oracle(oracle, args, path):
    p = subprocess.run([sys.executable, oracle, path] + args, capture_output=True,
                       timeout=TIMEOUT)
    out = []
    for line in p.stdout.decode(errors="replace").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out, p.stderr.decode(errors="replace").strip()


def load_golden(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def plugin_events(tm):
    p = subprocess.run([tm, "plugins", "--json"], capture_output=True, timeout=TIMEOUT)
    evs = set()
    for line in p.stdout.decode().splitlines():
        m = json.loads(line)
        for d in m.get("dissectors", []):
            for e in d.get("events", []):
                if not e.endswith((".truncated", ".too_short")):
                    evs.add(e)
    return evs


def load_uncovered(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if n == 1 or not line.strip() or line.startswith("#"):
                    continue
                c = line.split("\t")
                if len(c) < 2 or not c[1].strip():
                    raise ValueError("%s:%d: expected 2 columns (event reason)" % (path, n))
                out[c[0]] = c[1]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tm", required=True)
    ap.add_argument("--dir", default=os.path.join(src, "tests", "fixtures", "decode"))
    ap.add_argument("--oracle", default=os.path.join(src, "..", "shared", "bench", "tshark-oracle"))
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--only", help="only fixtures whose name contains this")
    ap.add_argument("--bless", action="store_true", help="rewrite the golden files from tm")
    ap.add_argument("--suggest", action="store_true")
    ap.add_argument("--report", action="store_true")
    a = ap.parse_args()

    pcaps = sorted(glob.glob(os.path.join(a.dir, "*.pcap")))
    if a.only:
        pcaps = [p for p in pcaps if a.only in os.path.basename(p)]
    if not pcaps:
        print("check_golden: no fixtures in %s" % a.dir)
        return 2
    try:
        dis = Disagreements(os.path.join(a.dir, "tshark-disagreements.tsv"))
        uncovered = load_uncovered(os.path.join(a.dir, "uncovered-events.tsv"))
    except (OSError, ValueError) as e:
        print("check_golden: %s" % e)
        return 2

    fails = []
    intents = {}
    for p in pcaps:
        name = os.path.basename(p)[:-5]
        ip = os.path.join(a.dir, name + ".intent.json")
        if not os.path.exists(ip):
            fails.append("%s: no %s.intent.json" % (name, name))
            continue
        with open(ip) as f:
            intents[p] = json.load(f)
    pcaps = [p for p in pcaps if p in intents]

    # ---- 1. tm = golden ---------------------------------------------------
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        tm_out = dict(zip(pcaps, ex.map(lambda p: run_tm(a.tm, intents[p]["tm_args"], p), pcaps)))
    goldens = {}
    nframes = 0
    for p in pcaps:
        name = os.path.basename(p)[:-5]
        gp = os.path.join(a.dir, name + ".golden.jsonl")
        rc, err, lines, bad = tm_out[p]
        if rc != 0:
            fails.append("%s: tm exited %d: %s" % (name, rc, err[:300]))
        if err:
            fails.append("%s: tm wrote on stderr: %s" % (name, err[:300]))
        if bad:
            fails.append("%s: %d lines of tm output are not JSON" % (name, bad))
        if a.bless:
            with open(gp, "w") as f:
                for j in lines:
                    f.write(dumps(j) + "\n")
        if not os.path.exists(gp):
            fails.append("%s: no %s.golden.jsonl (make it with --bless, then review it)" % (name, name))
            continue
        gold = load_golden(gp)
        goldens[p] = gold
        nframes += len(gold)
        if not a.bless:
            if len(lines) != len(gold):
                fails.append("%s: tm printed %d frames, the golden file has %d" % (
                    name, len(lines), len(gold)))
            for g, t in zip(gold, lines):
                if g != t:
                    diff = [k for k in sorted(set(g) | set(t)) if g.get(k) != t.get(k)]
                    fails.append("%s frame %s: tm differs from the golden file in %s:\n"
                                 "      golden %s\n      tm     %s" % (
                                     name, g.get("frame"), ", ".join(diff), dumps(g), dumps(t)))

    # ---- 2. golden = intent ---------------------------------------------------
    for p, gold in goldens.items():
        name = os.path.basename(p)[:-5]
        frames = intents[p]["frames"]
        if len(frames) != len(gold):
            fails.append("%s: the intent has %d frames, the golden file %d" % (
                name, len(frames), len(gold)))
        for want, g in zip(frames, gold):
            for k in INTENT_FIELDS:
                if k not in want:
                    continue
                if g.get(k) != want[k]:
                    fails.append("%s frame %d (%s): %s is %s, the fixture was built for %s" % (
                        name, want["frame"], want["what"], k, dumps(g.get(k)), dumps(want[k])))

    # ---- event coverage --------------------------------------------------------
    seen = set()
    for gold in goldens.values():
        for g in gold:
            seen.update(g.get("events") or [])
    wanted = plugin_events(a.tm) | set(LOOP_EVENTS)
    missing = sorted(e for e in wanted - seen if e not in uncovered)
    for e in missing:
        fails.append("event %s occurs in no golden file (add a fixture, or list it with "
                     "its reason in uncovered-events.tsv)" % e)
    for e in sorted(uncovered):
        if e in seen:
            fails.append("uncovered-events.tsv lists %s, but a fixture produces it now" % e)
    covered = sorted(e for e in wanted if e in seen)
    auto = sorted(e for e in seen if e.endswith((".truncated", ".too_short")))

    # ---- 3. tshark -------------------------------------------------------------
    tshark_note = ""
    groups = []
    if a.no_tshark:
        tshark_note = "tshark cross-check skipped (--no-tshark)"
    elif not shutil.which("tshark"):
        tshark_note = "tshark cross-check SKIPPED: tshark is not installed"
    elif not os.path.exists(a.oracle):
        tshark_note = "tshark cross-check SKIPPED: no oracle at %s" % a.oracle
    else:
        todo = [p for p in pcaps if p in goldens]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            orc = dict(zip(todo, ex.map(lambda p: run_oracle(a.oracle, intents[p]["tshark_args"], p), todo)))
        compared = 0
        for p in todo:
            name = os.path.basename(p)
            theirs, err = orc[p]
            gold = {g["frame"]: g for g in goldens[p]}
            if len(theirs) != len(gold):
                fails.append("%s: tshark-oracle gave %d frames, the golden file has %d (%s)" % (
                    name, len(theirs), len(gold), err[:200]))
            for t in theirs:
                g = gold.get(t["frame"])
                if g is None:
                    continue
                compared += 1
                for k in ORACLE_FIELDS:
                    ours, tv = norm(k, g.get(k)), norm(k, t.get(k))
                    if ours != tv:
                        r = dis.match(name, t["frame"], k, ours, tv)
                        groups.append((name, t["frame"], k, ours, tv, r))
        stale = [r for r in dis.rows if not r["used"]]
        new = [x for x in groups if x[5] is None]
        for (name, fr, k, o, t, _) in new:
            fails.append("tshark disagrees, not listed: %s frame %d %s: ours %s, tshark %s" % (
                name, fr, k, dumps(o), dumps(t)))
        for r in stale:
            fails.append("tshark-disagreements.tsv line %d (%s frame %s %s) no longer happens" % (
                r["line"], r["file"], r["frame"], r["field"]))
        tshark_note = "tshark: %d frames compared, %d disagreements, all listed with a reason" % (
            compared, len(groups)) if not new and not stale else \
            "tshark: %d frames compared, %d disagreements (%d not listed, %d stale rows)" % (
                compared, len(groups), len(new), len(stale))
        if a.report:
            for (name, fr, k, o, t, r) in groups:
                if r:
                    print("  listed %s frame %d %s: ours %s tshark %s: %s" % (
                        name, fr, k, dumps(o), dumps(t), r["reason"]))
        if a.suggest and new:
            print("# rows for tshark-disagreements.tsv (fill in the reason):")
            for (name, fr, k, o, t, _) in new:
                print("\t".join((name, str(fr), k, dumps(o), dumps(t), "TODO")))

    for f in fails:
        print("  FAIL " + f)
    print("decode fixtures: %d files, %d frames%s" % (len(pcaps), nframes,
                                                      " (golden files rewritten)" if a.bless else ""))
    print("events: %d of %d dissector and decode-loop events covered, %d listed as not "
          "producible (%s); %d automatic truncated/too_short events seen" % (
              len(covered), len(wanted), len(uncovered), ", ".join(sorted(uncovered)) or "none",
              len(auto)))
    print(tshark_note)
    ok = not fails
    print("decode_fixtures: %s (%d problems)" % ("PASS" if ok else "FAIL", len(fails)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
