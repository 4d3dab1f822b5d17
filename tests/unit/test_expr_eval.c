/*
 * The expression evaluator on packets decoded by the build's dissectors:
 * every predicate, the inner/outer/any scopes on tunnelled packets, VLAN
 * tags at any depth, precedence, and Kleene's logic for connection-level
 * predicates (no connection, application not known yet, nDPI final).
 */
#include <string.h>

#include "../../query/expr.h"
#include "tm_test.h"

#define T TM_EXPR_TRUE
#define F TM_EXPR_FALSE
#define U TM_EXPR_UNKNOWN

static struct tm_buf b;

/* Copies of decoded views: tm_test_decode reuses its buffer. */
static struct tm_packet p_udp, p_tcp6, p_arp, p_icmp, p_esp, p_gre, p_vxlan,
    p_nested, p_gtp;

static enum tm_expr_result ev(const struct tm_packet *pkt,
    const struct tm_expr_conn *conn, const char *text)
{
	struct tm_expr_error err;
	struct tm_expr *e = tm_expr_compile(text, NULL, &err);
	enum tm_expr_result r;

	if (!e)
		fail_msg("'%s': %s", text, err.msg);
	r = tm_expr_eval(e, pkt, conn);
	tm_expr_free(e);
	return r;
}

#define expect(pkt, conn, text, want) do {				\
	enum tm_expr_result r_ = ev((pkt), (conn), (text));		\
	if (r_ != (want))						\
		fail_msg("'%s' on %s: got %d, want %d", (text),		\
		    tm_test_layers(pkt), r_, (want));			\
} while (0)

static void decode_into(struct tm_packet *dst, const char *layers)
{
	const struct tm_packet *p = tm_test_decode(b.b, b.n, LT_ETHERNET);

	assert_layers(p, layers);
	*dst = *p;
}

static void vlan_tag(uint16_t tpid_after_tag, uint16_t vid)
{
	tb_be16(&b, vid);
	tb_be16(&b, tpid_after_tag);
}

static int setup(void **state)
{
	(void)state;
	/* 192.0.2.1:1234 -> 198.51.100.2:53 UDP */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "198.51.100.2", 17, 8 + 4);
	tb_udp(&b, 1234, 53, 4);
	tb_be32(&b, 0);
	decode_into(&p_udp, "eth/ipv4/udp");

	/* [2001:db8::1]:40000 -> [2001:db8::2]:443 TCP */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 6, 20);
	tb_tcp(&b, 40000, 443, 0x02);
	decode_into(&p_tcp6, "eth/ipv6/tcp");

	/* ARP request 10.0.0.1 -> 10.0.0.2 */
	tb_reset(&b);
	tb_eth(&b, 0x0806);
	tb_arp_request(&b);
	decode_into(&p_arp, "eth/arp");

	/* ICMP echo request */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.9", 1, 8);
	tb_u8(&b, 8);
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0x00070001);
	decode_into(&p_icmp, "eth/ipv4/icmp");

	/* ESP SPI 0x1234 */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 50, 16);
	tb_be32(&b, 0x1234);
	tb_be32(&b, 1);
	tb_zero(&b, 8);
	decode_into(&p_esp, "eth/ipv4/esp");

	/* GRE key 0x01020304 203.0.113.1 -> .2 carrying
	 * 10.0.0.1:5000 -> 10.0.0.2:53 UDP */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 47, 8 + 20 + 8);
	tb_be16(&b, 0x2000);		/* K */
	tb_be16(&b, 0x0800);
	tb_be32(&b, 0x01020304);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 5000, 53, 0);
	decode_into(&p_gre, "eth/ipv4/gre/ipv4/udp");

	/* VLAN 10 / IPv4 192.0.2.1:40000 -> 192.0.2.2:4789 / VXLAN VNI 100 /
	 * Ethernet / VLAN 300 / IPv4 10.1.0.1:1111 -> 10.1.0.2:80 TCP */
	tb_reset(&b);
	tb_eth(&b, 0x8100);
	vlan_tag(0x0800, 10);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 8 + 18 + 20 + 20);
	tb_udp(&b, 40000, 4789, 8 + 18 + 20 + 20);
	tb_be32(&b, 0x08000000);
	tb_be32(&b, 100u << 8);
	tb_eth(&b, 0x8100);
	vlan_tag(0x0800, 300);
	tb_ipv4(&b, "10.1.0.1", "10.1.0.2", 6, 20);
	tb_tcp(&b, 1111, 80, 0x02);
	decode_into(&p_vxlan, "eth/vlan/ipv4/udp/vxlan/eth/vlan/ipv4/tcp");

	/* three IP layers: VXLAN 192.0.2.1 -> 192.0.2.2, inside it GRE
	 * 172.16.0.1 -> 172.16.0.2, inside that 10.2.0.1 -> 10.2.0.2 ICMP */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 8 + 14 + 20 + 4 + 20 + 8);
	tb_udp(&b, 40000, 4789, 8 + 14 + 20 + 4 + 20 + 8);
	tb_be32(&b, 0x08000000);
	tb_be32(&b, 7u << 8);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "172.16.0.1", "172.16.0.2", 47, 4 + 20 + 8);
	tb_be16(&b, 0);
	tb_be16(&b, 0x0800);
	tb_ipv4(&b, "10.2.0.1", "10.2.0.2", 1, 8);
	tb_u8(&b, 8);
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0);
	decode_into(&p_nested, "eth/ipv4/udp/vxlan/eth/ipv4/gre/ipv4/icmp");

	/* GTP-U TEID 0xabcdef carrying 10.45.0.2:40000 -> 93.184.216.34:443 */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.10", "192.0.2.20", 17, 8 + 8 + 40);
	tb_udp(&b, 2152, 2152, 8 + 40);
	tb_u8(&b, 0x30);
	tb_u8(&b, 0xff);
	tb_be16(&b, 40);
	tb_be32(&b, 0xabcdef);
	tb_ipv4(&b, "10.45.0.2", "93.184.216.34", 6, 20);
	tb_tcp(&b, 40000, 443, 0x02);
	decode_into(&p_gtp, "eth/ipv4/udp/gtp/ipv4/tcp");
	return 0;
}

static void test_host_net(void **state)
{
	(void)state;
	expect(&p_udp, NULL, "host 192.0.2.1", T);
	expect(&p_udp, NULL, "host 198.51.100.2", T);
	expect(&p_udp, NULL, "host 192.0.2.2", F);
	expect(&p_udp, NULL, "src host 192.0.2.1", T);
	expect(&p_udp, NULL, "dst host 192.0.2.1", F);
	expect(&p_udp, NULL, "src and dst host 192.0.2.1", F);
	expect(&p_udp, NULL, "src and dst net 0.0.0.0/0", T);
	expect(&p_udp, NULL, "net 198.51.100.0/24", T);
	expect(&p_udp, NULL, "dst net 198.51.100.0/24", T);
	expect(&p_udp, NULL, "src net 198.51.100.0/24", F);
	expect(&p_udp, NULL, "net 10.0.0.0/8", F);
	expect(&p_udp, NULL, "net 192.0.2.0/31", T);
	expect(&p_udp, NULL, "net 192.0.2.2/31", F);
	expect(&p_udp, NULL, "net 0.0.0.0/0", T);
	expect(&p_udp, NULL, "net ::/0", F);
	expect(&p_udp, NULL, "host ::ffff:192.0.2.1", F);
	expect(&p_udp, NULL, "src 192.0.2.1", T);
	expect(&p_tcp6, NULL, "host 2001:db8::1", T);
	expect(&p_tcp6, NULL, "dst host 2001:db8::2", T);
	expect(&p_tcp6, NULL, "net 2001:db8::/32", T);
	expect(&p_tcp6, NULL, "net 2001:db9::/32", F);
	expect(&p_tcp6, NULL, "net 2001:db8::/127", T);
	expect(&p_tcp6, NULL, "src net 2001:db8::2/128", F);
	expect(&p_tcp6, NULL, "net 0.0.0.0/0", F);
	/* ARP's protocol addresses */
	expect(&p_arp, NULL, "host 10.0.0.1", T);
	expect(&p_arp, NULL, "src host 10.0.0.1", T);
	expect(&p_arp, NULL, "dst host 10.0.0.2", T);
	expect(&p_arp, NULL, "dst host 10.0.0.1", F);
	expect(&p_arp, NULL, "net 10.0.0.0/30", T);
	expect(&p_arp, NULL, "arp host 10.0.0.2", T);
	expect(&p_arp, NULL, "ip host 10.0.0.2", F);
}

static void test_ports(void **state)
{
	(void)state;
	expect(&p_udp, NULL, "port 53", T);
	expect(&p_udp, NULL, "port 1234", T);
	expect(&p_udp, NULL, "port 54", F);
	expect(&p_udp, NULL, "src port 1234", T);
	expect(&p_udp, NULL, "dst port 1234", F);
	expect(&p_udp, NULL, "src and dst port 53", F);
	expect(&p_udp, NULL, "src and dst portrange 53-1234", T);
	expect(&p_udp, NULL, "portrange 50-60", T);
	expect(&p_udp, NULL, "portrange 54-1233", F);
	expect(&p_udp, NULL, "dst portrange 1-52", F);
	expect(&p_udp, NULL, "udp port 53", T);
	expect(&p_udp, NULL, "tcp port 53", F);
	expect(&p_tcp6, NULL, "tcp dst port 443", T);
	expect(&p_tcp6, NULL, "port 80 or 443", T);
	/* no ports: ICMP, ESP, ARP */
	expect(&p_icmp, NULL, "port 0", F);
	expect(&p_icmp, NULL, "portrange 0-65535", F);
	expect(&p_esp, NULL, "portrange 0-65535", F);
	expect(&p_arp, NULL, "port 0", F);
	expect(&p_arp, NULL, "outer port 0", F);
	expect(&p_arp, NULL, "any port 0", F);
}

static void test_protos_l3(void **state)
{
	(void)state;
	expect(&p_udp, NULL, "udp", T);
	expect(&p_udp, NULL, "proto 17", T);
	expect(&p_udp, NULL, "proto udp", T);
	expect(&p_udp, NULL, "proto tcp", F);
	expect(&p_udp, NULL, "tcp", F);
	expect(&p_udp, NULL, "ip", T);
	expect(&p_udp, NULL, "ip6", F);
	expect(&p_udp, NULL, "arp", F);
	expect(&p_tcp6, NULL, "ip6 and tcp", T);
	expect(&p_tcp6, NULL, "ip", F);
	expect(&p_icmp, NULL, "icmp", T);
	expect(&p_icmp, NULL, "proto 1", T);
	expect(&p_icmp, NULL, "icmp6", F);
	expect(&p_esp, NULL, "esp", T);
	expect(&p_esp, NULL, "proto 50", T);
	expect(&p_esp, NULL, "spi 0x1234", T);
	expect(&p_esp, NULL, "spi 4660", T);
	expect(&p_esp, NULL, "spi 0x1235", F);
	expect(&p_udp, NULL, "spi 0", F);
	expect(&p_arp, NULL, "arp", T);
	expect(&p_arp, NULL, "ip or ip6", F);
	expect(&p_arp, NULL, "proto 0", F);
	expect(&p_arp, NULL, "outer arp", T);
	expect(&p_arp, NULL, "any arp", T);
	expect(&p_udp, NULL, "outer arp", F);
	expect(&p_udp, NULL, "outer ip", T);
	expect(&p_udp, NULL, "any ip", T);
	expect(&p_udp, NULL, "any ip6", F);
}

static void test_untunnelled_scopes(void **state)
{
	(void)state;
	/* one IP layer: outer and any see the same fields as inner */
	expect(&p_udp, NULL, "outer host 192.0.2.1", T);
	expect(&p_udp, NULL, "outer src host 192.0.2.1", T);
	expect(&p_udp, NULL, "outer dst host 192.0.2.1", F);
	expect(&p_udp, NULL, "any host 198.51.100.2", T);
	expect(&p_udp, NULL, "outer port 53", T);
	expect(&p_udp, NULL, "outer proto udp", T);
	expect(&p_udp, NULL, "outer udp port 53", T);
	expect(&p_udp, NULL, "tunnel any", F);
	expect(&p_udp, NULL, "tunnel", F);
	expect(&p_udp, NULL, "vlan", F);
	expect(&p_udp, NULL, "gre key 0", F);
	/* ARP has no IP layer: no outer addresses */
	expect(&p_arp, NULL, "outer host 10.0.0.1", F);
	expect(&p_arp, NULL, "any host 10.0.0.1", T);
}

static void test_gre_scopes(void **state)
{
	(void)state;
	expect(&p_gre, NULL, "host 10.0.0.1", T);
	expect(&p_gre, NULL, "inner host 10.0.0.1", T);
	expect(&p_gre, NULL, "host 203.0.113.1", F);
	expect(&p_gre, NULL, "outer host 203.0.113.1", T);
	expect(&p_gre, NULL, "outer dst host 203.0.113.2", T);
	expect(&p_gre, NULL, "outer host 10.0.0.1", F);
	expect(&p_gre, NULL, "outer net 203.0.113.0/24", T);
	expect(&p_gre, NULL, "any host 203.0.113.1", T);
	expect(&p_gre, NULL, "any host 10.0.0.2", T);
	expect(&p_gre, NULL, "any src host 203.0.113.2", F);
	expect(&p_gre, NULL, "any host 192.0.2.1", F);
	expect(&p_gre, NULL, "tunnel gre", T);
	expect(&p_gre, NULL, "tunnel GRE", T);
	expect(&p_gre, NULL, "tunnel pptp", F);
	expect(&p_gre, NULL, "tunnel vxlan", F);
	expect(&p_gre, NULL, "tunnel any", T);
	expect(&p_gre, NULL, "gre key 0x01020304", T);
	expect(&p_gre, NULL, "gre key 16909060", T);
	expect(&p_gre, NULL, "gre key 1", F);
	expect(&p_gre, NULL, "vni 131844", F);
	expect(&p_gre, NULL, "proto udp", T);
	expect(&p_gre, NULL, "proto gre", F);
	expect(&p_gre, NULL, "outer proto gre", T);
	expect(&p_gre, NULL, "outer proto udp", F);
	expect(&p_gre, NULL, "any proto gre", T);
	expect(&p_gre, NULL, "any proto udp", T);
	expect(&p_gre, NULL, "port 53", T);
	expect(&p_gre, NULL, "outer port 53", F);	/* GRE has no ports */
	expect(&p_gre, NULL, "any port 53", T);
	expect(&p_gre, NULL, "outer ip and ip", T);
	expect(&p_gre, NULL, "outer host 203.0.113.1 and tunnel gre and "
	    "host 10.0.0.2 and udp port 53", T);
}

static void test_vxlan_and_vlan_depth(void **state)
{
	(void)state;
	expect(&p_vxlan, NULL, "vlan 10", T);	/* outer tag */
	expect(&p_vxlan, NULL, "vlan 300", T);	/* tag inside VXLAN */
	expect(&p_vxlan, NULL, "vlan 11", F);
	expect(&p_vxlan, NULL, "vlan", T);
	expect(&p_vxlan, NULL, "vlan 10 and vlan 300", T);
	expect(&p_vxlan, NULL, "vlan 300 or 301", T);
	expect(&p_vxlan, NULL, "tunnel vxlan", T);
	expect(&p_vxlan, NULL, "tunnel gre", F);
	expect(&p_vxlan, NULL, "vni 100", T);
	expect(&p_vxlan, NULL, "vni 0x64", T);
	expect(&p_vxlan, NULL, "vni 101", F);
	expect(&p_vxlan, NULL, "host 10.1.0.1 and tcp port 80", T);
	expect(&p_vxlan, NULL, "port 4789", F);
	expect(&p_vxlan, NULL, "outer port 4789", T);
	expect(&p_vxlan, NULL, "outer udp dst port 4789", T);
	expect(&p_vxlan, NULL, "outer src port 40000", T);
	expect(&p_vxlan, NULL, "any port 4789", T);
	expect(&p_vxlan, NULL, "any port 80", T);
	expect(&p_vxlan, NULL, "outer portrange 4000-5000", T);
	expect(&p_vxlan, NULL, "outer host 192.0.2.2", T);
	expect(&p_vxlan, NULL, "host 192.0.2.2", F);
}

static void test_any_middle_layers(void **state)
{
	(void)state;
	/* the GRE endpoints sit between the outermost and innermost layers:
	 * only `any` (the tunnel stack's outer endpoints) sees them */
	expect(&p_nested, NULL, "host 172.16.0.1", F);
	expect(&p_nested, NULL, "outer host 172.16.0.1", F);
	expect(&p_nested, NULL, "any host 172.16.0.1", T);
	expect(&p_nested, NULL, "any dst net 172.16.0.0/24", T);
	expect(&p_nested, NULL, "any src host 172.16.0.2", F);
	expect(&p_nested, NULL, "outer host 192.0.2.1", T);
	expect(&p_nested, NULL, "host 10.2.0.1", T);
	expect(&p_nested, NULL, "tunnel vxlan and tunnel gre", T);
	expect(&p_nested, NULL, "icmp and outer udp port 4789", T);
}

static void test_gtp(void **state)
{
	(void)state;
	expect(&p_gtp, NULL, "tunnel gtp", T);
	expect(&p_gtp, NULL, "teid 0xabcdef", T);
	expect(&p_gtp, NULL, "teid 1", F);
	expect(&p_gtp, NULL, "host 10.45.0.2 and port 443", T);
	expect(&p_gtp, NULL, "outer port 2152", T);
}

/* Tunnel identifiers other dissectors fill, on a hand-filled stack. */
static void test_tunnel_ids(void **state)
{
	struct tm_packet pkt = p_udp;
	struct tm_tunnel *t = pkt.tunnels;

	(void)state;
	pkt.n_tunnels = 6;
	memset(t, 0, 6 * sizeof(*t));
	t[0].type = TM_TUN_L2TP;
	t[0].ids = TM_TID_TUNNEL | TM_TID_SESSION;
	t[0].tunnel_id = 3;
	t[0].session_id = 7;
	t[1].type = TM_TUN_PPPOE;
	t[1].ids = TM_TID_SESSION;
	t[1].session_id = 0x11;
	t[2].type = TM_TUN_MPLS;
	t[2].ids = TM_TID_LABEL;
	t[2].label = 16;
	t[3].type = TM_TUN_OTHER;
	t[3].name = "etherip";
	t[4].type = TM_TUN_GRE;
	t[4].name = "nvgre";
	t[4].ids = TM_TID_KEY | TM_TID_VNI;
	t[4].key = 0x5000;
	t[4].vni = 0x50;
	t[5].type = TM_TUN_ERSPAN;
	t[5].ids = TM_TID_SESSION;
	t[5].session_id = 9;
	expect(&pkt, NULL, "l2tp tunnel 3", T);
	expect(&pkt, NULL, "l2tp tunnel 7", F);
	expect(&pkt, NULL, "l2tp session 7", T);
	expect(&pkt, NULL, "l2tp session 3", F);
	expect(&pkt, NULL, "pppoe session 17", T);
	expect(&pkt, NULL, "pppoe session 7", F);	/* L2TP's session */
	expect(&pkt, NULL, "erspan session 9", T);
	expect(&pkt, NULL, "erspan session 17", F);
	expect(&pkt, NULL, "mpls label 16", T);
	expect(&pkt, NULL, "mpls label 17", F);
	expect(&pkt, NULL, "tunnel mpls and tunnel l2tp and tunnel pppoe", T);
	/* a plugin's own names, as `tm decode` prints them */
	expect(&pkt, NULL, "tunnel etherip", T);
	expect(&pkt, NULL, "tunnel EtherIP", T);
	expect(&pkt, NULL, "tunnel other", F);
	expect(&pkt, NULL, "tunnel nvgre", T);
	expect(&pkt, NULL, "tunnel gre", F);	/* printed as nvgre */
	expect(&pkt, NULL, "gre key 0x5000", T);
	expect(&pkt, NULL, "vni 0x50", T);
	expect(&pkt, NULL, "tunnel foo", F);
	t[3].name = NULL;
	expect(&pkt, NULL, "tunnel other", T);
	expect(&pkt, NULL, "tunnel etherip", F);
	/* the counts are trusted only up to the arrays' sizes */
	pkt.n_tunnels = 200;
	pkt.n_vlans = 200;
	expect(&pkt, NULL, "tunnel foo or vlan 4095", F);
}

static void test_precedence(void **state)
{
	(void)state;
	/* port 53 is true, 1 and 2 are false */
	expect(&p_udp, NULL, "port 53 or port 1 and port 2", T);
	expect(&p_udp, NULL, "(port 53 or port 1) and port 2", F);
	expect(&p_udp, NULL, "port 1 and port 2 or port 53", T);
	expect(&p_udp, NULL, "port 1 and (port 2 or port 53)", F);
	expect(&p_udp, NULL, "not port 53 and port 1", F);
	expect(&p_udp, NULL, "not (port 53 and port 1)", T);
	expect(&p_udp, NULL, "not port 1 and port 53", T);
	expect(&p_udp, NULL, "! port 1 && port 53", T);
	expect(&p_udp, NULL, "!port 53 || port 1", F);
	expect(&p_udp, NULL, "not not port 53", T);
	expect(&p_udp, NULL, "not port 1 or port 2 and port 3", T);
	expect(&p_udp, NULL, "not (port 1 or port 53) or port 2", F);
	expect(&p_udp, NULL, "port 1 or port 2 or port 3 or port 53", T);
	expect(&p_udp, NULL, "port 53 and port 1234 and udp and not tcp", T);
}

/* Kleene: with T = port 53, F = port 1 and U = app x (no connection). */
static void test_kleene_tables(void **state)
{
	static const char *const v[] = { "port 1", "port 53", "app x" };
	static const enum tm_expr_result and_t[3][3] = {
		{ F, F, F }, { F, T, U }, { F, U, U } };
	static const enum tm_expr_result or_t[3][3] = {
		{ F, T, U }, { T, T, T }, { U, T, U } };
	static const enum tm_expr_result not_t[3] = { T, F, U };
	char text[128];

	(void)state;
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			snprintf(text, sizeof(text), "%s and %s", v[i], v[j]);
			expect(&p_udp, NULL, text, and_t[i][j]);
			snprintf(text, sizeof(text), "%s or %s", v[i], v[j]);
			expect(&p_udp, NULL, text, or_t[i][j]);
		}
		snprintf(text, sizeof(text), "not %s", v[i]);
		expect(&p_udp, NULL, text, not_t[i]);
	}
	expect(&p_udp, NULL, "app x and port 1 and app y", F);
	expect(&p_udp, NULL, "app x or port 53 or app y", T);
	expect(&p_udp, NULL, "app x or port 1 or app y", U);
	expect(&p_udp, NULL, "not (app x and port 1)", T);
}

static void test_app(void **state)
{
	struct tm_expr_conn c = { 0 };

	(void)state;
	expect(&p_udp, NULL, "app tls", U);
	expect(&p_udp, &c, "app tls", U);		/* not known yet */
	c.app_final = 1;
	expect(&p_udp, &c, "app tls", F);		/* never known */
	expect(&p_udp, &c, "not app tls", T);
	c.app = "TLS.Google";
	c.app_final = 0;
	expect(&p_udp, &c, "app tls", T);
	expect(&p_udp, &c, "app TLS", T);
	expect(&p_udp, &c, "app google", T);
	expect(&p_udp, &c, "app tls.google", T);
	expect(&p_udp, &c, "app \"TLS.Google\"", T);
	expect(&p_udp, &c, "app dns", U);		/* may still change */
	expect(&p_udp, &c, "app goo", U);
	expect(&p_udp, &c, "app google.tls", U);
	expect(&p_udp, &c, "app tls and not port 443", T);
	c.app_final = 1;
	expect(&p_udp, &c, "app dns", F);
	expect(&p_udp, &c, "not app dns", T);
	expect(&p_udp, &c, "app goo", F);
	expect(&p_udp, &c, "app tls.", F);
	c.app = "DNS";
	expect(&p_udp, &c, "app dns and port 53", T);
	expect(&p_udp, &c, "app tls or port 53", T);
	expect(&p_udp, &c, "app tls or dns", T);
}

static void test_class(void **state)
{
	struct tm_expr_conn c = { 0 };

	(void)state;
	expect(&p_udp, NULL, "class bulk", U);
	expect(&p_udp, &c, "class bulk", U);		/* not chosen yet */
	expect(&p_udp, &c, "class bulk or port 53", T);
	c.class_name = "bulk";
	expect(&p_udp, &c, "class bulk", T);
	expect(&p_udp, &c, "class BULK", T);
	expect(&p_udp, &c, "class other", F);
	expect(&p_udp, &c, "class bul", F);
	expect(&p_udp, &c, "not class other", T);
	c.class_name = "bulk data";
	expect(&p_udp, &c, "class \"bulk data\"", T);
	/* app and class together */
	c.app = "HTTP";
	c.app_final = 1;
	expect(&p_udp, &c, "app http and class \"bulk data\"", T);
}

static void test_community_id(void **state)
{
	struct tm_packet pkt;
	struct tm_expr_conn c = { 0 };
	struct tm_expr_opts o = { .community_id_seed = 1 };
	struct tm_expr *e;

	(void)state;
	/* the spec's UDP vector: 1.2.3.4:1122 -> 5.6.7.8:3344 */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "1.2.3.4", "5.6.7.8", 17, 8);
	tb_udp(&b, 1122, 3344, 0);
	decode_into(&pkt, "eth/ipv4/udp");
	expect(&pkt, NULL, "community_id 1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", T);
	expect(&pkt, NULL, "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=", F);
	expect(&pkt, &c, "community_id 1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", T);
	/* a connection that knows its ID is believed */
	c.community_id = "1:wCb3OG7yAFWelaUydu0D+125CLM=";
	expect(&pkt, &c, "community_id 1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", F);
	expect(&pkt, &c, "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=", T);
	/* no ID for ARP */
	expect(&p_arp, NULL, "community_id 1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", F);
	expect(&p_arp, NULL,
	    "not community_id 1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", T);
	/* the seed comes from the options */
	e = tm_expr_compile("community_id 1:OShq+iKDAMVouh/4bMxB9Sz4amw=", &o,
	    NULL);
	assert_non_null(e);
	assert_int_equal(tm_expr_eval(e, &pkt, NULL), T);
	tm_expr_free(e);
}

static void test_times(void **state)
{
	struct tm_expr_opts o = { .flags = TM_EXPR_ALLOW_TIME,
		.now_ns = 2000 * 1000000000LL };
	struct tm_expr *e;
	const int64_t s = 1000000000LL;

	(void)state;
	e = tm_expr_compile("after 1000 and before 1500", &o, NULL);
	assert_non_null(e);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 999 * s), F);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 1000 * s), T);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 1500 * s - 1), T);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 1500 * s), F);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, TM_EXPR_NO_TIME), U);
	assert_int_equal(tm_expr_eval(e, &p_udp, NULL), U);
	tm_expr_free(e);
	e = tm_expr_compile("last 10m or port 53", &o, NULL);
	assert_int_equal(tm_expr_eval(e, &p_udp, NULL), T);
	assert_int_equal(tm_expr_eval(e, &p_tcp6, NULL), U);
	assert_int_equal(tm_expr_eval_at(e, &p_tcp6, NULL, 1400 * s), T);
	assert_int_equal(tm_expr_eval_at(e, &p_tcp6, NULL, 1399 * s), F);
	tm_expr_free(e);
	e = tm_expr_compile("before 5m ago and host 192.0.2.1", &o, NULL);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 1699 * s), T);
	assert_int_equal(tm_expr_eval_at(e, &p_udp, NULL, 1700 * s), F);
	assert_int_equal(tm_expr_eval_at(e, &p_tcp6, NULL, 1699 * s), F);
	tm_expr_free(e);
}

/* Unused fields are never read: a zeroed view matches nothing. */
static void test_zero_view(void **state)
{
	static const char *const preds[] = {
		"host 0.0.0.0", "net 0.0.0.0/0", "port 0", "proto 0", "ip",
		"arp", "spi 0", "vlan 0", "vlan", "tunnel any", "tunnel none",
		"gre key 0", "vni 0", "outer host 0.0.0.0", "any net ::/0",
		"outer port 0", "any proto 0", "outer ip", "any ip6",
	};
	struct tm_packet pkt;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	for (size_t i = 0; i < TM_ARRAY_LEN(preds); i++)
		expect(&pkt, NULL, preds[i], F);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_net),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_protos_l3),
		cmocka_unit_test(test_untunnelled_scopes),
		cmocka_unit_test(test_gre_scopes),
		cmocka_unit_test(test_vxlan_and_vlan_depth),
		cmocka_unit_test(test_any_middle_layers),
		cmocka_unit_test(test_gtp),
		cmocka_unit_test(test_tunnel_ids),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_kleene_tables),
		cmocka_unit_test(test_app),
		cmocka_unit_test(test_class),
		cmocka_unit_test(test_community_id),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_zero_view),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
