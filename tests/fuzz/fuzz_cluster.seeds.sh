#!/usr/bin/env bash
# Seeds for fuzz_cluster: two nodes' answers (bytes 0-1: the length of
# node a's, byte 2 bit 0 asks for a count): pcap streams in D frames
# (nanosecond and microsecond, both byte orders, equal timestamps, frames
# cut mid-record), N notices, K and E answers, truncated streams.
#   tests/fuzz/fuzz_cluster.seeds.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
python3 - "$dir" <<'PY'
import os, struct, sys

d = sys.argv[1]


def frame(t, p):
    return t + struct.pack(">I", len(p)) + p


def pcap(recs, be=False, usec=False, lt=1):
    e = ">" if be else "<"
    h = struct.pack(e + "IHHiIII", 0xa1b2c3d4 if usec else 0xa1b23c4d,
                    2, 4, 0, 0, 262144, lt)
    for sec, frac, n in recs:
        h += struct.pack(e + "IIII", sec, frac, n, n + 4) + bytes(
            (i * 7) & 255 for i in range(n))
    return h


def answer(stream, chunk=1 << 20, k=None, notes=(), err=None):
    out = b"".join(frame(b"N", n.encode()) for n in notes)
    for o in range(0, len(stream), chunk):
        out += frame(b"D", stream[o:o + chunk])
    if err is not None:
        out += frame(b"E", err.encode())
    elif k is not None:
        out += frame(b"K", k.encode())
    return out


a = answer(pcap([(10, 5, 60), (11, 0, 40)]), k='{"packets":2,"bytes":108}')
b = answer(pcap([(10, 5000, 30), (12, 0, 20)], be=True, usec=True), chunk=7,
           k='{"packets":2,"bytes":58}', notes=["reading 1 segment"])
c = answer(pcap([(10, 5, 10)]), err="store: damaged")
e = answer(pcap([(9, 1, 70), (10, 5, 10)], lt=101), k='{"packets":2}')
t = answer(pcap([(10, 5, 60)])[:-7], k='{"packets":1}')
seeds = {
    "two": (a, b, 0),
    "error": (a, c, 0),
    "linktypes": (a, e, 0),
    "truncated": (t, b, 0),
    "count": (frame(b"K", b'{"packets":3,"bytes":9}'),
              frame(b"N", b"x") + frame(b"K", b"{}"), 1),
    "empty": (answer(pcap([]), k='{"packets":0}'), b"", 0),
}
for name, (x, y, cnt) in seeds.items():
    with open(os.path.join(d, "cluster-" + name), "wb") as f:
        f.write(struct.pack(">HB", len(x), cnt) + x + y)
PY
