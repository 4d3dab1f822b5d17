/*
 * ESP (RFC 4303): the SPI and sequence number; the rest is ciphertext, so
 * the layer is terminal. A security association is one direction, so the
 * SPI is part of the key (the key keeps ESP endpoints in packet order).
 *
 * ESP in UDP (RFC 3948, NAT traversal on port 4500) shares the port with
 * IKE: four zero bytes where the SPI would be (the non-ESP marker) mean an
 * IKE message follows, and a single 0xFF byte is a NAT-keepalive; both are
 * declined, so the datagram stays plain UDP. ESP in UDP keeps UDP as the
 * packet's protocol and its ports, and adds the SPI.
 */
#include <timemachine/dissector.h>

enum { EV_RESERVED_SPI };

static const char *const events[] = {
	"esp.reserved_spi",	/* SPI 0..255: reserved, never on the wire */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 50 },
	{ TM_TABLE_UDP_PORT, 4500 },	/* IPsec NAT traversal */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint32_t spi, seq;
	uint8_t b;

	(void)next;
	if (pkt->via_table == TM_TABLE_UDP_PORT) {
		/* NAT-keepalive: exactly one 0xFF byte */
		if (tm_wire_remaining(c) == 1 && tm_peek_u8(c, 0, &b) == 0 &&
		    b == 0xff)
			return TM_DECLINE;
		/* non-ESP marker: IKE */
		if (tm_peek_be32(c, 0, &spi) == 0 && spi == 0)
			return TM_DECLINE;
	}
	if (tm_peek_be32(c, 0, &spi))
		return tm_fail(c);
	if (pkt->via_table != TM_TABLE_UDP_PORT)
		tm_set_proto(pkt, 50);
	tm_set_spi(pkt, spi);
	if (spi < 256)
		tm_event(pkt, EV_RESERVED_SPI);
	if (tm_get_be32(c, &spi) || tm_get_be32(c, &seq))
		return tm_fail(c);
	return TM_DONE;
}

static const struct tm_dissector esp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "esp",
	.description = "IPsec ESP, also in UDP (NAT traversal, port 4500)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("esp", "1.0", &esp)
