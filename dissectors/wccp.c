/*
 * WCCP redirection inside GRE (GRE protocol 0x883E).
 *
 * A WCCP router redirects a packet to a cache engine by wrapping it in GRE.
 * WCCP version 1 puts the IPv4 packet right after the GRE header; WCCP
 * version 2 (draft-mclaggan-wccp-v2rev1, section 4.12) first adds a 4-byte
 * redirect header (reserved bits, D and A flags, service id, alternate and
 * primary bucket). Both use the same GRE protocol type, so as tshark does we
 * tell them apart by the first nibble: 4 is an IPv4 header (version 1), and
 * anything else is the redirect header, whose first bits are reserved zero.
 * The packet inside is IPv4 in both versions. No tunnel is pushed here: the
 * GRE layer already did.
 */
#include <timemachine/dissector.h>

static const struct tm_binding bindings[] = {
	{ TM_TABLE_GRE_PROTO, 0x883e },
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t b;

	(void)pkt;
	if (tm_peek_u8(c, 0, &b))
		return tm_fail(c);
	if ((b >> 4) != 4 && tm_skip(c, 4))
		return tm_fail(c);
	return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
}

static const struct tm_dissector wccp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "wccp",
	.description = "WCCP v1/v2 GRE redirection (IPv4 inside)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("wccp", "1.0", &wccp)
