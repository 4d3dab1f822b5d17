/* L2TPv3 over IP: data messages with every cookie/sublayer layout the
 * heuristic looks for, control messages, every malformed branch,
 * truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

#define ETH_INNER (14 + 20 + 8)

static void outer(size_t len)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.10", "192.0.2.20", 115, len);
}

/* inner frame with a source MAC whose bytes 2..3 are no ethertype */
static void eth_inner(uint16_t type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 1,
		0x02, 0, 0x5a, 0x5a, 0, 2 };

	tb_bytes(&b, macs, 12);
	tb_be16(&b, type);
}

/* data: session 0x00c0ffee, k bytes of cookie/sublayer, eth/ipv4/udp */
static void data_packet(size_t k)
{
	outer(4 + k + ETH_INNER);
	tb_be32(&b, 0x00c0ffee);
	for (size_t i = 0; i < k; i++)
		tb_u8(&b, (uint8_t)(0x40 + i));	/* cookie bytes */
	eth_inner(0x0800);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 17, 8);
	tb_udp(&b, 5060, 5061, 0);
}

static void test_data(void **state)
{
	const struct tm_packet *p;
	static const size_t ks[] = { 0, 4, 8, 12 };

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		data_packet(ks[i]);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/l2tpv3/eth/ipv4/udp");
		assert_no_events(p);
		assert_int_equal(p->layers[3].offset, 14 + 20 + 4 + ks[i]);
		assert_addr(&p->src, "172.16.0.1");
		assert_int_equal(p->dport, 5061);
		assert_addr(&p->outer_src, "192.0.2.10");
		assert_int_equal(p->n_tunnels, 1);
		assert_int_equal(p->tunnels[0].type, TM_TUN_L2TP);
		assert_int_equal(p->tunnels[0].ids, TM_TID_SESSION);
		assert_int_equal(p->tunnels[0].session_id, 0x00c0ffee);
		assert_addr(&p->tunnels[0].dst, "192.0.2.20");
	}
}

static void test_arp_inside(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the default L2-specific sublayer (Linux), then ARP */
	outer(4 + 4 + 14 + 28);
	tb_be32(&b, 1);
	tb_be32(&b, 0x40000001);	/* S bit and a sequence number */
	eth_inner(0x0806);
	tb_zero(&b, 28);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->layers[3].offset, 14 + 20 + 8);
	assert_int_equal(p->ethertype, 0x0806);
	assert_int_equal(p->tunnels[0].session_id, 1);
}

static void test_8023_inside(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an 802.3 frame (LLC, e.g. STP) whose length fits exactly */
	outer(4 + 14 + 38);
	tb_be32(&b, 9);
	eth_inner(38);
	tb_be32(&b, 0x42420300);
	tb_zero(&b, 34);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/l2tpv3/eth");
	assert_no_events(p);
	assert_int_equal(p->layers[3].offset, 14 + 20 + 4);
	/* padded to the Ethernet minimum */
	outer(4 + 4 + 14 + 46);
	tb_be32(&b, 9);
	tb_be32(&b, 0);
	eth_inner(38);
	tb_be32(&b, 0x42420300);
	tb_zero(&b, 42);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/l2tpv3/eth");
	assert_int_equal(p->layers[3].offset, 14 + 20 + 8);
}

static void control_packet(uint16_t flags)
{
	outer(4 + 12 + 8);
	tb_be32(&b, 0);			/* session 0: control */
	tb_be16(&b, flags);
	tb_be16(&b, 12 + 8);
	tb_be32(&b, 0x12345678);	/* control connection id */
	tb_be16(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0x80080000);
	tb_be32(&b, 0x00000001);
}

static void test_control(void **state)
{
	const struct tm_packet *p;

	(void)state;
	control_packet(0xc803);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/l2tpv3");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->proto, 115);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
	/* a control header cut on the wire */
	b.b[17] = 20 + 4 + 8;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tpv3.too_short");
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	control_packet(0xc802);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tpv3.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/l2tpv3");
}

static void test_no_ethernet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(4 + 60);
	tb_be32(&b, 77);
	for (int i = 0; i < 60; i++)
		tb_u8(&b, 0xee);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tpv3.no_ethernet");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/l2tpv3");
	assert_int_equal(p->tunnels[0].session_id, 77);
	/* too short for any Ethernet header */
	outer(4 + 10);
	tb_be32(&b, 77);
	tb_zero(&b, 10);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "l2tpv3.no_ethernet");
	/* an empty data message is no event */
	outer(4);
	tb_be32(&b, 77);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
}

static void test_truncations(void **state)
{
	const struct tm_packet *p;

	(void)state;
	data_packet(0);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	/* With a sublayer, a cut inside it leaves the layout unknown: the
	 * ethertype that would rule out "no sublayer" is not captured, so
	 * the frame is taken to start right after the session id (see
	 * l2tpv3.c) and reported as a truncated Ethernet header. Every cut
	 * is truncated, none malformed; from the real frame on, the events
	 * are exactly those of tm_test_truncations(). */
	data_packet(4);
	for (size_t cut = 0; cut < b.n; cut++) {
		const char *ev = cut < 14 ? "eth.truncated" :
		    cut < 34 ? "ipv4.truncated" :
		    cut < 38 ? "l2tpv3.truncated" :
		    cut < 56 ? "eth.truncated" :
		    cut < 76 ? "ipv4.truncated" : "udp.truncated";

		p = tm_test_decode_cut(b.b, cut, b.n, LT_ETHERNET);
		assert_true(p->flags & TM_PF_TRUNCATED);
		assert_false(p->flags & TM_PF_MALFORMED);
		if (!tm_test_has_event(p, ev))
			fail_msg("cut at %zu: expected %s, got layers %s",
			    cut, ev, tm_test_layers(p));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_arp_inside),
		cmocka_unit_test(test_8023_inside),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_no_ethernet),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
