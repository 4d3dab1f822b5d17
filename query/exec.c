/*
 * The query executor (exec.h).
 *
 *   list    STORE/segments/<class>/<start>-<seq>.idx: a segment is
 *           published when its sidecar is, so a segment `tm capture` is
 *           still writing (no .idx yet) is never seen, unless the
 *           query comes with a running capture's snapshot (live.h):
 *           then its open segments join with their in-memory sidecars,
 *           and published segments the snapshot covers are left out
 *   prune   by the sidecar header's time range against the expression's
 *           (tm_expr_time_range), without loading the rest
 *   merge   a heap keyed (timestamp, segment order, file offset); a
 *           segment joins it (its sidecar is loaded and planned) only
 *           when the merge reaches its first timestamp, so a store of
 *           thousands of segments holds a few open at a time
 *   read    the candidate packets' offsets, sorted, read with large
 *           preads (neighbours closer than GAP share one read); a
 *           segment whose timestamps are not in file order is first
 *           decided, then its hits sorted by time
 */
#define _GNU_SOURCE
#include "exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "plan.h"
#include "sc_light.h"
#include "sidecar.h"
#include "store.h"

#define BUF_MIN		((size_t)1 << 20)	/* a read */
#define BUF_MAX		((size_t)4 << 20)	/* the largest span */
#define GAP		((uint64_t)64 << 10)	/* read across gaps this small */
#define REC_GUESS	2048u			/* a record's length, unseen */

/* ---- listing ---------------------------------------------------------------- */

struct seg {
	const struct tm_live_seg *live;	/* an open segment: sidecar in memory */
	char *cls;
	char *base;		/* STORE/segments/<class>/<start>-<seq> */
	int64_t start;
	uint64_t seq;
	struct tm_sc_header h;
	uint32_t order;

	/* while it takes part in the merge */
	int fd;
	struct tm_sc_light scl;
	int sc_open;
	struct tm_qseg *qs;
	int scan;		/* read every record from scan_off on */
	uint64_t scan_off;
	struct cand { uint32_t off; uint32_t id; } *c;	/* id | CHECK */
	size_t nc, ic;
	struct hit { int64_t ts; uint32_t off; uint32_t pad; } *hits;
	size_t nh, ih;
	int hits_mode;
	uint8_t *buf;
	size_t bcap, blen;
	uint64_t boff;
	/* the current matching record */
	const uint8_t *rec;
	int64_t ts;
	uint32_t off, caplen, len;
	/* figures */
	uint64_t cand_conns, all_conns, chk_conns, read, decoded, matched;
};

#define CHECK 0x80000000u	/* decided per packet */
#define DIRB 0x40000000u	/* sent by endpoint b of the key */
#define IDMASK 0x3fffffffu

struct run {
	const struct tm_query_opts *o;
	struct tm_query_stats *st;
	struct tm_qplan *plan;
	struct seg *v;
	size_t n, cap;
	int64_t from, until;
	struct tm_packet *pkt;
	const struct tm_registry *reg;
	int reg_failed;
	int header_done;
	uint32_t linktype, snaplen;
	char *err;
	size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Is segment seq of class cls one of a snapshot's open segments (or a
 * later one)? Those are read from the snapshot. */
static int live_has(const struct tm_live *l, const char *cls, uint64_t seq)
{
	if (!l)
		return 0;
	for (size_t i = 0; i < l->ncls; i++)
		if (strcmp(l->cls[i].name, cls) == 0)
			return seq >= l->cls[i].first_open;
	return 0;
}

static struct seg *new_seg(struct run *r)
{
	struct seg *s;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct seg *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	s = &r->v[r->n];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	return s;
}

/* The open segments of a running capture, from its snapshot. */
static int add_live(struct run *r)
{
	const struct tm_live *l = r->o->live;
	char err[256];

	for (size_t i = 0; l && i < l->nsegs; i++) {
		const struct tm_live_seg *ls = &l->segs[i];
		size_t bl = strlen(ls->path);
		struct seg *s = new_seg(r);

		if (!s)
			return fail(r, "out of memory");
		if (bl < 5 || tm_sc_header_parse(ls->idx.p, ls->idx.n, &s->h,
		    err, sizeof(err)))
			return fail(r, "%s: the open segment's index: %s",
			    ls->path, err);
		s->live = ls;
		s->seq = ls->seq;
		s->cls = strdup(ls->cls);
		s->base = strndup(ls->path, bl - 5);	/* without .pcap */
		if (!s->cls || !s->base) {
			free(s->cls);
			free(s->base);
			return fail(r, "out of memory");
		}
		r->st->live_segments++;
		r->n++;
	}
	return 0;
}

static int add_seg(struct run *r, const char *root, const char *cls,
    const char *name)
{
	struct seg *s = new_seg(r);
	char path[4096], err[256];
	size_t bl;

	if (!s)
		return fail(r, "out of memory");
	if (tm_seg_parse_name(name, ".idx", &s->start, &s->seq))
		return 0;		/* not a sidecar (.idx.tmp, ...) */
	if (live_has(r->o->live, cls, s->seq))
		return 0;		/* published since the snapshot */
	snprintf(path, sizeof(path), "%s/segments/%s/%s", root, cls, name);
	r->st->segments++;
	if (tm_sc_header_read(path, &s->h, err, sizeof(err))) {
		if (errno != ENOENT)
			fprintf(stderr, "tm: %s: %s; skipped (see tm store "
			    "check)\n", path, err);
		r->st->skipped++;
		return 0;
	}
	bl = strlen(path) - 4;
	s->cls = strdup(cls);
	s->base = strndup(path, bl);
	if (!s->cls || !s->base) {
		free(s->cls);
		free(s->base);
		return fail(r, "out of memory");
	}
	r->n++;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	int c;

	if (x->h.min_ts != y->h.min_ts)
		return x->h.min_ts < y->h.min_ts ? -1 : 1;
	c = strcmp(x->cls, y->cls);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int list_store(struct run *r)
{
	const char *root = r->o->root;
	char path[4096];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/segments", root);
	d = opendir(path);
	if (!d) {
		struct stat st;

		if (stat(root, &st) != 0)
			return fail(r, "%s: %s", root, strerror(errno));
		return fail(r, "%s: not a store (no segments/ directory)",
		    root);
	}
	while ((de = readdir(d))) {
		char cpath[4096 + 256];
		DIR *cd;
		struct dirent *ce;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "%s/%s", path, de->d_name);
		cd = opendir(cpath);
		if (!cd)
			continue;	/* not a class directory */
		while ((ce = readdir(cd))) {
			size_t l = strlen(ce->d_name);

			if (l < 5 || strcmp(ce->d_name + l - 4, ".idx") != 0)
				continue;
			if (add_seg(r, root, de->d_name, ce->d_name)) {
				closedir(cd);
				closedir(d);
				return -1;
			}
		}
		closedir(cd);
	}
	closedir(d);
	if (add_live(r))
		return -1;
	if (r->n)
		qsort(r->v, r->n, sizeof(*r->v), cmp_seg);
	for (size_t i = 0; i < r->n; i++)
		r->v[i].order = (uint32_t)i;
	return 0;
}

/* ---- reading records ---------------------------------------------------------- */

/* Makes [off, off + need) of the segment's pcap present in its buffer,
 * reading at least up to span_end when that is further. 0, or -1. */
static int fetch(struct run *r, struct seg *s, uint64_t off, size_t need,
    uint64_t span_end)
{
	size_t want;
	size_t got = 0;

	if (off >= s->boff && off + need <= s->boff + s->blen)
		return 0;
	if (off + need > s->h.pcap_size)
		return fail(r, "%s.pcap: record at %" PRIu64 " runs past the "
		    "segment's end", s->base, off);
	want = need;
	if (span_end > off + want)
		want = (size_t)(span_end - off);
	if (want < BUF_MIN && s->scan)
		want = BUF_MIN;
	if (want > BUF_MAX && need <= BUF_MAX)
		want = BUF_MAX;
	if (off + want > s->h.pcap_size)
		want = (size_t)(s->h.pcap_size - off);
	if (want > s->bcap) {
		uint8_t *b = realloc(s->buf, want);

		if (!b)
			return fail(r, "out of memory");
		s->buf = b;
		s->bcap = want;
	}
	while (got < want) {
		ssize_t k = pread(s->fd, s->buf + got, want - got,
		    (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(r, "%s.pcap: %s", s->base, strerror(errno));
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r->st->file_bytes += got;
	s->boff = off;
	s->blen = got;
	if (got < need)
		return fail(r, "%s.pcap: shorter than its sidecar says",
		    s->base);
	return 0;
}

/* Reads the record at off into s->rec/ts/caplen/len. */
static int read_rec(struct run *r, struct seg *s, uint64_t off,
    uint64_t span_end)
{
	const uint8_t *h;
	uint32_t sec, nsec;

	if (fetch(r, s, off, TM_PCAP_REC_HDR, span_end))
		return -1;
	h = s->buf + (off - s->boff);
	sec = tm_le32(h);
	nsec = tm_le32(h + 4);
	s->caplen = tm_le32(h + 8);
	s->len = tm_le32(h + 12);
	if (s->caplen > TM_PCAP_SNAPLEN || nsec >= 1000000000u)
		return fail(r, "%s.pcap: bad record at %" PRIu64 " (the "
		    "segment does not agree with its sidecar)", s->base, off);
	if (fetch(r, s, off, TM_PCAP_REC_HDR + s->caplen, span_end))
		return -1;
	s->rec = s->buf + (off - s->boff);
	s->ts = (int64_t)sec * 1000000000 + nsec;
	s->off = (uint32_t)off;
	s->read++;
	r->st->packets_read++;
	return 0;
}

/* The packet at s->rec decides what a per-packet check could not. */
static int decide(struct run *r, struct seg *s, uint32_t id,
    enum tm_expr_result *res)
{
	struct tm_expr_conn conn;
	struct tm_sc_conn c;

	if (!r->reg && !r->reg_failed) {
		r->reg = r->o->registry ? r->o->registry(r->o->registry_arg) :
		    NULL;
		if (!r->reg)
			r->reg_failed = 1;
	}
	if (!r->reg)
		return fail(r, "cannot load the dissectors to decode packets");
	if (!r->pkt) {
		r->pkt = malloc(sizeof(*r->pkt));
		if (!r->pkt)
			return fail(r, "out of memory");
	}
	tm_decode(r->reg, r->pkt, s->rec + TM_PCAP_REC_HDR, s->caplen, s->len,
	    (uint16_t)s->h.linktype);
	memset(&conn, 0, sizeof(conn));
	conn.class_name = tm_sc_class(&s->scl.sc);
	conn.app_final = 1;
	if (id != UINT32_MAX) {
		if (tm_sc_conn_packets_safe(&s->scl.sc, id, &c) == 0)
			conn.app = c.app;
	}
	*res = tm_expr_eval_at(r->o->e, r->pkt, &conn, s->ts);
	s->decoded++;
	r->st->packets_decoded++;
	return 0;
}

/* Is the record header at off in the buffer already? (Then no span is
 * needed: computing one for every record would be quadratic.) */
static int in_buf(const struct seg *s, uint64_t off)
{
	return off >= s->boff && off + TM_PCAP_REC_HDR <= s->boff + s->blen;
}

/* Span end for the candidate at index i: neighbours closer than GAP are
 * read with it. */
static uint64_t cand_span(const struct seg *s, size_t i)
{
	uint64_t start = s->c[i].off, last = start;

	for (size_t j = i + 1; j < s->nc; j++) {
		uint64_t o = s->c[j].off;

		if (o - last > GAP || o - start > BUF_MAX - REC_GUESS)
			break;
		last = o;
	}
	return last + REC_GUESS;
}

static uint64_t hit_span(const struct seg *s, size_t i)
{
	uint64_t start = s->hits[i].off, last = start;

	for (size_t j = i + 1; j < s->nh; j++) {
		uint64_t o = s->hits[j].off;

		if (o < last || o - last > GAP ||
		    o - start > BUF_MAX - REC_GUESS)
			break;
		last = o;
	}
	return last + REC_GUESS;
}

/* Advances to the segment's next matching packet in file order (scan or
 * candidates). 1: s->rec is it; 0: none left; -1: error. */
static int next_in_file(struct run *r, struct seg *s)
{
	enum tm_expr_result res;

	if (s->scan) {
		while (s->scan_off + TM_PCAP_REC_HDR <= s->h.pcap_size) {
			uint64_t off = s->scan_off;

			if (read_rec(r, s, off, off + BUF_MIN))
				return -1;
			s->scan_off = off + TM_PCAP_REC_HDR + s->caplen;
			if ((s->h.flags & TM_SC_F_SORTED) && s->ts >= r->until)
				return 0;
			res = tm_qseg_eval(s->qs, UINT32_MAX, s->ts, s->ts,
			    -1);
			if (res == TM_EXPR_UNKNOWN &&
			    decide(r, s, UINT32_MAX, &res))
				return -1;
			if (res == TM_EXPR_TRUE)
				return 1;
		}
		return 0;
	}
	while (s->ic < s->nc) {
		const struct cand *c = &s->c[s->ic];
		uint32_t id = c->id & IDMASK;

		if (read_rec(r, s, c->off, in_buf(s, c->off) ? 0 :
		    cand_span(s, s->ic)))
			return -1;
		s->ic++;
		if (!(c->id & CHECK))
			return 1;
		res = tm_qseg_eval(s->qs, id, s->ts, s->ts,
		    (c->id & DIRB) ? 1 : 0);
		if (res == TM_EXPR_UNKNOWN && decide(r, s, id, &res))
			return -1;
		if (res == TM_EXPR_TRUE)
			return 1;
	}
	return 0;
}

/* The next matching packet in time order. 1, 0 (none left), -1. */
static int seg_next(struct run *r, struct seg *s)
{
	int k;

	if (s->hits_mode) {
		if (s->ih >= s->nh)
			return 0;
		if (read_rec(r, s, s->hits[s->ih].off,
		    in_buf(s, s->hits[s->ih].off) ? 0 : hit_span(s, s->ih)))
			return -1;
		s->ih++;
		s->read--;		/* read twice, counted once */
		r->st->packets_read--;
	} else {
		k = next_in_file(r, s);
		if (k <= 0)
			return k;
	}
	s->matched++;
	return 1;
}

static void seg_close(struct seg *s)
{
	tm_qseg_free(s->qs);
	s->qs = NULL;
	if (s->sc_open)
		tm_sc_close_light(&s->scl);
	s->sc_open = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->c);
	s->c = NULL;
	free(s->hits);
	s->hits = NULL;
	free(s->buf);
	s->buf = NULL;
	s->bcap = s->blen = 0;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sorts candidates by offset: LSD radix on 16-bit digits. */
static int sort_cands(struct cand *c, size_t n)
{
	struct cand *tmp;
	size_t *cnt;

	if (n < 2)
		return 0;
	if (n < 4096) {
		qsort(c, n, sizeof(*c), cmp_cand);
		return 0;
	}
	tmp = malloc(n * sizeof(*tmp));
	cnt = malloc(65536 * sizeof(*cnt));
	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return -1;
	}
	for (unsigned sh = 0; sh < 32; sh += 16) {
		size_t sum = 0;

		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(c[i].off >> sh) & 0xffff]++;
		for (size_t i = 0; i < 65536; i++) {
			size_t k = cnt[i];

			cnt[i] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(c[i].off >> sh) & 0xffff]++] = c[i];
		memcpy(c, tmp, n * sizeof(*c));
	}
	free(tmp);
	free(cnt);
	return 0;
}

/* The offset of the first packet that can be at or after t: from the
 * packet directory of a time-sorted segment. */
static uint64_t dir_start(const struct seg *s, int64_t t)
{
	uint32_t lo = 0, hi = s->scl.sc.n_dir;
	uint64_t off;
	int64_t ts;

	/* the last entry whose time is < t (its successors up to the next
	 * entry may still be >= t) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		tm_sc_dir(&s->scl.sc, mid, &off, &ts);
		if (ts < t)
			lo = mid;
		else
			hi = mid;
	}
	if (s->scl.sc.n_dir == 0)
		return TM_PCAP_HDR;
	tm_sc_dir(&s->scl.sc, lo, &off, &ts);
	return off;
}

static int gather(struct run *r, struct seg *s)
{
	size_t cap = 0;
	uint32_t id = 0;

	while (tm_qseg_next(s->qs, &id)) {
		struct tm_sc_conn c;
		struct tm_sc_pos it;
		enum tm_expr_result res;
		uint64_t off;
		int dir;

		if (tm_sc_conn_packets_safe(&s->scl.sc, id, &c))
			return fail(r, "%s.idx: connection %" PRIu32 " is "
			    "damaged (see tm store check)", s->base, id);
		res = tm_qseg_eval(s->qs, id, c.first_ts, c.last_ts, -1);
		if (res == TM_EXPR_FALSE) {
			id++;
			continue;
		}
		if (res == TM_EXPR_TRUE)
			s->all_conns++;
		else
			s->chk_conns++;
		if (s->nc + c.n_pkts > cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct cand *v;

			while (ncap < s->nc + c.n_pkts)
				ncap *= 2;
			v = realloc(s->c, ncap * sizeof(*v));
			if (!v)
				return fail(r, "out of memory");
			s->c = v;
			cap = ncap;
		}
		tm_sc_pos_begin(&it, &c);
		while (tm_sc_pos_next(&it, &off, &dir)) {
			s->c[s->nc].off = (uint32_t)off;
			s->c[s->nc].id = id | (res == TM_EXPR_TRUE ? 0 : CHECK) |
			    (dir ? DIRB : 0);
			s->nc++;
		}
		id++;
	}
	if (sort_cands(s->c, s->nc))
		return fail(r, "out of memory");
	return 0;
}

/* A segment whose timestamps are not in file order: decide every
 * candidate first, then give the hits in time order. */
static int collect_hits(struct run *r, struct seg *s)
{
	size_t cap = 0;
	int k;

	while ((k = next_in_file(r, s)) == 1) {
		if (s->nh == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct hit *v = realloc(s->hits, ncap * sizeof(*v));

			if (!v)
				return fail(r, "out of memory");
			s->hits = v;
			cap = ncap;
		}
		s->hits[s->nh].ts = s->ts;
		s->hits[s->nh].off = s->off;
		s->hits[s->nh].pad = 0;
		s->nh++;
	}
	if (k < 0)
		return -1;
	if (s->nh)
		qsort(s->hits, s->nh, sizeof(*s->hits), cmp_hit);
	s->hits_mode = 1;
	s->boff = s->blen = 0;
	return 0;
}

/* A sidecar that does not check out: said on standard error, skipped
 * (`tm store check` tells more). */
static int damaged(struct run *r, struct seg *s, const char *why)
{
	fprintf(stderr, "tm: %s.idx: %s; segment skipped (see tm store "
	    "check)\n", s->base, why);
	r->st->skipped++;
	s->cand_conns = 0;	/* nothing to explain */
	return 0;
}

/* Joins the merge: opens the segment, loads and plans its sidecar,
 * gathers its candidates. 1: it has a first match (s->rec); 0: nothing
 * to read; -1: error. */
static int seg_open(struct run *r, struct seg *s)
{
	char path[4200], err[512];
	uint8_t hdr[TM_PCAP_HDR];
	double t0 = now_ms();
	int k;

	snprintf(path, sizeof(path), "%s.pcap", s->base);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		/* removed by a budget since it was listed */
		r->st->skipped++;
		if (r->o->explain)
			fprintf(r->o->explain, "  %s/%s: vanished\n", s->cls,
			    strrchr(s->base, '/') + 1);
		return 0;
	}
	if (!s->live) {
		/* a published pcap never changes size: one cut short (or
		 * grown) is damage, its segment set aside like a damaged
		 * sidecar's rather than failing the query half way */
		struct stat sb = { 0 };

		if (fstat(s->fd, &sb) != 0 || (uint64_t)sb.st_size !=
		    s->h.pcap_size) {
			fprintf(stderr, "tm: %s: %lld bytes, its sidecar says "
			    "%" PRIu64 "; segment skipped (see tm store "
			    "check)\n", path, (long long)sb.st_size,
			    s->h.pcap_size);
			r->st->skipped++;
			return 0;
		}
	}
	if (pread(s->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    tm_le32(hdr) != TM_PCAP_MAGIC_NS)
		return fail(r, "%s: not a timemachine segment (pcap magic)",
		    path);
	snprintf(path, sizeof(path), "%s.idx", s->base);
	if (s->live ? tm_sc_open_light_mem(&s->scl, s->live->idx.p,
	    s->live->idx.n, err, sizeof(err)) : tm_sc_open_light(&s->scl,
	    path, err, sizeof(err)))
		return damaged(r, s, err);
	s->sc_open = 1;
	r->st->index_bytes += s->scl.sc.len;
	if (tm_qplan_uses_contexts(r->plan) &&
	    tm_sc_contexts_light(&s->scl, err, sizeof(err)))
		return damaged(r, s, err);
	s->qs = tm_qseg_new(r->plan, &s->scl.sc);
	if (!s->qs)
		return fail(r, "out of memory planning %s", path);
	if (tm_qseg_damaged(s->qs))
		return damaged(r, s, "malformed posting or context table");
	r->st->conns += s->scl.sc.h.n_conns;
	if (tm_qseg_hi_empty(s->qs)) {
		r->st->pruned_index++;
		r->st->plan_ms += now_ms() - t0;
		if (r->o->explain)
			fprintf(r->o->explain, "  %s/%s: %" PRIu32
			    " connections, none can match (index)\n", s->cls,
			    strrchr(s->base, '/') + 1, s->scl.sc.h.n_conns);
		return 0;
	}
	s->cand_conns = r->o->explain || tm_qplan_time_only(r->plan) ?
	    tm_qseg_hi_count(s->qs) : 0;
	r->st->searched++;
	if (tm_qplan_time_only(r->plan)) {
		/* by time alone: the packet directory finds the start */
		s->scan = 1;
		s->scan_off = (s->h.flags & TM_SC_F_SORTED) && r->from !=
		    INT64_MIN ? dir_start(s, r->from) : TM_PCAP_HDR;
		s->all_conns = s->cand_conns;
	} else if (gather(r, s)) {
		return -1;
	}
	if (!s->cand_conns)
		s->cand_conns = s->all_conns + s->chk_conns;
	r->st->candidates += s->cand_conns;
	r->st->conns_all += s->all_conns;
	r->st->conns_checked += s->chk_conns;
	r->st->plan_ms += now_ms() - t0;
	if (!(s->h.flags & TM_SC_F_SORTED) && collect_hits(r, s))
		return -1;
	k = seg_next(r, s);
	return k;
}

/* ---- output -------------------------------------------------------------------- */

static int put_header(struct run *r, uint32_t linktype)
{
	uint8_t h[TM_PCAP_HDR];

	r->header_done = 1;
	r->linktype = linktype;
	if (!r->o->pcap)
		return 0;
	tm_put_le32(h, TM_PCAP_MAGIC_NS);
	tm_put_le16(h + 4, 2);
	tm_put_le16(h + 6, 4);
	tm_put_le32(h + 8, 0);
	tm_put_le32(h + 12, 0);
	tm_put_le32(h + 16, r->snaplen);
	tm_put_le32(h + 20, linktype);
	if (fwrite(h, sizeof(h), 1, r->o->pcap) != 1)
		return fail(r, "writing: %s", strerror(errno));
	return 0;
}

static int emit(struct run *r, struct seg *s)
{
	if (!r->header_done && put_header(r, s->h.linktype))
		return -1;
	if (s->h.linktype != r->linktype)
		return fail(r, "matching packets have link types %" PRIu32
		    " and %" PRIu32 ": one pcap holds one (narrow the query, "
		    "e.g. by class)", r->linktype, s->h.linktype);
	r->st->packets++;
	if (s->live)
		r->st->live_packets++;
	r->st->bytes += s->len;
	r->st->captured += s->caplen;
	if (r->o->pcap && fwrite(s->rec, TM_PCAP_REC_HDR + s->caplen, 1,
	    r->o->pcap) != 1)
		return fail(r, "writing: %s", strerror(errno));
	return 0;
}

/* ---- the merge ------------------------------------------------------------------ */

struct ev {
	int64_t ts;
	uint32_t seg;
	int64_t off;		/* -1: the segment joins */
};

static int ev_less(const struct ev *a, const struct ev *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	if (a->seg != b->seg)
		return a->seg < b->seg;
	return a->off < b->off;
}

struct heap {
	struct ev *v;
	size_t n, cap;
};

static int heap_push(struct heap *h, struct ev e)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct ev *v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!ev_less(&e, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = e;
	return 0;
}

static struct ev heap_pop(struct heap *h)
{
	struct ev top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!ev_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

static void explain_done(struct run *r, const struct seg *s)
{
	uint64_t out;

	if (!r->o->explain || !s->sc_open || s->cand_conns == 0)
		return;
	out = s->cand_conns - s->all_conns - s->chk_conns;
	if (s->scan)
		fprintf(r->o->explain, "  %s/%s: %" PRIu32 " connections, "
		    "read by time from the packet directory; %" PRIu64
		    " packets read, %" PRIu64 " matched\n", s->cls,
		    strrchr(s->base, '/') + 1, s->scl.sc.h.n_conns, s->read,
		    s->matched);
	else
		fprintf(r->o->explain, "  %s/%s: %" PRIu32 " connections, %"
		    PRIu64 " candidates: %" PRIu64 " whole, %" PRIu64
		    " checked per packet, %" PRIu64 " outside the time range; "
		    "%" PRIu64 " packets read, %" PRIu64 " decoded, %" PRIu64
		    " matched%s\n", s->cls, strrchr(s->base, '/') + 1,
		    s->scl.sc.h.n_conns, s->cand_conns, s->all_conns,
		    s->chk_conns, out, s->read, s->decoded, s->matched,
		    s->hits_mode ? " (not in time order: sorted)" : "");
}

int tm_query_run(const struct tm_query_opts *o, struct tm_query_stats *st,
    char *err, size_t errlen)
{
	struct run r;
	struct heap h = { 0 };
	double t0 = now_ms();
	int rc = -1;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.st = st;
	r.err = err;
	r.errlen = errlen;
	r.snaplen = TM_PCAP_SNAPLEN;
	tm_expr_time_range(o->e, &r.from, &r.until);
	r.plan = tm_qplan_new(o->e);
	if (!r.plan) {
		fail(&r, "out of memory");
		goto out;
	}
	if (list_store(&r))
		goto out;
	if (o->explain) {
		fprintf(o->explain, "predicates:\n");
		tm_qplan_describe(r.plan, o->explain);
	}
	/* prune by time; the rest join the merge at their first time */
	for (size_t i = 0; i < r.n; i++) {
		struct seg *s = &r.v[i];
		struct ev e = { s->h.min_ts, s->order, -1 };

		if (s->h.max_ts < r.from || s->h.min_ts >= r.until) {
			st->pruned_time++;
			continue;
		}
		if (s->h.snaplen > r.snaplen)
			r.snaplen = s->h.snaplen;
		if (heap_push(&h, e)) {
			fail(&r, "out of memory");
			goto out;
		}
	}
	if (o->explain)
		fprintf(o->explain, "segments: %" PRIu64 " published, %" PRIu64
		    " outside the time range, %zu to plan\n", st->segments,
		    st->pruned_time, h.n);
	while (h.n) {
		struct ev e = heap_pop(&h);
		struct seg *s = &r.v[e.seg];
		int k;

		if (e.off < 0) {
			k = seg_open(&r, s);
		} else {
			if (emit(&r, s))
				goto out;
			k = seg_next(&r, s);
		}
		if (k < 0)
			goto out;
		if (k == 0) {
			explain_done(&r, s);
			seg_close(s);
			continue;
		}
		e.ts = s->ts;
		e.off = s->off;
		if (heap_push(&h, e)) {
			fail(&r, "out of memory");
			goto out;
		}
	}
	if (!r.header_done && put_header(&r, r.n ? r.v[0].h.linktype : 1))
		goto out;
	if (o->pcap && fflush(o->pcap) != 0) {
		fail(&r, "writing: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < r.n; i++) {
		seg_close(&r.v[i]);
		free(r.v[i].cls);
		free(r.v[i].base);
	}
	free(r.v);
	free(h.v);
	free(r.pkt);
	tm_qplan_free(r.plan);
	st->total_ms = now_ms() - t0;
	return rc;
}
