/* ICMP dissector: identifier-carrying messages, errors left undecoded,
 * truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

static void icmp(uint8_t type, uint8_t code, uint16_t id, size_t data)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 1, 8 + data);
	tb_u8(&b, type);
	tb_u8(&b, code);
	tb_be16(&b, 0);			/* checksum */
	tb_be16(&b, id);
	tb_be16(&b, 1);			/* sequence */
	for (size_t i = 0; i < data; i++)
		tb_u8(&b, (uint8_t)i);
}

static void test_echo(void **state)
{
	const struct tm_packet *p;

	(void)state;
	icmp(8, 0, 0x1234, 56);
	tb_zero(&b, 4);			/* trailer */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/icmp");
	assert_no_events(p);
	assert_int_equal(p->proto, 1);
	assert_true(p->flags & TM_PF_HAS_ICMP);
	assert_int_equal(p->icmp_type, 8);
	assert_int_equal(p->icmp_code, 0);
	assert_true(p->flags & TM_PF_HAS_ICMPID);
	assert_int_equal(p->icmp_id, 0x1234);
	assert_false(p->flags & TM_PF_HAS_PORTS);
	/* the payload is the echo data, not the trailer */
	assert_true(p->flags & TM_PF_HAS_PAYLOAD);
	assert_int_equal(p->payload_off, 42);
	assert_int_equal(p->payload_len, 56);

	icmp(0, 0, 0x1234, 56);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->icmp_type, 0);
	assert_int_equal(p->icmp_id, 0x1234);
}

static void test_other_id_types(void **state)
{
	static const uint8_t types[] = { 13, 14, 15, 16, 17, 18 };
	const struct tm_packet *p;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		icmp(types[i], 0, (uint16_t)(100 + i), 12);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/icmp");
		assert_int_equal(p->icmp_type, types[i]);
		assert_true(p->flags & TM_PF_HAS_ICMPID);
		assert_int_equal(p->icmp_id, 100 + i);
	}
}

/* An error quotes the offending packet: it is not decoded, so the view
 * keeps this packet's endpoints and no ports or identifier. */
static void test_error_not_decoded(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "198.51.100.254", "192.0.2.1", 1, 8 + 20 + 8);
	tb_u8(&b, 3);			/* destination unreachable */
	tb_u8(&b, 3);			/* port unreachable */
	tb_be16(&b, 0);
	tb_be32(&b, 0);			/* unused */
	tb_ipv4(&b, "192.0.2.1", "203.0.113.5", 17, 8);
	tb_udp(&b, 33434, 53, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/icmp");
	assert_no_events(p);
	assert_int_equal(p->icmp_type, 3);
	assert_int_equal(p->icmp_code, 3);
	assert_false(p->flags & TM_PF_HAS_ICMPID);
	assert_false(p->flags & TM_PF_HAS_PORTS);
	assert_int_equal(p->n_tunnels, 0);
	assert_addr(&p->src, "198.51.100.254");
	assert_addr(&p->dst, "192.0.2.1");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a 4-byte ICMP message: type and code known, the rest missing */
	icmp(8, 0, 7, 0);
	b.b[17] = 20 + 4;
	b.n -= 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "icmp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->icmp_type, 8);
	assert_false(p->flags & TM_PF_HAS_ICMPID);

	icmp(11, 0, 0, 0);		/* time exceeded, 6 bytes */
	b.b[17] = 20 + 6;
	b.n -= 2;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "icmp.too_short");
	assert_int_equal(p->icmp_type, 11);
}

static void test_truncations(void **state)
{
	(void)state;
	icmp(8, 0, 0x1234, 16);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 34, 42, "icmp.truncated");
	icmp(3, 1, 0, 28);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 34, 42, "icmp.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_other_id_types),
		cmocka_unit_test(test_error_not_decoded),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
