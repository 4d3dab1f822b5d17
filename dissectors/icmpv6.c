/*
 * ICMPv6 (RFC 4443): type and code; an echo request or reply carries an
 * identifier that keys it with its partner. Error messages quote the
 * offending packet, which is not decoded. Terminal.
 */
#include <timemachine/dissector.h>

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 58 },
};

#define ECHO_REQUEST	128
#define ECHO_REPLY	129

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t type, code;
	uint16_t id;

	(void)next;
	if (tm_peek_u8(c, 0, &type) || tm_peek_u8(c, 1, &code))
		return tm_fail(c);
	tm_set_proto(pkt, 58);
	tm_set_icmp(pkt, type, code);
	if (type == ECHO_REQUEST || type == ECHO_REPLY) {
		if (tm_peek_be16(c, 4, &id))
			return tm_fail(c);
		tm_set_icmp_id(pkt, id);
		if (tm_skip(c, 8))
			return tm_fail(c);
		tm_set_payload(pkt, c);
		return TM_DONE;
	}
	/* type, code, checksum: every message has them */
	if (tm_skip(c, 4))
		return tm_fail(c);
	tm_set_payload(pkt, c);
	return TM_DONE;
}

static const struct tm_dissector icmpv6 = {
	.abi = TM_DISSECTOR_ABI,
	.name = "icmpv6",
	.description = "ICMPv6: type, code and the echo identifier",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("icmpv6", "1.0", &icmpv6)
