/* Linux cooked capture v2: ethertypes, ARPHRD_IPGRE, the ETH_P_* pseudo
 * protocols, frames without an ethertype, truncation. */
#include <string.h>
#include "tm_test.h"

#define LT_SLL 276

static struct tm_buf b;

static void sll_hdr(uint16_t hatype, uint16_t proto)
{
	static const uint8_t mac[8] = { 0, 1, 2, 3, 4, 5, 0, 0 };

	tb_reset(&b);
	tb_be16(&b, proto);
	tb_be16(&b, 0);			/* reserved */
	tb_be32(&b, 3);			/* interface index */
	tb_be16(&b, hatype);
	tb_u8(&b, 0);			/* to us */
	tb_u8(&b, 6);
	tb_bytes(&b, mac, 8);
}

static void udp4(void)
{
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0);
}

static void test_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	sll_hdr(1, 0x0800);		/* ARPHRD_ETHER */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->ethertype, 0x0800);
	assert_addr(&p->src, "192.0.2.1");
	assert_int_equal(p->dport, 53);
}

static void test_ipv6_and_vlan(void **state)
{
	const struct tm_packet *p;

	(void)state;
	sll_hdr(65534, 0x86dd);		/* ARPHRD_NONE (a tun device) */
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 5000, 6000, 0);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/ipv6/udp");
	assert_addr(&p->dst, "2001:db8::2");

	sll_hdr(1, 0x8100);
	tb_be16(&b, 77);
	tb_be16(&b, 0x0800);
	udp4();
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/vlan/ipv4/udp");
	assert_int_equal(p->vlans[0], 77);
}

static void test_ipgre(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* ARPHRD_IPGRE: the protocol is a GRE protocol type */
	sll_hdr(778, 0x6558);		/* Transparent Ethernet Bridging */
	tb_eth(&b, 0x0800);
	udp4();
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/eth/ipv4/udp");
	assert_int_equal(p->dport, 53);

	sll_hdr(778, 0x0800);		/* falls back to the ethertype */
	udp4();
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/ipv4/udp");
}

static void test_no_ethertype(void **state)
{
	static const uint16_t hatypes[] = { 770, 803, 824 };
	const struct tm_packet *p;

	(void)state;
	/* Frame Relay, radiotap, netlink: the field is no ethertype */
	for (size_t i = 0; i < 3; i++) {
		sll_hdr(hatypes[i], 0x0800);
		udp4();
		p = tm_test_decode(b.b, b.n, LT_SLL);
		assert_layers(p, "sll2");
		assert_no_events(p);
		assert_int_equal(p->l3, TM_L3_NONE);
	}
}

static void test_pseudo_protocols(void **state)
{
	static const uint8_t snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0 };
	static const uint8_t stp[4] = { 0x42, 0x42, 0x03, 0 };
	static const uint8_t cisco[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20,
		0 };
	const struct tm_packet *p;

	(void)state;
	sll_hdr(1, 0x0001);		/* Novell 802.3 (raw IPX) */
	tb_be32(&b, 0xffff0000);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2");
	assert_no_events(p);

	sll_hdr(280, 0x000c);		/* CAN */
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2");
	assert_no_events(p);

	sll_hdr(1, 0x0004);		/* 802.2 LLC with SNAP */
	tb_bytes(&b, snap, 8);
	udp4();
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2/ipv4/udp");
	assert_int_equal(p->dport, 53);

	sll_hdr(1, 0x0004);		/* 802.2 LLC: STP */
	tb_bytes(&b, stp, 4);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2");
	assert_no_events(p);

	sll_hdr(1, 0x0004);		/* a vendor's SNAP (Cisco CDP) */
	tb_bytes(&b, cisco, 8);
	tb_be32(&b, 0);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_layers(p, "sll2");
	assert_no_events(p);

	/* an LLC header cut short on the wire */
	sll_hdr(1, 0x0004);
	tb_bytes(&b, snap, 2);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_event(p, "sll2.too_short");
	sll_hdr(1, 0x0004);
	tb_bytes(&b, snap, 6);
	p = tm_test_decode(b.b, b.n, LT_SLL);
	assert_event(p, "sll2.too_short");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	sll_hdr(1, 0x0800);
	p = tm_test_decode_cut(b.b, 16, 16, LT_SLL);
	assert_event(p, "sll2.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_truncations(void **state)
{
	static const uint8_t snap[8] = { 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0 };

	(void)state;
	sll_hdr(1, 0x0800);
	udp4();
	tm_test_truncations(b.b, b.n, LT_SLL);
	sll_hdr(1, 0x0004);
	tb_bytes(&b, snap, 8);
	udp4();
	tm_test_truncations(b.b, b.n, LT_SLL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_and_vlan),
		cmocka_unit_test(test_ipgre),
		cmocka_unit_test(test_no_ethertype),
		cmocka_unit_test(test_pseudo_protocols),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
