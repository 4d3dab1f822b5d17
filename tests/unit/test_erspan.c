/* ERSPAN dissector: types I, II and III, every malformed branch,
 * truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

#define INNER (14 + 20 + 8)	/* mirrored eth / ipv4 / udp */

static void mirrored_frame(void)
{
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.9.0.1", "10.9.0.2", 17, 8);
	tb_udp(&b, 1111, 2222, 0);
}

/* eth / ipv4 / GRE (S) 0x88BE / ERSPAN II session 0x155 / eth/ipv4/udp */
static void type2_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 47, 8 + 8 + INNER);
	tb_be16(&b, 0x1000);
	tb_be16(&b, 0x88be);
	tb_be32(&b, 42);		/* GRE sequence */
	tb_be32(&b, 0x10640000u | (2u << 11) | 0x155u);	/* v1, VLAN 100 */
	tb_be32(&b, 0x00000007);	/* index */
	mirrored_frame();
}

/* eth / ipv4 / GRE (no S) 0x88BE / eth/ipv4/udp: type I */
static void type1_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 47, 4 + INNER);
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0x88be);
	mirrored_frame();
}

/* eth / ipv4 / GRE 0x22EB / ERSPAN III (frame type ft, O as given) */
static void type3_packet(unsigned ft, int o)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 47,
	    4 + 12 + (o ? 8u : 0u) + (ft == 2 ? INNER - 14 : INNER));
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0x22eb);
	tb_be32(&b, 0x20000000u | 0x2aau);	/* v2, session 0x2aa */
	tb_be32(&b, 0x12345678);		/* timestamp */
	tb_be32(&b, 0x00008000u | (ft << 10) | (o ? 1u : 0u));
	if (o) {
		tb_be32(&b, 0x11111111);
		tb_be32(&b, 0x22222222);
	}
	if (ft == 2) {
		tb_ipv4(&b, "10.9.0.1", "10.9.0.2", 17, 8);
		tb_udp(&b, 1111, 2222, 0);
	} else {
		mirrored_frame();
	}
}

static void assert_inner(const struct tm_packet *p)
{
	assert_addr(&p->src, "10.9.0.1");
	assert_addr(&p->dst, "10.9.0.2");
	assert_int_equal(p->sport, 1111);
	assert_int_equal(p->dport, 2222);
	assert_addr(&p->outer_src, "192.0.2.1");
}

static void test_type2(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type2_packet();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/eth/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
	assert_int_equal(p->n_tunnels, 2);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GRE);
	assert_int_equal(p->tunnels[1].type, TM_TUN_ERSPAN);
	assert_int_equal(p->tunnels[1].ids, TM_TID_SESSION);
	assert_int_equal(p->tunnels[1].session_id, 0x155);
	assert_addr(&p->tunnels[1].src, "192.0.2.1");
	/* the mirrored frame's original VLAN is not one of its tags */
	assert_int_equal(p->n_vlans, 0);
}

static void test_type1(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type1_packet();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/eth/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
	assert_int_equal(p->n_tunnels, 2);
	assert_int_equal(p->tunnels[1].type, TM_TUN_ERSPAN);
	assert_int_equal(p->tunnels[1].ids, 0);
}

static void test_type3(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type3_packet(0, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/eth/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
	assert_int_equal(p->tunnels[1].session_id, 0x2aa);
	/* with the platform-specific subheader */
	type3_packet(0, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/eth/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
	/* frame type 2: an IP packet, no Ethernet header */
	type3_packet(2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
}

static void test_type2_on_22eb(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the version field decides the layout, not the GRE protocol */
	type2_packet();
	b.b[36] = 0x22;
	b.b[37] = 0xeb;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan/eth/ipv4/udp");
	assert_int_equal(p->tunnels[1].session_id, 0x155);
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type2_packet();
	b.b[42] = 0x30;			/* version 3 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "erspan.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre/erspan");
	assert_int_equal(p->n_tunnels, 1);
}

static void test_unknown_frame_type(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type3_packet(5, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "erspan.unknown_frame_type");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/gre/erspan");
	assert_int_equal(p->tunnels[1].session_id, 0x2aa);
}

static void test_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type2_packet();
	b.b[16] = 0;
	b.b[17] = 20 + 8 + 8;		/* IP ends after the ERSPAN header */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/erspan");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 2);
}

static void test_header_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	type3_packet(0, 1);
	b.b[16] = 0;
	b.b[17] = 20 + 4 + 16;		/* the subheader is cut short */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "erspan.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	(void)state;
	type2_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	type1_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	type3_packet(0, 1);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type2),
		cmocka_unit_test(test_type1),
		cmocka_unit_test(test_type3),
		cmocka_unit_test(test_type2_on_22eb),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_unknown_frame_type),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_header_beyond_frame),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
