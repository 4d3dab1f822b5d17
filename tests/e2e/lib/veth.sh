# Sourced by the e2e tests that capture on a real interface pair.
#
#   veth_require            exits 77 (ctest: skipped) unless root with
#                           tcpreplay and iproute2
#   veth_up TAG [MTU]       a network namespace and a veth pair owned by
#                           the test: VETH_A (this side, where tm captures)
#                           and VETH_B (inside VETH_NS, where tcpreplay
#                           sends), both up, IPv6 off (no stray router
#                           solicitations), MTU 65535 unless given
#   veth_down               removes them (call it from the EXIT trap)
#   veth_replay FILE PPS    tcpreplay FILE into VETH_B at PPS packets/s;
#                           fails unless every packet was sent

veth_require() {
	if [ "$(id -u)" != 0 ] || ! command -v tcpreplay >/dev/null ||
	    ! command -v ip >/dev/null; then
		echo "skipped: needs root, tcpreplay and iproute2"
		exit 77
	fi
}

veth_up() {
	local tag=$1 mtu=${2:-65535}
	VETH_NS=tm${tag}$$
	VETH_A=tm${tag}a$$
	VETH_B=tm${tag}b$$
	ip netns add "$VETH_NS" || return 1
	ip link add "$VETH_A" type veth peer name "$VETH_B" || return 1
	ip link set "$VETH_B" netns "$VETH_NS" || return 1
	sysctl -qw "net.ipv6.conf.$VETH_A.disable_ipv6=1"
	ip netns exec "$VETH_NS" sysctl -qw "net.ipv6.conf.$VETH_B.disable_ipv6=1"
	ip link set "$VETH_A" mtu "$mtu" up || return 1
	ip netns exec "$VETH_NS" ip link set "$VETH_B" mtu "$mtu" up || return 1
}

veth_down() {
	[ -n "${VETH_A:-}" ] && ip link del "$VETH_A" 2>/dev/null
	[ -n "${VETH_NS:-}" ] && ip netns del "$VETH_NS" 2>/dev/null
	return 0
}

veth_replay() {
	local out
	out=$(ip netns exec "$VETH_NS" tcpreplay -i "$VETH_B" --pps "$2" "$1" 2>&1) ||
	    { echo "tcpreplay $1: $out"; return 1; }
	echo "$out" | grep -q "Failed packets: *0$" ||
	    { echo "tcpreplay did not send every packet: $out"; return 1; }
}
