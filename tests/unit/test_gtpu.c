/* GTP-U: G-PDUs with IPv4 and IPv6, the optional fields and extension
 * headers, other messages, headers that are not GTP-U (declined), every
 * malformed branch, GTP in GTP, the depth limit, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_test_peek.h"

static struct tm_buf b;
static size_t gtp_at;			/* where the GTP header starts */

/* outer Ethernet/IPv4/UDP 2152 -> 2152, the 8-byte GTP header whose length
 * field is glen, then the caller appends glen bytes */
static void gtp_hdr(uint8_t flags, uint8_t type, uint16_t glen, uint32_t teid)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.10", "192.0.2.20", 17, 8 + 8 + glen);
	tb_udp(&b, 2152, 2152, 8 + glen);
	gtp_at = b.n;
	tb_u8(&b, flags);
	tb_u8(&b, type);
	tb_be16(&b, glen);
	tb_be32(&b, teid);
}

static void inner_tcp4(void)
{
	tb_ipv4(&b, "10.45.0.2", "93.184.216.34", 6, 20);
	tb_tcp(&b, 40000, 443, 0x02);
}

static void inner_udp6(void)
{
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 5353, 53, 0);
}

static void test_gpdu_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	gtp_hdr(0x30, 255, 40, 0x11223344);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0800);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_GTP);
	assert_true(p->tunnels[0].ids & TM_TID_TEID);
	assert_int_equal(p->tunnels[0].teid, 0x11223344);
	assert_addr(&p->tunnels[0].src, "192.0.2.10");
	assert_addr(&p->tunnels[0].dst, "192.0.2.20");
	assert_addr(&p->src, "10.45.0.2");
	assert_addr(&p->dst, "93.184.216.34");
	assert_int_equal(p->proto, 6);
	assert_int_equal(p->dport, 443);
}

static void test_gpdu_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	gtp_hdr(0x30, 255, 48, 7);
	inner_udp6();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv6/udp");
	assert_int_equal(p->ethertype, 0x86dd);
	assert_addr(&p->src, "2001:db8::1");
	assert_int_equal(p->dport, 53);
}

static void test_sequence(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* S set: sequence, N-PDU, next type (ignored: E is clear) */
	gtp_hdr(0x32, 255, 4 + 40, 7);
	tb_be32(&b, 0x12340085);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->layers[4].offset, gtp_at + 12);
	/* PN alone adds the same 4 bytes */
	gtp_hdr(0x31, 255, 4 + 40, 7);
	tb_be32(&b, 0);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/tcp");
}

static void test_extensions(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* E: a PDU session container (1 word) then a 2-word header */
	gtp_hdr(0x34, 255, 4 + 4 + 8 + 40, 9);
	tb_be32(&b, 0x00000085);
	tb_be32(&b, 0x01000940);	/* len 1, content, next 0x40 */
	tb_be32(&b, 0x02aabbcc);	/* len 2 ... */
	tb_be32(&b, 0xddeeff00);	/* ... next 0: end */
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->layers[4].offset, gtp_at + 24);
	assert_int_equal(p->dport, 443);
}

static void test_other_messages(void **state)
{
	static const uint8_t types[] = { 1, 2, 26, 31, 254 };
	const struct tm_packet *p;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		gtp_hdr(0x32, types[i], 4 + 2, 0);
		tb_be32(&b, 0x00010000);
		tb_be16(&b, 0x0e00);	/* a Recovery IE, say */
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/udp/gtp");
		assert_no_events(p);
		assert_int_equal(p->n_tunnels, 0);
		assert_int_equal(p->dport, 2152);
	}
	/* a G-PDU with nothing in it */
	gtp_hdr(0x30, 255, 0, 5);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp");
	assert_no_events(p);
}

static void test_not_gtpu(void **state)
{
	/* version 2 (GTPv2-C), version 0, PT 0 (GTP'), version 4 (RTP) */
	static const uint8_t flags[] = { 0x48, 0x10, 0x20, 0x80 };
	const struct tm_packet *p;

	(void)state;

	for (size_t i = 0; i < sizeof(flags); i++) {
		gtp_hdr(flags[i], 255, 40, 7);
		inner_tcp4();
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/udp");
		assert_no_events(p);
		assert_int_equal(p->n_tunnels, 0);
		assert_int_equal(p->sport, 2152);
	}
}

static void test_bad_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* beyond the datagram */
	gtp_hdr(0x30, 255, 40, 7);
	inner_tcp4();
	b.b[gtp_at + 3] = 41;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.bad_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/gtp");
	/* below the optional fields the flags announce */
	gtp_hdr(0x32, 255, 3, 7);
	tb_zero(&b, 3);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.bad_length");
}

static void test_length_narrows(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the GTP length ends the inner packet before its IP length does */
	gtp_hdr(0x30, 255, 40, 7);
	inner_tcp4();
	b.b[gtp_at + 3] = 30;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv4.bad_total_length");
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4");
}

static void test_bad_ext_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an extension header of length 0 */
	gtp_hdr(0x34, 255, 4 + 4 + 40, 9);
	tb_be32(&b, 0x00000085);
	tb_be32(&b, 0x00000000);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.bad_ext_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* one longer than the message */
	gtp_hdr(0x34, 255, 4 + 8, 9);
	tb_be32(&b, 0x00000085);
	tb_be32(&b, 0x03000000);	/* 12 bytes announced, 8 left */
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.bad_ext_length");
	/* a next type announced where the message ends */
	gtp_hdr(0x34, 255, 4 + 4, 9);
	tb_be32(&b, 0x00000085);
	tb_be32(&b, 0x010000c0);	/* next 0xc0, then nothing */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.bad_ext_length");
	assert_layers(p, "eth/ipv4/udp/gtp");
}

static void test_too_many_exts(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* 16 one-word extension headers are fine ... */
	gtp_hdr(0x34, 255, 4 + 16 * 4 + 40, 9);
	tb_be32(&b, 0x00000085);
	for (int i = 0; i < 16; i++)
		tb_be32(&b, i < 15 ? 0x01000085 : 0x01000000);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/tcp");
	assert_no_events(p);
	/* ... 17 are not */
	gtp_hdr(0x34, 255, 4 + 17 * 4 + 40, 9);
	tb_be32(&b, 0x00000085);
	for (int i = 0; i < 17; i++)
		tb_be32(&b, i < 16 ? 0x01000085 : 0x01000000);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.too_many_exts");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_unknown_payload(void **state)
{
	const struct tm_packet *p;

	(void)state;
	gtp_hdr(0x30, 255, 14 + 40, 9);	/* an Ethernet PDU session */
	tb_eth(&b, 0x0800);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.unknown_payload");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/gtp");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].teid, 9);
}

static void test_gtp_in_gtp(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;

	(void)state;
	gtp_hdr(0x30, 255, 20 + 8 + 8 + 40, 1);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 17, 8 + 8 + 40);
	tb_udp(&b, 2152, 2152, 8 + 40);
	tb_u8(&b, 0x30);
	tb_u8(&b, 255);
	tb_be16(&b, 40);
	tb_be32(&b, 2);
	inner_tcp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/gtp/ipv4/udp/gtp/ipv4/tcp");
	assert_int_equal(p->n_tunnels, 2);
	assert_int_equal(p->tunnels[0].teid, 1);
	assert_int_equal(p->tunnels[1].teid, 2);
	assert_addr(&p->tunnels[1].src, "172.16.0.1");
	assert_int_equal(p->dport, 443);

	r->max_depth = 1;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	r->max_depth = saved;
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 1);
	assert_addr(&p->src, "172.16.0.1");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	gtp_hdr(0x30, 255, 0, 7);
	b.n -= 2;			/* a 6-byte "header" */
	b.b[14 + 3] -= 2;
	b.b[14 + 20 + 5] -= 2;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "gtp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	(void)state;
	gtp_hdr(0x34, 255, 4 + 4 + 8 + 40, 9);
	tb_be32(&b, 0x00000085);
	tb_be32(&b, 0x01000940);
	tb_be32(&b, 0x02aabbcc);
	tb_be32(&b, 0xddeeff00);
	inner_tcp4();
	tm_test_truncations_peek(b.b, b.n, LT_ETHERNET, "gtp", 1);
	gtp_hdr(0x30, 255, 48, 7);
	inner_udp6();
	tm_test_truncations_peek(b.b, b.n, LT_ETHERNET, "gtp", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpdu_ipv4),
		cmocka_unit_test(test_gpdu_ipv6),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_other_messages),
		cmocka_unit_test(test_not_gtpu),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_length_narrows),
		cmocka_unit_test(test_bad_ext_length),
		cmocka_unit_test(test_too_many_exts),
		cmocka_unit_test(test_unknown_payload),
		cmocka_unit_test(test_gtp_in_gtp),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
