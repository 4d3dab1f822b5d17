/* VXLAN-GPE: every next protocol, P clear, the I flag, a bad version, an
 * unknown next protocol, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

static void gpe_hdr(uint8_t flags, uint8_t np, uint32_t vni)
{
	tb_u8(&b, flags);
	tb_zero(&b, 2);
	tb_u8(&b, np);
	tb_u8(&b, (uint8_t)(vni >> 16));
	tb_u8(&b, (uint8_t)(vni >> 8));
	tb_u8(&b, (uint8_t)vni);
	tb_u8(&b, 0);
}

/* outer Ethernet/IPv4/UDP to 4790, the GPE header, inner_len more bytes */
static void outer(uint8_t flags, uint8_t np, uint32_t vni, size_t inner_len)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + 8 + inner_len);
	tb_udp(&b, 50000, 4790, 8 + inner_len);
	gpe_hdr(flags, np, vni);
}

static void inner_udp4(void)
{
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1000, 2000, 0);
}

static void test_ipv4(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 1, 0x123456, 28);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_VXLAN);
	assert_string_equal(p->tunnels[0].name, "vxlan-gpe");
	assert_int_equal(p->tunnels[0].vni, 0x123456);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->src, "10.0.0.1");
	assert_int_equal(p->dport, 2000);
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 2, 7, 48);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 17, 8);
	tb_udp(&b, 1000, 2000, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe/ipv6/udp");
	assert_addr(&p->dst, "2001:db8::2");
}

static void test_ethernet(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 3, 7, 14 + 28);
	tb_eth(&b, 0x0800);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe/eth/ipv4/udp");
	assert_int_equal(p->dport, 2000);

	/* P clear: Ethernet, whatever the next protocol byte says */
	outer(0x08, 1, 7, 14 + 28);
	tb_eth(&b, 0x0800);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe/eth/ipv4/udp");
}

static void test_nsh_mpls(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 4, 7, 8);		/* NSH: nobody decodes it (yet) */
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_string_equal(tm_test_layers(p), "eth/ipv4/udp/vxlan_gpe");
	assert_int_equal(p->ethertype, 0x894f);

	outer(0x0c, 5, 7, 4 + 28);	/* MPLS: handed on as 0x8847 */
	tb_be32(&b, (16u << 12) | 0x100u | 64u);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_true(p->n_layers >= 4);
	assert_true(strncmp(tm_test_layers(p), "eth/ipv4/udp/vxlan_gpe",
	    22) == 0);
	assert_int_equal(p->n_tunnels >= 1, 1);
	assert_string_equal(p->tunnels[0].name, "vxlan-gpe");
}

static void test_no_vni(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x04, 1, 7, 28);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vxlan_gpe.no_vni");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_false(p->tunnels[0].ids & TM_TID_VNI);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe/ipv4/udp");
}

static void test_bad_version(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x1c, 1, 7, 28);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vxlan_gpe.bad_version");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->n_tunnels, 0);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe");
}

static void test_unknown_next(void **state)
{
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 0x99, 7, 28);
	inner_udp4();
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vxlan_gpe.unknown_next_protocol");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe");
	assert_int_equal(p->n_tunnels, 1);
}

static void test_empty_and_depth(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;

	(void)state;
	outer(0x0c, 1, 7, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan_gpe");
	assert_no_events(p);

	outer(0x0c, 1, 7, 28);
	inner_udp4();
	r->max_depth = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	r->max_depth = saved;
	assert_event(p, "decode.depth_exceeded");
	assert_int_equal(p->n_tunnels, 0);
}

static void test_truncations(void **state)
{
	(void)state;
	outer(0x0c, 3, 7, 14 + 28);
	tb_eth(&b, 0x0800);
	inner_udp4();
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_nsh_mpls),
		cmocka_unit_test(test_no_vni),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_unknown_next),
		cmocka_unit_test(test_empty_and_depth),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
