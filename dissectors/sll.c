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

#include "sll.h"

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 113 },	/* LINKTYPE_LINUX_SLL */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t hatype, proto;

	(void)pkt;
	if (tm_peek_be16(c, 2, &hatype) || tm_peek_be16(c, 14, &proto) ||
	    tm_skip(c, 16))
		return tm_fail(c);
	return tm_sll_next(c, next, hatype, proto);
}

static const struct tm_dissector sll = {
	.abi = TM_DISSECTOR_ABI,
	.name = "sll",
	.description = "Linux cooked capture v1 (LINKTYPE_LINUX_SLL)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("sll", "1.0", &sll)
