/*
 * IPv6 (RFC 8200) with its extension headers: hop-by-hop options (0),
 * routing (43), fragment (44) and destination options (60) are skipped to
 * the upper layer, whose number becomes the packet's protocol. A fragment
 * that is not the first ends decoding (ports unknown, flagged); a first
 * fragment is decoded on with its window marked partial (see ipv4.c). The
 * next layer's window is narrowed to the payload length; a payload length
 * of 0 with a hop-by-hop header is a jumbogram (RFC 2675): the rest of the
 * frame.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_BAD_PAYLOAD_LENGTH, EV_BAD_EXTHDR,
	EV_TOO_MANY_EXTHDRS, EV_JUMBO };

static const char *const events[] = {
	"ipv6.bad_version",		/* version nibble is not 6 */
	"ipv6.bad_payload_length",	/* payload length beyond the frame */
	"ipv6.bad_exthdr",		/* extension header beyond the payload */
	"ipv6.too_many_exthdrs",	/* more than 16 extension headers */
	"ipv6.jumbogram",		/* payload length 0: rest of the frame */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x86dd },
	{ TM_TABLE_PPP_PROTO, 0x0057 },
	{ TM_TABLE_IP_PROTO, 41 },	/* IPv6 in IPv4/IPv6 (6in4, 6in6) */
	{ TM_TABLE_LINKTYPE, 229 },	/* LINKTYPE_IPV6 */
};

#define MAX_EXTHDRS 16

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t hdr[40], nh;
	uint16_t plen;
	struct tm_addr src, dst;
	unsigned n_ext = 0;

	if (tm_peek_u8(c, 0, &nh))
		return tm_fail(c);
	if ((nh >> 4) != 6)
		return tm_malformed(pkt, EV_BAD_VERSION);
	if (tm_get_bytes(c, hdr, 40)) {
		/* cut before the addresses: an IPv6 packet all the same,
		 * unless an outer IP layer already names the endpoints */
		if (pkt->l3 != TM_L3_IPV4 && pkt->l3 != TM_L3_IPV6)
			tm_set_l3(pkt, TM_L3_IPV6, NULL, NULL);
		return tm_fail(c);
	}
	tm_addr_set6(&src, hdr + 8);
	tm_addr_set6(&dst, hdr + 24);
	/* IP directly inside IP (IP protocol 41) is an IP-in-IP tunnel */
	if (pkt->via_table == TM_TABLE_IP_PROTO &&
	    !tm_push_tunnel(pkt, TM_TUN_IPIP))
		return TM_DONE;
	tm_set_l3(pkt, TM_L3_IPV6, &src, &dst);
	plen = (uint16_t)((hdr[4] << 8) | hdr[5]);
	nh = hdr[6];
	tm_set_proto(pkt, nh);
	if (plen == 0 && nh == 0 && tm_wire_remaining(c) > 0) {
		tm_event(pkt, EV_JUMBO);
	} else {
		/* extension headers and the upper layer live in plen */
		if (tm_limit(c, plen))
			return tm_malformed(pkt, EV_BAD_PAYLOAD_LENGTH);
	}
	for (;;) {
		uint8_t b[8];
		size_t len;

		switch (nh) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (tm_peek_bytes(c, 0, b, 2)) {
				if (tm_wire_remaining(c) < 2)
					return tm_malformed(pkt, EV_BAD_EXTHDR);
				return tm_fail(c);
			}
			len = ((size_t)b[1] + 1u) * 8u;
			break;
		case 44:	/* fragment */
			if (tm_peek_bytes(c, 0, b, 8)) {
				if (tm_wire_remaining(c) < 8)
					return tm_malformed(pkt, EV_BAD_EXTHDR);
				return tm_fail(c);
			}
			len = 8;
			/* offset 0 without more fragments is an atomic
			 * fragment: a whole datagram (RFC 6946) */
			if ((((unsigned)b[2] << 8) | b[3]) & 0xfff9u)
				pkt->flags |= TM_PF_FRAGMENT;
			if ((((unsigned)b[2] << 8) | b[3]) & 0xfff8u) {
				pkt->flags |= TM_PF_LATER_FRAG;
				tm_set_proto(pkt, b[0]);
				return TM_DONE;
			}
			break;
		default:
			goto upper;
		}
		if (++n_ext > MAX_EXTHDRS)
			return tm_malformed(pkt, EV_TOO_MANY_EXTHDRS);
		if (len > tm_wire_remaining(c)) {
			/* in a first fragment the rest is in the next one */
			if (c->partial)
				return TM_TRUNCATED;
			return tm_malformed(pkt, EV_BAD_EXTHDR);
		}
		if (tm_skip(c, len))
			return tm_fail(c);
		/* a first fragment with more to come: the datagram goes on
		 * beyond this packet */
		if (nh == 44 && (b[3] & 1u))
			tm_mark_partial(c);
		nh = b[0];
		tm_set_proto(pkt, nh);
	}
upper:
	if (nh == 59)		/* no next header */
		return TM_DONE;
	return tm_next(next, TM_TABLE_IP_PROTO, nh);
}

static const struct tm_dissector ipv6 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "ipv6",
	.description = "IPv6 with hop-by-hop, routing, fragment and "
	    "destination-options headers",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("ipv6", "1.0", &ipv6)
