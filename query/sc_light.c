/*
 * Opening a sidecar for a query: the file is mapped, the header's
 * checksum and the whole file's checksum are verified (XXH64 over the
 * 7 MB sidecar of a 256 MB segment is half a millisecond warm, as much as
 * the rest of a 5-tuple query; cold, the sidecar is read whole), as a
 * restart verifies them: a damaged sidecar is never trusted (the query
 * skips its segment and says so; the next start rebuilds it from the
 * pcap). Then only the tables the accessors of sidecar_read.c need are
 * set up (section bounds, strings, context starts, field dictionaries,
 * each checked against its section), and the sidecar is read only
 * through accesses that cannot leave the file (the planner's own
 * bounded posting walk, tm_sc_conn_get_safe below), so even a sidecar
 * written wrong but checksummed cannot crash a query; `tm store check`
 * finds that.
 * tm_sc_load() also checks every connection record, every position and
 * every posting, which costs tens of milliseconds per segment: right for
 * `tm store check` and recovery, too slow for a query that reads a few
 * hundred bytes of a sidecar. The checksums catch damage; what they
 * cannot catch (a sidecar written wrong but checksummed) is what
 * `tm store check` is for.
 *
 * This belongs in storage/sidecar_read.c as an option of tm_sc_open;
 * until it is there, it lives here and follows docs/storage.md.
 */
#include "sc_light.h"
#include "sidecar_dict.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

static size_t fam_len(unsigned code)
{
	return code == 1 ? 4 : code == 2 ? 16 : 0;
}

/* Skips one context record (docs/storage.md); -1 if it overruns. */
static int skip_ctx(struct tm_rd *r, uint32_t n_strings)
{
	uint8_t nv, nt;

	if (tm_rd_u8(r, &nv) || tm_rd_u8(r, &nt) || nv > TM_MAX_VLANS ||
	    nt > TM_MAX_TUNNELS || tm_rd_bytes(r, NULL, 2u * nv))
		return -1;
	for (unsigned i = 0; i < nt; i++) {
		uint8_t type, ids, fams;
		uint64_t name;

		if (tm_rd_u8(r, &type) || tm_rd_u8(r, &ids) ||
		    tm_rd_u8(r, &fams) || (fams & 3) == 3 || (fams >> 2) > 2 ||
		    (ids & ~0x3fu) ||
		    tm_rd_bytes(r, NULL, fam_len(fams & 3) +
		    fam_len(fams >> 2) + 4u * (unsigned)__builtin_popcount(ids)
		    + 2) ||
		    tm_rd_varint(r, &name) || name > n_strings)
			return -1;
	}
	return 0;
}

int tm_sc_open_light(struct tm_sc_light *l, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	const uint8_t *buf;
	size_t len;
	int fd;

	memset(l, 0, sizeof(*l));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bad(err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size < TM_SC_HEADER_SIZE + 8) {
		close(fd);
		return bad(err, errlen, "too short for a sidecar");
	}
	len = (size_t)st.st_size;
	buf = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (buf == MAP_FAILED)
		return bad(err, errlen, "mmap: %s", strerror(errno));
	/* a damaged sidecar is never trusted: a flipped bit in a posting
	 * or a record would make an answer wrong, silently */
	if (tm_le64(buf + len - 8) != XXH64(buf, len - 8, 0)) {
		munmap((void *)buf, len);
		return bad(err, errlen, "checksum mismatch");
	}
	if (tm_sc_open_light_mem(l, buf, len, err, errlen)) {
		munmap((void *)buf, len);
		return -1;
	}
	l->map = buf;
	l->map_len = len;
	return 0;
}

int tm_sc_open_light_mem(struct tm_sc_light *l, const uint8_t *buf,
    size_t len, char *err, size_t errlen)
{
	struct tm_sc *sc = &l->sc;
	const uint8_t *sp[TM_SC_S_FIELD0 + TM_SC_NFIELDS] = { 0 };
	size_t sl[TM_SC_S_FIELD0 + TM_SC_NFIELDS] = { 0 };
	size_t table_end;

	memset(l, 0, sizeof(*l));
	if (len < TM_SC_HEADER_SIZE + 8)
		return bad(err, errlen, "too short for a sidecar");
	if (tm_sc_header_parse(buf, len, &sc->h, err, errlen))
		goto fail;
	if (sc->h.idx_size != len) {
		bad(err, errlen, "%zu bytes, header says %" PRIu64, len,
		    sc->h.idx_size);
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
		uint64_t off = tm_le64(e + 8), n = tm_le64(e + 16);

		if (off < table_end || off > len - 8 || n > len - 8 - off) {
			bad(err, errlen, "section %" PRIu32 " out of bounds", i);
			goto fail;
		}
		if (id < TM_SC_S_FIELD0 + TM_SC_NFIELDS && !sp[id]) {
			sp[id] = buf + off;
			sl[id] = (size_t)n;
		}
	}
	for (unsigned id = 1; id < TM_SC_S_FIELD0 + TM_SC_NFIELDS; id++)
		if (!sp[id] && (id <= TM_SC_S_SHAPES || id >= TM_SC_S_FIELD0)) {
			bad(err, errlen, "section id %u missing", id);
			goto fail;
		}

	/* strings */
	if (sc->h.n_strings > sl[TM_SC_S_STRINGS] / 2) {
		bad(err, errlen, "strings: %" PRIu32 " in %zu bytes",
		    sc->h.n_strings, sl[TM_SC_S_STRINGS]);
		goto fail;
	}
	sc->strings = calloc(sc->h.n_strings, sizeof(*sc->strings));
	sc->cur = calloc(1, sizeof(*sc->cur));
	if (!sc->strings || !sc->cur) {
		bad(err, errlen, "out of memory");
		goto fail;
	}
	{
		struct tm_rd r = { sp[TM_SC_S_STRINGS], sp[TM_SC_S_STRINGS] +
		    sl[TM_SC_S_STRINGS] };

		for (uint32_t i = 0; i < sc->h.n_strings; i++) {
			uint64_t n;

			if (tm_rd_varint(&r, &n) || tm_rd_left(&r) < n + 1 ||
			    r.p[n] != 0) {
				bad(err, errlen, "strings: entry %" PRIu32
				    " is malformed", i);
				goto fail;
			}
			sc->strings[i] = (const char *)r.p;
			r.p += n + 1;
		}
	}
	/* directory */
	{
		uint64_t n = (sc->h.n_packets + sc->h.dir_interval - 1) /
		    sc->h.dir_interval;

		if (sl[TM_SC_S_DIRECTORY] != n * 16) {
			bad(err, errlen, "directory: wrong size");
			goto fail;
		}
		sc->dir = sp[TM_SC_S_DIRECTORY];
		sc->n_dir = (uint32_t)n;
	}
	l->ctx_sec = sp[TM_SC_S_CONTEXTS];
	l->ctx_len = sl[TM_SC_S_CONTEXTS];
	{
		size_t n_index = ((size_t)sc->h.n_conns + sc->h.index_every - 1) /
		    sc->h.index_every;

		if (sl[TM_SC_S_CTX_CONNS] != ((size_t)sc->h.n_contexts + 1) *
		    4 || sl[TM_SC_S_CONN_INDEX] != n_index * 4 ||
		    sl[TM_SC_S_SHAPES] % (sc->h.version >= 2 ?
		    TM_SC_SHAPE_SIZE2 : TM_SC_SHAPE_SIZE)) {
			bad(err, errlen, "connection tables: wrong size");
			goto fail;
		}
	}
	sc->ctx_conns = sp[TM_SC_S_CTX_CONNS];
	for (uint32_t i = 0; i <= sc->h.n_contexts; i++)
		if (tm_le32(sc->ctx_conns + 4 * (size_t)i) > sc->h.n_conns ||
		    (i && tm_le32(sc->ctx_conns + 4 * (size_t)i) <
		    tm_le32(sc->ctx_conns + 4 * ((size_t)i - 1)))) {
			bad(err, errlen, "context connections: bad bound");
			goto fail;
		}
	sc->shapes = sp[TM_SC_S_SHAPES];
	sc->shape_size = sc->h.version >= 2 ? TM_SC_SHAPE_SIZE2 :
	    TM_SC_SHAPE_SIZE;
	sc->n_shapes = (uint32_t)(sl[TM_SC_S_SHAPES] / sc->shape_size);
	sc->conn_index = sp[TM_SC_S_CONN_INDEX];
	sc->conns = sp[TM_SC_S_CONNS];
	sc->conns_len = sl[TM_SC_S_CONNS];
	/* fields: section headers and dictionary bounds */
	for (unsigned fi = 0; fi < TM_SC_NFIELDS; fi++) {
		const struct tm_sc_field_info *fi_ = &tm_sc_fields[fi];

		if (tm_sc_fsec_init(&sc->f[fi], sc->h.version, fi,
		    sp[TM_SC_S_FIELD0 + fi], sl[TM_SC_S_FIELD0 + fi],
		    fi_->universe == TM_SC_U_CONNS ? sc->h.n_conns :
		    sc->h.n_contexts)) {
			bad(err, errlen, "field %s: bad section header or "
			    "dictionary", fi_->name);
			goto fail;
		}
	}
	return 0;
fail:
	tm_sc_close_light(l);
	return -1;
}

int tm_sc_contexts_light(struct tm_sc_light *l, char *err, size_t errlen)
{
	struct tm_sc *sc = &l->sc;
	uint32_t at;

	if (sc->ctx)
		return 0;
	if (sc->h.n_contexts > l->ctx_len)	/* a byte each at least */
		return bad(err, errlen, "contexts: %" PRIu32 " in %zu bytes",
		    sc->h.n_contexts, l->ctx_len);
	/* where each starts (v2: unfolded from the shared prefixes); each
	 * one parses within the bytes (tm_sc_context reads them) */
	if (tm_sc_ctx_unfold(sc, l->ctx_sec, l->ctx_len, &at))
		goto bad;
	for (at = 0; at < sc->h.n_contexts; at++) {
		struct tm_rd r = { sc->ctx[at], sc->ctx_end };

		if (skip_ctx(&r, sc->h.n_strings))
			goto bad;
	}
	return 0;
bad:
	free(sc->ctx);
	free(sc->ctx_mem);
	sc->ctx = NULL;
	sc->ctx_mem = NULL;
	if (at == UINT32_MAX)
		return bad(err, errlen, "out of memory");
	return bad(err, errlen, "contexts: record %" PRIu32 " is malformed",
	    at);
}

int tm_sc_conn_get_safe(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c)
{
	/* tm_sc_conn_get walks from the indexed record by the lengths,
	 * each checked against the section, and checks what it decodes */
	if (sc->h.index_every == 0 || tm_sc_conn_get(sc, id, c))
		return -1;
	return c->n_pkts ? 0 : -1;
}

int tm_sc_conn_packets_safe(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c)
{
	if (sc->h.index_every == 0 || tm_sc_conn_packets(sc, id, c))
		return -1;
	return c->n_pkts ? 0 : -1;
}

void tm_sc_close_light(struct tm_sc_light *l)
{
	free(l->sc.strings);
	free(l->sc.ctx_mem);
	tm_sc_cursor_free(l->sc.cur);
	free(l->sc.ctx);
	if (l->map)
		munmap((void *)l->map, l->map_len);
	memset(l, 0, sizeof(*l));
}
