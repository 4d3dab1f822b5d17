/*
 * The evaluator: a walk of the compiled node array over the packet view.
 * No allocation, no parsing, no formatting; the only string work is the
 * case-insensitive compare of app and class names with the connection's.
 * Kleene's three-valued logic: FALSE and anything is FALSE, TRUE or
 * anything is TRUE, otherwise UNKNOWN wins over the remaining value.
 */
#include <string.h>

#include "community_id.h"
#include "expr_int.h"

#define F TM_EXPR_FALSE
#define T TM_EXPR_TRUE
#define U TM_EXPR_UNKNOWN

struct ctx {
	const struct tm_expr *e;
	const struct tm_packet *pkt;
	const struct tm_expr_conn *conn;
	int64_t ts;
};

static enum tm_expr_result eval(const struct ctx *c, uint32_t idx);

static enum tm_expr_result tv(int b)
{
	return b ? T : F;
}

static int addr_in(const struct tm_addr *a, const struct node *n)
{
	size_t alen;

	if (a->family != n->u.net.family)
		return 0;
	alen = a->family == 4 ? 4 : 16;
	for (size_t i = 0; i < alen; i++)
		if ((a->a[i] & n->u.net.mask[i]) != n->u.net.addr[i])
			return 0;
	return 1;
}

static int pair_in(const struct tm_addr *src, const struct tm_addr *dst,
    const struct node *n)
{
	switch (n->dir) {
	case D_SRC: return addr_in(src, n);
	case D_DST: return addr_in(dst, n);
	case D_BOTH: return addr_in(src, n) && addr_in(dst, n);
	default: return addr_in(src, n) || addr_in(dst, n);
	}
}

static unsigned n_tunnels(const struct tm_packet *pkt)
{
	return pkt->n_tunnels < TM_MAX_TUNNELS ? pkt->n_tunnels :
	    TM_MAX_TUNNELS;
}

static int eval_net(const struct node *n, const struct tm_packet *pkt)
{
	if (n->scope == S_OUTER)
		return pair_in(&pkt->outer_src, &pkt->outer_dst, n);
	if (pair_in(&pkt->src, &pkt->dst, n))
		return 1;
	if (n->scope == S_INNER)
		return 0;
	if (pair_in(&pkt->outer_src, &pkt->outer_dst, n))
		return 1;
	for (unsigned i = 0; i < n_tunnels(pkt); i++)
		if (pair_in(&pkt->tunnels[i].src, &pkt->tunnels[i].dst, n))
			return 1;
	return 0;
}

static int ports_in(uint16_t sport, uint16_t dport, const struct node *n)
{
	int s = sport >= n->u.port.lo && sport <= n->u.port.hi;
	int d = dport >= n->u.port.lo && dport <= n->u.port.hi;

	switch (n->dir) {
	case D_SRC: return s;
	case D_DST: return d;
	case D_BOTH: return s && d;
	default: return s || d;
	}
}

static int eval_port(const struct node *n, const struct tm_packet *pkt)
{
	int inner = (pkt->flags & TM_PF_HAS_PORTS) &&
	    ports_in(pkt->sport, pkt->dport, n);
	int outer = (pkt->flags & TM_PF_OUTER_PORTS) &&
	    ports_in(pkt->outer_sport, pkt->outer_dport, n);

	return n->scope == S_INNER ? inner : n->scope == S_OUTER ? outer :
	    inner || outer;
}

static int eval_proto(const struct node *n, const struct tm_packet *pkt)
{
	int inner = (pkt->flags & TM_PF_HAS_PROTO) && pkt->proto == n->u.proto;
	int outer = (pkt->flags & TM_PF_OUTER_PROTO) &&
	    pkt->outer_proto == n->u.proto;

	return n->scope == S_INNER ? inner : n->scope == S_OUTER ? outer :
	    inner || outer;
}

/* The outermost network layer: the outermost IP layer if there is one,
 * else (no IP anywhere) the innermost, e.g. a bare ARP packet. */
static int outer_l3_is(const struct tm_packet *pkt, uint8_t l3)
{
	if (pkt->outer_src.family == 4)
		return l3 == TM_L3_IPV4;
	if (pkt->outer_src.family == 6)
		return l3 == TM_L3_IPV6;
	return pkt->l3 == l3;
}

static int eval_l3(const struct node *n, const struct tm_packet *pkt)
{
	uint8_t fam = n->u.l3 == TM_L3_IPV4 ? 4 : n->u.l3 == TM_L3_IPV6 ? 6 : 0;

	if (n->scope == S_OUTER)
		return outer_l3_is(pkt, n->u.l3);
	if (pkt->l3 == n->u.l3)
		return 1;
	if (n->scope == S_INNER)
		return 0;
	if (outer_l3_is(pkt, n->u.l3))
		return 1;
	for (unsigned i = 0; fam && i < n_tunnels(pkt); i++)
		if (pkt->tunnels[i].src.family == fam)
			return 1;
	return 0;
}

static int eval_vlan(const struct node *n, const struct tm_packet *pkt)
{
	unsigned nv = pkt->n_vlans < TM_MAX_VLANS ? pkt->n_vlans : TM_MAX_VLANS;

	for (unsigned i = 0; i < nv; i++)
		if (pkt->vlans[i] == n->u.num)
			return 1;
	return 0;
}

static int eval_tunnel(const struct node *n, const struct tm_packet *pkt)
{
	size_t nlen = 0;

	for (unsigned i = 0; i < n_tunnels(pkt); i++) {
		const struct tm_tunnel *t = &pkt->tunnels[i];

		if (!t->name) {
			if (t->type == n->u.tun.type)
				return 1;
			continue;
		}
		/* a plugin named its entry: compare the printed name */
		if (!nlen)
			nlen = strlen(n->u.tun.name);
		if (tm_expr_ieq(t->name, strlen(t->name), n->u.tun.name, nlen))
			return 1;
	}
	return 0;
}

static uint32_t tid_field(const struct tm_tunnel *t, uint8_t flag)
{
	switch (flag) {
	case TM_TID_KEY: return t->key;
	case TM_TID_TUNNEL: return t->tunnel_id;
	case TM_TID_SESSION: return t->session_id;
	case TM_TID_VNI: return t->vni;
	case TM_TID_TEID: return t->teid;
	default: return t->label;
	}
}

static int eval_tid(const struct node *n, const struct tm_packet *pkt)
{
	for (unsigned i = 0; i < n_tunnels(pkt); i++) {
		const struct tm_tunnel *t = &pkt->tunnels[i];

		if ((t->ids & n->u.tid.flag) && (n->u.tid.type == TM_TUN_NONE ||
		    t->type == n->u.tid.type) &&
		    tid_field(t, n->u.tid.flag) == n->u.tid.val)
			return 1;
	}
	return 0;
}

/* "TLS.Google" matches tls, google and tls.google. */
static int app_matches(const char *app, const char *name, size_t nlen)
{
	const char *p = app;

	if (tm_expr_ieq(app, strlen(app), name, nlen))
		return 1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (tm_expr_ieq(p, l, name, nlen))
			return 1;
		if (!dot)
			return 0;
		p = dot + 1;
	}
}

static enum tm_expr_result eval_app(const struct node *n,
    const struct tm_expr_conn *conn)
{
	if (!conn)
		return U;
	if (conn->app && app_matches(conn->app, n->u.str.s, n->u.str.len))
		return T;
	return conn->app_final ? F : U;
}

static enum tm_expr_result eval_class(const struct node *n,
    const struct tm_expr_conn *conn)
{
	if (!conn || !conn->class_name)
		return U;
	return tv(tm_expr_ieq(conn->class_name, strlen(conn->class_name),
	    n->u.str.s, n->u.str.len));
}

static enum tm_expr_result eval_cid(const struct ctx *c, const struct node *n)
{
	uint8_t d[TM_COMMUNITY_ID_DIGEST];

	if (c->conn && c->conn->community_id)
		return tv(strcmp(c->conn->community_id, n->u.cid.s) == 0);
	if (tm_community_id_digest(c->pkt, c->e->seed, d) != 0)
		return F;
	return tv(memcmp(d, n->u.cid.digest, sizeof(d)) == 0);
}

static enum tm_expr_result eval_chain(const struct ctx *c,
    const struct node *n, enum tm_expr_result dominant)
{
	enum tm_expr_result acc = dominant == F ? T : F;

	for (uint32_t i = 0; i < n->count; i++) {
		enum tm_expr_result r = eval(c, c->e->kids[n->first + i]);

		if (r == dominant)
			return dominant;
		if (r == U)
			acc = U;
	}
	return acc;
}

static enum tm_expr_result eval(const struct ctx *c, uint32_t idx)
{
	const struct node *n = &c->e->nodes[idx];
	const struct tm_packet *pkt = c->pkt;
	enum tm_expr_result r;

	switch (n->kind) {
	case N_TRUE: return T;
	case N_AND: return eval_chain(c, n, F);
	case N_OR: return eval_chain(c, n, T);
	case N_NOT:
		r = eval(c, n->first);
		return r == U ? U : r == T ? F : T;
	case N_NET: return tv(eval_net(n, pkt));
	case N_PORT: return tv(eval_port(n, pkt));
	case N_PROTO: return tv(eval_proto(n, pkt));
	case N_L3: return tv(eval_l3(n, pkt));
	case N_SPI:
		return tv((pkt->flags & TM_PF_HAS_SPI) && pkt->spi == n->u.num);
	case N_VLAN: return tv(eval_vlan(n, pkt));
	case N_VLAN_ANY: return tv(pkt->n_vlans > 0);
	case N_TUNNEL: return tv(eval_tunnel(n, pkt));
	case N_TUNNEL_ANY: return tv(pkt->n_tunnels > 0);
	case N_TID: return tv(eval_tid(n, pkt));
	case N_APP: return eval_app(n, c->conn);
	case N_CLASS: return eval_class(n, c->conn);
	case N_CID: return eval_cid(c, n);
	case N_AFTER:
		return c->ts == TM_EXPR_NO_TIME ? U : tv(c->ts >= n->u.ts);
	case N_BEFORE:
		return c->ts == TM_EXPR_NO_TIME ? U : tv(c->ts < n->u.ts);
	default:
		return F;
	}
}

enum tm_expr_result tm_expr_eval_at(const struct tm_expr *e,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn,
    int64_t ts_ns)
{
	struct ctx c = { e, pkt, conn, ts_ns };

	return eval(&c, e->root);
}

enum tm_expr_result tm_expr_eval(const struct tm_expr *e,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn)
{
	return tm_expr_eval_at(e, pkt, conn, TM_EXPR_NO_TIME);
}

int tm_expr_uses_app(const struct tm_expr *e)
{
	return (e->uses & USE_APP) != 0;
}

int tm_expr_uses_class(const struct tm_expr *e)
{
	return (e->uses & USE_CLASS) != 0;
}

int tm_expr_uses_community_id(const struct tm_expr *e)
{
	return (e->uses & USE_CID) != 0;
}

int tm_expr_uses_time(const struct tm_expr *e)
{
	return (e->uses & USE_TIME) != 0;
}
