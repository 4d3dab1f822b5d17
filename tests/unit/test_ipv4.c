/* IPv4 dissector: a normal packet, every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

static void udp_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0xdeadbeef);
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	tb_zero(&b, 6);		/* Ethernet padding: not part of IP */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_int_equal(p->ethertype, 0x0800);
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "198.51.100.2");
	assert_addr(&p->outer_src, "192.0.2.1");
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->sport, 1234);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->n_tunnels, 0);
}

static void test_options(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[14] = 0x46;			/* IHL 6: 4 bytes of options */
	b.b[17] += 4;			/* total length */
	/* insert 4 option bytes (NOPs) after the 20-byte header */
	memmove(b.b + 38, b.b + 34, b.n - 34);
	memset(b.b + 34, 1, 4);
	b.n += 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_int_equal(p->dport, 53);
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[14] = 0x55;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4");
}

static void test_bad_ihl(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[14] = 0x44;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_ihl");
}

static void test_total_length_below_header(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[16] = 0;
	b.b[17] = 19;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
	/* the addresses were decoded before the violation */
	assert_addr(&p->src, "192.0.2.1");
}

static void test_total_length_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[16] = 0x05;			/* 1280 bytes on a 46-byte frame */
	b.b[17] = 0x00;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
}

static void test_header_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	/* a 30-byte frame that really was 30 bytes on the wire */
	p = tm_test_decode_cut(b.b, 30, 30, LT_ETHERNET);
	assert_event(p, "ipv4.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* the same bytes cut by a snap length: truncated, not malformed */
	p = tm_test_decode_cut(b.b, 30, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_tso_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[16] = b.b[17] = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.tso_length");
	assert_layers(p, "eth/ipv4/udp");
}

static void test_fragments(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp_packet();
	b.b[20] = 0x20;			/* MF, offset 0: first fragment */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_true(p->flags & TM_PF_FRAGMENT);
	assert_false(p->flags & TM_PF_LATER_FRAG);
	assert_int_equal(p->dport, 53);

	b.b[21] = 0x10;			/* offset 16*8: a later fragment */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4");
	assert_true(p->flags & TM_PF_LATER_FRAG);
	assert_int_equal(p->proto, 17);
	assert_false(p->flags & TM_PF_HAS_PORTS);
	assert_no_events(p);
}

static void test_ipip(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 4, 20 + 8);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ipv4/udp");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_IPIP);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.2");
	assert_addr(&p->src, "10.0.0.1");
	assert_addr(&p->outer_src, "203.0.113.1");
}

static void test_depth_limit(void **state)
{
	const struct tm_packet *p;
	int i;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	for (i = 0; i < 12; i++)
		tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 4,
		    (size_t)(11 - i) * 20 + 20 + 8);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 8);
}

static void test_truncations(void **state)
{
	(void)state;
	udp_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_ihl),
		cmocka_unit_test(test_total_length_below_header),
		cmocka_unit_test(test_total_length_beyond_frame),
		cmocka_unit_test(test_header_beyond_frame),
		cmocka_unit_test(test_tso_length),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ipip),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
