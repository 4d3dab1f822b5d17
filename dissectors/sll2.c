/*
 * Linux "cooked" capture v2 (LINKTYPE_LINUX_SLL2, 276): a 20-byte header of
 * protocol, reserved, interface index, ARPHRD_ type, packet type, address
 * length and 8 address bytes. The protocol field means what it means in v1
 * (see sll.c): an ethertype, a GRE protocol type for ARPHRD_IPGRE, nothing
 * for netlink, radiotap and Frame Relay, Linux's ETH_P_* pseudo types below
 * 0x0600 (802.2 LLC with SNAP is followed; the others end the decoding).
 */
#include <timemachine/dissector.h>

#include "llc.h"

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 276 },	/* LINKTYPE_LINUX_SLL2 */
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
	if (tm_peek_be16(c, 0, &proto) || tm_peek_be16(c, 8, &hatype) ||
	    tm_skip(c, 20))
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

static const struct tm_dissector sll2 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "sll2",
	.description = "Linux cooked capture v2 (LINKTYPE_LINUX_SLL2)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("sll2", "1.0", &sll2)
