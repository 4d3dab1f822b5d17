/*
 * The sidecar builder: connections, contexts and packets of one segment
 * in, the canonical sidecar bytes out (see sidecar.h, docs/storage.md).
 *
 * Feeding is cheap (the writer thread calls it per packet): a packet is
 * one 16-byte append. Everything else happens once, in tm_scb_finish():
 * per-connection times and counts, the canonical numbering (strings by
 * name, contexts by their bytes, connections by context then arrival),
 * the position lists (a counting sort of the packets by connection), and
 * the postings (a radix sort of (value, id) pairs per field).
 */
#define _GNU_SOURCE
#include "sidecar.h"
#include "sidecar_dict.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

const struct tm_sc_field_info tm_sc_fields[TM_SC_NFIELDS] = {
	[TM_SC_ADDR4] = { "addr4", 4, TM_SC_U_CONNS },
	[TM_SC_ADDR6] = { "addr6", 16, TM_SC_U_CONNS },
	[TM_SC_PORT] = { "port", 2, TM_SC_U_CONNS },
	[TM_SC_PROTO] = { "proto", 1, TM_SC_U_CONNS },
	[TM_SC_L3] = { "l3", 1, TM_SC_U_CONNS },
	[TM_SC_ETHERTYPE] = { "ethertype", 2, TM_SC_U_CONNS },
	[TM_SC_SPI] = { "spi", 4, TM_SC_U_CONNS },
	[TM_SC_APP] = { "app", 4, TM_SC_U_CONNS },
	[TM_SC_VLAN] = { "vlan", 2, TM_SC_U_CTX },
	[TM_SC_TUNNEL] = { "tunnel", 1, TM_SC_U_CTX },
	[TM_SC_TUNNEL_NAME] = { "tunnel_name", 4, TM_SC_U_CTX },
	[TM_SC_GRE_KEY] = { "gre_key", 4, TM_SC_U_CTX },
	[TM_SC_L2TP_TUNNEL] = { "l2tp_tunnel", 4, TM_SC_U_CTX },
	[TM_SC_SESSION] = { "session", 4, TM_SC_U_CTX },
	[TM_SC_VNI] = { "vni", 4, TM_SC_U_CTX },
	[TM_SC_TEID] = { "teid", 4, TM_SC_U_CTX },
	[TM_SC_MPLS_LABEL] = { "mpls_label", 4, TM_SC_U_CTX },
	[TM_SC_OUTER_ADDR4] = { "outer_addr4", 4, TM_SC_U_CTX },
	[TM_SC_OUTER_ADDR6] = { "outer_addr6", 16, TM_SC_U_CTX },
	[TM_SC_TUNNEL_ADDR4] = { "tunnel_addr4", 4, TM_SC_U_CTX },
	[TM_SC_TUNNEL_ADDR6] = { "tunnel_addr6", 16, TM_SC_U_CTX },
};

uint8_t *tm_sbuf_grow(struct tm_sbuf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap - b->n < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = 1;
				return NULL;
			}
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->n;
}

void tm_sbuf_free(struct tm_sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- the builder's state ------------------------------------------------ */

struct bconn {			/* what a connection is (cold) */
	struct tm_key key;
	uint32_t ctx;		/* builder context id + 1, 0: none */
	uint32_t app;		/* builder string id + 1, 0: none */
	uint32_t flags;
	uint32_t final;		/* final id (finish), UINT32_MAX: left out */
};

struct bhot {			/* what changes per packet (hot) */
	int64_t first, last;
	uint32_t npkts;
	uint32_t last_off;
	uint32_t head, tail;	/* position chunks, 1-based; 0: none */
	uint32_t fill;		/* bytes used in the tail chunk */
	uint32_t pos_bytes;	/* bytes of positions in all its chunks */
};

/* Positions are encoded as they come, into per-connection lists of
 * small chunks carved from one growing array. */
#define CHUNK_DATA 28
struct chunk {
	uint32_t next;
	uint8_t d[CHUNK_DATA];
};

/* an interning table of byte strings: arena + entries + open hashing */
struct itab {
	struct tm_sbuf arena;
	struct ient { uint32_t off, len; uint64_t hash; } *e;
	uint32_t n, cap;
	uint32_t *slots;	/* entry + 1, 0: empty */
	uint32_t nslots;	/* a power of two */
};

struct tm_scb {
	struct bconn *c;
	struct bhot *h;
	uint32_t nc, capc;
	struct chunk *ch;
	uint32_t nch, capch;
	uint64_t np;
	uint64_t wire;
	int64_t min_ts, max_ts, last_ts;
	uint64_t last_off;
	int sorted;
	int us;			/* every packet time a whole microsecond */
	uint32_t dir_interval;
	struct tm_sbuf dir;	/* the packet directory, as written */
	struct itab strs;	/* NUL-terminated names */
	struct itab ctxs;	/* contexts, serialized with builder
				 * string ids */
};

static void itab_reset(struct itab *t)
{
	t->arena.n = 0;
	t->arena.failed = 0;
	t->n = 0;
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
}

static void itab_free(struct itab *t)
{
	tm_sbuf_free(&t->arena);
	free(t->e);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static const uint8_t *itab_bytes(const struct itab *t, uint32_t i,
    uint32_t *len)
{
	*len = t->e[i].len;
	return t->arena.p + t->e[i].off;
}

static int itab_rehash(struct itab *t, uint32_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));

	if (!s)
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t h = (uint32_t)t->e[i].hash & (nslots - 1);

		while (s[h])
			h = (h + 1) & (nslots - 1);
		s[h] = i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

/* The id of bytes[0..len) in t, added if new; -1 when out of memory. */
static int64_t itab_intern(struct itab *t, const void *bytes, uint32_t len)
{
	uint64_t hash = XXH3_64bits(bytes, len);
	uint32_t h;

	if ((uint64_t)(t->n + 1) * 2 > t->nslots &&
	    itab_rehash(t, t->nslots ? t->nslots * 2 : 64))
		return -1;
	for (h = (uint32_t)hash & (t->nslots - 1); t->slots[h];
	    h = (h + 1) & (t->nslots - 1)) {
		struct ient *e = &t->e[t->slots[h] - 1];

		if (e->hash == hash && e->len == len &&
		    memcmp(t->arena.p + e->off, bytes, len) == 0)
			return t->slots[h] - 1;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		struct ient *e = realloc(t->e, cap * sizeof(*e));

		if (!e)
			return -1;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->n].off = (uint32_t)t->arena.n;
	t->e[t->n].len = len;
	t->e[t->n].hash = hash;
	tm_sbuf_bytes(&t->arena, bytes, len);
	if (t->arena.failed)
		return -1;
	t->slots[h] = t->n + 1;
	return t->n++;
}

struct tm_scb *tm_scb_new(void)
{
	struct tm_scb *b = calloc(1, sizeof(struct tm_scb));

	if (b)
		tm_scb_reset(b, 0);
	return b;
}

void tm_scb_free(struct tm_scb *b)
{
	if (!b)
		return;
	free(b->c);
	free(b->h);
	free(b->ch);
	tm_sbuf_free(&b->dir);
	itab_free(&b->strs);
	itab_free(&b->ctxs);
	free(b);
}

void tm_scb_reset(struct tm_scb *b, uint32_t dir_interval)
{
	b->nc = 0;
	b->nch = 0;
	b->np = 0;
	b->wire = 0;
	b->min_ts = b->max_ts = b->last_ts = 0;
	b->last_off = 0;
	b->sorted = 1;
	b->us = 1;
	b->dir_interval = dir_interval ? dir_interval : 256;
	b->dir.n = 0;
	b->dir.failed = 0;
	itab_reset(&b->strs);
	itab_reset(&b->ctxs);
}

/* v2 records count time in this unit (ns): 1000 when every packet's
 * time is a whole microsecond (a microsecond pcap), else 1. */
static int64_t tm_scb_time_unit(const struct tm_scb *b)
{
	return b->us ? 1000 : 1;
}

uint64_t tm_scb_packets(const struct tm_scb *b)
{
	return b->np;
}

uint32_t tm_scb_conns(const struct tm_scb *b)
{
	return b->nc;
}

static int64_t intern_str(struct tm_scb *b, const char *s)
{
	return itab_intern(&b->strs, s, (uint32_t)strlen(s) + 1);
}

/* ---- contexts ----------------------------------------------------------- */

static unsigned fam_code(uint8_t family)
{
	return family == 4 ? 1 : family == 6 ? 2 : 0;
}

static size_t fam_len(unsigned code)
{
	return code == 1 ? 4 : code == 2 ? 16 : 0;
}

/* The context record (docs/storage.md) with tunnel names as ids from
 * name_id (string id + 1, 0: none). */
static void ctx_serialize(struct tm_sbuf *out, const struct tm_ctx_view *v,
    const uint32_t *name_id)
{
	unsigned nv = v->n_vlans > TM_MAX_VLANS ? TM_MAX_VLANS : v->n_vlans;
	unsigned nt = v->n_tunnels > TM_MAX_TUNNELS ? TM_MAX_TUNNELS :
	    v->n_tunnels;

	tm_sbuf_u8(out, (uint8_t)nv);
	tm_sbuf_u8(out, (uint8_t)nt);
	for (unsigned i = 0; i < nv; i++)
		tm_sbuf_le16(out, v->vlans[i]);
	for (unsigned i = 0; i < nt; i++) {
		const struct tm_tunnel *t = &v->tunnels[i];
		uint32_t ids[6] = { t->key, t->tunnel_id, t->session_id,
			t->vni, t->teid, t->label };
		unsigned fs = fam_code(t->src.family);
		unsigned fd = fam_code(t->dst.family);

		tm_sbuf_u8(out, t->type);
		tm_sbuf_u8(out, (uint8_t)(t->ids & 0x3f));
		tm_sbuf_u8(out, (uint8_t)(fs | fd << 2));
		tm_sbuf_bytes(out, t->src.a, fam_len(fs));
		tm_sbuf_bytes(out, t->dst.a, fam_len(fd));
		for (unsigned k = 0; k < 6; k++)
			if (t->ids & (1u << k))
				tm_sbuf_le32(out, ids[k]);
		tm_sbuf_le16(out, t->payload);
		tm_sbuf_varint(out, name_id[i]);
	}
}

int tm_scb_conn(struct tm_scb *b, const struct tm_key *key, unsigned flags,
    const struct tm_ctx_view *ctx, uint32_t *id)
{
	struct bconn *c;

	if (b->nc >= INT32_MAX - 1)
		return -1;
	if (b->nc == b->capc) {
		uint32_t cap = b->capc ? b->capc * 2 : 1024;
		struct bconn *n = realloc(b->c, cap * sizeof(*n));
		struct bhot *h;

		if (!n)
			return -1;
		b->c = n;
		h = realloc(b->h, cap * sizeof(*h));
		if (!h)
			return -1;
		b->h = h;
		b->capc = cap;
	}
	memset(&b->h[b->nc], 0, sizeof(b->h[0]));
	c = &b->c[b->nc];
	memset(c, 0, sizeof(*c));
	c->key = *key;
	c->key.ctx = 0;
	memset(c->key.pad, 0, sizeof(c->key.pad));
	c->flags = flags & TM_SC_C_MASK & ~TM_SC_C_KPORTS;
	if (key->port_a || key->port_b || (flags & TM_SC_C_PORTS))
		c->flags |= TM_SC_C_KPORTS;
	if (ctx && (ctx->n_vlans || ctx->n_tunnels)) {
		uint32_t names[TM_MAX_TUNNELS] = { 0 };
		uint8_t tmp[TM_MAX_VLANS * 2 + TM_MAX_TUNNELS * 80 + 16];
		struct tm_sbuf sb = { tmp, 0, sizeof(tmp), 0 };
		int64_t cid;

		for (unsigned i = 0; i < ctx->n_tunnels && i < TM_MAX_TUNNELS;
		    i++) {
			int64_t s;

			if (!ctx->tunnels[i].name)
				continue;
			s = intern_str(b, ctx->tunnels[i].name);
			if (s < 0)
				return -1;
			names[i] = (uint32_t)s + 1;
		}
		ctx_serialize(&sb, ctx, names);
		if (sb.failed || sb.p != tmp)
			return -1;	/* cannot happen: tmp is large enough */
		cid = itab_intern(&b->ctxs, tmp, (uint32_t)sb.n);
		if (cid < 0)
			return -1;
		c->ctx = (uint32_t)cid + 1;
	}
	*id = b->nc++;
	return 0;
}

int tm_scb_app(struct tm_scb *b, uint32_t id, const char *name)
{
	int64_t s;

	if (id >= b->nc)
		return -1;
	if (!name) {
		b->c[id].app = 0;
		return 0;
	}
	s = intern_str(b, name);
	if (s < 0)
		return -1;
	b->c[id].app = (uint32_t)s + 1;
	return 0;
}

static int chunk_new(struct tm_scb *b, uint32_t *idx)
{
	if (b->nch + 1 >= b->capch) {
		uint32_t cap = b->capch ? b->capch * 2 : 4096;
		struct chunk *n;

		if (cap <= b->capch)
			return -1;
		n = realloc(b->ch, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		b->ch = n;
		b->capch = cap;
	}
	if (b->nch == 0)
		b->nch = 1;	/* 0 means none */
	b->ch[b->nch].next = 0;
	*idx = b->nch++;
	return 0;
}

/* Appends n bytes to a connection's position list. */
static int pos_append(struct tm_scb *b, struct bhot *h, const uint8_t *v,
    size_t n)
{
	h->pos_bytes += (uint32_t)n;
	while (n) {
		size_t room;

		if (!h->tail || h->fill == CHUNK_DATA) {
			uint32_t ci;

			if (chunk_new(b, &ci))
				return -1;
			if (h->tail)
				b->ch[h->tail].next = ci;
			else
				h->head = ci;
			h->tail = ci;
			h->fill = 0;
		}
		room = CHUNK_DATA - h->fill;
		if (room > n)
			room = n;
		memcpy(b->ch[h->tail].d + h->fill, v, room);
		h->fill += (uint32_t)room;
		v += room;
		n -= room;
	}
	return 0;
}

int tm_scb_packet(struct tm_scb *b, uint32_t id, int dir, uint64_t off,
    int64_t ts, uint32_t caplen, uint32_t len)
{
	struct bhot *h;
	uint8_t v[10];
	size_t n;

	(void)caplen;
	if (id >= b->nc || off > TM_SC_MAX_OFFSET ||
	    (b->np && off <= b->last_off))
		return -1;
	h = &b->h[id];
	n = tm_put_varint(v, ((uint64_t)(off - (h->npkts ? h->last_off : 0))
	    << 1) | (dir ? 1 : 0));
	if (pos_append(b, h, v, n))
		return -1;
	if (b->np % b->dir_interval == 0) {
		tm_sbuf_le64(&b->dir, off);
		tm_sbuf_le64(&b->dir, (uint64_t)ts);
		if (b->dir.failed)
			return -1;
	}
	if (h->npkts++ == 0) {
		h->first = h->last = ts;
	} else {
		if (ts < h->first)
			h->first = ts;
		if (ts > h->last)
			h->last = ts;
	}
	h->last_off = (uint32_t)off;
	if (b->np == 0) {
		b->min_ts = b->max_ts = ts;
	} else {
		if (ts < b->min_ts)
			b->min_ts = ts;
		if (ts > b->max_ts)
			b->max_ts = ts;
		if (ts < b->last_ts)
			b->sorted = 0;
	}
	if (ts % 1000)
		b->us = 0;
	b->last_ts = ts;
	b->last_off = off;
	b->np++;
	b->wire += len;
	return 0;
}

/* ---- sorting ------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts a[0..n) (tmp: n more); LSD radix, 16-bit digits, skipping the
 * digits that are the same everywhere, and the low 32 bits (a pair's id)
 * when a[] is already in their order: the pairs of a field arrive by
 * ascending id, and a stable sort on the value alone then keeps them so. */
static void sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
	static const unsigned shifts[4] = { 0, 16, 32, 48 };
	size_t *cnt;
	unsigned d0 = 2;

	if (n < 4096) {
		qsort(a, n, sizeof(*a), cmp_u64);
		return;
	}
	cnt = malloc(65536 * sizeof(*cnt));
	if (!cnt) {
		qsort(a, n, sizeof(*a), cmp_u64);
		return;
	}
	for (size_t i = 1; i < n && d0; i++)
		if ((uint32_t)a[i] < (uint32_t)a[i - 1])
			d0 = 0;
	for (unsigned d = d0; d < 4; d++) {
		unsigned sh = shifts[d];
		uint64_t first = (a[0] >> sh) & 0xffff;
		size_t sum = 0;
		int same = 1;

		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++) {
			uint64_t dg = (a[i] >> sh) & 0xffff;

			cnt[dg]++;
			same &= dg == first;
		}
		if (same)
			continue;
		for (size_t i = 0; i < 65536; i++) {
			size_t c = cnt[i];

			cnt[i] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> sh) & 0xffff]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(cnt);
}

struct wide {
	uint64_t hi, lo;	/* the value, big-endian order */
	uint32_t id;
	uint32_t pad;
};

/* Sorts by (hi, lo, id): LSD radix, 16-bit digits, skipping the digits
 * that are the same everywhere (IPv6 addresses share long prefixes), and
 * the id's when a[] is already in id order (as sort_u64). */
static int sort_wide(struct wide *a, size_t n)
{
	struct wide *tmp;
	size_t *cnt;
	unsigned d0 = 2;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	cnt = malloc(65536 * sizeof(*cnt));
	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return -1;
	}
	for (size_t i = 1; i < n && d0; i++)
		if (a[i].id < a[i - 1].id)
			d0 = 0;
	for (unsigned d = d0; d < 10; d++) {
		size_t sum = 0;
		uint64_t first;
		int same = 1;

#define DIGIT(w) (d < 2 ? ((uint64_t)(w).id >> (16 * d)) & 0xffff :	\
	d < 6 ? ((w).lo >> (16 * (d - 2))) & 0xffff :			\
	((w).hi >> (16 * (d - 6))) & 0xffff)
		first = DIGIT(a[0]);
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++) {
			uint64_t dg = DIGIT(a[i]);

			cnt[dg]++;
			same &= dg == first;
		}
		if (same)
			continue;
		for (size_t i = 0; i < 65536; i++) {
			size_t k = cnt[i];

			cnt[i] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[DIGIT(a[i])]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
#undef DIGIT
	}
	free(tmp);
	free(cnt);
	return 0;
}

/* ---- postings ----------------------------------------------------------- */

/* Pairs (value, id) for one field, then sorted and grouped. */
struct pairs {
	uint64_t *n64;		/* value << 32 | id, widths 1..4 */
	struct wide *w;		/* width 16 */
	size_t n, cap;
	int wide;
	int failed;
};

static void pairs_add(struct pairs *ps, const uint8_t *v, unsigned width,
    uint32_t id)
{
	if (ps->failed)
		return;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 1024;
		void *n = realloc(ps->wide ? (void *)ps->w : (void *)ps->n64,
		    cap * (ps->wide ? sizeof(struct wide) : sizeof(uint64_t)));

		if (!n) {
			ps->failed = 1;
			return;
		}
		if (ps->wide)
			ps->w = n;
		else
			ps->n64 = n;
		ps->cap = cap;
	}
	if (ps->wide) {
		uint64_t hi = 0, lo = 0;

		for (unsigned i = 0; i < 8; i++) {
			hi = hi << 8 | v[i];
			lo = lo << 8 | v[8 + i];
		}
		ps->w[ps->n].hi = hi;
		ps->w[ps->n].lo = lo;
		ps->w[ps->n].id = id;
	} else {
		uint64_t x = 0;

		for (unsigned i = 0; i < width; i++)
			x = x << 8 | v[i];
		ps->n64[ps->n] = x << 32 | id;
	}
	ps->n++;
}

static void pairs_reserve(struct pairs *ps, size_t n)
{
	void *p;

	if (!n || ps->cap >= n)
		return;
	p = realloc(ps->wide ? (void *)ps->w : (void *)ps->n64,
	    n * (ps->wide ? sizeof(struct wide) : sizeof(uint64_t)));
	if (!p)
		return;		/* pairs_add grows it later */
	if (ps->wide)
		ps->w = p;
	else
		ps->n64 = p;
	ps->cap = n;
}

static void pairs_value(const struct pairs *ps, size_t i, unsigned width,
    uint8_t *v, uint32_t *id)
{
	if (ps->wide) {
		for (unsigned k = 0; k < 8; k++) {
			v[k] = (uint8_t)(ps->w[i].hi >> (56 - 8 * k));
			v[8 + k] = (uint8_t)(ps->w[i].lo >> (56 - 8 * k));
		}
		*id = ps->w[i].id;
	} else {
		uint64_t x = ps->n64[i] >> 32;

		for (unsigned k = 0; k < width; k++)
			v[width - 1 - k] = (uint8_t)(x >> (8 * k));
		*id = (uint32_t)ps->n64[i];
	}
}

/* Called with each (value, id) pair of a field as it is written: the
 * value's index and the pair's id (then id << 1 | endpoint). */
struct vhook {
	void (*fn)(void *arg, uint32_t vi, uint32_t id);
	void *arg;
};

/* A v2 dictionary entry: value (whole at a block's head, else as the
 * difference to prev) and reference. */
static void dict_put(struct tm_sbuf *d, struct tm_sbuf *blocks, size_t nv,
    const uint8_t *v, const uint8_t *prev, unsigned width, uint64_t ref)
{
	if (nv % TM_SC_DICT_BLOCK == 0) {
		tm_sbuf_le32(blocks, (uint32_t)d->n);
		tm_sbuf_bytes(d, v, width);
	} else if (width <= 4) {
		uint64_t x = 0, y = 0;

		for (unsigned k = 0; k < width; k++) {
			x = x << 8 | v[k];
			y = y << 8 | prev[k];
		}
		tm_sbuf_varint(d, x - y - 1);
	} else {
		unsigned pre = 0;

		while (pre < width - 1 && v[pre] == prev[pre])
			pre++;
		tm_sbuf_u8(d, (uint8_t)pre);
		tm_sbuf_bytes(d, v + pre, width - pre);
	}
	tm_sbuf_varint(d, ref);
}

/* Appends the field section for sorted, unique pairs, in the format of
 * the given version. */
static int emit_field(struct tm_sbuf *out, struct pairs *ps, unsigned width,
    unsigned universe, uint32_t n_ids, unsigned version,
    const struct vhook *hook)
{
	struct tm_sbuf blob = { 0 }, dict = { 0 }, blocks = { 0 };
	uint32_t *ids = NULL;
	size_t nv = 0, start = out->n, i = 0;
	uint8_t *hdr, prev[16];
	size_t hlen = version >= 2 ? 12 : 8;

	hdr = tm_sbuf_grow(out, hlen);
	if (!hdr)
		return -1;
	out->n += hlen;
	if (ps->n)
		ids = malloc(ps->n * sizeof(*ids));
	if (ps->n && !ids)
		return -1;
	while (i < ps->n) {
		uint8_t v[16], v2[16];
		uint32_t id, n = 0, ref;

		/* with a hook, the pairs' ids are id << 1 | endpoint (b: 1),
		 * the hook is told them, the posting has the ids */
		pairs_value(ps, i, width, v, &id);
		if (hook)
			hook->fn(hook->arg, (uint32_t)nv, id);
		ids[n++] = id >> (hook ? 1 : 0);
		for (i++; i < ps->n; i++) {
			uint32_t id2;

			pairs_value(ps, i, width, v2, &id2);
			if (memcmp(v, v2, width) != 0)
				break;
			if (hook) {
				hook->fn(hook->arg, (uint32_t)nv, id2);
				id2 >>= 1;
			}
			if (id2 != ids[n - 1])
				ids[n++] = id2;
		}
		if (n == 1) {
			ref = 0x80000000u | ids[0];
		} else {
			size_t list = tm_varint_len((uint64_t)n << 1);
			size_t bits = tm_varint_len((uint64_t)n << 1 | 1) +
			    ((size_t)n_ids + 7) / 8;

			for (uint32_t k = 0; k < n; k++)
				list += tm_varint_len(k ?
				    ids[k] - ids[k - 1] - 1 : ids[0]);
			ref = (uint32_t)blob.n;
			if (list <= bits) {
				tm_sbuf_varint(&blob, (uint64_t)n << 1);
				for (uint32_t k = 0; k < n; k++)
					tm_sbuf_varint(&blob, k ? ids[k] -
					    ids[k - 1] - 1 : ids[0]);
			} else {
				size_t nb = ((size_t)n_ids + 7) / 8;
				uint8_t *bm;

				tm_sbuf_varint(&blob, (uint64_t)n << 1 | 1);
				bm = tm_sbuf_grow(&blob, nb);
				if (bm) {
					memset(bm, 0, nb);
					for (uint32_t k = 0; k < n; k++)
						bm[ids[k] >> 3] |= (uint8_t)
						    (1u << (ids[k] & 7));
					blob.n += nb;
				}
			}
			if (blob.n > 0x7fffffffu)
				blob.failed = 1;
		}
		if (version >= 2) {
			dict_put(&dict, &blocks, nv, v, prev, width, n == 1 ?
			    (uint64_t)ids[0] << 1 | 1 : (uint64_t)ref << 1);
			memcpy(prev, v, width);
		} else {
			tm_sbuf_bytes(out, v, width);
			tm_sbuf_le32(out, ref);
		}
		nv++;
	}
	free(ids);
	if (dict.n > UINT32_MAX)
		dict.failed = 1;
	tm_sbuf_bytes(out, blocks.p, blocks.n);
	tm_sbuf_bytes(out, dict.p, dict.n);
	tm_sbuf_bytes(out, blob.p, blob.n);
	if (blob.failed || dict.failed || blocks.failed || out->failed) {
		tm_sbuf_free(&blob);
		tm_sbuf_free(&dict);
		tm_sbuf_free(&blocks);
		return -1;
	}
	hdr = out->p + start;
	hdr[0] = (uint8_t)width;
	hdr[1] = (uint8_t)universe;
	hdr[2] = hdr[3] = 0;
	tm_put_le32(hdr + 4, (uint32_t)nv);
	if (version >= 2)
		tm_put_le32(hdr + 8, (uint32_t)dict.n);
	tm_sbuf_free(&blob);
	tm_sbuf_free(&dict);
	tm_sbuf_free(&blocks);
	return 0;
}

static int sort_pairs(struct pairs *ps)
{
	if (ps->failed)
		return -1;
	if (ps->wide) {
		if (sort_wide(ps->w, ps->n))
			return -1;
	} else if (ps->n) {
		uint64_t *tmp = malloc(ps->n * sizeof(*tmp));

		if (!tmp)
			return -1;
		sort_u64(ps->n64, tmp, ps->n);
		free(tmp);
	}
	return 0;
}

/* The (value, context) pairs of one context, for every context field. */
static void ctx_pairs(struct pairs *ps, const struct tm_ctx_view *cv,
    const uint32_t *names, const uint32_t *str_new, uint32_t i)
{
	static const struct {
		unsigned field, bit;
	} idf[6] = {
		{ TM_SC_GRE_KEY, TM_TID_KEY },
		{ TM_SC_L2TP_TUNNEL, TM_TID_TUNNEL },
		{ TM_SC_SESSION, TM_TID_SESSION },
		{ TM_SC_VNI, TM_TID_VNI },
		{ TM_SC_TEID, TM_TID_TEID },
		{ TM_SC_MPLS_LABEL, TM_TID_LABEL },
	};
	uint8_t v[4];
	int outer_done = 0;

	for (unsigned k = 0; k < cv->n_vlans; k++) {
		tm_sc_be16(v, cv->vlans[k]);
		pairs_add(&ps[TM_SC_VLAN], v, 2, i);
	}
	for (unsigned k = 0; k < cv->n_tunnels; k++) {
		const struct tm_tunnel *t = &cv->tunnels[k];
		const uint32_t idv[6] = { t->key, t->tunnel_id, t->session_id,
			t->vni, t->teid, t->label };
		int has_ip = t->src.family == 4 || t->src.family == 6 ||
		    t->dst.family == 4 || t->dst.family == 6;

		pairs_add(&ps[TM_SC_TUNNEL], &t->type, 1, i);
		if (names[k]) {
			tm_sc_be32(v, str_new[names[k] - 1]);
			pairs_add(&ps[TM_SC_TUNNEL_NAME], v, 4, i);
		}
		for (unsigned q = 0; q < 6; q++)
			if (t->ids & idf[q].bit) {
				tm_sc_be32(v, idv[q]);
				pairs_add(&ps[idf[q].field], v, 4, i);
			}
		/* the outer IP layer: the outermost tunnel with endpoints */
		for (int side = 0; side < 2; side++) {
			const struct tm_addr *a = side ? &t->dst : &t->src;
			int v4 = a->family == 4;

			if (a->family != 4 && a->family != 6)
				continue;
			pairs_add(&ps[v4 ? TM_SC_TUNNEL_ADDR4 :
			    TM_SC_TUNNEL_ADDR6], a->a, v4 ? 4 : 16, i);
			if (!outer_done)
				pairs_add(&ps[v4 ? TM_SC_OUTER_ADDR4 :
				    TM_SC_OUTER_ADDR6], a->a, v4 ? 4 : 16, i);
		}
		if (has_ip)
			outer_done = 1;
	}
}

/* ---- finish ------------------------------------------------------------- */

struct fin {
	struct tm_scb *b;
	uint32_t *str_new;	/* builder string id -> final id */
	uint32_t n_str;		/* final strings */
	uint32_t *str_order;	/* final id -> builder id */
	uint32_t *ctx_new;	/* builder ctx id -> final id (UINT32_MAX:
				 * unused) */
	uint32_t n_ctx;
	uint32_t *ctx_order;	/* final -> builder */
	struct tm_sbuf ctx_bytes;	/* final bytes of the contexts, ... */
	size_t *ctx_off;		/* ... where each starts (builder id) */
	uint32_t *ctx_len;		/* ... and its length */
	uint32_t *conn_order;	/* final conn id -> builder id */
	uint32_t n_conn;
	struct itab shapes;	/* shape bytes, builder numbering */
	uint32_t *shape_of;	/* builder conn id -> builder shape id */
	uint32_t *shape_new;	/* builder shape id -> final */
	uint32_t *shape_order;	/* final -> builder */
};

static int cmp_str(const void *a, const void *b, void *arg)
{
	const struct fin *fn = arg;
	const struct itab *t = &fn->b->strs;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b, lx, ly;
	const uint8_t *px = itab_bytes(t, x, &lx), *py = itab_bytes(t, y, &ly);

	return strcmp((const char *)px, (const char *)py);
}

static int cmp_ctx(const void *a, const void *b, void *arg)
{
	const struct fin *fn = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const uint8_t *px = fn->ctx_bytes.p + fn->ctx_off[x];
	const uint8_t *py = fn->ctx_bytes.p + fn->ctx_off[y];
	size_t lx = fn->ctx_len[x], ly = fn->ctx_len[y];
	int c = memcmp(px, py, lx < ly ? lx : ly);

	if (c)
		return c;
	return lx < ly ? -1 : lx > ly;
}

/* Decodes a builder context record back into a view, names as builder
 * string ids + 1 in name_id[]. */
static void ctx_decode(const uint8_t *p, uint32_t len, struct tm_ctx_view *v,
    uint32_t *name_id)
{
	struct tm_rd r = { p, p + len };
	uint8_t nv = 0, nt = 0;

	memset(v, 0, sizeof(*v));
	tm_rd_u8(&r, &nv);
	tm_rd_u8(&r, &nt);
	v->n_vlans = nv;
	v->n_tunnels = nt;
	for (unsigned i = 0; i < nv; i++)
		tm_rd_le16(&r, &v->vlans[i]);
	for (unsigned i = 0; i < nt; i++) {
		struct tm_tunnel *t = &v->tunnels[i];
		uint32_t *ids[6] = { &t->key, &t->tunnel_id, &t->session_id,
			&t->vni, &t->teid, &t->label };
		uint8_t fams = 0;
		uint64_t name = 0;

		tm_rd_u8(&r, &t->type);
		tm_rd_u8(&r, &t->ids);
		tm_rd_u8(&r, &fams);
		t->src.family = (fams & 3) == 1 ? 4 : (fams & 3) == 2 ? 6 : 0;
		t->dst.family = (fams >> 2) == 1 ? 4 : (fams >> 2) == 2 ? 6 : 0;
		tm_rd_bytes(&r, t->src.a, fam_len(fams & 3));
		tm_rd_bytes(&r, t->dst.a, fam_len(fams >> 2));
		for (unsigned k = 0; k < 6; k++)
			if (t->ids & (1u << k))
				tm_rd_le32(&r, ids[k]);
		tm_rd_le16(&r, &t->payload);
		tm_rd_varint(&r, &name);
		name_id[i] = (uint32_t)name;
	}
}

/* The shape of a connection: what its record's layout depends on. */
static void shape_bytes(const struct bconn *c, uint8_t *s)
{
	s[0] = (uint8_t)c->flags;
	s[1] = c->key.l3;
	s[2] = (uint8_t)(fam_code(c->key.fam_a) | fam_code(c->key.fam_b) << 2);
	s[3] = (c->flags & TM_SC_C_PROTO) ? c->key.proto : 0;
	tm_put_le16(s + 4, c->key.ethertype);
	s[6] = s[7] = 0;
}

static int cmp_shape(const void *a, const void *b, void *arg)
{
	const struct fin *fn = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b, l;

	return memcmp(itab_bytes(&fn->shapes, x, &l),
	    itab_bytes(&fn->shapes, y, &l), TM_SC_SHAPE_SIZE2);
}

/* The key's ports and SPI in a record (both versions), when it has them:
 * their size, and writing them. */
static size_t key_ids_len(const struct bconn *c)
{
	return ((c->flags & TM_SC_C_KPORTS) ? 4 : 0) +
	    ((c->flags & TM_SC_C_SPI) ? 4 : 0);
}

static size_t put_key_ids(uint8_t *p, const struct bconn *c)
{
	size_t n = 0;

	if (c->flags & TM_SC_C_KPORTS) {
		tm_put_le16(p, c->key.port_a);
		tm_put_le16(p + 2, c->key.port_b);
		n = 4;
	}
	if (c->flags & TM_SC_C_SPI) {
		tm_put_le32(p + n, c->key.spi);
		n += 4;
	}
	return n;
}

/* One connection record: length, shape, addresses, ports, SPI,
 * application, times, count, positions; written in place. */
static void put_record(struct tm_sbuf *o, const struct tm_scb *b, uint32_t id,
    uint32_t shape, uint32_t app, int64_t min_ts)
{
	const struct bconn *c = &b->c[id];
	const struct bhot *h = &b->h[id];
	size_t la = fam_len(fam_code(c->key.fam_a));
	size_t lb = fam_len(fam_code(c->key.fam_b));
	uint64_t first = (uint64_t)(h->first - min_ts);
	uint64_t dur = (uint64_t)(h->last - h->first);
	size_t pos = h->pos_bytes, len;
	uint8_t *p;

	len = tm_varint_len(shape) + la + lb +
	    key_ids_len(c) + tm_varint_len(app) +
	    tm_varint_len(first) + tm_varint_len(dur) +
	    tm_varint_len(h->npkts) + pos;
	p = tm_sbuf_grow(o, len + 10);
	if (!p)
		return;
	p += tm_put_varint(p, len);
	p += tm_put_varint(p, shape);
	memcpy(p, c->key.addr_a, la);
	p += la;
	memcpy(p, c->key.addr_b, lb);
	p += lb;
	p += put_key_ids(p, c);
	p += tm_put_varint(p, app);
	p += tm_put_varint(p, first);
	p += tm_put_varint(p, dur);
	p += tm_put_varint(p, h->npkts);
	for (uint32_t ci = h->head; ci; ci = b->ch[ci].next) {
		size_t n = ci == h->tail ? h->fill : CHUNK_DATA;

		memcpy(p, b->ch[ci].d, n);
		p += n;
	}
	o->n = (size_t)(p - o->p);
}

/* The v2 record (docs/storage.md): its first packet's time and offset
 * as differences to the record before (at an anchor, every 16th, to the
 * header's earliest time and to 0), addresses as indexes into the
 * addr4/addr6 dictionaries (aidx), positions after the first. */
struct v2prev {
	int64_t first;
	uint64_t off;
};

/* Bits of the Exp-Golomb code of q (order 0). */
static unsigned eg0_bits(uint64_t q)
{
	return 2u * (unsigned)(64 - __builtin_clzll(q + 1)) - 1u;
}

/* Bits, most significant first, into bytes: acc holds n < 8 of them
 * between calls. */
struct bitw {
	uint8_t *p;
	uint64_t acc;
	unsigned n;
};

/* x in nbits bits (at most 56). */
static void put_bits(struct bitw *w, uint64_t x, unsigned nbits)
{
	w->acc = w->acc << nbits | x;
	w->n += nbits;
	while (w->n >= 8) {
		w->n -= 8;
		*w->p++ = (uint8_t)(w->acc >> w->n);
	}
}

static void put_bits_end(struct bitw *w)
{
	if (w->n)
		*w->p++ = (uint8_t)(w->acc << (8 - w->n));
}

static void put_record_v2(struct tm_sbuf *o, const struct tm_scb *b,
    uint32_t id, uint32_t shape, const uint32_t *aidx, int64_t unit,
    struct v2prev *pv, uint64_t **vals, size_t *capv)
{
	const struct bconn *c = &b->c[id];
	const struct bhot *h = &b->h[id];
	uint64_t first_pos = 0, t, op, sum = 0, bits = 0, npk, cur = 0;
	uint64_t dur = (uint64_t)(h->last - h->first) / (uint64_t)unit;
	size_t skip = 0, len, nv = 0;
	unsigned k = TM_SC_POS_K0;
	uint8_t *p;

	/* the positions as tm_scb_packet encoded them (varints of offset
	 * difference << 1 | direction, the first from 0) */
	if (*capv < h->npkts) {
		size_t cap = *capv ? *capv : 1024;
		uint64_t *nvals;

		while (cap < h->npkts)
			cap *= 2;
		nvals = realloc(*vals, cap * sizeof(**vals));
		if (!nvals) {
			o->failed = 1;
			return;
		}
		*vals = nvals;
		*capv = cap;
	}
	for (uint32_t ci = h->head; ci; ci = b->ch[ci].next) {
		const uint8_t *d = b->ch[ci].d;
		size_t n = ci == h->tail ? h->fill : CHUNK_DATA;

		for (size_t q = 0; q < n; q++) {
			/* a varint may span two chunks */
			cur |= (uint64_t)(d[q] & 0x7f) << (7 * skip);
			if (d[q] & 0x80) {
				skip++;
			} else {
				(*vals)[nv++] = cur;
				cur = 0;
				skip = 0;
			}
		}
	}
	first_pos = (*vals)[0];
	for (size_t q = 1; q < nv; q++)
		sum += (*vals)[q];
	if (nv > 1) {
		/* k: about log2 of the mean, 6 to 13 */
		uint64_t mean = sum / (nv - 1);

		k = mean ? 63u - (unsigned)__builtin_clzll(mean) : 0;
		if (k < TM_SC_POS_K0)
			k = TM_SC_POS_K0;
		if (k > TM_SC_POS_K0 + 7)
			k = TM_SC_POS_K0 + 7;
		for (size_t q = 1; q < nv; q++)
			bits += eg0_bits((*vals)[q] >> k) + k;
	}
	npk = (uint64_t)(h->npkts - 1) << 3 | (k - TM_SC_POS_K0);
	t = tm_zz((h->first - pv->first) / unit);
	op = tm_zz((int64_t)(first_pos >> 1) - (int64_t)pv->off) << 1 |
	    (first_pos & 1);
	pv->first = h->first;
	pv->off = first_pos >> 1;
	len = tm_varint_len(t) + tm_varint_len(op) + tm_varint_len(shape) +
	    (fam_code(c->key.fam_a) ? tm_varint_len(aidx[0]) : 0) +
	    (fam_code(c->key.fam_b) ? tm_varint_len(aidx[1]) : 0) +
	    key_ids_len(c) +
	    tm_varint_len(dur) + tm_varint_len(npk) + (bits + 7) / 8;
	p = tm_sbuf_grow(o, len + 11);
	if (!p)
		return;
	p += tm_put_varint(p, len);
	p += tm_put_varint(p, t);
	p += tm_put_varint(p, op);
	p += tm_put_varint(p, shape);
	if (fam_code(c->key.fam_a))
		p += tm_put_varint(p, aidx[0]);
	if (fam_code(c->key.fam_b))
		p += tm_put_varint(p, aidx[1]);
	p += put_key_ids(p, c);
	p += tm_put_varint(p, dur);
	p += tm_put_varint(p, npk);
	{
		struct bitw w = { p, 0, 0 };

		for (size_t q = 1; q < nv; q++) {
			uint64_t v = (*vals)[q];

			/* the quotient + 1 in 2L - 1 bits (L its length):
			 * L - 1 zeros, then its L bits (v < 2^34, so at
			 * most 55 bits) */
			put_bits(&w, (v >> k) + 1, eg0_bits(v >> k));
			put_bits(&w, v & ((1u << k) - 1), k);
		}
		put_bits_end(&w);
		p = w.p;
	}
	o->n = (size_t)(p - o->p);
}

/* Notes the dictionary index of each connection's addresses (the
 * addr4/addr6 hook of emit_field): aidx has 2 per connection, endpoint
 * a then b, and the pairs' ids say which. */
static void note_aidx(void *arg, uint32_t vi, uint32_t id)
{
	uint32_t *aidx = arg;

	aidx[id] = vi;
}

struct section {
	uint32_t id;
	size_t off, len;
};

static void fin_free(struct fin *f)
{
	tm_sbuf_free(&f->ctx_bytes);
	free(f->ctx_off);
	free(f->ctx_len);
	free(f->str_new);
	free(f->str_order);
	free(f->ctx_new);
	free(f->ctx_order);
	free(f->conn_order);
	free(f->shape_of);
	free(f->shape_new);
	free(f->shape_order);
	itab_free(&f->shapes);
}

/* The connection records straight into the output, then the index of
 * every 16th. */
static int emit_records(struct tm_sbuf *out, const struct tm_scb *b,
    const struct fin *fp, unsigned version, const uint32_t *aidx,
    int64_t min_ts, struct section *sec, size_t *nsecp)
{
	int64_t unit = tm_scb_time_unit(b);
	const struct fin f = *fp;
	size_t nsec = *nsecp;
	struct v2prev pv = { min_ts, 0 };
	uint64_t *vals = NULL;	/* v2: one record's positions */
	size_t capv = 0;
	int rc;

	/* connection records straight into the output, then the index of
	 * every 16th (sections are found through the table, so their order
	 * is free) */
	{
		struct tm_sbuf idx = { 0 };
		size_t base_recs;

		if (!tm_sbuf_grow(out, (size_t)b->nch * CHUNK_DATA +
		    (size_t)f.n_conn * 64) || !tm_sbuf_grow(&idx,
		    ((size_t)f.n_conn / TM_SC_INDEX_EVERY + 1) * 4))
			return -1;
		sec[nsec].id = TM_SC_S_CONNS;
		sec[nsec].off = base_recs = out->n;
		for (uint32_t i = 0; i < f.n_conn; i++) {
			uint32_t id = f.conn_order[i];
			const struct bconn *c = &b->c[id];

			if (i + 4 < f.n_conn) {
				/* random order (by context): ask early */
				uint32_t nx = f.conn_order[i + 4];

				__builtin_prefetch(&b->c[nx]);
				__builtin_prefetch(&b->h[nx]);
				__builtin_prefetch(&b->ch[b->h[f.conn_order[i +
				    1]].head]);
			}
			if (i % TM_SC_INDEX_EVERY == 0) {
				if (out->n - base_recs > UINT32_MAX) {
					idx.failed = 1;
					break;
				}
				tm_sbuf_le32(&idx, (uint32_t)(out->n -
				    base_recs));
				pv.first = min_ts;	/* an anchor */
				pv.off = 0;
			}
			if (version >= 2)
				put_record_v2(out, b, id,
				    f.shape_new[f.shape_of[id]],
				    aidx + 2 * (size_t)i, unit, &pv, &vals,
				    &capv);
			else
				put_record(out, b, id,
				    f.shape_new[f.shape_of[id]], c->app ?
				    f.str_new[c->app - 1] + 1 : 0, min_ts);
		}
		sec[nsec].len = out->n - sec[nsec].off;
		nsec++;
		sec[nsec].id = TM_SC_S_CONN_INDEX;
		sec[nsec].off = out->n;
		tm_sbuf_bytes(out, idx.p, idx.n);
		sec[nsec].len = out->n - sec[nsec].off;
		nsec++;
		rc = idx.failed || out->failed ? -1 : 0;
		tm_sbuf_free(&idx);
		free(vals);
		*nsecp = nsec;
		return rc;
	}
}

/* The postings of every field. */
static int emit_postings(struct tm_sbuf *out, const struct tm_scb *b,
    const struct fin *fp, unsigned version, uint32_t *aidx,
    struct section *sec, size_t *nsecp)
{
	const struct fin f = *fp;
	size_t nsec = *nsecp;

	/* postings: every field's (value, id) pairs in one pass over the
	 * connections and one over the contexts, then sorted and grouped */
	{
		struct pairs ps[TM_SC_NFIELDS];
		uint8_t v[16];
		int bad = 0;

		memset(ps, 0, sizeof(ps));
		for (unsigned fi = 0; fi < TM_SC_NFIELDS; fi++) {
			size_t want = tm_sc_fields[fi].universe ==
			    TM_SC_U_CONNS ? 2 * (size_t)f.n_conn :
			    2 * (size_t)f.n_ctx;

			ps[fi].wide = tm_sc_fields[fi].width == 16;
			/* the likely size at once: no copy while growing */
			if (fi == TM_SC_ADDR4 || fi == TM_SC_PORT ||
			    fi == TM_SC_L3 || fi == TM_SC_PROTO)
				pairs_reserve(&ps[fi], want);
		}
		for (uint32_t i = 0; i < f.n_conn; i++) {
			const struct bconn *c = &b->c[f.conn_order[i]];
			struct pairs *pa;
			struct pairs *pb;

			if (i + 8 < f.n_conn)
				__builtin_prefetch(&b->c[f.conn_order[i + 8]]);
			pa = c->key.fam_a == 4 ? &ps[TM_SC_ADDR4] :
			    c->key.fam_a == 6 ? &ps[TM_SC_ADDR6] : NULL;
			pb = c->key.fam_b == 4 ? &ps[TM_SC_ADDR4] :
			    c->key.fam_b == 6 ? &ps[TM_SC_ADDR6] : NULL;

			/* v2: id << 1 | endpoint, for the records' address
			 * indexes (emit_field's hook) */
			if (pa)
				pairs_add(pa, c->key.addr_a, c->key.fam_a == 4 ?
				    4 : 16, aidx ? i << 1 : i);
			if (pb)
				pairs_add(pb, c->key.addr_b, c->key.fam_b == 4 ?
				    4 : 16, aidx ? i << 1 | 1 : i);
			if (c->flags & TM_SC_C_PORTS) {
				tm_sc_be16(v, c->key.port_a);
				pairs_add(&ps[TM_SC_PORT], v, 2, i);
				tm_sc_be16(v, c->key.port_b);
				pairs_add(&ps[TM_SC_PORT], v, 2, i);
			}
			if (c->flags & TM_SC_C_PROTO)
				pairs_add(&ps[TM_SC_PROTO], &c->key.proto, 1,
				    i);
			pairs_add(&ps[TM_SC_L3], &c->key.l3, 1, i);
			if (c->key.l3 != TM_L3_IPV4 &&
			    c->key.l3 != TM_L3_IPV6) {
				tm_sc_be16(v, c->key.ethertype);
				pairs_add(&ps[TM_SC_ETHERTYPE], v, 2, i);
			}
			if (c->flags & TM_SC_C_SPI) {
				tm_sc_be32(v, c->key.spi);
				pairs_add(&ps[TM_SC_SPI], v, 4, i);
			}
			if (c->app) {
				tm_sc_be32(v, f.str_new[c->app - 1]);
				pairs_add(&ps[TM_SC_APP], v, 4, i);
			}
		}
		for (uint32_t i = 0; i < f.n_ctx; i++) {
			struct tm_ctx_view cv;
			uint32_t names[TM_MAX_TUNNELS], len;
			const uint8_t *cp = itab_bytes(&b->ctxs, f.ctx_order[i],
			    &len);

			ctx_decode(cp, len, &cv, names);
			ctx_pairs(ps, &cv, names, f.str_new, i);
		}
		for (unsigned fi = 0; fi < TM_SC_NFIELDS && !bad; fi++) {
			const struct tm_sc_field_info *fd = &tm_sc_fields[fi];

			struct vhook hook = { note_aidx, aidx };

			sec[nsec].id = TM_SC_S_FIELD0 + fi;
			sec[nsec].off = out->n;
			if (sort_pairs(&ps[fi]) || emit_field(out, &ps[fi],
			    fd->width, fd->universe, fd->universe ==
			    TM_SC_U_CONNS ? f.n_conn : f.n_ctx, version,
			    aidx && (fi == TM_SC_ADDR4 || fi == TM_SC_ADDR6) ?
			    &hook : NULL))
				bad = 1;
			sec[nsec].len = out->n - sec[nsec].off;
			nsec++;
		}
		for (unsigned fi = 0; fi < TM_SC_NFIELDS; fi++) {
			free(ps[fi].n64);
			free(ps[fi].w);
		}
		if (bad)
			return -1;
	}
	*nsecp = nsec;
	return 0;
}

int tm_scb_finish(struct tm_scb *b, const struct tm_scb_meta *m,
    struct tm_sbuf *out)
{
	struct fin f;
	struct section sec[TM_SC_S_FIELD0 + TM_SC_NFIELDS];
	uint64_t shape_key[512];
	uint32_t shape_val[512];
	uint32_t shape_app[512];
	uint8_t shape_used[512] = { 0 };
	size_t nsec = 0, base = out->n, table;
	const size_t nsec_all = 8 + TM_SC_NFIELDS;
	uint32_t *ctx_first = NULL;
	uint8_t *str_used = NULL;
	int64_t min_ts = b->min_ts, max_ts = b->max_ts;
	uint32_t flags = (m->flags & ~TM_SC_F_SORTED) |
	    (b->sorted ? TM_SC_F_SORTED : 0);
	uint32_t class_str = 0;
	unsigned version = m->version ? m->version : TM_SC_VERSION;
	uint32_t *aidx = NULL;
	int64_t cls;
	int rc = -1;

	memset(&f, 0, sizeof(f));
	f.b = b;
	if (b->np == 0 || b->dir.failed || version > TM_SC_VERSION)
		return -1;
	/* the class name is a string like the others */
	cls = intern_str(b, m->class_name ? m->class_name : "");
	if (cls < 0)
		return -1;

	/* strings in use: the class, applications and tunnel names of the
	 * connections kept; numbered by name */
	str_used = calloc(b->strs.n + 1, 1);
	f.str_new = malloc((b->strs.n + 1) * sizeof(uint32_t));
	f.str_order = malloc((b->strs.n + 1) * sizeof(uint32_t));
	f.ctx_new = malloc((b->ctxs.n + 1) * sizeof(uint32_t));
	f.ctx_order = malloc((b->ctxs.n + 1) * sizeof(uint32_t));
	f.ctx_off = malloc((b->ctxs.n + 1) * sizeof(size_t));
	f.ctx_len = malloc((b->ctxs.n + 1) * sizeof(uint32_t));
	f.conn_order = malloc((b->nc + 1) * sizeof(uint32_t));
	f.shape_of = malloc((b->nc + 1) * sizeof(uint32_t));
	if (!str_used || !f.str_new || !f.str_order || !f.ctx_new ||
	    !f.ctx_order || !f.ctx_off || !f.ctx_len || !f.conn_order ||
	    !f.shape_of)
		goto out;
	str_used[cls] = 1;
	for (uint32_t i = 0; i < b->ctxs.n; i++)
		f.ctx_new[i] = UINT32_MAX;
	for (uint32_t i = 0; i < b->nc; i++) {
		struct bconn *c = &b->c[i];
		if (i + 8 < b->nc) {
			__builtin_prefetch(&b->c[i + 8]);
			__builtin_prefetch(&b->h[i + 8]);
		}
		c->final = UINT32_MAX;
		if (!b->h[i].npkts)
			continue;
		if (c->app)
			str_used[c->app - 1] = 1;
		if (c->ctx && f.ctx_new[c->ctx - 1] == UINT32_MAX) {
			struct tm_ctx_view v;
			uint32_t names[TM_MAX_TUNNELS], len;
			const uint8_t *p;

			f.ctx_new[c->ctx - 1] = 0;	/* used */
			p = itab_bytes(&b->ctxs, c->ctx - 1, &len);
			ctx_decode(p, len, &v, names);
			for (unsigned k = 0; k < v.n_tunnels; k++)
				if (names[k])
					str_used[names[k] - 1] = 1;
		}
	}
	for (uint32_t i = 0; i < b->strs.n; i++)
		if (str_used[i])
			f.str_order[f.n_str++] = i;
	qsort_r(f.str_order, f.n_str, sizeof(uint32_t), cmp_str, &f);
	for (uint32_t i = 0; i < f.n_str; i++)
		f.str_new[f.str_order[i]] = i;
	class_str = f.str_new[cls];

	/* each connection's shape (v2: with its application) */
	for (uint32_t i = 0; i < b->nc; i++) {
		const struct bconn *c = &b->c[i];
		uint8_t sb[TM_SC_SHAPE_SIZE2];
		uint64_t sk;
		uint32_t app = version >= 2 && c->app ?
		    f.str_new[c->app - 1] + 1 : 0;
		unsigned slot;
		int64_t sid;

		if (!b->h[i].npkts)
			continue;
		shape_bytes(c, sb);
		tm_put_le32(sb + 8, app);
		/* a few dozen shapes for 10^5 connections: a small cache in
		 * front of the interning table */
		memcpy(&sk, sb, 8);
		slot = (unsigned)(((sk ^ (uint64_t)app << 48) *
		    0x9E3779B97F4A7C15ull) >> 55);
		while (shape_used[slot] && (shape_key[slot] != sk ||
		    shape_app[slot] != app))
			slot = (slot + 1) & 511;
		if (shape_used[slot]) {
			sid = shape_val[slot];
		} else {
			sid = itab_intern(&f.shapes, sb, sizeof(sb));
			if (sid < 0)
				goto out;
			if (f.shapes.n < 400) {	/* else: the table only */
				shape_used[slot] = 1;
				shape_key[slot] = sk;
				shape_app[slot] = app;
				shape_val[slot] = (uint32_t)sid;
			}
		}
		f.shape_of[i] = (uint32_t)sid;
	}

	/* shapes, numbered by their bytes */
	f.shape_new = malloc((f.shapes.n + 1) * sizeof(uint32_t));
	f.shape_order = malloc((f.shapes.n + 1) * sizeof(uint32_t));
	if (!f.shape_new || !f.shape_order)
		goto out;
	for (uint32_t i = 0; i < f.shapes.n; i++)
		f.shape_order[i] = i;
	qsort_r(f.shape_order, f.shapes.n, sizeof(uint32_t), cmp_shape, &f);
	for (uint32_t i = 0; i < f.shapes.n; i++)
		f.shape_new[f.shape_order[i]] = i;

	/* contexts: final bytes (final string ids), numbered by bytes */
	for (uint32_t i = 0; i < b->ctxs.n; i++) {
		struct tm_ctx_view v;
		uint32_t names[TM_MAX_TUNNELS], len;
		const uint8_t *p;

		if (f.ctx_new[i] == UINT32_MAX)
			continue;
		p = itab_bytes(&b->ctxs, i, &len);
		ctx_decode(p, len, &v, names);
		for (unsigned k = 0; k < v.n_tunnels; k++)
			if (names[k])
				names[k] = f.str_new[names[k] - 1] + 1;
		f.ctx_off[i] = f.ctx_bytes.n;
		ctx_serialize(&f.ctx_bytes, &v, names);
		f.ctx_len[i] = (uint32_t)(f.ctx_bytes.n - f.ctx_off[i]);
		if (f.ctx_bytes.failed)
			goto out;
		f.ctx_order[f.n_ctx++] = i;
	}
	qsort_r(f.ctx_order, f.n_ctx, sizeof(uint32_t), cmp_ctx, &f);
	for (uint32_t i = 0; i < f.n_ctx; i++)
		f.ctx_new[f.ctx_order[i]] = i;

	/* connections: without context first, then by context; arrival
	 * order within (a stable counting sort) */
	ctx_first = calloc(f.n_ctx + 2, sizeof(uint32_t));
	if (!ctx_first)
		goto out;
	for (uint32_t i = 0; i < b->nc; i++)
		if (b->h[i].npkts)
			ctx_first[b->c[i].ctx ? f.ctx_new[b->c[i].ctx - 1] + 1 :
			    0]++;
	{
		uint32_t sum = 0;

		for (uint32_t k = 0; k < f.n_ctx + 1; k++) {
			uint32_t n = ctx_first[k];

			ctx_first[k] = sum;
			sum += n;
		}
		ctx_first[f.n_ctx + 1] = sum;
		f.n_conn = sum;
	}
	{
		uint32_t *fill = malloc((f.n_ctx + 1) * sizeof(uint32_t));

		if (!fill)
			goto out;
		memcpy(fill, ctx_first, (f.n_ctx + 1) * sizeof(uint32_t));
		for (uint32_t i = 0; i < b->nc; i++) {
			struct bconn *c = &b->c[i];
			uint32_t k;

			if (!b->h[i].npkts)
				continue;
			k = c->ctx ? f.ctx_new[c->ctx - 1] + 1 : 0;
			c->final = fill[k]++;
			f.conn_order[c->final] = i;
		}
		free(fill);
	}

	/* ---- emit ---- */
	/* room for the likely size at once: no copy while growing */
	if (!tm_sbuf_grow(out, (size_t)b->nch * CHUNK_DATA + (size_t)f.n_conn *
	    120 + (size_t)f.n_ctx * 80 + b->dir.n + 65536))
		goto out;
	memset(out->p + base, 0, TM_SC_HEADER_SIZE + TM_SC_SECTION_SIZE *
	    nsec_all);
	out->n += TM_SC_HEADER_SIZE + TM_SC_SECTION_SIZE * nsec_all;
	table = base + TM_SC_HEADER_SIZE;

	/* strings */
	sec[nsec].id = TM_SC_S_STRINGS;
	sec[nsec].off = out->n;
	for (uint32_t i = 0; i < f.n_str; i++) {
		uint32_t len;
		const uint8_t *s = itab_bytes(&b->strs, f.str_order[i], &len);

		tm_sbuf_varint(out, len - 1);
		tm_sbuf_bytes(out, s, len);
	}
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	/* directory */
	sec[nsec].id = TM_SC_S_DIRECTORY;
	sec[nsec].off = out->n;
	tm_sbuf_bytes(out, b->dir.p, b->dir.n);
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	/* contexts */
	sec[nsec].id = TM_SC_S_CONTEXTS;
	sec[nsec].off = out->n;
	for (uint32_t i = 0; i < f.n_ctx; i++) {
		uint32_t ci = f.ctx_order[i];
		const uint8_t *c = f.ctx_bytes.p + f.ctx_off[ci];
		uint32_t sh = 0;

		if (version >= 2 && i) {
			/* v2: the bytes shared with the context before (they
			 * are sorted: often most of them), then the rest */
			uint32_t pi = f.ctx_order[i - 1];
			const uint8_t *pc = f.ctx_bytes.p + f.ctx_off[pi];

			while (sh < f.ctx_len[ci] && sh < f.ctx_len[pi] &&
			    c[sh] == pc[sh])
				sh++;
		}
		if (version >= 2) {
			tm_sbuf_varint(out, sh);
			tm_sbuf_varint(out, f.ctx_len[ci] - sh);
		}
		tm_sbuf_bytes(out, c + sh, f.ctx_len[ci] - sh);
	}
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	/* connections of each context */
	sec[nsec].id = TM_SC_S_CTX_CONNS;
	sec[nsec].off = out->n;
	for (uint32_t k = 0; k <= f.n_ctx; k++)
		tm_sbuf_le32(out, ctx_first[k + 1]);
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	/* shapes */
	sec[nsec].id = TM_SC_S_SHAPES;
	sec[nsec].off = out->n;
	for (uint32_t i = 0; i < f.shapes.n; i++) {
		uint32_t l;

		tm_sbuf_bytes(out, itab_bytes(&f.shapes, f.shape_order[i], &l),
		    version >= 2 ? TM_SC_SHAPE_SIZE2 : TM_SC_SHAPE_SIZE);
	}
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	/* the pcap's checksum */
	sec[nsec].id = TM_SC_S_PCAP_SUM;
	sec[nsec].off = out->n;
	tm_sbuf_le64(out, m->pcap_sum);
	sec[nsec].len = out->n - sec[nsec].off;
	nsec++;

	if (version >= 2) {
		/* the dictionaries first: records name addresses by their
		 * index in them */
		aidx = calloc(2 * ((size_t)f.n_conn + 1), sizeof(uint32_t));
		if (!aidx || emit_postings(out, b, &f, version, aidx, sec,
		    &nsec) || emit_records(out, b, &f, version, aidx, min_ts,
		    sec, &nsec))
			goto out;
	} else if (emit_records(out, b, &f, version, NULL, min_ts, sec,
	    &nsec) || emit_postings(out, b, &f, version, NULL, sec, &nsec)) {
		goto out;
	}
	if (out->failed || nsec != nsec_all)
		goto out;

	/* section table, header, checksums */
	for (size_t i = 0; i < nsec; i++) {
		uint8_t *e = out->p + table + i * TM_SC_SECTION_SIZE;

		tm_put_le32(e, sec[i].id);
		tm_put_le32(e + 4, 0);
		tm_put_le64(e + 8, sec[i].off - base);
		tm_put_le64(e + 16, sec[i].len);
	}
	{
		uint8_t *h = out->p + base;
		uint64_t size = out->n - base + 8;

		memcpy(h, TM_SC_MAGIC, 8);
		tm_put_le16(h + 8, (uint16_t)version);
		tm_put_le16(h + 10, TM_SC_HEADER_SIZE);
		tm_put_le32(h + 12, flags);
		tm_put_le64(h + 16, size);
		tm_put_le64(h + 24, m->pcap_size);
		tm_put_le64(h + 32, (uint64_t)min_ts);
		tm_put_le64(h + 40, (uint64_t)max_ts);
		tm_put_le64(h + 48, b->np);
		tm_put_le64(h + 56, b->wire);
		tm_put_le32(h + 64, f.n_conn);
		tm_put_le32(h + 68, f.n_ctx);
		tm_put_le32(h + 72, f.n_str);
		tm_put_le32(h + 76, b->dir_interval);
		tm_put_le32(h + 80, m->linktype);
		tm_put_le32(h + 84, m->snaplen);
		tm_put_le32(h + 88, class_str);
		tm_put_le32(h + 92, (uint32_t)nsec);
		tm_put_le64(h + 96, m->seq);
		tm_put_le64(h + 104, (uint64_t)m->start);
		tm_put_le32(h + 112, TM_SC_INDEX_EVERY);
		tm_put_le32(h + 116, version >= 2 ?
		    (uint32_t)tm_scb_time_unit(b) : 0);
		tm_put_le64(h + 120, XXH64(h, 120, 0));
		tm_sbuf_le64(out, XXH64(out->p + base, out->n - base, 0));
	}
	rc = out->failed ? -1 : 0;
out:
	free(aidx);
	free(str_used);
	free(ctx_first);
	fin_free(&f);
	return rc;
}
