/*
 * Reading sidecars: nothing is used before everything is checked. The
 * checksums catch damage; the structural checks (every offset, length,
 * count and order) make sure that even a sidecar with valid checksums
 * but wrong content cannot make a reader go out of bounds or loop.
 */
#include "sidecar.h"
#include "sidecar_dict.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <roaring/roaring.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int tm_sc_header_parse(const uint8_t *buf, size_t len,
    struct tm_sc_header *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (len < TM_SC_HEADER_SIZE)
		return bad(err, errlen, "shorter than a header (%zu bytes)",
		    len);
	if (memcmp(buf, TM_SC_MAGIC, 8) != 0)
		return bad(err, errlen, "not a sidecar (bad magic)");
	h->version = tm_le16(buf + 8);
	if (h->version != 1 && h->version != 2)
		return bad(err, errlen, "sidecar version %u (this tm reads 1 "
		    "and 2)", h->version);
	if (tm_le16(buf + 10) != TM_SC_HEADER_SIZE)
		return bad(err, errlen, "header size %u, expected %u",
		    tm_le16(buf + 10), TM_SC_HEADER_SIZE);
	if (tm_le64(buf + 120) != XXH64(buf, 120, 0))
		return bad(err, errlen, "header checksum mismatch");
	h->flags = tm_le32(buf + 12);
	h->idx_size = tm_le64(buf + 16);
	h->pcap_size = tm_le64(buf + 24);
	h->min_ts = (int64_t)tm_le64(buf + 32);
	h->max_ts = (int64_t)tm_le64(buf + 40);
	h->n_packets = tm_le64(buf + 48);
	h->wire_bytes = tm_le64(buf + 56);
	h->n_conns = tm_le32(buf + 64);
	h->n_contexts = tm_le32(buf + 68);
	h->n_strings = tm_le32(buf + 72);
	h->dir_interval = tm_le32(buf + 76);
	h->linktype = tm_le32(buf + 80);
	h->snaplen = tm_le32(buf + 84);
	h->class_str = tm_le32(buf + 88);
	h->n_sections = tm_le32(buf + 92);
	h->seq = tm_le64(buf + 96);
	h->start = (int64_t)tm_le64(buf + 104);
	h->index_every = tm_le32(buf + 112);
	if (h->index_every != TM_SC_INDEX_EVERY)
		return bad(err, errlen, "bad connection index interval");
	h->time_unit = h->version >= 2 ? tm_le32(buf + 116) : 1;
	if (h->version < 2 ? tm_le32(buf + 116) != 0 :
	    h->time_unit != 1 && h->time_unit != 1000)
		return bad(err, errlen, "bad time unit %" PRIu32,
		    tm_le32(buf + 116));
	if (h->flags & ~(TM_SC_F_SORTED | TM_SC_F_REBUILT))
		return bad(err, errlen, "unknown header flags 0x%x", h->flags);
	if (h->idx_size < TM_SC_HEADER_SIZE + 8 ||
	    h->idx_size > ((uint64_t)1 << 40))
		return bad(err, errlen, "bad sidecar size %" PRIu64,
		    h->idx_size);
	if (h->pcap_size < 24 || h->pcap_size > TM_SC_MAX_OFFSET + (1ull << 18)
	    + 16)
		return bad(err, errlen, "bad segment size %" PRIu64,
		    h->pcap_size);
	if (h->min_ts > h->max_ts)
		return bad(err, errlen, "time range ends before it starts");
	if (h->n_packets == 0 || h->n_packets > (h->pcap_size - 24) / 16)
		return bad(err, errlen, "bad packet count %" PRIu64,
		    h->n_packets);
	if (h->n_conns == 0 || h->n_conns > h->n_packets ||
	    h->n_conns > INT32_MAX)
		return bad(err, errlen, "bad connection count %" PRIu32,
		    h->n_conns);
	if (h->n_contexts > h->n_conns)
		return bad(err, errlen, "bad context count %" PRIu32,
		    h->n_contexts);
	if (h->n_strings == 0 || h->class_str >= h->n_strings)
		return bad(err, errlen, "bad string count or class name");
	if (h->dir_interval == 0)
		return bad(err, errlen, "directory interval 0");
	if (h->min_ts > h->max_ts)
		return bad(err, errlen, "time range reversed");
	if (h->n_sections > 64)
		return bad(err, errlen, "%" PRIu32 " sections", h->n_sections);
	return 0;
}

int tm_sc_header_read(const char *path, struct tm_sc_header *h,
    char *err, size_t errlen)
{
	uint8_t buf[TM_SC_HEADER_SIZE];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bad(err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return bad(err, errlen, "%s", strerror(errno));
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0)
		return bad(err, errlen, "%s", strerror(errno));
	if (tm_sc_header_parse(buf, (size_t)n, h, err, errlen))
		return -1;
	if ((uint64_t)st.st_size != h->idx_size)
		return bad(err, errlen, "file is %lld bytes, header says %"
		    PRIu64, (long long)st.st_size, h->idx_size);
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len, char *err,
    size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		bad(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > ((uint64_t)1 << 40)) {
		close(fd);
		bad(err, errlen, "cannot size the file");
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		bad(err, errlen, "out of memory");
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got,
		    (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(buf);
			close(fd);
			bad(err, errlen, "read: %s", strerror(e));
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

int tm_sc_file_verify(const char *path, struct tm_sc_header *h, char *err,
    size_t errlen)
{
	size_t len;
	uint8_t *buf = read_file(path, &len, err, errlen);
	int rc = -1;

	if (!buf)
		return -1;
	if (tm_sc_header_parse(buf, len, h, err, errlen) == 0) {
		if (h->idx_size != len)
			bad(err, errlen, "%zu bytes, header says %" PRIu64, len,
			    h->idx_size);
		else if (tm_le64(buf + len - 8) != XXH64(buf, len - 8, 0))
			bad(err, errlen, "checksum mismatch");
		else
			rc = 0;
	}
	free(buf);
	return rc;
}

/* ---- whole-file validation --------------------------------------------- */

static int check_strings(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	struct tm_rd r = { p, p + len };

	/* a count the section cannot hold is damage, not an allocation:
	 * each string takes two bytes at least (length, NUL) */
	if (sc->h.n_strings > len / 2)
		return bad(err, errlen, "strings: %" PRIu32 " in %zu bytes",
		    sc->h.n_strings, len);
	sc->strings = calloc(sc->h.n_strings, sizeof(*sc->strings));
	sc->cur = calloc(1, sizeof(*sc->cur));
	if (!sc->strings || !sc->cur)
		return bad(err, errlen, "out of memory");
	for (uint32_t i = 0; i < sc->h.n_strings; i++) {
		uint64_t n;

		if (tm_rd_varint(&r, &n) || n > 4096 || tm_rd_left(&r) < n + 1)
			return bad(err, errlen, "strings: entry %" PRIu32
			    " overruns the section", i);
		if (memchr(r.p, 0, n) || r.p[n] != 0)
			return bad(err, errlen, "strings: entry %" PRIu32
			    " is not one NUL-terminated string", i);
		sc->strings[i] = (const char *)r.p;
		if (i && strcmp(sc->strings[i - 1], sc->strings[i]) >= 0)
			return bad(err, errlen, "strings: not sorted at %"
			    PRIu32, i);
		r.p += n + 1;
	}
	if (tm_rd_left(&r))
		return bad(err, errlen, "strings: %zu bytes left over",
		    tm_rd_left(&r));
	return 0;
}

static int check_dir(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	uint64_t n = (sc->h.n_packets + sc->h.dir_interval - 1) /
	    sc->h.dir_interval;

	if (len != n * 16)
		return bad(err, errlen, "directory: %zu bytes for %" PRIu64
		    " entries", len, n);
	sc->dir = p;
	sc->n_dir = (uint32_t)n;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t off = tm_le64(p + 16 * k);
		int64_t ts = (int64_t)tm_le64(p + 16 * k + 8);

		if (off < 24 || off + 16 > sc->h.pcap_size ||
		    (k && off <= tm_le64(p + 16 * (k - 1))) ||
		    (k == 0 && off != 24))
			return bad(err, errlen, "directory: entry %" PRIu64
			    " has a bad offset %" PRIu64, k, off);
		if (ts < sc->h.min_ts || ts > sc->h.max_ts)
			return bad(err, errlen, "directory: entry %" PRIu64
			    " outside the time range", k);
	}
	return 0;
}

static size_t fam_len(unsigned code)
{
	return code == 1 ? 4 : code == 2 ? 16 : 0;
}

/* One context record at r: checks it, optionally decodes it. */
static int ctx_record(const struct tm_sc *sc, struct tm_rd *r,
    struct tm_ctx_view *v)
{
	struct tm_ctx_view tmp;
	uint8_t nv, nt;

	if (!v)
		v = &tmp;
	memset(v, 0, sizeof(*v));
	if (tm_rd_u8(r, &nv) || tm_rd_u8(r, &nt) || nv > TM_MAX_VLANS ||
	    nt > TM_MAX_TUNNELS || (nv == 0 && nt == 0))
		return -1;
	v->n_vlans = nv;
	v->n_tunnels = nt;
	for (unsigned i = 0; i < nv; i++)
		if (tm_rd_le16(r, &v->vlans[i]))
			return -1;
	for (unsigned i = 0; i < nt; i++) {
		struct tm_tunnel *t = &v->tunnels[i];
		uint32_t *ids[6] = { &t->key, &t->tunnel_id, &t->session_id,
			&t->vni, &t->teid, &t->label };
		uint8_t fams;
		uint64_t name;

		if (tm_rd_u8(r, &t->type) || t->type > TM_TUN_OTHER ||
		    tm_rd_u8(r, &t->ids) || (t->ids & ~0x3fu) ||
		    tm_rd_u8(r, &fams) || (fams & 3) == 3 || (fams >> 2) > 2)
			return -1;
		t->src.family = (fams & 3) == 1 ? 4 : (fams & 3) == 2 ? 6 : 0;
		t->dst.family = (fams >> 2) == 1 ? 4 : (fams >> 2) == 2 ? 6 : 0;
		if (tm_rd_bytes(r, t->src.a, fam_len(fams & 3)) ||
		    tm_rd_bytes(r, t->dst.a, fam_len(fams >> 2)))
			return -1;
		for (unsigned k = 0; k < 6; k++)
			if ((t->ids & (1u << k)) && tm_rd_le32(r, ids[k]))
				return -1;
		if (tm_rd_le16(r, &t->payload) || tm_rd_varint(r, &name) ||
		    name > sc->h.n_strings)
			return -1;
		t->name = name ? sc->strings[name - 1] : NULL;
	}
	return 0;
}

/* The largest context record: 8 VLANs, 8 tunnels of two IPv6 addresses,
 * six identifiers and a name. */
#define CTX_MAX (2 + 2 * TM_MAX_VLANS + TM_MAX_TUNNELS * (3 + 32 + 24 + 2 + 10))

int tm_sc_ctx_unfold(struct tm_sc *sc, const uint8_t *p, size_t len,
    uint32_t *at)
{
	struct tm_rd r = { p, p + len };
	size_t total = 0, prev = 0;

	*at = 0;
	sc->ctx = calloc((size_t)sc->h.n_contexts + 1, sizeof(*sc->ctx));
	if (!sc->ctx) {
		*at = UINT32_MAX;
		return -1;
	}
	if (sc->h.version < 2) {	/* one after the other */
		sc->ctx_end = p + len;
		for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
			*at = i;
			sc->ctx[i] = r.p;
			if (ctx_record(sc, &r, NULL))
				return -1;
		}
		return 0;
	}
	/* v2: sizes first (bounded by the section: each takes 2 bytes at
	 * least), then the bytes */
	for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
		uint64_t sh, m;

		*at = i;
		if (tm_rd_varint(&r, &sh) || tm_rd_varint(&r, &m) ||
		    sh > prev || m == 0 || m > tm_rd_left(&r) ||
		    sh + m > CTX_MAX)
			return -1;
		r.p += m;
		prev = (size_t)(sh + m);
		total += prev;
	}
	sc->ctx_mem = malloc(total + 1);
	if (!sc->ctx_mem) {
		*at = UINT32_MAX;
		return -1;
	}
	r.p = p;
	total = 0;
	for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
		uint64_t sh = 0, m = 0;

		tm_rd_varint(&r, &sh);	/* read whole above */
		tm_rd_varint(&r, &m);
		sc->ctx[i] = sc->ctx_mem + total;
		if (sh)
			memcpy(sc->ctx_mem + total, sc->ctx[i - 1], sh);
		memcpy(sc->ctx_mem + total + sh, r.p, m);
		r.p += m;
		total += (size_t)(sh + m);
	}
	sc->ctx[sc->h.n_contexts] = sc->ctx_mem + total;
	sc->ctx_end = sc->ctx_mem + total;
	return 0;
}

static int check_contexts(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	uint32_t at;

	if (sc->h.n_contexts > len)	/* a byte each at least */
		return bad(err, errlen, "contexts: %" PRIu32 " in %zu bytes",
		    sc->h.n_contexts, len);
	if (tm_sc_ctx_unfold(sc, p, len, &at))
		return at == UINT32_MAX ? bad(err, errlen, "out of memory") :
		    bad(err, errlen, "contexts: record %" PRIu32 " is "
		    "malformed", at);
	for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
		const uint8_t *start = sc->ctx[i];
		struct tm_rd r = { start, sc->ctx_end };

		if (ctx_record(sc, &r, NULL) || (sc->h.version >= 2 &&
		    r.p != sc->ctx[i + 1]))
			return bad(err, errlen, "contexts: record %" PRIu32
			    " is malformed", i);
		/* canonical order: by bytes, each context once */
		if (i) {
			const uint8_t *a = sc->ctx[i - 1];
			size_t la = (size_t)(start - a), lb = (size_t)(r.p -
			    start);
			int c = memcmp(a, start, la < lb ? la : lb);

			if (c > 0 || (c == 0 && la >= lb))
				return bad(err, errlen, "contexts: not sorted "
				    "at %" PRIu32, i);
		}
	}
	if (sc->h.version < 2) {
		struct tm_rd r = { p, p + len };

		if (sc->h.n_contexts) {
			r.p = sc->ctx[sc->h.n_contexts - 1];
			ctx_record(sc, &r, NULL);
		}
		if (tm_rd_left(&r))
			return bad(err, errlen, "contexts: %zu bytes left over",
			    tm_rd_left(&r));
		return 0;
	}
	/* v2: each shares with the one before exactly their common prefix */
	{
		struct tm_rd r = { p, p + len };

		for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
			uint64_t sh = 0, m = 0;

			tm_rd_varint(&r, &sh);
			tm_rd_varint(&r, &m);
			if (i && sh < (uint64_t)(sc->ctx[i] - sc->ctx[i - 1]) &&
			    r.p[0] == sc->ctx[i - 1][sh])
				return bad(err, errlen, "contexts: record %"
				    PRIu32 " shares less than it could", i);
			r.p += m;
		}
		if (tm_rd_left(&r))
			return bad(err, errlen, "contexts: %zu bytes left over",
			    tm_rd_left(&r));
	}
	return 0;
}

static int check_ctx_conns(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	uint32_t prev = 0;

	if (len != ((size_t)sc->h.n_contexts + 1) * 4)
		return bad(err, errlen, "context connections: %zu bytes", len);
	for (uint32_t i = 0; i <= sc->h.n_contexts; i++) {
		uint32_t b = tm_le32(p + 4 * i);

		if (b < prev || b > sc->h.n_conns || (i > 0 && b == prev))
			return bad(err, errlen, "context connections: bad "
			    "bound %" PRIu32 " at %" PRIu32, b, i);
		prev = b;
	}
	if (prev != sc->h.n_conns)
		return bad(err, errlen, "context connections: end %" PRIu32
		    ", %" PRIu32 " connections", prev, sc->h.n_conns);
	sc->ctx_conns = p;
	return 0;
}

/* Checks the shape table: valid bytes, sorted, distinct. */
static int check_shapes(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	size_t ss = sc->h.version >= 2 ? TM_SC_SHAPE_SIZE2 : TM_SC_SHAPE_SIZE;

	if (len % ss || len / ss > sc->h.n_conns)
		return bad(err, errlen, "shapes: %zu bytes", len);
	sc->shapes = p;
	sc->shape_size = (uint32_t)ss;
	sc->n_shapes = (uint32_t)(len / ss);
	for (uint32_t i = 0; i < sc->n_shapes; i++) {
		const uint8_t *s = p + (size_t)i * ss;

		if ((s[0] & ~TM_SC_C_MASK) || s[1] > TM_L3_OTHER ||
		    (s[2] & 3) == 3 || (s[2] >> 2) > 2 ||
		    ((s[0] & TM_SC_C_PORTS) && !(s[0] & TM_SC_C_KPORTS)) ||
		    (!(s[0] & TM_SC_C_PROTO) && s[3]) || s[6] || s[7])
			return bad(err, errlen, "shapes: entry %" PRIu32
			    " is malformed", i);
		if (ss > TM_SC_SHAPE_SIZE && tm_le32(s + 8) > sc->h.n_strings)
			return bad(err, errlen, "shapes: entry %" PRIu32
			    " names no string", i);
		if (i && memcmp(s - ss, s, ss) >= 0)
			return bad(err, errlen, "shapes: not sorted at %"
			    PRIu32, i);
	}
	return 0;
}

/* What a v2 record holds relative to the record before it (docs/
 * storage.md): its first packet's time (minus the header's earliest) and
 * offset, with that packet's direction. */
struct v2head {
	uint64_t first;		/* ns after the header's earliest time */
	uint64_t off;
	int dir;
};

/* The address of an endpoint: v1 the bytes, v2 an index into the
 * addr4/addr6 dictionary. */
static int rd_addr(const struct tm_sc *sc, struct tm_rd *r, unsigned fam,
    uint8_t *a, int key)
{
	uint64_t i;

	if (sc->h.version < 2)
		return tm_rd_bytes(r, a, fam_len(fam));
	if (fam == 0)
		return 0;
	if (tm_rd_varint(r, &i) || i >= sc->f[fam == 2 ? TM_SC_ADDR6 :
	    TM_SC_ADDR4].n_values)
		return -1;
	/* without the key: no lookup (a random read of a dictionary) */
	return key && !tm_sc_addr_value(sc, fam == 2, i, a) ? -1 : 0;
}

/* Decodes a connection record up to its positions (r: the record after
 * its length; v2: after its first two fields, decoded into h). */
static int conn_record(const struct tm_sc *sc, struct tm_rd *r,
    struct tm_sc_conn *c, const struct v2head *h, int key)
{
	uint64_t shape, app, first = 0, dur, n, span;
	const uint8_t *s;
	unsigned fams;

	memset(c, 0, sizeof(*c));
	if (tm_rd_varint(r, &shape) || shape >= sc->n_shapes)
		return -1;
	s = sc->shapes + shape * sc->shape_size;
	c->flags = s[0];
	c->key.l3 = s[1];
	fams = s[2];
	c->key.proto = s[3];
	c->key.ethertype = tm_le16(s + 4);
	c->key.fam_a = (fams & 3) == 1 ? 4 : (fams & 3) == 2 ? 6 : 0;
	c->key.fam_b = (fams >> 2) == 1 ? 4 : (fams >> 2) == 2 ? 6 : 0;
	if (rd_addr(sc, r, fams & 3, c->key.addr_a, key) ||
	    rd_addr(sc, r, fams >> 2, c->key.addr_b, key))
		return -1;
	if ((c->flags & TM_SC_C_KPORTS) && (tm_rd_le16(r, &c->key.port_a) ||
	    tm_rd_le16(r, &c->key.port_b)))
		return -1;
	if ((c->flags & TM_SC_C_SPI) && tm_rd_le32(r, &c->key.spi))
		return -1;
	if (h)		/* v2: the application is in the shape */
		app = tm_le32(s + 8);
	else if (tm_rd_varint(r, &app) || tm_rd_varint(r, &first))
		return -1;
	if (app > sc->h.n_strings || tm_rd_varint(r, &dur) ||
	    tm_rd_varint(r, &n))
		return -1;
	if (h) {
		/* v2: (packets - 1) << 3 | (k - 6) */
		c->pos_k = (uint8_t)(TM_SC_POS_K0 + (n & 7));
		n = (n >> 3) + 1;
	}
	/* the header has min_ts <= max_ts; unsigned: no overflow */
	span = (uint64_t)sc->h.max_ts - (uint64_t)sc->h.min_ts;
	if (h) {
		/* v2: times in the header's unit */
		uint64_t u = sc->h.time_unit;

		if (h->first > span / u || dur > span / u)
			return -1;
		first = h->first * u;
		dur *= u;
		/* the first position, checked as tm_sc_pos_next checks the
		 * others */
		if (h->off < 24 || h->off > TM_SC_MAX_OFFSET ||
		    h->off + 16 > sc->h.pcap_size)
			return -1;
		c->first_off = h->off;
		c->first_dir = (uint8_t)h->dir;
		c->v2 = 1;
	}
	if (first > span || dur > span - first)
		return -1;
	if (n == 0 || n > sc->h.n_packets)
		return -1;
	c->app = app ? sc->strings[app - 1] : NULL;
	c->first_ts = (int64_t)((uint64_t)sc->h.min_ts + first);
	c->last_ts = (int64_t)((uint64_t)c->first_ts + dur);
	c->n_pkts = n;
	c->pos = r->p;
	c->pos_end = r->end;
	c->pcap_size = sc->h.pcap_size;
	return 0;
}

/* The record at r (its length first): rec is its bytes (v2: after its
 * first two fields, decoded into h from the record before, prev), r the
 * next record. 0, or -1 if it overruns. */
static int next_record(const struct tm_sc *sc, struct tm_rd *r,
    struct tm_rd *rec, struct v2head *prev, struct v2head *h)
{
	uint64_t rlen, t, o;

	if (tm_rd_varint(r, &rlen) || rlen == 0 || rlen > tm_rd_left(r))
		return -1;
	rec->p = r->p;
	rec->end = r->p + rlen;
	r->p += rlen;
	if (sc->h.version < 2)
		return 0;
	if (tm_rd_varint(rec, &t) || tm_rd_varint(rec, &o))
		return -1;
	/* unsigned: damage wraps around and is refused by the range
	 * checks of conn_record, never undefined */
	h->first = prev->first + (uint64_t)tm_unzz(t);
	h->off = prev->off + (uint64_t)tm_unzz(o >> 1);
	h->dir = (int)(o & 1);
	*prev = *h;
	return 0;
}

static int sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
	size_t *cnt = malloc(65536 * sizeof(*cnt));

	if (!cnt)
		return -1;
	for (unsigned sh = 0; sh < 32; sh += 16) {
		size_t sum = 0;

		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i] >> sh) & 0xffff]++;
		for (size_t i = 0; i < 65536; i++) {
			size_t k = cnt[i];

			cnt[i] = sum;
			sum += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> sh) & 0xffff]++] = a[i];
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(cnt);
	return 0;
}

/* Every packet is at exactly one position: the positions of all
 * connections, sorted, are distinct record starts (16 bytes apart at
 * least, the first right after the file header), and directory entry k
 * is the (k * interval)-th of them. */
static int check_positions(struct tm_sc *sc, uint32_t *all, char *err,
    size_t errlen)
{
	uint64_t n = sc->h.n_packets;
	uint32_t *tmp = malloc(n * sizeof(*tmp));

	if (!tmp || sort_u32(all, tmp, n)) {
		free(tmp);
		return bad(err, errlen, "out of memory");
	}
	free(tmp);
	if (all[0] != 24)
		return bad(err, errlen, "no packet right after the pcap "
		    "header");
	for (uint64_t i = 1; i < n; i++)
		if (all[i] < all[i - 1] + 16)
			return bad(err, errlen, "positions %" PRIu32 " and %"
			    PRIu32 " overlap", all[i - 1], all[i]);
	if ((uint64_t)all[n - 1] + 16 > sc->h.pcap_size)
		return bad(err, errlen, "last position beyond the segment");
	for (uint32_t k = 0; k < sc->n_dir; k++)
		if (tm_le64(sc->dir + 16 * (size_t)k) !=
		    all[(uint64_t)k * sc->h.dir_interval])
			return bad(err, errlen, "directory entry %" PRIu32
			    " is not packet %" PRIu64, k,
			    (uint64_t)k * sc->h.dir_interval);
	return 0;
}

static int check_conn_records(struct tm_sc *sc, uint32_t *all,
    uint64_t *totalp, int64_t *lop, int64_t *hip, char *err, size_t errlen)
{
	struct tm_rd r = { sc->conns, sc->conns + sc->conns_len };
	uint64_t total = 0;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	struct v2head prev2 = { 0, 0, 0 }, h;

	for (uint32_t i = 0; i < sc->h.n_conns; i++) {
		struct tm_rd rec;
		struct tm_sc_conn c;
		uint64_t prev = 0, k0 = 0;
		uint8_t bit = 0;

		if (i % sc->h.index_every == 0) {
			if (tm_le32(sc->conn_index + 4 * (size_t)(i /
			    sc->h.index_every)) != (uint64_t)(r.p - sc->conns))
				return bad(err, errlen, "connection index: "
				    "entry %" PRIu32 " does not point at "
				    "record %" PRIu32, i / sc->h.index_every,
				    i);
			memset(&prev2, 0, sizeof(prev2));
		}
		if (next_record(sc, &r, &rec, &prev2, &h))
			return bad(err, errlen, "connection %" PRIu32 ": bad "
			    "record length", i);
		if (conn_record(sc, &rec, &c, sc->h.version < 2 ? NULL : &h,
		    1))
			return bad(err, errlen, "connection %" PRIu32 ": "
			    "malformed record", i);
		if (c.v2) {
			if (total >= sc->h.n_packets)
				return bad(err, errlen, "connections hold more "
				    "than %" PRIu64 " packets",
				    sc->h.n_packets);
			all[total] = (uint32_t)c.first_off;
			prev = c.first_off;
			k0 = 1;
		}
		for (uint64_t k = k0; k < c.n_pkts; k++) {
			uint64_t v;

			if ((c.v2 ? tm_sc_pos_value(&rec, &bit, c.pos_k, &v) :
			    tm_rd_varint(&rec, &v)) || (v >> 1) == 0 ||
			    (v >> 1) > sc->h.pcap_size ||
			    prev + (v >> 1) + 16 > sc->h.pcap_size ||
			    prev + (v >> 1) < 24 ||
			    prev + (v >> 1) > TM_SC_MAX_OFFSET)
				return bad(err, errlen, "connection %" PRIu32
				    ": position %" PRIu64 " is bad", i, k);
			prev += v >> 1;
			if (total + k >= sc->h.n_packets)
				return bad(err, errlen, "connections hold more "
				    "than %" PRIu64 " packets",
				    sc->h.n_packets);
			all[total + k] = (uint32_t)prev;
		}
		/* v2: the last byte's unused bits are 0; a single packet
		 * has k 6 */
		if (bit && (rec.p[0] & (0xffu >> bit)))
			return bad(err, errlen, "connection %" PRIu32 ": "
			    "padding bits set", i);
		if (bit)
			rec.p++;
		if (c.v2 && c.n_pkts == 1 && c.pos_k != TM_SC_POS_K0)
			return bad(err, errlen, "connection %" PRIu32 ": "
			    "position code for no position", i);
		if (tm_rd_left(&rec))
			return bad(err, errlen, "connection %" PRIu32 ": %zu "
			    "bytes left over", i, tm_rd_left(&rec));
		total += c.n_pkts;
		if (c.first_ts < lo)
			lo = c.first_ts;
		if (c.last_ts > hi)
			hi = c.last_ts;
	}
	if (tm_rd_left(&r))
		return bad(err, errlen, "connection records: %zu bytes left "
		    "over", tm_rd_left(&r));
	*totalp = total;
	*lop = lo;
	*hip = hi;
	return 0;
}

static int check_conns(struct tm_sc *sc, const uint8_t *idx, size_t ilen,
    const uint8_t *p, size_t len, char *err, size_t errlen)
{
	uint64_t total = 0;
	uint32_t *all;
	int rc;
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	size_t want = ((size_t)sc->h.n_conns + sc->h.index_every - 1) /
	    sc->h.index_every * 4;

	if (ilen != want)
		return bad(err, errlen, "connection index: %zu bytes for %"
		    PRIu32 " connections", ilen, sc->h.n_conns);
	if (len > UINT32_MAX)
		return bad(err, errlen, "connection records: too large");
	sc->conn_index = idx;
	sc->conns = p;
	sc->conns_len = len;
	if (sc->light)
		return 0;	/* records are checked as they are read */
	/* every packet position takes a byte at least */
	if (sc->h.n_packets > len)
		return bad(err, errlen, "connection records: %" PRIu64
		    " packets in %zu bytes", sc->h.n_packets, len);
	all = malloc(sc->h.n_packets * sizeof(*all));
	if (!all)
		return bad(err, errlen, "out of memory");
	rc = check_conn_records(sc, all, &total, &lo, &hi, err, errlen);
	if (rc == 0 && total != sc->h.n_packets)
		rc = bad(err, errlen, "connections hold %" PRIu64 " packets, "
		    "header says %" PRIu64, total, sc->h.n_packets);
	if (rc == 0 && (lo != sc->h.min_ts || hi != sc->h.max_ts))
		rc = bad(err, errlen, "connection times do not span the "
		    "header's time range");
	if (rc == 0)
		rc = check_positions(sc, all, err, errlen);
	free(all);
	return rc;
}

static int check_field(struct tm_sc *sc, unsigned fi, const uint8_t *p,
    size_t len, char *err, size_t errlen)
{
	const struct tm_sc_field_info *fd = &tm_sc_fields[fi];
	struct tm_sc_fsec *fs = &sc->f[fi];
	uint32_t at = 0;
	int rc;

	if (len < 8 || p[0] != fd->width || p[1] != fd->universe || p[2] ||
	    p[3])
		return bad(err, errlen, "field %s: bad section header",
		    fd->name);
	if (tm_sc_fsec_init(fs, sc->h.version, fi, p, len,
	    fd->universe == TM_SC_U_CONNS ? sc->h.n_conns :
	    sc->h.n_contexts))
		return bad(err, errlen, "field %s: dictionary overruns the "
		    "section", fd->name);
	if (sc->light)
		return 0;	/* postings are checked as they are read */
	rc = tm_sc_fsec_check(fs, fi, sc->h.n_strings, &at);
	if (rc == -1)
		return bad(err, errlen, "field %s: values not sorted at %"
		    PRIu32, fd->name, at);
	if (rc == -2)
		return bad(err, errlen, "field %s: dictionary malformed at "
		    "value %" PRIu32, fd->name, at);
	if (rc == -3)
		return bad(err, errlen, "field %s: posting of value %" PRIu32
		    " is malformed", fd->name, at);
	if (rc == -4)
		return bad(err, errlen, "field %s: value %" PRIu32 " names no "
		    "string", fd->name, at);
	return 0;
}

void tm_sc_close(struct tm_sc *sc)
{
	free(sc->strings);
	free(sc->ctx);
	free(sc->ctx_mem);
	tm_sc_cursor_free(sc->cur);
	free(sc->owned);
	if (sc->map)
		munmap((void *)sc->map, sc->map_len);
	memset(sc, 0, sizeof(*sc));
}

static int open_impl(struct tm_sc *sc, const uint8_t *buf, size_t len,
    int light, char *err, size_t errlen)
{
	const uint8_t *sp[TM_SC_S_FIELD0 + TM_SC_NFIELDS] = { 0 };
	size_t sl[TM_SC_S_FIELD0 + TM_SC_NFIELDS] = { 0 };
	size_t table_end;

	memset(sc, 0, sizeof(*sc));
	sc->light = light;
	if (tm_sc_header_parse(buf, len, &sc->h, err, errlen))
		goto fail;
	if (sc->h.idx_size != len) {
		bad(err, errlen, "%zu bytes, header says %" PRIu64, len,
		    sc->h.idx_size);
		goto fail;
	}
	if (!light && tm_le64(buf + len - 8) != XXH64(buf, len - 8, 0)) {
		bad(err, errlen, "checksum mismatch");
		goto fail;
	}
	sc->buf = buf;
	sc->len = len;
	table_end = TM_SC_HEADER_SIZE + (size_t)sc->h.n_sections *
	    TM_SC_SECTION_SIZE;
	if (table_end > len - 8) {
		bad(err, errlen, "section table overruns the file");
		goto fail;
	}
	for (uint32_t i = 0; i < sc->h.n_sections; i++) {
		const uint8_t *e = buf + TM_SC_HEADER_SIZE +
		    (size_t)i * TM_SC_SECTION_SIZE;
		uint32_t id = tm_le32(e);
		uint64_t off = tm_le64(e + 8), l = tm_le64(e + 16);

		if (off < table_end || off > len - 8 || l > len - 8 - off) {
			bad(err, errlen, "section %" PRIu32 " (id %" PRIu32
			    ") out of bounds", i, id);
			goto fail;
		}
		if (id >= TM_SC_S_FIELD0 + TM_SC_NFIELDS)
			continue;	/* a later minor addition: ignored */
		if (sp[id]) {
			bad(err, errlen, "section id %" PRIu32 " twice", id);
			goto fail;
		}
		sp[id] = buf + off;
		sl[id] = (size_t)l;
	}
	for (unsigned id = 1; id < TM_SC_S_FIELD0 + TM_SC_NFIELDS; id++)
		if (!sp[id] && (id <= TM_SC_S_PCAP_SUM ||
		    id >= TM_SC_S_FIELD0)) {
			bad(err, errlen, "section id %u missing", id);
			goto fail;
		}
	if (check_strings(sc, sp[TM_SC_S_STRINGS], sl[TM_SC_S_STRINGS], err,
	    errlen) ||
	    check_dir(sc, sp[TM_SC_S_DIRECTORY], sl[TM_SC_S_DIRECTORY], err,
	    errlen) ||
	    check_contexts(sc, sp[TM_SC_S_CONTEXTS], sl[TM_SC_S_CONTEXTS], err,
	    errlen) ||
	    check_ctx_conns(sc, sp[TM_SC_S_CTX_CONNS], sl[TM_SC_S_CTX_CONNS],
	    err, errlen) ||
	    check_shapes(sc, sp[TM_SC_S_SHAPES], sl[TM_SC_S_SHAPES], err,
	    errlen))
		goto fail;
	if (sl[TM_SC_S_PCAP_SUM] != 8) {
		bad(err, errlen, "pcap checksum: %zu bytes",
		    sl[TM_SC_S_PCAP_SUM]);
		goto fail;
	}
	sc->pcap_sum = tm_le64(sp[TM_SC_S_PCAP_SUM]);
	/* the dictionaries first: a v2 record names its addresses by their
	 * index in them */
	for (unsigned fi = 0; fi < TM_SC_NFIELDS; fi++)
		if (check_field(sc, fi, sp[TM_SC_S_FIELD0 + fi],
		    sl[TM_SC_S_FIELD0 + fi], err, errlen))
			goto fail;
	if (check_conns(sc, sp[TM_SC_S_CONN_INDEX], sl[TM_SC_S_CONN_INDEX],
	    sp[TM_SC_S_CONNS], sl[TM_SC_S_CONNS], err, errlen))
		goto fail;
	return 0;
fail:
	tm_sc_close(sc);
	return -1;
}

int tm_sc_open(struct tm_sc *sc, const uint8_t *buf, size_t len, char *err,
    size_t errlen)
{
	return open_impl(sc, buf, len, 0, err, errlen);
}

int tm_sc_map(struct tm_sc *sc, const char *path, unsigned flags, char *err,
    size_t errlen)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(sc, 0, sizeof(*sc));
	if (fd < 0)
		return bad(err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size < TM_SC_HEADER_SIZE + 8 ||
	    (uint64_t)st.st_size > ((uint64_t)1 << 40)) {
		close(fd);
		return bad(err, errlen, "not a sidecar (size)");
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return bad(err, errlen, "%s", strerror(errno));
	if (open_impl(sc, m, (size_t)st.st_size, (flags & TM_SC_LIGHT) != 0,
	    err, errlen)) {
		munmap(m, (size_t)st.st_size);
		return -1;
	}
	sc->map = m;
	sc->map_len = (size_t)st.st_size;
	return 0;
}

int tm_sc_load(struct tm_sc *sc, const char *path, char *err, size_t errlen)
{
	size_t len;
	uint8_t *buf;

	memset(sc, 0, sizeof(*sc));
	buf = read_file(path, &len, err, errlen);
	if (!buf)
		return -1;
	if (tm_sc_open(sc, buf, len, err, errlen)) {
		free(buf);
		return -1;
	}
	sc->owned = buf;
	return 0;
}

/* ---- access ------------------------------------------------------------- */

const char *tm_sc_string(const struct tm_sc *sc, uint32_t i)
{
	return i < sc->h.n_strings ? sc->strings[i] : NULL;
}

const char *tm_sc_class(const struct tm_sc *sc)
{
	return sc->strings[sc->h.class_str];
}

void tm_sc_dir(const struct tm_sc *sc, uint32_t k, uint64_t *off,
    int64_t *ts)
{
	*off = tm_le64(sc->dir + 16 * (size_t)k);
	*ts = (int64_t)tm_le64(sc->dir + 16 * (size_t)k + 8);
}

void tm_sc_context(const struct tm_sc *sc, uint32_t i,
    struct tm_ctx_view *out)
{
	struct tm_rd r;

	memset(out, 0, sizeof(*out));
	if (i >= sc->h.n_contexts)
		return;
	r.p = sc->ctx[i];
	r.end = sc->ctx_end;
	ctx_record(sc, &r, out);	/* validated at open */
}

void tm_sc_ctx_conns(const struct tm_sc *sc, uint32_t i, uint32_t *first,
    uint32_t *end)
{
	if (i == UINT32_MAX) {
		*first = 0;
		*end = tm_le32(sc->ctx_conns);
	} else if (i < sc->h.n_contexts) {
		*first = tm_le32(sc->ctx_conns + 4 * (size_t)i);
		*end = tm_le32(sc->ctx_conns + 4 * ((size_t)i + 1));
	} else {
		*first = *end = 0;
	}
}

uint32_t tm_sc_conn_ctx(const struct tm_sc *sc, uint32_t id)
{
	uint32_t lo = 0, hi = sc->h.n_contexts;

	if (id < tm_le32(sc->ctx_conns))
		return UINT32_MAX;
	/* the last context whose first connection is <= id */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (tm_le32(sc->ctx_conns + 4 * (size_t)mid) <= id)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int conn_get(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c, int key)
{
	struct tm_rd r, rec;
	struct v2head prev = { 0, 0, 0 }, h;
	uint32_t off, k;

	memset(c, 0, sizeof(*c));
	if (id >= sc->h.n_conns)
		return -1;
	/* from the nearest indexed record, skip by the lengths (v2: adding
	 * up the first times and offsets); bounded even when the records
	 * were not validated at open (light) */
	r.end = sc->conns + sc->conns_len;
	k = id - id % sc->h.index_every;
	if (sc->cur && sc->cur->next > k && sc->cur->next <= id) {
		/* on from the last walk, in the same anchor group */
		k = sc->cur->next;
		r.p = sc->cur->p;
		prev.first = sc->cur->first;
		prev.off = sc->cur->off;
	} else {
		off = tm_le32(sc->conn_index + 4 * (size_t)(id /
		    sc->h.index_every));
		if (off >= sc->conns_len)
			return -1;
		r.p = sc->conns + off;
	}
	for (; k <= id; k++)
		if (next_record(sc, &r, &rec, &prev, &h))
			return -1;
	if (sc->cur) {
		sc->cur->next = id + 1;
		sc->cur->p = r.p;
		sc->cur->first = prev.first;
		sc->cur->off = prev.off;
	}
	if (conn_record(sc, &rec, c, sc->h.version < 2 ? NULL : &h, key)) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->ctx = tm_sc_conn_ctx(sc, id);
	return 0;
}

int tm_sc_conn_get(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c)
{
	return conn_get(sc, id, c, 1);
}

int tm_sc_conn_packets(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c)
{
	return conn_get(sc, id, c, 0);
}

void tm_sc_pos_begin(struct tm_sc_pos *it, const struct tm_sc_conn *c)
{
	it->rd.p = c->pos;
	it->rd.end = c->pos_end;
	it->off = c->v2 ? c->first_off : 0;
	it->first_pending = c->v2 && c->n_pkts;
	it->first_dir = c->first_dir;
	it->left = c->n_pkts;
	it->limit = c->pcap_size;
	it->v2 = c->v2;
	it->k = c->pos_k;
	it->bit = 0;
}

int tm_sc_pos_next(struct tm_sc_pos *it, uint64_t *off, int *dir)
{
	uint64_t v;

	if (it->first_pending) {	/* v2: checked by conn_record */
		it->first_pending = 0;
		it->left--;
		*off = it->off;
		*dir = it->first_dir;
		return 1;
	}
	/* bounded even when not validated at open (light): a position
	 * outside the pcap ends the list */
	if (!it->left || (it->v2 ? tm_sc_pos_value(&it->rd, &it->bit, it->k,
	    &v) : tm_rd_varint(&it->rd, &v)) || (v >> 1) == 0 ||
	    (v >> 1) > it->limit || it->off + (v >> 1) + 16 > it->limit) {
		it->left = 0;
		return 0;
	}
	it->left--;
	it->off += v >> 1;
	*off = it->off;
	*dir = (int)(v & 1);
	return 1;
}
