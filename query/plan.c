/*
 * The query planner (plan.h): bounds of the matching connections of a
 * segment, per node of the expression, from the sidecar's postings and
 * contexts. Sets are plain bitsets over the segment's connection ids
 * (a segment holds at most a few million connections: a bitset is at
 * most a few hundred KB, and and/or/not are word loops), with "empty"
 * and "everything" kept apart so that the common cases allocate nothing.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr_walk.h"
#include "sc_light.h"

/* ---- sets of connection ids -------------------------------------------- */

enum { QS_EMPTY = 0, QS_FULL, QS_BITS };

struct qset {
	uint8_t kind;
	uint64_t *w;		/* QS_BITS: n_words words */
};

struct tm_qseg {
	const struct tm_qplan *p;
	const struct tm_sc *sc;
	uint32_t n;		/* connections */
	uint32_t nw;		/* words of a bitset */
	struct qset *lo, *hi;	/* per expression node */
	struct qset *ea, *eb;	/* per node: endpoint a / b satisfies it
				 * (src/dst predicates) */
	uint8_t *cflag;		/* per context, CF_* (lazy) */
	struct qset noiptun;	/* connections without an IP tunnel (lazy) */
	int have_noiptun;
	struct tm_packet *pkt;	/* a context as a packet (lazy) */
	int failed;		/* out of memory */
	int damaged;		/* a posting is malformed */
};

/* context flags */
#define CF_IPTUN	0x01u	/* a tunnel with IP endpoints */
#define CF_OUTER4	0x02u	/* the outermost IP layer is IPv4 */
#define CF_OUTER6	0x04u	/* ... IPv6 */
#define CF_TUN4		0x08u	/* some tunnel's src is IPv4 */
#define CF_TUN6		0x10u	/* ... IPv6 */
#define CF_VLAN		0x20u	/* a VLAN tag */
#define CF_TUN		0x40u	/* a tunnel */

static uint64_t *qs_alloc(struct tm_qseg *s)
{
	uint64_t *w = calloc(s->nw ? s->nw : 1, sizeof(*w));

	if (!w)
		s->failed = 1;
	return w;
}

static void qs_free(struct qset *a)
{
	free(a->w);
	a->w = NULL;
	a->kind = QS_EMPTY;
}

static int qs_has(const struct qset *a, uint32_t id)
{
	if (a->kind != QS_BITS)
		return a->kind == QS_FULL;
	return (a->w[id >> 6] >> (id & 63)) & 1;
}

/* Turns a into a bitset (for adding to it). 0, or -1 (memory). */
static int qs_bits(struct tm_qseg *s, struct qset *a)
{
	if (a->kind == QS_BITS)
		return 0;
	a->w = qs_alloc(s);
	if (!a->w)
		return -1;
	if (a->kind == QS_FULL) {
		memset(a->w, 0xff, (size_t)s->nw * 8);
		if (s->n & 63)
			a->w[s->nw - 1] = (1ull << (s->n & 63)) - 1;
	}
	a->kind = QS_BITS;
	return 0;
}

static void qs_add(struct qset *a, uint32_t id)
{
	a->w[id >> 6] |= 1ull << (id & 63);
}

static void qs_add_range(struct qset *a, uint32_t from, uint32_t to)
{
	while (from < to && (from & 63)) {
		qs_add(a, from);
		from++;
	}
	while (from + 64 <= to) {
		a->w[from >> 6] = ~0ull;
		from += 64;
	}
	while (from < to) {
		qs_add(a, from);
		from++;
	}
}

static uint64_t qs_count(const struct tm_qseg *s, const struct qset *a)
{
	uint64_t c = 0;

	if (a->kind != QS_BITS)
		return a->kind == QS_FULL ? s->n : 0;
	for (uint32_t i = 0; i < s->nw; i++)
		c += (uint64_t)__builtin_popcountll(a->w[i]);
	return c;
}

/* EMPTY or FULL when a bitset is one of them. */
static void qs_norm(const struct tm_qseg *s, struct qset *a)
{
	uint64_t any = 0, all = ~0ull;

	if (a->kind != QS_BITS)
		return;
	for (uint32_t i = 0; i + 1 < s->nw; i++) {
		any |= a->w[i];
		all &= a->w[i];
		if (any && ~all)
			return;		/* neither: the usual case */
	}
	if (s->nw) {
		uint64_t last = a->w[s->nw - 1];
		uint64_t full = s->n & 63 ? (1ull << (s->n & 63)) - 1 : ~0ull;

		any |= last;
		if (last != full)
			all = 0;
	}
	if (!any || all == ~0ull) {
		free(a->w);
		a->w = NULL;
		a->kind = any ? QS_FULL : QS_EMPTY;
	}
}

static void qs_copy(struct tm_qseg *s, struct qset *dst,
    const struct qset *a)
{
	dst->kind = a->kind;
	dst->w = NULL;
	if (a->kind == QS_BITS) {
		dst->w = qs_alloc(s);
		if (dst->w)
			memcpy(dst->w, a->w, (size_t)s->nw * 8);
		else
			dst->kind = QS_EMPTY;
	}
}

/* dst &= a */
static void qs_and(struct tm_qseg *s, struct qset *dst, const struct qset *a)
{
	if (dst->kind == QS_EMPTY || a->kind == QS_FULL)
		return;
	if (a->kind == QS_EMPTY) {
		qs_free(dst);
		return;
	}
	if (dst->kind == QS_FULL) {
		qs_copy(s, dst, a);
		return;
	}
	for (uint32_t i = 0; i < s->nw; i++)
		dst->w[i] &= a->w[i];
	qs_norm(s, dst);
}

/* dst |= a */
static void qs_or(struct tm_qseg *s, struct qset *dst, const struct qset *a)
{
	if (dst->kind == QS_FULL || a->kind == QS_EMPTY)
		return;
	if (a->kind == QS_FULL) {
		qs_free(dst);
		dst->kind = QS_FULL;
		return;
	}
	if (dst->kind == QS_EMPTY) {
		qs_copy(s, dst, a);
		return;
	}
	for (uint32_t i = 0; i < s->nw; i++)
		dst->w[i] |= a->w[i];
	qs_norm(s, dst);
}

/* dst = everything - a */
static void qs_not(struct tm_qseg *s, struct qset *dst, const struct qset *a)
{
	dst->w = NULL;
	if (a->kind != QS_BITS) {
		dst->kind = a->kind == QS_FULL ? QS_EMPTY : QS_FULL;
		return;
	}
	dst->w = qs_alloc(s);
	if (!dst->w) {
		dst->kind = QS_EMPTY;
		return;
	}
	dst->kind = QS_BITS;
	for (uint32_t i = 0; i < s->nw; i++)
		dst->w[i] = ~a->w[i];
	if (s->n & 63)
		dst->w[s->nw - 1] &= (1ull << (s->n & 63)) - 1;
	qs_norm(s, dst);
}

/* ---- the plan: the expression's tree, flattened ---------------------------- */

struct pnode {
	struct tm_xnode x;
	uint32_t *kids;
	int used;		/* reachable from the root */
};

struct tm_qplan {
	const struct tm_expr *e;
	uint32_t n;
	uint32_t root;
	struct pnode *v;
	int time_only;
	int uses_app;
	int reads_records;	/* refine_dir reads connection records */
	int uses_contexts;	/* tm_sc_context() on the sidecar */
};

static int plan_walk(struct tm_qplan *p, uint32_t id, unsigned depth)
{
	struct pnode *pn;

	if (id >= p->n || depth > 1000)
		return -1;
	pn = &p->v[id];
	if (pn->used)
		return 0;
	pn->used = 1;
	tm_expr_node(p->e, id, &pn->x);
	switch (pn->x.kind) {
	case TM_X_TRUE:
	case TM_X_AFTER:
	case TM_X_BEFORE:
		break;
	case TM_X_AND:
	case TM_X_OR:
	case TM_X_NOT:
		break;
	case TM_X_APP:
		p->uses_app = 1;
		p->time_only = 0;
		break;
	case TM_X_NET:
	case TM_X_PORT:
	case TM_X_PROTO:
	case TM_X_L3:
		if (pn->x.scope == TM_XS_INNER && pn->x.dir != TM_XD_EITHER &&
		    pn->x.kind != TM_X_PROTO && pn->x.kind != TM_X_L3)
			p->reads_records = 1;
		if (pn->x.scope != TM_XS_INNER)
			p->uses_contexts = 1;
		p->time_only = 0;
		break;
	case TM_X_VLAN:
		p->time_only = 0;	/* the postings say it all */
		break;
	case TM_X_TID:
		/* of any tunnel type: the posting is exact (a gre key, a VNI,
		 * a TEID, an MPLS label); of one type (l2tp, pppoe, erspan
		 * share the session field): each context checked */
		if (pn->x.tid_type != TM_TUN_NONE)
			p->uses_contexts = 1;
		p->time_only = 0;
		break;
	case TM_X_VLAN_ANY:
	case TM_X_TUNNEL:
	case TM_X_TUNNEL_ANY:
		p->uses_contexts = 1;
		p->time_only = 0;
		break;
	default:
		p->time_only = 0;
		break;
	}
	if (pn->x.n_kids) {
		pn->kids = calloc(pn->x.n_kids, sizeof(*pn->kids));
		if (!pn->kids)
			return -1;
		for (uint32_t k = 0; k < pn->x.n_kids; k++) {
			pn->kids[k] = tm_expr_kid(p->e, id, k);
			if (plan_walk(p, pn->kids[k], depth + 1))
				return -1;
		}
	}
	return 0;
}

struct tm_qplan *tm_qplan_new(const struct tm_expr *e)
{
	struct tm_qplan *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->e = e;
	p->n = tm_expr_n_nodes(e);
	p->root = tm_expr_root(e);
	p->time_only = 1;
	p->v = calloc(p->n ? p->n : 1, sizeof(*p->v));
	if (!p->v || (p->n && plan_walk(p, p->root, 0))) {
		tm_qplan_free(p);
		return NULL;
	}
	return p;
}

void tm_qplan_free(struct tm_qplan *p)
{
	if (!p)
		return;
	if (p->v)
		for (uint32_t i = 0; i < p->n; i++)
			free(p->v[i].kids);
	free(p->v);
	free(p);
}

int tm_qplan_time_only(const struct tm_qplan *p)
{
	return p->time_only;
}

int tm_qplan_uses_app(const struct tm_qplan *p)
{
	return p->uses_app;
}

int tm_qplan_reads_records(const struct tm_qplan *p)
{
	return p->reads_records;
}

int tm_qplan_uses_contexts(const struct tm_qplan *p)
{
	return p->uses_contexts;
}

static const char *how(const struct tm_xnode *x)
{
	switch (x->kind) {
	case TM_X_NET:
		if (x->scope == TM_XS_INNER)
			return x->dir == TM_XD_EITHER ?
			    "index: inner addresses" :
			    "index: inner addresses, direction per packet "
			    "(from its position: no decoding)";
		if (x->scope == TM_XS_OUTER)
			return x->dir == TM_XD_EITHER ?
			    "index: outer addresses (untunnelled: inner ones)" :
			    "index: outer addresses, direction per packet";
		return x->dir == TM_XD_EITHER ?
		    "index: inner and tunnel addresses" :
		    "index: inner and tunnel addresses, direction per packet";
	case TM_X_PORT:
		if (x->scope == TM_XS_INNER)
			return x->dir == TM_XD_EITHER ? "index: ports" :
			    "index: ports, direction per packet (from its "
			    "position: no decoding)";
		return "index: ports of untunnelled connections; tunnelled "
		    "ones per packet";
	case TM_X_PROTO:
		return x->scope == TM_XS_INNER ? "index: protocol" :
		    "index: protocol of untunnelled connections; tunnelled "
		    "ones per packet";
	case TM_X_L3:
		return x->scope == TM_XS_INNER ? "index: network layer" :
		    "index: network layer and contexts";
	case TM_X_SPI:
		return "index: spi";
	case TM_X_VLAN:
		return "index: vlan";
	case TM_X_VLAN_ANY:
	case TM_X_TUNNEL_ANY:
		return "contexts";
	case TM_X_TUNNEL:
		return x->tun_plugin ? "contexts (tunnel names)" :
		    "index: tunnel type, checked on contexts";
	case TM_X_TID:
		return x->tid_type == TM_TUN_NONE ? "index: tunnel identifier" :
		    "index: tunnel identifier, checked on contexts for the "
		    "tunnel type";
	case TM_X_APP:
		return "index: application";
	case TM_X_CLASS:
		return "the segment's class";
	case TM_X_CID:
		return "connection keys (ICMP per packet)";
	case TM_X_AFTER:
	case TM_X_BEFORE:
		return "time: segment range, connection range, packet time";
	default:
		return "";
	}
}

static void describe(const struct tm_qplan *p, uint32_t id, FILE *out)
{
	const struct pnode *pn = &p->v[id];
	char buf[512];

	if (pn->x.kind == TM_X_AND || pn->x.kind == TM_X_OR ||
	    pn->x.kind == TM_X_NOT) {
		for (uint32_t k = 0; k < pn->x.n_kids; k++)
			describe(p, pn->kids[k], out);
		return;
	}
	if (pn->x.kind == TM_X_TRUE)
		return;
	tm_expr_format_node(p->e, id, buf, sizeof(buf));
	fprintf(out, "  %-40s %s\n", buf, how(&pn->x));
}

void tm_qplan_describe(const struct tm_qplan *p, FILE *out)
{
	if (p->v[p->root].x.kind == TM_X_TRUE)
		fprintf(out, "  (everything)\n");
	describe(p, p->root, out);
}

/* ---- leaves ----------------------------------------------------------------- */

/* Adds the connections of context c. */
static void add_ctx(struct tm_qseg *s, struct qset *a, uint32_t c)
{
	uint32_t first, end;

	tm_sc_ctx_conns(s->sc, c, &first, &end);
	if (first > end || end > s->n) {
		s->damaged = 1;
		return;
	}
	qs_add_range(a, first, end);
}

static int ctx_flags(struct tm_qseg *s)
{
	uint32_t nc = s->sc->h.n_contexts;
	struct tm_ctx_view v;

	if (s->cflag)
		return 0;
	s->cflag = calloc(nc ? nc : 1, 1);
	if (!s->cflag) {
		s->failed = 1;
		return -1;
	}
	for (uint32_t i = 0; i < nc; i++) {
		uint8_t f = 0;
		int outer_done = 0;

		tm_sc_context(s->sc, i, &v);
		if (v.n_vlans)
			f |= CF_VLAN;
		if (v.n_tunnels)
			f |= CF_TUN;
		for (unsigned k = 0; k < v.n_tunnels && k < TM_MAX_TUNNELS;
		    k++) {
			const struct tm_tunnel *t = &v.tunnels[k];
			int ip = t->src.family == 4 || t->src.family == 6 ||
			    t->dst.family == 4 || t->dst.family == 6;

			if (t->src.family == 4)
				f |= CF_TUN4;
			if (t->src.family == 6)
				f |= CF_TUN6;
			if (ip && !outer_done) {
				f |= CF_IPTUN;
				if (t->src.family == 4)
					f |= CF_OUTER4;
				else if (t->src.family == 6)
					f |= CF_OUTER6;
				outer_done = 1;
			}
		}
		s->cflag[i] = f;
	}
	return 0;
}

/* Connections of the contexts with any of the flags. */
static void ctx_with(struct tm_qseg *s, struct qset *a, unsigned flags)
{
	a->kind = QS_EMPTY;
	a->w = NULL;
	if (ctx_flags(s) || qs_bits(s, a))
		return;
	for (uint32_t i = 0; i < s->sc->h.n_contexts; i++)
		if (s->cflag[i] & flags)
			add_ctx(s, a, i);
	qs_norm(s, a);
}

/* Connections without an IP tunnel: their outermost IP layer is the
 * innermost one. */
static const struct qset *noiptun(struct tm_qseg *s)
{
	if (!s->have_noiptun) {
		struct qset t;

		ctx_with(s, &t, CF_IPTUN);
		qs_not(s, &s->noiptun, &t);
		qs_free(&t);
		s->have_noiptun = 1;
	}
	return &s->noiptun;
}

/* A context's verdict for a context-only predicate (VLAN, tunnels): the
 * node evaluated on a packet that has nothing but the context. */
static int ctx_matches(struct tm_qseg *s, uint32_t node, uint32_t c)
{
	struct tm_ctx_view v;

	if (!s->pkt) {
		s->pkt = calloc(1, sizeof(*s->pkt));
		if (!s->pkt) {
			s->failed = 1;
			return 0;
		}
	}
	tm_sc_context(s->sc, c, &v);
	s->pkt->n_vlans = v.n_vlans;
	memcpy(s->pkt->vlans, v.vlans, sizeof(v.vlans));
	s->pkt->n_tunnels = v.n_tunnels;
	memcpy(s->pkt->tunnels, v.tunnels, sizeof(v.tunnels));
	return tm_expr_eval_node(s->p->e, node, s->pkt, NULL,
	    TM_EXPR_NO_TIME) == TM_EXPR_TRUE;
}

static void post_add(struct tm_qseg *s, struct qset *a, int ctx,
    uint32_t verify, uint32_t id)
{
	if (!ctx)
		qs_add(a, id);
	else if (verify == UINT32_MAX || ctx_matches(s, verify, id))
		add_ctx(s, a, id);
}

/* Adds every id of posting p (tm_sc_field_next checked its header and
 * that a bitset is inside the section), reading nothing outside the
 * section (the planner runs before the sidecar's checksum is verified:
 * see exec.c). 0, or -1 if it is malformed. */
static int posting_each(struct tm_qseg *s, struct qset *a,
    const struct tm_sc_posting *p, int ctx, uint32_t verify)
{
	struct tm_rd r;
	uint64_t id = 0;

	if (p->count == 0)		/* damaged: read as empty */
		return -1;
	if (p->kind == 2) {		/* a single id, inline */
		post_add(s, a, ctx, verify, p->single);
		return 0;
	}
	if (p->kind == 1) {		/* a bitset over the universe */
		size_t nb = ((size_t)p->n_ids + 7) / 8;

		if (!ctx) {
			/* bit i of byte i / 8: little-endian words */
			for (size_t k = 0; k < nb; k++)
				a->w[k >> 3] |= (uint64_t)p->p[k] <<
				    (8 * (k & 7));
			if (s->n & 63)
				a->w[s->nw - 1] &= (1ull << (s->n & 63)) - 1;
			return 0;
		}
		for (uint32_t i = 0; i < p->n_ids; i++)
			if (p->p[i >> 3] & (1u << (i & 7)))
				post_add(s, a, ctx, verify, i);
		return 0;
	}
	r.p = p->p;
	r.end = p->end;
	for (uint64_t k = 0; k < p->count; k++) {	/* delta varints */
		uint64_t d;

		if (tm_rd_varint(&r, &d) || d >= p->n_ids)
			return -1;
		id = k ? id + d + 1 : d;
		if (id >= p->n_ids)
			return -1;
		post_add(s, a, ctx, verify, (uint32_t)id);
	}
	return 0;
}

/* Adds the ids of the values of field f in [vlo, vhi] (big-endian,
 * the field's width). For a context field, the connections of those
 * contexts; with verify_node != UINT32_MAX only the contexts on which
 * that node is true. Returns the number of values seen. */
static uint32_t add_values(struct tm_qseg *s, struct qset *a,
    enum tm_sc_field f, const uint8_t *vlo, const uint8_t *vhi,
    uint32_t verify_node)
{
	const struct tm_sc *sc = s->sc;
	const struct tm_sc_fsec *fs = &sc->f[f];
	unsigned width = fs->width;
	int ctx = fs->universe == TM_SC_U_CTX;
	uint32_t seen = 0;
	struct tm_sc_fiter it;
	struct tm_sc_posting p;

	if (fs->n_ids != (ctx ? sc->h.n_contexts : s->n)) {
		s->damaged = 1;
		return 0;
	}
	tm_sc_field_iter(sc, f, tm_sc_field_lower(sc, f, vlo), &it);
	while (tm_sc_field_next(&it, &p)) {
		if (memcmp(it.v, vhi, width) > 0)
			break;
		seen++;
		if (posting_each(s, a, &p, ctx, verify_node))
			s->damaged = 1;
	}
	if (it.bad)
		s->damaged = 1;
	return seen;
}

/* The set of one value (or a range) of a field. */
static void field_set(struct tm_qseg *s, struct qset *a, enum tm_sc_field f,
    const uint8_t *vlo, const uint8_t *vhi, uint32_t verify_node)
{
	a->kind = QS_EMPTY;
	a->w = NULL;
	if (qs_bits(s, a))
		return;
	add_values(s, a, f, vlo, vhi, verify_node);
	qs_norm(s, a);
}

static int in_net(const uint8_t *addr, uint8_t fam, const struct tm_xnode *x)
{
	size_t n = x->family == 4 ? 4 : 16;

	if (fam != x->family)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((addr[i] & x->mask[i]) != x->addr[i])
			return 0;
	return 1;
}

static int in_ports(uint16_t p, const struct tm_xnode *x)
{
	return p >= x->port_lo && p <= x->port_hi;
}

/* For a src/dst/both address or port predicate: the candidates whose two
 * endpoints both satisfy it match with every packet (lo); for `src and
 * dst` the others match with none (hi = lo). Which end satisfies it is
 * kept (ea, eb: endpoint a, b of the key), so that a packet's direction
 * (from its position in the sidecar) decides it without decoding. */
static void refine_dir(struct tm_qseg *s, uint32_t node,
    const struct tm_xnode *x, const struct qset *cand, struct qset *lo,
    struct qset *hi)
{
	struct qset *ea = &s->ea[node], *eb = &s->eb[node];

	lo->kind = QS_EMPTY;
	lo->w = NULL;
	if (qs_bits(s, lo) || qs_bits(s, ea) || qs_bits(s, eb))
		return;
	for (uint32_t w = 0; w < s->nw; w++) {
		uint64_t bits = cand->kind == QS_FULL ? ~0ull :
		    cand->kind == QS_BITS ? cand->w[w] : 0;

		while (bits) {
			uint32_t id = w * 64 + (uint32_t)__builtin_ctzll(bits);
			struct tm_sc_conn c;
			int a, b;

			bits &= bits - 1;
			if (id >= s->n)
				break;
			if (tm_sc_conn_get_safe(s->sc, id, &c)) {
				s->damaged = 1;
				continue;
			}
			if (x->kind == TM_X_NET) {
				a = in_net(c.key.addr_a, c.key.fam_a, x);
				b = in_net(c.key.addr_b, c.key.fam_b, x);
			} else {
				a = (c.flags & TM_SC_C_PORTS) &&
				    in_ports(c.key.port_a, x);
				b = (c.flags & TM_SC_C_PORTS) &&
				    in_ports(c.key.port_b, x);
			}
			if (a)
				qs_add(ea, id);
			if (b)
				qs_add(eb, id);
			if (a && b)
				qs_add(lo, id);
		}
	}
	qs_norm(s, lo);
	if (x->dir == TM_XD_BOTH) {
		qs_free(hi);
		qs_copy(s, hi, lo);
	}
}

static void set_exact(struct tm_qseg *s, uint32_t id, struct qset *a)
{
	s->hi[id] = *a;
	qs_copy(s, &s->lo[id], a);
}

/* community_id: computed from each connection's key (the ID orders the
 * endpoints, so any packet of the connection gives the same), except
 * ICMP's, whose type and code are per packet. Only the connections of
 * `only` (the and-ed siblings' candidates) when given: a SHA-1 each. */
static void cid_leaf(struct tm_qseg *s, uint32_t id, const struct qset *only)
{
	struct qset lo = { QS_EMPTY, NULL }, hi = { QS_EMPTY, NULL };
	struct tm_packet *v;

	if (!s->pkt)
		s->pkt = calloc(1, sizeof(*s->pkt));
	if (!s->pkt || qs_bits(s, &lo) || qs_bits(s, &hi)) {
		s->failed = 1;
		qs_free(&lo);
		qs_free(&hi);
		return;
	}
	v = s->pkt;
	for (uint32_t w = 0; w < s->nw; w++) {
		uint64_t bits = !only || only->kind == QS_FULL ? ~0ull :
		    only->kind == QS_BITS ? only->w[w] : 0;

		while (bits) {
			uint32_t c = w * 64 + (uint32_t)__builtin_ctzll(bits);
			struct tm_sc_conn rc;
			const struct tm_key *k = &rc.key;

			bits &= bits - 1;
			if (c >= s->n)
				break;
			if (tm_sc_conn_get_safe(s->sc, c, &rc)) {
				s->damaged = 1;
				continue;
			}
			if ((rc.flags & TM_SC_C_PROTO) && (k->proto == 1 ||
			    k->proto == 58)) {
				qs_add(&hi, c);	/* ICMP: per packet */
				continue;
			}
			v->l3 = k->l3;
			v->src.family = k->fam_a;
			memcpy(v->src.a, k->addr_a, 16);
			v->dst.family = k->fam_b;
			memcpy(v->dst.a, k->addr_b, 16);
			v->proto = k->proto;
			v->sport = k->port_a;
			v->dport = k->port_b;
			v->flags = ((rc.flags & TM_SC_C_PROTO) ? TM_PF_HAS_PROTO :
			    0) | ((rc.flags & TM_SC_C_PORTS) ? TM_PF_HAS_PORTS :
			    0);
			if (tm_expr_eval_node(s->p->e, id, v, NULL,
			    TM_EXPR_NO_TIME) == TM_EXPR_TRUE) {
				qs_add(&lo, c);
				qs_add(&hi, c);
			}
		}
	}
	qs_norm(s, &lo);
	qs_norm(s, &hi);
	s->lo[id] = lo;
	s->hi[id] = hi;
}

static void leaf(struct tm_qseg *s, uint32_t id, const struct qset *only)
{
	const struct pnode *pn = &s->p->v[id];
	const struct tm_xnode *x = &pn->x;
	const struct tm_sc *sc = s->sc;
	struct qset a = { QS_EMPTY, NULL }, t = { QS_EMPTY, NULL };
	uint8_t vlo[16], vhi[16];

	s->lo[id].kind = QS_EMPTY;
	s->hi[id].kind = QS_FULL;
	switch (x->kind) {
	case TM_X_NET: {
		unsigned w = x->family == 4 ? 4 : 16;
		enum tm_sc_field fi = x->family == 4 ? TM_SC_ADDR4 :
		    TM_SC_ADDR6;

		for (unsigned i = 0; i < w; i++) {
			vlo[i] = x->addr[i];
			vhi[i] = (uint8_t)(x->addr[i] | ~x->mask[i]);
		}
		field_set(s, &a, fi, vlo, vhi, UINT32_MAX);
		if (x->scope == TM_XS_OUTER) {
			uint8_t l3 = x->family == 4 ? TM_L3_IPV4 : TM_L3_IPV6;

			field_set(s, &t, TM_SC_L3, &l3, &l3, UINT32_MAX);
			qs_and(s, &a, &t);
			qs_free(&t);
			qs_and(s, &a, noiptun(s));
			field_set(s, &t, x->family == 4 ? TM_SC_OUTER_ADDR4 :
			    TM_SC_OUTER_ADDR6, vlo, vhi, UINT32_MAX);
			qs_or(s, &a, &t);
			qs_free(&t);
		} else if (x->scope == TM_XS_ANY) {
			field_set(s, &t, x->family == 4 ? TM_SC_TUNNEL_ADDR4 :
			    TM_SC_TUNNEL_ADDR6, vlo, vhi, UINT32_MAX);
			qs_or(s, &a, &t);
			qs_free(&t);
		}
		if (x->dir == TM_XD_EITHER) {
			set_exact(s, id, &a);
		} else {
			s->hi[id] = a;
			if (x->scope == TM_XS_INNER)
				refine_dir(s, id, x, &a, &s->lo[id], &s->hi[id]);
		}
		return;
	}
	case TM_X_PORT:
		tm_sc_be16(vlo, x->port_lo);
		tm_sc_be16(vhi, x->port_hi);
		field_set(s, &a, TM_SC_PORT, vlo, vhi, UINT32_MAX);
		if (x->scope == TM_XS_INNER) {
			if (x->dir == TM_XD_EITHER) {
				set_exact(s, id, &a);
			} else {
				s->hi[id] = a;
				refine_dir(s, id, x, &a, &s->lo[id], &s->hi[id]);
			}
			return;
		}
		goto outer_any;
	case TM_X_PROTO:
		field_set(s, &a, TM_SC_PROTO, &x->proto, &x->proto,
		    UINT32_MAX);
		if (x->scope == TM_XS_INNER) {
			set_exact(s, id, &a);
			return;
		}
	outer_any:
		/* outer: untunnelled connections answer with their inner
		 * field; any: the inner field suffices; connections with an
		 * IP tunnel may match through the outer layer */
		ctx_with(s, &t, CF_IPTUN);
		if (x->scope == TM_XS_OUTER)
			qs_and(s, &a, noiptun(s));
		if (x->kind == TM_X_PROTO || x->dir == TM_XD_EITHER)
			qs_copy(s, &s->lo[id], &a);
		qs_or(s, &a, &t);
		qs_free(&t);
		s->hi[id] = a;
		return;
	case TM_X_L3:
		field_set(s, &a, TM_SC_L3, &x->l3, &x->l3, UINT32_MAX);
		if (x->scope == TM_XS_OUTER) {
			qs_and(s, &a, noiptun(s));
			if (x->l3 == TM_L3_IPV4 || x->l3 == TM_L3_IPV6) {
				ctx_with(s, &t, x->l3 == TM_L3_IPV4 ?
				    CF_OUTER4 : CF_OUTER6);
				qs_or(s, &a, &t);
				qs_free(&t);
			}
		} else if (x->scope == TM_XS_ANY &&
		    (x->l3 == TM_L3_IPV4 || x->l3 == TM_L3_IPV6)) {
			ctx_with(s, &t, x->l3 == TM_L3_IPV4 ? CF_TUN4 :
			    CF_TUN6);
			qs_or(s, &a, &t);
			qs_free(&t);
		}
		set_exact(s, id, &a);
		return;
	case TM_X_SPI:
		tm_sc_be32(vlo, x->num);
		field_set(s, &a, TM_SC_SPI, vlo, vlo, UINT32_MAX);
		set_exact(s, id, &a);
		return;
	case TM_X_VLAN:
		tm_sc_be16(vlo, (uint16_t)x->num);
		if (x->num > 0xffff) {
			s->hi[id].kind = QS_EMPTY;
			return;
		}
		field_set(s, &a, TM_SC_VLAN, vlo, vlo, UINT32_MAX);
		set_exact(s, id, &a);
		return;
	case TM_X_VLAN_ANY:
		ctx_with(s, &a, CF_VLAN);
		set_exact(s, id, &a);
		return;
	case TM_X_TUNNEL_ANY:
		ctx_with(s, &a, CF_TUN);
		set_exact(s, id, &a);
		return;
	case TM_X_TUNNEL:
		if (!x->tun_plugin) {
			vlo[0] = x->tun_type;
			field_set(s, &a, TM_SC_TUNNEL, vlo, vlo, id);
		} else {
			/* a plugin's name: every context, checked */
			if (qs_bits(s, &a) == 0) {
				for (uint32_t c = 0; c < sc->h.n_contexts; c++)
					if (ctx_matches(s, id, c))
						add_ctx(s, &a, c);
				qs_norm(s, &a);
			}
		}
		set_exact(s, id, &a);
		return;
	case TM_X_TID: {
		enum tm_sc_field f;

		switch (x->tid_flag) {
		case TM_TID_KEY: f = TM_SC_GRE_KEY; break;
		case TM_TID_TUNNEL: f = TM_SC_L2TP_TUNNEL; break;
		case TM_TID_SESSION: f = TM_SC_SESSION; break;
		case TM_TID_VNI: f = TM_SC_VNI; break;
		case TM_TID_TEID: f = TM_SC_TEID; break;
		default: f = TM_SC_MPLS_LABEL; break;
		}
		tm_sc_be32(vlo, x->tid_val);
		field_set(s, &a, f, vlo, vlo, x->tid_type == TM_TUN_NONE ?
		    UINT32_MAX : id);
		set_exact(s, id, &a);
		return;
	}
	case TM_X_APP: {
		uint32_t nv = tm_sc_field_count(sc, TM_SC_APP);

		if (qs_bits(s, &a))
			return;
		for (uint32_t i = 0; i < nv; i++) {
			uint8_t v[16];
			const char *name = tm_sc_field_value(sc, TM_SC_APP, i,
			    v, NULL) ? tm_sc_string(sc, (uint32_t)v[0] << 24 |
			    (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]) :
			    NULL;

			if (name && tm_expr_app_matches(name, x->str,
			    x->str_len))
				add_values(s, &a, TM_SC_APP, v, v, UINT32_MAX);
		}
		qs_norm(s, &a);
		set_exact(s, id, &a);
		return;
	}
	case TM_X_CLASS: {
		const char *cls = tm_sc_class(sc);

		a.kind = strlen(cls) == x->str_len &&
		    strncasecmp(cls, x->str, x->str_len) == 0 ? QS_FULL :
		    QS_EMPTY;
		set_exact(s, id, &a);
		return;
	}
	case TM_X_AFTER:
		if (sc->h.min_ts >= x->ts)
			s->lo[id].kind = QS_FULL;
		else if (sc->h.max_ts < x->ts)
			s->hi[id].kind = QS_EMPTY;
		return;
	case TM_X_BEFORE:
		if (sc->h.max_ts < x->ts)
			s->lo[id].kind = QS_FULL;
		else if (sc->h.min_ts >= x->ts)
			s->hi[id].kind = QS_EMPTY;
		return;
	case TM_X_TRUE:
		s->lo[id].kind = QS_FULL;
		return;
	case TM_X_CID:
		cid_leaf(s, id, only);
		return;
	default:
		return;
	}
}

/* A leaf that costs per connection rather than per posting. */
static int expensive(const struct tm_qseg *s, uint32_t id)
{
	return s->p->v[id].x.kind == TM_X_CID;
}

static void build(struct tm_qseg *s, uint32_t id)
{
	const struct pnode *pn = &s->p->v[id];
	struct qset *lo = &s->lo[id], *hi = &s->hi[id];

	switch (pn->x.kind) {
	case TM_X_AND:
	case TM_X_OR:
		lo->kind = hi->kind = pn->x.kind == TM_X_AND ? QS_FULL :
		    QS_EMPTY;
		/* and: the cheap children first; an expensive leaf then
		 * looks only at what they left (connections outside the
		 * and's hi never reach its children) */
		for (int pass = 0; pass < 2; pass++)
			for (uint32_t k = 0; k < pn->x.n_kids; k++) {
				uint32_t c = pn->kids[k];
				int late = pn->x.kind == TM_X_AND &&
				    expensive(s, c);

				if (late != pass)
					continue;
				/* an empty and, a full or: the rest cannot
				 * change it (their sets stay empty; the
				 * evaluation never reaches them) */
				if ((pn->x.kind == TM_X_AND &&
				    hi->kind == QS_EMPTY) ||
				    (pn->x.kind == TM_X_OR &&
				    lo->kind == QS_FULL))
					return;
				if (late)
					leaf(s, c, hi);
				else
					build(s, c);
				if (pn->x.kind == TM_X_AND) {
					qs_and(s, lo, &s->lo[c]);
					qs_and(s, hi, &s->hi[c]);
				} else {
					qs_or(s, lo, &s->lo[c]);
					qs_or(s, hi, &s->hi[c]);
				}
			}
		return;
	case TM_X_NOT:
		build(s, pn->kids[0]);
		qs_not(s, lo, &s->hi[pn->kids[0]]);
		qs_not(s, hi, &s->lo[pn->kids[0]]);
		return;
	default:
		leaf(s, id, NULL);
		return;
	}
}

struct tm_qseg *tm_qseg_new(const struct tm_qplan *p, const struct tm_sc *sc)
{
	struct tm_qseg *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = p;
	s->sc = sc;
	s->n = sc->h.n_conns;
	s->nw = (s->n + 63) / 64;
	s->lo = calloc(p->n ? p->n : 1, sizeof(*s->lo));
	s->hi = calloc(p->n ? p->n : 1, sizeof(*s->hi));
	s->ea = calloc(p->n ? p->n : 1, sizeof(*s->ea));
	s->eb = calloc(p->n ? p->n : 1, sizeof(*s->eb));
	if (!s->lo || !s->hi || !s->ea || !s->eb) {
		tm_qseg_free(s);
		return NULL;
	}
	if (s->n == 0) {
		s->damaged = 1;		/* a header says so: cannot be */
		return s;
	}
	build(s, p->root);
	if (s->failed) {
		tm_qseg_free(s);
		return NULL;
	}
	return s;
}

void tm_qseg_free(struct tm_qseg *s)
{
	if (!s)
		return;
	if (s->lo && s->hi && s->ea && s->eb)
		for (uint32_t i = 0; i < s->p->n; i++) {
			qs_free(&s->lo[i]);
			qs_free(&s->hi[i]);
			qs_free(&s->ea[i]);
			qs_free(&s->eb[i]);
		}
	free(s->lo);
	free(s->hi);
	free(s->ea);
	free(s->eb);
	qs_free(&s->noiptun);
	free(s->cflag);
	free(s->pkt);
	free(s);
}

int tm_qseg_damaged(const struct tm_qseg *s)
{
	return s->damaged;
}

uint32_t tm_qseg_hi_count(const struct tm_qseg *s)
{
	return (uint32_t)qs_count(s, &s->hi[s->p->root]);
}

uint32_t tm_qseg_lo_count(const struct tm_qseg *s)
{
	return (uint32_t)qs_count(s, &s->lo[s->p->root]);
}

int tm_qseg_hi_empty(const struct tm_qseg *s)
{
	return s->hi[s->p->root].kind == QS_EMPTY;
}

int tm_qseg_hi_all(const struct tm_qseg *s)
{
	return s->hi[s->p->root].kind == QS_FULL;
}

int tm_qseg_next(const struct tm_qseg *s, uint32_t *id)
{
	const struct qset *a = &s->hi[s->p->root];
	uint32_t i = *id;

	if (i >= s->n || a->kind == QS_EMPTY)
		return 0;
	if (a->kind == QS_FULL)
		return 1;
	for (uint32_t w = i >> 6; w < s->nw; w++) {
		uint64_t bits = a->w[w];

		if (w == i >> 6)
			bits &= ~0ull << (i & 63);
		if (bits) {
			*id = w * 64 + (uint32_t)__builtin_ctzll(bits);
			return *id < s->n;
		}
	}
	return 0;
}

#define F TM_EXPR_FALSE
#define T TM_EXPR_TRUE
#define U TM_EXPR_UNKNOWN

static enum tm_expr_result ev(const struct tm_qseg *s, uint32_t node,
    uint32_t id, int64_t t0, int64_t t1, int pdir)
{
	const struct pnode *pn = &s->p->v[node];
	const struct qset *lo = &s->lo[node], *hi = &s->hi[node];
	enum tm_expr_result acc, r;

	if (id != UINT32_MAX) {
		if (qs_has(lo, id))
			return T;
		if (!qs_has(hi, id))
			return F;
	} else {
		if (lo->kind == QS_FULL)
			return T;
		if (hi->kind == QS_EMPTY)
			return F;
	}
	switch (pn->x.kind) {
	case TM_X_AND:
	case TM_X_OR: {
		enum tm_expr_result dom = pn->x.kind == TM_X_AND ? F : T;

		acc = dom == F ? T : F;
		for (uint32_t k = 0; k < pn->x.n_kids; k++) {
			r = ev(s, pn->kids[k], id, t0, t1, pdir);
			if (r == dom)
				return dom;
			if (r == U)
				acc = U;
		}
		return acc;
	}
	case TM_X_NOT:
		r = ev(s, pn->kids[0], id, t0, t1, pdir);
		return r == U ? U : r == T ? F : T;
	case TM_X_AFTER:
		return t0 >= pn->x.ts ? T : t1 < pn->x.ts ? F : U;
	case TM_X_BEFORE:
		return t1 < pn->x.ts ? T : t0 >= pn->x.ts ? F : U;
	case TM_X_TRUE:
		return T;
	case TM_X_NET:
	case TM_X_PORT:
		/* src/dst: the packet's direction picks the end */
		if (pdir >= 0 && id != UINT32_MAX &&
		    pn->x.scope == TM_XS_INNER && pn->x.dir != TM_XD_EITHER) {
			int a = qs_has(&s->ea[node], id);
			int b = qs_has(&s->eb[node], id);

			if (pn->x.dir == TM_XD_SRC)
				return (pdir ? b : a) ? T : F;
			if (pn->x.dir == TM_XD_DST)
				return (pdir ? a : b) ? T : F;
			return a && b ? T : F;
		}
		return U;
	default:
		return U;
	}
}

enum tm_expr_result tm_qseg_eval(const struct tm_qseg *s, uint32_t id,
    int64_t t0, int64_t t1, int dir)
{
	return ev(s, s->p->root, id, t0, t1, dir);
}
