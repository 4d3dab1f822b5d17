"""The records of a classic pcap file, for the test tools (pcap_multiset,
pcap_timeorder, pcap_split_key): micro- or nanosecond magic, either byte
order, strictly (a record that runs past the end, or stray bytes after
the last one, ends the tool with a message naming the file).

Standard library only.
"""
import struct


def read(path):
    """(the 24-byte file header, [(time in ns, captured bytes, wire
    length, the whole record with its 16-byte header), ...])"""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        raise SystemExit('%s: not a pcap file (%d bytes)' % (path, len(data)))
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        raise SystemExit('%s: not a classic pcap file' % path)
    nsec = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    off = 24
    out = []
    while off + 16 <= len(data):
        sec, frac, caplen, wire = struct.unpack(end + 'IIII',
                                                data[off:off + 16])
        if off + 16 + caplen > len(data):
            raise SystemExit('%s: record at %d runs past the end' %
                             (path, off))
        ts = sec * 1000000000 + (frac if nsec else frac * 1000)
        out.append((ts, bytes(data[off + 16:off + 16 + caplen]), wire,
                    bytes(data[off:off + 16 + caplen])))
        off += 16 + caplen
    if off != len(data):
        raise SystemExit('%s: %d stray bytes at the end' %
                         (path, len(data) - off))
    return bytes(data[:24]), out
