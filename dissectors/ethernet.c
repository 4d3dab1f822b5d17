/*
 * Ethernet II and IEEE 802.3 (LINKTYPE_ETHERNET). An 802.3 frame (type field
 * below 0x0600 is a length) is narrowed to that length; with an LLC/SNAP
 * header whose OUI says the protocol id is an ethertype (RFC 1042's 000000,
 * 802.1H's 0000f8) that ethertype is followed; any other LLC payload (STP,
 * a vendor's SNAP protocol such as Cisco's CDP) ends the frame here.
 */
#include <timemachine/dissector.h>

#include "llc.h"

enum { EV_BAD_LENGTH, EV_BAD_TYPE };

static const char *const events[] = {
	"eth.bad_length",	/* 802.3 length field beyond the frame, or
				 * too short for its LLC or SNAP header */
	"eth.bad_type",		/* type/length 1501..1535: neither */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 1 },	/* LINKTYPE_ETHERNET */
	{ TM_TABLE_GRE_PROTO, 0x6558 },	/* Transparent Ethernet Bridging */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t type;

	if (tm_skip(c, 12) || tm_get_be16(c, &type))
		return tm_fail(c);
	return tm_type_or_length(c, pkt, next, type, EV_BAD_TYPE,
	    EV_BAD_LENGTH);
}

static const struct tm_dissector eth = {
	.abi = TM_DISSECTOR_ABI,
	.name = "eth",
	.description = "Ethernet II and IEEE 802.3 with LLC/SNAP",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("eth", "1.0", &eth)
