/*
 * PPPoE (RFC 2516): ethertype 0x8863 (discovery) and 0x8864 (session).
 *
 * Header: version (4) and type (4), both 1; code (8); session id (16);
 * length (16) of the payload. A session packet has code 0 and carries a PPP
 * frame without address and control bytes: its protocol field (two bytes;
 * one when the peers negotiated protocol field compression, as in ppp.c)
 * goes to the ppp.proto table, within the window the length field gives,
 * so Ethernet padding never reaches the layer inside. A session packet
 * pushes a TM_TUN_PPPOE tunnel with the session id.
 *
 * Discovery packets (PADI, PADO, PADR, PADS, PADT) end the packet: their
 * tags name the access concentrator and service, not a conversation inside.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_BAD_CODE, EV_BAD_LENGTH };

static const char *const events[] = {
	"pppoe.bad_version",	/* version/type byte is not 0x11 */
	"pppoe.bad_code",	/* session packet with a code other than 0 */
	"pppoe.bad_length",	/* length beyond the frame */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x8863 },	/* discovery */
	{ TM_TABLE_ETHERTYPE, 0x8864 },	/* session */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t vt, code, b;
	uint16_t session, len, proto;
	struct tm_tunnel *t;

	if (tm_get_u8(c, &vt) || tm_get_u8(c, &code) ||
	    tm_get_be16(c, &session) || tm_get_be16(c, &len))
		return tm_fail(c);
	if (vt != 0x11)
		return tm_malformed(pkt, EV_BAD_VERSION);
	if (tm_limit(c, len))
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (pkt->via_value == 0x8863)
		return TM_DONE;
	if (code != 0)
		return tm_malformed(pkt, EV_BAD_CODE);
	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	if (b & 1) {
		if (tm_skip(c, 1))
			return tm_fail(c);
		proto = b;
	} else if (tm_get_be16(c, &proto)) {
		return tm_fail(c);
	}
	t = tm_push_tunnel(pkt, TM_TUN_PPPOE);
	if (!t)
		return TM_DONE;
	t->session_id = session;
	t->ids |= TM_TID_SESSION;
	return tm_next(next, TM_TABLE_PPP_PROTO, proto);
}

static const struct tm_dissector pppoe = {
	.abi = TM_DISSECTOR_ABI,
	.name = "pppoe",
	.description = "PPPoE discovery and session (PPP inside)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("pppoe", "1.0", &pppoe)
