#!/usr/bin/env bash
# Seeds for fuzz_expr: one expression per file, from docs/query-language.md
# (examples and cookbook) and from the error paths of the unit tests.
#   tests/fuzz/fuzz_expr.seeds.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
i=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	printf '%s' "$line" >"$dir/expr-$i"
	i=$((i + 1))
done <<'SEEDS'
host 10.0.0.5 and port 443
outer host 192.0.2.1 and tunnel gre
tunnel l2tp and inner net 10.0.0.0/8
vlan 100 and proto esp and spi 0x1234
app tls and not port 443
after 2026-11-26T10:00:00Z and before 10m ago
any host 192.0.2.1
gre key 2 and net 10.0.0.0/8
vni 5001 or teid 0x1a2b3c and tcp port 443
tunnel any and not tunnel vxlan
outer udp dst port 8472
esp and spi 0x1234 or ah and spi 0x1234
udp port 53 and not dst net 192.0.2.0/29
community_id 1:LQU9qZlK+B5F3KDmev6m5PMibrg=
arp and src net 10.1.0.0/16
ip6 and not tunnel
ip6 and outer ip
last 1h and dst host 10.0.0.5 and tcp dst port 22
host 10.0.0.1 or 10.0.0.2 and not src and dst net 2001:db8::/32
!(port 1 || portrange 2-3) && l2tp session 7 && pppoe session 1
class "bulk data" or app "TLS.Google" or mpls label 16 or erspan session 3
tunnel vxlan or gre key 5 or tunnel "my tunnel"
before 1764150000.25 or after 2026-11-26T10:00:00.5+01:00 or last 1h30m
net 10.0.0.1/8
(port 80
port 80 & port 81
app "tls
gre 5
outer vlan 5
SEEDS
