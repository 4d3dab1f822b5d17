/*
 * ICMP (RFC 792): type and code. Echo, timestamp, information and address
 * mask messages (requests and replies) carry an identifier, which keys a
 * request with its reply. An error message quotes the start of the packet
 * that caused it; the quote is not decoded (it is not a tunnel, and its
 * addresses are the offending packet's, not this one's). Terminal.
 */
#include <timemachine/dissector.h>

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 1 },
};

static int has_identifier(uint8_t type)
{
	switch (type) {
	case 0: case 8:		/* echo reply, echo request */
	case 13: case 14:	/* timestamp, timestamp reply */
	case 15: case 16:	/* information request, reply */
	case 17: case 18:	/* address mask request, reply */
		return 1;
	default:
		return 0;
	}
}

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t type, code;
	uint16_t id;

	(void)next;
	if (tm_peek_u8(c, 0, &type) || tm_peek_u8(c, 1, &code))
		return tm_fail(c);
	tm_set_proto(pkt, 1);
	tm_set_icmp(pkt, type, code);
	/* checksum, then 4 bytes whose meaning depends on the type */
	if (has_identifier(type)) {
		if (tm_peek_be16(c, 4, &id))
			return tm_fail(c);
		tm_set_icmp_id(pkt, id);
	}
	if (tm_skip(c, 8))
		return tm_fail(c);
	tm_set_payload(pkt, c);
	return TM_DONE;
}

static const struct tm_dissector icmp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "icmp",
	.description = "ICMP: type, code and the echo identifier",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("icmp", "1.0", &icmp)
