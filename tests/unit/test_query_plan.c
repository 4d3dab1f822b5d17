/*
 * The query planner against the evaluator: a sidecar is built in memory
 * (storage's builder) from synthetic connections of every kind the
 * planner treats apart (plain IPv4/IPv6, ICMP, ARP, ESP, VLAN and QinQ,
 * GRE with and without key, VXLAN with outer ports and an inner VLAN,
 * L2TP, 6in4, MPLS and PPPoE without outer endpoints), twins included
 * (the same inner 5-tuple in several tunnels). For many random
 * expressions over their values, the planner's decisions must agree with
 * tm_expr_eval_at() on every packet of every connection:
 *   - a connection outside the candidates has no matching packet;
 *   - a connection decided TRUE (FALSE) has only (no) matching packets;
 *   - a packet decided TRUE (FALSE) from its connection and timestamp
 *     matches (does not);
 *   - expressions made only of predicates an index answers exactly are
 *     decided for every connection without a packet, and with src/dst
 *     and time bounds, for every packet without decoding it.
 * Plus fixed cases: the candidates of a few predicates, by count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../query/expr.h"
#include "../../query/plan.h"
#include "community_id.h"
#include "key.h"
#include "sidecar.h"

#define NCONN 400
#define PKTS 2			/* one each way (ESP: both one way) */

struct gconn {
	struct tm_packet p[PKTS];
	int64_t ts[PKTS];
	int dir[PKTS];		/* 1: sent by endpoint b of the key */
	const char *kind;
};

static struct gconn g[NCONN];
static uint32_t ng;
static struct tm_sbuf scbuf;
static struct tm_sc sc;
static uint32_t *final_to_g;	/* sidecar connection id -> g index */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void v4(struct tm_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->a[0] = x;
	a->a[1] = y;
	a->a[2] = z;
	a->a[3] = w;
}

static void v6(struct tm_addr *a, uint16_t net, uint8_t host)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	a->a[0] = 0x20;
	a->a[1] = 0x01;
	a->a[2] = 0x0d;
	a->a[3] = 0xb8;
	a->a[4] = (uint8_t)(net >> 8);
	a->a[5] = (uint8_t)net;
	a->a[15] = host;
}

/* an inner IPv4 address from a small pool, so that hosts repeat and
 * tunnels reuse each other's addresses */
static void pool4(struct tm_addr *a)
{
	static const uint8_t nets[][2] = { { 10, 0 }, { 10, 1 }, { 172, 16 } };
	const uint8_t *n = nets[rnd(3)];

	v4(a, n[0], n[1], (uint8_t)rnd(2), (uint8_t)(1 + rnd(4)));
}

static void set_ip(struct tm_packet *p, int fam, int proto, int ports)
{
	p->l3 = fam == 4 ? TM_L3_IPV4 : TM_L3_IPV6;
	if (fam == 4) {
		pool4(&p->src);
		pool4(&p->dst);
	} else {
		v6(&p->src, (uint16_t)rnd(3), (uint8_t)(1 + rnd(4)));
		v6(&p->dst, (uint16_t)rnd(3), (uint8_t)(1 + rnd(4)));
	}
	p->proto = (uint8_t)proto;
	p->flags |= TM_PF_HAS_PROTO;
	if (ports) {
		static const uint16_t well[] = { 22, 53, 80, 443, 1701, 4789 };

		p->sport = (uint16_t)(30000 + rnd(8));
		p->dport = well[rnd(6)];
		p->flags |= TM_PF_HAS_PORTS;
	}
}

/* the outermost IP layer: a tunnel's endpoints, or the packet's own */
static void outer_from_inner(struct tm_packet *p)
{
	if (p->l3 != TM_L3_IPV4 && p->l3 != TM_L3_IPV6)
		return;
	p->outer_src = p->src;
	p->outer_dst = p->dst;
	p->outer_proto = p->proto;
	p->flags |= TM_PF_OUTER_PROTO;
	if (p->flags & TM_PF_HAS_PORTS) {
		p->outer_sport = p->sport;
		p->outer_dport = p->dport;
		p->flags |= TM_PF_OUTER_PORTS;
	}
}

static struct tm_tunnel *tunnel(struct tm_packet *p, uint8_t type, int ip)
{
	struct tm_tunnel *t = &p->tunnels[p->n_tunnels++];

	memset(t, 0, sizeof(*t));
	t->type = type;
	if (ip) {
		v4(&t->src, 192, 0, 2, (uint8_t)(1 + rnd(3)));
		v4(&t->dst, 198, 51, 100, (uint8_t)(1 + rnd(3)));
		p->outer_src = t->src;
		p->outer_dst = t->dst;
		p->flags |= TM_PF_NESTED_L3 | TM_PF_OUTER_PROTO;
	}
	return t;
}

static const char *make(struct tm_packet *p)
{
	struct tm_tunnel *t;

	memset(p, 0, sizeof(*p));
	switch (rnd(13)) {
	case 0:
		set_ip(p, 4, rnd(2) ? 6 : 17, 1);
		outer_from_inner(p);
		return "plain4";
	case 1:
		set_ip(p, 6, 6, 1);
		outer_from_inner(p);
		return "plain6";
	case 2:
		set_ip(p, 4, 1, 0);
		p->flags |= TM_PF_HAS_ICMP;
		outer_from_inner(p);
		return "icmp";
	case 3:
		p->l3 = TM_L3_ARP;
		pool4(&p->src);
		pool4(&p->dst);
		return "arp";
	case 4:
		set_ip(p, 4, 50, 0);
		p->spi = 0x1000 + rnd(4);
		p->flags |= TM_PF_HAS_SPI;
		outer_from_inner(p);
		return "esp";
	case 5:
		set_ip(p, 4, 6, 1);
		outer_from_inner(p);
		p->n_vlans = (uint8_t)(1 + rnd(2));
		p->vlans[0] = (uint16_t)(100 + rnd(3));
		p->vlans[1] = (uint16_t)(200 + rnd(3));
		return "vlan";
	case 6:
		t = tunnel(p, TM_TUN_GRE, 1);
		p->outer_proto = 47;
		if (rnd(2)) {
			t->ids = TM_TID_KEY;
			t->key = 1 + rnd(3);
		}
		set_ip(p, 4, 6, 1);
		return "gre";
	case 7:
		t = tunnel(p, TM_TUN_VXLAN, 1);
		p->outer_proto = 17;
		p->outer_sport = (uint16_t)(50000 + rnd(3));
		p->outer_dport = 4789;
		p->flags |= TM_PF_OUTER_PORTS;
		t->ids = TM_TID_VNI;
		t->vni = 5000 + rnd(3);
		if (rnd(2)) {
			p->n_vlans = 1;
			p->vlans[0] = (uint16_t)(100 + rnd(3));
		}
		set_ip(p, 4, 6, 1);
		return "vxlan";
	case 8:
		t = tunnel(p, TM_TUN_L2TP, 1);
		p->outer_proto = 17;
		p->outer_sport = 1701;
		p->outer_dport = 1701;
		p->flags |= TM_PF_OUTER_PORTS;
		t->ids = TM_TID_TUNNEL | TM_TID_SESSION;
		t->tunnel_id = 1 + rnd(2);
		t->session_id = 1 + rnd(3);
		set_ip(p, 4, 17, 1);
		return "l2tp";
	case 9:
		tunnel(p, TM_TUN_IPIP, 1);
		p->outer_proto = 41;
		set_ip(p, 6, 6, 1);
		return "6in4";
	case 10:
		t = tunnel(p, TM_TUN_MPLS, 0);
		t->ids = TM_TID_LABEL;
		t->label = 16 + rnd(3);
		set_ip(p, 4, 6, 1);
		outer_from_inner(p);
		return "mpls";
	case 11:
		t = tunnel(p, TM_TUN_PPPOE, 0);
		t->ids = TM_TID_SESSION;
		t->session_id = 1 + rnd(3);
		set_ip(p, 4, 17, 1);
		outer_from_inner(p);
		return "pppoe";
	default:
		set_ip(p, 6, 17, 1);
		outer_from_inner(p);
		p->n_vlans = 1;
		p->vlans[0] = (uint16_t)(100 + rnd(3));
		return "vlan6";
	}
}

static void swap_addr(struct tm_addr *a, struct tm_addr *b)
{
	struct tm_addr t = *a;

	*a = *b;
	*b = t;
}

static void swap16(uint16_t *a, uint16_t *b)
{
	uint16_t t = *a;

	*a = *b;
	*b = t;
}

static void reverse(struct tm_packet *r, const struct tm_packet *p)
{
	*r = *p;
	swap_addr(&r->src, &r->dst);
	swap16(&r->sport, &r->dport);
	swap_addr(&r->outer_src, &r->outer_dst);
	swap16(&r->outer_sport, &r->outer_dport);
	for (unsigned i = 0; i < r->n_tunnels; i++)
		swap_addr(&r->tunnels[i].src, &r->tunnels[i].dst);
}

static int build(void **state)
{
	struct tm_scb *b = tm_scb_new();
	struct tm_scb_meta m;
	uint64_t off = 24;
	char err[256];
	int64_t t = 1764000000000000000LL;

	(void)state;
	assert_non_null(b);
	tm_scb_reset(b, 16);
	for (ng = 0; ng < NCONN; ng++) {
		struct gconn *c = &g[ng];
		struct tm_key key, k2;
		struct tm_ctx_view cv;
		unsigned fl = 0;
		uint32_t id;
		int dir, dir2;

		c->kind = make(&c->p[0]);
		if (!strcmp(c->kind, "esp"))
			c->p[1] = c->p[0];
		else
			reverse(&c->p[1], &c->p[0]);
		tm_key_make(&c->p[0], TM_CTX_DEFAULT, &key, &dir);
		tm_key_make(&c->p[1], TM_CTX_DEFAULT, &k2, &dir2);
		c->dir[0] = dir;
		c->dir[1] = dir2;
		assert_memory_equal(&key, &k2, sizeof(key));
		memset(&cv, 0, sizeof(cv));
		cv.n_vlans = c->p[0].n_vlans;
		memcpy(cv.vlans, c->p[0].vlans, sizeof(cv.vlans));
		cv.n_tunnels = c->p[0].n_tunnels;
		memcpy(cv.tunnels, c->p[0].tunnels, sizeof(cv.tunnels));
		if (c->p[0].flags & TM_PF_HAS_PORTS)
			fl |= TM_SC_C_PORTS;
		if (c->p[0].flags & TM_PF_HAS_SPI)
			fl |= TM_SC_C_SPI;
		if (c->p[0].flags & TM_PF_HAS_PROTO)
			fl |= TM_SC_C_PROTO;
		assert_int_equal(tm_scb_conn(b, &key, fl, &cv, &id), 0);
		assert_int_equal(id, ng);
		/* connection ng lives in [t + ng s, t + ng s + 1 ms] */
		for (int k = 0; k < PKTS; k++) {
			c->ts[k] = t + (int64_t)ng * 1000000000 + k * 1000000;
			assert_int_equal(tm_scb_packet(b, id, k ? dir2 : dir, off,
			    c->ts[k], 60, 60), 0);
			off += 76;
		}
	}
	memset(&m, 0, sizeof(m));
	m.class_name = "default";
	m.linktype = 1;
	m.snaplen = 262144;
	m.seq = 1;
	m.start = 1764000000;
	m.pcap_size = off;
	assert_int_equal(tm_scb_finish(b, &m, &scbuf), 0);
	tm_scb_free(b);
	if (tm_sc_open(&sc, scbuf.p, scbuf.n, err, sizeof(err)))
		fail_msg("sidecar: %s", err);
	assert_int_equal(sc.h.n_conns, NCONN);
	final_to_g = calloc(NCONN, sizeof(*final_to_g));
	for (uint32_t i = 0; i < NCONN; i++) {
		struct tm_sc_conn c;

		tm_sc_conn_get(&sc, i, &c);
		final_to_g[i] = (uint32_t)((c.first_ts - t) / 1000000000);
		assert_true(final_to_g[i] < NCONN);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tm_sc_close(&sc);
	tm_sbuf_free(&scbuf);
	free(final_to_g);
	return 0;
}

/* ---- expressions --------------------------------------------------------- */

static char *addr_str(const struct tm_addr *a, char *buf)
{
	if (a->family == 4)
		sprintf(buf, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2],
		    a->a[3]);
	else
		sprintf(buf, "2001:db8:%x::%x", a->a[4] << 8 | a->a[5],
		    a->a[15]);
	return buf;
}

/* A random predicate from the values of a random connection; *exact: an
 * index answers it for whole connections. */
static void atom(char *out, int *exact)
{
	const struct gconn *c = &g[rnd(ng)];
	const struct tm_packet *p = &c->p[rnd(PKTS)];
	char a[64];
	static const char *const words[] = { "tcp", "udp", "icmp", "esp",
		"ip", "ip6", "arp", "vlan", "tunnel", "tunnel gre",
		"tunnel vxlan", "tunnel l2tp", "tunnel ipip", "tunnel mpls",
		"tunnel pppoe", "outer ip", "outer ip6", "any ip6",
		"outer arp", "class default", "class other", "proto 47",
		"outer proto 47", "outer udp", "any proto 41" };
	static const int words_exact[] = { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
		2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0 };
	const struct tm_tunnel *t = p->n_tunnels ?
	    &p->tunnels[rnd(p->n_tunnels)] : NULL;

	*exact = 2;
	switch (rnd(22)) {
	case 0:
	case 1:
		sprintf(out, "host %s", addr_str(rnd(2) ? &p->src : &p->dst,
		    a));
		return;
	case 2:
		*exact = 1;
		sprintf(out, "%s host %s", rnd(2) ? "src" : "dst",
		    addr_str(&p->src, a));
		return;
	case 3:
		if (p->src.family == 4)
			sprintf(out, "net %u.%u.0.0/16", p->src.a[0],
			    p->src.a[1]);
		else
			sprintf(out, "net 2001:db8::/32");
		return;
	case 4:
		*exact = 1;
		if (p->src.family == 4)
			sprintf(out, "src and dst net %u.0.0.0/8", p->src.a[0]);
		else
			sprintf(out, "src and dst net 2001:db8::/32");
		return;
	case 5:
		if (p->outer_src.family)
			sprintf(out, "outer host %s", addr_str(&p->outer_dst,
			    a));
		else
			sprintf(out, "outer host 10.0.0.1");
		return;
	case 6:
		sprintf(out, "any host %s", addr_str(t ? (t->src.family ?
		    &t->src : &p->src) : &p->dst, a));
		return;
	case 7:
		if (p->flags & TM_PF_HAS_PORTS)
			sprintf(out, "port %u", p->dport);
		else
			sprintf(out, "port 80");
		return;
	case 8:
		*exact = 1;
		sprintf(out, "%s port %u", rnd(2) ? "src" : "dst",
		    (p->flags & TM_PF_HAS_PORTS) ? p->sport : 53);
		return;
	case 9:
		sprintf(out, "portrange 30000-30003");
		return;
	case 10:
		*exact = 0;
		sprintf(out, "%s port %u", rnd(2) ? "outer" : "any",
		    (p->flags & TM_PF_OUTER_PORTS) ? p->outer_dport : 4789);
		return;
	case 11: {
		uint32_t k = rnd(sizeof(words) / sizeof(words[0]));

		strcpy(out, words[k]);
		*exact = words_exact[k];
		return;
	}
	case 12:
		sprintf(out, "spi 0x%x", p->flags & TM_PF_HAS_SPI ? p->spi :
		    0x1001);
		return;
	case 13:
		sprintf(out, "vlan %u", p->n_vlans ? p->vlans[rnd(p->n_vlans)]
		    : 101);
		return;
	case 14:
		if (t && (t->ids & TM_TID_KEY))
			sprintf(out, "gre key %u", t->key);
		else if (t && (t->ids & TM_TID_VNI))
			sprintf(out, "vni %u", t->vni);
		else if (t && t->type == TM_TUN_L2TP)
			sprintf(out, rnd(2) ? "l2tp tunnel %u" :
			    "l2tp session %u", rnd(2) ? t->tunnel_id :
			    t->session_id);
		else if (t && t->type == TM_TUN_PPPOE)
			sprintf(out, "pppoe session %u", t->session_id);
		else if (t && t->type == TM_TUN_MPLS)
			sprintf(out, "mpls label %u", t->label);
		else
			sprintf(out, "gre key 2");
		return;
	case 15:
	case 16:
		*exact = 1;
		sprintf(out, "%s %lld.%09lld", rnd(2) ? "after" : "before",
		    (long long)(c->ts[0] / 1000000000) + (long long)rnd(3) - 1,
		    (long long)(c->ts[0] % 1000000000) + rnd(2) * 500000);
		return;
	case 17:
		*exact = 0;
		sprintf(out, "%s %s", rnd(2) ? "outer src host" :
		    "any dst host", addr_str(p->outer_src.family ?
		    &p->outer_src : &p->src, a));
		return;
	case 18:
		if (rnd(2)) {
			char cid[TM_COMMUNITY_ID_SIZE];

			*exact = 0;	/* ICMP: per packet */
			if (tm_community_id(p, 0, cid, sizeof(cid)) == 0) {
				sprintf(out, "community_id %s", cid);
				return;
			}
		}
		sprintf(out, "pppoe session %u", 1 + rnd(3));
		return;
	case 19:
		sprintf(out, "l2tp session %u", 1 + rnd(3));
		return;
	default:
		sprintf(out, "host %s and port %u and tcp",
		    addr_str(&p->dst, a), p->dport);
		return;
	}
}

static void expr(char *out, int depth, int *exact)
{
	uint32_t x = rnd(10);
	char a[512], b[512];
	int ea, eb;

	if (depth >= 3 || x < 4) {
		atom(out, exact);
		return;
	}
	expr(a, depth + 1, &ea);
	if (x == 9) {
		sprintf(out, "not (%s)", a);
		*exact = ea;
		return;
	}
	expr(b, depth + 1, &eb);
	sprintf(out, "(%s) %s (%s)", a, x < 7 ? "and" : "or", b);
	*exact = ea < eb ? ea : eb;
}

static enum tm_expr_result truth(const struct tm_expr *e, uint32_t gi,
    int k)
{
	struct tm_expr_conn conn = { NULL, 1, "default", NULL };

	return tm_expr_eval_at(e, &g[gi].p[k], &conn, g[gi].ts[k]);
}

static void check(const char *text, int exact)
{
	struct tm_expr_opts o = { 0 };
	struct tm_expr_error err;
	struct tm_expr *e;
	struct tm_qplan *p;
	struct tm_qseg *s;
	uint8_t *cand = calloc(NCONN, 1);
	uint32_t id = 0;

	o.flags = TM_EXPR_ALLOW_TIME;
	e = tm_expr_compile(text, &o, &err);
	if (!e)
		fail_msg("'%s': %s", text, err.msg);
	p = tm_qplan_new(e);
	assert_non_null(p);
	s = tm_qseg_new(p, &sc);
	assert_non_null(s);
	while (tm_qseg_next(s, &id))
		cand[id++] = 1;
	for (uint32_t c = 0; c < NCONN; c++) {
		uint32_t gi = final_to_g[c];
		int some = 0, all = 1;
		enum tm_expr_result d;

		for (int k = 0; k < PKTS; k++) {
			enum tm_expr_result r = truth(e, gi, k);
			enum tm_expr_result pd = tm_qseg_eval(s, c,
			    g[gi].ts[k], g[gi].ts[k], g[gi].dir[k]);

			some |= r == TM_EXPR_TRUE;
			all &= r == TM_EXPR_TRUE;
			if (pd != TM_EXPR_UNKNOWN && pd != r)
				fail_msg("'%s': %s connection %u packet %d: "
				    "decided %d, evaluates %d", text,
				    g[gi].kind, c, k, pd, r);
			if (exact >= 1 && pd == TM_EXPR_UNKNOWN && cand[c])
				fail_msg("'%s': %s connection %u packet %d "
				    "undecided without decoding", text,
				    g[gi].kind, c, k);
		}
		if (some && !cand[c])
			fail_msg("'%s': %s connection %u matches but is no "
			    "candidate", text, g[gi].kind, c);
		d = tm_qseg_eval(s, c, g[gi].ts[0], g[gi].ts[PKTS - 1], -1);
		if ((d == TM_EXPR_TRUE && !all) || (d == TM_EXPR_FALSE && some))
			fail_msg("'%s': %s connection %u decided %d, packets "
			    "match: some %d all %d", text, g[gi].kind, c, d,
			    some, all);
		if (exact == 2 && d == TM_EXPR_UNKNOWN)
			fail_msg("'%s': %s connection %u undecided though an "
			    "index answers every predicate", text, g[gi].kind,
			    c);
	}
	tm_qseg_free(s);
	tm_qplan_free(p);
	tm_expr_free(e);
	free(cand);
}

static void random_expressions(void **state)
{
	char text[4096];
	int exact;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		expr(text, 0, &exact);
		check(text, exact);
	}
}

static uint32_t candidates(const char *text)
{
	struct tm_expr_opts o = { 0 };
	struct tm_expr_error err;
	struct tm_expr *e;
	struct tm_qplan *p;
	struct tm_qseg *s;
	uint32_t n;

	o.flags = TM_EXPR_ALLOW_TIME;
	e = tm_expr_compile(text, &o, &err);
	if (!e)
		fail_msg("'%s': %s", text, err.msg);
	p = tm_qplan_new(e);
	s = tm_qseg_new(p, &sc);
	n = tm_qseg_hi_count(s);
	tm_qseg_free(s);
	tm_qplan_free(p);
	tm_expr_free(e);
	return n;
}

/* connections of the generated set whose first packet satisfies test */
static uint32_t count_kind(const char *kind)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ng; i++)
		n += !strcmp(g[i].kind, kind);
	return n;
}

static void fixed(void **state)
{
	(void)state;
	assert_int_equal(candidates(""), NCONN);
	assert_int_equal(candidates("class default"), NCONN);
	assert_int_equal(candidates("class other"), 0);
	assert_int_equal(candidates("arp"), count_kind("arp"));
	assert_int_equal(candidates("esp"), count_kind("esp"));
	assert_int_equal(candidates("tunnel vxlan"), count_kind("vxlan"));
	assert_int_equal(candidates("tunnel l2tp"), count_kind("l2tp"));
	assert_int_equal(candidates("tunnel mpls or tunnel pppoe"),
	    count_kind("mpls") + count_kind("pppoe"));
	assert_int_equal(candidates("not tunnel"), NCONN -
	    count_kind("gre") - count_kind("vxlan") - count_kind("l2tp") -
	    count_kind("6in4") - count_kind("mpls") - count_kind("pppoe"));
	assert_int_equal(candidates("ip6 and not tunnel ipip"),
	    count_kind("plain6") + count_kind("vlan6"));
	assert_int_equal(candidates("host 192.0.2.77"), 0);
	assert_int_equal(candidates("after 2030-01-01"), 0);
	assert_int_equal(candidates("before 2020-01-01"), 0);
	assert_int_equal(candidates("after 2020-01-01"), NCONN);
	/* a time window inside the segment: every connection a candidate
	 * (time is decided per connection and packet, not by the index) */
	assert_int_equal(candidates("after 1764000100"), NCONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed),
		cmocka_unit_test(random_expressions),
	};

	return cmocka_run_group_tests(tests, build, teardown);
}
