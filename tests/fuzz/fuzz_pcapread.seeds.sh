#!/usr/bin/env bash
# Seeds for fuzz_pcapread: the bundled sample capture, the first frames of
# a few real captures, and the odd files of tests/tools/make_fault_pcaps.py
# (runts, jumbo and oversized records, torn records, snap lengths 0 and
# huge, microsecond and nanosecond files).
#   tests/fuzz/fuzz_pcapread.seeds.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
head -c 65536 "$src/tests/fixtures/sample.pcap" >"$dir/sample"
i=0
for f in "$src"/../shared/pcaps/*/*.pcap; do
	[ -e "$f" ] || continue
	head -c 8192 "$f" >"$dir/real-$i"
	i=$((i + 1))
	[ "$i" -lt 12 ] || break
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if python3 "$src/tests/tools/make_fault_pcaps.py" "$tmp" >/dev/null 2>&1; then
	for f in "$tmp"/*.pcap; do
		head -c 300000 "$f" >"$dir/fault-$(basename "$f" .pcap)"
	done
fi
