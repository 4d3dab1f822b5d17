/* BSD loopback link types: the address family in either byte order
 * (LINKTYPE_NULL) or network order (LINKTYPE_LOOP), every AF_INET6 value,
 * an unknown family, truncation. */
#include <string.h>
#include "tm_test.h"

#define LT_NULL 0
#define LT_LOOP 108

static struct tm_buf b;

static void family_le(uint32_t af)
{
	tb_reset(&b);
	tb_u8(&b, (uint8_t)af);
	tb_u8(&b, (uint8_t)(af >> 8));
	tb_u8(&b, (uint8_t)(af >> 16));
	tb_u8(&b, (uint8_t)(af >> 24));
}

static void family_be(uint32_t af)
{
	tb_reset(&b);
	tb_be32(&b, af);
}

static void udp4(void)
{
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0);
}

static void udp6(void)
{
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
}

static void test_inet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	family_le(2);			/* a little-endian host */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_NULL);
	assert_layers(p, "null/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->layers[1].offset, 4);
	assert_addr(&p->src, "192.0.2.1");
	assert_int_equal(p->dport, 53);

	family_be(2);			/* a big-endian host */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_NULL);
	assert_layers(p, "null/ipv4/udp");

	family_be(2);			/* LOOP: always network order */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_LOOP);
	assert_layers(p, "null/ipv4/udp");
	assert_int_equal(p->ethertype, 0x0800);
}

static void test_inet6(void **state)
{
	static const uint32_t afs[] = { 10, 24, 28, 30 };
	const struct tm_packet *p;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		family_le(afs[i]);
		udp6();
		p = tm_test_decode(b.b, b.n, LT_NULL);
		assert_layers(p, "null/ipv6/udp");
		assert_int_equal(p->ethertype, 0x86dd);
		assert_addr(&p->dst, "2001:db8::2");

		family_be(afs[i]);
		udp6();
		p = tm_test_decode(b.b, b.n, LT_NULL);
		assert_layers(p, "null/ipv6/udp");

		family_be(afs[i]);
		udp6();
		p = tm_test_decode(b.b, b.n, LT_LOOP);
		assert_layers(p, "null/ipv6/udp");
		assert_int_equal(p->sport, 5000);
	}
}

static void test_unknown_family(void **state)
{
	const struct tm_packet *p;

	(void)state;
	family_le(23);			/* AF_IPX on some systems */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_NULL);
	assert_event(p, "null.unknown_family");
	assert_layers(p, "null");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->l3, TM_L3_NONE);

	/* LOOP is network order only: a little-endian 2 is 0x02000000 */
	family_le(2);
	udp4();
	p = tm_test_decode(b.b, b.n, LT_LOOP);
	assert_event(p, "null.unknown_family");
	assert_layers(p, "null");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	family_le(2);
	p = tm_test_decode_cut(b.b, 3, 3, LT_NULL);
	assert_event(p, "null.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	(void)state;
	family_le(2);
	udp4();
	tm_test_truncations(b.b, b.n, LT_NULL);
	family_be(30);
	udp6();
	tm_test_truncations(b.b, b.n, LT_LOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet),
		cmocka_unit_test(test_inet6),
		cmocka_unit_test(test_unknown_family),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
