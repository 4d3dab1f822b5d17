/*
 * BSD loopback encapsulation: a 4-byte address family before the packet.
 * LINKTYPE_NULL (0) writes it in the byte order of the capturing host, so
 * both orders are accepted (families are small numbers); LINKTYPE_LOOP (108)
 * writes it in network order. AF_INET is 2 everywhere; AF_INET6 is 10
 * (Linux), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD, DragonFly) or 30
 * (Darwin). Any other family (IPX, ISO, ...) ends the decoding.
 */
#include <timemachine/dissector.h>

enum { EV_UNKNOWN_FAMILY };

static const char *const events[] = {
	"null.unknown_family",	/* neither AF_INET nor an AF_INET6 value */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 0 },	/* LINKTYPE_NULL: host byte order */
	{ TM_TABLE_LINKTYPE, 108 },	/* LINKTYPE_LOOP: network order */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint32_t be, le, family;

	if (tm_peek_be32(c, 0, &be) || tm_peek_le32(c, 0, &le) ||
	    tm_skip(c, 4))
		return tm_fail(c);
	if (pkt->via_table == TM_TABLE_LINKTYPE && pkt->via_value == 108)
		family = be;
	else		/* a family fits in 16 bits: the other order does not */
		family = le <= 0xffffu ? le : be;
	switch (family) {
	case 2:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	case 10: case 24: case 28: case 30:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	default:
		tm_event(pkt, EV_UNKNOWN_FAMILY);
		return TM_DONE;
	}
}

static const struct tm_dissector null_loop = {
	.abi = TM_DISSECTOR_ABI,
	.name = "null",
	.description = "BSD loopback (LINKTYPE_NULL, LINKTYPE_LOOP)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("null", "1.0", &null_loop)
