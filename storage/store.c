/*
 * The store's files: names, the catalogue of published segments, atomic
 * publication, and recovery on start (see store.h).
 */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "decode.h"
#include "key.h"

void tm_store_opts_default(struct tm_store_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->segment_size = TM_STORE_DEFAULT_SEGMENT_SIZE;
	o->segment_age_ns = TM_STORE_DEFAULT_SEGMENT_AGE;
	o->dir_interval = TM_STORE_DEFAULT_DIR_INTERVAL;
	o->memory = TM_STORE_DEFAULT_MEMORY;
	o->flows_disk = TM_STORE_DEFAULT_FLOWS_DISK;
	o->flows_segment_size = TM_STORE_DEFAULT_FLOWS_SEGMENT;
}

/* ---- catalogue ---------------------------------------------------------- */

void tm_catalog_free(struct tm_catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		free(cat->cls[i].name);
		free(cat->cls[i].v);
	}
	free(cat->cls);
	free(cat->root);
	memset(cat, 0, sizeof(*cat));
}

struct tm_seg_class *tm_catalog_class(struct tm_catalog *cat,
    const char *name)
{
	struct tm_seg_class *n;

	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->cls[i].name, name) == 0)
			return &cat->cls[i];
	n = realloc(cat->cls, (cat->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	cat->cls = n;
	n = &cat->cls[cat->n];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	if (!n->name)
		return NULL;
	n->next_seq = 1;
	cat->n++;
	return n;
}

int tm_catalog_add(struct tm_catalog *cat, struct tm_seg_class *c,
    const struct tm_seg *s)
{
	if (c->head > 0 && c->head == c->n) {
		c->head = c->n = 0;
	}
	if (c->n == c->cap) {
		size_t live = c->n - c->head;

		if (c->head > live) {
			/* reuse the room of deleted segments */
			memmove(c->v, c->v + c->head, live * sizeof(*c->v));
			c->n = live;
			c->head = 0;
		} else {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct tm_seg *v = realloc(c->v, cap * sizeof(*v));

			if (!v)
				return -1;
			c->v = v;
			c->cap = cap;
		}
	}
	c->v[c->n++] = *s;
	c->bytes += s->pcap_bytes + s->idx_bytes;
	cat->bytes += s->pcap_bytes + s->idx_bytes;
	if (s->seq >= c->next_seq)
		c->next_seq = s->seq + 1;
	return 0;
}

/* ---- names -------------------------------------------------------------- */

void tm_seg_path(char *buf, size_t len, const char *root, const char *cls,
    int64_t start, uint64_t seq, const char *ext)
{
	snprintf(buf, len, "%s/segments/%s/%010lld-%08llu%s", root, cls,
	    (long long)start, (unsigned long long)seq, ext);
}

int tm_seg_parse_name(const char *name, const char *ext, int64_t *start,
    uint64_t *seq)
{
	const char *p = name;
	uint64_t a = 0, b = 0;
	int na = 0, nb = 0;

	for (; *p >= '0' && *p <= '9' && na < 19; p++, na++)
		a = a * 10 + (uint64_t)(*p - '0');
	if (na == 0 || *p != '-')
		return -1;
	for (p++; *p >= '0' && *p <= '9' && nb < 19; p++, nb++)
		b = b * 10 + (uint64_t)(*p - '0');
	if (nb == 0 || strcmp(p, ext) != 0)
		return -1;
	*start = (int64_t)a;
	*seq = b;
	return 0;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* A new store appears whole: its directories are made under a temporary
 * name beside it, then renamed, so a crash while it is created leaves
 * either no store or one with segments/ and flows/ (a stray
 * STORE.new-PID directory at worst). */
static int create_whole(const char *root)
{
	char tmp[4200], p[4300];
	struct stat st;

	if (stat(root, &st) == 0)
		return 0;		/* there already (maybe empty) */
	snprintf(tmp, sizeof(tmp), "%s.new-%ld", root, (long)getpid());
	if (mkdir_p(tmp))
		return -1;
	snprintf(p, sizeof(p), "%s/segments", tmp);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(p, sizeof(p), "%s/flows", tmp);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return -1;
	if (rename(tmp, root) != 0) {
		int e = errno;

		snprintf(p, sizeof(p), "%s/segments", tmp);
		rmdir(p);
		snprintf(p, sizeof(p), "%s/flows", tmp);
		rmdir(p);
		rmdir(tmp);
		/* made meanwhile by another tm: use it */
		if (stat(root, &st) == 0)
			return 0;
		errno = e;
		return -1;
	}
	tm_fsync_dir(root);
	return 0;
}

int tm_store_mkdirs(const char *root, char *err, size_t errlen)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", root);
	if (create_whole(root) || mkdir_p(p)) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/segments", root);
	if (mkdir_p(p)) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/flows", root);
	if (mkdir_p(p)) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

int tm_store_lock(const char *root, char *err, size_t errlen)
{
	char p[4096];
	int fd;

	snprintf(p, sizeof(p), "%s/lock", root);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s: another tm writes to this store "
		    "(%s)", root, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tm_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tm_publish_file(const char *path, const void *buf, size_t len)
{
	char tmp[4200], dir[4200], *slash;
	int fd, e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, len) || fsync(fd)) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) || rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return tm_fsync_dir(dir) ? 1 : 0;
}

/* ---- rebuilding a sidecar by scanning ----------------------------------- */

struct ktab {
	struct kent { struct tm_key key; uint32_t id; uint32_t used; } *e;
	size_t n, cap;		/* cap: a power of two */
};

static int ktab_find(struct ktab *t, const struct tm_key *k, uint32_t *id,
    int *is_new, uint32_t next_id)
{
	uint64_t h;
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct kent *e = calloc(cap, sizeof(*e));

		if (!e)
			return -1;
		for (size_t j = 0; j < t->cap; j++) {
			if (!t->e[j].used)
				continue;
			i = tm_key_hash(&t->e[j].key) & (cap - 1);
			while (e[i].used)
				i = (i + 1) & (cap - 1);
			e[i] = t->e[j];
		}
		free(t->e);
		t->e = e;
		t->cap = cap;
	}
	h = tm_key_hash(k);
	for (i = h & (t->cap - 1); t->e[i].used; i = (i + 1) & (t->cap - 1))
		if (memcmp(&t->e[i].key, k, sizeof(*k)) == 0) {
			*id = t->e[i].id;
			*is_new = 0;
			return 0;
		}
	t->e[i].used = 1;
	t->e[i].key = *k;
	t->e[i].id = next_id;
	t->n++;
	*id = next_id;
	*is_new = 1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int tm_segment_rebuild(const char *pcap_path, const char *cls,
    uint64_t seq, int64_t start, const struct tm_recover_opts *o,
    struct tm_seg *seg, uint64_t *truncated, struct tm_sbuf *out,
    char *err, size_t errlen)
{
	struct tm_scb *b = NULL;
	struct tm_packet *pkt = NULL;
	struct ktab kt = { 0 };
	struct tm_sbuf sc = { 0 };
	struct stat st;
	const uint8_t *m = NULL;
	uint64_t off = TM_PCAP_HDR, size, n = 0;
	uint32_t linktype = 0;
	double t0 = now_s(), last = t0;
	int fd, rc = -1;

	memset(seg, 0, sizeof(*seg));
	*truncated = 0;
	fd = open(pcap_path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", pcap_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (size < TM_PCAP_HDR) {
		/* created, crashed before its header: nothing in it */
		close(fd);
		seg->seq = seq;
		*truncated = size;
		return 0;
	}
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", pcap_path, strerror(errno));
		close(fd);
		return -1;
	}
	madvise((void *)m, size, MADV_SEQUENTIAL);
	if (tm_le32(m) != TM_PCAP_MAGIC_NS || tm_le16(m + 4) != 2) {
		snprintf(err, errlen, "%s: not a timemachine segment (pcap "
		    "magic)", pcap_path);
		goto out;
	}
	linktype = tm_le32(m + 20) & 0xffff;
	b = tm_scb_new();
	pkt = malloc(sizeof(*pkt));
	if (!b || !pkt) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	tm_scb_reset(b, o->dir_interval ? o->dir_interval :
	    TM_STORE_DEFAULT_DIR_INTERVAL);
	if (o->log && !o->progress)
		fprintf(o->log, "tm: rebuilding the sidecar of %s\n",
		    pcap_path);
	while (off + TM_PCAP_REC_HDR <= size) {
		const uint8_t *h = m + off;
		uint32_t sec = tm_le32(h), nsec = tm_le32(h + 4);
		uint32_t caplen = tm_le32(h + 8), len = tm_le32(h + 12);
		struct tm_key key;
		uint32_t id;
		int dir, is_new;
		int64_t ts;

		if (len == 0 || caplen > TM_PCAP_SNAPLEN || len < caplen ||
		    nsec >= 1000000000u || off > TM_SC_MAX_OFFSET ||
		    off + TM_PCAP_REC_HDR + caplen > size)
			break;		/* a torn or garbled tail */
		ts = (int64_t)sec * 1000000000 + nsec;
		tm_decode(o->reg, pkt, h + TM_PCAP_REC_HDR, caplen, len,
		    (uint16_t)linktype);
		tm_key_make(pkt, o->ctx_mask, &key, &dir);
		if (ktab_find(&kt, &key, &id, &is_new, tm_scb_conns(b))) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (is_new) {
			struct tm_ctx_view cv;
			unsigned fl = 0;
			uint32_t bid;

			memset(&cv, 0, sizeof(cv));
			cv.n_vlans = pkt->n_vlans;
			memcpy(cv.vlans, pkt->vlans, sizeof(cv.vlans));
			cv.n_tunnels = pkt->n_tunnels;
			memcpy(cv.tunnels, pkt->tunnels, sizeof(cv.tunnels));
			if (dir)
				fl |= TM_SC_C_ORIG_B;
			if (pkt->flags & TM_PF_HAS_PORTS)
				fl |= TM_SC_C_PORTS;
			if (pkt->flags & TM_PF_HAS_SPI)
				fl |= TM_SC_C_SPI;
			if (pkt->flags & TM_PF_HAS_PROTO)
				fl |= TM_SC_C_PROTO;
			if (pkt->flags & TM_PF_STREAM)
				fl |= TM_SC_C_STREAM;
			if (tm_scb_conn(b, &key, fl, &cv, &bid) || bid != id) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
		if (tm_scb_packet(b, id, dir, off, ts, caplen, len)) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		off += TM_PCAP_REC_HDR + caplen;
		if ((++n & 0xffff) == 0 && o->progress && o->log) {
			double t = now_s();

			if (t - last >= 0.25) {
				fprintf(o->log, "\rtm: rebuilding %s: %3.0f%% "
				    "%.2f M packets/s ", pcap_path,
				    100.0 * (double)off / (double)size,
				    (double)n / (t - t0) / 1e6);
				fflush(o->log);
				last = t;
			}
		}
	}
	if (o->progress && o->log && t0 != last)
		fprintf(o->log, "\n");
	*truncated = size - off;
	seg->seq = seq;
	seg->start = start;
	if (n == 0) {
		rc = 0;		/* no whole packet: the caller removes it */
		goto out;
	}
	{
		struct tm_scb_meta meta;

		memset(&meta, 0, sizeof(meta));
		meta.class_name = cls;
		meta.linktype = linktype;
		meta.snaplen = tm_le32(m + 16);
		meta.flags = TM_SC_F_REBUILT;
		meta.seq = seq;
		meta.start = start;
		meta.pcap_size = off;
		meta.pcap_sum = XXH64(m, off, 0);
		if (tm_scb_finish(b, &meta, out ? out : &sc)) {
			snprintf(err, errlen, "%s: out of memory building the "
			    "sidecar", pcap_path);
			goto out;
		}
	}
	if (!out) {
		char idx[4200];
		struct tm_sc_header h;
		char e2[256];

		if (!o->readonly && *truncated) {
			if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
				snprintf(err, errlen, "%s: truncating: %s",
				    pcap_path, strerror(errno));
				goto out;
			}
		}
		snprintf(idx, sizeof(idx), "%.*s.idx",
		    (int)(strlen(pcap_path) - 5), pcap_path);
		if (tm_publish_file(idx, sc.p, sc.n) != 0) {
			snprintf(err, errlen, "%s: %s", idx, strerror(errno));
			goto out;
		}
		if (tm_sc_header_parse(sc.p, sc.n, &h, e2, sizeof(e2)) == 0) {
			seg->idx_bytes = sc.n;
			seg->min_ts = h.min_ts;
			seg->max_ts = h.max_ts;
			seg->n_packets = h.n_packets;
			seg->wire_bytes = h.wire_bytes;
			seg->n_conns = h.n_conns;
		}
	}
	seg->pcap_bytes = off;
	seg->n_packets = n;
	rc = 0;
out:
	if (m && m != MAP_FAILED)
		munmap((void *)m, size);
	close(fd);
	free(kt.e);
	free(pkt);
	tm_scb_free(b);
	tm_sbuf_free(&sc);
	return rc;
}

/* ---- recovery ----------------------------------------------------------- */

struct dent {
	int64_t start;
	uint64_t seq;
	int kind;		/* 0 pcap, 1 idx */
};

static int cmp_dent(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->kind - y->kind;
}

static int is_tmp(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

/* Is the segment's sidecar intact and its? Header, size and checksums
 * (a damaged sidecar is rebuilt, never trusted); the pcap is not read.
 * 1 with s filled, or 0 with the reason in why. */
static int intact(const char *root, const char *cls, const struct dent *e,
    uint64_t pcap_size, struct tm_seg *s, char *why, size_t whylen)
{
	struct tm_sc_header h;
	char ip[4200];

	tm_seg_path(ip, sizeof(ip), root, cls, e->start, e->seq, ".idx");
	if (tm_sc_file_verify(ip, &h, why, whylen))
		return 0;
	if (h.pcap_size != pcap_size) {
		snprintf(why, whylen, "the pcap is %llu bytes, its sidecar "
		    "says %" PRIu64, (unsigned long long)pcap_size,
		    h.pcap_size);
		return 0;
	}
	if (h.seq != e->seq || h.start != e->start) {
		snprintf(why, whylen, "the sidecar names another segment");
		return 0;
	}
	memset(s, 0, sizeof(*s));
	s->seq = e->seq;
	s->start = e->start;
	s->pcap_bytes = h.pcap_size;
	s->idx_bytes = h.idx_size;
	s->min_ts = h.min_ts;
	s->max_ts = h.max_ts;
	s->n_packets = h.n_packets;
	s->wire_bytes = h.wire_bytes;
	s->n_conns = h.n_conns;
	return 1;
}

static int recover_class(const char *root, const char *cls,
    const struct tm_recover_opts *o, struct tm_catalog *cat,
    struct tm_recover_stats *st, char *err, size_t errlen)
{
	char dirpath[4200], path[4600];
	struct dent *v = NULL;
	size_t n = 0, cap = 0;
	struct tm_seg_class *c;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	snprintf(dirpath, sizeof(dirpath), "%s/segments/%s", root, cls);
	d = opendir(dirpath);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dirpath, strerror(errno));
		return -1;
	}
	c = tm_catalog_class(cat, cls);
	if (!c) {
		closedir(d);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct dent e;

		if (de->d_name[0] == '.')
			continue;
		if (is_tmp(de->d_name)) {
			if (!o->readonly) {
				snprintf(path, sizeof(path), "%s/%s", dirpath,
				    de->d_name);
				if (unlink(path) == 0)
					st->removed++;
			}
			continue;
		}
		if (tm_seg_parse_name(de->d_name, ".pcap", &e.start, &e.seq) ==
		    0)
			e.kind = 0;
		else if (tm_seg_parse_name(de->d_name, ".idx", &e.start,
		    &e.seq) == 0)
			e.kind = 1;
		else
			continue;	/* not ours: left alone */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct dent *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = e;
		if (e.seq >= c->next_seq)
			c->next_seq = e.seq + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_dent);
	for (size_t i = 0; i < n; i++) {
		struct dent *e = &v[i];
		int has_idx = i + 1 < n && v[i + 1].kind == 1 &&
		    v[i + 1].seq == e->seq && v[i + 1].start == e->start;
		struct tm_seg s;
		struct stat sp;
		char why[256] = "no sidecar";

		if (e->kind == 1) {
			/* a sidecar without its pcap: a deletion interrupted */
			if (!o->readonly) {
				tm_seg_path(path, sizeof(path), root, cls,
				    e->start, e->seq, ".idx");
				if (unlink(path) == 0)
					st->removed++;
			}
			continue;
		}
		if (has_idx)
			i++;
		tm_seg_path(path, sizeof(path), root, cls, e->start, e->seq,
		    ".pcap");
		if (stat(path, &sp) != 0)
			continue;
		if (has_idx && intact(root, cls, e, (uint64_t)sp.st_size, &s,
		    why, sizeof(why))) {
			if (tm_catalog_add(cat, c, &s)) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			st->segments++;
			st->bytes += s.pcap_bytes + s.idx_bytes;
			continue;
		}
		if (o->readonly) {
			st->unpublished++;
			if (o->log)
				fprintf(o->log, "tm: %s: not published (%s)\n",
				    path, why);
			continue;
		}
		/* the segment open at a crash, or a damaged sidecar */
		if (o->log && has_idx)
			fprintf(o->log, "tm: %s: sidecar unusable (%s): "
			    "rebuilding it\n", path, why);
		{
			uint64_t cut = 0;

			if (tm_segment_rebuild(path, cls, e->seq, e->start, o,
			    &s, &cut, NULL, err, errlen))
				goto out;
			st->truncated_bytes += cut;
			if (s.n_packets == 0) {
				if (o->log)
					fprintf(o->log, "tm: %s: no whole "
					    "packet: removed\n", path);
				unlink(path);
				tm_seg_path(path, sizeof(path), root, cls,
				    e->start, e->seq, ".idx");
				unlink(path);
				st->removed++;
				continue;
			}
			if (o->log)
				fprintf(o->log, "tm: %s: repaired: %" PRIu64
				    " packets, %" PRIu64 " torn bytes cut "
				    "off\n", path, s.n_packets, cut);
			st->repaired++;
			st->repaired_packets += s.n_packets;
			if (tm_catalog_add(cat, c, &s)) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			st->segments++;
			st->bytes += s.pcap_bytes + s.idx_bytes;
		}
	}
	rc = 0;
out:
	closedir(d);
	free(v);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tm_store_recover(const char *root, const struct tm_recover_opts *o,
    struct tm_catalog *cat, struct tm_recover_stats *st, char *err,
    size_t errlen)
{
	char dirpath[4200];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	double t0 = now_s();
	DIR *d;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	if (!cat->root) {
		cat->root = strdup(root);
		if (!cat->root) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	snprintf(dirpath, sizeof(dirpath), "%s/segments", root);
	d = opendir(dirpath);
	if (!d) {
		if (errno == ENOENT && o->readonly) {
			snprintf(err, errlen, "%s: not a store (no segments/)",
			    root);
			return -1;
		}
		snprintf(err, errlen, "%s: %s", dirpath, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char p[4600];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dirpath, de->d_name);
		if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof(*nn));

			if (!nn)
				goto oom;
			names = nn;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (recover_class(root, names[i], o, cat, st, err, errlen))
			goto out;
	st->seconds = now_s() - t0;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
