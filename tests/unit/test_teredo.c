/* Teredo: IPv6 in UDP 3544 with and without the authentication and origin
 * indicators, from either port side, everything that is not Teredo after
 * all (declined: the packet stays UDP), the depth limit, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_test_peek.h"

static struct tm_buf b;

#define V6_LEN (40 + 8)			/* inner IPv6 + UDP */

static void outer(uint16_t sport, uint16_t dport, size_t payload)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "203.0.113.5", 17, 8 + payload);
	tb_udp(&b, sport, dport, payload);
}

static void inner(void)
{
	tb_ipv6(&b, "2001:0:4136:e378:8000:63bf:3fff:fdd2",
	    "2001:db8::53", 17, 8);
	tb_udp(&b, 33000, 53, 0);
}

static void auth(uint8_t idlen, uint8_t aulen)
{
	tb_be16(&b, 0x0001);
	tb_u8(&b, idlen);
	tb_u8(&b, aulen);
	for (unsigned i = 0; i < (unsigned)idlen + aulen; i++)
		tb_u8(&b, (uint8_t)i);
	tb_be32(&b, 0x01020304);	/* nonce */
	tb_be32(&b, 0x05060708);
	tb_u8(&b, 0);			/* confirmation */
}

static void origin(void)
{
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0xf227);		/* obfuscated port */
	tb_be32(&b, 0x3f57fe7d);	/* obfuscated address */
}

static void assert_teredo(const struct tm_packet *p)
{
	assert_layers(p, "eth/ipv4/udp/teredo/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_TEREDO);
	assert_addr(&p->tunnels[0].src, "192.0.2.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.5");
	assert_int_equal(p->ethertype, 0x86dd);
	assert_addr(&p->src, "2001:0:4136:e378:8000:63bf:3fff:fdd2");
	assert_addr(&p->dst, "2001:db8::53");
	assert_int_equal(p->sport, 33000);
	assert_int_equal(p->dport, 53);
}

static void test_plain(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(40000, 3544, V6_LEN);
	inner();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_teredo(p);
	/* the server's answer */
	outer(3544, 40000, V6_LEN);
	inner();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_teredo(p);
}

static void test_origin(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(3544, 40000, 8 + V6_LEN);
	origin();
	inner();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_teredo(p);
	assert_int_equal(p->layers[4].offset, 14 + 20 + 8 + 8);
}

static void test_auth(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(40000, 3544, 13 + V6_LEN);
	auth(0, 0);
	inner();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_teredo(p);

	outer(3544, 40000, 13 + 5 + 7 + 8 + V6_LEN);
	auth(5, 7);
	origin();
	inner();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_teredo(p);
	assert_int_equal(p->layers[4].offset, 14 + 20 + 8 + 13 + 12 + 8);
}

static void test_bubble(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a bubble: IPv6 with no next header and no payload */
	outer(40000, 3544, 40);
	tb_ipv6(&b, "2001:0:4136:e378:8000:63bf:3fff:fdd2",
	    "2001:0:4136:e378:8000:1234:3fff:fdd2", 59, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/teredo/ipv6");
	assert_no_events(p);
	assert_int_equal(p->proto, 59);
	assert_false(p->flags & TM_PF_HAS_PORTS);
}

static void test_declined(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* not IPv6: IPv4 */
	outer(40000, 3544, 28);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
	assert_addr(&p->src, "192.0.2.1");
	assert_int_equal(p->dport, 3544);

	/* IPv6 whose payload length does not fit in the datagram */
	outer(40000, 3544, V6_LEN);
	inner();
	b.b[14 + 20 + 8 + 5] = 9;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);

	/* the same behind an origin indication */
	outer(40000, 3544, 8 + 40);
	origin();
	tb_ipv6(&b, "::1", "::2", 59, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");

	/* shorter than an IPv6 header */
	outer(40000, 3544, 20);
	tb_be32(&b, 0x60000000);
	tb_zero(&b, 16);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);

	/* an authentication indicator longer than the datagram */
	outer(40000, 3544, 13 + 40);
	auth(200, 0);
	b.n -= 200;
	tb_ipv6(&b, "::1", "::2", 59, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);

	/* too short for even the indicator */
	outer(40000, 3544, 1);
	tb_u8(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
}

static void test_declined_other_port(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* 3544 is tried first (the lower port) and declines: VXLAN on the
	 * other port gets the datagram */
	outer(3544, 4789, 8 + 14 + 28);
	tb_be32(&b, 0x08000000);
	tb_be32(&b, 0x00006400);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/udp");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_VXLAN);
	assert_int_equal(p->tunnels[0].vni, 100);
}

static void test_depth_limit(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;

	(void)state;
	outer(40000, 3544, V6_LEN);
	inner();
	r->max_depth = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	r->max_depth = saved;
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->dport, 3544);
}

static void test_truncated(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* cut before the version could be seen: Teredo's own verdict */
	outer(40000, 3544, 8 + V6_LEN);
	origin();
	inner();
	p = tm_test_decode_cut(b.b, 14 + 20 + 8 + 8, b.n, LT_ETHERNET);
	assert_event(p, "teredo.truncated");
	assert_true(p->flags & TM_PF_TRUNCATED);
	assert_int_equal(p->n_tunnels, 0);
}

static void test_truncations(void **state)
{
	(void)state;
	outer(3544, 40000, 13 + 5 + 7 + 8 + V6_LEN);
	auth(5, 7);
	origin();
	inner();
	tm_test_truncations_peek(b.b, b.n, LT_ETHERNET, "teredo", 6);
	outer(40000, 3544, V6_LEN);
	inner();
	tm_test_truncations_peek(b.b, b.n, LT_ETHERNET, "teredo", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_bubble),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_declined_other_port),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
