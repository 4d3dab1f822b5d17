/*
 * The per-packet pipeline: key -> connection -> class -> nDPI -> cutoff.
 *
 * Nothing here knows a protocol number: the timeout class comes from the
 * view's flags (a connection-oriented transport sets TM_PF_STREAM and its
 * control flags; ICMP sets TM_PF_HAS_ICMP; ports mean a datagram
 * transport), nDPI gets the innermost network layer as the view locates it.
 */
#include "tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ndpi_glue.h"

struct tm_tracker {
	struct tm_tracker_opts o;
	struct tm_conntab *conns;
	tm_flow_fn fn;
	void *arg;
	int64_t clock;		/* latest packet time seen */
	int64_t next_sweep;
	int64_t sweep_ns;
	struct tm_packet scratch;	/* a view re-oriented or rebuilt for a
					 * pending class choice */
	uint32_t *inflight;		/* nDPI jobs without result, by slot */
	int *to_end;			/* slots whose verdict came: END next */
	size_t n_to_end;
	/* slot -> record it now answers to (index + 1; 0: its connection) */
	uint32_t *slot_rec;
	/* ended connections whose records wait for nDPI's last answer, and
	 * the ones behind them: written in the order they ended */
	struct pending_rec *recs;
	uint32_t rec_head, rec_tail;	/* [head, tail) in use, mod REC_CAP */
	struct tm_tracker_stats st;
	struct tm_rules rules;		/* dynamic cutoffs */
};

#define REC_CAP 4096u	/* records waiting (power of two) */

struct pending_rec {
	struct tm_conn c;		/* a copy: the entry is reused */
	struct tm_ctx_view ctx;
	uint32_t index;			/* its pool index */
	uint8_t why;
	uint8_t ready;
	int slot;			/* nDPI slot it waits for, or -1 */
	uint64_t ref;			/* ref_fn's answer, or 0 */
};

static void on_end(struct tm_conn *c, enum tm_end_reason why, void *arg);
static void on_ndpi(const struct tm_ndpi_result *r, void *arg);

struct tm_tracker *tm_tracker_new(const struct tm_tracker_opts *o,
    tm_flow_fn fn, void *arg, char *err, size_t errlen)
{
	struct tm_tracker *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->o = *o;
	if (t->o.ndpi_max_packets == 0)
		t->o.ndpi_max_packets = 1;
	t->fn = fn;
	t->arg = arg;
	t->sweep_ns = o->sweep_ns > 0 ? o->sweep_ns : 1000000000LL;
	tm_rules_init(&t->rules);
	t->next_sweep = INT64_MIN;
	t->conns = tm_conntab_new(&o->conn, on_end, t, err, errlen);
	if (!t->conns) {
		free(t);
		return NULL;
	}
	if (o->ndpi) {
		t->inflight = calloc(tm_ndpi_capacity(o->ndpi),
		    sizeof(*t->inflight));
		t->to_end = calloc(tm_ndpi_capacity(o->ndpi),
		    sizeof(*t->to_end));
		t->slot_rec = calloc(tm_ndpi_capacity(o->ndpi),
		    sizeof(*t->slot_rec));
		t->recs = calloc(REC_CAP, sizeof(*t->recs));
		if (!t->inflight || !t->to_end || !t->slot_rec || !t->recs) {
			snprintf(err, errlen, "out of memory");
			tm_tracker_free(t);
			return NULL;
		}
		tm_ndpi_set_sink(o->ndpi, on_ndpi, t);
	}
	return t;
}

void tm_tracker_free(struct tm_tracker *t)
{
	if (!t)
		return;
	/* the storage may be gone already (after a failure it is freed
	 * first): the answers still coming from nDPI go nowhere */
	t->o.app_fn = NULL;
	t->o.ref_fn = NULL;
	t->fn = NULL;
	if (t->o.ndpi) {
		/* nothing may reach this tracker any more */
		while (tm_ndpi_outstanding(t->o.ndpi))
			tm_ndpi_collect(t->o.ndpi, 1);
		tm_ndpi_set_sink(t->o.ndpi, NULL, NULL);
	}
	tm_conntab_free(t->conns);
	tm_rules_free(&t->rules);
	free(t->inflight);
	free(t->to_end);
	free(t->slot_rec);
	free(t->recs);
	free(t);
}

const struct tm_tracker_stats *tm_tracker_stats(const struct tm_tracker *t)
{
	return &t->st;
}

struct tm_rules *tm_tracker_rules(struct tm_tracker *t)
{
	return &t->rules;
}

int64_t tm_tracker_clock(const struct tm_tracker *t)
{
	return t->next_sweep == INT64_MIN ? INT64_MIN : t->clock;
}

void tm_tracker_set_classes(struct tm_tracker *t, const struct tm_classes *cs)
{
	t->o.classes = cs;
	tm_rules_touch(&t->rules);	/* every cutoff is recomputed */
}

struct tm_conntab *tm_tracker_conns(struct tm_tracker *t)
{
	return t->conns;
}

const char *tm_tracker_app(const struct tm_tracker *t,
    const struct tm_conn *c, char *buf, size_t len)
{
	struct tm_ndpi_verdict v = { c->app_master, c->app_proto };

	if (!t->o.ndpi)
		return NULL;
	return tm_ndpi_name(t->o.ndpi, v, buf, len);
}

/* ---- uid ---------------------------------------------------------------- */

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

_Static_assert(sizeof(TM_CID_PENDING) == TM_COMMUNITY_ID_SIZE,
    "a pending Community ID is as long as a real one");

static void base62(uint64_t v, char *out, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
}

void tm_flow_uid(const struct tm_conn *c, char *out, size_t len)
{
	struct {
		struct tm_key key;
		int64_t ts;
		uint64_t frame;
	} in;
	XXH128_hash_t h;
	char buf[19];

	memset(&in, 0, sizeof(in));
	in.key = c->key;
	in.ts = c->first_ts;
	in.frame = c->first_frame;
	h = XXH3_128bits(&in, sizeof(in));
	buf[0] = 'C';
	base62(h.low64, buf + 1, 11);		/* 62^11 > 2^64 */
	base62(h.high64 >> 32, buf + 12, 6);	/* 62^6 > 2^32 */
	buf[18] = '\0';
	/* per record: no printf */
	if (len) {
		size_t n = len - 1 < sizeof(buf) - 1 ? len - 1 : sizeof(buf) - 1;

		memcpy(out, buf, n);
		out[n] = '\0';
	}
}

/* ---- timeout classes ------------------------------------------------------ */

static enum tm_tclass base_tclass(uint8_t pflags)
{
	if (pflags & TM_CP_STREAM)
		return TM_TC_TCP;
	if (pflags & TM_CP_ICMP)
		return TM_TC_ICMP;
	if (pflags & TM_CP_DGRAM)
		return TM_TC_UDP;
	return TM_TC_OTHER;
}

static enum tm_tclass conn_tclass(const struct tm_conn *c)
{
	if ((c->pflags & TM_CP_STREAM) && ((c->state & TM_CS_RST) ||
	    (c->state & (TM_CS_FIN_ORIG | TM_CS_FIN_RESP)) ==
	    (TM_CS_FIN_ORIG | TM_CS_FIN_RESP)))
		return TM_TC_TCP_CLOSING;
	return base_tclass(c->pflags);
}

/* ---- classes -------------------------------------------------------------- */

static void set_class(struct tm_tracker *t, struct tm_conn *c, uint16_t cls)
{
	c->cls = cls;
	c->cutoff = t->o.classes->v[cls].cutoff;
	c->rule_gen = 0;	/* the rules, if any, apply again */
}

static const struct tm_packet *as_orig(struct tm_tracker *t,
    const struct tm_packet *pkt);

/* The rules changed since the connection last looked (rules.h). */
static void apply_rules(struct tm_tracker *t, struct tm_conn *c,
    const struct tm_packet *pkt, int side, int64_t ts)
{
	struct tm_expr_conn ec = { 0 };
	char name[128];

	c->rule_gen = t->rules.gen;
	if (!t->rules.n) {
		c->cutoff = t->o.classes->v[c->cls].cutoff;
		return;
	}
	ec.class_name = t->o.classes->v[c->cls].name;
	ec.app_final = (c->state & TM_CS_APP_DONE) != 0;
	ec.app = tm_tracker_app(t, c, name, sizeof(name));
	/* as the class filters do: the originator's view, so `src host X`
	 * means the connection's originator is X, whichever side sent the
	 * packet at hand */
	c->cutoff = tm_rules_cutoff(&t->rules, side ? as_orig(t, pkt) : pkt,
	    &ec, ts, t->o.classes->v[c->cls].cutoff);
}

/* Evaluates the classes on pkt, the originator's view of the connection. */
static uint16_t choose(struct tm_tracker *t, const struct tm_packet *pkt,
    const char *app, int app_final, int *pending)
{
	struct tm_expr_conn ec = { 0 };

	/* community_id NULL: the evaluator computes it from pkt if a filter
	 * asks (the seed was given at compile time) */
	ec.app = app;
	ec.app_final = app_final;
	return tm_classes_select(t->o.classes, pkt, &ec, pending);
}

/* The originator's view of a packet the responder sent: what the class
 * filters saw on the first packet, as far as this packet can tell. */
static const struct tm_packet *as_orig(struct tm_tracker *t,
    const struct tm_packet *pkt)
{
	struct tm_packet *v = &t->scratch;

	memcpy(v, pkt, sizeof(*v));
	v->src = pkt->dst;
	v->dst = pkt->src;
	v->sport = pkt->dport;
	v->dport = pkt->sport;
	v->outer_src = pkt->outer_dst;
	v->outer_dst = pkt->outer_src;
	v->outer_sport = pkt->outer_dport;
	v->outer_dport = pkt->outer_sport;
	for (unsigned i = 0; i < v->n_tunnels && i < TM_MAX_TUNNELS; i++) {
		v->tunnels[i].src = pkt->tunnels[i].dst;
		v->tunnels[i].dst = pkt->tunnels[i].src;
	}
	return v;
}

static void orig_endpoints(const struct tm_conn *c, struct tm_addr *oh,
    struct tm_addr *rh, uint16_t *op, uint16_t *rp)
{
	int a_is_orig = c->orig == 0;

	memset(oh, 0, sizeof(*oh));
	memset(rh, 0, sizeof(*rh));
	oh->family = a_is_orig ? c->key.fam_a : c->key.fam_b;
	memcpy(oh->a, a_is_orig ? c->key.addr_a : c->key.addr_b, 16);
	rh->family = a_is_orig ? c->key.fam_b : c->key.fam_a;
	memcpy(rh->a, a_is_orig ? c->key.addr_b : c->key.addr_a, 16);
	*op = a_is_orig ? c->key.port_a : c->key.port_b;
	*rp = a_is_orig ? c->key.port_b : c->key.port_a;
}

/* A view rebuilt from what the connection keeps (key, first packet's
 * context and ICMP fields), for a choice made with no packet at hand. */
static const struct tm_packet *rebuilt_ctx(struct tm_tracker *t,
    const struct tm_conn *c, const struct tm_ctx_view *ctx)
{
	struct tm_packet *v = &t->scratch;
	struct tm_ctx_view cv = *ctx;

	memset(v, 0, sizeof(*v));
	v->l3 = c->key.l3;
	v->ethertype = c->key.ethertype;
	orig_endpoints(c, &v->src, &v->dst, &v->sport, &v->dport);
	v->proto = c->key.proto;
	v->spi = c->key.spi;
	if (c->pflags & TM_CP_PROTO)
		v->flags |= TM_PF_HAS_PROTO;
	if (c->pflags & TM_CP_PORTS)
		v->flags |= TM_PF_HAS_PORTS;
	else
		v->sport = v->dport = 0;
	if (c->pflags & TM_CP_SPI)
		v->flags |= TM_PF_HAS_SPI;
	if (c->pflags & TM_CP_ICMP) {
		v->flags |= TM_PF_HAS_ICMP;
		v->icmp_type = c->icmp_type;
		v->icmp_code = c->icmp_code;
	}
	if (c->pflags & TM_CP_STREAM)
		v->flags |= TM_PF_STREAM;
	v->n_vlans = cv.n_vlans;
	memcpy(v->vlans, cv.vlans, sizeof(v->vlans));
	v->n_tunnels = cv.n_tunnels;
	memcpy(v->tunnels, cv.tunnels, sizeof(v->tunnels));
	if (cv.n_tunnels) {
		v->outer_src = cv.tunnels[0].src;
		v->outer_dst = cv.tunnels[0].dst;
		v->flags |= TM_PF_NESTED_L3;
	} else {
		v->outer_src = v->src;
		v->outer_dst = v->dst;
	}
	return v;
}

static const struct tm_packet *rebuilt(struct tm_tracker *t,
    const struct tm_conn *c)
{
	struct tm_ctx_view cv;

	tm_conntab_ctx_get(t->conns, c->ctx, &cv);
	return rebuilt_ctx(t, c, &cv);
}

/* The application is known now (name may be NULL: never will be): a
 * pending class choice becomes final. pkt is the originator's view. */
static void decide(struct tm_tracker *t, struct tm_conn *c,
    const struct tm_packet *pkt, const char *name)
{
	int pending;
	uint16_t cls;

	c->state |= TM_CS_APP_DONE;
	c->rule_gen = 0;	/* cutoff rules that test `app` can tell now */
	if (!(c->state & TM_CS_PENDING))
		return;
	c->state &= (uint8_t)~TM_CS_PENDING;
	cls = choose(t, pkt, name, 1, &pending);
	if (cls != c->cls) {
		c->prov_cls = c->cls;
		c->prov_cls_set = 1;
		set_class(t, c, cls);
		t->st.reclassified++;
	}
}

/* ---- nDPI ----------------------------------------------------------------- */

/* nDPI's results, in submission order (inline: at once; with nDPI's
 * worker thread: whenever they are collected). A verdict is recorded in
 * the connection, which lets go of its state: END is submitted next (by
 * flush_ends: a sink must not submit). A pending class choice is made by
 * whoever waited for the verdict, with the packet at hand. */
static void on_ndpi(const struct tm_ndpi_result *r, void *arg)
{
	struct tm_tracker *t = arg;
	uint32_t rec = t->slot_rec[r->slot];
	struct tm_conn *c;
	char buf[128];

	t->inflight[r->slot]--;
	if (r->job == TM_NDPI_END) {
		t->slot_rec[r->slot] = 0;
		tm_ndpi_release(t->o.ndpi, r->slot);
		return;
	}
	if (r->job == TM_NDPI_FEED && !r->skipped)
		t->st.ndpi_packets++;
	if (rec == UINT32_MAX)
		return;		/* its record is written already */
	/* the slot's connection, or the record of it once it ended: a slot
	 * is not reused before its END, so the tag still names it */
	c = rec ? &t->recs[rec - 1].c : tm_conntab_at(t->conns, r->tag);
	if (rec && r->job == TM_NDPI_GIVEUP)
		t->recs[rec - 1].ready = 1;	/* nDPI's last word on it */
	if (!r->verdict)
		return;
	c->app_master = r->v.master;
	c->app_proto = r->v.app;
	c->state |= TM_CS_APP_DONE;
	c->ndpi = 0;
	if (tm_ndpi_name(t->o.ndpi, r->v, buf, sizeof(buf)))
		t->st.ndpi_detected++;
	else
		t->st.ndpi_undetected++;
	tm_ndpi_detach(t->o.ndpi, r->slot);
	t->to_end[t->n_to_end++] = r->slot;
	if (!rec && t->o.app_fn && (r->v.master || r->v.app))
		t->o.app_fn(c, t->o.app_arg);
}

static void submit(struct tm_tracker *t, enum tm_ndpi_job job, int slot,
    uint32_t tag, const uint8_t *ip, uint32_t len, int64_t ts)
{
	t->inflight[slot]++;
	tm_ndpi_submit(t->o.ndpi, job, slot, tag, ip, len,
	    (uint64_t)(ts / 1000000));
}

/* Frees the states of the connections that have their verdict. */
static void flush_ends(struct tm_tracker *t)
{
	while (t->n_to_end) {
		int slot = t->to_end[--t->n_to_end];

		submit(t, TM_NDPI_END, slot, 0, NULL, 0, 0);
	}
}

/* Waits until every job submitted for slot has its result. */
static void wait_slot(struct tm_tracker *t, int slot)
{
	while (t->inflight[slot])
		tm_ndpi_collect(t->o.ndpi, 1);
	flush_ends(t);
}

static const char *app_name(struct tm_tracker *t, const struct tm_conn *c,
    char *buf, size_t len)
{
	return tm_tracker_app(t, c, buf, len);
}

/* No more packets for nDPI from this connection (it ends, or its state is
 * needed elsewhere): its best answer now. The class is decided on what
 * the connection keeps, if it was pending. */
static void giveup_conn(struct tm_tracker *t, struct tm_conn *c)
{
	char buf[128];

	if (c->ndpi) {
		int slot = (int)c->ndpi - 1;

		submit(t, TM_NDPI_GIVEUP, slot, tm_conntab_index(t->conns, c),
		    NULL, 0, 0);
		wait_slot(t, slot);
	}
	if (c->state & TM_CS_PENDING)
		decide(t, c, rebuilt(t, c), app_name(t, c, buf, sizeof(buf)));
	c->state |= TM_CS_APP_DONE;
}

/* Which nDPI worker classifies c: the same for every connection between
 * the same two hosts (nDPI remembers what one flow says of its hosts'
 * next ones, per worker), whatever their ports or direction. */
static uint32_t ndpi_shard(const struct tm_conn *c)
{
	uint32_t h = 2166136261u;	/* FNV-1a of both addresses, xor'd */
	uint32_t a = 0, b = 0;

	for (int i = 0; i < 16; i++) {
		a = (a ^ c->key.addr_a[i]) * 16777619u;
		b = (b ^ c->key.addr_b[i]) * 16777619u;
	}
	h ^= a ^ b;
	return h ^ (h >> 16);
}

/* A state for connection c, giving up on the least recently fed flow if
 * every state is busy. -1 only if nDPI has no state at all to give. */
static int take_state(struct tm_tracker *t, struct tm_conn *c)
{
	uint32_t me = tm_conntab_index(t->conns, c), victim;
	uint32_t shard = ndpi_shard(c);
	int slot = tm_ndpi_begin(t->o.ndpi, me, shard), vslot;

	while (slot < 0) {
		vslot = tm_ndpi_oldest(t->o.ndpi, &victim);
		if (vslot >= 0) {
			/* the flow fed least recently is most likely over */
			giveup_conn(t, tm_conntab_at(t->conns, victim));
			t->st.ndpi_reclaimed++;
			while (t->inflight[vslot])	/* its END */
				tm_ndpi_collect(t->o.ndpi, 1);
		} else if (tm_ndpi_outstanding(t->o.ndpi)) {
			tm_ndpi_collect(t->o.ndpi, 1);	/* states ending */
			flush_ends(t);
		} else {
			return -1;
		}
		slot = tm_ndpi_begin(t->o.ndpi, me, shard);
	}
	return slot;
}

/* A packet with payload for a connection nDPI has not decided yet. */
static void ndpi_feed(struct tm_tracker *t, struct tm_conn *c,
    const struct tm_packet *pkt, int side, int64_t ts)
{
	uint32_t off = pkt->layers[pkt->l3_layer].offset;
	uint32_t me = tm_conntab_index(t->conns, c);
	char buf[128];
	int slot;

	if (off >= pkt->caplen || c->ndpi_pkts >= t->o.ndpi_max_packets)
		return;
	if (!c->ndpi) {
		/* per-flow state only from the first payload packet on: a
		 * flood of empty openings never takes any */
		slot = take_state(t, c);
		if (slot < 0) {
			t->st.ndpi_pool_full++;
			c->state |= TM_CS_NO_NDPI;
			decide(t, c, side ? as_orig(t, pkt) : pkt, NULL);
			return;
		}
		c->ndpi = (uint32_t)slot + 1;
		t->st.ndpi_flows++;
		if (tm_ndpi_busy(t->o.ndpi) > t->st.ndpi_busy_peak)
			t->st.ndpi_busy_peak = tm_ndpi_busy(t->o.ndpi);
	}
	slot = (int)c->ndpi - 1;
	c->ndpi_pkts++;
	submit(t, TM_NDPI_FEED, slot, me, pkt->data + off, pkt->caplen - off,
	    ts);
	/* inline, a verdict has already detached it */
	if (c->ndpi && c->ndpi_pkts >= t->o.ndpi_max_packets)
		submit(t, TM_NDPI_GIVEUP, slot, me, NULL, 0, 0);
	flush_ends(t);
	if (c->state & TM_CS_PENDING) {
		/* its class waits for this verdict: as if nDPI ran here */
		if (c->ndpi)
			wait_slot(t, slot);
		if (c->state & TM_CS_APP_DONE)
			decide(t, c, side ? as_orig(t, pkt) : pkt,
			    app_name(t, c, buf, sizeof(buf)));
	}
}

/* ---- connections ---------------------------------------------------------- */

static struct tm_conn *open_conn(struct tm_tracker *t,
    const struct tm_packet *pkt, const struct tm_key *key, uint64_t h,
    int dir, int64_t ts, uint64_t frame)
{
	struct tm_conn *c;
	uint8_t pflags = 0;
	int pending = 0, app_final;
	uint16_t cls;

	if (pkt->flags & TM_PF_HAS_PROTO)
		pflags |= TM_CP_PROTO;
	if (pkt->flags & TM_PF_STREAM)
		pflags |= TM_CP_STREAM;
	else if (pkt->flags & TM_PF_HAS_PORTS)
		pflags |= TM_CP_DGRAM;
	if (pkt->flags & TM_PF_HAS_PORTS)
		pflags |= TM_CP_PORTS;
	if (pkt->flags & TM_PF_HAS_ICMP)
		pflags |= TM_CP_ICMP;
	if (pkt->flags & TM_PF_HAS_SPI)
		pflags |= TM_CP_SPI;
	c = tm_conntab_insert(t->conns, key, h, ts, base_tclass(pflags));
	c->pflags = pflags;
	c->orig = (uint8_t)dir;
	c->first_frame = frame;
	c->icmp_type = pkt->icmp_type;
	c->icmp_code = pkt->icmp_code;
	c->ctx = tm_conntab_ctx_intern(t->conns, pkt);

	/* nDPI may name the application later; without it, or without an
	 * IP layer for it to look at, the application is never known */
	app_final = !t->o.ndpi || (pkt->l3 != TM_L3_IPV4 &&
	    pkt->l3 != TM_L3_IPV6);
	if (app_final)
		c->state |= TM_CS_APP_DONE;
	cls = choose(t, pkt, NULL, app_final, &pending);
	set_class(t, c, cls);
	if (pending) {
		c->state |= TM_CS_PENDING;
		t->st.pending++;
	}
	return c;
}

/* Writes the record of a connection that ended (c may be a copy; index
 * is its pool index). A pending class choice is made now, on what the
 * connection keeps. */
static void emit(struct tm_tracker *t, struct tm_conn *c, uint32_t index,
    const struct tm_ctx_view *ctx, enum tm_end_reason why, uint64_t ref)
{
	struct tm_flow_rec f;
	struct tm_packet *p;
	char app[128];

	if (c->state & TM_CS_PENDING)
		decide(t, c, rebuilt_ctx(t, c, ctx), tm_tracker_app(t, c, app,
		    sizeof(app)));
	if (!t->fn)
		return;
	memset(&f, 0, sizeof(f));
	f.c = c;
	f.index = index;
	f.why = why;
	f.store_ref = ref;
	f.ctx = *ctx;
	orig_endpoints(c, &f.orig_h, &f.resp_h, &f.orig_p, &f.resp_p);
	f.has_ports = (c->pflags & TM_CP_PORTS) != 0;
	f.class_name = t->o.classes->v[c->cls].name;
	if (c->prov_cls_set)
		f.prov_class = t->o.classes->v[c->prov_cls].name;
	f.app = tm_tracker_app(t, c, app, sizeof(app));
	tm_flow_uid(c, f.uid, sizeof(f.uid));

	/* the Community ID of the first packet's tuple */
	p = &t->scratch;
	tm_flow_cid_input(&f, p);
	if (!t->o.defer_cid)
		tm_community_id(p, t->o.cid_seed, f.community_id,
		    sizeof(f.community_id));
	else if (tm_community_id_applies(p)) {
		memcpy(f.community_id, TM_CID_PENDING, sizeof(TM_CID_PENDING));
		f.cid_pending = 1;
	}
	t->fn(&f, t->arg);
}

void tm_flow_cid_input(const struct tm_flow_rec *f, struct tm_packet *p)
{
	const struct tm_conn *c = f->c;

	/* what a Community ID reads, no more (once per record) */
	p->l3 = c->key.l3;
	p->src = f->orig_h;
	p->dst = f->resp_h;
	p->proto = c->key.proto;
	p->flags = 0;
	p->sport = p->dport = 0;
	p->icmp_type = p->icmp_code = 0;
	if (c->pflags & TM_CP_PROTO)
		p->flags |= TM_PF_HAS_PROTO;
	if (f->has_ports) {
		p->flags |= TM_PF_HAS_PORTS;
		p->sport = f->orig_p;
		p->dport = f->resp_p;
	}
	if (c->pflags & TM_CP_ICMP) {
		p->flags |= TM_PF_HAS_ICMP;
		p->icmp_type = c->icmp_type;
		p->icmp_code = c->icmp_code;
	}
}

/* Writes the waiting records that are ready, in order. */
static void rec_flush(struct tm_tracker *t)
{
	while (t->rec_head != t->rec_tail) {
		struct pending_rec *r = &t->recs[t->rec_head & (REC_CAP - 1)];

		if (!r->ready)
			return;
		if (r->slot >= 0 && t->slot_rec[r->slot] ==
		    (t->rec_head & (REC_CAP - 1)) + 1)
			t->slot_rec[r->slot] = UINT32_MAX;
		r->c.state |= TM_CS_APP_DONE;
		emit(t, &r->c, r->index, &r->ctx, (enum tm_end_reason)r->why,
		    r->ref);
		t->rec_head++;
	}
}

static struct pending_rec *rec_push(struct tm_tracker *t)
{
	while (t->rec_tail - t->rec_head >= REC_CAP) {
		tm_ndpi_collect(t->o.ndpi, 1);
		flush_ends(t);
		rec_flush(t);
	}
	return &t->recs[t->rec_tail++ & (REC_CAP - 1)];
}

/* A connection ends. With nDPI, its record may have to wait for nDPI's
 * last answer on it (the worker may still be busy with its packets): the
 * connection is copied, the slot answers to the copy from now on, and the
 * record is written when nDPI has given up on it, after every record of a
 * connection that ended before it. Inline, that is at once. */
static void on_end(struct tm_conn *c, enum tm_end_reason why, void *arg)
{
	struct tm_tracker *t = arg;
	uint32_t index = tm_conntab_index(t->conns, c);
	struct pending_rec *r;
	struct tm_ctx_view ctx;

	if (!t->o.ndpi || (!c->ndpi && t->rec_head == t->rec_tail)) {
		tm_conntab_ctx_get(t->conns, c->ctx, &ctx);
		c->state |= TM_CS_APP_DONE;
		emit(t, c, index, &ctx, why, 0);
		return;
	}
	r = rec_push(t);
	r->c = *c;
	tm_conntab_ctx_get(t->conns, c->ctx, &r->ctx);
	r->index = index;
	r->why = (uint8_t)why;
	r->ready = !c->ndpi;
	r->slot = c->ndpi ? (int)c->ndpi - 1 : -1;
	r->ref = c->ndpi && t->o.ref_fn ? t->o.ref_fn(c, t->o.app_arg) : 0;
	if (c->ndpi) {
		t->slot_rec[r->slot] = (uint32_t)(r - t->recs) + 1;
		submit(t, TM_NDPI_GIVEUP, r->slot, index, NULL, 0, 0);
		c->ndpi = 0;
	}
	flush_ends(t);
	rec_flush(t);
}

void tm_tracker_packet(struct tm_tracker *t, const struct tm_packet *pkt,
    int64_t ts, uint64_t frame, struct tm_decision *d)
{
	struct tm_key key;
	struct tm_conn *c;
	uint64_t h, total;
	uint32_t flags = pkt->flags;
	int dir, side, control;

	if (ts > t->clock || t->next_sweep == INT64_MIN)
		t->clock = ts;
	if (t->clock >= t->next_sweep) {
		if (t->next_sweep != INT64_MIN)
			tm_conntab_expire(t->conns, t->clock);
		t->next_sweep = t->clock + t->sweep_ns;
	}
	tm_rules_expire(&t->rules, t->clock);	/* a compare, mostly */
	if (t->o.ndpi && tm_ndpi_collect(t->o.ndpi, 0)) {
		flush_ends(t);
		rec_flush(t);
	}
	tm_key_make(pkt, t->o.ctx_mask, &key, &dir);
	h = tm_key_hash(&key);
	c = tm_conntab_find(t->conns, &key, h);
	if (c) {
		if (tm_conntab_idle(t->conns, c, ts)) {
			tm_conntab_end(t->conns, c, tm_conn_idle_reason(c));
			c = NULL;
		} else if ((flags & TM_PF_CONN_OPEN) &&
		    conn_tclass(c) == TM_TC_TCP_CLOSING) {
			/* a new opening on a closed connection's key */
			t->st.port_reuse++;
			tm_conntab_end(t->conns, c, tm_conn_idle_reason(c));
			c = NULL;
		}
	}
	if (!c)
		c = open_conn(t, pkt, &key, h, dir, ts, frame);

	side = dir != c->orig;
	c->pkts[side]++;
	c->bytes[side] += pkt->len;
	if (flags & TM_PF_CONN_CLOSE)
		c->state |= side ? TM_CS_FIN_RESP : TM_CS_FIN_ORIG;
	if (flags & TM_PF_CONN_ABORT)
		c->state |= TM_CS_RST;
	t->st.packets++;
	t->st.bytes += pkt->len;

	if (!(c->state & (TM_CS_APP_DONE | TM_CS_NO_NDPI)) &&
	    (flags & TM_PF_HAS_PAYLOAD) && pkt->payload_len > 0 &&
	    (pkt->l3 == TM_L3_IPV4 || pkt->l3 == TM_L3_IPV6))
		ndpi_feed(t, c, pkt, side, ts);

	if (c->rule_gen != t->rules.gen)
		apply_rules(t, c, pkt, side, ts);
	total = c->bytes[0] + c->bytes[1];
	control = (flags & TM_PF_CONN_CONTROL) != 0;
	d->stored = tm_cutoff_stores(total, c->cutoff, control,
	    t->o.keep_control);
	if (d->stored) {
		c->stored_pkts++;
		c->stored_bytes += pkt->len;
		t->st.stored_pkts++;
		t->st.stored_bytes += pkt->len;
	} else {
		c->state |= TM_CS_CUTOFF;
	}
	tm_conntab_touch(t->conns, c, ts, conn_tclass(c));
	d->conn = c;
	d->from_resp = side;
	d->cls = c->cls;
	d->snaplen = t->o.classes->v[c->cls].snaplen;
	d->total = total;
}

void tm_tracker_tick(struct tm_tracker *t, int64_t now)
{
	if (t->next_sweep == INT64_MIN || now <= t->clock)
		return;
	t->clock = now;
	tm_rules_expire(&t->rules, t->clock);
	if (t->clock >= t->next_sweep) {
		tm_conntab_expire(t->conns, t->clock);
		t->next_sweep = t->clock + t->sweep_ns;
	}
	if (t->o.ndpi && tm_ndpi_collect(t->o.ndpi, 0)) {
		flush_ends(t);
		rec_flush(t);
	}
}

void tm_tracker_ndpi_sync(struct tm_tracker *t)
{
	if (!t->o.ndpi)
		return;
	flush_ends(t);
	while (tm_ndpi_outstanding(t->o.ndpi)) {
		tm_ndpi_collect(t->o.ndpi, 1);
		flush_ends(t);
		rec_flush(t);
	}
	rec_flush(t);
}

void tm_tracker_finish(struct tm_tracker *t)
{
	tm_conntab_flush(t->conns, TM_END_EOF);
	tm_tracker_ndpi_sync(t);
}
