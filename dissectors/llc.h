/*
 * IEEE 802.2 LLC with SNAP, shared by the dissectors whose frames may carry
 * it (Ethernet 802.3, 802.1Q, Linux cooked). A private header of the
 * built-in dissectors, not part of the plugin ABI: everything is static
 * inline, so each module still links against nothing.
 */
#ifndef TM_DISSECTORS_LLC_H
#define TM_DISSECTORS_LLC_H

#include <timemachine/dissector.h>

/* Reads an LLC header at the cursor. Returns 1 with the SNAP ethertype
 * (OUI 00-00-00, or 00-00-f8 for 802.1H bridge tunnel), 0 for LLC without
 * an ethertype to follow (STP, CDP, a vendor's SNAP protocol), -1 when the
 * bytes are not there (c->err says why). */
static inline int tm_llc_snap(struct tm_cursor *c, uint16_t *ethertype)
{
	uint8_t llc[8];

	if (tm_peek_bytes(c, 0, llc, 3))
		return -1;
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
		return 0;
	if (tm_get_bytes(c, llc, 8))
		return -1;
	if (llc[3] != 0 || llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8))
		return 0;
	*ethertype = (uint16_t)((llc[6] << 8) | llc[7]);
	return 1;
}

/* The type/length field of Ethernet and 802.1Q: from 0x0600 an ethertype;
 * up to 1500 an 802.3 length (the window is narrowed to it, so padding is
 * not part of the frame) followed by LLC; in between neither. */
static inline enum tm_verdict tm_type_or_length(struct tm_cursor *c,
    struct tm_packet *pkt, struct tm_next *next, uint16_t type,
    unsigned ev_bad_type, unsigned ev_bad_length)
{
	uint16_t ethertype;
	int r;

	if (type >= 0x0600)
		return tm_next(next, TM_TABLE_ETHERTYPE, type);
	if (type > 1500)
		return tm_malformed(pkt, ev_bad_type);
	if (type < 3 || tm_limit(c, type))
		return tm_malformed(pkt, ev_bad_length);
	r = tm_llc_snap(c, &ethertype);
	if (r < 0)	/* SNAP longer than the 802.3 length: the length lies */
		return c->err == TM_SHORT ? tm_malformed(pkt, ev_bad_length) :
		    tm_fail(c);
	return r ? tm_next(next, TM_TABLE_ETHERTYPE, ethertype) : TM_DONE;
}

#endif
