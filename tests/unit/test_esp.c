/* ESP dissector: IP protocol 50, ESP in UDP (NAT-T) with its IKE marker and
 * keepalive, reserved SPIs, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

static void esp4(uint32_t spi, size_t body)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 50, 8 + body);
	tb_be32(&b, spi);
	tb_be32(&b, 7);			/* sequence number */
	for (size_t i = 0; i < body; i++)
		tb_u8(&b, (uint8_t)(0xa0 + i));
}

static void natt(uint16_t sport, uint16_t dport, const void *payload,
    size_t n)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "203.0.113.9", 17, 8 + n);
	tb_udp(&b, sport, dport, n);
	tb_bytes(&b, payload, n);
}

static const uint8_t esp_in_udp[] = {
	0x00, 0x00, 0x12, 0x34,		/* SPI */
	0x00, 0x00, 0x00, 0x01,		/* sequence */
	0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
};

static void test_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	esp4(0x0000abcd, 24);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/esp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_int_equal(p->proto, 50);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0xabcd);
	assert_false(p->flags & TM_PF_HAS_PORTS);
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "198.51.100.2");
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 50, 16);
	tb_be32(&b, 0xfedcba98);
	tb_be32(&b, 1);
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/esp");
	assert_no_events(p);
	assert_int_equal(p->proto, 50);
	assert_int_equal(p->spi, 0xfedcba98);
	assert_addr(&p->src, "2001:db8::1");
}

static void test_reserved_spi(void **state)
{
	const struct tm_packet *p;

	(void)state;
	esp4(0, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/esp");
	assert_event(p, "esp.reserved_spi");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0);

	esp4(255, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "esp.reserved_spi");

	esp4(256, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
}

static void test_nat_traversal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	natt(4500, 4500, esp_in_udp, sizeof(esp_in_udp));
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/esp");
	assert_no_events(p);
	/* the transport is still UDP, with its ports, plus the SPI */
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->sport, 4500);
	assert_int_equal(p->dport, 4500);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0x1234);

	/* behind a NAT the other side's port is arbitrary */
	natt(61000, 4500, esp_in_udp, sizeof(esp_in_udp));
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/esp");
	assert_int_equal(p->spi, 0x1234);
	assert_int_equal(p->sport, 61000);
}

static void test_ike_marker(void **state)
{
	static const uint8_t ike[] = {
		0, 0, 0, 0,			/* non-ESP marker */
		1, 2, 3, 4, 5, 6, 7, 8,		/* IKE initiator SPI */
		0, 0, 0, 0, 0, 0, 0, 0,
	};
	const struct tm_packet *p;

	(void)state;
	natt(4500, 4500, ike, sizeof(ike));
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_false(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->dport, 4500);
}

static void test_keepalive(void **state)
{
	static const uint8_t ka[] = { 0xff };
	static const uint8_t not_ka[] = { 0xfe };
	const struct tm_packet *p;

	(void)state;
	natt(4500, 4500, ka, 1);
	tb_zero(&b, 17);		/* Ethernet padding: not UDP payload */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_false(p->flags & TM_PF_HAS_SPI);

	/* one byte that is not 0xFF: an ESP header cut short */
	natt(4500, 4500, not_ka, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "esp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* IP says the ESP header is 6 bytes: the SPI is known, the
	 * sequence number is not */
	esp4(0x5555, 0);
	b.b[17] = 20 + 6;
	b.n -= 2;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "esp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->spi, 0x5555);
	assert_int_equal(p->proto, 50);
}

static void test_truncations(void **state)
{
	(void)state;
	esp4(0x1000, 16);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 34, 42, "esp.truncated");
	natt(4500, 4500, esp_in_udp, sizeof(esp_in_udp));
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 42, 50, "esp.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_reserved_spi),
		cmocka_unit_test(test_nat_traversal),
		cmocka_unit_test(test_ike_marker),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
