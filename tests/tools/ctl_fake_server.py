#!/usr/bin/env python3
"""A control-protocol service that misbehaves on request, for
tests/e2e/ctl_client.sh: it listens on a Unix socket, logs every line it
receives (auth and request) to LOG, and answers by the request's words:

  ping / flush / clear-cutoffs / stats ... / set-cutoff ...   good answers
  query ... data            D frames (DATA_BYTES of a pattern), N, then K
  query ... error           E with control characters in it
  query ... lost            D frame, then close without a final frame
  query ... huge            a frame header with length 1 MiB + 1
  query ... badtype         a frame of type 'X'
  query ... silent          nothing, connection kept open 5 s
  query ... nojson          K without packet counts

usage: ctl_fake_server.py SOCKET LOG
"""
import os
import socket
import struct
import sys
import threading
import time

DATA_BYTES = 3 * 1048576 + 5


def frame(kind, payload):
    return kind + struct.pack(">I", len(payload)) + payload


def pattern(n):
    return bytes((i * 131 + (i >> 9)) & 0xFF for i in range(n))


DATA = pattern(DATA_BYTES)


def answer(conn, words):
    verb = words[0] if words else ""
    if verb == "ping":
        return frame(b"K", b'{"version":1,"capturing":true,"store":"/srv/tm"}')
    if verb == "flush":
        return frame(b"N", b"flushing") + frame(b"K", b'{"segments":2}')
    if verb == "clear-cutoffs":
        return frame(b"K", b'{"cleared":1}')
    if verb == "stats" and words[1:] == ["json"]:
        return frame(b"K", b'{"packets":{"seen":5}}')
    if verb == "stats":
        return frame(b"K", b'{"text":"seen: 5\\nstored: \\"4\\"\\t\\u00e9\\u000a"}')
    if verb == "set-cutoff":
        cutoff = b"null" if words[1] == "none" else words[1].encode()
        until = b"null" if words[2] == "-" else b"1795694400000000000"
        return frame(b"K", b'{"rule":3,"cutoff":%s,"until_ns":%s}' % (cutoff, until))
    if verb == "query":
        what = words[-1] if len(words) > 2 else "data"
        if what == "error":
            return frame(b"E", b"bad\x1b[31m thing")
        if what == "lost":
            return frame(b"D", b"partial")
        if what == "huge":
            return b"D" + struct.pack(">I", 1048577) + b"x" * 100
        if what == "badtype":
            return frame(b"X", b"")
        if what == "silent":
            time.sleep(5)
            return b""
        if what == "nojson":
            return frame(b"K", b"{}")
        out = b""
        if words[1] == "pcap":
            out += frame(b"N", b"from memory: 2 packets")
            for i in range(0, DATA_BYTES, 1048576):
                out += frame(b"D", DATA[i:i + 1048576])
        return out + frame(b"K", b'{"packets":42,"bytes":4242,"captured":1,'
                           b'"live_packets":2,"segments":3,"searched":1,'
                           b'"plan_ms":0.5,"total_ms":1.25}')
    return frame(b"E", b"request:1:1: unknown verb")


def serve(conn, log, lock):
    try:
        f = conn.makefile("rb")
        line = f.readline()
        with lock:
            log.write(line.decode(errors="replace"))
            log.flush()
        if line.startswith(b"auth"):
            line = f.readline()
            with lock:
                log.write(line.decode(errors="replace"))
                log.flush()
        conn.sendall(answer(conn, line.decode().split()))
    except OSError:
        pass
    finally:
        conn.close()


def main():
    path, logpath = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(16)
    lock = threading.Lock()
    with open(logpath, "w") as log:
        while True:
            conn, _ = s.accept()
            threading.Thread(target=serve, args=(conn, log, lock),
                             daemon=True).start()


if __name__ == "__main__":
    main()
