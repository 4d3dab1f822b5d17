/*
 * ERSPAN: Cisco's encapsulated remote SPAN (draft-foschiano-erspan), inside
 * GRE with protocol 0x88BE (types I and II) or 0x22EB (type III).
 *
 * Type I has no ERSPAN header at all: the mirrored Ethernet frame follows
 * the GRE header directly, and the GRE header has no sequence number. Type
 * II always sets the GRE S bit. So, as tcpdump and tshark do, a packet of
 * GRE protocol 0x88BE whose GRE header had no sequence number is type I.
 * The GRE dissector leaves its flags in pkt->scratch for this (see gre.c:
 * bits 0..15 the flags word, bits 16..23 the GRE layer number plus one,
 * which must equal this layer's number for the flags to be ours).
 *
 * Type II header (8 bytes): version 1 (4 bits), VLAN (12), CoS (3),
 * encapsulation (2), truncated (1), session id (10), reserved (12),
 * index (20).
 * Type III header (12 bytes): version 2, VLAN, CoS, BSO (2), T, session id,
 * timestamp (32), SGT (16), P (1), frame type (5), hardware id (6), D (1),
 * granularity (2), O (1); with O set an 8-byte platform-specific subheader
 * follows. Frame type 0 is an Ethernet frame, 2 an IP packet (IPv4 or IPv6
 * by its version nibble); others are reserved and end the packet with an
 * event.
 *
 * The version field decides the layout whatever GRE protocol carried it.
 * A TM_TUN_ERSPAN tunnel is pushed with the session id (none for type I).
 * The mirrored frame's original VLAN in the header is not a tag of the
 * mirrored frame and is not recorded as one.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_UNKNOWN_FRAME_TYPE };

static const char *const events[] = {
	"erspan.bad_version",	/* version neither 1 (type II) nor 2 (III) */
	"erspan.unknown_frame_type", /* type III frame type neither 0 nor 2 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_GRE_PROTO, 0x88be },	/* types I and II */
	{ TM_TABLE_GRE_PROTO, 0x22eb },	/* type III */
};

#define GRE_S		0x1000u	/* GRE flags: sequence number present */

/* Did the GRE layer right above us say it had no sequence number? */
static int is_type1(const struct tm_packet *pkt)
{
	uint32_t s = pkt->scratch;

	return pkt->via_table == TM_TABLE_GRE_PROTO && pkt->via_value == 0x88be &&
	    pkt->n_layers >= 1 && ((s >> 16) & 0xffu) == pkt->n_layers - 1u &&
	    !(s & GRE_S);
}

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint32_t w0, w2 = 0;
	unsigned ver, ft = 0;
	struct tm_tunnel *t;
	uint8_t b;

	if (is_type1(pkt)) {
		if (!tm_push_tunnel(pkt, TM_TUN_ERSPAN))
			return TM_DONE;
		return tm_next(next, TM_TABLE_LINKTYPE, 1);
	}
	if (tm_peek_be32(c, 0, &w0))
		return tm_fail(c);
	ver = w0 >> 28;
	if (ver == 1) {
		if (tm_skip(c, 8))
			return tm_fail(c);
	} else if (ver == 2) {
		if (tm_peek_be32(c, 8, &w2) || tm_skip(c, 12))
			return tm_fail(c);
		if ((w2 & 1u) && tm_skip(c, 8))
			return tm_fail(c);
		ft = (w2 >> 10) & 0x1fu;
	} else {
		return tm_malformed(pkt, EV_BAD_VERSION);
	}
	t = tm_push_tunnel(pkt, TM_TUN_ERSPAN);
	if (!t)
		return TM_DONE;
	t->session_id = w0 & 0x3ffu;
	t->ids |= TM_TID_SESSION;
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	if (ft == 0)
		return tm_next(next, TM_TABLE_LINKTYPE, 1);
	if (ft != 2) {
		tm_event(pkt, EV_UNKNOWN_FRAME_TYPE);
		return TM_DONE;
	}
	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	return tm_next(next, TM_TABLE_ETHERTYPE, (b >> 4) == 6 ? 0x86dd : 0x0800);
}

static const struct tm_dissector erspan = {
	.abi = TM_DISSECTOR_ABI,
	.name = "erspan",
	.description = "ERSPAN types I, II and III (mirrored frames in GRE)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("erspan", "1.0", &erspan)
