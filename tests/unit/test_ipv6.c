/* IPv6 dissector: a normal packet, extension headers, fragments,
 * jumbograms, IP-in-IP, every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

#define IP6 14			/* where the IPv6 header starts */
#define PLEN (IP6 + 4)		/* its payload length field */

static void set_plen(size_t plen)
{
	b.b[PLEN] = (uint8_t)(plen >> 8);
	b.b[PLEN + 1] = (uint8_t)plen;
}

static void udp6(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8:1::2", 17, 8 + 4);
	tb_udp(&b, 5000, 53, 4);
	tb_be32(&b, 0xdeadbeef);
}

/* An options header (hop-by-hop, destination options: PadN) or a
 * type-0-free routing header of 8 * (1 + ext) bytes. */
static void opt_hdr(uint8_t nh, uint8_t ext)
{
	tb_u8(&b, nh);
	tb_u8(&b, ext);
	tb_u8(&b, 1);			/* PadN */
	tb_u8(&b, (uint8_t)(4 + ext * 8));
	tb_zero(&b, 4 + (size_t)ext * 8);
}

static void frag_hdr(uint8_t nh, uint16_t offset, int more)
{
	tb_u8(&b, nh);
	tb_u8(&b, 0);
	tb_be16(&b, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	tb_be32(&b, 0xcafe);
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp6();
	tb_zero(&b, 6);			/* trailer: not part of IPv6 */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV6);
	assert_int_equal(p->ethertype, 0x86dd);
	assert_addr(&p->src, "2001:db8::1");
	assert_addr(&p->dst, "2001:db8:1::2");
	assert_addr(&p->outer_src, "2001:db8::1");
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->sport, 5000);
	assert_int_equal(p->dport, 53);
	assert_int_equal(p->payload_len, 4);
	assert_false(p->flags & TM_PF_FRAGMENT);
}

static void test_extension_headers(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 0, 8 + 16 + 8 + 20);
	opt_hdr(43, 0);			/* hop-by-hop */
	opt_hdr(60, 1);			/* routing (16 bytes) */
	opt_hdr(6, 0);			/* destination options */
	tb_tcp(&b, 443, 50000, 0x12);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/tcp");
	assert_no_events(p);
	assert_int_equal(p->proto, 6);
	assert_int_equal(p->sport, 443);
	assert_int_equal(p->layers[2].offset, 14 + 40 + 32);
}

static void test_no_next_header(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 60, 8);
	opt_hdr(59, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6");
	assert_no_events(p);
	assert_int_equal(p->proto, 59);
}

static void test_fragments(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* first fragment: the transport header is there */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 8 + 8);
	frag_hdr(17, 0, 1);
	tb_udp(&b, 1234, 4321, 8);	/* the datagram is longer */
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/udp");
	assert_true(p->flags & TM_PF_FRAGMENT);
	assert_false(p->flags & TM_PF_LATER_FRAG);
	assert_int_equal(p->dport, 4321);

	/* a later fragment: protocol known, ports not */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 16);
	frag_hdr(17, 2, 0);
	tb_zero(&b, 16);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6");
	assert_no_events(p);
	assert_true(p->flags & TM_PF_FRAGMENT);
	assert_true(p->flags & TM_PF_LATER_FRAG);
	assert_int_equal(p->proto, 17);
	assert_false(p->flags & TM_PF_HAS_PORTS);

	/* an atomic fragment (offset 0, no more): a whole datagram, not a
	 * fragment (RFC 6946) */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 8);
	frag_hdr(17, 0, 0);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/udp");
	assert_false(p->flags & TM_PF_FRAGMENT);
}

/* After a first fragment's header the datagram goes on in the next
 * fragment: lengths that reach beyond this one are no violation. */
static void test_first_fragment_partial(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a destination options header cut by the end of the fragment */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 8);
	frag_hdr(60, 0, 1);
	opt_hdr(17, 3);			/* 32 bytes, 8 of them here */
	b.n -= 24;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_true(p->flags & TM_PF_FRAGMENT);
	/* the same header in an unfragmented packet is a violation */
	b.b[IP6 + 6] = 60;
	b.b[IP6 + 40] = 17;
	memmove(b.b + IP6 + 40, b.b + IP6 + 48, 8);
	b.n -= 8;
	set_plen(8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_exthdr");

	/* a TCP header cut by the end of the fragment */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 8 + 16);
	frag_hdr(6, 0, 1);
	tb_tcp(&b, 1000, 80, 0x02);
	b.n -= 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/tcp");
	assert_event(p, "tcp.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1000);
}

static void test_jumbogram(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* RFC 2675: payload length 0, a hop-by-hop header with the Jumbo
	 * Payload option, and UDP with length 0 */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 0, 0);
	tb_u8(&b, 17);
	tb_u8(&b, 0);
	tb_u8(&b, 0xc2);		/* Jumbo Payload */
	tb_u8(&b, 4);
	tb_be32(&b, 8 + 8 + 4);
	tb_udp(&b, 7000, 7001, 4);
	b.b[b.n - 4] = b.b[b.n - 3] = 0;	/* UDP length 0 */
	tb_be32(&b, 0x01020304);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.jumbogram");
	assert_event(p, "udp.zero_length");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv6/udp");
	assert_int_equal(p->sport, 7000);
	assert_int_equal(p->payload_len, 4);
}

static void test_ipip(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* 6in6 */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::a", "2001:db8::b", 41, 40 + 8);
	tb_ipv6(&b, "fd00::1", "fd00::2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/ipv6/udp");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_IPIP);
	assert_addr(&p->tunnels[0].src, "2001:db8::a");
	assert_addr(&p->tunnels[0].dst, "2001:db8::b");
	assert_addr(&p->src, "fd00::1");
	assert_addr(&p->outer_src, "2001:db8::a");

	/* 4in6 */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::a", "2001:db8::b", 4, 20 + 8);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/ipv4/udp");
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->tunnels[0].src, "2001:db8::a");

	/* 6in4 */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 41, 40 + 8);
	tb_ipv6(&b, "2002:c000:201::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ipv6/udp");
	assert_addr(&p->tunnels[0].src, "192.0.2.1");
	assert_addr(&p->src, "2002:c000:201::1");
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp6();
	b.b[IP6] = 0x40;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv6");
	assert_int_equal(p->l3, TM_L3_NONE);
}

static void test_bad_payload_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp6();
	set_plen(13);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_payload_length");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* the addresses came first */
	assert_addr(&p->src, "2001:db8::1");
}

static void test_bad_exthdr(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an options header longer than the payload */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 60, 16);
	opt_hdr(17, 1);
	set_plen(8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_exthdr");
	assert_true(p->flags & TM_PF_MALFORMED);

	/* one byte of options header left in the payload */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 0, 1);
	tb_u8(&b, 17);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_exthdr");

	/* a fragment header cut by the payload length */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 44, 6);
	frag_hdr(17, 0, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.bad_exthdr");
}

static void test_too_many_exthdrs(void **state)
{
	const struct tm_packet *p;
	int i;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 60, 17 * 8 + 8);
	for (i = 0; i < 17; i++)
		opt_hdr(i < 16 ? 60 : 17, 0);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.too_many_exthdrs");
	assert_true(p->flags & TM_PF_MALFORMED);

	/* sixteen are fine */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 60, 16 * 8 + 8);
	for (i = 0; i < 16; i++)
		opt_hdr(i < 15 ? 60 : 17, 0);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_layers(p, "eth/ipv6/udp");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	udp6();
	/* a 30-byte IPv6 header on the wire */
	p = tm_test_decode_cut(b.b, 44, 44, LT_ETHERNET);
	assert_event(p, "ipv6.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* cut before the addresses: still an IPv6 packet */
	assert_int_equal(p->l3, TM_L3_IPV6);
	assert_int_equal(p->src.family, 0);
	p = tm_test_decode_cut(b.b, 44, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->l3, TM_L3_IPV6);
}

static void test_truncated_inner(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an inner IPv6 header cut before its addresses keeps the outer
	 * endpoints: the packet is still keyed by what is known */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 41, 40 + 8);
	tb_ipv6(&b, "fd00::1", "fd00::2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode_cut(b.b, 34 + 20, b.n, LT_ETHERNET);
	assert_event(p, "ipv6.truncated");
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->src, "192.0.2.1");
	assert_int_equal(p->proto, 41);
}

static void test_truncations(void **state)
{
	(void)state;
	udp6();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 0, 8 + 16 + 8 + 8 + 8);
	opt_hdr(43, 0);
	opt_hdr(44, 1);
	frag_hdr(60, 0, 1);
	opt_hdr(17, 0);
	tb_udp(&b, 9, 10, 0);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_extension_headers),
		cmocka_unit_test(test_no_next_header),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_first_fragment_partial),
		cmocka_unit_test(test_jumbogram),
		cmocka_unit_test(test_ipip),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_payload_length),
		cmocka_unit_test(test_bad_exthdr),
		cmocka_unit_test(test_too_many_exthdrs),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncated_inner),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
