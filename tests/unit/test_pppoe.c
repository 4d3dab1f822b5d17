/* PPPoE dissector: session and discovery packets, every malformed branch,
 * truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

/* eth / PPPoE session 0x1234 / PPP IPv4 / udp, then Ethernet padding */
static void session_packet(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x8864);
	tb_u8(&b, 0x11);
	tb_u8(&b, 0x00);
	tb_be16(&b, 0x1234);
	tb_be16(&b, 2 + 20 + 8);
	tb_be16(&b, 0x0021);
	tb_ipv4(&b, "100.64.0.1", "192.0.2.80", 17, 8);
	tb_udp(&b, 33000, 53, 0);
}

static void test_session_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	session_packet();
	tb_zero(&b, 10);		/* padding: beyond the PPPoE length */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/pppoe/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->src, "100.64.0.1");
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_PPPOE);
	assert_int_equal(p->tunnels[0].ids, TM_TID_SESSION);
	assert_int_equal(p->tunnels[0].session_id, 0x1234);
	assert_int_equal(p->tunnels[0].src.family, 0);
}

static void test_session_ipv6_compressed(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8864);
	tb_u8(&b, 0x11);
	tb_u8(&b, 0x00);
	tb_be16(&b, 0x0011);
	tb_be16(&b, 1 + 40 + 8);
	tb_u8(&b, 0x57);		/* protocol field compression */
	tb_ipv6(&b, "fe80::1", "ff02::1:2", 17, 8);
	tb_udp(&b, 546, 547, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/pppoe/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->dport, 547);
	assert_int_equal(p->tunnels[0].session_id, 0x11);
}

static void test_session_lcp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8864);
	tb_u8(&b, 0x11);
	tb_u8(&b, 0x00);
	tb_be16(&b, 0x0011);
	tb_be16(&b, 2 + 8);
	tb_be16(&b, 0xc021);
	tb_be32(&b, 0x09010008);
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/pppoe");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_discovery(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8863);
	tb_u8(&b, 0x11);
	tb_u8(&b, 0x09);		/* PADI */
	tb_be16(&b, 0);
	tb_be16(&b, 4);
	tb_be32(&b, 0x01010000);	/* Service-Name, empty */
	tb_zero(&b, 30);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/pppoe");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->ethertype, 0x8863);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
	/* a discovery header cut on the wire */
	p = tm_test_decode_cut(b.b, 18, 18, LT_ETHERNET);
	assert_event(p, "pppoe.too_short");
	/* a bad length is bad in discovery too */
	b.b[19] = 200;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "pppoe.bad_length");
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	session_packet();
	b.b[14] = 0x21;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "pppoe.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/pppoe");
	assert_int_equal(p->n_tunnels, 0);
}

static void test_bad_code(void **state)
{
	const struct tm_packet *p;

	(void)state;
	session_packet();
	b.b[15] = 0x65;			/* PADS code on a session packet */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "pppoe.bad_code");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	session_packet();
	b.b[18] = 0x05;			/* 1280 + 30 bytes */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "pppoe.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_short_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a length of 1 leaves no room for a two-byte protocol */
	session_packet();
	b.b[19] = 1;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "pppoe.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* and a length shorter than the IP packet cuts the IP packet */
	session_packet();
	b.b[19] = 2 + 20;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
}

static void test_truncations(void **state)
{
	(void)state;
	session_packet();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_ipv4),
		cmocka_unit_test(test_session_ipv6_compressed),
		cmocka_unit_test(test_session_lcp),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_code),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_short_length),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
