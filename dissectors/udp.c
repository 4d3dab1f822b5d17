/*
 * UDP (RFC 768). The payload window is narrowed to the length field and
 * handed to the udp.port table, lower port first, then the other one: so a
 * tunnel bound to a well-known port is found whichever side uses it. A
 * length of 0 on a frame with payload is taken as an offloaded super-packet
 * or a jumbogram (RFC 2675): the rest of the window.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_LENGTH, EV_ZERO_LENGTH };

static const char *const events[] = {
	"udp.bad_length",	/* length below 8 or beyond the datagram */
	"udp.zero_length",	/* length 0: the rest of the window */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 17 },
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t sport, dport, len;

	if (tm_peek_be16(c, 0, &sport) || tm_peek_be16(c, 2, &dport))
		return tm_fail(c);
	tm_set_proto(pkt, 17);
	tm_set_ports(pkt, sport, dport);
	if (tm_skip(c, 4) || tm_get_be16(c, &len) ||
	    tm_skip(c, 2))
		return tm_fail(c);
	if (len == 0 && tm_wire_remaining(c) > 0) {
		tm_event(pkt, EV_ZERO_LENGTH);
	} else {
		if (len < 8)
			return tm_malformed(pkt, EV_BAD_LENGTH);
		/* the payload is what the length says: a trailer is not */
		if (tm_limit(c, len - 8u))
			return tm_malformed(pkt, EV_BAD_LENGTH);
	}
	tm_set_payload(pkt, c);
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return sport < dport ? tm_next2(next, TM_TABLE_UDP_PORT, sport, dport)
	    : tm_next2(next, TM_TABLE_UDP_PORT, dport, sport);
}

static const struct tm_dissector udp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "udp",
	.description = "UDP",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("udp", "1.0", &udp)
