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
	uint8_t llc[8];

	if (tm_get_be16(c, &tci) || tm_get_be16(c, &type))
		return tm_fail(c);
	if (tm_push_vlan(pkt, (uint16_t)(tci & 0x0fffu)))
		return tm_malformed(pkt, EV_TOO_MANY_TAGS);
	if (type >= 0x0600)
		return tm_next(next, TM_TABLE_ETHERTYPE, type);
	if (type > 1500)
		return tm_malformed(pkt, EV_BAD_TYPE);
	/* 802.3: a length, then LLC */
	if (type < 3 || tm_limit(c, type))
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (tm_peek_bytes(c, 0, llc, 3))
		return tm_fail(c);
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
		return TM_DONE;		/* plain 802.2 LLC (STP, ...) */
	if (type < 8)
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (tm_get_bytes(c, llc, 8))
		return tm_fail(c);
	if (llc[3] != 0 || llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8))
		return TM_DONE;		/* a vendor's SNAP protocol */
	return tm_next(next, TM_TABLE_ETHERTYPE,
	    (uint16_t)((llc[6] << 8) | llc[7]));
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
