/*
 * Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, 113): a 16-byte header of
 * packet type, ARPHRD_ type, address length, 8 address bytes and a protocol
 * field. The protocol is an ethertype for most ARPHRD_ types; for
 * ARPHRD_IPGRE it is a GRE protocol type; netlink, radiotap and Frame Relay
 * frames carry no ethertype at all (terminal here). Protocol values below
 * 0x0600 are Linux's ETH_P_* pseudo types: 0x0004 is an 802.2 LLC frame
 * (with SNAP and an ethertype OUI, its ethertype is followed), the others
 * (0x0001 Novell 802.3, CAN, ...) end the decoding.
 */
#include <timemachine/dissector.h>

#include "llc.h"

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 113 },	/* LINKTYPE_LINUX_SLL */
};

#define ARPHRD_FRAD	770
#define ARPHRD_IPGRE	778
#define ARPHRD_RADIOTAP	803
#define ARPHRD_NETLINK	824
#define SLL_P_802_2	0x0004

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t hatype, proto;

	(void)pkt;
	if (tm_peek_be16(c, 2, &hatype) || tm_peek_be16(c, 14, &proto) ||
	    tm_skip(c, 16))
		return tm_fail(c);
	switch (hatype) {
	case ARPHRD_IPGRE:
		return tm_next(next, TM_TABLE_GRE_PROTO, proto);
	case ARPHRD_FRAD:
	case ARPHRD_RADIOTAP:
	case ARPHRD_NETLINK:
		return TM_DONE;
	default:
		break;
	}
	if (proto >= 0x0600)
		return tm_next(next, TM_TABLE_ETHERTYPE, proto);
	if (proto != SLL_P_802_2)
		return TM_DONE;
	/* 802.2 LLC; with SNAP and an ethertype OUI, follow the ethertype */
	switch (tm_llc_snap(c, &proto)) {
	case 1:
		return tm_next(next, TM_TABLE_ETHERTYPE, proto);
	case 0:
		return TM_DONE;
	default:
		return tm_fail(c);
	}
}

static const struct tm_dissector sll = {
	.abi = TM_DISSECTOR_ABI,
	.name = "sll",
	.description = "Linux cooked capture v1 (LINKTYPE_LINUX_SLL)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("sll", "1.0", &sll)
