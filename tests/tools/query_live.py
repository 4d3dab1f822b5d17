#!/usr/bin/env python3
"""`tm query` while `tm capture` writes the same store.

usage: query_live.py --tm TM --conf CONF --pcap TRACE --store STORE
                     [--seconds S] [--workdir D]

Feeds TRACE to `tm capture -r - -s STORE --cutoff none -c CONF` through a
pipe, slowly (over about S seconds), so that segments are published one
after another while queries run. Meanwhile, in a loop, asks the store for
everything and for one host. Every answer must be a valid pcap in time
order (exit 0), contain no packet twice that the trace has once, be a
subset of the trace, and contain every packet of the answers before it (a
published segment stays; nothing half-written is read). When the capture
has exited, everything equals the trace.

Exit status: 0, 1 (a check failed), 2 (bad input). Standard library only.
"""
import argparse
import collections
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from query_check import read_pcap, phash  # noqa: E402


def feed(pcap, proc, seconds):
    with open(pcap, "rb") as f:
        data = f.read()
    chunk = max(4096, len(data) // max(1, int(seconds * 20)))
    try:
        for i in range(0, len(data), chunk):
            proc.stdin.write(data[i:i + chunk])
            proc.stdin.flush()
            time.sleep(0.05)
        proc.stdin.close()
    except BrokenPipeError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tm", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--workdir", default=".")
    a = ap.parse_args()

    trace = collections.Counter(phash(ts, b) for ts, b in read_pcap(a.pcap))
    host = None
    for ts, b in read_pcap(a.pcap)[:50]:
        if len(b) > 34 and b[12:14] == b"\x08\x00":
            host = "%d.%d.%d.%d" % tuple(b[26:30])
            break
    cap = subprocess.Popen([a.tm, "capture", "-q", "-r", "-", "-s", a.store,
                            "--cutoff", "none", "-c", a.conf],
                           stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    feeder = threading.Thread(target=feed, args=(a.pcap, cap, a.seconds))
    feeder.start()
    out = os.path.join(a.workdir, "live.pcap")
    while not os.path.isdir(os.path.join(a.store, "segments")) and \
            cap.poll() is None:
        time.sleep(0.01)        # the store is not there yet
    problems, answers, nonempty = [], 0, 0
    prev = collections.Counter()
    while True:
        done = cap.poll() is not None
        for q in ("", "host " + host if host else "ip"):
            p = subprocess.run([a.tm, "query", "-s", a.store, "-w", out, q],
                               capture_output=True, text=True)
            answers += 1
            if p.returncode != 0:
                problems.append("'%s': exit %d: %s" % (q, p.returncode,
                                                        p.stderr.strip()))
                continue
            got = read_pcap(out)
            hs = collections.Counter(phash(ts, b) for ts, b in got)
            if any(got[i][0] > got[i + 1][0] for i in range(len(got) - 1)):
                problems.append("'%s': not in time order" % q)
            if hs - trace:
                problems.append("'%s': %d packets not in the trace (or "
                                "twice)" % (q, sum((hs - trace).values())))
            if q == "":
                if prev - hs:
                    problems.append("everything: %d packets of an earlier "
                                    "answer are gone"
                                    % sum((prev - hs).values()))
                prev = hs
                nonempty += 1 if hs else 0
        if done:
            break
        time.sleep(0.05)
    feeder.join()
    err = cap.stderr.read().decode()
    if cap.returncode != 0:
        problems.append("tm capture exited %d: %s" % (cap.returncode, err))
    if prev != trace:
        problems.append("after the capture: %d packets, the trace has %d"
                        % (sum(prev.values()), sum(trace.values())))
    print("query_live: %d answers during the capture (%d of everything "
          "non-empty); %d problems" % (answers, nonempty, len(problems)))
    for pr in problems[:10]:
        print("  " + pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
