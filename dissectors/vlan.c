/*
 * IEEE 802.1Q VLAN tags (ethertype 0x8100), 802.1ad service tags (0x88a8)
 * and the legacy QinQ ethertypes 0x9100 and 0x9200. Each tag's VLAN id (the
 * low 12 bits of the TCI) is recorded, id 0 (a priority tag) included, so a
 * stack of tags is seen outermost first. The inner type field is handled as
 * in Ethernet: an ethertype, or an 802.3 length followed by LLC; a SNAP
 * header with an ethertype (OUI 00-00-00 or 802.1H 00-00-f8) is followed, any
 * other LLC payload (STP, a vendor's SNAP protocol) ends the decoding.
 */
#include <timemachine/dissector.h>

#include "llc.h"

enum { EV_TOO_MANY_TAGS, EV_BAD_LENGTH, EV_BAD_TYPE };

static const char *const events[] = {
	"vlan.too_many_tags",	/* more than TM_MAX_VLANS tags */
	"vlan.bad_length",	/* 802.3 length beyond the frame or below LLC */
	"vlan.bad_type",	/* type/length 1501..1535: neither */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x8100 },	/* 802.1Q C-tag */
	{ TM_TABLE_ETHERTYPE, 0x88a8 },	/* 802.1ad S-tag */
	{ TM_TABLE_ETHERTYPE, 0x9100 },	/* legacy QinQ */
	{ TM_TABLE_ETHERTYPE, 0x9200 },	/* legacy QinQ */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t tci, type;

	if (tm_get_be16(c, &tci) || tm_get_be16(c, &type))
		return tm_fail(c);
	if (tm_push_vlan(pkt, (uint16_t)(tci & 0x0fffu)))
		return tm_malformed(pkt, EV_TOO_MANY_TAGS);
	return tm_type_or_length(c, pkt, next, type, EV_BAD_TYPE,
	    EV_BAD_LENGTH);
}

static const struct tm_dissector vlan = {
	.abi = TM_DISSECTOR_ABI,
	.name = "vlan",
	.description = "IEEE 802.1Q / 802.1ad VLAN tags (also 0x9100, 0x9200)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("vlan", "1.0", &vlan)
