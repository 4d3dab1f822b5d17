/*
 * Teredo (RFC 4380) on UDP port 3544: IPv6 carried in UDP, optionally
 * preceded by an authentication indicator (0x0001, client identifier and
 * authentication value lengths, the two values, an 8-byte nonce and a
 * confirmation byte) and an origin indication (0x0000, then the obfuscated
 * origin port and IPv4 address: 8 bytes in all), in that order.
 *
 * Port 3544 carries Teredo's own qualification traffic and other UDP too, so
 * the payload must really be IPv6: version 6 and a payload length that fits
 * in the datagram, else the dissector declines (nothing of the packet view
 * touched) and the packet stays plain UDP. A capture cut before those bytes
 * is reported as truncated here.
 */
#include <timemachine/dissector.h>

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 3544 },
};

/* A read failed at a point where the datagram might still be Teredo: cut
 * by the snap length is truncated; shorter on the wire, it is not Teredo. */
static enum tm_verdict undecided(const struct tm_cursor *c)
{
	return c->err == TM_TRUNCATED ? TM_TRUNCATED : TM_DECLINE;
}

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	size_t off = 0;
	uint16_t ind, plen;
	uint8_t v, idlen, aulen;

	if (tm_peek_be16(c, off, &ind))
		return undecided(c);
	if (ind == 0x0001) {		/* authentication indicator */
		if (tm_peek_u8(c, off + 2, &idlen) ||
		    tm_peek_u8(c, off + 3, &aulen))
			return undecided(c);
		off += 4u + idlen + aulen + 8u + 1u;
		if (tm_peek_be16(c, off, &ind))
			return undecided(c);
	}
	if (ind == 0x0000)		/* origin indication */
		off += 8;
	if (tm_peek_u8(c, off, &v))
		return undecided(c);
	if ((v >> 4) != 6)
		return TM_DECLINE;
	if (tm_peek_be16(c, off + 4, &plen))
		return undecided(c);
	if (off + 40u + plen > tm_wire_remaining(c))
		return TM_DECLINE;
	if (!tm_push_tunnel(pkt, TM_TUN_TEREDO))
		return TM_DONE;
	(void)tm_skip(c, off);
	return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
}

static const struct tm_dissector teredo = {
	.abi = TM_DISSECTOR_ABI,
	.name = "teredo",
	.description = "Teredo, IPv6 over UDP (RFC 4380)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.decode = decode,
};

TM_PLUGIN("teredo", "1.0", &teredo)
