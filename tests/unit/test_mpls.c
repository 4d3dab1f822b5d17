/* MPLS dissector: label stacks over Ethernet, PPP and UDP, what lies below
 * the stack (IP, Ethernet pseudowires with and without control word, the
 * associated channel), every malformed branch, truncation. */
#include <stdio.h>
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

static uint32_t lse(uint32_t label, int bottom)
{
	return (label << 12) | (bottom ? 0x100u : 0u) | 64u;
}

static void ipv4_udp(void)
{
	tb_ipv4(&b, "10.3.0.1", "10.3.0.2", 17, 8);
	tb_udp(&b, 1000, 2000, 0);
}

/* eth / mpls 100 / mpls 200 (bottom) / ipv4 / udp */
static void two_labels(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(100, 0));
	tb_be32(&b, lse(200, 1));
	ipv4_udp();
}

/* inner frame whose destination MAC starts with nibble `dst0 >> 4`, and
 * whose source MAC bytes 2..3 are no ethertype */
static void pw_frame(uint8_t dst0)
{
	uint8_t macs[12] = { dst0, 0, 0, 0, 0, 1, 0x02, 0, 0x5a, 0x5a, 0, 2 };

	tb_bytes(&b, macs, 12);
	tb_be16(&b, 0x0800);
	ipv4_udp();
}

/* eth / mpls 300 / control word / eth / ipv4 / udp */
static void pw_cw(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(300, 1));
	tb_be32(&b, 0x00000007);	/* control word, sequence 7 */
	pw_frame(0x02);
}

static void assert_inner(const struct tm_packet *p)
{
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->src, "10.3.0.1");
	assert_addr(&p->dst, "10.3.0.2");
	assert_int_equal(p->dport, 2000);
}

static void test_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	two_labels();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv4/udp");
	assert_no_events(p);
	assert_inner(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_MPLS);
	assert_int_equal(p->tunnels[0].ids, TM_TID_LABEL);
	assert_int_equal(p->tunnels[0].label, 200);
	assert_int_equal(p->tunnels[0].src.family, 0);
	/* multicast MPLS */
	b.b[13] = 0x48;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv4/udp");
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(16, 1));
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV6);
	assert_int_equal(p->tunnels[0].label, 16);
}

static void test_explicit_null(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* label 2 says IPv6 whatever the nibble: a bad nibble is IPv6's
	 * problem, not a guess of ours */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(2, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv6");
	assert_event(p, "ipv6.bad_version");
	/* label 0: IPv4 */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(0, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv4/udp");
	assert_int_equal(p->tunnels[0].label, 0);
}

static void test_pseudowire_control_word(void **state)
{
	const struct tm_packet *p;

	(void)state;
	pw_cw();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->layers[2].offset, 14 + 4 + 4);
	assert_inner(p);
	assert_int_equal(p->tunnels[0].label, 300);
}

static void test_pseudowire_no_control_word(void **state)
{
	const struct tm_packet *p;
	static const uint8_t firsts[] = { 0x00, 0x22, 0xa0, 0xf0 };

	(void)state;
	/* a known ethertype at bytes 12..13: Ethernet right below the stack,
	 * even when the destination MAC starts with nibble 0 */
	for (size_t i = 0; i < TM_ARRAY_LEN(firsts); i++) {
		tb_reset(&b);
		tb_eth(&b, 0x8847);
		tb_be32(&b, lse(301, 1));
		pw_frame(firsts[i]);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/mpls/eth/ipv4/udp");
		assert_no_events(p);
		assert_int_equal(p->layers[2].offset, 14 + 4);
		assert_inner(p);
	}
}

static void test_associated_channel(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(13, 1));	/* GAL */
	tb_be32(&b, 0x10000007);	/* ACH: version 0, channel 7 (BFD) */
	tb_zero(&b, 24);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls");
	assert_no_events(p);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_unknown_payload(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(17, 1));
	for (int i = 0; i < 30; i++)
		tb_u8(&b, 0xe5);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "mpls.unknown_payload");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/mpls");
	assert_int_equal(p->tunnels[0].label, 17);
}

static void test_empty(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0281);
	tb_be32(&b, lse(5, 1));
	p = tm_test_decode(b.b, b.n, 9);
	assert_layers(p, "ppp/mpls");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
}

static void test_too_many_labels(void **state)
{
	const struct tm_packet *p;
	int i;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	for (i = 0; i < 16; i++)
		tb_be32(&b, lse((uint32_t)(100 + i), 0));
	tb_be32(&b, lse(999, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "mpls.too_many_labels");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->n_tunnels, 0);
	/* 16 labels are fine */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	for (i = 0; i < 15; i++)
		tb_be32(&b, lse((uint32_t)(100 + i), 0));
	tb_be32(&b, lse(999, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/mpls/ipv4/udp");
	assert_int_equal(p->tunnels[0].label, 999);
}

static void test_stack_beyond_frame(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* no bottom of stack before the frame ends (tcpdump's
	 * mpls-label-heapoverflow has this shape, cut by a snap length) */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(1, 0));
	tb_be32(&b, lse(2, 0));
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "mpls.too_short");
	p = tm_test_decode_cut(b.b, b.n, 100, LT_ETHERNET);
	assert_event(p, "mpls.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_ppp_and_udp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0281);
	tb_be32(&b, lse(100704, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, 9);
	assert_layers(p, "ppp/mpls/ipv4/udp");
	assert_inner(p);
	assert_int_equal(p->tunnels[0].label, 100704);
	/* MPLS-in-UDP, RFC 7510 */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 4 + 28);
	tb_udp(&b, 49152, 6635, 4 + 28);
	tb_be32(&b, lse(4000, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/mpls/ipv4/udp");
	assert_inner(p);
	assert_addr(&p->tunnels[0].src, "192.0.2.1");
	assert_addr(&p->outer_src, "192.0.2.1");
}

static void test_depth_limit(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* pseudowires in pseudowires (suricata's decode-too-many-layers) */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	for (int i = 0; i < 10; i++) {
		tb_be32(&b, lse(16, 1));
		tb_be32(&b, 0);
		tb_eth(&b, 0x8847);
	}
	tb_be32(&b, lse(16, 1));
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 8);
}

/* tm_test_truncations(), except at the one cut where MPLS has no byte to
 * peek at: below the stack the first byte chooses the next layer, and cut
 * right there nothing says what follows, so MPLS reports itself truncated
 * (tm_test_truncations would expect the next layer's event there). */
static void truncations_after_stack(size_t stack_end)
{
	struct tm_layer full[TM_MAX_LAYERS];
	const struct tm_packet *p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	unsigned n_full = p->n_layers, k;
	char ev[128];

	memcpy(full, p->layers, sizeof(full));
	for (size_t cut = 0; cut < b.n; cut++) {
		for (k = 0; k + 1 < n_full; k++)
			if (cut >= full[k].offset && cut < full[k + 1].offset)
				break;
		if (k + 1 >= n_full)
			continue;
		snprintf(ev, sizeof(ev), "%s.truncated", cut == stack_end ?
		    "mpls" : tm_dissector_name(tm_test_registry(),
		    full[k].dissector));
		p = tm_test_decode_cut(b.b, cut, b.n, LT_ETHERNET);
		assert_true(p->flags & TM_PF_TRUNCATED);
		assert_false(p->flags & TM_PF_MALFORMED);
		if (!tm_test_has_event(p, ev))
			fail_msg("cut at %zu: expected %s, got layers %s",
			    cut, ev, tm_test_layers(p));
	}
}

static void test_truncations(void **state)
{
	(void)state;
	/* the control word belongs to MPLS: the harness holds as it is */
	pw_cw();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	two_labels();
	truncations_after_stack(14 + 8);
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(301, 1));
	pw_frame(0xa0);
	truncations_after_stack(14 + 4);
	/* (a frame without control word whose destination MAC starts with
	 * nibble 0, cut before its ethertype, is taken to have a control
	 * word: a guess of the cut capture, checked for safety only) */
	tb_reset(&b);
	tb_eth(&b, 0x8847);
	tb_be32(&b, lse(301, 1));
	pw_frame(0x00);
	for (size_t cut = 0; cut < b.n; cut++) {
		const struct tm_packet *p = tm_test_decode_cut(b.b, cut, b.n,
		    LT_ETHERNET);

		assert_true(p->flags & TM_PF_TRUNCATED);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_explicit_null),
		cmocka_unit_test(test_pseudowire_control_word),
		cmocka_unit_test(test_pseudowire_no_control_word),
		cmocka_unit_test(test_associated_channel),
		cmocka_unit_test(test_unknown_payload),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_too_many_labels),
		cmocka_unit_test(test_stack_beyond_frame),
		cmocka_unit_test(test_ppp_and_udp),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
