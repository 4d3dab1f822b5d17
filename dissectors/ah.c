/*
 * AH (RFC 4302): next header, payload length, reserved, SPI, sequence
 * number and the integrity check value. The header is (payload length + 2)
 * 32-bit words long, 12 bytes at least. A payload length of 0 (8 bytes:
 * no sequence number) is recorded but followed, as tcpdump, tshark and Zeek
 * do (Zeek's ipv6_zero_len_ah trace: a valid ICMPv6 echo follows the 8
 * bytes). AH is skipped and the next header decoded: a transport protocol in transport mode, IPv4 or IPv6 in tunnel
 * mode (whose dissectors push the IP-in-IP tunnel). The SPI stays with the
 * packet through an inner IP layer; an ESP inside replaces it.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_LENGTH };

static const char *const events[] = {
	"ah.bad_length",	/* payload length 0: shorter than the 12
				 * bytes of fixed fields (followed anyway) */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 51 },
};

#define AH_FIXED	12u	/* next header .. sequence number */
#define NH_NONE		59u	/* IPv6 "no next header" */

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t nh, plen;
	uint32_t spi;
	size_t len;

	if (tm_peek_u8(c, 0, &nh) || tm_peek_u8(c, 1, &plen))
		return tm_fail(c);
	if (tm_peek_be32(c, 4, &spi))
		return tm_fail(c);
	tm_set_spi(pkt, spi);
	tm_set_proto(pkt, nh);
	len = ((size_t)plen + 2u) * 4u;
	if (len < AH_FIXED)
		tm_event(pkt, EV_BAD_LENGTH);
	/* the sequence number and the ICV */
	if (tm_skip(c, len))
		return tm_fail(c);
	if (nh == NH_NONE)
		return TM_DONE;
	return tm_next(next, TM_TABLE_IP_PROTO, nh);
}

static const struct tm_dissector ah = {
	.abi = TM_DISSECTOR_ABI,
	.name = "ah",
	.description = "IPsec AH: SPI kept, the protected protocol decoded",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("ah", "1.0", &ah)
