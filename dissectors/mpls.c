/*
 * MPLS label stacks (RFC 3032): ethertypes 0x8847 (unicast) and 0x8848
 * (multicast), PPP protocols 0x0281 and 0x0283, MPLS-in-UDP (RFC 7510, UDP
 * port 6635), and MPLS in GRE through the ethertype fallback.
 *
 * Each stack entry is label (20), traffic class (3), bottom of stack S (1),
 * TTL (8). Entries are read until S; a stack deeper than MAX_LABELS is
 * malformed (real networks use a handful). A TM_TUN_MPLS tunnel is pushed
 * with the bottom-of-stack label (in an L3VPN, the VPN label: it tells two
 * customers' equal addresses apart).
 *
 * MPLS does not say what is below the stack. We decide, in this order:
 *  - a bottom label of 0 (IPv4 explicit null) or 2 (IPv6 explicit null)
 *    says it (RFC 3032 2.1);
 *  - first nibble 4: IPv4; 6: IPv6 (as the Linux flow dissector, tcpdump
 *    and tshark do; an Ethernet pseudowire without control word whose
 *    destination MAC starts with such a nibble is mistaken for IP: the
 *    price every decoder pays);
 *  - otherwise an Ethernet pseudowire (RFC 4448). As tshark's heuristic
 *    does, a frame with a well-known ethertype at bytes 12..13 is taken as
 *    Ethernet without control word; otherwise first nibble 0 is the
 *    control word (RFC 4385: 4 bytes) followed by the Ethernet frame;
 *    first nibble 1 is an associated channel (RFC 4385/5586: OAM such as
 *    BFD), which ends the packet; anything else ends the packet with the
 *    event mpls.unknown_payload (tshark shows such payloads as data too).
 *    When the capture ends before bytes 12..13 (a snap length), nothing
 *    rules Ethernet out: nibble 0 is then taken as the control word, 1 as
 *    the associated channel, and anything else as Ethernet without
 *    control word, so a cut frame is reported as a truncated Ethernet
 *    header.
 * The decision needs the first payload byte: when the capture ends right
 * after the stack, the packet is reported as mpls.truncated.
 */
#include <timemachine/dissector.h>

#include "ethertypes.h"

enum { EV_TOO_MANY_LABELS, EV_UNKNOWN_PAYLOAD };

static const char *const events[] = {
	"mpls.too_many_labels",	/* no bottom of stack within MAX_LABELS */
	"mpls.unknown_payload",	/* neither IP nor an Ethernet pseudowire */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_ETHERTYPE, 0x8847 },
	{ TM_TABLE_ETHERTYPE, 0x8848 },
	{ TM_TABLE_PPP_PROTO, 0x0281 },
	{ TM_TABLE_PPP_PROTO, 0x0283 },
	{ TM_TABLE_UDP_PORT, 6635 },	/* MPLS-in-UDP, RFC 7510 */
};

#define MAX_LABELS	16

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint32_t e = 0, label;
	struct tm_tunnel *t;
	uint16_t type;
	uint8_t b;
	unsigned n;

	for (n = 0;; n++) {
		if (n == MAX_LABELS)
			return tm_malformed(pkt, EV_TOO_MANY_LABELS);
		if (tm_get_be32(c, &e))
			return tm_fail(c);
		if (e & 0x100u)
			break;
	}
	label = e >> 12;
	t = tm_push_tunnel(pkt, TM_TUN_MPLS);
	if (!t)
		return TM_DONE;
	t->label = label;
	t->ids |= TM_TID_LABEL;
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	if (label == 0)
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	if (label == 2)
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	switch (b >> 4) {
	case 4:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	case 6:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	default:
		break;
	}
	if (tm_wire_remaining(c) >= 14) {
		int plain;

		if (tm_peek_be16(c, 12, &type))	/* the capture ends first */
			plain = (b >> 4) > 1;
		else
			plain = tm_known_ethertype(type);
		if (plain)
			return tm_next(next, TM_TABLE_LINKTYPE, 1);
	}
	switch (b >> 4) {
	case 0:
		if (tm_skip(c, 4))
			return tm_fail(c);
		if (tm_wire_remaining(c) == 0)
			return TM_DONE;
		return tm_next(next, TM_TABLE_LINKTYPE, 1);
	case 1:
		return TM_DONE;
	default:
		tm_event(pkt, EV_UNKNOWN_PAYLOAD);
		return TM_DONE;
	}
}

static const struct tm_dissector mpls = {
	.abi = TM_DISSECTOR_ABI,
	.name = "mpls",
	.description = "MPLS label stack (IP, Ethernet pseudowires below), "
	    "MPLS-in-UDP",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("mpls", "1.0", &mpls)
