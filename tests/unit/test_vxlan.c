/* VXLAN: the VNI, either port side, the I flag, an empty payload, the depth
 * limit, another port by --bind, truncation. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

#define INNER_LEN (14 + 20 + 20)	/* eth + ipv4 + tcp */

static void vxlan_hdr(uint8_t flags, uint32_t vni)
{
	tb_u8(&b, flags);
	tb_zero(&b, 3);
	tb_u8(&b, (uint8_t)(vni >> 16));
	tb_u8(&b, (uint8_t)(vni >> 8));
	tb_u8(&b, (uint8_t)vni);
	tb_u8(&b, 0);
}

static void vxlan_packet(uint16_t sport, uint16_t dport, uint8_t flags,
    uint32_t vni)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + 8 + INNER_LEN);
	tb_udp(&b, sport, dport, 8 + INNER_LEN);
	vxlan_hdr(flags, vni);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 6, 20);
	tb_tcp(&b, 40000, 80, 0x02);
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	vxlan_packet(51000, 4789, 0x08, 0xabcdef);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].type, TM_TUN_VXLAN);
	assert_true(p->tunnels[0].ids & TM_TID_VNI);
	assert_int_equal(p->tunnels[0].vni, 0xabcdef);
	assert_addr(&p->tunnels[0].src, "203.0.113.1");
	assert_addr(&p->tunnels[0].dst, "203.0.113.2");
	assert_addr(&p->outer_src, "203.0.113.1");
	assert_addr(&p->src, "10.0.0.1");
	assert_addr(&p->dst, "10.0.0.2");
	assert_int_equal(p->proto, 6);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 80);

	/* the reply: 4789 is the source port */
	vxlan_packet(4789, 51000, 0x08, 1);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
	assert_int_equal(p->tunnels[0].vni, 1);
	/* and with a lower port on the other side */
	vxlan_packet(4789, 53, 0x08, 2);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
}

static void test_no_vni(void **state)
{
	const struct tm_packet *p;

	(void)state;
	vxlan_packet(51000, 4789, 0x00, 77);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vxlan.no_vni");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
	assert_int_equal(p->n_tunnels, 1);
	assert_false(p->tunnels[0].ids & TM_TID_VNI);
	assert_int_equal(p->dport, 80);
}

static void test_empty_payload(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + 8);
	tb_udp(&b, 51000, 4789, 8);
	vxlan_hdr(0x08, 5);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 1);
	assert_int_equal(p->tunnels[0].vni, 5);
}

static void test_depth_limit(void **state)
{
	struct tm_registry *r = tm_test_registry();
	const struct tm_packet *p;
	unsigned saved = r->max_depth;

	(void)state;
	vxlan_packet(51000, 4789, 0x08, 9);
	r->max_depth = 0;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	r->max_depth = saved;
	assert_event(p, "decode.depth_exceeded");
	assert_layers(p, "eth/ipv4/udp/vxlan");
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->dport, 4789);	/* the outer key stays */
}

static void test_bind_other_port(void **state)
{
	char err[256];
	const struct tm_packet *p;

	(void)state;
	vxlan_packet(51000, 8472, 0x08, 42);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");	/* 8472 is nobody's */
	/* what `tm decode --bind vxlan=udp.port:8472` does */
	assert_int_equal(tm_registry_bind(tm_test_registry(), "vxlan",
	    "udp.port", "8472", err, sizeof(err)), 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
	assert_int_equal(p->tunnels[0].vni, 42);
	assert_int_equal(p->dport, 80);
	/* 4789 still works */
	vxlan_packet(51000, 4789, 0x08, 43);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/tcp");
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 17, 8 + 5);
	tb_udp(&b, 51000, 4789, 5);
	vxlan_hdr(0x08, 5);
	b.n -= 3;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "vxlan.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->n_tunnels, 0);
}

static void test_truncations(void **state)
{
	(void)state;
	vxlan_packet(51000, 4789, 0x08, 0xabcdef);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_no_vni),
		cmocka_unit_test(test_empty_payload),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bind_other_port),	/* last: it binds */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
