/* GRE dissector: version 0 and 1 packets, GRE-in-UDP, every malformed
 * branch, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

/* eth / ipv4 (proto 47) / GRE K+S key 0x01020304 / ipv4 / udp 5000->53 */
static void keyed_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 12 + 20 + 8 + 4);
	tb_be16(&b, 0x3000);		/* K, S, version 0 */
	tb_be16(&b, 0x0800);
	tb_be32(&b, 0x01020304);	/* key */
	tb_be32(&b, 7);			/* sequence */
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8 + 4);
	tb_udp(&b, 5000, 53, 4);
	tb_be32(&b, 0xdeadbeef);
}

/* eth / ipv4 / GRE v1 (K, S, A) call 0x4242 / PPP / ipv4 / udp */
static void pptp_packet(void)
{
	size_t inner = 4 + 20 + 8;

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "198.51.100.1", "198.51.100.2", 47, 16 + inner);
	tb_be16(&b, 0x3081);		/* K, S, A, version 1 */
	tb_be16(&b, 0x880b);
	tb_be16(&b, (uint16_t)inner);	/* payload length */
	tb_be16(&b, 0x4242);		/* call id */
	tb_be32(&b, 9);			/* sequence */
	tb_be32(&b, 8);			/* acknowledgment */
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0021);
	tb_ipv4(&b, "10.1.0.1", "10.1.0.2", 17, 8);
	tb_udp(&b, 1234, 4321, 0);
}

static void test_keyed(void **state)
{
	const struct tm_packet *p;

	(void)state;
	keyed_packet();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/ipv4/udp");
	assert_no_events(p);
	assert_addr(&p->src, "10.0.0.1");
	assert_addr(&p->dst, "10.0.0.2");
	assert_addr(&p->outer_src, "203.0.113.1");
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GRE);
	assert_int_equal(p->tunnels[0].ids, TM_TID_KEY);
	assert_int_equal(p->tunnels[0].key, 0x01020304);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.2");
}

static void test_plain_ipv6_with_checksum(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 8 + 40 + 8);
	tb_be16(&b, 0x8000);		/* C: checksum and reserved1 */
	tb_be16(&b, 0x86dd);
	tb_be32(&b, 0xabcd0000);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 7, 9, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV6);
	assert_addr(&p->src, "2001:db8::1");
	assert_int_equal(p->tunnels[0].type, TM_TUN_GRE);
	assert_int_equal(p->tunnels[0].ids, 0);
}

static void test_ethernet_inside(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 4 + 14 + 20 + 8);
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0x6558);		/* transparent Ethernet bridging */
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 7, 9, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/eth/ipv4/udp");
	assert_addr(&p->src, "10.0.0.1");
}

static void gre_in_udp(uint16_t flags)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + 4 + 20 + 8);
	tb_udp(&b, 40000, 4754, 4 + 20 + 8);
	tb_be16(&b, flags);
	tb_be16(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 7, 9, 0);
}

static void test_gre_in_udp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	gre_in_udp(0x0000);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gre/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GRE);
	assert_int_equal(p->dport, 9);
	/* over UDP only version 0 is GRE: anything else is not ours */
	gre_in_udp(0x0001);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->dport, 4754);
	assert_int_equal(p->n_tunnels, 0);
}

static void test_keepalive(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 4);
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0x0800);
	tb_zero(&b, 20);		/* Ethernet padding, beyond IP */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_int_equal(p->proto, 47);
	assert_int_equal(p->n_tunnels, 1);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	keyed_packet();
	b.b[35] = 0x02;			/* version 2 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre");
	assert_int_equal(p->n_tunnels, 0);
	assert_addr(&p->src, "203.0.113.1");
}

static void test_reserved_flags(void **state)
{
	const struct tm_packet *p;

	(void)state;
	keyed_packet();
	b.b[34] |= 0x07;		/* recursion control */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.reserved_flags");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre/ipv4/udp");
	keyed_packet();
	b.b[35] |= 0x80;		/* the PPTP ack bit in version 0 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.reserved_flags");
	assert_layers(p, "eth/ipv4/gre/ipv4/udp");
}

/* GRE with R: checksum/offset, key, two SREs (an IPv4 route of 8 bytes and
 * the null SRE), then IPv4 */
static void routed_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47,
	    4 + 4 + 4 + 12 + 4 + 20 + 8);
	tb_be16(&b, 0x6000);		/* R, K */
	tb_be16(&b, 0x0800);
	tb_be32(&b, 0);			/* checksum (absent), offset */
	tb_be32(&b, 77);		/* key */
	tb_be16(&b, 0x0800);		/* SRE: IPv4 */
	tb_u8(&b, 0);			/* SRE offset */
	tb_u8(&b, 8);			/* SRE length */
	tb_be32(&b, 0xc0000201);
	tb_be32(&b, 0xc0000202);
	tb_be32(&b, 0);			/* null SRE */
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 7, 9, 0);
}

static void test_source_route(void **state)
{
	const struct tm_packet *p;

	(void)state;
	routed_packet();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.source_route");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre/ipv4/udp");
	assert_int_equal(p->tunnels[0].key, 77);
	assert_addr(&p->src, "10.0.0.1");
}

static void test_source_route_unterminated(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* no null SRE before the end of the IP packet: GRE runs short */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 4 + 4 + 4 + 4);
	tb_be16(&b, 0x4000);
	tb_be16(&b, 0x0800);
	tb_be32(&b, 0);
	tb_be16(&b, 0x0800);
	tb_u8(&b, 0);
	tb_u8(&b, 200);			/* 200 bytes of route: not there */
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.source_route");
	assert_event(p, "gre.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_pptp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pptp_packet();
	tb_zero(&b, 8);			/* trailer beyond the IP packet */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/ppp/ipv4/udp");
	assert_no_events(p);
	assert_addr(&p->src, "10.1.0.1");
	assert_int_equal(p->dport, 4321);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_PPTP);
	assert_int_equal(p->tunnels[0].ids, TM_TID_SESSION);
	assert_int_equal(p->tunnels[0].session_id, 0x4242);
	assert_addr(&p->tunnels[0].src, "198.51.100.1");
}

static void test_pptp_ack_only(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "198.51.100.1", "198.51.100.2", 47, 12);
	tb_be16(&b, 0x2081);		/* K, A, version 1 */
	tb_be16(&b, 0x880b);
	tb_be16(&b, 0);			/* no payload */
	tb_be16(&b, 0x4242);
	tb_be32(&b, 8);			/* acknowledgment */
	tb_zero(&b, 14);		/* Ethernet padding */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre");
	assert_no_events(p);
	assert_int_equal(p->proto, 47);
	assert_int_equal(p->tunnels[0].type, TM_TUN_PPTP);
	assert_int_equal(p->tunnels[0].session_id, 0x4242);
}

static void test_pptp_first_fragment(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the payload length reaches into the next fragment: no violation */
	pptp_packet();
	b.b[38] = 0x01;			/* 256 + 32 bytes of payload */
	b.b[20] = 0x20;			/* MF: a first fragment */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_layers(p, "eth/ipv4/gre/ppp/ipv4/udp");
	assert_int_equal(p->tunnels[0].session_id, 0x4242);
}

static void test_pptp_no_key(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pptp_packet();
	b.b[34] &= (uint8_t)~0x20;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.pptp_no_key");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre");
}

static void test_pptp_bad_protocol(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pptp_packet();
	b.b[36] = 0x08;			/* 0x0800 */
	b.b[37] = 0x00;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.pptp_bad_protocol");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_pptp_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pptp_packet();
	b.b[38] = 0x01;			/* 256 + 32 bytes of payload */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.pptp_bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre");
}

static void test_pptp_reserved_flags(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pptp_packet();
	b.b[35] |= 0x08;		/* a flag bit reserved in version 1 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gre.reserved_flags");
	assert_layers(p, "eth/ipv4/gre/ppp/ipv4/udp");
}

static void test_header_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	keyed_packet();
	/* a GRE header cut to 6 bytes on the wire, and by a snap length */
	p = tm_test_decode_cut(b.b, 40, 40, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
	b.b[16] = 0;
	b.b[17] = 26;			/* IP total length: 20 + 6 */
	p = tm_test_decode_cut(b.b, 40, 40, LT_ETHERNET);
	assert_event(p, "gre.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	keyed_packet();
	p = tm_test_decode_cut(b.b, 40, b.n, LT_ETHERNET);
	assert_event(p, "gre.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_depth_limit(void **state)
{
	const struct tm_packet *p;
	int i;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	for (i = 0; i < 10; i++) {
		tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47,
		    (size_t)(9 - i) * 24 + 4 + 20 + 8);
		tb_be16(&b, 0);
		tb_be16(&b, 0x0800);
	}
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 7, 9, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 8);
}

static void test_truncations(void **state)
{
	(void)state;
	keyed_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	pptp_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	routed_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	gre_in_udp(0x0000);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_plain_ipv6_with_checksum),
		cmocka_unit_test(test_ethernet_inside),
		cmocka_unit_test(test_gre_in_udp),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_reserved_flags),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_source_route_unterminated),
		cmocka_unit_test(test_pptp),
		cmocka_unit_test(test_pptp_ack_only),
		cmocka_unit_test(test_pptp_first_fragment),
		cmocka_unit_test(test_pptp_no_key),
		cmocka_unit_test(test_pptp_bad_protocol),
		cmocka_unit_test(test_pptp_bad_length),
		cmocka_unit_test(test_pptp_reserved_flags),
		cmocka_unit_test(test_header_beyond_frame),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
