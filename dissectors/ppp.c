/*
 * PPP (RFC 1661) frames as captured on PPP links (LINKTYPE_PPP 9,
 * LINKTYPE_PPP_HDLC 50) and as carried by enhanced GRE (PPTP, GRE protocol
 * 0x880B) and L2TP (which hands on through linktype 9).
 *
 * An optional address/control pair FF 03 (RFC 1662; absent when
 * address-and-control-field compression was negotiated) is skipped. The
 * protocol field is one byte when its first byte is odd (protocol field
 * compression, RFC 1661 section 6.5), two bytes otherwise; a two-byte value
 * must end in an odd byte. The rest goes to the ppp.proto table: IPv4,
 * IPv6 and MPLS bind there, and control protocols (LCP, IPCP, CCP...) and
 * compressed or encrypted datagrams end the packet, as nothing binds them.
 *
 * LINKTYPE_PPP_HDLC may also hold Cisco HDLC framing (address 0x0F or 0x8F,
 * control 0x00, then an ethertype), which goes to the ethertype table.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_CONTROL, EV_BAD_PROTOCOL };

static const char *const events[] = {
	"ppp.bad_control",	/* address 0xFF not followed by control 0x03 */
	"ppp.bad_protocol",	/* two-byte protocol ending in an even byte */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 9 },	/* LINKTYPE_PPP */
	{ TM_TABLE_LINKTYPE, 50 },	/* LINKTYPE_PPP_HDLC */
	{ TM_TABLE_GRE_PROTO, 0x880b },	/* PPTP */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t b, b2;
	uint16_t proto;

	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	if (pkt->via_table == TM_TABLE_LINKTYPE && pkt->via_value == 50 &&
	    (b == 0x0f || b == 0x8f)) {
		/* Cisco HDLC: address, control, ethertype */
		if (tm_skip(c, 2) || tm_get_be16(c, &proto))
			return tm_fail(c);
		return tm_next(next, TM_TABLE_ETHERTYPE, proto);
	}
	if (b == 0xff) {
		if (tm_peek_u8(c, 1, &b2))
			return tm_fail(c);
		if (b2 != 0x03)
			return tm_malformed(pkt, EV_BAD_CONTROL);
		if (tm_skip(c, 2) || tm_peek_u8(c, 0, &b))
			return tm_fail(c);
	}
	if (b & 1) {
		if (tm_skip(c, 1))
			return tm_fail(c);
		proto = b;
	} else {
		if (tm_get_be16(c, &proto))
			return tm_fail(c);
		if (!(proto & 1))
			return tm_malformed(pkt, EV_BAD_PROTOCOL);
	}
	return tm_next(next, TM_TABLE_PPP_PROTO, proto);
}

static const struct tm_dissector ppp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "ppp",
	.description = "PPP (HDLC-like framing optional, protocol field "
	    "compression), Cisco HDLC on LINKTYPE_PPP_HDLC",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("ppp", "1.0", &ppp)
