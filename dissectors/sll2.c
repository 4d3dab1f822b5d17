/*
 * Linux "cooked" capture v2 (LINKTYPE_LINUX_SLL2, 276): a 20-byte header of
 * protocol, reserved, interface index, ARPHRD_ type, packet type, address
 * length and 8 address bytes. The protocol field means what it means in v1
 * (see sll.c): an ethertype, a GRE protocol type for ARPHRD_IPGRE, nothing
 * for netlink, radiotap and Frame Relay, Linux's ETH_P_* pseudo types below
 * 0x0600 (802.2 LLC with SNAP is followed; the others end the decoding).
 */
#include <timemachine/dissector.h>

#include "sll.h"

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 276 },	/* LINKTYPE_LINUX_SLL2 */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t hatype, proto;

	(void)pkt;
	if (tm_peek_be16(c, 0, &proto) || tm_peek_be16(c, 8, &hatype) ||
	    tm_skip(c, 20))
		return tm_fail(c);
	return tm_sll_next(c, next, hatype, proto);
}

static const struct tm_dissector sll2 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "sll2",
	.description = "Linux cooked capture v2 (LINKTYPE_LINUX_SLL2)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("sll2", "1.0", &sll2)
