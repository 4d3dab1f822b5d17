/*
 * IPv4 (RFC 791). Options are skipped; the next layer's window is narrowed to
 * the total length, so an Ethernet trailer never reaches it. A fragment that
 * is not the first carries no transport header: it is keyed by addresses and
 * protocol and flagged. A first fragment is decoded on, but its datagram
 * goes on in later fragments: its window is marked partial, so a UDP length
 * or an inner IP total length that covers the whole datagram is no
 * violation (tshark without reassembly decodes it the same way). A total
 * length of 0 on a frame longer than the header is taken as a
 * segmentation-offload capture (the rest of the frame).
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_BAD_IHL, EV_BAD_TOTAL_LENGTH, EV_TSO_LENGTH };

static const char *const events[] = {
	"ipv4.bad_version",	/* version nibble is not 4 */
	"ipv4.bad_ihl",		/* header length below 20 bytes */
	"ipv4.bad_total_length", /* total length below the header or beyond
				  * the frame */
	"ipv4.tso_length",	/* total length 0: offloaded super-packet */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x0800 },
	{ TM_TABLE_PPP_PROTO, 0x0021 },
	{ TM_TABLE_IP_PROTO, 4 },	/* IPv4 in IPv4/IPv6 */
	{ TM_TABLE_LINKTYPE, 228 },	/* LINKTYPE_IPV4 */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t vihl, proto, hdr[20];
	uint16_t total, frag;
	unsigned ihl;
	struct tm_addr src, dst;

	if (tm_peek_u8(c, 0, &vihl))
		return tm_fail(c);
	if ((vihl >> 4) != 4)
		return tm_malformed(pkt, EV_BAD_VERSION);
	ihl = (vihl & 0x0fu) * 4u;
	if (ihl < 20)
		return tm_malformed(pkt, EV_BAD_IHL);
	/* the addresses first, so a cut header still names its endpoints */
	if (tm_peek_bytes(c, 0, hdr, 20)) {
		/* cut before the addresses: an IPv4 packet all the same,
		 * unless an outer IP layer already names the endpoints */
		if (pkt->l3 != TM_L3_IPV4 && pkt->l3 != TM_L3_IPV6)
			tm_set_l3(pkt, TM_L3_IPV4, NULL, NULL);
		return tm_fail(c);
	}
	tm_addr_set4(&src, hdr + 12);
	tm_addr_set4(&dst, hdr + 16);
	/* IP directly inside IP (IP protocol 4) is an IP-in-IP tunnel */
	if (pkt->via_table == TM_TABLE_IP_PROTO &&
	    !tm_push_tunnel(pkt, TM_TUN_IPIP))
		return TM_DONE;
	tm_set_l3(pkt, TM_L3_IPV4, &src, &dst);
	proto = hdr[9];
	tm_set_proto(pkt, proto);
	total = (uint16_t)((hdr[2] << 8) | hdr[3]);
	frag = (uint16_t)((hdr[6] << 8) | hdr[7]);
	if (tm_skip(c, ihl))
		return tm_fail(c);
	if (total == 0 && tm_wire_remaining(c) > 0) {
		tm_event(pkt, EV_TSO_LENGTH);
	} else {
		if (total < ihl)
			return tm_malformed(pkt, EV_BAD_TOTAL_LENGTH);
		if (tm_narrow(c, next, total - ihl))
			return tm_malformed(pkt, EV_BAD_TOTAL_LENGTH);
	}
	if (frag & 0x3fffu) {
		pkt->flags |= TM_PF_FRAGMENT;
		if (frag & 0x1fffu) {
			pkt->flags |= TM_PF_LATER_FRAG;
			return TM_DONE;
		}
		/* a first fragment: the datagram goes on beyond it */
		tm_mark_partial(c);
	}
	return tm_next(next, TM_TABLE_IP_PROTO, proto);
}

static const struct tm_dissector ipv4 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "ipv4",
	.description = "IPv4: options skipped, fragments flagged",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("ipv4", "1.0", &ipv4)
