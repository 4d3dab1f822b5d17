/*
 * L2TPv3 over IP (IP protocol 115, RFC 3931 section 4.1.1.2).
 *
 * The first 32 bits are the session id; 0 means a control message, whose
 * header follows: flags and version (16: T, L, S, version 3), length (16),
 * control connection id (32), Ns (16), Nr (16). Control messages end the
 * packet (the control connection is the outer IP conversation).
 *
 * A data message's session id is followed by a cookie of 0, 4 or 8 bytes
 * and by an optional 4-byte L2-specific sublayer (RFC 3931 4.6; Linux adds
 * the "default" sublayer unless told not to, Cisco sends none), and then
 * the pseudowire's frame. Neither the cookie length nor the sublayer is
 * signalled in the packet: both are agreed by the control connection, or
 * configured by hand, and a single packet cannot know them. tshark needs
 * preferences for them. We use a heuristic instead, for Ethernet
 * pseudowires (by far the most common kind): the frame starts at the first
 * offset k of 0, 4, 8 and 12 bytes after the session id (no cookie and no
 * sublayer first) where a plausible Ethernet header sits, that is where
 * bytes k+12..k+13 hold a well-known ethertype (IPv4, ARP, IPv6, VLAN and
 * QinQ tags, MPLS, PPPoE, LLDP, LACP, 802.1X, MACsec, PTP...) or an 802.3
 * length that matches the rest of the packet (exactly, or below 46 bytes
 * in a frame padded to the Ethernet minimum). An offset whose ethertype
 * lies beyond the captured bytes (a snap length cut it) cannot be ruled out
 * and is taken, so a cut frame is reported as a truncated Ethernet header.
 * Note that a candidate with no cookie can be fooled when the real frame's
 * source MAC holds a listed ethertype in its bytes 2..3 (about 1 random
 * address in 3500): a known limit of guessing.
 * When no offset fits, the payload is not an Ethernet frame we recognize
 * (a PPP, HDLC, Frame Relay or ATM pseudowire): an event, and the packet
 * ends there.
 *
 * A data message pushes a TM_TUN_L2TP tunnel with the session id.
 */
#include <timemachine/dissector.h>

#include "l2tpv3_pw.h"

enum { EV_BAD_VERSION, EV_NO_ETHERNET };

static const char *const events[] = {
	"l2tpv3.bad_version",	/* control message with a version other
				 * than 3 */
	"l2tpv3.no_ethernet",	/* data: no Ethernet frame found */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 115 },
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint32_t session;
	uint16_t flags;
	struct tm_tunnel *t;
	int k;

	if (tm_get_be32(c, &session))
		return tm_fail(c);
	if (session == 0) {
		if (tm_peek_be16(c, 0, &flags))
			return tm_fail(c);
		if ((flags & 0x000fu) != 3)
			return tm_malformed(pkt, EV_BAD_VERSION);
		if (tm_skip(c, 12))
			return tm_fail(c);
		return TM_DONE;
	}
	t = tm_push_tunnel(pkt, TM_TUN_L2TP);
	if (!t)
		return TM_DONE;
	t->session_id = session;
	t->ids |= TM_TID_SESSION;
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	k = tm_l2tpv3_find_ethernet(c);
	if (k < 0) {
		tm_event(pkt, EV_NO_ETHERNET);
		return TM_DONE;
	}
	if (tm_skip(c, (size_t)k))
		return tm_fail(c);
	return tm_next(next, TM_TABLE_LINKTYPE, 1);
}

static const struct tm_dissector l2tpv3 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "l2tpv3",
	.description = "L2TPv3 over IP (Ethernet pseudowires, cookie and "
	    "sublayer found by heuristic)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("l2tpv3", "1.0", &l2tpv3)
