/* Geneve: Ethernet, IPv4 and IPv6 inside, options skipped, the VNI, a bad
 * version, options beyond the datagram, the depth limit, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

/* outer Ethernet/IPv4/UDP to 6081, the Geneve header with optwords 4-byte
 * words of options, then inner_len more bytes */
static void outer(uint8_t ver, uint8_t optwords, uint16_t type, uint32_t vni,
    size_t inner_len)
{
	size_t glen = 8u + optwords * 4u;

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + glen + inner_len);
	tb_udp(&b, 50000, 6081, glen + inner_len);
	tb_u8(&b, (uint8_t)((ver << 6) | (optwords & 0x3f)));
	tb_u8(&b, 0);
	tb_be16(&b, type);
	tb_u8(&b, (uint8_t)(vni >> 16));
	tb_u8(&b, (uint8_t)(vni >> 8));
	tb_u8(&b, (uint8_t)vni);
	tb_u8(&b, 0);
	for (unsigned i = 0; i < optwords; i++)
		tb_be32(&b, 0x01020300u | i);	/* not a valid TLV: skipped */
}

static void inner_tcp4(void)
{
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 6, 20);
	tb_tcp(&b, 40000, 443, 0x10);
}

static void test_ethernet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 0, 0x6558, 0xfedcba, 14 + 40);
	tb_eth(&b, 0x0800);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve/eth/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GENEVE);
	assert_true(p->tunnels[0].ids & TM_TID_VNI);
	assert_int_equal(p->tunnels[0].vni, 0xfedcba);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.2");
	assert_addr(&p->src, "10.0.0.1");
	assert_int_equal(p->dport, 443);
}

static void test_options(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 5, 0x6558, 1, 14 + 40);
	tb_eth(&b, 0x0800);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve/eth/ipv4/tcp");
	assert_int_equal(p->layers[4].offset, 14 + 20 + 8 + 8 + 20);
	assert_int_equal(p->dport, 443);

	/* the most options there can be: 63 words */
	outer(0, 63, 0x0800, 1, 40);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve/ipv4/tcp");
	assert_no_events(p);
}

static void test_ip_inside(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 1, 0x0800, 2, 40);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve/ipv4/tcp");
	assert_int_equal(p->ethertype, 0x0800);
	assert_int_equal(p->tunnels[0].vni, 2);

	outer(0, 0, 0x86dd, 3, 40 + 20);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 6, 20);
	tb_tcp(&b, 40000, 443, 0x10);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve/ipv6/tcp");
	assert_addr(&p->src, "2001:db8::1");
}

static void test_unknown_type(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 0, 0x88b5, 3, 8);	/* a local experimental ethertype */
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
}

static void test_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 2, 0x6558, 3, 0);	/* options only (an OAM frame) */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/geneve");
	assert_no_events(p);
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	for (uint8_t v = 1; v < 4; v++) {
		outer(v, 0, 0x0800, 2, 40);
		inner_tcp4();
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_event(p, "geneve.bad_version");
		assert_true(p->flags & TM_PF_MALFORMED);
		assert_layers(p, "eth/ipv4/udp/geneve");
		assert_int_equal(p->n_tunnels, 0);
	}
}

static void test_bad_option_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0, 2, 0x0800, 2, 0);
	b.b[14 + 20 + 8] = 3;		/* 3 words announced, 2 present */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "geneve.bad_option_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/geneve");
}

static void test_depth_limit(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;

	(void)state;
	outer(0, 0, 0x0800, 2, 40);
	inner_tcp4();
	r->max_depth = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	r->max_depth = saved;
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->dport, 6081);
}

static void test_truncations(void **state)
{
	(void)state;
	outer(0, 3, 0x6558, 0xfedcba, 14 + 40);
	tb_eth(&b, 0x0800);
	inner_tcp4();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_ip_inside),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_option_length),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
