/* L2TP over UDP: version 2 data and control messages, version 3 over UDP,
 * every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

#define PPP_INNER (4 + 20 + 8)	/* PPP FF03 0021 / ipv4 / udp */
#define ETH_INNER (14 + 20 + 8)	/* eth / ipv4 / udp */

static void outer(size_t l2tp_len)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.10", "192.0.2.20", 17, 8 + l2tp_len);
	tb_udp(&b, 1701, 1701, l2tp_len);
}

static void ppp_inner(void)
{
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0021);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 17, 8);
	tb_udp(&b, 5060, 5061, 0);
}

static void eth_inner(void)
{
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 17, 8);
	tb_udp(&b, 5060, 5061, 0);
}

/* v2 data with no optional field */
static void v2_plain(void)
{
	outer(6 + PPP_INNER);
	tb_be16(&b, 0x0002);
	tb_be16(&b, 0x1111);		/* tunnel id */
	tb_be16(&b, 0x2222);		/* session id */
	ppp_inner();
}

/* v2 data with L, S, O (offset 2) and P */
static void v2_full(void)
{
	size_t hdr = 2 + 2 + 4 + 4 + 2 + 2;

	outer(hdr + PPP_INNER);
	tb_be16(&b, 0x4b02);		/* L, S, O, P, version 2 */
	tb_be16(&b, (uint16_t)(hdr + PPP_INNER));
	tb_be16(&b, 0x1111);
	tb_be16(&b, 0x2222);
	tb_be16(&b, 1);			/* Ns */
	tb_be16(&b, 2);			/* Nr */
	tb_be16(&b, 2);			/* offset size */
	tb_be16(&b, 0);			/* offset pad */
	ppp_inner();
}

static void v2_control(uint16_t flags)
{
	outer(12 + 8);
	tb_be16(&b, flags);
	tb_be16(&b, 12 + 8);
	tb_be16(&b, 0x1111);
	tb_be16(&b, 0);
	tb_be16(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0x80080000);	/* message type AVP */
	tb_be32(&b, 0x00000001);
}

/* v3 over UDP, data, k bytes of cookie/sublayer before the frame */
static void v3_data(size_t k)
{
	outer(8 + k + ETH_INNER);
	tb_be16(&b, 0x0003);
	tb_be16(&b, 0);			/* reserved */
	tb_be32(&b, 0xa1b2c3d4);	/* session id */
	tb_zero(&b, k);
	eth_inner();
}

static void assert_ppp_inner(const struct tm_packet *p)
{
	assert_layers(p, "eth/ipv4/udp/l2tp/ppp/ipv4/udp");
	assert_addr(&p->src, "172.16.0.1");
	assert_int_equal(p->dport, 5061);
	assert_addr(&p->outer_src, "192.0.2.10");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_L2TP);
	assert_int_equal(p->tunnels[0].ids, TM_TID_TUNNEL | TM_TID_SESSION);
	assert_int_equal(p->tunnels[0].tunnel_id, 0x1111);
	assert_int_equal(p->tunnels[0].session_id, 0x2222);
	assert_addr(&p->tunnels[0].src, "192.0.2.10");
}

static void test_v2_data(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_plain();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_ppp_inner(p);
	v2_full();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_ppp_inner(p);
}

static void test_v2_length_narrows(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the L2TP length ends the message inside the inner IP packet */
	v2_full();
	b.b[42 + 3] = 16 + 4 + 24;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
	assert_int_equal(p->n_tunnels, 1);
}

static void test_first_fragment(void **state)
{
	const struct tm_packet *p;
	size_t hdr = 2 + 2 + 4 + 4 + 2 + 2, inner = 4 + 20 + 8 + 100;

	(void)state;
	/* the first fragment of a datagram whose lengths (UDP, L2TP, inner
	 * IP and UDP) reach into the next fragment: no violation */
	outer(hdr + inner);
	tb_be16(&b, 0x4b02);
	tb_be16(&b, (uint16_t)(hdr + inner));
	tb_be16(&b, 0x1111);
	tb_be16(&b, 0x2222);
	tb_be32(&b, 0x00010002);
	tb_be16(&b, 2);
	tb_be16(&b, 0);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0021);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 17, 8 + 100);
	tb_udp(&b, 5060, 5061, 100);
	b.b[16] = 0;
	b.b[17] = (uint8_t)(b.n - 14);	/* the fragment ends here */
	b.b[20] = 0x20;			/* MF */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_ppp_inner(p);
}

static void test_v2_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(6);
	tb_be16(&b, 0x0002);
	tb_be16(&b, 0x1111);
	tb_be16(&b, 0x2222);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/l2tp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
}

static void test_v2_control(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_control(0xc802);		/* T, L, S */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/l2tp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->sport, 1701);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_bad_control(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_control(0x8802);		/* T, S without L */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_control");
	assert_true(p->flags & TM_PF_MALFORMED);
	v2_control(0xc003);		/* v3, T, L without S */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_control");
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_plain();
	b.b[43] = 0x01;			/* L2F */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/l2tp");
	assert_int_equal(p->dport, 1701);
}

static void test_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_full();
	b.b[44] = 0x01;			/* beyond the datagram */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	v2_full();
	b.b[45] = 10;			/* below the 16-byte header */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_length");
	/* version 3 control: length below the header, beyond the datagram */
	v2_control(0xc803);
	b.b[45] = 8;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_length");
	b.b[45] = 200;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.bad_length");
}

static void test_offset_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_full();
	b.b[42] = 0x0b;			/* drop L: no length to check */
	memmove(b.b + 44, b.b + 46, b.n - 46);
	b.n -= 2;
	b.b[38] = 0;
	b.b[39] = (uint8_t)(b.n - 34);	/* UDP length */
	b.b[16] = 0;
	b.b[17] = (uint8_t)(b.n - 14);	/* IP total length */
	b.b[52] = 0x01;			/* offset size 256 + 2 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_v3_data(void **state)
{
	const struct tm_packet *p;
	static const size_t ks[] = { 0, 4, 8, 12 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		v3_data(ks[i]);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/udp/l2tp/eth/ipv4/udp");
		assert_no_events(p);
		assert_addr(&p->src, "172.16.0.1");
		assert_int_equal(p->dport, 5061);
		assert_int_equal(p->tunnels[0].type, TM_TUN_L2TP);
		assert_int_equal(p->tunnels[0].ids, TM_TID_SESSION);
		assert_int_equal(p->tunnels[0].session_id, 0xa1b2c3d4);
	}
}

static void test_v3_control(void **state)
{
	const struct tm_packet *p;

	(void)state;
	v2_control(0xc803);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/l2tp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
}

static void test_v3_no_ethernet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(8 + 40);
	tb_be16(&b, 0x0003);
	tb_be16(&b, 0);
	tb_be32(&b, 5);
	for (int i = 0; i < 40; i++)
		tb_u8(&b, 0xee);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tp.no_ethernet");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/l2tp");
	assert_int_equal(p->tunnels[0].session_id, 5);
	/* an empty data message is no event */
	outer(8);
	tb_be16(&b, 0x0003);
	tb_be16(&b, 0);
	tb_be32(&b, 5);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
}

static void test_truncations(void **state)
{
	(void)state;
	v2_plain();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	v2_full();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	v3_data(0);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_data),
		cmocka_unit_test(test_v2_length_narrows),
		cmocka_unit_test(test_first_fragment),
		cmocka_unit_test(test_v2_empty),
		cmocka_unit_test(test_v2_control),
		cmocka_unit_test(test_bad_control),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_offset_beyond_frame),
		cmocka_unit_test(test_v3_data),
		cmocka_unit_test(test_v3_control),
		cmocka_unit_test(test_v3_no_ethernet),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
