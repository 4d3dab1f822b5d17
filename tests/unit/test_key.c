/* The normalized key (core/key.c): canonical endpoint order and direction,
 * ESP's one-way associations, ICMP identifiers, and the context (VLAN ids,
 * tunnel stack) under each context mask. */
#include <string.h>
#include "tm_test.h"

static struct tm_buf b;

/* Decoded views are copied out: tm_test_decode reuses one. */
static struct tm_packet decode_copy(void)
{
	return *tm_test_decode(b.b, b.n, LT_ETHERNET);
}

static struct tm_packet tcp_pkt(const char *src, const char *dst,
    uint16_t sport, uint16_t dport)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, src, dst, 6, 20);
	tb_tcp(&b, sport, dport, 0x10);
	return decode_copy();
}

static struct tm_packet udp6_pkt(const char *src, const char *dst,
    uint16_t sport, uint16_t dport)
{
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, src, dst, 17, 8);
	tb_udp(&b, sport, dport, 0);
	return decode_copy();
}

static struct tm_packet icmp_pkt(const char *src, const char *dst,
    uint8_t type, uint16_t id)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, src, dst, 1, 8);
	tb_u8(&b, type);
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be16(&b, id);
	tb_be16(&b, 1);
	return decode_copy();
}

static struct tm_packet esp_pkt(const char *src, const char *dst,
    uint32_t spi)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, src, dst, 50, 8);
	tb_be32(&b, spi);
	tb_be32(&b, 1);
	return decode_copy();
}

struct keyed {
	struct tm_key k;
	uint64_t h;
	int dir;
};

static struct keyed key_of(const struct tm_packet *p, unsigned mask)
{
	struct keyed r;

	tm_key_make(p, mask, &r.k, &r.dir);
	r.h = tm_key_hash(&r.k);
	return r;
}

static void test_tcp_both_directions(void **state)
{
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	a = tcp_pkt("192.0.2.9", "192.0.2.1", 50000, 443);
	z = tcp_pkt("192.0.2.1", "192.0.2.9", 443, 50000);
	ka = key_of(&a, TM_CTX_DEFAULT);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(ka.h, kz.h);
	assert_memory_equal(&ka.k, &kz.k, sizeof(ka.k));
	assert_int_not_equal(ka.dir, kz.dir);
	/* the smaller endpoint first */
	assert_int_equal(ka.k.addr_a[3], 1);
	assert_int_equal(ka.k.port_a, 443);
	assert_int_equal(ka.k.port_b, 50000);
	assert_int_equal(ka.k.proto, 6);
	assert_int_equal(ka.k.l3, TM_L3_IPV4);
	assert_int_equal(ka.dir, 1);	/* 192.0.2.9 -> 192.0.2.1 */
	assert_int_equal(kz.dir, 0);
}

static void test_same_address_ports_decide(void **state)
{
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	a = tcp_pkt("127.0.0.1", "127.0.0.1", 6000, 5000);
	z = tcp_pkt("127.0.0.1", "127.0.0.1", 5000, 6000);
	ka = key_of(&a, TM_CTX_DEFAULT);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(ka.h, kz.h);
	assert_int_not_equal(ka.dir, kz.dir);
	assert_int_equal(ka.k.port_a, 5000);
}

static void test_udp6_both_directions(void **state)
{
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	a = udp6_pkt("2001:db8::2", "2001:db8::1", 53, 33000);
	z = udp6_pkt("2001:db8::1", "2001:db8::2", 33000, 53);
	ka = key_of(&a, TM_CTX_DEFAULT);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(ka.h, kz.h);
	assert_int_not_equal(ka.dir, kz.dir);
	assert_int_equal(ka.k.fam_a, 6);
	assert_int_equal(ka.k.proto, 17);
}

static void test_different_flows_differ(void **state)
{
	struct tm_packet a, z;

	(void)state;
	a = tcp_pkt("192.0.2.1", "192.0.2.9", 443, 50000);
	z = tcp_pkt("192.0.2.1", "192.0.2.9", 443, 50001);
	assert_int_not_equal(key_of(&a, TM_CTX_DEFAULT).h,
	    key_of(&z, TM_CTX_DEFAULT).h);
	/* the same endpoints over UDP are another conversation */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.9", 17, 8);
	tb_udp(&b, 443, 50000, 0);
	z = decode_copy();
	a = tcp_pkt("192.0.2.1", "192.0.2.9", 443, 50000);
	assert_int_not_equal(key_of(&a, TM_CTX_DEFAULT).h,
	    key_of(&z, TM_CTX_DEFAULT).h);
}

static void test_esp_keeps_direction(void **state)
{
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	/* the larger address sends: its endpoints stay in packet order */
	a = esp_pkt("192.0.2.9", "192.0.2.1", 0x1000);
	ka = key_of(&a, TM_CTX_DEFAULT);
	assert_int_equal(ka.dir, 0);
	assert_int_equal(ka.k.addr_a[3], 9);
	assert_int_equal(ka.k.addr_b[3], 1);
	assert_int_equal(ka.k.spi, 0x1000);
	assert_int_equal(ka.k.proto, 50);
	/* the reverse association is another key */
	z = esp_pkt("192.0.2.1", "192.0.2.9", 0x2000);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(kz.dir, 0);
	assert_int_not_equal(ka.h, kz.h);
	/* and the same SPI the other way is yet another one */
	z = esp_pkt("192.0.2.1", "192.0.2.9", 0x1000);
	assert_int_not_equal(ka.h, key_of(&z, TM_CTX_DEFAULT).h);
}

static void test_icmp_echo_id(void **state)
{
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	a = icmp_pkt("192.0.2.9", "192.0.2.1", 8, 0x4242);
	z = icmp_pkt("192.0.2.1", "192.0.2.9", 0, 0x4242);
	ka = key_of(&a, TM_CTX_DEFAULT);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(ka.k.port_a, 0x4242);
	assert_int_equal(ka.k.port_b, 0x4242);
	assert_int_equal(ka.h, kz.h);
	assert_int_not_equal(ka.dir, kz.dir);
	assert_int_equal(ka.k.proto, 1);
	/* another identifier, another conversation */
	z = icmp_pkt("192.0.2.1", "192.0.2.9", 0, 0x4243);
	assert_int_not_equal(ka.h, key_of(&z, TM_CTX_DEFAULT).h);
}

static void test_arp_both_directions(void **state)
{
	static const uint8_t body[] = {
		0, 1, 8, 0, 6, 4, 0, 1,
		1, 1, 1, 1, 1, 1, 192, 0, 2, 9,
		0, 0, 0, 0, 0, 0, 192, 0, 2, 1,
	};
	struct tm_packet a, z;
	struct keyed ka, kz;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0806);
	tb_bytes(&b, body, sizeof(body));
	a = decode_copy();
	/* the reply: sender and target swapped, op 2 */
	memcpy(b.b + 14 + 14, body + 24, 4);
	memcpy(b.b + 14 + 24, body + 14, 4);
	b.b[14 + 7] = 2;
	z = decode_copy();
	assert_int_equal(a.l3, TM_L3_ARP);
	ka = key_of(&a, TM_CTX_DEFAULT);
	kz = key_of(&z, TM_CTX_DEFAULT);
	assert_int_equal(ka.h, kz.h);
	assert_int_not_equal(ka.dir, kz.dir);
	assert_int_equal(ka.k.l3, TM_L3_ARP);
}

static void test_vlan_context(void **state)
{
	struct tm_packet a, v100, v200, qinq;

	(void)state;
	a = tcp_pkt("10.0.0.1", "10.0.0.2", 1000, 80);
	v100 = a;
	v100.n_vlans = 1;
	v100.vlans[0] = 100;
	v200 = v100;
	v200.vlans[0] = 200;
	qinq = v100;
	qinq.n_vlans = 2;
	qinq.vlans[1] = 200;

	assert_int_equal(tm_context_hash(&a, TM_CTX_DEFAULT), 0);
	assert_int_not_equal(tm_context_hash(&v100, TM_CTX_DEFAULT),
	    tm_context_hash(&v200, TM_CTX_DEFAULT));
	assert_int_not_equal(key_of(&v100, TM_CTX_DEFAULT).k.ctx,
	    key_of(&v200, TM_CTX_DEFAULT).k.ctx);
	assert_int_not_equal(key_of(&v100, TM_CTX_DEFAULT).h,
	    key_of(&v200, TM_CTX_DEFAULT).h);
	assert_int_not_equal(key_of(&v100, TM_CTX_DEFAULT).h,
	    key_of(&a, TM_CTX_DEFAULT).h);
	assert_int_not_equal(key_of(&v100, TM_CTX_DEFAULT).h,
	    key_of(&qinq, TM_CTX_DEFAULT).h);
	/* VLANs masked out: one conversation */
	assert_int_equal(key_of(&v100, TM_CTX_TUNNEL).h,
	    key_of(&v200, TM_CTX_TUNNEL).h);
	assert_int_equal(key_of(&v100, TM_CTX_TUNNEL).h,
	    key_of(&a, TM_CTX_TUNNEL).h);
	assert_int_equal(key_of(&v100, 0).k.ctx, 0);
	assert_int_equal(key_of(&v100, 0).h, key_of(&v200, 0).h);
}

static struct tm_packet ipip_pkt(const char *osrc, const char *odst,
    const char *isrc, const char *idst, uint16_t sport, uint16_t dport)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, osrc, odst, 4, 20 + 8);
	tb_ipv4(&b, isrc, idst, 17, 8);
	tb_udp(&b, sport, dport, 0);
	return decode_copy();
}

static void test_tunnel_context(void **state)
{
	struct tm_packet t1, t1r, t2, k1, k2, plain;
	struct keyed a, z;

	(void)state;
	t1 = ipip_pkt("203.0.113.1", "203.0.113.2", "10.0.0.1", "10.0.0.2",
	    1000, 53);
	assert_int_equal(t1.n_tunnels, 1);
	/* the reply travels the tunnel the other way: same conversation */
	t1r = ipip_pkt("203.0.113.2", "203.0.113.1", "10.0.0.2", "10.0.0.1",
	    53, 1000);
	a = key_of(&t1, TM_CTX_DEFAULT);
	z = key_of(&t1r, TM_CTX_DEFAULT);
	assert_int_not_equal(a.k.ctx, 0);
	assert_int_equal(a.k.ctx, z.k.ctx);
	assert_int_equal(a.h, z.h);
	assert_int_not_equal(a.dir, z.dir);
	/* the same inner addresses in another tunnel: another one */
	t2 = ipip_pkt("203.0.113.1", "203.0.113.3", "10.0.0.1", "10.0.0.2",
	    1000, 53);
	assert_int_not_equal(key_of(&t2, TM_CTX_DEFAULT).k.ctx, a.k.ctx);
	assert_int_not_equal(key_of(&t2, TM_CTX_DEFAULT).h, a.h);
	/* and outside any tunnel, another again */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1000, 53, 0);
	plain = decode_copy();
	assert_int_not_equal(key_of(&plain, TM_CTX_DEFAULT).h, a.h);
	/* tunnel keys: a GRE key (set by hand) tells two tunnels apart */
	k1 = t1;
	k1.tunnels[0].type = TM_TUN_GRE;
	k1.tunnels[0].ids = TM_TID_KEY;
	k1.tunnels[0].key = 1;
	k2 = k1;
	k2.tunnels[0].key = 2;
	assert_int_not_equal(key_of(&k1, TM_CTX_DEFAULT).k.ctx,
	    key_of(&k2, TM_CTX_DEFAULT).k.ctx);
	assert_int_not_equal(key_of(&k1, TM_CTX_DEFAULT).h,
	    key_of(&k2, TM_CTX_DEFAULT).h);
	/* a key value that is not flagged present does not count */
	k2.tunnels[0].ids = 0;
	k1.tunnels[0].ids = 0;
	assert_int_equal(key_of(&k1, TM_CTX_DEFAULT).h,
	    key_of(&k2, TM_CTX_DEFAULT).h);
	/* tunnels masked out (or everything): one conversation */
	assert_int_equal(key_of(&t2, TM_CTX_VLAN).h,
	    key_of(&t1, TM_CTX_VLAN).h);
	assert_int_equal(key_of(&t2, TM_CTX_VLAN).h,
	    key_of(&plain, TM_CTX_VLAN).h);
	assert_int_equal(key_of(&t2, 0).h, key_of(&t1, 0).h);
	assert_int_equal(key_of(&t2, 0).k.ctx, 0);
	assert_int_equal(tm_context_hash(&t2, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_both_directions),
		cmocka_unit_test(test_same_address_ports_decide),
		cmocka_unit_test(test_udp6_both_directions),
		cmocka_unit_test(test_different_flows_differ),
		cmocka_unit_test(test_esp_keeps_direction),
		cmocka_unit_test(test_icmp_echo_id),
		cmocka_unit_test(test_arp_both_directions),
		cmocka_unit_test(test_vlan_context),
		cmocka_unit_test(test_tunnel_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
