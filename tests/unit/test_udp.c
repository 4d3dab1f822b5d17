/* UDP dissector: ports, the length field, zero length, the udp.port
 * hand-off, every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

#define UDP 34			/* where UDP starts after eth/ipv4 */

static void dgram(uint16_t sport, uint16_t dport, size_t data)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + data);
	tb_udp(&b, sport, dport, data);
	for (size_t i = 0; i < data; i++)
		tb_u8(&b, (uint8_t)(0x80 + i));
}

static void set_len(uint16_t len)
{
	b.b[UDP + 4] = (uint8_t)(len >> 8);
	b.b[UDP + 5] = (uint8_t)len;
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	dgram(5353, 53, 12);
	tb_zero(&b, 4);			/* Ethernet trailer */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->sport, 5353);
	assert_int_equal(p->dport, 53);
	assert_true(p->flags & TM_PF_HAS_PAYLOAD);
	assert_int_equal(p->payload_off, UDP + 8);
	assert_int_equal(p->payload_len, 12);
}

static void test_length_below_ip(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* UDP says 4 bytes of payload, IP carries 12: the rest is not UDP */
	dgram(1000, 2000, 12);
	set_len(8 + 4);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_int_equal(p->payload_len, 4);
}

static void test_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	dgram(1000, 4500, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->payload_len, 0);
}

static void test_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	dgram(1, 2, 4);
	set_len(7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1);

	dgram(1, 2, 4);
	set_len(8 + 5);			/* beyond the IP payload */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.bad_length");

	/* length 0 with nothing after the header is just wrong */
	dgram(1, 2, 0);
	set_len(0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.bad_length");
}

static void test_zero_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* length 0 with payload: an offloaded super-packet or a jumbogram;
	 * the rest of the window is the payload */
	dgram(1000, 2000, 20);
	set_len(0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.zero_length");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp");
	assert_int_equal(p->payload_len, 20);
}

static void test_port_dispatch(void **state)
{
	static const uint8_t esp[] = { 0, 0, 1, 0, 0, 0, 0, 1 };
	const struct tm_packet *p;

	(void)state;
	/* ESP in UDP on 4500, whichever side holds it */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + sizeof(esp));
	tb_udp(&b, 4500, 60000, sizeof(esp));
	tb_bytes(&b, esp, sizeof(esp));
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/esp");
	b.b[UDP] = 0xea;		/* sport 60000, dport 4500 */
	b.b[UDP + 1] = 0x60;
	b.b[UDP + 2] = 0x11;
	b.b[UDP + 3] = 0x94;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/esp");
	assert_int_equal(p->sport, 60000);
	assert_int_equal(p->spi, 0x100);
}

/* A first IP fragment: the UDP length covers the whole datagram, which
 * goes on in later fragments. No violation, and the payload is handed on
 * (zeek's gtp1_gn_normal_incl_fragmentation: GTP-U in a first fragment). */
static void test_first_fragment(void **state)
{
	const struct tm_packet *p;

	(void)state;
	dgram(1000, 4500, 24);
	b.b[20] = 0x20;			/* MF, offset 0 */
	set_len(8 + 1400);
	b.b[UDP + 8] = b.b[UDP + 9] = 0;	/* an ESP SPI of 0x100 */
	b.b[UDP + 10] = 1;
	b.b[UDP + 11] = 0;
	tb_zero(&b, 6);			/* Ethernet trailer */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/esp");
	assert_no_events(p);
	assert_true(p->flags & TM_PF_FRAGMENT);
	assert_int_equal(p->dport, 4500);
	assert_int_equal(p->spi, 0x100);
	/* the payload is what this fragment carries of the datagram */
	assert_int_equal(p->payload_len, 24);
	/* not a fragment: the same length is a violation */
	b.b[20] = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.bad_length");

	/* IPv6 fragment header, M set */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 8 + 4);
	tb_u8(&b, 17);
	tb_u8(&b, 0);
	tb_be16(&b, 1);			/* offset 0, M */
	tb_be32(&b, 77);
	tb_udp(&b, 1000, 2000, 3000);
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->dport, 2000);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	dgram(1111, 2222, 0);
	b.b[17] = 20 + 6;
	b.n -= 2;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "udp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1111);
	assert_int_equal(p->dport, 2222);
}

static void test_truncations(void **state)
{
	(void)state;
	dgram(1000, 2000, 8);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, UDP, UDP + 8, "udp.truncated");
	/* with a successor, tm_test_truncations checks UDP's header too */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 8);
	tb_udp(&b, 4500, 4500, 8);
	tb_be32(&b, 0x1000);
	tb_be32(&b, 1);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_length_below_ip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_port_dispatch),
		cmocka_unit_test(test_first_fragment),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
