/*
 * L2TP over UDP (port 1701): version 2 (RFC 2661) and version 3 (RFC 3931
 * section 4.1.2.2).
 *
 * Version 2: flags and version (16): T (control), L (length present), S
 * (Ns/Nr present), O (offset present), P (priority), version 2; then the
 * length (16, when L), tunnel id (16), session id (16), Ns and Nr (16 each,
 * when S), offset size (16, when O) and that many bytes of padding. The
 * length counts the whole message from the flags; the window is narrowed to
 * it. A control message (T) must have L and S set.
 *
 * Version 3 over UDP: the same first 16 bits (version 3). A control message
 * carries length (16), control connection id (32), Ns and Nr; like a version 2
 * control message it must have L and S set. A data
 * message carries 16 reserved bits, the session id (32), then what L2TPv3
 * over IP carries after its session id: a cookie of 0, 4 or 8 bytes and an
 * optional 4-byte L2-specific sublayer, neither signalled in the packet, so
 * we look for an Ethernet frame as l2tpv3.c does (the same heuristic, see
 * there): the first of the offsets 0, 4, 8 and 12 where a known ethertype
 * (or a fitting 802.3 length) sits 12 bytes further; an offset whose bytes
 * the capture does not hold cannot be ruled out and is taken.
 *
 * Control messages are recognized and not decoded further (TM_DONE, no
 * tunnel: the control connection is the outer UDP conversation). A data
 * message pushes a TM_TUN_L2TP tunnel (v2: tunnel and session id; v3:
 * session id) and hands the PPP frame (v2) to linktype 9 or the Ethernet
 * frame (v3) to linktype 1.
 *
 * Version 1 on this port is L2F (RFC 2341, obsolete): it is reported as a
 * bad version like any other.
 */
#include <timemachine/dissector.h>

#include "l2tpv3_pw.h"

enum { EV_BAD_VERSION, EV_BAD_LENGTH, EV_BAD_CONTROL, EV_NO_ETHERNET };

static const char *const events[] = {
	"l2tp.bad_version",	/* version neither 2 nor 3 */
	"l2tp.bad_length",	/* length below the header or beyond the
				 * datagram */
	"l2tp.bad_control",	/* control message without L or S */
	"l2tp.no_ethernet",	/* v3 data: no Ethernet frame found */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 1701 },
};

#define L2TP_T		0x8000u
#define L2TP_L		0x4000u
#define L2TP_S		0x0800u
#define L2TP_O		0x0200u
#define L2TP_VER	0x000fu

static enum tm_verdict decode_v3(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next, uint16_t flags)
{
	uint32_t session;
	struct tm_tunnel *t;
	int k;

	if (flags & L2TP_T) {
		uint16_t len;

		if (tm_peek_be16(c, 2, &len))
			return tm_fail(c);
		if (len < 12 || tm_limit(c, len))
			return tm_malformed(pkt, EV_BAD_LENGTH);
		if (tm_skip(c, 12))
			return tm_fail(c);
		return TM_DONE;
	}
	if (tm_skip(c, 4) || tm_get_be32(c, &session))
		return tm_fail(c);
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

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t flags, len = 0, tunnel, session, off;
	struct tm_tunnel *t;
	size_t hdr;

	if (tm_peek_be16(c, 0, &flags))
		return tm_fail(c);
	if ((flags & L2TP_VER) != 2 && (flags & L2TP_VER) != 3)
		return tm_malformed(pkt, EV_BAD_VERSION);
	if ((flags & L2TP_T) && (flags & (L2TP_L | L2TP_S)) !=
	    (L2TP_L | L2TP_S))
		return tm_malformed(pkt, EV_BAD_CONTROL);
	if ((flags & L2TP_VER) == 3)
		return decode_v3(c, pkt, next, flags);
	if (tm_skip(c, 2))
		return tm_fail(c);
	if ((flags & L2TP_L) && tm_get_be16(c, &len))
		return tm_fail(c);
	if (tm_get_be16(c, &tunnel) || tm_get_be16(c, &session))
		return tm_fail(c);
	if ((flags & L2TP_S) && tm_skip(c, 4))
		return tm_fail(c);
	if (flags & L2TP_O) {
		if (tm_get_be16(c, &off) || tm_skip(c, off))
			return tm_fail(c);
	}
	hdr = tm_offset(c);
	/* the length counts from the flags; beyond the datagram it is a
	 * violation, unless the datagram is a first fragment (tm_limit) */
	if ((flags & L2TP_L) && (len < hdr ||
	    tm_limit(c, (uint32_t)(len - hdr))))
		return tm_malformed(pkt, EV_BAD_LENGTH);
	if (flags & L2TP_T)
		return TM_DONE;
	t = tm_push_tunnel(pkt, TM_TUN_L2TP);
	if (!t)
		return TM_DONE;
	t->tunnel_id = tunnel;
	t->session_id = session;
	t->ids |= TM_TID_TUNNEL | TM_TID_SESSION;
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return tm_next(next, TM_TABLE_LINKTYPE, 9);
}

static const struct tm_dissector l2tp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "l2tp",
	.description = "L2TPv2 over UDP (PPP inside), L2TPv3 over UDP "
	    "(Ethernet pseudowires)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("l2tp", "1.0", &l2tp)
