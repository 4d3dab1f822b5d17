/*
 * The writer thread of a capture: drains every class's rings and the flow
 * ring, writes large sequential chunks straight from ring memory, feeds
 * the sidecar builders, publishes segments (pcap synced, then the
 * sidecar written to a temporary name, synced, renamed, directory
 * synced), and keeps the disk budgets by deleting whole oldest segments.
 *
 * A failed write (disk full) is never retried: the open segments are cut
 * back to their last whole record and published if their sidecars can
 * still be written (else they are left for the next start to repair),
 * and the reading side is told to stop.
 */
#define _GNU_SOURCE
#include "capture_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowstore.h"
#include "ipfix.h"

#define CHUNK_MAX	((uint64_t)1 << 20)

void tm_writer_fail(struct tm_capture *cap, const char *fmt, ...)
{
	va_list ap;
	size_t n = 0;

	if (atomic_load(&cap->failed)) {
		/* later consequences: appended, one per line */
		n = strlen(cap->errmsg);
		if (n + 8 >= sizeof(cap->errmsg))
			return;
		cap->errmsg[n++] = '\n';
		memcpy(cap->errmsg + n, "tm: ", 4);
		n += 4;
	}
	va_start(ap, fmt);
	vsnprintf(cap->errmsg + n, sizeof(cap->errmsg) - n, fmt, ap);
	va_end(ap);
	atomic_store(&cap->failed, 1);
	tm_evc_notify(&cap->space_evc);
}

static uint64_t chunk_of(const struct tm_ring *r)
{
	uint64_t c = r->size / 8;

	return c < CHUNK_MAX ? c : CHUNK_MAX;
}

/* write(2) until done; *done: bytes written (also on failure). */
static int write_full(int fd, const uint8_t *p, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		*done += (size_t)w;
	}
	return 0;
}

/* ---- budgets ------------------------------------------------------------ */

static uint64_t open_bytes(const struct tm_capture *cap)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cap->ncls; i++)
		if (cap->cls[i].w.open)
			n += cap->cls[i].w.written;
	return n;
}

static void delete_oldest(struct tm_capture *cap, struct tm_seg_class *c)
{
	struct tm_seg *s = &c->v[c->head];
	uint64_t bytes = s->pcap_bytes + s->idx_bytes;
	char path[4200];

	/* the sidecar first: a reader never sees a sidecar without data */
	tm_seg_path(path, sizeof(path), cap->root, c->name, s->start, s->seq,
	    ".idx");
	unlink(path);
	tm_seg_path(path, sizeof(path), cap->root, c->name, s->start, s->seq,
	    ".pcap");
	unlink(path);
	c->head++;
	c->bytes -= bytes;
	cap->cat.bytes -= bytes;
	for (size_t i = 0; i < cap->ncls; i++)
		if (cap->cls[i].cat == c) {
			cap->cls[i].deleted++;
			cap->cls[i].deleted_bytes += bytes;
		}
}

static void enforce_budgets(struct tm_capture *cap, struct ccls *k)
{
	if (k && k->cat->budget)
		while (k->cat->head < k->cat->n && k->cat->bytes +
		    (k->w.open ? k->w.written : 0) > k->cat->budget)
			delete_oldest(cap, k->cat);
	if (!k)
		for (size_t i = 0; i < cap->ncls; i++)
			enforce_budgets(cap, &cap->cls[i]);
	if (cap->so.disk) {
		uint64_t ob = open_bytes(cap);

		while (cap->cat.bytes + ob > cap->so.disk) {
			struct tm_seg_class *best = NULL;

			for (size_t i = 0; i < cap->cat.n; i++) {
				struct tm_seg_class *c = &cap->cat.cls[i];
				const struct tm_seg *s, *b;

				if (c->head >= c->n)
					continue;
				s = &c->v[c->head];
				b = best ? &best->v[best->head] : NULL;
				if (!b || s->start < b->start ||
				    (s->start == b->start && s->seq < b->seq))
					best = c;
			}
			if (!best)
				break;
			delete_oldest(cap, best);
		}
	}
}

/* ---- segments ----------------------------------------------------------- */

static int seg_open(struct tm_capture *cap, struct ccls *k, uint32_t linktype,
    int64_t ts)
{
	uint8_t h[TM_PCAP_HDR];
	size_t done;

	if (k->w.open) {
		tm_writer_fail(cap, "%s: internal error: segment opened twice",
		    k->name);
		return -1;
	}
	k->w.seq = k->cat->next_seq++;
	k->w.start = ts / 1000000000;
	k->w.linktype = linktype;
	tm_seg_path(k->w.path, sizeof(k->w.path), cap->root, k->name,
	    k->w.start, k->w.seq, ".pcap");
	k->w.fd = open(k->w.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644);
	if (k->w.fd < 0) {
		tm_writer_fail(cap, "%s: %s", k->w.path, strerror(errno));
		return -1;
	}
	tm_put_le32(h, TM_PCAP_MAGIC_NS);
	tm_put_le16(h + 4, 2);
	tm_put_le16(h + 6, 4);
	tm_put_le32(h + 8, 0);
	tm_put_le32(h + 12, 0);
	tm_put_le32(h + 16, TM_PCAP_SNAPLEN);
	tm_put_le32(h + 20, linktype);
	if (write_full(k->w.fd, h, sizeof(h), &done)) {
		int e = errno;

		close(k->w.fd);
		k->w.fd = -1;
		unlink(k->w.path);
		tm_writer_fail(cap, "%s: write: %s", k->w.path, strerror(e));
		return -1;
	}
	XXH64_reset(k->w.sum, 0);
	XXH64_update(k->w.sum, h, sizeof(h));
	k->w.open = 1;
	k->w.failed = 0;
	k->w.off = k->w.written = TM_PCAP_HDR;
	tm_scb_reset(k->b, cap->so.dir_interval);
	return 0;
}

/* Writes what was indexed but not yet written. On failure the file is
 * cut back to its last whole record. */
static int seg_write_pending(struct tm_capture *cap, struct ccls *k)
{
	uint64_t n = k->data_pos - k->pending_from;
	size_t done;

	if (!n)
		return 0;
	if (!k->w.open) {
		tm_writer_fail(cap, "%s: internal error: data outside a "
		    "segment", k->name);
		return -1;
	}
	if (write_full(k->w.fd, tm_ring_at(&k->data, k->pending_from),
	    (size_t)n, &done)) {
		int e = errno;

		k->w.failed = 1;
		tm_writer_fail(cap, "%s: write: %s", k->w.path, strerror(e));
		/* back to the last whole record (else the repair does it) */
		if (done && ftruncate(k->w.fd, (off_t)k->w.written) != 0)
			tm_writer_fail(cap, "%s: cutting it back to its last "
			    "whole record: %s", k->w.path, strerror(errno));
		return -1;
	}
	XXH64_update(k->w.sum, tm_ring_at(&k->data, k->pending_from),
	    (size_t)n);
	/* start the write-back now: the final sync finds little left */
	sync_file_range(k->w.fd, (off64_t)k->w.written, (off64_t)n,
	    SYNC_FILE_RANGE_WRITE);
	k->w.written += n;
	k->pending_from = k->data_pos;
	tm_ring_release(&k->data, k->data_pos);
	enforce_budgets(cap, k);
	return 0;
}

/* Publishes the open segment, all written: pcap synced, then its
 * sidecar. The sidecar is built before the sync, while the last of the
 * write-back is under way (at the end of a file that is the tail every
 * ingest waits for); it goes to disk only after. */
static int seg_publish(struct tm_capture *cap, struct ccls *k)
{
	struct tm_scb_meta meta;
	struct tm_sbuf sc = { 0 };
	struct tm_seg s;
	char idx[4200];
	int rc = -1, pub;

	if (tm_scb_packets(k->b) == 0) {
		/* nothing whole in it */
		close(k->w.fd);
		unlink(k->w.path);
		k->w.fd = -1;
		k->w.open = 0;
		return 0;
	}
	memset(&meta, 0, sizeof(meta));
	meta.class_name = k->name;
	meta.linktype = k->w.linktype;
	meta.snaplen = TM_PCAP_SNAPLEN;
	meta.seq = k->w.seq;
	meta.start = k->w.start;
	meta.pcap_size = k->w.written;
	meta.pcap_sum = XXH64_digest(k->w.sum);
	if (tm_scb_finish(k->b, &meta, &sc)) {
		tm_writer_fail(cap, "%s: out of memory building its sidecar",
		    k->w.path);
		goto out;
	}
	if (fdatasync(k->w.fd) != 0) {
		tm_writer_fail(cap, "%s: sync: %s", k->w.path, strerror(errno));
		goto out;
	}
	tm_seg_path(idx, sizeof(idx), cap->root, k->name, k->w.start,
	    k->w.seq, ".idx");
	pub = tm_publish_file(idx, sc.p, sc.n);
	if (pub == 1) {
		tm_writer_fail(cap, "%s: syncing its directory: %s (the "
		    "sidecar is in place, but a power cut may lose it: then "
		    "the next start rebuilds it)", idx, strerror(errno));
		goto out;
	}
	if (pub != 0) {
		tm_writer_fail(cap, "%s: %s (the segment stays unpublished; "
		    "the next start repairs it)", idx, strerror(errno));
		goto out;
	}
	memset(&s, 0, sizeof(s));
	s.seq = k->w.seq;
	s.start = k->w.start;
	s.pcap_bytes = k->w.written;
	s.idx_bytes = sc.n;
	{
		struct tm_sc_header h;
		char e[64];

		if (tm_sc_header_parse(sc.p, sc.n, &h, e, sizeof(e)) == 0) {
			s.min_ts = h.min_ts;
			s.max_ts = h.max_ts;
			s.n_packets = h.n_packets;
			s.wire_bytes = h.wire_bytes;
			s.n_conns = h.n_conns;
		}
	}
	if (tm_catalog_add(&cap->cat, k->cat, &s)) {
		tm_writer_fail(cap, "out of memory");
		goto out;
	}
	k->segments++;
	k->pcap_bytes += s.pcap_bytes;
	k->idx_bytes += s.idx_bytes;
	rc = 0;
out:
	tm_sbuf_free(&sc);
	close(k->w.fd);
	k->w.fd = -1;
	k->w.open = 0;
	if (rc == 0)
		enforce_budgets(cap, k);
	return rc;
}

static int seg_close(struct tm_capture *cap, struct ccls *k)
{
	if (!k->w.open)
		return 0;
	if (seg_write_pending(cap, k))
		return -1;
	return seg_publish(cap, k);
}

/* ---- metadata ----------------------------------------------------------- */

static int on_conn(struct tm_capture *cap, struct ccls *k, const uint32_t *pl,
    uint32_t n)
{
	struct tm_ctx_view cv;
	struct tm_key key;
	uint32_t id, nv, nt, vw;

	if (n < 19)
		goto bad;
	memcpy(&key, pl + 2, sizeof(key));
	nv = pl[18] & 0xff;
	nt = (pl[18] >> 8) & 0xff;
	vw = (nv + 1) / 2;
	if (nv > TM_MAX_VLANS || nt > TM_MAX_TUNNELS ||
	    n != 19 + vw + nt * ((sizeof(struct tm_tunnel) + 3) / 4))
		goto bad;
	memset(&cv, 0, sizeof(cv));
	cv.n_vlans = (uint8_t)nv;
	cv.n_tunnels = (uint8_t)nt;
	memcpy(cv.vlans, pl + 19, nv * sizeof(uint16_t));
	memcpy(cv.tunnels, pl + 19 + vw, nt * sizeof(struct tm_tunnel));
	if (tm_scb_conn(k->b, &key, pl[1], &cv, &id)) {
		tm_writer_fail(cap, "out of memory (sidecar of %s)", k->w.path);
		return -1;
	}
	if (id != pl[0])
		goto bad;
	return 0;
bad:
	tm_writer_fail(cap, "%s: internal error: bad connection record",
	    k->name);
	return -1;
}

/* Processes metadata (and indexes the data it names) until the data to
 * write reaches a few chunks. Returns 1 if anything was done. */
static int drain_class(struct tm_capture *cap, struct ccls *k)
{
	uint64_t head = atomic_load_explicit(&k->meta.head,
	    memory_order_acquire);
	uint64_t chunk = chunk_of(&k->data);
	int did = 0;

	/* keep mapping pages ahead of the producer, until the ring is all
	 * mapped (after its first lap) */
	if (k->data.faulted < k->data.size) {
		uint64_t dh = atomic_load_explicit(&k->data.head,
		    memory_order_acquire);

		tm_ring_prefault(&k->data, dh + 4 * chunk);
		tm_ring_prefault(&k->meta, (head + k->meta.size / 8));
	}

	while (k->meta_pos < head && !atomic_load_explicit(&cap->failed,
	    memory_order_relaxed)) {
		const uint32_t *w = (const uint32_t *)tm_ring_at(&k->meta,
		    k->meta_pos);

		did = 1;
		if (w[0] != M_CTRL) {
			uint32_t caplen = w[1], len = w[2];
			int64_t ts = (int64_t)((uint64_t)w[3] |
			    (uint64_t)w[4] << 32);

			if (!k->w.open) {
				tm_writer_fail(cap, "%s: internal error: a "
				    "packet outside a segment", k->name);
				break;
			}
			if (tm_scb_packet(k->b, w[0] & 0x7fffffffu,
			    (int)(w[0] >> 31), k->w.off, ts, caplen, len)) {
				tm_writer_fail(cap, "%s: cannot index a packet "
				    "(out of memory or bad id)", k->w.path);
				break;
			}
			k->w.off += TM_PCAP_REC_HDR + caplen;
			k->data_pos += TM_PCAP_REC_HDR + caplen;
			k->meta_pos += 4 * M_PKT_WORDS;
			if (k->data_pos - k->pending_from >= 4 * chunk)
				break;
			continue;
		}
		{
			uint32_t type = w[1] & 0xff, n = w[1] >> 8;
			const uint32_t *pl = w + 2;

			switch (type) {
			case M_OPEN:
				if (n != 3)
					goto bad;
				seg_open(cap, k, pl[0], (int64_t)((uint64_t)
				    pl[1] | (uint64_t)pl[2] << 32));
				break;
			case M_CLOSE:
				seg_close(cap, k);
				break;
			case M_CONN:
				on_conn(cap, k, pl, n);
				break;
			case M_APP:
				if (n < 2 || ((const char *)(pl + 1))[4 * (n -
				    1) - 1] != '\0')
					goto bad;
				if (tm_scb_app(k->b, pl[0], ((const char *)
				    (pl + 1))[0] ? (const char *)(pl + 1) :
				    NULL)) {
					tm_writer_fail(cap, "out of memory");
					break;
				}
				break;
			default:
				goto bad;
			}
			k->meta_pos += 8 + 4 * (uint64_t)n;
		}
	}
	if (did)
		tm_ring_release(&k->meta, k->meta_pos);
	if (k->data_pos - k->pending_from >= chunk)
		seg_write_pending(cap, k);
	return did;
bad:
	tm_writer_fail(cap, "%s: internal error: bad metadata record",
	    k->name);
	return did;
}

/* ---- flow files --------------------------------------------------------- */

static void flows_path(char *buf, size_t len, const char *root, int64_t start,
    uint64_t seq)
{
	snprintf(buf, len, "%s/flows/%010lld-%08llu.flows", root,
	    (long long)start, (unsigned long long)seq);
}

static int fseg_add(struct tm_capture *cap, int64_t start, uint64_t seq,
    uint64_t bytes)
{
	if (cap->nfsegs == cap->fcap) {
		size_t cap2 = cap->fcap ? cap->fcap * 2 : 32;
		struct fseg *n;

		if (cap->fhead) {
			memmove(cap->fsegs, cap->fsegs + cap->fhead,
			    (cap->nfsegs - cap->fhead) * sizeof(*n));
			cap->nfsegs -= cap->fhead;
			cap->fhead = 0;
		}
		n = realloc(cap->fsegs, cap2 * sizeof(*n));
		if (!n)
			return -1;
		cap->fsegs = n;
		cap->fcap = cap2;
	}
	cap->fsegs[cap->nfsegs].start = start;
	cap->fsegs[cap->nfsegs].seq = seq;
	cap->fsegs[cap->nfsegs].bytes = bytes;
	cap->nfsegs++;
	cap->fbytes += bytes;
	return 0;
}

static int cmp_fseg(const void *a, const void *b)
{
	const struct fseg *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tm_writer_flows_recover(struct tm_capture *cap, char *err, size_t errlen)
{
	char dir[4200], path[4600];
	struct dirent *de;
	DIR *d;

	cap->fnext_seq = 1;
	snprintf(dir, sizeof(dir), "%s/flows", cap->root);
	d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int64_t start;
		uint64_t seq;
		struct stat st;
		size_t l = strlen(de->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0) {
			unlink(path);
			continue;
		}
		if (tm_seg_parse_name(de->d_name, ".flows", &start, &seq) ||
		    stat(path, &st) != 0)
			continue;
		if (seq >= cap->fnext_seq)
			cap->fnext_seq = seq + 1;
		if (fseg_add(cap, start, seq, (uint64_t)st.st_size)) {
			closedir(d);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	closedir(d);
	if (cap->nfsegs)
		qsort(cap->fsegs, cap->nfsegs, sizeof(*cap->fsegs), cmp_fseg);
	if (cap->nfsegs) {
		/* the newest file may end in a torn record */
		struct fseg *f = &cap->fsegs[cap->nfsegs - 1];
		int fd;

		flows_path(path, sizeof(path), cap->root, f->start, f->seq);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && f->bytes > 0) {
			const uint8_t *m = mmap(NULL, (size_t)f->bytes,
			    PROT_READ, MAP_SHARED, fd, 0);

			if (m != MAP_FAILED) {
				uint64_t v = tm_flows_valid_length(m, f->bytes);

				munmap((void *)m, (size_t)f->bytes);
				if (v < f->bytes && (v > 0 || f->bytes <
				    TM_FLOWS_HDR) && ftruncate(fd, (off_t)v) ==
				    0 && fsync(fd) == 0) {
					cap->fbytes -= f->bytes - v;
					f->bytes = v;
				}
			}
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static void flows_budget(struct tm_capture *cap)
{
	char path[4400];

	if (!cap->so.flows_disk)
		return;
	while (cap->fhead < cap->nfsegs &&
	    cap->fbytes + cap->fsize > cap->so.flows_disk) {
		struct fseg *f = &cap->fsegs[cap->fhead++];

		flows_path(path, sizeof(path), cap->root, f->start, f->seq);
		unlink(path);
		cap->fbytes -= f->bytes;
		cap->flows_deleted++;
	}
}

static int flows_write_pending(struct tm_capture *cap)
{
	uint64_t n = cap->fpos - cap->fpending_from;
	size_t done;

	if (!n)
		return 0;
	if (cap->ffd < 0 || write_full(cap->ffd, tm_ring_at(&cap->fring,
	    cap->fpending_from), (size_t)n, &done)) {
		int e = cap->ffd < 0 ? EBADF : errno;
		char path[4400];

		flows_path(path, sizeof(path), cap->root, cap->fcur_start,
		    cap->fcur_seq);
		tm_writer_fail(cap, "%s: write: %s", path, strerror(e));
		/* back to the last whole record that went through, synced
		 * and closed: salvage() must not write the records again
		 * after them (that duplicated records) */
		if (cap->ffd >= 0) {
			const uint8_t *r = tm_ring_at(&cap->fring,
			    cap->fpending_from);
			uint64_t keep = 0;

			while (keep + TM_FLOWS_REC_HDR <= done && keep +
			    TM_FLOWS_REC_HDR + tm_le32(r + keep) <= done)
				keep += TM_FLOWS_REC_HDR + tm_le32(r + keep);
			if (done && ftruncate(cap->ffd, (off_t)(cap->fsize -
			    n + keep)) != 0)
				tm_writer_fail(cap, "%s: truncating: %s", path,
				    strerror(errno));
			fdatasync(cap->ffd);
			close(cap->ffd);
			cap->ffd = -1;
		}
		return -1;
	}
	/* the final sync of the file finds little left */
	sync_file_range(cap->ffd, (off64_t)(cap->fsize - n), (off64_t)n,
	    SYNC_FILE_RANGE_WRITE);
	cap->fwritten += n;
	cap->flow_bytes += n;
	cap->fpending_from = cap->fpos;
	tm_ring_release(&cap->fring, cap->fpos);
	flows_budget(cap);
	return 0;
}

static int flows_close(struct tm_capture *cap)
{
	char path[4400];

	if (cap->ffd < 0)
		return 0;
	if (flows_write_pending(cap))
		return -1;
	flows_path(path, sizeof(path), cap->root, cap->fcur_start,
	    cap->fcur_seq);
	if (fdatasync(cap->ffd) != 0) {
		tm_writer_fail(cap, "%s: sync: %s", path, strerror(errno));
		return -1;
	}
	close(cap->ffd);
	cap->ffd = -1;
	snprintf(path, sizeof(path), "%s/flows", cap->root);
	tm_fsync_dir(path);
	if (fseg_add(cap, cap->fcur_start, cap->fcur_seq, cap->fsize)) {
		tm_writer_fail(cap, "out of memory");
		return -1;
	}
	cap->fsize = 0;
	return 0;
}

static int flows_open(struct tm_capture *cap, int64_t first_ts)
{
	uint8_t h[TM_FLOWS_HDR];
	char path[4400];
	size_t done;

	cap->fcur_seq = cap->fnext_seq++;
	cap->fcur_start = first_ts / 1000000000;
	flows_path(path, sizeof(path), cap->root, cap->fcur_start,
	    cap->fcur_seq);
	cap->ffd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (cap->ffd < 0) {
		tm_writer_fail(cap, "%s: %s", path, strerror(errno));
		return -1;
	}
	tm_flows_header(h);
	if (write_full(cap->ffd, h, sizeof(h), &done)) {
		tm_writer_fail(cap, "%s: write: %s", path, strerror(errno));
		return -1;
	}
	cap->fsize = TM_FLOWS_HDR;
	cap->flow_files++;
	return 0;
}

/* The record goes to the IPFIX exporter too (it only queues it: its own
 * thread sends). */
static void export_flow(struct tm_capture *cap, const uint8_t *r)
{
	struct tm_flowrec fr;

	if (tm_flowrec_decode(r + TM_FLOWS_REC_HDR, tm_le32(r), &fr) == 0)
		tm_ipfix_add(cap->ipfix, &fr.f);
}

/* What the reading thread left to the writer (capture_int.h): the
 * Community ID, if pending, computed from the record itself, and the
 * checksum. In place, before the record is written or exported. */
static void complete_flow(struct tm_capture *cap, uint8_t *r)
{
	uint32_t w = tm_le32(r), n = w & ~FREC_CID_PENDING;
	uint8_t *pl = r + TM_FLOWS_REC_HDR;
	/* the last field: its length byte, then the characters */
	uint8_t *at = (w & FREC_CID_PENDING) && n > TM_COMMUNITY_ID_STRLEN ?
	    pl + n - TM_COMMUNITY_ID_STRLEN : NULL;

	if (at && at[-1] == TM_COMMUNITY_ID_STRLEN &&
	    memcmp(at, TM_CID_PENDING, TM_COMMUNITY_ID_STRLEN) == 0) {
		struct tm_conn c;
		struct tm_flow_rec f;
		struct tm_packet p;
		char cid[TM_COMMUNITY_ID_SIZE];

		if (tm_flowrec_decode_fixed(pl, n, &c, &f) == 0) {
			tm_flow_cid_input(&f, &p);
			if (tm_community_id(&p, cap->cid_seed, cid,
			    sizeof(cid)) == 0)
				memcpy(at, cid, TM_COMMUNITY_ID_STRLEN);
		}
	}
	tm_put_le32(r, n);
	tm_put_le32(r + 4, XXH32(pl, n, 0));
}

static int drain_flows(struct tm_capture *cap)
{
	uint64_t head = atomic_load_explicit(&cap->fring.head,
	    memory_order_acquire);
	uint64_t chunk = chunk_of(&cap->fring);
	int did = 0;

	while (cap->fpos < head && !atomic_load_explicit(&cap->failed,
	    memory_order_relaxed)) {
		uint8_t *r = (uint8_t *)tm_ring_at(&cap->fring, cap->fpos);
		uint64_t n;

		complete_flow(cap, r);
		n = TM_FLOWS_REC_HDR + tm_le32(r);
		did = 1;
		if (cap->ffd >= 0 && cap->fsize + n > cap->so.flows_segment_size
		    && cap->fsize > TM_FLOWS_HDR && flows_close(cap))
			break;
		if (cap->ffd < 0 && flows_open(cap, (int64_t)tm_le64(r +
		    TM_FLOWS_REC_HDR)))
			break;
		if (cap->ipfix)
			export_flow(cap, r);
		cap->fpos += n;
		cap->fsize += n;
		if (cap->fpos - cap->fpending_from >= chunk &&
		    flows_write_pending(cap))
			break;
	}
	return did;
}

/* ---- snapshots for queries (live.h) --------------------------------------- */

/* Everything published so far is indexed and written; each class's open
 * segment is described with a sidecar built from the in-memory index
 * (tm_scb_finish leaves the builder as it was). */
static int take_snapshot(struct tm_capture *cap, struct tm_live *out)
{
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];
		uint64_t head = atomic_load_explicit(&k->meta.head,
		    memory_order_acquire);
		struct tm_live_class *lc = &out->cls[out->ncls++];

		while (k->meta_pos < head && !atomic_load(&cap->failed))
			drain_class(cap, k);
		if (i == 0) {
			/* flow records so far reach their file too */
			uint64_t fh = atomic_load_explicit(&cap->fring.head,
			    memory_order_acquire);

			while (cap->fpos < fh && !atomic_load(&cap->failed) &&
			    drain_flows(cap))
				;
			if (cap->ffd >= 0 && flows_write_pending(cap))
				return -1;
		}
		if (atomic_load(&cap->failed) || seg_write_pending(cap, k))
			return -1;
		snprintf(lc->name, sizeof(lc->name), "%s", k->name);
		lc->first_open = k->w.open ? k->w.seq : k->cat->next_seq;
		if (k->w.open && tm_scb_packets(k->b) > 0) {
			struct tm_live_seg *ls = &out->segs[out->nsegs];
			struct tm_scb_meta meta;

			memset(&meta, 0, sizeof(meta));
			meta.class_name = k->name;
			meta.linktype = k->w.linktype;
			meta.snaplen = TM_PCAP_SNAPLEN;
			meta.seq = k->w.seq;
			meta.start = k->w.start;
			meta.pcap_size = k->w.written;
			meta.pcap_sum = XXH64_digest(k->w.sum);
			memset(ls, 0, sizeof(*ls));
			if (tm_scb_finish(k->b, &meta, &ls->idx)) {
				tm_sbuf_free(&ls->idx);
				return -1;
			}
			snprintf(ls->cls, sizeof(ls->cls), "%s", k->name);
			snprintf(ls->path, sizeof(ls->path), "%s", k->w.path);
			ls->seq = k->w.seq;
			ls->pcap_size = k->w.written;
			out->packets += tm_scb_packets(k->b);
			out->nsegs++;
		}
	}
	return 0;
}

void tm_writer_snapshot(struct tm_capture *cap)
{
	uint64_t req = atomic_load_explicit(&cap->snap_req,
	    memory_order_acquire);
	struct tm_live *out;
	int rc;

	if (req == cap->snap_seen)
		return;
	cap->snap_seen = req;
	pthread_mutex_lock(&cap->snap_mu);
	out = cap->snap_out;
	pthread_mutex_unlock(&cap->snap_mu);
	rc = out ? take_snapshot(cap, out) : -1;
	pthread_mutex_lock(&cap->snap_mu);
	cap->snap_rc = rc;
	cap->snap_done = req;
	pthread_cond_broadcast(&cap->snap_cv);
	pthread_mutex_unlock(&cap->snap_mu);
}

void tm_writer_gone(struct tm_capture *cap)
{
	pthread_mutex_lock(&cap->snap_mu);
	cap->writer_gone = 1;
	pthread_cond_broadcast(&cap->snap_cv);
	pthread_mutex_unlock(&cap->snap_mu);
}

/* ---- the thread --------------------------------------------------------- */

static int anything(struct tm_capture *cap)
{
	if (atomic_load_explicit(&cap->snap_req, memory_order_relaxed) !=
	    cap->snap_seen)
		return 1;
	for (size_t i = 0; i < cap->ncls; i++)
		if (atomic_load_explicit(&cap->cls[i].meta.head,
		    memory_order_acquire) != cap->cls[i].meta_pos)
			return 1;
	return atomic_load_explicit(&cap->fring.head, memory_order_acquire) !=
	    cap->fpos;
}

/* After a failure: segments whose writes all went through are still
 * published; one whose write failed is left as it is (whole records
 * only) for the next start to repair. */
static void salvage(struct tm_capture *cap)
{
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];

		if (!k->w.open)
			continue;
		if (k->w.failed || seg_write_pending(cap, k)) {
			tm_writer_fail(cap, "%s: left unpublished: the next "
			    "start cuts it after its last whole record and "
			    "repairs it", k->w.path);
			close(k->w.fd);
			k->w.fd = -1;
			k->w.open = 0;
			continue;
		}
		seg_publish(cap, k);
	}
	if (cap->ffd >= 0) {
		if (cap->fpos > cap->fpending_from) {
			size_t done;

			write_full(cap->ffd, tm_ring_at(&cap->fring,
			    cap->fpending_from), (size_t)(cap->fpos -
			    cap->fpending_from), &done);
		}
		fdatasync(cap->ffd);
		close(cap->ffd);
		cap->ffd = -1;
	}
}

static void writer_run(struct tm_capture *cap)
{

	/* the rings' first pages, mapped here rather than faulted in one by
	 * one by the reading thread; more as they fill (drain_class) */
	for (size_t i = 0; i < cap->ncls; i++) {
		tm_ring_prefault(&cap->cls[i].meta, 256 * 1024);
		tm_ring_prefault(&cap->cls[i].data, 2 * 1024 * 1024);
	}
	tm_ring_prefault(&cap->fring, 1024 * 1024);
	/* old segments count: a smaller budget than last time applies now */
	enforce_budgets(cap, NULL);
	flows_budget(cap);
	for (;;) {
		int did = 0;
		uint32_t key;

		tm_writer_snapshot(cap);
		for (size_t i = 0; i < cap->ncls; i++)
			did |= drain_class(cap, &cap->cls[i]);
		did |= drain_flows(cap);
		if (atomic_load(&cap->failed))
			break;
		if (did)
			continue;
		if (atomic_load(&cap->stop) && !anything(cap))
			break;
		key = tm_evc_prepare(&cap->data_evc);
		if (anything(cap) || atomic_load(&cap->stop)) {
			tm_evc_cancel(&cap->data_evc);
			continue;
		}
		tm_evc_wait(&cap->data_evc, key, 200);
		if (!anything(cap)) {
			/* idle: what is indexed goes to disk (live traffic
			 * is slow at times) */
			for (size_t i = 0; i < cap->ncls; i++)
				if (seg_write_pending(cap, &cap->cls[i]))
					break;
			flows_write_pending(cap);
		}
	}
	tm_writer_gone(cap);
	if (atomic_load(&cap->failed)) {
		salvage(cap);
		return;
	}
	for (size_t i = 0; i < cap->ncls; i++)
		if (seg_close(cap, &cap->cls[i]))
			break;
	if (!atomic_load(&cap->failed))
		flows_close(cap);
	if (atomic_load(&cap->failed))
		salvage(cap);
}

void *tm_writer_main(void *arg)
{
	struct tm_capture *cap = arg;
	struct timespec ts;

	writer_run(cap);
	/* read by the caller after the join */
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		cap->writer_cpu_ns = (uint64_t)ts.tv_sec * 1000000000u +
		    (uint64_t)ts.tv_nsec;
	return NULL;
}
