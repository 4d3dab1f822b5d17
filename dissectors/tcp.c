/*
 * TCP (RFC 9293). Ports first, so a cut header still names them. The payload
 * is handed to the tcp.port table (lower port first) only when there is one
 * and a plugin is bound; nothing is bound by default.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_OFFSET };

static const char *const events[] = {
	"tcp.bad_offset",	/* data offset below 5 or beyond the segment */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 6 },
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t sport, dport;
	uint8_t off, fl;
	unsigned hlen;

	if (tm_peek_be16(c, 0, &sport) || tm_peek_be16(c, 2, &dport))
		return tm_fail(c);
	tm_set_proto(pkt, 6);
	tm_set_ports(pkt, sport, dport);
	tm_set_conn_flags(pkt, 0);	/* connection-oriented, even if cut */
	if (tm_peek_u8(c, 12, &off))
		return tm_fail(c);
	/* the connection's state changes: SYN, SYN+ACK, FIN, RST */
	if (tm_peek_u8(c, 13, &fl))
		return tm_fail(c);
	tm_set_conn_flags(pkt, ((fl & 0x12) == 0x02 ? TM_PF_CONN_OPEN : 0) |
	    ((fl & 0x12) == 0x12 ? TM_PF_CONN_ACCEPT : 0) |
	    ((fl & 0x01) ? TM_PF_CONN_CLOSE : 0) |
	    ((fl & 0x04) ? TM_PF_CONN_ABORT : 0));
	hlen = (off >> 4) * 4u;
	if (hlen < 20)
		return tm_malformed(pkt, EV_BAD_OFFSET);
	if (hlen > tm_wire_remaining(c)) {
		/* a first fragment ending inside the header: the rest of
		 * it is in the next fragment */
		if (c->partial)
			return TM_TRUNCATED;
		return tm_malformed(pkt, EV_BAD_OFFSET);
	}
	if (tm_skip(c, hlen))
		return tm_fail(c);
	tm_set_payload(pkt, c);
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return sport < dport ? tm_next2(next, TM_TABLE_TCP_PORT, sport, dport)
	    : tm_next2(next, TM_TABLE_TCP_PORT, dport, sport);
}

static const struct tm_dissector tcp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "tcp",
	.description = "TCP",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("tcp", "1.0", &tcp)
