/*
 * GTP-U, GTPv1 user plane (3GPP TS 29.281), on UDP port 2152. An 8-byte
 * header (version, PT, E/S/PN flags, message type, length, TEID); when any
 * of E, S, PN is set, 4 more bytes (sequence number, N-PDU number, next
 * extension header type), then the chain of extension headers, each a
 * length in 4-byte units, its content and the next type. The length field
 * counts everything after the first 8 bytes and bounds the payload.
 *
 * A G-PDU (message type 255) carries a user packet, IPv4 or IPv6 by its
 * first nibble; the other messages (echo, error indication, end marker,
 * ...) are terminal. A header that is not version 1 with PT 1 is not GTP-U
 * (GTPv2-C, GTP', or some other protocol on this port, e.g. a user's own
 * UDP flow to port 2152 inside a tunnel): the dissector declines and the
 * packet stays plain UDP.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_LENGTH, EV_BAD_EXT_LENGTH, EV_TOO_MANY_EXTS,
	EV_UNKNOWN_PAYLOAD };

static const char *const events[] = {
	"gtp.bad_length",	/* length beyond the datagram, or below the
				   optional fields it announces */
	"gtp.bad_ext_length",	/* extension header of length 0 or beyond
				   the message */
	"gtp.too_many_exts",	/* more than 16 extension headers */
	"gtp.unknown_payload",	/* G-PDU payload neither IPv4 nor IPv6 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 2152 },
};

#define GTP_E		0x04u
#define GTP_S		0x02u
#define GTP_PN		0x01u
#define GTP_GPDU	255
#define MAX_EXTS	16

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t hdr[8], opt[4], b, nxt;
	uint16_t len;
	uint32_t teid;
	unsigned n_ext = 0;
	struct tm_tunnel *t;

	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	if ((b >> 5) != 1 || !(b & 0x10u))
		return TM_DECLINE;	/* not GTPv1-U */
	if (tm_get_bytes(c, hdr, 8))
		return tm_fail(c);
	len = (uint16_t)((hdr[2] << 8) | hdr[3]);
	teid = ((uint32_t)hdr[4] << 24) | ((uint32_t)hdr[5] << 16) |
	    ((uint32_t)hdr[6] << 8) | hdr[7];
	if (tm_limit(c, len))
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (hdr[0] & (GTP_E | GTP_S | GTP_PN)) {
		if (len < 4)
			return tm_malformed(pkt, EV_BAD_LENGTH);
		if (tm_get_bytes(c, opt, 4))
			return tm_fail(c);
		nxt = (hdr[0] & GTP_E) ? opt[3] : 0;
		while (nxt != 0) {
			size_t elen;

			if (++n_ext > MAX_EXTS)
				return tm_malformed(pkt, EV_TOO_MANY_EXTS);
			if (tm_peek_u8(c, 0, &b)) {
				if (tm_wire_remaining(c) == 0)
					return tm_malformed(pkt,
					    EV_BAD_EXT_LENGTH);
				return tm_fail(c);
			}
			elen = (size_t)b * 4u;
			if (elen == 0 || elen > tm_wire_remaining(c))
				return tm_malformed(pkt, EV_BAD_EXT_LENGTH);
			if (tm_peek_u8(c, elen - 1, &nxt) || tm_skip(c, elen))
				return tm_fail(c);
		}
	}
	if (hdr[1] != GTP_GPDU || tm_wire_remaining(c) == 0)
		return TM_DONE;
	t = tm_push_tunnel(pkt, TM_TUN_GTP);
	if (!t)
		return TM_DONE;
	t->teid = teid;
	t->ids |= TM_TID_TEID;
	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	switch (b >> 4) {
	case 4:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	case 6:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	default:
		tm_event(pkt, EV_UNKNOWN_PAYLOAD);
		return TM_DONE;
	}
}

static const struct tm_dissector gtp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "gtp",
	.description = "GTP-U, GTPv1 user plane (3GPP TS 29.281)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("gtp", "1.0", &gtp)
