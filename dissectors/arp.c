/*
 * ARP (RFC 826) and RARP (RFC 903). The header says how long its addresses
 * are (hlen, plen), so any hardware type is walked the same way. When the
 * protocol is IPv4 with 4-byte addresses, the sender and target protocol
 * addresses are the packet's endpoints; any other protocol leaves an ARP
 * layer without addresses. Terminal.
 *
 * Odd sizes are recorded but do not stop decoding, since the layout is
 * self-describing: tcpdump and tshark both print a 14-byte hardware address
 * of an unknown hardware type (tcpdump's arp-too-long-tha test) and take
 * the IPv4 addresses after it.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_HLEN, EV_BAD_PLEN };

static const char *const events[] = {
	"arp.bad_hlen",		/* hardware size 0, or not 6 for Ethernet */
	"arp.bad_plen",		/* IPv4 protocol with a size other than 4 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x0806 },	/* ARP */
	{ TM_TABLE_ETHERTYPE, 0x8035 },	/* RARP */
};

#define HTYPE_ETHERNET	1
#define HTYPE_IEEE802	6
#define PTYPE_IPV4	0x0800

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t htype, ptype;
	uint8_t hlen, plen, spa[4], tpa[4];
	struct tm_addr src, dst;
	size_t spa_off, tpa_off;

	(void)next;
	/* htype, ptype, hlen, plen, op */
	if (tm_peek_be16(c, 0, &htype) || tm_peek_be16(c, 2, &ptype) ||
	    tm_peek_u8(c, 4, &hlen) || tm_peek_u8(c, 5, &plen) ||
	    tm_need(c, 8))
		return tm_fail(c);
	tm_set_l3(pkt, TM_L3_ARP, NULL, NULL);
	if (hlen == 0 || ((htype == HTYPE_ETHERNET || htype == HTYPE_IEEE802) &&
	    hlen != 6))
		tm_event(pkt, EV_BAD_HLEN);
	/* sha spa tha tpa: the whole body must be there */
	spa_off = 8u + hlen;
	tpa_off = spa_off + plen + hlen;
	if (tm_need(c, tpa_off + plen))
		return tm_fail(c);
	if (ptype != PTYPE_IPV4)
		return TM_DONE;
	if (plen != 4) {
		tm_event(pkt, EV_BAD_PLEN);
		return TM_DONE;
	}
	if (tm_peek_bytes(c, spa_off, spa, 4) ||
	    tm_peek_bytes(c, tpa_off, tpa, 4))
		return tm_fail(c);
	tm_addr_set4(&src, spa);
	tm_addr_set4(&dst, tpa);
	tm_set_l3(pkt, TM_L3_ARP, &src, &dst);
	return TM_DONE;
}

static const struct tm_dissector arp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "arp",
	.description = "ARP and RARP: IPv4 protocol addresses as endpoints",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("arp", "1.0", &arp)
