/*
 * GRE: IP protocol 47, and GRE-in-UDP (RFC 8086, UDP port 4754).
 *
 * Version 0 (RFC 2784, RFC 2890 key and sequence number, RFC 1701 routing):
 *   flags+version(16) protocol(16) [checksum(16) offset(16)] [key(32)]
 *   [sequence(32)] [source route entries]
 * The checksum/offset word is present when C or R is set (RFC 1701). With R
 * the source route entries (SREs) follow the other optional fields: address
 * family(16), SRE offset(8), SRE length(8), then length bytes, until an SRE
 * with family 0 and length 0. RFC 2784 deprecated them; tcpdump and tshark
 * still decode them, and so do we: they are skipped, with an event
 * (gre.source_route) because a sender should no longer emit them.
 *
 * Version 1 (enhanced GRE, PPTP, RFC 2637): K must be set and the protocol
 * must be PPP (0x880B); the key field holds the payload length (16) and the
 * call id (16), then an optional sequence number (S) and an optional
 * acknowledgment number (A, bit 0x0080). The window handed on is narrowed to
 * the payload length; a packet that only acknowledges has no payload.
 *
 * A GRE layer pushes a tunnel: version 0 is TM_TUN_GRE (with its key when K
 * is set), version 1 TM_TUN_PPTP with the call id as session id. The payload
 * goes to the gre.proto table; the core falls back to the ethertype table.
 * An empty payload (a keepalive, a PPTP acknowledgment) ends the packet.
 *
 * Over UDP a version other than 0 is not GRE-in-UDP (RFC 8086 allows only
 * version 0): the dissector declines, so the other UDP port may be tried.
 *
 * pkt->scratch: GRE leaves its flags-and-version word in bits 0..15 and its
 * own layer number plus one in bits 16..23, so that the layer right below
 * can see the GRE flags (ERSPAN type I is told from type II by the absence
 * of the sequence number). A reader must check that bits 16..23 equal its
 * own layer number (pkt->n_layers - 1): anything else is stale.
 */
#include <timemachine/dissector.h>

enum {
	EV_BAD_VERSION, EV_RESERVED_FLAGS, EV_SOURCE_ROUTE, EV_PPTP_NO_KEY,
	EV_PPTP_BAD_PROTOCOL, EV_PPTP_BAD_LENGTH
};

static const char *const events[] = {
	"gre.bad_version",	/* version is neither 0 nor 1 */
	"gre.reserved_flags",	/* reserved flag bits set (decoding goes on) */
	"gre.source_route",	/* RFC 1701 routing present: SREs skipped */
	"gre.pptp_no_key",	/* version 1 without the K bit */
	"gre.pptp_bad_protocol", /* version 1 with a protocol other than PPP */
	"gre.pptp_bad_length",	/* version 1 payload length beyond the packet */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 47 },
	{ TM_TABLE_UDP_PORT, 4754 },	/* GRE-in-UDP, RFC 8086 */
};

#define GRE_C		0x8000u	/* checksum present */
#define GRE_R		0x4000u	/* routing present (RFC 1701) */
#define GRE_K		0x2000u	/* key present */
#define GRE_S		0x1000u	/* sequence number present */
#define GRE_A		0x0080u	/* acknowledgment present (version 1) */
#define GRE_VER		0x0007u
/* reserved in version 0: strict source route, recursion control, A, flags */
#define GRE_RSVD_V0	0x0ff8u
/* reserved in version 1 (RFC 2637): C, R, s, recursion control, flags */
#define GRE_RSVD_V1	0xcf78u

#define PPTP_PROTO	0x880bu

/* Skips the source route entries up to and including the null SRE. Each
 * SRE takes at least 4 bytes, so the loop ends with the window. */
static int skip_sres(struct tm_cursor *c)
{
	for (;;) {
		uint16_t af;
		uint8_t len;

		if (tm_get_be16(c, &af) || tm_skip(c, 1) || tm_get_u8(c, &len))
			return -1;
		if (af == 0 && len == 0)
			return 0;
		if (tm_skip(c, len))
			return -1;
	}
}

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t flags, proto, paylen = 0, call_id = 0;
	uint32_t key = 0;
	unsigned ver;
	struct tm_tunnel *t;

	if (tm_peek_be16(c, 0, &flags))
		return tm_fail(c);
	ver = flags & GRE_VER;
	if (ver != 0 && pkt->via_table == TM_TABLE_UDP_PORT)
		return TM_DECLINE;
	if (ver > 1)
		return tm_malformed(pkt, EV_BAD_VERSION);
	if (tm_skip(c, 2) || tm_get_be16(c, &proto))
		return tm_fail(c);
	if (ver == 1) {
		if (!(flags & GRE_K))
			return tm_malformed(pkt, EV_PPTP_NO_KEY);
		if (proto != PPTP_PROTO)
			return tm_malformed(pkt, EV_PPTP_BAD_PROTOCOL);
	}
	if (flags & (ver ? GRE_RSVD_V1 : GRE_RSVD_V0))
		tm_event(pkt, EV_RESERVED_FLAGS);
	if ((flags & (GRE_C | GRE_R)) && tm_skip(c, 4))
		return tm_fail(c);
	if (flags & GRE_K) {
		if (tm_peek_be32(c, 0, &key) || tm_skip(c, 4))
			return tm_fail(c);
		paylen = (uint16_t)(key >> 16);
		call_id = (uint16_t)key;
	}
	if ((flags & GRE_S) && tm_skip(c, 4))
		return tm_fail(c);
	if (ver == 1 && (flags & GRE_A) && tm_skip(c, 4))
		return tm_fail(c);
	if (flags & GRE_R) {
		tm_event(pkt, EV_SOURCE_ROUTE);
		if (skip_sres(c))
			return tm_fail(c);
	}
	if (ver == 1 && tm_narrow(c, next, paylen))
		return tm_malformed(pkt, EV_PPTP_BAD_LENGTH);

	t = tm_push_tunnel(pkt, ver ? TM_TUN_PPTP : TM_TUN_GRE);
	if (!t)
		return TM_DONE;
	/* IP-in-GRE and Ethernet-in-GRE between the same routers are two
	 * tunnels (two interfaces on Linux: gre and gretap) */
	t->payload = proto;
	if (ver == 1) {
		t->session_id = call_id;
		t->ids |= TM_TID_SESSION;
	} else if (flags & GRE_K) {
		t->key = key;
		t->ids |= TM_TID_KEY;
	}
	pkt->scratch = flags | ((uint32_t)(pkt->n_layers & 0xffu) << 16);
	if ((ver == 1 ? paylen : tm_wire_remaining(c)) == 0)
		return TM_DONE;
	return tm_next(next, TM_TABLE_GRE_PROTO, proto);
}

static const struct tm_dissector gre = {
	.abi = TM_DISSECTOR_ABI,
	.name = "gre",
	.description = "GRE v0 (RFC 2784/2890/1701), enhanced GRE v1 (PPTP), "
	    "GRE-in-UDP",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("gre", "1.0", &gre)
