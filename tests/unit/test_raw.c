/* Raw IP link type: IPv4 and IPv6 by the version nibble, under all three
 * link type values, a bad version, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_test_peek.h"

static struct tm_buf b;

static void udp4(void)
{
	tb_reset(&b);
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0);
}

static void test_ipv4(void **state)
{
	static const uint16_t lts[] = { LT_RAW, 12, 14 };
	const struct tm_packet *p;

	(void)state;
	udp4();
	for (size_t i = 0; i < 3; i++) {
		p = tm_test_decode(b.b, b.n, lts[i]);
		assert_layers(p, "raw/ipv4/udp");
		assert_no_events(p);
		assert_int_equal(p->ethertype, 0x0800);
		assert_int_equal(p->layers[1].offset, 0); /* no bytes */
		assert_addr(&p->src, "192.0.2.1");
		assert_int_equal(p->dport, 53);
	}
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
	p = tm_test_decode(b.b, b.n, LT_RAW);
	assert_layers(p, "raw/ipv6/udp");
	assert_int_equal(p->ethertype, 0x86dd);
	assert_addr(&p->dst, "2001:db8::2");
	assert_int_equal(p->sport, 5000);
}

static void test_bad_version(void **state)
{
	static const uint8_t versions[] = { 0x00, 0x50, 0x75, 0xf0 };
	const struct tm_packet *p;

	(void)state;
	udp4();
	for (size_t i = 0; i < sizeof(versions); i++) {
		b.b[0] = versions[i];
		p = tm_test_decode(b.b, b.n, LT_RAW);
		assert_event(p, "raw.bad_version");
		assert_true(p->flags & TM_PF_MALFORMED);
		assert_layers(p, "raw");
	}
}

static void test_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp4();
	p = tm_test_decode_cut(b.b, 0, 0, LT_RAW);
	assert_event(p, "raw.too_short");
	p = tm_test_decode_cut(b.b, 0, b.n, LT_RAW);
	assert_event(p, "raw.truncated");
}

static void test_truncations(void **state)
{
	(void)state;
	udp4();
	tm_test_truncations_peek(b.b, b.n, LT_RAW, "raw", 1);
	tb_reset(&b);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
	tm_test_truncations_peek(b.b, b.n, LT_RAW, "raw", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
