/* WCCP redirection in GRE: version 2 with its redirect header, version 1
 * without, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

static void wccp_packet(int v2)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.99", 47,
	    4 + (v2 ? 4u : 0u) + 20 + 20);
	tb_be16(&b, 0x0000);
	tb_be16(&b, 0x883e);
	if (v2)
		tb_be32(&b, 0x00000102);	/* service 0, buckets 1, 2 */
	tb_ipv4(&b, "10.4.0.1", "93.184.216.34", 6, 20);
	tb_tcp(&b, 50000, 80, 0x02);
}

static void test_v2(void **state)
{
	const struct tm_packet *p;

	(void)state;
	wccp_packet(1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/wccp/ipv4/tcp");
	assert_no_events(p);
	assert_addr(&p->src, "10.4.0.1");
	assert_int_equal(p->dport, 80);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GRE);
}

static void test_v1(void **state)
{
	const struct tm_packet *p;

	(void)state;
	wccp_packet(0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/wccp/ipv4/tcp");
	assert_no_events(p);
	assert_addr(&p->dst, "93.184.216.34");
	assert_int_equal(p->layers[3].offset, p->layers[4].offset);
}

static void test_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	wccp_packet(1);
	b.b[17] = 20 + 4 + 2;		/* two bytes of redirect header */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "wccp.too_short");
}

static void test_truncations(void **state)
{
	(void)state;
	wccp_packet(1);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	/* Version 1: WCCP takes no byte but peeks at the first one to tell
	 * the versions apart; cut right there, it reports itself truncated
	 * (tm_test_truncations would expect the IPv4 layer's event). */
	wccp_packet(0);
	for (size_t cut = 0; cut < 58; cut++) {
		const char *ev = cut < 14 ? "eth.truncated" :
		    cut < 34 ? "ipv4.truncated" : cut < 38 ? "gre.truncated" :
		    cut == 38 ? "wccp.truncated" : "ipv4.truncated";
		const struct tm_packet *p = tm_test_decode_cut(b.b, cut, b.n,
		    LT_ETHERNET);

		assert_true(p->flags & TM_PF_TRUNCATED);
		if (!tm_test_has_event(p, ev))
			fail_msg("cut at %zu: expected %s, got layers %s",
			    cut, ev, tm_test_layers(p));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
