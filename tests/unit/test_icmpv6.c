/* ICMPv6 dissector: echo identifiers, other messages, errors left
 * undecoded, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

static void icmp6(uint8_t type, uint8_t code, uint16_t id, size_t data)
{
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 58, 8 + data);
	tb_u8(&b, type);
	tb_u8(&b, code);
	tb_be16(&b, 0);
	tb_be16(&b, id);
	tb_be16(&b, 1);
	for (size_t i = 0; i < data; i++)
		tb_u8(&b, (uint8_t)i);
}

static void test_echo(void **state)
{
	const struct tm_packet *p;

	(void)state;
	icmp6(128, 0, 0xbeef, 32);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/icmpv6");
	assert_no_events(p);
	assert_int_equal(p->proto, 58);
	assert_int_equal(p->icmp_type, 128);
	assert_true(p->flags & TM_PF_HAS_ICMPID);
	assert_int_equal(p->icmp_id, 0xbeef);
	assert_true(p->flags & TM_PF_HAS_PAYLOAD);
	assert_int_equal(p->payload_len, 32);

	icmp6(129, 0, 0xbeef, 32);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->icmp_type, 129);
	assert_int_equal(p->icmp_id, 0xbeef);
}

static void test_neighbor_solicitation(void **state)
{
	const struct tm_packet *p;

	(void)state;
	icmp6(135, 0, 0, 16);		/* reserved, target address */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/icmpv6");
	assert_no_events(p);
	assert_int_equal(p->icmp_type, 135);
	assert_true(p->flags & TM_PF_HAS_ICMP);
	assert_false(p->flags & TM_PF_HAS_ICMPID);
}

static void test_error_not_decoded(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::fe", "2001:db8::1", 58, 8 + 40 + 8);
	tb_u8(&b, 2);			/* packet too big */
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 1280);		/* MTU */
	tb_ipv6(&b, "2001:db8::1", "2001:db8::99", 17, 8);
	tb_udp(&b, 1000, 2000, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/icmpv6");
	assert_no_events(p);
	assert_int_equal(p->icmp_type, 2);
	assert_false(p->flags & (TM_PF_HAS_PORTS | TM_PF_HAS_ICMPID));
	assert_int_equal(p->n_tunnels, 0);
	assert_addr(&p->src, "2001:db8::fe");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* type and code only */
	icmp6(135, 0, 0, 0);
	b.b[19] = 2;
	b.n -= 6;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "icmpv6.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->icmp_type, 135);
	/* an echo without its identifier */
	icmp6(128, 0, 5, 0);
	b.b[19] = 5;
	b.n -= 3;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "icmpv6.too_short");
	assert_false(p->flags & TM_PF_HAS_ICMPID);
}

static void test_truncations(void **state)
{
	(void)state;
	icmp6(128, 0, 1, 8);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 54, 62, "icmpv6.truncated");
	icmp6(1, 4, 0, 48);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 54, 58, "icmpv6.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_neighbor_solicitation),
		cmocka_unit_test(test_error_not_decoded),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
