/*
 * Checking a published segment against its sidecar: the sidecar must be
 * valid on its own (sidecar_read.c), the pcap must be a segment whose
 * records start exactly at the sidecar's packet positions, and the
 * sidecar rebuilt from the pcap's records (times, lengths) with the
 * sidecar's own connections must be byte for byte the sidecar. Any
 * difference in counts, offsets, times, directory, postings or checksum
 * is found and named.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "store.h"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int damage(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const char *section_name(uint32_t id)
{
	static char buf[32];

	switch (id) {
	case TM_SC_S_STRINGS: return "strings";
	case TM_SC_S_DIRECTORY: return "packet directory";
	case TM_SC_S_CONTEXTS: return "contexts";
	case TM_SC_S_CTX_CONNS: return "connections per context";
	case TM_SC_S_CONN_INDEX: return "connection index";
	case TM_SC_S_CONNS: return "connection records";
	default:
		if (id >= TM_SC_S_FIELD0 && id < TM_SC_S_FIELD0 + TM_SC_NFIELDS)
			snprintf(buf, sizeof(buf), "postings of %s",
			    tm_sc_fields[id - TM_SC_S_FIELD0].name);
		else
			snprintf(buf, sizeof(buf), "section %u", id);
		return buf;
	}
}

/* Where two sidecars first differ, in words. */
static void explain_diff(const uint8_t *a, size_t la, const uint8_t *b,
    size_t lb, char *msg, size_t len)
{
	size_t n = la < lb ? la : lb, i;
	uint32_t ns = tm_le32(a + 92);

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	if (i < TM_SC_HEADER_SIZE) {
		snprintf(msg, len, "the sidecar's header (byte %zu) does not "
		    "match the segment", i);
		return;
	}
	for (uint32_t s = 0; s < ns && TM_SC_HEADER_SIZE + (s + 1) *
	    TM_SC_SECTION_SIZE <= la; s++) {
		const uint8_t *e = a + TM_SC_HEADER_SIZE + s *
		    TM_SC_SECTION_SIZE;
		uint64_t off = tm_le64(e + 8), l = tm_le64(e + 16);

		if (i >= off && i < off + l) {
			snprintf(msg, len, "the sidecar's %s (byte %zu) does "
			    "not match the segment", section_name(tm_le32(e)),
			    i);
			return;
		}
	}
	snprintf(msg, len, "the sidecar (byte %zu of %zu, %zu expected) "
	    "does not match the segment", i, la, lb);
}

int tm_segment_check(const char *pcap, const char *idx, const char *cls,
    int64_t start, uint64_t seq, struct tm_check_info *info, char *msg,
    size_t len)
{
	struct tm_sc sc;
	struct tm_scb *b = NULL;
	struct tm_sbuf out = { 0 };
	uint64_t *pos = NULL, n = 0, off = TM_PCAP_HDR, k = 0;
	const uint8_t *m = MAP_FAILED;
	struct stat st;
	char err[512];
	int fd = -1, rc;

	memset(info, 0, sizeof(*info));
	if (tm_sc_load(&sc, idx, err, sizeof(err)))
		return damage(msg, len, "%s: %s", idx, err);
	info->packets = sc.h.n_packets;
	info->conns = sc.h.n_conns;
	info->pcap_bytes = sc.h.pcap_size;
	info->idx_bytes = sc.h.idx_size;
	if (sc.h.seq != seq || sc.h.start != start) {
		rc = damage(msg, len, "%s: the sidecar names segment %lld-%llu",
		    idx, (long long)sc.h.start, (unsigned long long)sc.h.seq);
		goto out;
	}
	if (strcmp(tm_sc_class(&sc), cls) != 0) {
		rc = damage(msg, len, "%s: the sidecar names class '%s'", idx,
		    tm_sc_class(&sc));
		goto out;
	}
	fd = open(pcap, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = damage(msg, len, "%s: %s", pcap, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != sc.h.pcap_size) {
		rc = damage(msg, len, "%s: %lld bytes, its sidecar says %"
		    PRIu64, pcap, (long long)st.st_size, sc.h.pcap_size);
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		rc = damage(msg, len, "%s: %s", pcap, strerror(errno));
		goto out;
	}
	madvise((void *)m, (size_t)st.st_size, MADV_SEQUENTIAL);
	if (XXH64(m, (size_t)st.st_size, 0) != sc.pcap_sum) {
		rc = damage(msg, len, "%s: its bytes changed since the segment "
		    "was published (pcap checksum mismatch)", pcap);
		goto out;
	}
	if (tm_le32(m) != TM_PCAP_MAGIC_NS || tm_le16(m + 4) != 2 ||
	    (tm_le32(m + 20) & 0xffff) != sc.h.linktype ||
	    tm_le32(m + 16) != sc.h.snaplen) {
		rc = damage(msg, len, "%s: the pcap header is not the one its "
		    "sidecar describes", pcap);
		goto out;
	}

	/* every packet position, with its connection and direction */
	pos = malloc(sc.h.n_packets * sizeof(*pos));
	if (!pos) {
		rc = damage(msg, len, "out of memory");
		goto out;
	}
	for (uint32_t id = 0; id < sc.h.n_conns; id++) {
		struct tm_sc_conn c;
		struct tm_sc_pos it;
		uint64_t o;
		int dir;

		tm_sc_conn_get(&sc, id, &c);
		tm_sc_pos_begin(&it, &c);
		while (tm_sc_pos_next(&it, &o, &dir))
			pos[n++] = o << 32 | (uint64_t)id << 1 | (uint64_t)dir;
	}
	if (n)
		qsort(pos, n, sizeof(*pos), cmp_u64);

	/* the sidecar again, from the pcap's records */
	b = tm_scb_new();
	if (!b) {
		rc = damage(msg, len, "out of memory");
		goto out;
	}
	tm_scb_reset(b, sc.h.dir_interval);
	for (uint32_t id = 0; id < sc.h.n_conns; id++) {
		struct tm_sc_conn c;
		struct tm_ctx_view cv;
		uint32_t bid;

		tm_sc_conn_get(&sc, id, &c);
		tm_sc_context(&sc, c.ctx, &cv);	/* none: empty */
		if (tm_scb_conn(b, &c.key, c.flags, &cv, &bid) ||
		    tm_scb_app(b, bid, c.app)) {
			rc = damage(msg, len, "out of memory");
			goto out;
		}
	}
	while (off + TM_PCAP_REC_HDR <= (uint64_t)st.st_size) {
		const uint8_t *h = m + off;
		uint32_t caplen = tm_le32(h + 8), wlen = tm_le32(h + 12);
		uint32_t nsec = tm_le32(h + 4);
		int64_t ts = (int64_t)tm_le32(h) * 1000000000 + nsec;

		if (wlen == 0 || caplen > TM_PCAP_SNAPLEN || wlen < caplen ||
		    nsec >= 1000000000u ||
		    off + TM_PCAP_REC_HDR + caplen > (uint64_t)st.st_size) {
			rc = damage(msg, len, "%s: offset %" PRIu64
			    ": a broken record (packet %" PRIu64 ")", pcap,
			    off, k + 1);
			goto out;
		}
		if (k >= n) {
			rc = damage(msg, len, "%s: offset %" PRIu64 ": packet %"
			    PRIu64 " is in no connection of the sidecar (it "
			    "has %" PRIu64 " packets)", pcap, off, k + 1, n);
			goto out;
		}
		if ((pos[k] >> 32) != off) {
			rc = damage(msg, len, "%s: packet %" PRIu64 " is at "
			    "offset %" PRIu64 ", the sidecar has one at %"
			    PRIu64, pcap, k + 1, off, pos[k] >> 32);
			goto out;
		}
		if (tm_scb_packet(b, (uint32_t)(pos[k] & 0xffffffffu) >> 1,
		    (int)(pos[k] & 1), off, ts, caplen, wlen)) {
			rc = damage(msg, len, "out of memory");
			goto out;
		}
		off += TM_PCAP_REC_HDR + caplen;
		k++;
	}
	if (off != (uint64_t)st.st_size) {
		rc = damage(msg, len, "%s: %" PRIu64 " bytes after the last "
		    "whole record", pcap, (uint64_t)st.st_size - off);
		goto out;
	}
	if (k != n) {
		rc = damage(msg, len, "%s: %" PRIu64 " packets, its sidecar "
		    "says %" PRIu64, pcap, k, n);
		goto out;
	}
	{
		struct tm_scb_meta meta;

		memset(&meta, 0, sizeof(meta));
		meta.class_name = cls;
		meta.linktype = sc.h.linktype;
		meta.snaplen = sc.h.snaplen;
		meta.flags = sc.h.flags & TM_SC_F_REBUILT;
		/* a sidecar of the previous format (written before an
		 * upgrade) is rebuilt in its own format */
		meta.version = sc.h.version;
		meta.seq = seq;
		meta.start = start;
		meta.pcap_size = off;
		meta.pcap_sum = sc.pcap_sum;
		if (tm_scb_finish(b, &meta, &out)) {
			rc = damage(msg, len, "out of memory");
			goto out;
		}
	}
	if (out.n != sc.len || memcmp(out.p, sc.buf, sc.len) != 0) {
		char what[256];

		explain_diff(sc.buf, sc.len, out.p, out.n, what, sizeof(what));
		rc = damage(msg, len, "%s: %s", idx, what);
		goto out;
	}
	info->min_ts = sc.h.min_ts;
	info->max_ts = sc.h.max_ts;
	rc = 0;
out:
	if (m != MAP_FAILED)
		munmap((void *)m, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	free(pos);
	tm_scb_free(b);
	tm_sbuf_free(&out);
	tm_sc_close(&sc);
	return rc;
}
