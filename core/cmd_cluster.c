/*
 * `tm query --cluster CLUSTER.conf [-w FILE] [--count] [-v] EXPR` and
 * `tm query --node ADDR --node ADDR ... EXPR`: asks several capture
 * services at once (routing by the cluster file's networks and vlans),
 * merges their pcap answers by time into one pcap (core/cluster_query.c),
 * and says which nodes are missing: a partial answer exits 3.
 * docs/deployment.md describes the cluster file.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cluster.h"
#include "cluster_query.h"
#include "cmd_cluster.h"
#include "commands.h"
#include "ctl_client.h"
#include "../query/expr.h"

/* ---- shared with tm frontend ---------------------------------------------------- */

void tm_cl_label(char *buf, size_t len, const char *name, const char *address)
{
	if (strcmp(name, address) == 0)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s (%s)", name, address);
}

int tm_cl_tokens(const struct tm_cluster *c, const char *fallback_file,
    char ***toks, char *err, size_t errlen)
{
	char tok[TM_CTL_TOKEN_MAX + 1], e[512];
	char **t = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*t));
	int fb = -2;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->n_nodes; i++) {
		const char *file = c->nodes[i].token_file;
		int k;

		if (!file && fb == 0)
			continue;	/* no fallback token */
		k = tm_ctl_token_load(file ? file : fallback_file, tok,
		    sizeof(tok), e, sizeof(e));
		if (!file)
			fb = k;
		if (k < 0) {
			snprintf(err, errlen, "node %s: %s", c->nodes[i].name,
			    e);
			tm_cl_tokens_free(t, c->n_nodes);
			return -1;
		}
		if (k > 0) {
			t[i] = strdup(tok);
			memset(tok, 0, sizeof(tok));
			if (!t[i]) {
				snprintf(err, errlen, "out of memory");
				tm_cl_tokens_free(t, c->n_nodes);
				return -1;
			}
		}
	}
	*toks = t;
	return 0;
}

void tm_cl_tokens_free(char **toks, size_t n)
{
	if (!toks)
		return;
	for (size_t i = 0; i < n; i++)
		if (toks[i]) {
			memset(toks[i], 0, strlen(toks[i]));
			free(toks[i]);
		}
	free(toks);
}

int tm_cl_plan_query(const struct tm_cluster *c, const char *text,
    struct tm_cl_plan *p, char *err, size_t errlen)
{
	struct tm_expr_opts eo;
	struct tm_expr_error ee;
	struct tm_expr *e;
	int64_t from, until;
	int rc = -2;

	memset(p, 0, sizeof(*p));
	memset(&eo, 0, sizeof(eo));
	eo.flags = TM_EXPR_ALLOW_TIME;
	e = tm_expr_compile(text, &eo, &ee);
	if (!e) {
		snprintf(err, errlen, "%s", ee.msg);
		return -1;
	}
	tm_expr_time_range(e, &from, &until);
	if (from >= until) {
		snprintf(err, errlen, "the time range is empty: the time "
		    "predicates exclude each other");
		tm_expr_free(e);
		return -1;
	}
	p->ask = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*p->ask));
	p->why = calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*p->why));
	if (!p->ask || !p->why)
		goto nomem;
	if (tm_expr_uses_time(e)) {
		size_t n = tm_expr_format(e, NULL, 0);

		if (n < TM_CTL_LINE_MAX - 64) {
			p->send = malloc(n + 1);
			if (!p->send)
				goto nomem;
			tm_expr_format(e, p->send, n + 1);
		}
	}
	if (!p->send && !(p->send = strdup(text)))
		goto nomem;
	for (size_t i = 0; i < c->n_nodes; i++) {
		p->ask[i] = tm_cluster_may_hold(&c->nodes[i], e, p->why[i],
		    sizeof(p->why[i]));
		p->n_ask += (size_t)p->ask[i];
	}
	tm_expr_free(e);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	tm_expr_free(e);
	tm_cl_plan_free(p);
	return rc;
}

void tm_cl_plan_free(struct tm_cl_plan *p)
{
	free(p->send);
	free(p->ask);
	free(p->why);
	memset(p, 0, sizeof(*p));
}

/* ---- tm query --cluster / --node ------------------------------------------------ */

int tm_query_cluster_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--cluster") == 0 ||
		    strncmp(argv[i], "--cluster=", 10) == 0 ||
		    strcmp(argv[i], "--node") == 0 ||
		    strncmp(argv[i], "--node=", 7) == 0)
			return 1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm query --cluster CLUSTER.conf [-w FILE] [--count] [-v] "
	    "EXPR\n"
	    "       tm query --node ADDR [--node ADDR ...] [-w FILE] [--count] "
	    "EXPR\n"
	    "Asks several running tm services at once and writes their\n"
	    "packets, merged by time, as one pcap (nanosecond timestamps).\n"
	    "With --cluster, only the nodes whose networks and vlans can hold\n"
	    "matching packets are asked (docs/deployment.md); --node names an\n"
	    "ad-hoc cluster whose every node is asked.\n"
	    "  --cluster FILE      the cluster file (nodes:, timeout:)\n"
	    "  --node ADDR         a node (repeat): a store directory, a socket\n"
	    "                      path, unix:PATH, tcp:HOST:PORT or HOST:PORT\n"
	    "  -w FILE             write the pcap to FILE ('-': standard output)\n"
	    "  --count             print the matching packets and bytes\n"
	    "  --token-file FILE   the token of nodes without their own\n"
	    "                      token_file (default: $TM_TOKEN)\n"
	    "  --timeout SECONDS   give a node up after this long without a\n"
	    "                      byte (default: the cluster's timeout, 10 s)\n"
	    "  -v, --verbose       which nodes are asked and why others are\n"
	    "                      not; what each answered\n"
	    "A node that cannot be reached, answers an error or stays silent\n"
	    "is named on standard error ('partial answer: ...'); the others'\n"
	    "packets are still written and the exit status is 3.\n");
}

struct cli_notes {
	const struct tm_cq_target *t;
};

static void cli_note(void *arg, size_t node, const char *text)
{
	struct cli_notes *cn = arg;

	fprintf(stderr, "tm: %s: %s\n", cn->t[node].name, text);
}

int tm_cmd_query_cluster(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cluster", required_argument, NULL, 0x3000 },
		{ "node", required_argument, NULL, 0x3001 },
		{ "token-file", required_argument, NULL, 0x3002 },
		{ "timeout", required_argument, NULL, 0x3003 },
		{ "count", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = NULL, *wfile = NULL, *token_file = NULL;
	const char **addrs = NULL;
	size_t n_addrs = 0;
	int count = 0, verbose = 0, timeout_ms = -1, opt, rc = 2, orc;
	struct tm_cluster cl;
	struct tm_cl_plan plan;
	struct tm_cq_target *t = NULL;
	struct tm_cq_node *res = NULL;
	struct tm_cq_summary sum;
	struct tm_ctl_req req;
	struct cli_notes cn;
	struct tm_cq_opts o;
	size_t n = 0;
	char **toks = NULL, *text = NULL, err[1024];
	FILE *out = NULL;

	memset(&cl, 0, sizeof(cl));
	memset(&plan, 0, sizeof(plan));
	addrs = calloc((size_t)argc + 1, sizeof(*addrs));
	if (!addrs) {
		fprintf(stderr, "tm: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			free(addrs);
			return 0;
		}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "w:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 0x3000:
			if (cfile) {
				fprintf(stderr, "tm: query: --cluster is given "
				    "twice\n");
				goto out;
			}
			cfile = optarg;
			break;
		case 0x3001: addrs[n_addrs++] = optarg; break;
		case 0x3002: token_file = optarg; break;
		case 0x3003:
			if (tm_ctl_parse_timeout(optarg, &timeout_ms)) {
				fprintf(stderr, "tm: query: --timeout: '%s' is "
				    "not a number of seconds or a duration\n",
				    optarg);
				goto out;
			}
			break;
		case 'w': wfile = optarg; break;
		case 'C': count = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default:
			fprintf(stderr, "tm: query: with --cluster or --node "
			    "the options are -w, --count, --token-file, "
			    "--timeout and -v (-s, --connect, --explain and "
			    "plugin options do not apply)\n");
			usage(stderr);
			goto out;
		}
	}
	if (cfile && n_addrs) {
		fprintf(stderr, "tm: query: --cluster FILE or --node ADDR ...: "
		    "one or the other\n");
		goto out;
	}
	if (cfile ? tm_cluster_load(&cl, cfile, err, sizeof(err)) :
	    tm_cluster_adhoc(&cl, addrs, n_addrs, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		goto out;
	}
	if (timeout_ms < 0)
		timeout_ms = cl.timeout_ms;
	text = tm_cli_join(argc - optind, argv + optind);
	if (!text) {
		fprintf(stderr, "tm: out of memory\n");
		rc = 1;
		goto out;
	}
	switch (tm_cl_plan_query(&cl, text, &plan, err, sizeof(err))) {
	case 0: break;
	case -1: fprintf(stderr, "tm: %s\n", err); goto out;
	default: fprintf(stderr, "tm: %s\n", err); rc = 1; goto out;
	}
	if (tm_cl_tokens(&cl, token_file, &toks, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
		goto out;
	}
	if ((orc = tm_cli_pcap_out(wfile, !count, &out)) != 0) {
		rc = orc;
		goto out;
	}
	rc = 1;
	t = calloc(cl.n_nodes, sizeof(*t));
	res = calloc(cl.n_nodes, sizeof(*res));
	if (!t || !res) {
		fprintf(stderr, "tm: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < cl.n_nodes; i++) {
		if (!plan.ask[i]) {
			if (verbose)
				fprintf(stderr, "tm: cluster: skipping %s: "
				    "%s\n", cl.nodes[i].name, plan.why[i]);
			continue;
		}
		t[n].name = cl.nodes[i].name;
		t[n].address = cl.nodes[i].address;
		t[n++].token = toks[i];
	}
	if (verbose) {
		fprintf(stderr, "tm: cluster: asking %zu of %zu nodes%s",
		    n, cl.n_nodes, n ? ":" : "");
		for (size_t k = 0; k < n; k++)
			fprintf(stderr, " %s", t[k].name);
		fputc('\n', stderr);
	}
	memset(&req, 0, sizeof(req));
	req.verb = TM_CTL_QUERY;
	req.count_only = count && !wfile;
	req.expr = plan.send;
	cn.t = t;
	memset(&o, 0, sizeof(o));
	o.t = t;
	o.n = n;
	o.req = &req;
	o.pcap = req.count_only ? NULL : out;
	o.timeout_ms = timeout_ms;
	o.note = cli_note;
	o.note_arg = &cn;
	if (tm_cq_run(&o, res, &sum, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		goto out;
	}
	if (req.count_only)
		for (size_t k = 0; k < n; k++) {
			uint64_t p, b;

			if (!res[k].ok)
				continue;
			if (tm_ctl_json_u64(res[k].json, "packets", &p) ||
			    tm_ctl_json_u64(res[k].json, "bytes", &b)) {
				res[k].ok = 0;
				snprintf(res[k].why, sizeof(res[k].why),
				    "protocol error: the answer has no packet "
				    "and byte counts");
				sum.failed++;
				continue;
			}
			res[k].packets = p;
			res[k].bytes = b;
			sum.packets += p;
			sum.bytes += b;
		}
	if (verbose)
		for (size_t k = 0; k < n; k++)
			if (res[k].ok)
				fprintf(stderr, "tm: cluster: %s: %" PRIu64
				    " packets, %" PRIu64 " bytes, %.1f ms\n",
				    t[k].name, res[k].packets, res[k].bytes,
				    res[k].ms);
	if (n && sum.failed == n) {
		fprintf(stderr, "tm: no node answered:\n");
		for (size_t k = 0; k < n; k++) {
			char lb[4400];

			tm_cl_label(lb, sizeof(lb), t[k].name, t[k].address);
			fprintf(stderr, "tm: %s: %s\n", lb, res[k].why);
		}
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		if (!res[k].ok) {
			char lb[4400];

			tm_cl_label(lb, sizeof(lb), t[k].name, t[k].address);
			fprintf(stderr, "tm: partial answer: node %s is "
			    "missing: %s\n", lb, res[k].why);
		}
	if (count)
		fprintf(out == stdout ? stderr : stdout, "%" PRIu64
		    " packets, %" PRIu64 " bytes\n", sum.packets, sum.bytes);
	rc = sum.failed ? TM_EXIT_PARTIAL : 0;
out:
	if (out && out != stdout && fclose(out) != 0 && rc != 1 && rc != 2) {
		perror("tm: writing");
		rc = 1;
	}
	if (out == stdout && fflush(stdout) != 0 && rc != 1 && rc != 2) {
		perror("tm: writing");
		rc = 1;
	}
	if (res)
		tm_cq_nodes_free(res, n);
	free(res);
	free(t);
	tm_cl_tokens_free(toks, cl.n_nodes);
	tm_cl_plan_free(&plan);
	tm_cluster_free(&cl);
	free(text);
	free(addrs);
	return rc;
}
