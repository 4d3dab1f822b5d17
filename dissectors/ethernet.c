/*
 * Ethernet II and IEEE 802.3 (LINKTYPE_ETHERNET). An 802.3 frame (type field
 * below 0x0600 is a length) is narrowed to that length; with an LLC/SNAP
 * header whose OUI says the protocol id is an ethertype (RFC 1042's 000000,
 * 802.1H's 0000f8) that ethertype is followed; any other LLC payload (STP,
 * a vendor's SNAP protocol such as Cisco's CDP) ends the frame here.
 */
#include <timemachine/dissector.h>

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
	uint8_t llc[8];
	uint32_t oui;

	if (tm_skip(c, 12) || tm_get_be16(c, &type))
		return tm_fail(c);
	if (type >= 0x0600)
		return tm_next(next, TM_TABLE_ETHERTYPE, type);
	if (type > 1500)
		return tm_malformed(pkt, EV_BAD_TYPE);
	/* 802.3: a length (padding is not part of it), then LLC */
	if (type < 3 || tm_limit(c, type))
		return tm_malformed(pkt, EV_BAD_LENGTH);
	/* DSAP, SSAP, control: SNAP is AA AA 03 */
	if (tm_peek_bytes(c, 0, llc, 3))
		return tm_fail(c);
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
		return TM_DONE;
	if (type < 8)
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (tm_get_bytes(c, llc, 8))
		return tm_fail(c);
	oui = ((uint32_t)llc[3] << 16) | ((uint32_t)llc[4] << 8) | llc[5];
	if (oui != 0x000000 && oui != 0x0000f8)
		return TM_DONE;
	return tm_next(next, TM_TABLE_ETHERTYPE,
	    (uint16_t)((llc[6] << 8) | llc[7]));
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
