/*
 * The service's answers to control requests (service.h).
 */
#define _GNU_SOURCE
#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "ctl_server.h"
#include "ndpi_glue.h"
#include "pktfmt.h"
#include "../query/exec.h"
#include "../query/expr.h"
#include "svc_stats.h"

/* A call for the reading thread; lives on the waiting client's stack. */
struct call {
	int (*fn)(struct tm_service *s, void *arg);
	void *arg;
	int rc;
	int done;
	struct call *next;
};

struct tm_service {
	struct tm_service_opts o;
	struct tm_ctl_server *srv;
	char store_abs[4096];
	char sock[4200];		/* the Unix socket; "" none */
	int64_t started;		/* wall clock, ns */

	pthread_mutex_t mu;		/* calls */
	pthread_cond_t cv;
	struct call *calls;
	_Atomic int pending;
	int closed;

	pthread_mutex_t qmu;		/* query-time dissectors, nDPI names */
	struct tm_registry *qreg;
	int qreg_failed;
	struct tm_ndpi *ndpi;
	int ndpi_failed;
	const struct tm_classes *classes;	/* reading thread */
};

static int64_t wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- calls to the reading thread ----------------------------------------- */

/* 0 or the call's result; -2: the reading thread no longer answers. */
static int call(struct tm_service *s, int (*fn)(struct tm_service *, void *),
    void *arg)
{
	struct call c = { fn, arg, 0, 0, NULL };
	struct call **pp;

	pthread_mutex_lock(&s->mu);
	if (s->closed) {
		pthread_mutex_unlock(&s->mu);
		return -2;
	}
	for (pp = &s->calls; *pp; pp = &(*pp)->next)
		;
	*pp = &c;
	atomic_store_explicit(&s->pending, 1, memory_order_release);
	if (s->o.wake_fd >= 0) {
		uint64_t one = 1;

		/* a full counter means it is awake already */
		ssize_t k = write(s->o.wake_fd, &one, sizeof(one));

		(void)k;
	}
	while (!c.done && !s->closed)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!c.done) {
		/* closed before it ran: take it off the list */
		for (pp = &s->calls; *pp; pp = &(*pp)->next)
			if (*pp == &c) {
				*pp = c.next;
				break;
			}
		c.rc = -2;
	}
	pthread_mutex_unlock(&s->mu);
	return c.rc;
}

void tm_service_poll(struct tm_service *s)
{
	struct call *list;

	if (!s)
		return;
	if (s->o.cap)
		tm_capture_poll(s->o.cap);
	if (!atomic_load_explicit(&s->pending, memory_order_acquire))
		return;
	pthread_mutex_lock(&s->mu);
	list = s->calls;
	s->calls = NULL;
	atomic_store_explicit(&s->pending, 0, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	for (struct call *c = list; c; c = c->next)
		c->rc = c->fn(s, c->arg);
	pthread_mutex_lock(&s->mu);
	for (struct call *c = list, *n; c; c = n) {
		n = c->next;
		c->done = 1;	/* the waiter may return from here on */
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void tm_service_close(struct tm_service *s)
{
	if (!s)
		return;
	tm_service_poll(s);
	pthread_mutex_lock(&s->mu);
	s->closed = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void tm_service_classes(struct tm_service *s, const struct tm_classes *cs)
{
	if (s)
		s->classes = cs;
}

/* ---- queries --------------------------------------------------------------- */

static const struct tm_registry *query_registry(void *arg)
{
	struct tm_service *s = arg;
	const struct tm_registry *r;

	pthread_mutex_lock(&s->qmu);
	if (!s->qreg && !s->qreg_failed) {
		s->qreg = malloc(sizeof(*s->qreg));
		if (!s->qreg || tm_cli_setup(s->qreg, s->o.plug, 0)) {
			free(s->qreg);
			s->qreg = NULL;
			s->qreg_failed = 1;
		}
	}
	r = s->qreg;
	pthread_mutex_unlock(&s->qmu);
	return r;
}

static int app_known(const char *name, void *arg)
{
	struct tm_service *s = arg;
	char err[256];
	int k = 0;

	pthread_mutex_lock(&s->qmu);
	if (!s->ndpi && !s->ndpi_failed) {
		s->ndpi = tm_ndpi_new(1, 0, err, sizeof(err));
		if (!s->ndpi)
			s->ndpi_failed = 1;
	}
	k = s->ndpi ? tm_ndpi_known(s->ndpi, name) : 0;
	pthread_mutex_unlock(&s->qmu);
	return k;
}

static struct tm_expr *compile(struct tm_service *s, const char *text,
    unsigned flags, struct tm_ctl_conn *c)
{
	struct tm_expr_opts eo;
	struct tm_expr_error ee;
	struct tm_expr *e;

	memset(&eo, 0, sizeof(eo));
	eo.flags = flags;
	eo.app_check = app_known;
	eo.app_check_arg = s;
	e = tm_expr_compile(text, &eo, &ee);
	if (!e)
		tm_ctl_reply_err(c, "%s", ee.msg);
	return e;
}

static void do_query(struct tm_service *s, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct tm_query_opts qo;
	struct tm_query_stats st;
	struct tm_live live;
	struct tm_expr *e;
	char err[1024];
	char *json = NULL;
	size_t jlen;
	FILE *jf;
	int have_live = 0;

	e = compile(s, rq->expr, TM_EXPR_ALLOW_TIME, c);
	if (!e)
		return;
	memset(&live, 0, sizeof(live));
	if (s->o.cap) {
		if (tm_capture_snapshot(s->o.cap, &live, 1000, err,
		    sizeof(err)) == 0)
			have_live = 1;
		else
			tm_ctl_note(c, "the capture's memory is not searched: "
			    "%s", err);
	}
	memset(&qo, 0, sizeof(qo));
	qo.root = s->o.store;
	qo.e = e;
	qo.pcap = rq->count_only ? NULL : tm_ctl_data_stream(c);
	qo.registry = query_registry;
	qo.registry_arg = s;
	qo.live = have_live ? &live : NULL;
	if (!rq->count_only && !qo.pcap) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	if (tm_query_run(&qo, &st, err, sizeof(err))) {
		tm_ctl_reply_err(c, "%s", err);
		goto out;
	}
	jf = open_memstream(&json, &jlen);
	if (!jf) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	fprintf(jf, "{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
	    ",\"captured\":%" PRIu64 ",\"live_packets\":%" PRIu64
	    ",\"segments\":%" PRIu64 ",\"live_segments\":%" PRIu64
	    ",\"searched\":%" PRIu64 ",\"skipped\":%" PRIu64
	    ",\"packets_read\":%" PRIu64 ",\"plan_ms\":%.3f"
	    ",\"total_ms\":%.3f}", st.packets, st.bytes, st.captured,
	    st.live_packets, st.segments, st.live_segments, st.searched,
	    st.skipped, st.packets_read, st.plan_ms, st.total_ms);
	if (fclose(jf) != 0 || !json)
		tm_ctl_reply_err(c, "out of memory");
	else
		tm_ctl_reply_ok(c, json);
out:
	free(json);
	tm_live_free(&live);
	tm_expr_free(e);
}

/* ---- dynamic cutoffs ------------------------------------------------------ */

struct rule_call {
	struct tm_expr *e;
	char *text;
	uint64_t cutoff;
	int64_t for_ns;
	uint32_t id;
	int64_t until;
};

static int add_rule(struct tm_service *s, void *arg)
{
	struct rule_call *r = arg;
	struct tm_rules *rs = tm_tracker_rules(s->o.trk);
	int64_t now = tm_tracker_clock(s->o.trk);

	if (now == INT64_MIN)
		now = wall_ns();
	r->id = tm_rules_add(rs, r->e, r->text, r->cutoff, now, r->for_ns);
	r->e = NULL;		/* taken, even when refused */
	r->text = NULL;
	if (!r->id)
		return -1;
	r->until = r->for_ns > 0 ? now + r->for_ns : INT64_MAX;
	return 0;
}

static int clear_rules(struct tm_service *s, void *arg)
{
	*(unsigned *)arg = tm_rules_clear(tm_tracker_rules(s->o.trk));
	return 0;
}

static void do_set_cutoff(struct tm_service *s, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct rule_call r;
	char json[256];
	int rc;

	memset(&r, 0, sizeof(r));
	r.e = compile(s, rq->expr, 0, c);
	if (!r.e)
		return;
	r.text = strdup(rq->expr);
	if (!r.text) {
		tm_expr_free(r.e);
		tm_ctl_reply_err(c, "out of memory");
		return;
	}
	r.cutoff = rq->cutoff;
	r.for_ns = rq->for_ns;
	rc = call(s, add_rule, &r);
	tm_expr_free(r.e);
	free(r.text);
	if (rc == -2) {
		tm_ctl_reply_err(c, "not capturing any more");
		return;
	}
	if (rc) {
		tm_ctl_reply_err(c, "too many cutoff rules (at most %d): "
		    "clear-cutoffs first", TM_MAX_RULES);
		return;
	}
	snprintf(json, sizeof(json), "{\"rule\":%" PRIu32, r.id);
	if (r.cutoff == TM_CUTOFF_NONE)
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
		    ",\"cutoff\":null");
	else
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
		    ",\"cutoff\":%" PRIu64, r.cutoff);
	if (r.until == INT64_MAX)
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
		    ",\"until_ns\":null}");
	else
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
		    ",\"until_ns\":%" PRId64 "}", r.until);
	tm_ctl_reply_ok(c, json);
}

/* ---- flush ------------------------------------------------------------------ */

static int flush_call(struct tm_service *s, void *arg)
{
	*(unsigned *)arg = tm_capture_flush(s->o.cap);
	return 0;
}

static void do_flush(struct tm_service *s, struct tm_ctl_conn *c)
{
	struct tm_live live;
	unsigned n = 0;
	char err[512], json[64];

	if (!s->o.cap) {
		tm_ctl_reply_ok(c, "{\"segments\":0}");
		return;
	}
	if (call(s, flush_call, &n) == -2) {
		tm_ctl_reply_err(c, "not capturing any more");
		return;
	}
	/* the writer has reached the ends of those segments when it
	 * answers a snapshot: they are published */
	if (tm_capture_snapshot(s->o.cap, &live, 1000, err, sizeof(err))) {
		tm_ctl_reply_err(c, "%s", err);
		return;
	}
	tm_live_free(&live);
	snprintf(json, sizeof(json), "{\"segments\":%u}", n);
	tm_ctl_reply_ok(c, json);
}

/* ---- stats ------------------------------------------------------------------ */

static int stats_call(struct tm_service *s, void *arg)
{
	struct tm_svc_stats *st = arg;

	tm_svc_stats_take(st, s->o.cap, s->o.trk, s->o.cnt, s->o.pcap,
	    s->classes);
	return 0;
}

static void do_stats(struct tm_service *s, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct tm_svc_stats *st = calloc(1, sizeof(*st));
	struct tm_svc_info info;
	char *out = NULL;
	int rc;

	if (!st) {
		tm_ctl_reply_err(c, "out of memory");
		return;
	}
	memset(&info, 0, sizeof(info));
	info.store = s->store_abs;
	info.source = s->o.source;
	info.conf_file = s->o.conf_file;
	info.uptime_ns = wall_ns() - s->started;
	info.reg = s->o.reg;
	info.capturing = 0;
	if (s->o.cap) {
		rc = call(s, stats_call, st);
		info.capturing = rc == 0;
	}
	if (!info.capturing && tm_svc_stats_store(st, s->o.store) != 0) {
		tm_ctl_reply_err(c, "%s: cannot read the store", s->o.store);
		free(st);
		return;
	}
	out = tm_svc_stats_format(st, &info, rq->json);
	if (!out)
		tm_ctl_reply_err(c, "out of memory");
	else
		tm_ctl_reply_ok(c, out);
	free(out);
	tm_svc_stats_free(st);
	free(st);
}

/* ---- the handler ----------------------------------------------------------- */

/* A capture whose reading thread still answers. */
static int capturing(struct tm_service *s)
{
	int k;

	pthread_mutex_lock(&s->mu);
	k = s->o.cap && !s->closed;
	pthread_mutex_unlock(&s->mu);
	return k;
}

static void handle(void *arg, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct tm_service *s = arg;
	char json[4400];
	unsigned n = 0;

	switch (rq->verb) {
	case TM_CTL_PING: {
		FILE *f = fmemopen(json, sizeof(json), "w");

		if (!f) {
			tm_ctl_reply_err(c, "out of memory");
			return;
		}
		fprintf(f, "{\"version\":1,\"capturing\":%s,\"store\":",
		    capturing(s) ? "true" : "false");
		tm_json_str(f, s->store_abs);
		fputc('}', f);
		fputc('\0', f);
		fclose(f);
		json[sizeof(json) - 1] = '\0';
		tm_ctl_reply_ok(c, json);
		return;
	}
	case TM_CTL_QUERY:
		do_query(s, rq, c);
		return;
	case TM_CTL_STATS:
		do_stats(s, rq, c);
		return;
	case TM_CTL_SET_CUTOFF:
		if (!s->o.cap) {
			tm_ctl_reply_err(c, "this service does not capture "
			    "(tm serve): no connections to cut");
			return;
		}
		do_set_cutoff(s, rq, c);
		return;
	case TM_CTL_CLEAR_CUTOFFS:
		if (!s->o.cap || call(s, clear_rules, &n) == -2) {
			tm_ctl_reply_err(c, "not capturing");
			return;
		}
		snprintf(json, sizeof(json), "{\"cleared\":%u}", n);
		tm_ctl_reply_ok(c, json);
		return;
	case TM_CTL_FLUSH:
		do_flush(s, c);
		return;
	}
	tm_ctl_reply_err(c, "unknown request");
}

/* ---- start, stop ------------------------------------------------------------ */

/* The token file's first line, read by the rules the clients use. */
static char *read_token(const char *file, char *err, size_t errlen)
{
	char tok[512];

	if (tm_ctl_token_load(file, tok, sizeof(tok), err, errlen) != 1)
		return NULL;
	return strdup(tok);
}

struct tm_service *tm_service_start(const struct tm_service_opts *o,
    char *err, size_t errlen)
{
	const struct tm_control_conf *cc = &o->cfg->control;
	struct tm_ctl_server_opts so;
	struct tm_service *s = calloc(1, sizeof(*s));
	char path[4200];
	char *token = NULL;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	s->classes = &o->cfg->classes;
	s->started = wall_ns();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->qmu, NULL);
	if (!realpath(o->store, s->store_abs))
		snprintf(s->store_abs, sizeof(s->store_abs), "%s", o->store);
	if (cc->socket_off && !cc->tcp) {
		snprintf(err, errlen, "control.socket is none and no "
		    "control.tcp: nothing to serve");
		goto fail;
	}
	if (!cc->socket)
		snprintf(path, sizeof(path), "%s/tm.sock", o->store);
	else if (cc->socket[0] == '/')
		snprintf(path, sizeof(path), "%s", cc->socket);
	else
		snprintf(path, sizeof(path), "%s/%s", o->store, cc->socket);
	if (cc->token_file) {
		token = read_token(cc->token_file, err, errlen);
		if (!token)
			goto fail;
	}
	memset(&so, 0, sizeof(so));
	so.unix_path = cc->socket_off ? NULL : path;
	if (!cc->socket_off)
		snprintf(s->sock, sizeof(s->sock), "%s", path);
	so.mode = cc->mode;
	so.group = cc->group;
	so.tcp_addr = cc->tcp;
	so.token = token;
	so.log = o->log;
	s->srv = tm_ctl_server_start(&so, handle, s, err, errlen);
	free(token);
	if (!s->srv)
		goto fail;
	return s;
fail:
	tm_service_stop(s);
	return NULL;
}

const char *tm_service_socket(const struct tm_service *s)
{
	return s && s->sock[0] ? s->sock : NULL;
}

void tm_service_stop(struct tm_service *s)
{
	if (!s)
		return;
	tm_service_close(s);
	if (s->srv)
		tm_ctl_server_stop(s->srv);
	if (s->qreg) {
		tm_cli_teardown(s->qreg);
		free(s->qreg);
	}
	tm_ndpi_free(s->ndpi);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->qmu);
	free(s);
}
