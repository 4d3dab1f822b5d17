/* Ethernet dissector: Ethernet II, IEEE 802.3 with and without LLC/SNAP,
 * every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

static void eth_udp(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 2);
	tb_udp(&b, 1000, 2000, 2);
	tb_be16(&b, 0xabcd);
}

/* 802.3: destination, source, length; LLC/SNAP with the given OUI and
 * protocol id; then an IPv4/UDP packet, then `pad` bytes of padding. */
static void snap_udp(uint32_t oui, uint16_t pid, size_t pad)
{
	size_t ip = 20 + 8 + 2;

	tb_reset(&b);
	tb_eth(&b, (uint16_t)(8 + ip));
	tb_u8(&b, 0xaa);
	tb_u8(&b, 0xaa);
	tb_u8(&b, 0x03);
	tb_u8(&b, (uint8_t)(oui >> 16));
	tb_u8(&b, (uint8_t)(oui >> 8));
	tb_u8(&b, (uint8_t)oui);
	tb_be16(&b, pid);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8 + 2);
	tb_udp(&b, 3000, 4000, 2);
	tb_be16(&b, 0x1234);
	tb_zero(&b, pad);
}

static void test_ethernet2(void **state)
{
	const struct tm_packet *p;

	(void)state;
	eth_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0800);
	assert_int_equal(p->layers[0].offset, 0);
	assert_int_equal(p->layers[1].offset, 14);
}

static void test_unknown_ethertype(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x88b5);		/* IEEE local experimental */
	tb_zero(&b, 46);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x88b5);
	assert_int_equal(p->l3, TM_L3_NONE);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));

	/* 0x0600 is the first ethertype */
	b.b[12] = 0x06;
	b.b[13] = 0x00;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0600);
}

static void test_snap(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* RFC 1042 encapsulation; the padding is cut off by the length */
	snap_udp(0x000000, 0x0800, 12);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0800);
	assert_int_equal(p->layers[1].offset, 22);
	assert_addr(&p->src, "10.0.0.1");
	assert_int_equal(p->dport, 4000);
	assert_int_equal(p->payload_len, 2);

	/* 802.1H bridge tunnel encapsulation */
	snap_udp(0x0000f8, 0x0800, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
}

static void test_snap_vendor(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* Cisco's OUI: 0x0800 is Cisco's protocol id there, not IPv4 */
	snap_udp(0x00000c, 0x0800, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_NONE);
}

static void test_llc_not_snap(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* spanning tree: LLC 42 42 03 and a BPDU */
	tb_reset(&b);
	tb_eth(&b, 38);
	tb_u8(&b, 0x42);
	tb_u8(&b, 0x42);
	tb_u8(&b, 0x03);
	tb_zero(&b, 35);
	tb_zero(&b, 8);			/* padding */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth");
	assert_no_events(p);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));

}

static void test_bad_type(void **state)
{
	const struct tm_packet *p;

	(void)state;
	eth_udp();
	b.b[12] = 0x05;
	b.b[13] = 0xdd;			/* 1501 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "eth.bad_type");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth");
	b.b[13] = 0xff;			/* 1535 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "eth.bad_type");
}

static void test_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an 802.3 length beyond the frame */
	snap_udp(0, 0x0800, 0);
	b.b[12] = 0x05;
	b.b[13] = 0xdc;			/* 1500 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "eth.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);

	/* a length too small for any LLC header, padded */
	tb_reset(&b);
	tb_eth(&b, 2);
	tb_zero(&b, 46);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "eth.bad_length");
	assert_layers(p, "eth");

	/* a SNAP header that does not fit in the length */
	snap_udp(0, 0x0800, 0);
	b.b[12] = 0;
	b.b[13] = 5;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "eth.bad_length");
	assert_layers(p, "eth");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	eth_udp();
	p = tm_test_decode_cut(b.b, 13, 13, LT_ETHERNET);
	assert_event(p, "eth.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	p = tm_test_decode_cut(b.b, 0, 0, LT_ETHERNET);
	assert_event(p, "eth.too_short");
}

static void test_truncations(void **state)
{
	(void)state;
	eth_udp();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	/* the LLC/SNAP header belongs to the Ethernet layer */
	snap_udp(0, 0x0800, 4);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 0, 22, "eth.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet2),
		cmocka_unit_test(test_unknown_ethertype),
		cmocka_unit_test(test_snap),
		cmocka_unit_test(test_snap_vendor),
		cmocka_unit_test(test_llc_not_snap),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
