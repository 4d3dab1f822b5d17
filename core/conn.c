/*
 * The connection table: a preallocated pool, chained hashing with 32-bit
 * indices, five LRU lists (one per timeout class), and the interned
 * contexts. See conn.h.
 */
#include "conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- interned contexts -------------------------------------------------
 * A context is serialized into a canonical byte string in the orientation
 * of the packet that created it (so a flow record prints the tunnel the way
 * its first packet crossed it); equal strings share one entry. */

struct ctx_ent {
	uint64_t hash;
	uint32_t refs;
	uint32_t next;		/* bucket chain: context id, 0 ends */
	uint16_t len;
	uint8_t bytes[];
};

#define CTX_MAX_BYTES	(2 + TM_MAX_VLANS * 2 + TM_MAX_TUNNELS * \
	(4 + sizeof(void *) + 2 * 17 + 6 * 4))

struct ctxtab {
	struct ctx_ent **ents;	/* id -> entry; [0] unused */
	uint32_t cap;		/* ents allocated */
	uint32_t top;		/* ids handed out so far (+1) */
	uint32_t *free_ids;	/* released ids, reused first */
	uint32_t n_free;
	uint32_t *buckets;	/* hash -> first id, 0: none */
	uint32_t mask;
	uint32_t live;
	size_t bytes;		/* memory held by entries */
};

struct tm_conntab {
	struct tm_conn *e;	/* the pool: max entries */
	uint32_t max;
	uint32_t used;		/* entries ever handed out (bump) */
	uint32_t free;		/* free list through hnext */
	uint32_t *buckets;
	uint32_t mask;
	uint32_t head[TM_TC_COUNT], tail[TM_TC_COUNT];
	int64_t timeout[TM_TC_COUNT];
	tm_conn_end_fn end_fn;
	void *end_arg;
	struct tm_conn_stats st;
	struct ctxtab ctx;
};

static const char *const end_names[] = {
	[TM_END_NONE] = "none", [TM_END_FIN] = "fin", [TM_END_RST] = "rst",
	[TM_END_TIMEOUT] = "timeout", [TM_END_EVICTED] = "evicted",
	[TM_END_EOF] = "eof",
};

const char *tm_end_reason_name(enum tm_end_reason r)
{
	return (unsigned)r <= TM_END_EOF ? end_names[r] : "none";
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1024;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

struct tm_conntab *tm_conntab_new(const struct tm_conn_opts *o,
    tm_conn_end_fn fn, void *arg, char *err, size_t errlen)
{
	struct tm_conntab *t;
	uint32_t nb;

	if (o->max < 1 || o->max >= TM_CONN_NIL) {
		snprintf(err, errlen, "connections.max must be from 1 to %u",
		    TM_CONN_NIL - 1);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto oom;
	t->max = o->max;
	/* calloc of a large block maps zero pages: an entry's page becomes
	 * resident only when the entry is first used */
	t->e = calloc(o->max, sizeof(*t->e));
	nb = pow2_at_least(o->max);
	t->buckets = malloc((size_t)nb * sizeof(*t->buckets));
	if (!t->e || !t->buckets)
		goto oom;
	memset(t->buckets, 0xff, (size_t)nb * sizeof(*t->buckets));
	t->mask = nb - 1;
	t->free = TM_CONN_NIL;
	for (int i = 0; i < TM_TC_COUNT; i++) {
		t->head[i] = t->tail[i] = TM_CONN_NIL;
		t->timeout[i] = o->timeout_ns[i];
	}
	t->end_fn = fn;
	t->end_arg = arg;
	return t;
oom:
	snprintf(err, errlen, "cannot allocate a table of %u connections "
	    "(%zu bytes each)", o->max, sizeof(struct tm_conn));
	tm_conntab_free(t);
	return NULL;
}

void tm_conntab_free(struct tm_conntab *t)
{
	if (!t)
		return;
	for (uint32_t i = 1; i < t->ctx.top; i++)
		free(t->ctx.ents[i]);
	free(t->ctx.ents);
	free(t->ctx.free_ids);
	free(t->ctx.buckets);
	free(t->buckets);
	free(t->e);
	free(t);
}

static inline uint32_t bucket_of(const struct tm_conntab *t, uint32_t hi)
{
	return hi & t->mask;
}

struct tm_conn *tm_conntab_find(struct tm_conntab *t,
    const struct tm_key *key, uint64_t hash)
{
	uint32_t hi = (uint32_t)(hash >> 32);
	uint32_t i = t->buckets[bucket_of(t, hi)];

	while (i != TM_CONN_NIL) {
		struct tm_conn *c = &t->e[i];

		if (c->hash_hi == hi && memcmp(&c->key, key, sizeof(*key)) == 0)
			return c;
		i = c->hnext;
	}
	return NULL;
}

/* ---- LRU lists ---------------------------------------------------------- */

static void lru_unlink(struct tm_conntab *t, struct tm_conn *c)
{
	unsigned l = c->tclass;

	if (c->prev != TM_CONN_NIL)
		t->e[c->prev].next = c->next;
	else
		t->head[l] = c->next;
	if (c->next != TM_CONN_NIL)
		t->e[c->next].prev = c->prev;
	else
		t->tail[l] = c->prev;
}

static void lru_push_head(struct tm_conntab *t, struct tm_conn *c,
    unsigned l)
{
	uint32_t idx = (uint32_t)(c - t->e);

	c->tclass = (uint8_t)l;
	c->prev = TM_CONN_NIL;
	c->next = t->head[l];
	if (t->head[l] != TM_CONN_NIL)
		t->e[t->head[l]].prev = idx;
	else
		t->tail[l] = idx;
	t->head[l] = idx;
}

void tm_conntab_touch(struct tm_conntab *t, struct tm_conn *c, int64_t now,
    enum tm_tclass tclass)
{
	if (now > c->last_ts)
		c->last_ts = now;
	if (t->head[tclass] == (uint32_t)(c - t->e))
		return;
	lru_unlink(t, c);
	lru_push_head(t, c, tclass);
}

int tm_conntab_idle(const struct tm_conntab *t, const struct tm_conn *c,
    int64_t now)
{
	return now - c->last_ts > t->timeout[c->tclass];
}

enum tm_end_reason tm_conn_idle_reason(const struct tm_conn *c)
{
	if (c->tclass == TM_TC_TCP_CLOSING)
		return (c->state & TM_CS_RST) ? TM_END_RST : TM_END_FIN;
	return TM_END_TIMEOUT;
}

/* ---- contexts ----------------------------------------------------------- */

static size_t put_addr(uint8_t *b, const struct tm_addr *a)
{
	size_t n = a->family == 6 ? 16 : a->family == 4 ? 4 : 0;

	b[0] = a->family;
	memcpy(b + 1, a->a, n);
	return n + 1;
}

static size_t get_addr(const uint8_t *b, struct tm_addr *a)
{
	size_t n;

	memset(a, 0, sizeof(*a));
	a->family = b[0];
	n = a->family == 6 ? 16 : a->family == 4 ? 4 : 0;
	memcpy(a->a, b + 1, n);
	return n + 1;
}

static size_t ctx_serialize(const struct tm_packet *pkt, uint8_t *b)
{
	size_t n = 0;
	unsigned nv = pkt->n_vlans > TM_MAX_VLANS ? TM_MAX_VLANS :
	    pkt->n_vlans;
	unsigned nt = pkt->n_tunnels > TM_MAX_TUNNELS ? TM_MAX_TUNNELS :
	    pkt->n_tunnels;

	b[n++] = (uint8_t)nv;
	for (unsigned i = 0; i < nv; i++) {
		memcpy(b + n, &pkt->vlans[i], 2);
		n += 2;
	}
	b[n++] = (uint8_t)nt;
	for (unsigned i = 0; i < nt; i++) {
		const struct tm_tunnel *tu = &pkt->tunnels[i];
		uint32_t ids[6] = { tu->key, tu->tunnel_id, tu->session_id,
			tu->vni, tu->teid, tu->label };

		b[n++] = tu->type;
		b[n++] = tu->ids;
		memcpy(b + n, &tu->payload, 2);
		n += 2;
		memcpy(b + n, &tu->name, sizeof(tu->name));
		n += sizeof(tu->name);
		n += put_addr(b + n, &tu->src);
		n += put_addr(b + n, &tu->dst);
		for (unsigned k = 0; k < 6; k++)
			if (tu->ids & (1u << k)) {
				memcpy(b + n, &ids[k], 4);
				n += 4;
			}
	}
	return n;
}

static void ctx_deserialize(const uint8_t *b, struct tm_ctx_view *v)
{
	size_t n = 0;

	memset(v, 0, sizeof(*v));
	v->n_vlans = b[n++];
	for (unsigned i = 0; i < v->n_vlans; i++) {
		memcpy(&v->vlans[i], b + n, 2);
		n += 2;
	}
	v->n_tunnels = b[n++];
	for (unsigned i = 0; i < v->n_tunnels; i++) {
		struct tm_tunnel *tu = &v->tunnels[i];
		uint32_t ids[6] = { 0 };

		tu->type = b[n++];
		tu->ids = b[n++];
		memcpy(&tu->payload, b + n, 2);
		n += 2;
		memcpy(&tu->name, b + n, sizeof(tu->name));
		n += sizeof(tu->name);
		n += get_addr(b + n, &tu->src);
		n += get_addr(b + n, &tu->dst);
		for (unsigned k = 0; k < 6; k++)
			if (tu->ids & (1u << k)) {
				memcpy(&ids[k], b + n, 4);
				n += 4;
			}
		tu->key = ids[0];
		tu->tunnel_id = ids[1];
		tu->session_id = ids[2];
		tu->vni = ids[3];
		tu->teid = ids[4];
		tu->label = ids[5];
	}
}

static int ctx_rehash(struct ctxtab *x, uint32_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return -1;
	for (uint32_t id = 1; id < x->top; id++) {
		struct ctx_ent *e = x->ents[id];

		if (!e)
			continue;
		e->next = b[e->hash & (nb - 1)];
		b[e->hash & (nb - 1)] = id;
	}
	free(x->buckets);
	x->buckets = b;
	x->mask = nb - 1;
	return 0;
}

uint32_t tm_conntab_ctx_intern(struct tm_conntab *t,
    const struct tm_packet *pkt)
{
	struct ctxtab *x = &t->ctx;
	uint8_t buf[CTX_MAX_BYTES];
	struct ctx_ent *e;
	uint64_t h;
	size_t len;
	uint32_t id;

	if (pkt->n_vlans == 0 && pkt->n_tunnels == 0)
		return 0;
	len = ctx_serialize(pkt, buf);
	h = XXH3_64bits(buf, len);
	if (x->buckets) {
		for (id = x->buckets[h & x->mask]; id; id = x->ents[id]->next) {
			e = x->ents[id];
			if (e->hash == h && e->len == len &&
			    memcmp(e->bytes, buf, len) == 0) {
				e->refs++;
				return id;
			}
		}
	}
	/* a new context: the only allocation on this path, once per
	 * distinct tunnel/VLAN context, never per packet */
	if (x->live + 1 > (x->buckets ? x->mask + 1 : 0) &&
	    ctx_rehash(x, x->buckets ? (x->mask + 1) * 2 : 256))
		return 0;
	if (x->n_free) {
		id = x->free_ids[--x->n_free];
	} else {
		if (x->top == 0)
			x->top = 1;
		if (x->top >= x->cap) {
			uint32_t ncap = x->cap ? x->cap * 2 : 256;
			struct ctx_ent **ne = realloc(x->ents,
			    ncap * sizeof(*ne));
			uint32_t *nf;

			if (!ne)
				return 0;
			x->ents = ne;
			nf = realloc(x->free_ids, ncap * sizeof(*nf));
			if (!nf)
				return 0;
			x->free_ids = nf;
			for (uint32_t i = x->cap; i < ncap; i++)
				x->ents[i] = NULL;
			x->cap = ncap;
		}
		id = x->top++;
	}
	e = malloc(sizeof(*e) + len);
	if (!e) {
		x->free_ids[x->n_free++] = id;
		return 0;	/* the flow record will lack its context */
	}
	e->hash = h;
	e->refs = 1;
	e->len = (uint16_t)len;
	memcpy(e->bytes, buf, len);
	e->next = x->buckets[h & x->mask];
	x->buckets[h & x->mask] = id;
	x->ents[id] = e;
	x->live++;
	x->bytes += sizeof(*e) + len;
	t->st.contexts = x->live;
	if (x->live > t->st.contexts_peak)
		t->st.contexts_peak = x->live;
	return id;
}

static void ctx_release(struct tm_conntab *t, uint32_t id)
{
	struct ctxtab *x = &t->ctx;
	struct ctx_ent *e;
	uint32_t *pp;

	if (id == 0 || id >= x->top || !(e = x->ents[id]))
		return;
	if (--e->refs)
		return;
	for (pp = &x->buckets[e->hash & x->mask]; *pp; pp =
	    &x->ents[*pp]->next)
		if (*pp == id) {
			*pp = e->next;
			break;
		}
	x->bytes -= sizeof(*e) + e->len;
	free(e);
	x->ents[id] = NULL;
	x->free_ids[x->n_free++] = id;
	x->live--;
	t->st.contexts = x->live;
}

void tm_conntab_ctx_get(const struct tm_conntab *t, uint32_t id,
    struct tm_ctx_view *out)
{
	const struct ctx_ent *e = NULL;

	if (id && id < t->ctx.top)
		e = t->ctx.ents[id];
	if (!e) {
		out->n_vlans = out->n_tunnels = 0;
		return;
	}
	ctx_deserialize(e->bytes, out);
}

/* ---- insert, end, expire ------------------------------------------------- */

void tm_conntab_end(struct tm_conntab *t, struct tm_conn *c,
    enum tm_end_reason why)
{
	uint32_t idx = (uint32_t)(c - t->e);
	uint32_t *pp = &t->buckets[bucket_of(t, c->hash_hi)];

	if (t->end_fn)
		t->end_fn(c, why, t->end_arg);
	while (*pp != TM_CONN_NIL && *pp != idx)
		pp = &t->e[*pp].hnext;
	if (*pp == idx)
		*pp = c->hnext;
	lru_unlink(t, c);
	ctx_release(t, c->ctx);
	c->hnext = t->free;
	t->free = idx;
	t->st.live--;
	t->st.ended[why <= TM_END_EOF ? why : TM_END_NONE]++;
}

/* The least recently seen connection of all lists. */
static struct tm_conn *oldest(struct tm_conntab *t)
{
	struct tm_conn *best = NULL;

	for (int l = 0; l < TM_TC_COUNT; l++) {
		struct tm_conn *c;

		if (t->tail[l] == TM_CONN_NIL)
			continue;
		c = &t->e[t->tail[l]];
		if (!best || c->last_ts < best->last_ts)
			best = c;
	}
	return best;
}

struct tm_conn *tm_conntab_insert(struct tm_conntab *t,
    const struct tm_key *key, uint64_t hash, int64_t now,
    enum tm_tclass tclass)
{
	uint32_t idx, b;
	struct tm_conn *c;

	if (t->free == TM_CONN_NIL && t->used >= t->max)
		tm_conntab_end(t, oldest(t), TM_END_EVICTED);
	if (t->free != TM_CONN_NIL) {
		idx = t->free;
		t->free = t->e[idx].hnext;
	} else {
		idx = t->used++;
	}
	c = &t->e[idx];
	memset(c, 0, sizeof(*c));
	c->key = *key;
	c->hash_hi = (uint32_t)(hash >> 32);
	c->first_ts = c->last_ts = now;
	c->cutoff = UINT64_MAX;
	b = bucket_of(t, c->hash_hi);
	c->hnext = t->buckets[b];
	t->buckets[b] = idx;
	lru_push_head(t, c, tclass);
	t->st.created++;
	if (++t->st.live > t->st.peak)
		t->st.peak = t->st.live;
	return c;
}

size_t tm_conntab_expire(struct tm_conntab *t, int64_t now)
{
	size_t n = 0;

	for (int l = 0; l < TM_TC_COUNT; l++)
		while (t->tail[l] != TM_CONN_NIL) {
			struct tm_conn *c = &t->e[t->tail[l]];

			if (now - c->last_ts <= t->timeout[l])
				break;
			tm_conntab_end(t, c, tm_conn_idle_reason(c));
			n++;
		}
	return n;
}

static const struct tm_conntab *sort_tab;

static int by_first(const void *a, const void *b)
{
	const struct tm_conn *x = &sort_tab->e[*(const uint32_t *)a];
	const struct tm_conn *y = &sort_tab->e[*(const uint32_t *)b];

	if (x->first_ts != y->first_ts)
		return x->first_ts < y->first_ts ? -1 : 1;
	if (x->first_frame != y->first_frame)
		return x->first_frame < y->first_frame ? -1 : 1;
	return 0;
}

void tm_conntab_flush(struct tm_conntab *t, enum tm_end_reason why)
{
	uint32_t *v;
	size_t n = 0;

	if (t->st.live == 0)
		return;
	v = malloc(t->st.live * sizeof(*v));
	if (!v) {
		/* no memory to sort: end them list by list */
		for (int l = 0; l < TM_TC_COUNT; l++)
			while (t->tail[l] != TM_CONN_NIL)
				tm_conntab_end(t, &t->e[t->tail[l]], why);
		return;
	}
	for (int l = 0; l < TM_TC_COUNT; l++)
		for (uint32_t i = t->head[l]; i != TM_CONN_NIL; i = t->e[i].next)
			v[n++] = i;
	sort_tab = t;
	qsort(v, n, sizeof(*v), by_first);
	for (size_t i = 0; i < n; i++)
		tm_conntab_end(t, &t->e[v[i]], why);
	free(v);
}

uint32_t tm_conntab_index(const struct tm_conntab *t, const struct tm_conn *c)
{
	return (uint32_t)(c - t->e);
}

struct tm_conn *tm_conntab_at(struct tm_conntab *t, uint32_t idx)
{
	return &t->e[idx];
}

uint32_t tm_conntab_max(const struct tm_conntab *t)
{
	return t->max;
}

const struct tm_conn_stats *tm_conntab_stats(const struct tm_conntab *t)
{
	return &t->st;
}

size_t tm_conntab_memory(const struct tm_conntab *t)
{
	return (size_t)t->used * sizeof(struct tm_conn) +
	    ((size_t)t->mask + 1) * sizeof(uint32_t) + t->ctx.bytes +
	    (size_t)t->ctx.cap * (sizeof(void *) + sizeof(uint32_t)) +
	    (t->ctx.buckets ? ((size_t)t->ctx.mask + 1) * sizeof(uint32_t) : 0);
}
