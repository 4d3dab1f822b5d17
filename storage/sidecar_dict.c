/*
 * The postings of a sidecar (docs/storage.md, "Postings"): each field's
 * dictionary of sorted values with a reference to the set of ids of each,
 * and the posting lists. Version 1 stores the dictionary as fixed entries
 * (value, le32 reference); version 2 in blocks of TM_SC_DICT_BLOCK values,
 * the first whole, the others as differences to the one before, each
 * with a varint reference, and a table of where each block starts (the
 * block heads are what a lookup searches). Every access is bounded: a
 * sidecar opened light (queries) is read here before anything in it was
 * validated beyond its section bounds.
 */
#include "sidecar.h"
#include "sidecar_dict.h"

#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>

int tm_sc_fsec_init(struct tm_sc_fsec *fs, unsigned version, unsigned fi,
    const uint8_t *p, size_t len, uint32_t n_ids)
{
	const struct tm_sc_field_info *fd = &tm_sc_fields[fi];
	size_t hdr = version >= 2 ? 12 : 8;

	memset(fs, 0, sizeof(*fs));
	if (len < hdr || p[0] != fd->width || p[1] != fd->universe || p[2] ||
	    p[3])
		return -1;
	fs->version = (uint8_t)version;
	fs->width = p[0];
	fs->universe = p[1];
	fs->n_values = tm_le32(p + 4);
	fs->n_ids = n_ids;
	if (fs->n_values > len)
		return -1;
	if (version < 2) {
		size_t dict = (size_t)fs->n_values * (fs->width + 4u);

		if (dict > len - 8)
			return -1;
		fs->dict = p + 8;
		fs->dict_len = dict;
	} else {
		size_t nb = ((size_t)fs->n_values + TM_SC_DICT_BLOCK - 1) /
		    TM_SC_DICT_BLOCK;
		size_t dict = tm_le32(p + 8);

		if (nb * 4 > len - 12 || dict > len - 12 - nb * 4 ||
		    (fs->n_values == 0) != (dict == 0))
			return -1;
		fs->blocks = p + 12;
		fs->dict = p + 12 + nb * 4;
		fs->dict_len = dict;
	}
	fs->blob = fs->dict + fs->dict_len;
	fs->blob_len = (size_t)(p + len - fs->blob);
	return 0;
}

int tm_sc_posting_at(const struct tm_sc_fsec *fs, int single, uint64_t val,
    struct tm_sc_posting *p, int check)
{
	struct tm_rd r;
	uint64_t h;

	memset(p, 0, sizeof(*p));
	p->n_ids = fs->n_ids;
	if (single) {
		if (val >= fs->n_ids)
			return -1;
		p->kind = 2;
		p->count = 1;
		p->single = (uint32_t)val;
		return 0;
	}
	if (val >= fs->blob_len)
		return -1;
	r.p = fs->blob + val;
	r.end = fs->blob + fs->blob_len;
	if (tm_rd_varint(&r, &h) || (h >> 1) < 2 || (h >> 1) > fs->n_ids ||
	    ((h & 1) && tm_rd_left(&r) < ((size_t)fs->n_ids + 7) / 8))
		return -1;
	p->count = (uint32_t)(h >> 1);
	p->kind = (uint8_t)(h & 1);
	p->p = r.p;
	p->end = r.end;
	if (!check)
		return 0;
	if (p->kind == 0) {
		uint64_t id = 0;

		for (uint32_t k = 0; k < p->count; k++) {
			uint64_t d;

			if (tm_rd_varint(&r, &d))
				return -1;
			id = k ? id + d + 1 : d;
			if (d >= fs->n_ids || id >= fs->n_ids)
				return -1;
		}
	} else {
		size_t nb = ((size_t)fs->n_ids + 7) / 8;
		uint64_t pop = 0;

		for (size_t k = 0; k < nb; k++)
			pop += (uint64_t)__builtin_popcount(r.p[k]);
		/* no bit beyond the universe */
		if ((fs->n_ids & 7) && (r.p[nb - 1] >> (fs->n_ids & 7)))
			return -1;
		if (pop != p->count)
			return -1;
	}
	return 0;
}

void tm_sc_field_iter(const struct tm_sc *sc, enum tm_sc_field f,
    uint32_t i, struct tm_sc_fiter *it)
{
	memset(it, 0, sizeof(*it));
	if ((unsigned)f >= TM_SC_NFIELDS) {
		static const struct tm_sc_fsec none;

		it->fs = &none;
		return;
	}
	it->fs = &sc->f[f];
	it->i = i;
	if (it->fs->version >= 2 && i % TM_SC_DICT_BLOCK) {
		/* from the block's head to just before value i */
		uint32_t want = i;

		it->i = i - i % TM_SC_DICT_BLOCK;
		while (it->i < want)
			if (!tm_sc_dict_next(it, NULL, NULL)) {
				it->bad = 1;
				return;
			}
	}
}

/* A value of width w (<= 4) as a number, and back. */
static uint64_t num(const uint8_t *v, unsigned w)
{
	uint64_t x = 0;

	for (unsigned k = 0; k < w; k++)
		x = x << 8 | v[k];
	return x;
}

int tm_sc_dict_next(struct tm_sc_fiter *it, int *single, uint64_t *val)
{
	const struct tm_sc_fsec *fs = it->fs;
	unsigned w = fs->width;
	uint64_t ref;

	if (it->i >= fs->n_values)
		return 0;
	if (fs->version < 2) {
		const uint8_t *e = fs->dict + (size_t)it->i * (w + 4u);
		uint32_t r32 = tm_le32(e + w);

		memcpy(it->v, e, w);
		ref = (uint64_t)(r32 & 0x7fffffffu) << 1 | (r32 >> 31);
	} else {
		if (it->i % TM_SC_DICT_BLOCK == 0) {
			uint32_t off = tm_le32(fs->blocks + 4 *
			    (size_t)(it->i / TM_SC_DICT_BLOCK));

			if (off >= fs->dict_len)
				return 0;
			it->r.p = fs->dict + off;
			it->r.end = fs->dict + fs->dict_len;
			if (tm_rd_bytes(&it->r, it->v, w))
				return 0;
		} else if (w <= 4) {
			uint64_t d, x = num(it->v, w);

			if (tm_rd_varint(&it->r, &d) || d >= ((uint64_t)1 <<
			    (8 * w)) - x - 1)
				return 0;
			x += d + 1;
			for (unsigned k = 0; k < w; k++)
				it->v[w - 1 - k] = (uint8_t)(x >> (8 * k));
		} else {
			uint8_t pre, nv[16];

			/* the bytes shared with the value before, then the
			 * rest; the first byte of the rest is larger */
			if (tm_rd_u8(&it->r, &pre) || pre >= w ||
			    tm_rd_bytes(&it->r, nv + pre, w - pre) ||
			    nv[pre] <= it->v[pre])
				return 0;
			memcpy(it->v + pre, nv + pre, w - pre);
		}
		if (tm_rd_varint(&it->r, &ref))
			return 0;
	}
	it->i++;
	if (single)
		*single = (int)(ref & 1);
	if (val)
		*val = ref >> 1;
	return 1;
}

int tm_sc_field_next(struct tm_sc_fiter *it, struct tm_sc_posting *p)
{
	int single;
	uint64_t val;

	if (it->bad)
		return 0;
	if (!tm_sc_dict_next(it, &single, &val)) {
		if (it->i < it->fs->n_values)
			it->bad = 1;
		return 0;
	}
	/* a damaged posting (light open) reads as an empty one */
	if (p && tm_sc_posting_at(it->fs, single, val, p, 0))
		memset(p, 0, sizeof(*p));
	return 1;
}

uint32_t tm_sc_field_count(const struct tm_sc *sc, enum tm_sc_field f)
{
	return (unsigned)f < TM_SC_NFIELDS ? sc->f[f].n_values : 0;
}

/* Skips a varint of at most 10 bytes: 0, or -1 at the end. */
static int skip_varint(struct tm_rd *r)
{
	const uint8_t *p = r->p, *end = r->end - r->p > 10 ? r->p + 10 :
	    r->end;

	while (p < end)
		if (!(*p++ & 0x80)) {
			r->p = p;
			return 0;
		}
	return -1;
}

/* Value i of a v2 dictionary without its reference: what a record's
 * address index names (tm_sc_conn_get asks for two per record, so this
 * is the short way: no posting, the references skipped unread). 1, or
 * 0 at damaged bytes. */
static int dict_value(const struct tm_sc_fsec *fs, uint32_t i, uint8_t *v)
{
	unsigned w = fs->width;
	uint32_t off = tm_le32(fs->blocks + 4 * (size_t)(i /
	    TM_SC_DICT_BLOCK));
	struct tm_rd r;

	if (off >= fs->dict_len)
		return 0;
	r.p = fs->dict + off;
	r.end = fs->dict + fs->dict_len;
	if (tm_rd_bytes(&r, v, w))
		return 0;
	if (w <= 4) {
		uint64_t x = num(v, w), lim = ((uint64_t)1 << (8 * w)) - 1;

		for (uint32_t k = i % TM_SC_DICT_BLOCK; k; k--) {
			uint64_t d;

			if (skip_varint(&r) || tm_rd_varint(&r, &d) ||
			    d >= lim - x)
				return 0;
			x += d + 1;
		}
		for (unsigned k = 0; k < w; k++)
			v[w - 1 - k] = (uint8_t)(x >> (8 * k));
		return 1;
	}
	for (uint32_t k = i % TM_SC_DICT_BLOCK; k; k--) {
		uint8_t pre;

		if (skip_varint(&r) || tm_rd_u8(&r, &pre) || pre >= w ||
		    tm_rd_left(&r) < w - pre || r.p[0] <= v[pre])
			return 0;
		memcpy(v + pre, r.p, w - pre);
		r.p += w - pre;
	}
	return 1;
}

int tm_sc_field_value(const struct tm_sc *sc, enum tm_sc_field f,
    uint32_t i, uint8_t *v, struct tm_sc_posting *p)
{
	struct tm_sc_fiter it;

	if ((unsigned)f >= TM_SC_NFIELDS || i >= sc->f[f].n_values)
		return 0;
	if (!p && sc->f[f].version >= 2)
		return dict_value(&sc->f[f], i, v);
	tm_sc_field_iter(sc, f, i, &it);
	if (!tm_sc_field_next(&it, p))
		return 0;
	memcpy(v, it.v, sc->f[f].width);
	return 1;
}

/* The head of v2 block k, or NULL when its offset is damaged. */
static const uint8_t *block_head(const struct tm_sc_fsec *fs, uint32_t k)
{
	uint32_t off = tm_le32(fs->blocks + 4 * (size_t)k);

	if (off >= fs->dict_len || fs->dict_len - off < fs->width)
		return NULL;
	return fs->dict + off;
}

uint32_t tm_sc_field_lower(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v)
{
	const struct tm_sc_fsec *fs;
	uint32_t lo = 0, hi;

	if ((unsigned)f >= TM_SC_NFIELDS)
		return 0;
	fs = &sc->f[f];
	if (fs->version < 2) {
		hi = fs->n_values;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (memcmp(fs->dict + (size_t)mid * (fs->width + 4u),
			    v, fs->width) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo;
	}
	/* the last block whose head is < v (if any), then within it */
	hi = (fs->n_values + TM_SC_DICT_BLOCK - 1) / TM_SC_DICT_BLOCK;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *h = block_head(fs, mid);

		if (!h)
			return fs->n_values;	/* damaged: nothing */
		if (memcmp(h, v, fs->width) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	{
		struct tm_sc_fiter it;
		uint32_t end = lo * TM_SC_DICT_BLOCK;

		tm_sc_field_iter(sc, f, (lo - 1) * TM_SC_DICT_BLOCK, &it);
		if (end > fs->n_values)
			end = fs->n_values;
		while (it.i < end) {
			uint32_t i = it.i;

			if (!tm_sc_dict_next(&it, NULL, NULL))
				return fs->n_values;
			if (memcmp(it.v, v, fs->width) >= 0)
				return i;
		}
		return end;
	}
}

int tm_sc_lookup(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v, struct tm_sc_posting *p)
{
	uint32_t i = tm_sc_field_lower(sc, f, v);
	uint8_t got[16];

	if (!tm_sc_field_value(sc, f, i, got, p) ||
	    memcmp(got, v, sc->f[f].width) != 0) {
		memset(p, 0, sizeof(*p));
		return 0;
	}
	return 1;
}

int tm_sc_posting_next(struct tm_sc_posting *p, uint32_t *id)
{
	if (p->done >= p->count)
		return 0;
	if (p->kind == 2) {
		*id = p->single;
	} else if (p->kind == 0) {
		struct tm_rd r = { p->p, p->end };
		uint64_t d = 0, next;

		/* bounded even when not validated at open (light) */
		if (tm_rd_varint(&r, &d) || d >= p->n_ids) {
			p->done = p->count;
			return 0;
		}
		next = p->done ? (uint64_t)p->cur + d + 1 : d;
		if (next >= p->n_ids) {
			p->done = p->count;
			return 0;
		}
		p->p = r.p;
		p->cur = (uint32_t)next;
		*id = p->cur;
	} else {
		uint32_t i = p->done ? p->cur + 1 : 0;

		while (i < p->n_ids && !(p->p[i >> 3] & (1u << (i & 7))))
			i++;
		if (i >= p->n_ids) {
			p->done = p->count;
			return 0;
		}
		p->cur = i;
		*id = i;
	}
	p->done++;
	return 1;
}

struct roaring_bitmap_s *tm_sc_posting_bitmap(const struct tm_sc_posting *p)
{
	struct tm_sc_posting it = *p;
	roaring_bitmap_t *r = roaring_bitmap_create();
	uint32_t buf[256], n = 0, id;

	if (!r)
		return NULL;
	while (tm_sc_posting_next(&it, &id)) {
		buf[n++] = id;
		if (n == 256) {
			roaring_bitmap_add_many(r, n, buf);
			n = 0;
		}
	}
	if (n)
		roaring_bitmap_add_many(r, n, buf);
	return r;
}

int tm_sc_fsec_check(const struct tm_sc_fsec *fs, unsigned fi,
    uint32_t n_strings, uint32_t *at)
{
	struct tm_sc_fiter it;
	uint8_t prev[16];

	memset(&it, 0, sizeof(it));
	it.fs = fs;
	for (uint32_t i = 0; i < fs->n_values; i++) {
		struct tm_sc_posting ps;
		const uint8_t *before = it.r.p;
		int single;
		uint64_t val;

		*at = i;
		/* v2: each block starts where the one before ended */
		if (fs->version >= 2 && i && i % TM_SC_DICT_BLOCK == 0 &&
		    before != fs->dict + tm_le32(fs->blocks + 4 * (size_t)(i /
		    TM_SC_DICT_BLOCK)))
			return -2;
		if (fs->version >= 2 && i == 0 && tm_le32(fs->blocks) != 0)
			return -2;
		if (!tm_sc_dict_next(&it, &single, &val))
			return -2;
		if (i && memcmp(prev, it.v, fs->width) >= 0)
			return -1;
		memcpy(prev, it.v, fs->width);
		if (tm_sc_posting_at(fs, single, val, &ps, 1))
			return -3;
		if ((fi == TM_SC_APP || fi == TM_SC_TUNNEL_NAME) &&
		    num(it.v, 4) >= n_strings)
			return -4;
	}
	if (fs->version >= 2 && fs->n_values &&
	    it.r.p != fs->dict + fs->dict_len)
		return -2;
	return 0;
}

int tm_sc_addr_value(const struct tm_sc *sc, int v6, uint64_t i,
    uint8_t *a)
{
	enum tm_sc_field f = v6 ? TM_SC_ADDR6 : TM_SC_ADDR4;
	const struct tm_sc_fsec *fs = &sc->f[f];
	struct tm_sc_cursor *cur = sc->cur;

	if (i >= fs->n_values)
		return 0;
	if (cur && cur->flat[v6]) {
		memcpy(a, cur->flat[v6] + (size_t)i * fs->width, fs->width);
		return 1;
	}
	/* a lookup reads half a block on average: after as many lookups as
	 * it takes to read the whole dictionary, it is decoded once */
	if (cur && cur->asks[v6] != UINT32_MAX &&
	    ++cur->asks[v6] > fs->n_values / 8 + 64) {
		struct tm_sc_fiter it;
		uint8_t *flat = malloc((size_t)fs->n_values * fs->width + 1);

		cur->asks[v6] = UINT32_MAX;
		if (flat) {
			tm_sc_field_iter(sc, f, 0, &it);
			while (it.i < fs->n_values &&
			    tm_sc_dict_next(&it, NULL, NULL))
				memcpy(flat + (size_t)(it.i - 1) * fs->width,
				    it.v, fs->width);
			if (it.i == fs->n_values) {
				cur->flat[v6] = flat;
				memcpy(a, flat + (size_t)i * fs->width,
				    fs->width);
				return 1;
			}
			free(flat);	/* damaged: lookups one by one */
		}
	}
	return tm_sc_field_value(sc, f, (uint32_t)i, a, NULL);
}

void tm_sc_cursor_free(struct tm_sc_cursor *c)
{
	if (!c)
		return;
	free(c->flat[0]);
	free(c->flat[1]);
	free(c);
}
