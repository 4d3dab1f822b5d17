/* VLAN dissector: 802.1Q, 802.1ad and legacy QinQ tags, 802.3 inside a tag,
 * every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

/* Ethernet, the given tags (tpid, tci pairs), then IPv4/UDP. */
static void tagged(const uint16_t *tags, size_t n)
{
	tb_reset(&b);
	tb_eth(&b, n ? tags[0] : 0x0800);
	for (size_t i = 0; i < n; i++) {
		tb_be16(&b, tags[2 * i + 1]);
		tb_be16(&b, i + 1 < n ? tags[2 * i + 2] : 0x0800);
	}
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0xdeadbeef);
}

static void test_normal(void **state)
{
	static const uint16_t tags[] = { 0x8100, 100 };
	const struct tm_packet *p;

	(void)state;
	tagged(tags, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->n_vlans, 1);
	assert_int_equal(p->vlans[0], 100);
	assert_int_equal(p->ethertype, 0x0800);
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "198.51.100.2");
	assert_int_equal(p->sport, 1234);
	assert_int_equal(p->dport, 53);
}

static void test_pcp_dei_masked(void **state)
{
	static const uint16_t tags[] = { 0x8100, 0xf000 | 4094 };
	const struct tm_packet *p;

	(void)state;
	tagged(tags, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->n_vlans, 1);
	assert_int_equal(p->vlans[0], 4094);
}

static void test_priority_tag(void **state)
{
	static const uint16_t tags[] = { 0x8100, 0xa000 }; /* PCP 5, id 0 */
	const struct tm_packet *p;

	(void)state;
	tagged(tags, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/ipv4/udp");
	assert_int_equal(p->n_vlans, 1);
	assert_int_equal(p->vlans[0], 0);
}

static void test_qinq(void **state)
{
	static const uint16_t ad[] = { 0x88a8, 200, 0x8100, 100 };
	static const uint16_t q91[] = { 0x9100, 300, 0x8100, 7 };
	static const uint16_t q92[] = { 0x9200, 301, 0x8100, 8 };
	static const uint16_t q3[] = { 0x88a8, 1, 0x8100, 2, 0x8100, 3 };
	const struct tm_packet *p;

	(void)state;
	tagged(ad, 2);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/vlan/ipv4/udp");
	assert_int_equal(p->n_vlans, 2);
	assert_int_equal(p->vlans[0], 200);	/* outermost first */
	assert_int_equal(p->vlans[1], 100);
	assert_int_equal(p->dport, 53);

	tagged(q91, 2);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/vlan/ipv4/udp");
	assert_int_equal(p->vlans[0], 300);
	assert_int_equal(p->vlans[1], 7);

	tagged(q92, 2);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/vlan/ipv4/udp");
	assert_int_equal(p->vlans[0], 301);
	assert_int_equal(p->vlans[1], 8);

	tagged(q3, 3);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/vlan/vlan/ipv4/udp");
	assert_int_equal(p->n_vlans, 3);
	assert_int_equal(p->vlans[2], 3);
}

static void test_too_many_tags(void **state)
{
	uint16_t tags[2 * (TM_MAX_VLANS + 1)];
	const struct tm_packet *p;

	(void)state;
	for (unsigned i = 0; i < TM_MAX_VLANS + 1; i++) {
		tags[2 * i] = 0x8100;
		tags[2 * i + 1] = (uint16_t)(10 + i);
	}
	/* exactly TM_MAX_VLANS tags are fine */
	tagged(tags, TM_MAX_VLANS);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_int_equal(p->n_vlans, TM_MAX_VLANS);
	assert_int_equal(p->dport, 53);
	/* one more is not */
	tagged(tags, TM_MAX_VLANS + 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.too_many_tags");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->n_vlans, TM_MAX_VLANS);
	assert_int_equal(p->vlans[TM_MAX_VLANS - 1], 10 + TM_MAX_VLANS - 1);
	assert_int_equal(p->l3, TM_L3_NONE);
}

/* A tag whose type field is an 802.3 length, then LLC. */
static void llc_frame(uint16_t length, const uint8_t *llc, size_t n)
{
	tb_reset(&b);
	tb_eth(&b, 0x8100);
	tb_be16(&b, 42);
	tb_be16(&b, length);
	tb_bytes(&b, llc, n);
}

static void snap_ipv4(void)
{
	static const uint8_t snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0 };

	llc_frame(8 + 20 + 8 + 4, snap, 8);
	tb_ipv4(&b, "10.1.1.1", "10.2.2.2", 17, 8 + 4);
	tb_udp(&b, 5000, 6000, 4);
	tb_be32(&b, 0);
}

static void test_llc_snap(void **state)
{
	const struct tm_packet *p;

	(void)state;
	snap_ipv4();
	tb_zero(&b, 6);		/* padding after the 802.3 length */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->vlans[0], 42);
	assert_addr(&p->src, "10.1.1.1");
	assert_int_equal(p->dport, 6000);

	/* 802.1H bridge-tunnel OUI carries an ethertype too */
	snap_ipv4();
	b.b[18 + 5] = 0xf8;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan/ipv4/udp");
}

static void test_llc_terminal(void **state)
{
	static const uint8_t stp[7] = { 0x42, 0x42, 0x03, 0, 0, 0, 0 };
	static const uint8_t cisco[10] = { 0xaa, 0xaa, 0x03, 0, 0, 0x0c,
		0x01, 0x0b, 0, 0 };
	const struct tm_packet *p;

	(void)state;
	llc_frame(7, stp, 7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan");
	assert_no_events(p);
	assert_int_equal(p->n_vlans, 1);
	assert_int_equal(p->l3, TM_L3_NONE);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));

	/* a vendor's SNAP protocol (Cisco PVST+): its PID is no ethertype */
	llc_frame(10, cisco, 10);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/vlan");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x8100);
}

static void test_bad_type(void **state)
{
	static const uint8_t stp[7] = { 0x42, 0x42, 0x03, 0, 0, 0, 0 };
	const struct tm_packet *p;

	(void)state;
	llc_frame(1501, stp, 7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.bad_type");
	assert_true(p->flags & TM_PF_MALFORMED);
	llc_frame(1535, stp, 7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.bad_type");
}

static void test_bad_length(void **state)
{
	static const uint8_t stp[7] = { 0x42, 0x42, 0x03, 0, 0, 0, 0 };
	static const uint8_t snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0 };
	const struct tm_packet *p;

	(void)state;
	/* beyond the frame */
	llc_frame(8, stp, 7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* too short for an LLC header */
	llc_frame(2, stp, 7);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.bad_length");
	/* too short for the SNAP header it starts */
	llc_frame(5, snap, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vlan.bad_length");
	assert_layers(p, "eth/vlan");
}

static void test_too_short(void **state)
{
	static const uint16_t tags[] = { 0x8100, 100 };
	const struct tm_packet *p;

	(void)state;
	tagged(tags, 1);
	p = tm_test_decode_cut(b.b, 16, 16, LT_ETHERNET);
	assert_event(p, "vlan.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	p = tm_test_decode_cut(b.b, 16, b.n, LT_ETHERNET);
	assert_event(p, "vlan.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	static const uint16_t tags[] = { 0x88a8, 200, 0x8100, 100 };

	(void)state;
	tagged(tags, 2);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	snap_ipv4();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_pcp_dei_masked),
		cmocka_unit_test(test_priority_tag),
		cmocka_unit_test(test_qinq),
		cmocka_unit_test(test_too_many_tags),
		cmocka_unit_test(test_llc_snap),
		cmocka_unit_test(test_llc_terminal),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
