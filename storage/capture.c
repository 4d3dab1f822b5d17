/*
 * The reading side of a capture: one call per stored packet, appending
 * to the class's rings (see capture.h, capture_int.h). Everything the
 * writer needs is decided here, so its per-packet work is an append.
 */
#define _GNU_SOURCE
#include "capture_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "conn.h"
#include "flowstore.h"

/* words of a struct tm_tunnel copied raw into the metadata ring */
#define TUN_WORDS ((sizeof(struct tm_tunnel) + 3) / 4)

static void publish_class(void *arg)
{
	struct ccls *k = arg;

	/* data first: a metadata word never names bytes not yet visible */
	tm_ring_publish(&k->data);
	tm_ring_publish(&k->meta);
}

static void maybe_publish(struct ccls *k)
{
	if (k->data.ph - k->data.pub >= k->data.batch ||
	    k->meta.ph - k->meta.pub >= k->meta.batch)
		publish_class(k);
}

/* Room for n metadata words; NULL: dropped (drop mode) or failed. */
static uint32_t *meta_room(struct ccls *k, size_t words)
{
	return tm_ring_reserve(&k->meta, words * 4);
}

static void meta_commit(struct ccls *k, size_t words)
{
	/* no batch publishing of its own: see publish_class */
	k->meta.ph += words * 4;
}

static int open_seg(struct tm_capture *cap, struct ccls *k, uint16_t linktype,
    int64_t ts)
{
	uint32_t *m = meta_room(k, 5);

	if (!m)
		return -1;
	m[0] = M_CTRL;
	m[1] = M_OPEN | 3u << 8;
	m[2] = linktype;
	m[3] = (uint32_t)(uint64_t)ts;
	m[4] = (uint32_t)((uint64_t)ts >> 32);
	meta_commit(k, 5);
	k->open = 1;
	k->serial = ++cap->serial;
	if (cap->serial == 0)		/* never 0: a fresh side entry */
		k->serial = ++cap->serial;
	k->n_local = 0;
	k->linktype = linktype;
	k->seg_bytes = TM_PCAP_HDR;
	k->seg_first = ts;
	return 0;
}

/* Before a segment closes: every packet so far has its nDPI answer, and
 * the answers are in the open segments (tm_tracker_ndpi_sync). */
static void sync_apps(struct tm_capture *cap)
{
	if (cap->trk)
		tm_tracker_ndpi_sync(cap->trk);
}

static int close_seg(struct ccls *k)
{
	uint32_t *m = meta_room(k, 2);

	if (!m)
		return -1;
	m[0] = M_CTRL;
	m[1] = M_CLOSE;
	meta_commit(k, 2);
	k->open = 0;
	publish_class(k);
	return 0;
}

static unsigned conn_flags(const struct tm_conn *c)
{
	unsigned f = 0;

	if (c->orig)
		f |= TM_SC_C_ORIG_B;
	if (c->pflags & TM_CP_PORTS)
		f |= TM_SC_C_PORTS;
	if (c->pflags & TM_CP_SPI)
		f |= TM_SC_C_SPI;
	if (c->pflags & TM_CP_PROTO)
		f |= TM_SC_C_PROTO;
	if (c->pflags & TM_CP_STREAM)
		f |= TM_SC_C_STREAM;
	return f;
}

/* The application as a side entry keeps it: master << 16 | app. */
static uint32_t conn_app(const struct tm_conn *c)
{
	return (uint32_t)c->app_master << 16 | c->app_proto;
}

static int emit_conn(struct tm_capture *cap, struct ccls *k,
    const struct tm_conn *c, struct side *s)
{
	struct tm_ctx_view cv;
	size_t vw, words;
	uint32_t *m;

	tm_conntab_ctx_get(cap->conns, c->ctx, &cv);
	vw = (cv.n_vlans + 1u) / 2;
	words = 2 + 2 + 16 + 1 + vw + cv.n_tunnels * TUN_WORDS;
	m = meta_room(k, words);
	if (!m)
		return -1;
	m[0] = M_CTRL;
	m[1] = M_CONN | (uint32_t)(words - 2) << 8;
	m[2] = k->n_local;
	m[3] = conn_flags(c);
	memcpy(m + 4, &c->key, sizeof(c->key));
	m[20] = cv.n_vlans | (uint32_t)cv.n_tunnels << 8;
	memset(m + 21, 0, vw * 4);
	memcpy(m + 21, cv.vlans, cv.n_vlans * sizeof(uint16_t));
	memcpy(m + 21 + vw, cv.tunnels,
	    cv.n_tunnels * sizeof(struct tm_tunnel));
	meta_commit(k, words);
	s->first_frame = c->first_frame;
	s->serial = k->serial;
	s->local = k->n_local++;
	s->app = 0;
	return 0;
}

/* The application of a connection, by name (NULL: not known), for the
 * segment its descriptor went to. */
static int emit_app_name(struct ccls *k, struct side *s, uint32_t app,
    const char *n)
{
	size_t len = n ? strlen(n) : 0, words;
	uint32_t *m;

	if (len > 120)
		len = 120;
	words = 3 + (len + 4) / 4;
	m = meta_room(k, words);
	if (!m)
		return -1;
	m[0] = M_CTRL;
	m[1] = M_APP | (uint32_t)(words - 2) << 8;
	m[2] = s->local;
	memset(m + 3, 0, (words - 3) * 4);
	if (len)
		memcpy(m + 3, n, len);
	meta_commit(k, words);
	s->app = app;
	return 0;
}

static int emit_app(struct tm_capture *cap, struct ccls *k,
    const struct tm_conn *c, struct side *s, uint32_t app)
{
	char name[128];

	return emit_app_name(k, s, app, tm_tracker_app(cap->trk, c, name,
	    sizeof(name)));
}

/* A record could not be appended: dropped (counted), or the writer
 * failed. */
static int no_room(struct tm_capture *cap, struct ccls *k, size_t rec)
{
	if (atomic_load_explicit(&cap->failed, memory_order_relaxed))
		return -1;
	tm_ring_drop(&k->data, rec);
	return 0;
}

int tm_capture_packet(struct tm_capture *cap, int64_t ts,
    const uint8_t *frame, uint32_t caplen, uint32_t len, uint16_t linktype,
    const struct tm_decision *d)
{
	const struct tm_conn *c = d->conn;
	struct ccls *k;
	struct side *s;
	uint32_t keep = caplen, app, idx, *m;
	size_t rec;
	uint8_t *p;
	int dir;

	/* the writer's failure flag: written once, read-shared here */
	if (atomic_load_explicit(&cap->failed, memory_order_relaxed))
		return -1;
	if (!d->stored || !c || d->cls >= cap->ncls)
		return 0;
	/* what a segment's record cannot hold (the caller filters these
	 * first, with counts): no wire length (len 0 ends the records a
	 * repair keeps), a time before 1970 or from 2106 on (32-bit
	 * seconds); a wire length below the captured one is raised */
	if (len < caplen)
		len = caplen;
	if (len == 0 || ts < 0 || ts / 1000000000 > (int64_t)UINT32_MAX)
		return 0;
	k = &cap->cls[d->cls];
	if (d->snaplen && keep > d->snaplen)
		keep = d->snaplen;
	if (keep > TM_PCAP_SNAPLEN)
		keep = TM_PCAP_SNAPLEN;
	rec = TM_PCAP_REC_HDR + keep;
	if (k->open && (k->seg_bytes + rec > cap->so.segment_size ||
	    ts - k->seg_first >= cap->so.segment_age_ns ||
	    linktype != k->linktype || k->n_local >= k->max_local)) {
		sync_apps(cap);
		if (close_seg(k))
			return no_room(cap, k, rec);
	}
	if (!k->open && open_seg(cap, k, linktype, ts))
		return no_room(cap, k, rec);
	idx = tm_conntab_index(cap->conns, c);
	if (idx >= cap->n_side)
		return 0;	/* cannot happen: sized by the table */
	s = &cap->side[idx];
	if (s->first_frame != c->first_frame || s->serial != k->serial) {
		if (emit_conn(cap, k, c, s))
			return no_room(cap, k, rec);
	}
	app = conn_app(c);
	if (app != s->app && emit_app(cap, k, c, s, app))
		return no_room(cap, k, rec);
	p = tm_ring_reserve(&k->data, rec);
	if (!p)
		return no_room(cap, k, rec);
	m = meta_room(k, M_PKT_WORDS);
	if (!m)
		return no_room(cap, k, rec);
	tm_put_le32(p, (uint32_t)(ts / 1000000000));
	tm_put_le32(p + 4, (uint32_t)(ts % 1000000000));
	tm_put_le32(p + 8, keep);
	tm_put_le32(p + 12, len);
	memcpy(p + TM_PCAP_REC_HDR, frame, keep);
	dir = d->from_resp ? !c->orig : c->orig;
	/* what the writer indexes, so that it never reads the data ring */
	m[0] = s->local | (uint32_t)dir << 31;
	m[1] = keep;
	m[2] = len;
	m[3] = (uint32_t)(uint64_t)ts;
	m[4] = (uint32_t)((uint64_t)ts >> 32);
	k->data.ph += rec;
	meta_commit(k, M_PKT_WORDS);
	k->seg_bytes += rec;
	k->packets++;
	k->bytes += rec;
	maybe_publish(k);
	return 0;
}

/* The side entry of connection c (index idx in the table), if it describes
 * c and has not sent c's current application yet; else NULL. */
static struct side *app_side(struct tm_capture *cap, const struct tm_conn *c,
    uint32_t idx)
{
	struct side *s;

	if (!cap->side || idx >= cap->n_side)
		return NULL;
	s = &cap->side[idx];
	if (s->first_frame != c->first_frame || s->app == conn_app(c))
		return NULL;
	return s;
}

/* The class whose open segment is serial, or NULL (closed since). */
static struct ccls *open_class(struct tm_capture *cap, uint32_t serial)
{
	for (size_t i = 0; i < cap->ncls; i++)
		if (cap->cls[i].open && cap->cls[i].serial == serial)
			return &cap->cls[i];
	return NULL;
}

/* A connection ended: its application is final now. If nDPI named it
 * after the connection's last packet (nDPI on its own threads answers
 * later), the open segment that holds its packets still learns it: found
 * by the reference taken when it ended (tm_capture_ref: its table entry
 * may be another connection's by now), else by its entry. */
static void late_app(struct tm_capture *cap, const struct tm_flow_rec *f)
{
	struct side ref, *s;
	struct ccls *k;

	if (!f->app)
		return;
	if (f->store_ref) {
		memset(&ref, 0, sizeof(ref));
		ref.serial = (uint32_t)(f->store_ref >> 32);
		ref.local = (uint32_t)f->store_ref;
		s = &ref;
	} else if (!(s = app_side(cap, f->c, f->index))) {
		return;
	}
	if ((k = open_class(cap, s->serial)) != NULL)
		emit_app_name(k, s, conn_app(f->c), f->app);
}

void tm_capture_app(const struct tm_conn *c, void *arg)
{
	struct tm_capture *cap = arg;
	struct side *s = app_side(cap, c, tm_conntab_index(cap->conns, c));
	struct ccls *k = s ? open_class(cap, s->serial) : NULL;

	if (k)
		emit_app(cap, k, c, s, conn_app(c));
}

uint64_t tm_capture_ref(const struct tm_conn *c, void *arg)
{
	struct tm_capture *cap = arg;
	uint32_t idx = tm_conntab_index(cap->conns, c);
	const struct side *s;

	if (!cap->side || idx >= cap->n_side)
		return 0;
	s = &cap->side[idx];
	if (s->first_frame != c->first_frame || !s->serial)
		return 0;	/* no packet of it stored */
	return (uint64_t)s->serial << 32 | s->local;
}

void tm_capture_flow(const struct tm_flow_rec *f, void *arg)
{
	struct tm_capture *cap = arg;
	uint8_t *p;
	size_t n;

	late_app(cap, f);
	p = tm_ring_reserve(&cap->fring, TM_FLOWS_REC_HDR + TM_FLOWREC_MAX);

	if (!p) {
		cap->flows_dropped++;
		return;
	}
	n = tm_flowrec_encode(f, p + TM_FLOWS_REC_HDR, TM_FLOWREC_MAX);
	if (!n) {
		cap->flows_dropped++;
		return;
	}
	/* the Community ID (if pending) and the checksum: the writer's */
	tm_put_le32(p, (uint32_t)n | (f->cid_pending ? FREC_CID_PENDING : 0));
	tm_ring_commit(&cap->fring, TM_FLOWS_REC_HDR + n);
	cap->flows++;
}

void tm_capture_publish_all(struct tm_capture *cap)
{
	for (size_t i = 0; i < cap->ncls; i++)
		publish_class(&cap->cls[i]);
	tm_ring_publish(&cap->fring);
}

void tm_capture_tick(struct tm_capture *cap, int64_t now)
{
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];

		if (k->open && now - k->seg_first >= cap->so.segment_age_ns) {
			sync_apps(cap);
			close_seg(k);
		}
		publish_class(k);
	}
	tm_ring_publish(&cap->fring);
}

unsigned tm_capture_flush(struct tm_capture *cap)
{
	unsigned n = 0;

	sync_apps(cap);
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];

		if (k->open && close_seg(k) == 0)
			n++;
		publish_class(k);
	}
	tm_ring_publish(&cap->fring);
	return n;
}

int tm_capture_failed(const struct tm_capture *cap)
{
	return atomic_load((_Atomic int *)&cap->failed);
}

/* ---- open, finish ------------------------------------------------------- */

static uint64_t class_memory(const struct tm_capture_opts *o,
    const struct tm_class *c)
{
	uint64_t m = c->memory ? c->memory : o->store.memory;

	if (m < 2 * 1024 * 1024)	/* twice the largest record at least */
		m = 2 * 1024 * 1024;
	return m;
}

struct tm_capture *tm_capture_open(const struct tm_capture_opts *o,
    char *err, size_t errlen)
{
	struct tm_capture *cap = calloc(1, sizeof(*cap));
	struct tm_recover_opts ro;
	char path[4200];

	if (!cap) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cap->lock_fd = -1;
	cap->ffd = -1;
	cap->wake_fd = -1;
	cap->so = o->store;
	cap->ring_flags = o->ring_flags;
	cap->ipfix = o->ipfix;
	cap->cid_seed = o->cid_seed;
	tm_evc_init(&cap->data_evc);
	tm_evc_init(&cap->space_evc);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_mutex_init(&cap->pub_mu, NULL);
		pthread_cond_init(&cap->pub_cv, &ca);
		pthread_mutex_init(&cap->snap_one, NULL);
		pthread_mutex_init(&cap->snap_mu, NULL);
		pthread_cond_init(&cap->snap_cv, NULL);
		pthread_condattr_destroy(&ca);
		cap->sync_init = 1;
		cap->writer_gone = 1;	/* until it starts */
	}
	atomic_init(&cap->stop, 0);
	atomic_init(&cap->failed, 0);
	if (cap->so.segment_size < TM_STORE_MIN_SEGMENT_SIZE ||
	    cap->so.segment_size > TM_STORE_MAX_SEGMENT_SIZE) {
		snprintf(err, errlen, "segment size %llu: from 64k to 4g",
		    (unsigned long long)cap->so.segment_size);
		goto fail;
	}
	if (cap->so.segment_age_ns <= 0)
		cap->so.segment_age_ns = TM_STORE_DEFAULT_SEGMENT_AGE;
	if (cap->so.dir_interval == 0)
		cap->so.dir_interval = TM_STORE_DEFAULT_DIR_INTERVAL;
	if (!cap->so.flows_segment_size)
		cap->so.flows_segment_size = TM_STORE_DEFAULT_FLOWS_SEGMENT;
	for (size_t i = 0; i < o->classes->n; i++) {
		const char *n = o->classes->v[i].name;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strlen(n) >= sizeof(cap->cls[0].name)) {
			snprintf(err, errlen, "class '%s': not a usable "
			    "directory name", n);
			goto fail;
		}
	}
	cap->root = strdup(o->root);
	if (!cap->root) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tm_store_mkdirs(o->root, err, errlen))
		goto fail;
	cap->lock_fd = tm_store_lock(o->root, err, errlen);
	if (cap->lock_fd < 0)
		goto fail;

	memset(&ro, 0, sizeof(ro));
	ro.reg = o->reg;
	ro.ctx_mask = o->ctx_mask;
	ro.dir_interval = cap->so.dir_interval;
	ro.progress = o->progress;
	ro.log = o->log;
	if (tm_store_recover(o->root, &ro, &cap->cat, &cap->rec, err, errlen))
		goto fail;
	if (tm_writer_flows_recover(cap, err, errlen))
		goto fail;

	cap->ncls = o->classes->n;
	cap->cls = calloc(cap->ncls, sizeof(*cap->cls));
	if (!cap->cls) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cap->ncls; i++) {
		const struct tm_class *c = &o->classes->v[i];
		struct ccls *k = &cap->cls[i];
		uint64_t mem = class_memory(o, c);

		k->cap = cap;
		k->w.fd = -1;
		k->max_local = mem / M_CONN_BYTES < M_MIN_LOCAL ? M_MIN_LOCAL :
		    mem / M_CONN_BYTES > M_MAX_LOCAL ? M_MAX_LOCAL :
		    (uint32_t)(mem / M_CONN_BYTES);
		snprintf(k->name, sizeof(k->name), "%s", c->name);
		snprintf(path, sizeof(path), "%s/segments/%s", o->root,
		    c->name);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		k->cat = tm_catalog_class(&cap->cat, c->name);
		k->b = tm_scb_new();
		k->w.sum = XXH64_createState();
		if (!k->cat || !k->b || !k->w.sum) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		k->cat->budget = c->disk;
		if (tm_ring_init(&k->data, mem - mem / 8, cap->ring_flags,
		    &cap->data_evc, &cap->space_evc, err, errlen) ||
		    tm_ring_init(&k->meta, mem / 8, cap->ring_flags,
		    &cap->data_evc, &cap->space_evc, err, errlen))
			goto fail;
		/* the class publishes both rings together, data first */
		k->data.batch = k->data.size / 8 < 1024 * 1024 ?
		    k->data.size / 8 : 1024 * 1024;
		k->meta.batch = k->meta.size / 8;
		k->data.before_wait = k->meta.before_wait = publish_class;
		k->data.before_wait_arg = k->meta.before_wait_arg = k;
		k->data.abort = k->meta.abort = &cap->failed;
	}
	/* the catalogue's entries may have moved while classes were added */
	for (size_t i = 0; i < cap->ncls; i++)
		cap->cls[i].cat = tm_catalog_class(&cap->cat, cap->cls[i].name);
	if (tm_ring_init(&cap->fring, 8 << 20, cap->ring_flags,
	    &cap->data_evc, &cap->space_evc, err, errlen))
		goto fail;
	cap->fring.abort = &cap->failed;
	cap->writer_gone = 0;
	if (pthread_create(&cap->thr, NULL, tm_writer_main, cap) != 0) {
		cap->writer_gone = 1;
		snprintf(err, errlen, "cannot start the writer thread");
		goto fail;
	}
	(void)pthread_setname_np(cap->thr, "tm-writer");
	cap->started = 1;
	return cap;
fail:
	tm_capture_free(cap);
	return NULL;
}

int tm_capture_bind(struct tm_capture *cap, struct tm_tracker *trk)
{
	cap->trk = trk;
	cap->conns = tm_tracker_conns(trk);
	cap->n_side = tm_conntab_max(cap->conns);
	free(cap->side);
	/* calloc: the pages are touched only as connections use them */
	cap->side = calloc(cap->n_side, sizeof(*cap->side));
	return cap->side ? 0 : -1;
}

int tm_capture_finish(struct tm_capture *cap, char *err, size_t errlen)
{
	if (!cap->started)
		return -1;
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];

		if (k->open)
			close_seg(k);
		publish_class(k);
	}
	tm_ring_publish(&cap->fring);
	atomic_store(&cap->stop, 1);
	tm_evc_notify(&cap->data_evc);
	pthread_join(cap->thr, NULL);
	cap->started = 0;
	if (atomic_load(&cap->failed)) {
		snprintf(err, errlen, "%s", cap->errmsg);
		return -1;
	}
	return 0;
}

void tm_capture_get_stats(const struct tm_capture *cap,
    struct tm_capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < cap->ncls; i++) {
		const struct ccls *k = &cap->cls[i];

		st->packets += k->packets;
		st->bytes += k->bytes;
		st->dropped += k->data.drops;
		st->segments += k->segments;
		st->pcap_bytes += k->pcap_bytes;
		st->idx_bytes += k->idx_bytes;
		st->deleted += k->deleted;
		st->deleted_bytes += k->deleted_bytes;
		st->waits += k->data.waits + k->meta.waits;
	}
	st->flows = cap->flows;
	st->flows_dropped = cap->flows_dropped;
	st->flow_bytes = cap->flow_bytes;
	st->flow_files = cap->flow_files;
	st->flows_deleted = cap->flows_deleted;
	st->recovery = cap->rec;
	st->store_bytes = cap->cat.bytes;
	st->writer_cpu_ns = cap->writer_cpu_ns;
	for (size_t i = 0; i < cap->cat.n; i++)
		st->store_segments += cap->cat.cls[i].n - cap->cat.cls[i].head;
}

size_t tm_capture_n_classes(const struct tm_capture *cap)
{
	return cap->ncls;
}

void tm_capture_class_stats(const struct tm_capture *cap, size_t i,
    struct tm_capture_class_stats *st)
{
	const struct ccls *k = &cap->cls[i];

	memset(st, 0, sizeof(*st));
	st->name = k->name;
	st->packets = k->packets;
	st->bytes = k->bytes;
	st->dropped = k->data.drops;
	st->dropped_bytes = k->data.drop_bytes;
	st->segments = k->segments;
	st->pcap_bytes = k->pcap_bytes;
	st->idx_bytes = k->idx_bytes;
	st->deleted = k->deleted;
	st->deleted_bytes = k->deleted_bytes;
	st->ring_bytes = k->data.size + k->meta.size;
	st->waits = k->data.waits + k->meta.waits;
}

void tm_capture_free(struct tm_capture *cap)
{
	if (!cap)
		return;
	if (cap->started) {
		char e[64];

		tm_capture_finish(cap, e, sizeof(e));
	}
	for (size_t i = 0; i < cap->ncls; i++) {
		struct ccls *k = &cap->cls[i];

		tm_ring_destroy(&k->data);
		tm_ring_destroy(&k->meta);
		tm_scb_free(k->b);
		XXH64_freeState(k->w.sum);
		if (k->w.fd >= 0)
			close(k->w.fd);
	}
	tm_ring_destroy(&cap->fring);
	if (cap->ffd >= 0)
		close(cap->ffd);
	free(cap->cls);
	free(cap->side);
	free(cap->fsegs);

	tm_catalog_free(&cap->cat);
	if (cap->lock_fd >= 0)
		close(cap->lock_fd);
	free(cap->root);
	if (cap->sync_init) {
		pthread_mutex_destroy(&cap->pub_mu);
		pthread_cond_destroy(&cap->pub_cv);
		pthread_mutex_destroy(&cap->snap_one);
		pthread_mutex_destroy(&cap->snap_mu);
		pthread_cond_destroy(&cap->snap_cv);
	}
	free(cap);
}
