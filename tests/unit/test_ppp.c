/* PPP dissector: HDLC-like framing, protocol field compression, the
 * linktypes and PPTP, every malformed branch, truncation. */
#include <string.h>
#include "tm_test.h"

#define LT_PPP 9
#define LT_PPP_HDLC 50

static struct tm_buf b;

static void ipv4_udp(void)
{
	tb_ipv4(&b, "10.2.0.1", "10.2.0.2", 17, 8 + 2);
	tb_udp(&b, 3000, 4000, 2);
	tb_be16(&b, 0xabcd);
}

/* PPP with address/control and a two-byte protocol */
static void full_packet(uint16_t proto)
{
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, proto);
	ipv4_udp();
}

static void test_hdlc_framing(void **state)
{
	const struct tm_packet *p;

	(void)state;
	full_packet(0x0021);
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->src, "10.2.0.1");
	assert_int_equal(p->dport, 4000);
	assert_int_equal(p->n_tunnels, 0);
	p = tm_test_decode(b.b, b.n, LT_PPP_HDLC);
	assert_layers(p, "ppp/ipv4/udp");
}

static void test_compressed_fields(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* no address/control, one-byte protocol */
	tb_reset(&b);
	tb_u8(&b, 0x21);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/ipv4/udp");
	assert_no_events(p);
	/* address/control, one-byte protocol */
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_u8(&b, 0x21);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/ipv4/udp");
	/* no address/control, two-byte protocol */
	tb_reset(&b);
	tb_be16(&b, 0x0021);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/ipv4/udp");
	assert_addr(&p->dst, "10.2.0.2");
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0057);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 546, 547, 0);
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/ipv6/udp");
	assert_int_equal(p->l3, TM_L3_IPV6);
	assert_int_equal(p->dport, 547);
}

static void test_mpls(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0x0281);
	tb_be32(&b, (1000u << 12) | 0x100u | 64u);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp/mpls/ipv4/udp");
	assert_int_equal(p->tunnels[0].label, 1000);
}

static void test_control_protocol(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_be16(&b, 0xff03);
	tb_be16(&b, 0xc021);		/* LCP echo request */
	tb_be32(&b, 0x09010008);
	tb_be32(&b, 0x12345678);
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp");
	assert_no_events(p);
	assert_int_equal(p->l3, TM_L3_NONE);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_cisco_hdlc(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_u8(&b, 0x0f);
	tb_u8(&b, 0x00);
	tb_be16(&b, 0x0800);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_PPP_HDLC);
	assert_layers(p, "ppp/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0800);
	assert_addr(&p->src, "10.2.0.1");
	tm_test_truncations(b.b, b.n, LT_PPP_HDLC);
	/* on LINKTYPE_PPP, 0x0F is a compressed protocol, not Cisco HDLC */
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_layers(p, "ppp");
}

static void test_pptp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "198.51.100.1", "198.51.100.2", 47, 12 + 3 + 20 + 10);
	tb_be16(&b, 0x3001);
	tb_be16(&b, 0x880b);
	tb_be16(&b, 3 + 20 + 10);
	tb_be16(&b, 7);
	tb_be32(&b, 1);
	tb_be16(&b, 0xff03);
	tb_u8(&b, 0x21);
	ipv4_udp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/ppp/ipv4/udp");
	assert_no_events(p);
	assert_addr(&p->src, "10.2.0.1");
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

static void test_bad_control(void **state)
{
	const struct tm_packet *p;

	(void)state;
	full_packet(0x0021);
	b.b[1] = 0x05;
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_event(p, "ppp.bad_control");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "ppp");
}

static void test_bad_protocol(void **state)
{
	const struct tm_packet *p;

	(void)state;
	full_packet(0x0020);		/* even low byte */
	p = tm_test_decode(b.b, b.n, LT_PPP);
	assert_event(p, "ppp.bad_protocol");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;
	static const uint8_t ff[1] = { 0xff };
	static const uint8_t half[3] = { 0xff, 0x03, 0x00 };

	(void)state;
	p = tm_test_decode(ff, 1, LT_PPP);
	assert_event(p, "ppp.too_short");
	p = tm_test_decode(half, 3, LT_PPP);
	assert_event(p, "ppp.too_short");
	p = tm_test_decode_cut(half, 3, 40, LT_PPP);
	assert_event(p, "ppp.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	(void)state;
	full_packet(0x0021);
	tm_test_truncations(b.b, b.n, LT_PPP);
	tb_reset(&b);
	tb_u8(&b, 0x21);
	ipv4_udp();
	tm_test_truncations(b.b, b.n, LT_PPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdlc_framing),
		cmocka_unit_test(test_compressed_fields),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_control_protocol),
		cmocka_unit_test(test_cisco_hdlc),
		cmocka_unit_test(test_pptp),
		cmocka_unit_test(test_bad_control),
		cmocka_unit_test(test_bad_protocol),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
