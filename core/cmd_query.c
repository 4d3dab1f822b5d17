/*
 * `tm query -s STORE [-w FILE] [--count] [--explain] EXPR`: the packets of
 * a store that EXPR selects, in time order, as classic pcap (nanosecond
 * timestamps). query/plan.c decides from the sidecars which connections
 * to read, query/exec.c reads and merges them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "../query/exec.h"
#include "../query/expr.h"
#include "../query/expr_walk.h"
#include "ctl_client.h"
#include "ndpi_glue.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm query -s STORE [-w FILE] [--count] [--explain] EXPR\n"
	    "       tm query --connect ADDR [-w FILE] [--count] EXPR\n"
	    "       tm query --cluster CLUSTER.conf | --node ADDR ... [-w FILE] "
	    "[--count] EXPR\n"
	    "       (several services at once: tm query --cluster --help)\n"
	    "Writes the packets of STORE that EXPR selects, in time order, as\n"
	    "pcap (nanosecond timestamps) to standard output or FILE:\n"
	    "  tm query -s STORE 'host 10.0.0.5 and last 1h' | tcpdump -r -\n"
	    "With --connect, a running tm (tm capture -i, tm serve) answers,\n"
	    "packets still in its memory included; the pcap comes over the\n"
	    "socket and this command writes it.\n"
	    "EXPR is the expression language (docs/query-language.md) with\n"
	    "time bounds: after TIME, before TIME (RFC 3339, Unix seconds,\n"
	    "'10m ago', 'now') and last DURATION; no EXPR selects everything.\n"
	    "  -s STORE            the store (tm capture -s STORE)\n"
	    "  -w FILE             write the pcap to FILE ('-': standard output)\n"
	    "  --count             print the matching packets and bytes\n"
	    "  --explain           print the plan: segments pruned and read,\n"
	    "                      candidate connections, packets read\n"
	    "  (with --count or --explain, no pcap is written unless -w)\n"
	    "  --connect ADDR      ask a running tm: a store directory (its\n"
	    "                      tm.sock), a socket path, unix:PATH,\n"
	    "                      tcp:HOST:PORT or HOST:PORT\n"
	    "  --token-file FILE   with --connect: the token on FILE's first\n"
	    "                      line (TCP needs one; default: $TM_TOKEN)\n"
	    "  --timeout SECONDS   with --connect: give up after this long\n"
	    "                      without a byte (default: wait)\n"
	    TM_CLI_PLUGIN_HELP);
}

struct lazy {
	struct tm_cli_plugins *plug;
	struct tm_registry *reg;
	struct tm_ndpi *ndpi;
	int failed, ndpi_failed;
};

static const struct tm_registry *get_registry(void *arg)
{
	struct lazy *l = arg;

	if (l->reg || l->failed)
		return l->reg;
	l->reg = malloc(sizeof(*l->reg));
	if (!l->reg || tm_cli_setup(l->reg, l->plug, 0)) {
		free(l->reg);
		l->reg = NULL;
		l->failed = 1;
	}
	return l->reg;
}

/* `app NAME` names are checked against nDPI's: a name nDPI does not know
 * can match nothing, and is most likely a typo. */
static int app_check(const char *name, void *arg)
{
	struct lazy *l = arg;
	char err[256];

	if (!l->ndpi && !l->ndpi_failed) {
		l->ndpi = tm_ndpi_new(1, 0, err, sizeof(err));
		if (!l->ndpi)
			l->ndpi_failed = 1;
	}
	if (!l->ndpi)
		return 0;
	return tm_ndpi_known(l->ndpi, name);
}

static void fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (ns == INT64_MIN || ns == INT64_MAX) {
		snprintf(buf, len, ns == INT64_MIN ? "-inf" : "+inf");
		return;
	}
	if (frac < 0) {
		frac += 1000000000;
		s--;
	}
	gmtime_r(&s, &tm);
	if (frac)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, frac);
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
}

/* The largest `after` and smallest `before` and-ed at the top. */
static void and_bounds(const struct tm_expr *e, uint32_t id, int64_t *after,
    int64_t *before)
{
	struct tm_xnode x;

	tm_expr_node(e, id, &x);
	if (x.kind == TM_X_AND)
		for (uint32_t k = 0; k < x.n_kids; k++)
			and_bounds(e, tm_expr_kid(e, id, k), after, before);
	else if (x.kind == TM_X_AFTER && x.ts > *after)
		*after = x.ts;
	else if (x.kind == TM_X_BEFORE && x.ts < *before)
		*before = x.ts;
}

/* The packet and byte counts out of a query's K answer, printed as the
 * local --count prints them. */
static int remote_count(const char *addr, const char *json, FILE *to)
{
	uint64_t packets, bytes;

	if (tm_ctl_json_u64(json, "packets", &packets) ||
	    tm_ctl_json_u64(json, "bytes", &bytes)) {
		fprintf(stderr, "tm: %s: protocol error: the answer has no "
		    "packet and byte counts\n", addr);
		return 1;
	}
	fprintf(to, "%" PRIu64 " packets, %" PRIu64 " bytes\n", packets,
	    bytes);
	return 0;
}

/* tm query --connect ADDR: the service answers, this writes. */
static int query_remote(const char *addr, const char *token_file,
    int timeout_ms, const char *wfile, int count, int argc, char **argv)
{
	char token[TM_CTL_TOKEN_MAX + 1], err[1024], *text, *line = NULL;
	struct tm_ctl_req req;
	struct tm_ctl_answer a;
	FILE *out = NULL;
	int rc = 2, has_token, k;

	text = tm_cli_join(argc, argv);
	line = malloc(TM_CTL_LINE_MAX + 1);
	if (!text || !line) {
		fprintf(stderr, "tm: out of memory\n");
		rc = 1;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.verb = TM_CTL_QUERY;
	req.count_only = count && !wfile;
	req.expr = text;
	if (tm_ctl_format_request(&req, line, TM_CTL_LINE_MAX + 1) < 0) {
		fprintf(stderr, "tm: query: the expression has a control "
		    "character or is longer than a request line (%d bytes)\n",
		    TM_CTL_LINE_MAX);
		goto out;
	}
	has_token = tm_ctl_token_load(token_file, token, sizeof(token), err,
	    sizeof(err));
	if (has_token < 0) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
		goto out;
	}
	if ((k = tm_cli_pcap_out(wfile, !count, &out)) != 0) {
		rc = k;
		goto out;
	}
	rc = 1;
	if (tm_ctl_call(addr, has_token > 0 ? token : NULL, &req, out, stderr,
	    timeout_ms, &a, err, sizeof(err))) {
		fprintf(stderr, "tm: %s: %s\n", addr, err);
		goto out;
	}
	if (a.type == TM_CTL_FRAME_ERR)
		fprintf(stderr, "tm: %s: %s\n", addr, a.payload);
	else if (!count)
		rc = 0;
	else
		rc = remote_count(addr, a.payload,
		    out == stdout ? stderr : stdout);
	if (rc == 0 && a.type != TM_CTL_FRAME_ERR) {
		int partial = 0;

		/* a front-end (tm frontend) missed a node: its notices went
		 * to standard error; the status says so, as tm query
		 * --cluster's does */
		if (tm_ctl_json_bool(a.payload, "partial", &partial) == 0 &&
		    partial) {
			fprintf(stderr, "tm: %s: partial answer (see the "
			    "notices above)\n", addr);
			rc = 3;
		}
	}
	tm_ctl_answer_free(&a);
out:
	if (out && out != stdout && fclose(out) != 0 && rc == 0) {
		perror("tm: writing");
		rc = 1;
	}
	if (out == stdout && fflush(stdout) != 0 && rc == 0) {
		perror("tm: writing");
		rc = 1;
	}
	memset(token, 0, sizeof(token));
	free(line);
	free(text);
	return rc;
}

int tm_cmd_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", no_argument, NULL, 'C' },
		{ "explain", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "connect", required_argument, NULL, 0x2000 },
		{ "token-file", required_argument, NULL, 0x2001 },
		{ "timeout", required_argument, NULL, 0x2002 },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct lazy lazy = { &plug, NULL, NULL, 0, 0 };
	struct tm_expr_opts eo;
	struct tm_expr_error eerr;
	struct tm_query_opts qo;
	struct tm_query_stats st;
	struct tm_expr *e = NULL;
	const char *store = NULL, *wfile = NULL, *connect = NULL;
	const char *token_file = NULL;
	int timeout_ms = 0;
	char *text = NULL, err[1024];
	int count = 0, explain = 0, opt, rc = 2, k;
	int64_t from, until;
	FILE *out = NULL;

	if (tm_query_cluster_wanted(argc, argv))	/* core/cmd_cluster.c */
		return tm_cmd_query_cluster(argc, argv);
	while ((opt = getopt_long(argc, argv, "s:w:h", longopts, NULL)) !=
	    -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 's': store = optarg; break;
		case 'w': wfile = optarg; break;
		case 'C': count = 1; break;
		case 'E': explain = 1; break;
		case 0x2000: connect = optarg; break;
		case 0x2001: token_file = optarg; break;
		case 0x2002:
			if (tm_ctl_parse_timeout(optarg, &timeout_ms)) {
				fprintf(stderr, "tm: query: --timeout: '%s' "
				    "is not a number of seconds or a "
				    "duration\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (store && connect) {
		fprintf(stderr, "tm: query: -s STORE reads a store, --connect "
		    "ADDR asks a service: one or the other\n");
		usage(stderr);
		return 2;
	}
	if (connect) {
		if (explain || plug.n_dirs || plug.n_overrides ||
		    plug.n_binds || plug.max_depth || plug.no_builtin) {
			fprintf(stderr, "tm: query: --explain and the plugin "
			    "options need -s STORE (with --connect the "
			    "service decides)\n");
			return 2;
		}
		return query_remote(connect, token_file, timeout_ms, wfile,
		    count, argc - optind, argv + optind);
	}
	if (token_file || timeout_ms) {
		fprintf(stderr, "tm: query: --token-file and --timeout go "
		    "with --connect\n");
		return 2;
	}
	if (!store) {
		fprintf(stderr, "tm: query: -s STORE is required (or "
		    "--connect ADDR)\n");
		usage(stderr);
		return 2;
	}
	text = tm_cli_join(argc - optind, argv + optind);
	if (!text) {
		fprintf(stderr, "tm: out of memory\n");
		return 1;
	}
	memset(&eo, 0, sizeof(eo));
	eo.flags = TM_EXPR_ALLOW_TIME;
	eo.app_check = app_check;
	eo.app_check_arg = &lazy;
	e = tm_expr_compile(text, &eo, &eerr);
	if (!e) {
		fprintf(stderr, "tm: %s\n", eerr.msg);
		goto out;
	}
	tm_expr_time_range(e, &from, &until);
	if (from >= until) {
		int64_t after = INT64_MIN, before = INT64_MAX;
		char a[48], b[48];

		and_bounds(e, tm_expr_root(e), &after, &before);
		if (after != INT64_MIN && before != INT64_MAX &&
		    after >= before) {
			fmt_time(after, a, sizeof(a));
			fmt_time(before, b, sizeof(b));
			fprintf(stderr, "tm: the time range is empty: 'after %s' "
			    "is not before 'before %s' (reversed bounds?)\n",
			    a, b);
		} else {
			fprintf(stderr, "tm: the time range is empty: the time "
			    "predicates exclude each other\n");
		}
		goto out;
	}
	if ((k = tm_cli_pcap_out(wfile, !count && !explain, &out)) != 0) {
		rc = k;
		goto out;
	}
	memset(&qo, 0, sizeof(qo));
	qo.root = store;
	qo.e = e;
	qo.pcap = out;
	qo.explain = explain ? (out == stdout ? stderr : stdout) : NULL;
	qo.registry = get_registry;
	qo.registry_arg = &lazy;
	if (explain) {
		char buf[4096], a[48], b[48];

		tm_expr_format(e, buf, sizeof(buf));
		fmt_time(from, a, sizeof(a));
		fmt_time(until, b, sizeof(b));
		fprintf(qo.explain, "query: %s\ntime range: [%s, %s)\n",
		    buf[0] ? buf : "(everything)", a, b);
	}
	if (tm_query_run(&qo, &st, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
		goto out;
	}
	if (explain)
		fprintf(qo.explain,
		    "segments: %" PRIu64 " published, %" PRIu64 " pruned by "
		    "time, %" PRIu64 " by the index, %" PRIu64 " read, %"
		    PRIu64 " skipped\n"
		    "connections: %" PRIu64 " in the planned segments, %"
		    PRIu64 " candidates: %" PRIu64 " whole, %" PRIu64
		    " checked per packet\n"
		    "packets: %" PRIu64 " read, %" PRIu64 " decoded, %" PRIu64
		    " matched (%" PRIu64 " bytes)\n"
		    "bytes: %" PRIu64 " read from segments, %" PRIu64
		    " of sidecars mapped\n"
		    "time: %.3f ms planning, %.3f ms in all\n",
		    st.segments, st.pruned_time, st.pruned_index, st.searched,
		    st.skipped, st.conns, st.candidates, st.conns_all,
		    st.conns_checked, st.packets_read, st.packets_decoded,
		    st.packets, st.bytes, st.file_bytes, st.index_bytes,
		    st.plan_ms, st.total_ms);
	if (count)
		fprintf(out == stdout ? stderr : stdout, "%" PRIu64 " packets, %" PRIu64 " bytes\n", st.packets,
		    st.bytes);
	rc = 0;
out:
	if (out && out != stdout && fclose(out) != 0 && rc == 0) {
		perror("tm: writing");
		rc = 1;
	}
	if (out == stdout && fflush(stdout) != 0 && rc == 0)
		rc = 1;
	tm_expr_free(e);
	free(text);
	if (lazy.reg) {
		tm_cli_teardown(lazy.reg);
		free(lazy.reg);
	}
	tm_ndpi_free(lazy.ndpi);
	return rc;
}
