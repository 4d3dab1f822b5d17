/*
 * Reading sidecars: nothing is used before everything is checked. The
 * checksums catch damage; the structural checks (every offset, length,
 * count and order) make sure that even a sidecar with valid checksums
 * but wrong content cannot make a reader go out of bounds or loop.
 */
#include "sidecar.h"

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
	if (h->version != TM_SC_VERSION)
		return bad(err, errlen, "sidecar version %u (this tm reads %u)",
		    h->version, TM_SC_VERSION);
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
	if (h->index_every != TM_SC_INDEX_EVERY || tm_le32(buf + 116) != 0)
		return bad(err, errlen, "bad connection index interval");
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
	if (!sc->strings)
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

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
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

static int check_contexts(struct tm_sc *sc, const uint8_t *p, size_t len,
    char *err, size_t errlen)
{
	struct tm_rd r = { p, p + len };

	if (sc->h.n_contexts > len)	/* a byte each at least */
		return bad(err, errlen, "contexts: %" PRIu32 " in %zu bytes",
		    sc->h.n_contexts, len);
	sc->ctx = calloc((size_t)sc->h.n_contexts + 1, sizeof(*sc->ctx));
	if (!sc->ctx)
		return bad(err, errlen, "out of memory");
	for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
		const uint8_t *start = r.p;

		sc->ctx[i] = start;
		if (ctx_record(sc, &r, NULL))
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
	if (tm_rd_left(&r))
		return bad(err, errlen, "contexts: %zu bytes left over",
		    tm_rd_left(&r));
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
	if (len % TM_SC_SHAPE_SIZE || len / TM_SC_SHAPE_SIZE > sc->h.n_conns)
		return bad(err, errlen, "shapes: %zu bytes", len);
	sc->shapes = p;
	sc->n_shapes = (uint32_t)(len / TM_SC_SHAPE_SIZE);
	for (uint32_t i = 0; i < sc->n_shapes; i++) {
		const uint8_t *s = p + (size_t)i * TM_SC_SHAPE_SIZE;

		if ((s[0] & ~TM_SC_C_MASK) || s[1] > TM_L3_OTHER ||
		    (s[2] & 3) == 3 || (s[2] >> 2) > 2 ||
		    ((s[0] & TM_SC_C_PORTS) && !(s[0] & TM_SC_C_KPORTS)) ||
		    (!(s[0] & TM_SC_C_PROTO) && s[3]) || s[6] || s[7])
			return bad(err, errlen, "shapes: entry %" PRIu32
			    " is malformed", i);
		if (i && memcmp(s - TM_SC_SHAPE_SIZE, s, TM_SC_SHAPE_SIZE) >= 0)
			return bad(err, errlen, "shapes: not sorted at %"
			    PRIu32, i);
	}
	return 0;
}

/* Decodes a connection record up to its positions (r: the record after
 * its length). */
static int conn_record(const struct tm_sc *sc, struct tm_rd *r,
    struct tm_sc_conn *c)
{
	uint64_t shape, app, first, dur, n, span;
	const uint8_t *s;
	unsigned fams;

	memset(c, 0, sizeof(*c));
	if (tm_rd_varint(r, &shape) || shape >= sc->n_shapes)
		return -1;
	s = sc->shapes + shape * TM_SC_SHAPE_SIZE;
	c->flags = s[0];
	c->key.l3 = s[1];
	fams = s[2];
	c->key.proto = s[3];
	c->key.ethertype = tm_le16(s + 4);
	c->key.fam_a = (fams & 3) == 1 ? 4 : (fams & 3) == 2 ? 6 : 0;
	c->key.fam_b = (fams >> 2) == 1 ? 4 : (fams >> 2) == 2 ? 6 : 0;
	if (tm_rd_bytes(r, c->key.addr_a, fam_len(fams & 3)) ||
	    tm_rd_bytes(r, c->key.addr_b, fam_len(fams >> 2)))
		return -1;
	if ((c->flags & TM_SC_C_KPORTS) && (tm_rd_le16(r, &c->key.port_a) ||
	    tm_rd_le16(r, &c->key.port_b)))
		return -1;
	if ((c->flags & TM_SC_C_SPI) && tm_rd_le32(r, &c->key.spi))
		return -1;
	if (tm_rd_varint(r, &app) || app > sc->h.n_strings ||
	    tm_rd_varint(r, &first) || tm_rd_varint(r, &dur) ||
	    tm_rd_varint(r, &n))
		return -1;
	/* the header has min_ts <= max_ts; unsigned: no overflow */
	span = (uint64_t)sc->h.max_ts - (uint64_t)sc->h.min_ts;
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

	for (uint32_t i = 0; i < sc->h.n_conns; i++) {
		struct tm_rd rec;
		struct tm_sc_conn c;
		uint64_t prev = 0, rlen;

		if (i % sc->h.index_every == 0 &&
		    tm_le32(sc->conn_index + 4 * (size_t)(i /
		    sc->h.index_every)) != (uint64_t)(r.p - sc->conns))
			return bad(err, errlen, "connection index: entry %"
			    PRIu32 " does not point at record %" PRIu32,
			    i / sc->h.index_every, i);
		if (tm_rd_varint(&r, &rlen) || rlen == 0 ||
		    rlen > tm_rd_left(&r))
			return bad(err, errlen, "connection %" PRIu32 ": bad "
			    "record length", i);
		rec.p = r.p;
		rec.end = r.p + rlen;
		r.p += rlen;
		if (conn_record(sc, &rec, &c))
			return bad(err, errlen, "connection %" PRIu32 ": "
			    "malformed record", i);
		for (uint64_t k = 0; k < c.n_pkts; k++) {
			uint64_t v;

			if (tm_rd_varint(&rec, &v) || (v >> 1) == 0 ||
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

/* A posting at blob offset ref (or inline): checks and describes it. */
static int posting_at(const struct tm_sc_fsec *fs, uint32_t ref,
    struct tm_sc_posting *p, int check)
{
	struct tm_rd r;
	uint64_t h;

	memset(p, 0, sizeof(*p));
	p->n_ids = fs->n_ids;
	if (ref & 0x80000000u) {
		p->kind = 2;
		p->count = 1;
		p->single = ref & 0x7fffffffu;
		if (p->single < fs->n_ids)
			return 0;
		p->count = 0;
		return -1;
	}
	if (ref >= fs->blob_len)
		return -1;
	r.p = fs->blob + ref;
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
			if (id >= fs->n_ids)
				return -1;
		}
	} else {
		size_t nb = ((size_t)fs->n_ids + 7) / 8;
		uint64_t pop = 0;

		if (tm_rd_left(&r) < nb)
			return -1;
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

static int check_field(struct tm_sc *sc, unsigned fi, const uint8_t *p,
    size_t len, char *err, size_t errlen)
{
	const struct tm_sc_field_info *fd = &tm_sc_fields[fi];
	struct tm_sc_fsec *fs = &sc->f[fi];
	size_t dict;

	if (len < 8 || p[0] != fd->width || p[1] != fd->universe || p[2] ||
	    p[3])
		return bad(err, errlen, "field %s: bad section header",
		    fd->name);
	fs->width = p[0];
	fs->universe = p[1];
	fs->n_values = tm_le32(p + 4);
	fs->n_ids = fs->universe == TM_SC_U_CONNS ? sc->h.n_conns :
	    sc->h.n_contexts;
	dict = (size_t)fs->n_values * (fs->width + 4u);
	if (fs->n_values > len || dict > len - 8)
		return bad(err, errlen, "field %s: dictionary overruns the "
		    "section", fd->name);
	fs->dict = p + 8;
	fs->blob = p + 8 + dict;
	fs->blob_len = len - 8 - dict;
	if (sc->light)
		return 0;	/* postings are checked as they are read */
	for (uint32_t i = 0; i < fs->n_values; i++) {
		const uint8_t *e = fs->dict + (size_t)i * (fs->width + 4u);
		struct tm_sc_posting ps;

		if (i && memcmp(e - (fs->width + 4u), e, fs->width) >= 0)
			return bad(err, errlen, "field %s: values not sorted "
			    "at %" PRIu32, fd->name, i);
		if (posting_at(fs, tm_le32(e + fs->width), &ps, 1))
			return bad(err, errlen, "field %s: posting of value %"
			    PRIu32 " is malformed", fd->name, i);
	}
	if (fi == TM_SC_APP || fi == TM_SC_TUNNEL_NAME)
		for (uint32_t i = 0; i < fs->n_values; i++)
			if (be32(fs->dict + (size_t)i * 8) >=
			    sc->h.n_strings)
				return bad(err, errlen, "field %s: value %"
				    PRIu32 " names no string", fd->name, i);
	return 0;
}

void tm_sc_close(struct tm_sc *sc)
{
	free(sc->strings);
	free(sc->ctx);
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
	    errlen) ||
	    check_conns(sc, sp[TM_SC_S_CONN_INDEX], sl[TM_SC_S_CONN_INDEX],
	    sp[TM_SC_S_CONNS], sl[TM_SC_S_CONNS], err, errlen))
		goto fail;
	if (sl[TM_SC_S_PCAP_SUM] != 8) {
		bad(err, errlen, "pcap checksum: %zu bytes",
		    sl[TM_SC_S_PCAP_SUM]);
		goto fail;
	}
	sc->pcap_sum = tm_le64(sp[TM_SC_S_PCAP_SUM]);
	for (unsigned fi = 0; fi < TM_SC_NFIELDS; fi++)
		if (check_field(sc, fi, sp[TM_SC_S_FIELD0 + fi],
		    sl[TM_SC_S_FIELD0 + fi], err, errlen))
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
	r.end = sc->buf + sc->len;
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

int tm_sc_conn_get(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c)
{
	struct tm_rd r;
	uint64_t rlen = 0;
	uint32_t off;

	memset(c, 0, sizeof(*c));
	if (id >= sc->h.n_conns)
		return -1;
	/* from the nearest indexed record, skip by the lengths; bounded
	 * even when the records were not validated at open (light) */
	off = tm_le32(sc->conn_index + 4 * (size_t)(id / sc->h.index_every));
	if (off >= sc->conns_len)
		return -1;
	r.p = sc->conns + off;
	r.end = sc->conns + sc->conns_len;
	for (uint32_t k = id - id % sc->h.index_every; ; k++) {
		if (tm_rd_varint(&r, &rlen) || rlen > tm_rd_left(&r))
			return -1;
		if (k == id)
			break;
		r.p += rlen;
	}
	r.end = r.p + rlen;
	if (conn_record(sc, &r, c)) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	c->ctx = tm_sc_conn_ctx(sc, id);
	return 0;
}

void tm_sc_pos_begin(struct tm_sc_pos *it, const struct tm_sc_conn *c)
{
	it->rd.p = c->pos;
	it->rd.end = c->pos_end;
	it->off = 0;
	it->left = c->n_pkts;
	it->limit = c->pcap_size;
}

int tm_sc_pos_next(struct tm_sc_pos *it, uint64_t *off, int *dir)
{
	uint64_t v;

	/* bounded even when not validated at open (light): a position
	 * outside the pcap ends the list */
	if (!it->left || tm_rd_varint(&it->rd, &v) || (v >> 1) == 0 ||
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

uint32_t tm_sc_field_count(const struct tm_sc *sc, enum tm_sc_field f)
{
	return (unsigned)f < TM_SC_NFIELDS ? sc->f[f].n_values : 0;
}

const uint8_t *tm_sc_field_value(const struct tm_sc *sc, enum tm_sc_field f,
    uint32_t i, struct tm_sc_posting *p)
{
	const struct tm_sc_fsec *fs;
	const uint8_t *e;

	if ((unsigned)f >= TM_SC_NFIELDS || i >= sc->f[f].n_values)
		return NULL;
	fs = &sc->f[f];
	e = fs->dict + (size_t)i * (fs->width + 4u);
	/* a damaged posting (light open) reads as an empty one */
	if (p && posting_at(fs, tm_le32(e + fs->width), p, 0))
		memset(p, 0, sizeof(*p));
	return e;
}

uint32_t tm_sc_field_lower(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v)
{
	const struct tm_sc_fsec *fs;
	uint32_t lo = 0, hi;

	if ((unsigned)f >= TM_SC_NFIELDS)
		return 0;
	fs = &sc->f[f];
	hi = fs->n_values;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(fs->dict + (size_t)mid * (fs->width + 4u), v,
		    fs->width) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int tm_sc_lookup(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v, struct tm_sc_posting *p)
{
	uint32_t i = tm_sc_field_lower(sc, f, v);
	const uint8_t *e = tm_sc_field_value(sc, f, i, p);

	if (!e || memcmp(e, v, sc->f[f].width) != 0) {
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
		if (tm_rd_varint(&r, &d)) {
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
