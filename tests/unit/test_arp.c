/* ARP dissector: request/reply, RARP, odd sizes, truncation. */
#include <arpa/inet.h>
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

/* An ARP body with the given sizes: hardware addresses filled with 0x11
 * (sender) / 0x22 (target), protocol addresses from spa/tpa (plen bytes,
 * zero-extended or cut). */
static void arp(uint16_t ethertype, uint16_t htype, uint16_t ptype,
    uint8_t hlen, uint8_t plen, uint16_t op, const char *spa, const char *tpa)
{
	uint8_t a[4], pa[64];

	tb_reset(&b);
	tb_eth(&b, ethertype);
	tb_be16(&b, htype);
	tb_be16(&b, ptype);
	tb_u8(&b, hlen);
	tb_u8(&b, plen);
	tb_be16(&b, op);
	for (int side = 0; side < 2; side++) {
		memset(pa, 0, sizeof(pa));
		assert_int_equal(inet_pton(AF_INET, side ? tpa : spa, a), 1);
		memcpy(pa, a, 4);
		memset(b.b + b.n, side ? 0x22 : 0x11, hlen);
		b.n += hlen;
		tb_bytes(&b, pa, plen);
	}
}

static void request(void)
{
	arp(0x0806, 1, 0x0800, 6, 4, 1, "192.0.2.1", "192.0.2.2");
}

static void test_request(void **state)
{
	const struct tm_packet *p;

	(void)state;
	request();
	tb_zero(&b, 18);	/* Ethernet padding to 60 bytes */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(p->ethertype, 0x0806);
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "192.0.2.2");
	/* ARP is no IP layer: nothing outer, no protocol, no ports */
	assert_int_equal(p->outer_src.family, 0);
	assert_false(p->flags & (TM_PF_HAS_PORTS | TM_PF_HAS_PROTO));
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_reply(void **state)
{
	const struct tm_packet *p;

	(void)state;
	arp(0x0806, 1, 0x0800, 6, 4, 2, "192.0.2.2", "192.0.2.1");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_addr(&p->src, "192.0.2.2");
	assert_addr(&p->dst, "192.0.2.1");
}

static void test_rarp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	arp(0x8035, 1, 0x0800, 6, 4, 3, "0.0.0.0", "198.51.100.7");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(p->ethertype, 0x8035);
	assert_addr(&p->dst, "198.51.100.7");
}

/* tcpdump's arp-too-long-tha: an unknown hardware type with 14-byte
 * addresses is a valid layout; tcpdump and tshark both take the IPv4
 * addresses after them, and so do we, without an event. */
static void test_long_hardware_address(void **state)
{
	const struct tm_packet *p;

	(void)state;
	arp(0x0806, 12336, 0x0800, 14, 4, 1, "48.48.48.48", "48.48.48.49");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_no_events(p);
	assert_addr(&p->src, "48.48.48.48");
	assert_addr(&p->dst, "48.48.48.49");
}

static void test_bad_hlen_ethernet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* Ethernet hardware with 8-byte addresses: recorded, and the
	 * addresses are still found where the sizes put them */
	arp(0x0806, 1, 0x0800, 8, 4, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "arp.bad_hlen");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "192.0.2.2");

	arp(0x0806, 6, 0x0800, 2, 4, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "arp.bad_hlen");
}

static void test_bad_hlen_zero(void **state)
{
	const struct tm_packet *p;

	(void)state;
	arp(0x0806, 12336, 0x0800, 0, 4, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "arp.bad_hlen");
	assert_addr(&p->src, "192.0.2.1");
	assert_addr(&p->dst, "192.0.2.2");
}

static void test_bad_plen(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* IPv4 with 16-byte addresses: not IPv4 addresses we can use */
	arp(0x0806, 1, 0x0800, 6, 16, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_event(p, "arp.bad_plen");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(p->src.family, 0);
	assert_int_equal(p->dst.family, 0);

	arp(0x0806, 1, 0x0800, 6, 0, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "arp.bad_plen");
	assert_int_equal(p->src.family, 0);
}

static void test_other_protocol(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a protocol other than IPv4: an ARP layer without endpoints */
	arp(0x0806, 1, 0x86dd, 6, 16, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/arp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(p->src.family, 0);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	request();
	/* the frame really ends inside the target protocol address */
	p = tm_test_decode_cut(b.b, b.n - 2, b.n - 2, LT_ETHERNET);
	assert_event(p, "arp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(p->src.family, 0);
	/* and inside the fixed part */
	p = tm_test_decode_cut(b.b, 18, 18, LT_ETHERNET);
	assert_event(p, "arp.too_short");
	/* a long hardware address that runs past the frame */
	arp(0x0806, 12336, 0x0800, 200, 4, 1, "192.0.2.1", "192.0.2.2");
	p = tm_test_decode_cut(b.b, 60, 60, LT_ETHERNET);
	assert_event(p, "arp.too_short");
}

static void test_truncations(void **state)
{
	(void)state;
	request();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 14, b.n, "arp.truncated");
	arp(0x0806, 12336, 0x0800, 14, 4, 1, "48.48.48.48", "48.48.48.49");
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 14, b.n, "arp.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_rarp),
		cmocka_unit_test(test_long_hardware_address),
		cmocka_unit_test(test_bad_hlen_ethernet),
		cmocka_unit_test(test_bad_hlen_zero),
		cmocka_unit_test(test_bad_plen),
		cmocka_unit_test(test_other_protocol),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
