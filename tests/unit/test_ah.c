/* AH dissector: transport and tunnel mode, AH+ESP, IPv6, the length field,
 * truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

/* AH with a 12-byte ICV: payload length 4 (24 bytes in all) */
static void ah(uint8_t nh, uint32_t spi)
{
	tb_u8(&b, nh);
	tb_u8(&b, 4);
	tb_be16(&b, 0);
	tb_be32(&b, spi);
	tb_be32(&b, 99);		/* sequence number */
	for (int i = 0; i < 12; i++)
		tb_u8(&b, 0xcc);
}

static void transport_tcp(void)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 51, 24 + 20);
	ah(6, 0x01020304);
	tb_tcp(&b, 40000, 22, 0x02);
}

static void test_transport(void **state)
{
	const struct tm_packet *p;

	(void)state;
	transport_tcp();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ah/tcp");
	assert_no_events(p);
	assert_int_equal(p->proto, 6);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0x01020304);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 22);
	assert_int_equal(p->n_tunnels, 0);
	assert_addr(&p->src, "192.0.2.1");
}

static void test_tunnel(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 51, 24 + 20 + 8);
	ah(4, 0xaabbccdd);
	tb_ipv4(&b, "10.1.1.1", "10.2.2.2", 1, 8);
	tb_u8(&b, 8);			/* ICMP echo request */
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be16(&b, 0x4242);
	tb_be16(&b, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ah/ipv4/icmp");
	assert_no_events(p);
	/* the inner IP layer pushed the tunnel; the SPI survived it */
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_IPIP);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.2");
	assert_addr(&p->src, "10.1.1.1");
	assert_addr(&p->dst, "10.2.2.2");
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0xaabbccdd);
	assert_int_equal(p->proto, 1);
	assert_int_equal(p->icmp_id, 0x4242);
}

static void test_ah_esp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 51, 24 + 16);
	ah(50, 0x1111);
	tb_be32(&b, 0x2222);		/* ESP SPI */
	tb_be32(&b, 1);
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ah/esp");
	assert_no_events(p);
	assert_int_equal(p->proto, 50);
	/* the innermost security association names the packet */
	assert_int_equal(p->spi, 0x2222);
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 51, 24 + 8);
	ah(17, 0x600d);
	tb_udp(&b, 5353, 5353, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/ah/udp");
	assert_no_events(p);
	assert_int_equal(p->proto, 17);
	assert_int_equal(p->spi, 0x600d);
	assert_int_equal(p->dport, 5353);
}

static void test_no_next_header(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 51, 24);
	ah(59, 0x7777);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/ah");
	assert_no_events(p);
	assert_int_equal(p->proto, 59);
	assert_int_equal(p->spi, 0x7777);
}

/* Payload length 0 (8 bytes) is below the 12 fixed bytes: recorded, and
 * the next header is looked for after 8 bytes, as tcpdump, tshark and Zeek
 * do (Zeek's ipv6_zero_len_ah trace has a valid ICMPv6 echo there). */
static void test_zero_length(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2000:1300::1", "2000:1300::2", 51, 8 + 8);
	tb_u8(&b, 58);
	tb_u8(&b, 0);			/* payload length 0 */
	tb_be16(&b, 0);
	tb_be32(&b, 0);			/* SPI */
	tb_u8(&b, 128);			/* ICMPv6 echo request */
	tb_u8(&b, 0);
	tb_be16(&b, 0xfae6);
	tb_be16(&b, 0);
	tb_be16(&b, 31);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ah.bad_length");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv6/ah/icmpv6");
	assert_int_equal(p->proto, 58);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(p->spi, 0);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* payload length 200 (808 bytes) in a 44-byte IP payload */
	transport_tcp();
	b.b[35] = 200;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "ah.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/ah");
	/* the fixed fields were there: the SPI is known */
	assert_int_equal(p->spi, 0x01020304);
	assert_int_equal(p->proto, 6);

	/* the IP packet ends inside the fixed fields, before the SPI */
	transport_tcp();
	b.b[17] = 20 + 6;
	p = tm_test_decode(b.b, 40, LT_ETHERNET);
	assert_event(p, "ah.too_short");
	assert_false(p->flags & TM_PF_HAS_SPI);
}

static void test_truncations(void **state)
{
	(void)state;
	transport_tcp();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 34, 34 + 24, "ah.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_tunnel),
		cmocka_unit_test(test_ah_esp),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_no_next_header),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
