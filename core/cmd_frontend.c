/*
 * `tm frontend -c CLUSTER.conf [-v]`: a query front-end for several capture
 * services. It answers the control protocol (docs/control-protocol.md) on
 * the cluster file's listen: socket, so every client of a single service
 * works against a cluster:
 *
 *   query pcap|count   routed (cluster.h) and merged by time
 *                      (cluster_query.h); a partial answer sends an N
 *                      frame per missing node ("partial answer: ...")
 *                      before K, whose object has "partial": true and
 *                      "missing": [names]
 *   ping               the front-end and every node's state
 *   stats json|text    each node's statistics, per node
 *   flush, set-cutoff, clear-cutoffs
 *                      forwarded to every node; the answer lists each
 *                      node's result
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "cluster_query.h"
#include "cmd_cluster.h"
#include "commands.h"
#include "ctl_client.h"
#include "ctl_server.h"

struct fe {
	struct tm_cluster cl;
	char **toks;
	int verbose;
	pthread_mutex_t logmu;
};

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm frontend -c CLUSTER.conf [-v]\n"
	    "Answers the control protocol for a cluster of tm services until\n"
	    "SIGINT or SIGTERM, on the cluster file's listen: socket:\n"
	    "  tm query --connect /run/tm/front.sock 'host 10.0.0.5' | "
	    "tcpdump -r -\n"
	    "Queries go to the nodes that can hold matching packets; their\n"
	    "answers are merged by time. ping, stats, flush, set-cutoff and\n"
	    "clear-cutoffs reach every node. docs/deployment.md describes the\n"
	    "cluster file.\n"
	    "  -c FILE             the cluster file (nodes:, timeout:, listen:)\n"
	    "  -v                  log every request and its routing\n");
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

__attribute__((format(printf, 2, 3)))
static void fe_log(struct fe *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->logmu);
	fputs("tm: frontend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&f->logmu);
}

struct fe_call {
	struct tm_ctl_conn *c;
	const struct tm_cq_target *t;
};

static void fe_note(void *arg, size_t node, const char *text)
{
	struct fe_call *fc = arg;

	tm_ctl_note(fc->c, "%s: %s", fc->t[node].name, text);
}

/* A short description of a request, for the log. */
static void req_text(const struct tm_ctl_req *r, char *buf, size_t len)
{
	static const char *const verbs[] = { "ping", "query", "stats",
		"set-cutoff", "clear-cutoffs", "flush" };

	snprintf(buf, len, "%s%s%s%.200s%s", verbs[r->verb],
	    r->verb == TM_CTL_QUERY ? (r->count_only ? " count" : " pcap") :
	    r->verb == TM_CTL_STATS ? (r->json ? " json" : " text") : "",
	    r->expr && *r->expr ? " '" : "", r->expr ? r->expr : "",
	    r->expr && *r->expr ? "'" : "");
}

/* "partial": true/false and "missing": [...], and the notes and log
 * lines that go with them. */
static void put_partial(struct fe *f, FILE *j, struct tm_ctl_conn *c,
    const struct tm_ctl_req *rq, const struct tm_cq_target *t,
    const struct tm_cq_node *res, size_t n, size_t failed)
{
	char what[300], lb[4400];
	int first = 1;

	fprintf(j, ",\"partial\":%s,\"missing\":[", failed ? "true" :
	    "false");
	if (failed)
		req_text(rq, what, sizeof(what));
	for (size_t k = 0; k < n; k++) {
		if (res[k].ok)
			continue;
		if (!first)
			fputc(',', j);
		first = 0;
		tm_cq_json_string(j, t[k].name);
		tm_cl_label(lb, sizeof(lb), t[k].name, t[k].address);
		tm_ctl_note(c, "partial answer: node %s is missing: %s", lb,
		    res[k].why);
		fe_log(f, "%s: partial answer: node %s is missing: %s", what,
		    lb, res[k].why);
	}
	fputc(']', j);
}

/* The E answer when no node answered. */
static void reply_none(struct tm_ctl_conn *c, const struct tm_cq_target *t,
    const struct tm_cq_node *res, size_t n)
{
	char msg[4096];
	size_t o = 0;

	o += (size_t)snprintf(msg, sizeof(msg), "no node answered");
	for (size_t k = 0; k < n && o < sizeof(msg) - 1; k++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s %s: %s",
		    k ? ";" : ":", t[k].name, res[k].why);
	tm_ctl_reply_err(c, "%s", msg);
}

static uint64_t sum_key(const struct tm_cq_node *res, size_t n,
    const char *key)
{
	uint64_t s = 0, v;

	for (size_t k = 0; k < n; k++)
		if (res[k].ok && tm_ctl_json_u64(res[k].json, key, &v) == 0)
			s += v;
	return s;
}

static void fe_query(struct fe *f, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct tm_cl_plan plan;
	struct tm_cq_target *t = NULL;
	struct tm_cq_node *res = NULL;
	struct tm_cq_summary sum;
	struct tm_cq_opts o;
	struct tm_ctl_req req;
	struct fe_call fc;
	char err[1024], *json = NULL;
	size_t n = 0, jlen;
	int first;
	FILE *j;

	switch (tm_cl_plan_query(&f->cl, rq->expr, &plan, err, sizeof(err))) {
	case 0: break;
	case -1: tm_ctl_reply_err(c, "%s", err); return;
	default: tm_ctl_reply_err(c, "out of memory"); return;
	}
	t = calloc(f->cl.n_nodes, sizeof(*t));
	res = calloc(f->cl.n_nodes, sizeof(*res));
	if (!t || !res) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->cl.n_nodes; i++)
		if (plan.ask[i]) {
			t[n].name = f->cl.nodes[i].name;
			t[n].address = f->cl.nodes[i].address;
			t[n++].token = f->toks[i];
		}
	if (f->verbose) {
		char what[300];

		req_text(rq, what, sizeof(what));
		fe_log(f, "%s: asking %zu of %zu nodes", what, n,
		    f->cl.n_nodes);
		for (size_t i = 0; i < f->cl.n_nodes; i++)
			if (!plan.ask[i])
				fe_log(f, "%s: skipping %s: %s", what,
				    f->cl.nodes[i].name, plan.why[i]);
	}
	req = *rq;
	req.expr = plan.send;
	fc.c = c;
	fc.t = t;
	memset(&o, 0, sizeof(o));
	o.t = t;
	o.n = n;
	o.req = &req;
	o.pcap = rq->count_only ? NULL : tm_ctl_data_stream(c);
	o.timeout_ms = f->cl.timeout_ms;
	o.note = fe_note;
	o.note_arg = &fc;
	if (!rq->count_only && !o.pcap) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	if (tm_cq_run(&o, res, &sum, err, sizeof(err))) {
		tm_ctl_reply_err(c, "%s", err);
		goto out;
	}
	if (n && sum.failed == n) {
		reply_none(c, t, res, n);
		goto out;
	}
	if (rq->count_only) {
		sum.packets = sum_key(res, n, "packets");
		sum.bytes = sum_key(res, n, "bytes");
		sum.captured = sum_key(res, n, "captured");
	}
	j = open_memstream(&json, &jlen);
	if (!j) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	fprintf(j, "{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
	    ",\"captured\":%" PRIu64 ",\"live_packets\":%" PRIu64
	    ",\"segments\":%" PRIu64 ",\"searched\":%" PRIu64
	    ",\"nodes\":%zu,\"asked\":[", sum.packets, sum.bytes, sum.captured,
	    sum_key(res, n, "live_packets"), sum_key(res, n, "segments"),
	    sum_key(res, n, "searched"), n);
	for (size_t k = 0; k < n; k++) {
		if (k)
			fputc(',', j);
		tm_cq_json_string(j, t[k].name);
	}
	fputs("],\"skipped\":[", j);
	first = 1;
	for (size_t i = 0; i < f->cl.n_nodes; i++)
		if (!plan.ask[i]) {
			if (!first)
				fputc(',', j);
			first = 0;
			tm_cq_json_string(j, f->cl.nodes[i].name);
		}
	fputc(']', j);
	put_partial(f, j, c, rq, t, res, n, sum.failed);
	fputc('}', j);
	if (fclose(j) != 0 || !json)
		tm_ctl_reply_err(c, "out of memory");
	else
		tm_ctl_reply_ok(c, json);
out:
	free(json);
	if (res)
		tm_cq_nodes_free(res, n);
	free(res);
	free(t);
	tm_cl_plan_free(&plan);
}

/* "text" of a node's stats text answer, each line indented. */
static void put_node_text(FILE *tx, const char *json)
{
	size_t n = strlen(json) + 1;
	char *s = malloc(n);

	if (!s || tm_ctl_json_string(json, "text", s, n) < 0) {
		fputs("  (no text in its answer)\n", tx);
		free(s);
		return;
	}
	for (char *p = s, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			fprintf(tx, "  %s\n", p);
			break;
		}
		fprintf(tx, "  %.*s\n", (int)(nl - p), p);
	}
	free(s);
}

/* ping, stats, flush, set-cutoff, clear-cutoffs: to every node. */
static void fe_forward(struct fe *f, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	size_t n = f->cl.n_nodes, up = 0;
	struct tm_cq_target *t = calloc(n, sizeof(*t));
	struct tm_cq_node *res = calloc(n, sizeof(*res));
	struct tm_cq_summary sum;
	struct tm_cq_opts o;
	struct fe_call fc;
	char err[1024], *json = NULL, *text = NULL;
	size_t jlen, tlen;
	int capturing = 0;
	FILE *j = NULL;

	if (!t || !res) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].name = f->cl.nodes[i].name;
		t[i].address = f->cl.nodes[i].address;
		t[i].token = f->toks[i];
	}
	if (f->verbose) {
		char what[300];

		req_text(rq, what, sizeof(what));
		fe_log(f, "%s: to %zu nodes", what, n);
	}
	fc.c = c;
	fc.t = t;
	memset(&o, 0, sizeof(o));
	o.t = t;
	o.n = n;
	o.req = rq;
	o.timeout_ms = f->cl.timeout_ms;
	o.note = fe_note;
	o.note_arg = &fc;
	if (tm_cq_run(&o, res, &sum, err, sizeof(err))) {
		tm_ctl_reply_err(c, "%s", err);
		goto out;
	}
	if (sum.failed == n && rq->verb != TM_CTL_PING) {
		reply_none(c, t, res, n);
		goto out;
	}
	if (rq->verb == TM_CTL_STATS && !rq->json) {
		FILE *tx = open_memstream(&text, &tlen);

		if (!tx) {
			tm_ctl_reply_err(c, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < n; k++) {
			char lb[4400];

			tm_cl_label(lb, sizeof(lb), t[k].name, t[k].address);
			fprintf(tx, "%snode %s", k ? "\n" : "", lb);
			if (res[k].ok) {
				fputs(":\n", tx);
				put_node_text(tx, res[k].json);
			} else {
				fprintf(tx, ": missing: %s\n", res[k].why);
			}
		}
		if (fclose(tx) != 0 || !text) {
			tm_ctl_reply_err(c, "out of memory");
			goto out;
		}
	}
	j = open_memstream(&json, &jlen);
	if (!j) {
		tm_ctl_reply_err(c, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		int b;

		if (!res[k].ok)
			continue;
		up++;
		if (tm_ctl_json_bool(res[k].json, "capturing", &b) == 0 && b)
			capturing = 1;
	}
	fputc('{', j);
	switch (rq->verb) {
	case TM_CTL_PING:
		fprintf(j, "\"version\":%d,\"capturing\":%s,\"store\":",
		    TM_CTL_VERSION, capturing ? "true" : "false");
		{
			char s[600];

			snprintf(s, sizeof(s), "front-end of %s: %zu of %zu "
			    "nodes up", f->cl.file, up, n);
			tm_cq_json_string(j, s);
		}
		fprintf(j, ",\"frontend\":true,\"up\":%zu,", up);
		break;
	case TM_CTL_STATS:
		if (!rq->json) {
			fputs("\"text\":", j);
			tm_cq_json_string(j, text);
			fputc(',', j);
		} else {
			fputs("\"frontend\":true,", j);
		}
		break;
	case TM_CTL_FLUSH:
		fprintf(j, "\"segments\":%" PRIu64 ",",
		    sum_key(res, n, "segments"));
		break;
	case TM_CTL_CLEAR_CUTOFFS:
		fprintf(j, "\"cleared\":%" PRIu64 ",",
		    sum_key(res, n, "cleared"));
		break;
	default:
		break;
	}
	fputs("\"nodes\":[", j);
	for (size_t k = 0; k < n; k++) {
		fprintf(j, "%s{\"name\":", k ? "," : "");
		tm_cq_json_string(j, t[k].name);
		fputs(",\"address\":", j);
		tm_cq_json_string(j, t[k].address);
		if (rq->verb == TM_CTL_PING)
			fprintf(j, ",\"up\":%s", res[k].ok ? "true" : "false");
		if (res[k].ok) {
			fprintf(j, ",\"%s\":%s", rq->verb == TM_CTL_STATS &&
			    rq->json ? "stats" : "answer", res[k].json);
		} else {
			fputs(",\"error\":", j);
			tm_cq_json_string(j, res[k].why);
		}
		fprintf(j, ",\"ms\":%.3f}", res[k].ms);
	}
	fputc(']', j);
	if (rq->verb != TM_CTL_PING)
		put_partial(f, j, c, rq, t, res, n, sum.failed);
	fputc('}', j);
	if (fclose(j) != 0 || !json)
		tm_ctl_reply_err(c, "out of memory");
	else
		tm_ctl_reply_ok(c, json);
out:
	free(json);
	free(text);
	if (res)
		tm_cq_nodes_free(res, n);
	free(res);
	free(t);
}

static void handler(void *arg, const struct tm_ctl_req *rq,
    struct tm_ctl_conn *c)
{
	struct fe *f = arg;

	if (rq->verb == TM_CTL_QUERY)
		fe_query(f, rq, c);
	else
		fe_forward(f, rq, c);
}

int tm_cmd_frontend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct tm_ctl_server_opts so;
	struct tm_ctl_server *srv;
	char err[1024], tok[TM_CTL_TOKEN_MAX + 1];
	const char *cfile = NULL;
	struct sigaction sa;
	sigset_t set, old;
	struct fe f;
	int opt, rc = 1, has_tok = 0;

	memset(&f, 0, sizeof(f));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfile = optarg; break;
		case 'v': f.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cfile || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (tm_cluster_load(&f.cl, cfile, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		return 2;
	}
	if (!f.cl.has_listen) {
		fprintf(stderr, "tm: %s: tm frontend needs a listen: section "
		    "(socket, tcp)\n", cfile);
		tm_cluster_free(&f.cl);
		return 2;
	}
	if (tm_cl_tokens(&f.cl, NULL, &f.toks, err, sizeof(err)))
		goto out;
	if (f.cl.listen.tcp) {
		has_tok = tm_ctl_token_load(f.cl.listen.token_file, tok,
		    sizeof(tok), err, sizeof(err));
		if (has_tok < 0)
			goto out;
	}
	pthread_mutex_init(&f.logmu, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	memset(&so, 0, sizeof(so));
	so.unix_path = f.cl.listen.socket;
	so.mode = f.cl.listen.mode;
	so.group = f.cl.listen.group;
	so.tcp_addr = f.cl.listen.tcp;
	so.token = has_tok > 0 ? tok : NULL;
	so.log = stderr;
	srv = tm_ctl_server_start(&so, handler, &f, err, sizeof(err));
	memset(tok, 0, sizeof(tok));
	if (!srv) {
		fprintf(stderr, "tm: listen: %s\n", err);
		pthread_mutex_destroy(&f.logmu);
		tm_cl_tokens_free(f.toks, f.cl.n_nodes);
		tm_cluster_free(&f.cl);
		return 1;
	}
	fprintf(stderr, "tm: front-end of %zu node%s on %s%s%s\n",
	    f.cl.n_nodes, f.cl.n_nodes == 1 ? "" : "s",
	    f.cl.listen.socket ? f.cl.listen.socket : "",
	    f.cl.listen.socket && f.cl.listen.tcp ? " and " : "",
	    f.cl.listen.tcp ? f.cl.listen.tcp : "");
	while (!g_stop)
		sigsuspend(&old);
	tm_ctl_server_stop(srv);
	pthread_mutex_destroy(&f.logmu);
	rc = 0;
	tm_cl_tokens_free(f.toks, f.cl.n_nodes);
	tm_cluster_free(&f.cl);
	return rc;
out:
	fprintf(stderr, "tm: %s\n", err);
	tm_cl_tokens_free(f.toks, f.cl.n_nodes);
	tm_cluster_free(&f.cl);
	return rc;
}
