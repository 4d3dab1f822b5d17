#!/usr/bin/env bash
# Seeds for fuzz_ctl: every request verb (docs/control-protocol.md), auth
# lines before them, the parse errors of the unit test, and server frames.
#   tests/fuzz/fuzz_ctl.seeds.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
i=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	printf '%b' "$line" >"$dir/ctl-$i"
	i=$((i + 1))
done <<'SEEDS'
ping\n
flush\n
clear-cutoffs\n
stats json\n
stats text\n
query pcap\n
query pcap host 10.0.0.5 and port 443\n
query count tcp and last 1h\n
query pcap after 2026-11-26T10:00:00Z and before 10m ago\n
set-cutoff 20k 10m host 10.0.0.5\n
set-cutoff none - tcp port 443\n
set-cutoff 1g 500ms udp\n
set-cutoff 0 1d app tls\n
auth s3cret\nping\n
auth s3cret\nquery pcap tcp\n
auth\tT0k-en_x\r\nset-cutoff 1M 2h vlan 100\r\n
  auth  a\nstats text\n
auth a b\nping\n
query\n
query pcapng tcp\n
stats xml\n
set-cutoff 20x 10m tcp\n
set-cutoff 20k 10 tcp\n
set-cutoff 20k 10m\n
      quer tcp\n
ping\x01\n
K\x00\x00\x00\x02{}
D\x00\x00\x00\x03abcN\x00\x00\x00\x01xE\x00\x00\x00\x02no
D\x00\x10\x00\x00
X\x00\x00\x00\x00
SEEDS
echo "fuzz_ctl: $i seeds in $dir"
