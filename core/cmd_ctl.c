/*
 * `tm stats --connect ADDR [--json]`: what a running service has seen.
 * `tm ctl --connect ADDR ping|flush|clear-cutoffs|set-cutoff ...`: asks a
 * running service to do something. Both speak the control protocol
 * (docs/control-protocol.md) through core/ctl_client.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "ctl_client.h"

#define COMMON_HELP							\
	"  --connect ADDR      the service: a store directory (its tm.sock),\n" \
	"                      a socket path, unix:PATH, tcp:HOST:PORT or\n" \
	"                      HOST:PORT\n"					\
	"  --token-file FILE   send the token on FILE's first line (TCP needs\n" \
	"                      one; default: the environment's TM_TOKEN)\n" \
	"  --timeout SECONDS   give up after this long without a byte from\n" \
	"                      the service (default 60; 0: wait forever)\n" \
	"  --json              print the service's JSON answer as it is\n"

enum { OPT_CONNECT = 0x2000, OPT_TOKEN_FILE, OPT_TIMEOUT, OPT_JSON, OPT_FOR };

struct common {
	const char *addr, *token_file;
	int timeout_ms, json;
	char token[TM_CTL_TOKEN_MAX + 1];
	int has_token;
};

static void stats_usage(FILE *out)
{
	fprintf(out,
	    "usage: tm stats --connect ADDR [--json] [--token-file FILE]\n"
	    "Prints what a running tm (tm capture -i, tm serve) has seen:\n"
	    "packets seen, stored, cut off and dropped, per class;\n"
	    "connections; memory and disk use; events.\n"
	    COMMON_HELP);
}

static void ctl_usage(FILE *out)
{
	fprintf(out,
	    "usage: tm ctl --connect ADDR [OPTIONS] COMMAND\n"
	    "Asks a running tm (tm capture -i, tm serve) to act. COMMAND:\n"
	    "  ping                    is it there; version, store, capturing\n"
	    "  flush                   publish what memory holds as segments\n"
	    "  set-cutoff EXPR SIZE|none [--for DURATION]\n"
	    "                          the cutoff of the live connections EXPR\n"
	    "                          matches, and of new ones for DURATION\n"
	    "                          (30s, 10m, 2h, 1d; default: no end);\n"
	    "                          SIZE in bytes, k/m/g/t powers of 1024\n"
	    "  clear-cutoffs           remove every set-cutoff rule\n"
	    "  tm ctl --connect /var/lib/tm set-cutoff 'host 10.0.0.5' none "
	    "--for 1h\n"
	    COMMON_HELP);
}

/* Handles the shared options: 1 if it was one, 0 if not, -1 bad value. */
static int common_opt(struct common *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONNECT:
		c->addr = arg;
		return 1;
	case OPT_TOKEN_FILE:
		c->token_file = arg;
		return 1;
	case OPT_TIMEOUT:
		if (tm_ctl_parse_timeout(arg, &c->timeout_ms)) {
			fprintf(stderr, "tm: --timeout: '%s' is not a number "
			    "of seconds or a duration\n", arg);
			return -1;
		}
		return 1;
	case OPT_JSON:
		c->json = 1;
		return 1;
	}
	return 0;
}

/* After the options: --connect given, the token loaded. 0, 1 or 2. */
static int common_ready(struct common *c, const char *cmd)
{
	char err[512];
	int r;

	if (!c->addr) {
		fprintf(stderr, "tm: %s: --connect ADDR is required\n", cmd);
		return 2;
	}
	r = tm_ctl_token_load(c->token_file, c->token, sizeof(c->token), err,
	    sizeof(err));
	if (r < 0) {
		fprintf(stderr, "tm: %s\n", err);
		return 1;
	}
	c->has_token = r;
	return 0;
}

/* Sends r and reads a K or E answer without data. 0 with a K in a, or 1
 * (message printed). */
static int call(struct common *c, const struct tm_ctl_req *r,
    struct tm_ctl_answer *a)
{
	char err[512];

	if (tm_ctl_call(c->addr, c->has_token ? c->token : NULL, r, NULL,
	    stderr, c->timeout_ms, a, err, sizeof(err))) {
		fprintf(stderr, "tm: %s: %s\n", c->addr, err);
		return 1;
	}
	if (a->type == TM_CTL_FRAME_ERR) {
		fprintf(stderr, "tm: %s: %s\n", c->addr, a->payload);
		tm_ctl_answer_free(a);
		return 1;
	}
	return 0;
}

int tm_cmd_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct common c = { .timeout_ms = TM_CTL_DEFAULT_TIMEOUT_MS };
	struct tm_ctl_req req;
	struct tm_ctl_answer a;
	char *text;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int r = common_opt(&c, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (opt == 'h') {
			stats_usage(stdout);
			return 0;
		}
		stats_usage(stderr);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "tm: stats: unexpected '%s'\n", argv[optind]);
		stats_usage(stderr);
		return 2;
	}
	if ((rc = common_ready(&c, "stats")) != 0) {
		if (rc == 2)
			stats_usage(stderr);
		return rc;
	}
	memset(&req, 0, sizeof(req));
	req.verb = TM_CTL_STATS;
	req.json = c.json;
	if ((rc = call(&c, &req, &a)) != 0)
		return rc;
	text = c.json ? NULL : malloc(a.len + 1);
	if (text && tm_ctl_json_string(a.payload, "text", text, a.len + 1) >=
	    0) {
		size_t n = strlen(text);

		fputs(text, stdout);
		if (n && text[n - 1] != '\n')
			fputc('\n', stdout);
	} else {
		printf("%s\n", a.payload);
	}
	free(text);
	tm_ctl_answer_free(&a);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tmv;

	gmtime_r(&s, &tmv);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour,
	    tmv.tm_min, tmv.tm_sec);
}

/* The short line for a K answer; 0 if the answer lacks what it needs. */
static int human(const struct common *c, const struct tm_ctl_req *r,
    const char *json)
{
	uint64_t n, cutoff, until;
	char *store, when[64];
	int capturing;

	switch (r->verb) {
	case TM_CTL_PING:
		if (tm_ctl_json_u64(json, "version", &n) ||
		    tm_ctl_json_bool(json, "capturing", &capturing))
			return 0;
		store = malloc(strlen(json) + 1);
		if (!store || tm_ctl_json_string(json, "store", store,
		    strlen(json) + 1) < 0) {
			free(store);
			return 0;
		}
		printf("%s: tm (protocol %" PRIu64 ") %s %s\n", c->addr, n,
		    capturing ? "capturing into" : "serving", store);
		free(store);
		return 1;
	case TM_CTL_FLUSH:
		if (tm_ctl_json_u64(json, "segments", &n))
			return 0;
		printf("flushed: %" PRIu64 " segment%s published\n", n,
		    n == 1 ? "" : "s");
		return 1;
	case TM_CTL_CLEAR_CUTOFFS:
		if (tm_ctl_json_u64(json, "cleared", &n))
			return 0;
		printf("%" PRIu64 " cutoff rule%s cleared\n", n,
		    n == 1 ? "" : "s");
		return 1;
	case TM_CTL_SET_CUTOFF:
		if (tm_ctl_json_u64(json, "rule", &n))
			return 0;
		printf("rule %" PRIu64 ": cutoff ", n);
		if (tm_ctl_json_u64(json, "cutoff", &cutoff) == 0)
			printf("%" PRIu64 " bytes", cutoff);
		else
			printf("none");
		if (tm_ctl_json_u64(json, "until_ns", &until) == 0) {
			fmt_time((int64_t)until, when, sizeof(when));
			printf(", until %s\n", when);
		} else {
			printf(", no end\n");
		}
		return 1;
	default:
		return 0;
	}
}

int tm_cmd_ctl(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "for", required_argument, NULL, OPT_FOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct common c = { .timeout_ms = TM_CTL_DEFAULT_TIMEOUT_MS };
	struct tm_ctl_req req;
	struct tm_ctl_answer a;
	const char *verb, *for_arg = NULL;
	char *expr = NULL, line[256];
	int opt, rc, nargs;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int r = common_opt(&c, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		if (opt == OPT_FOR) {
			for_arg = optarg;
			continue;
		}
		if (opt == 'h') {
			ctl_usage(stdout);
			return 0;
		}
		ctl_usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "tm: ctl: a command is required\n");
		ctl_usage(stderr);
		return 2;
	}
	verb = argv[optind];
	nargs = argc - optind - 1;
	memset(&req, 0, sizeof(req));
	req.cutoff = TM_CTL_CUTOFF_NONE;
	req.expr = "";
	if (strcmp(verb, "ping") == 0) {
		req.verb = TM_CTL_PING;
	} else if (strcmp(verb, "flush") == 0) {
		req.verb = TM_CTL_FLUSH;
	} else if (strcmp(verb, "clear-cutoffs") == 0) {
		req.verb = TM_CTL_CLEAR_CUTOFFS;
	} else if (strcmp(verb, "set-cutoff") == 0) {
		const char *size;

		req.verb = TM_CTL_SET_CUTOFF;
		if (nargs < 2) {
			fprintf(stderr, "tm: ctl: set-cutoff needs EXPR and "
			    "SIZE|none\n");
			ctl_usage(stderr);
			return 2;
		}
		size = argv[argc - 1];
		if (tm_ctl_parse_size(size, strlen(size), &req.cutoff)) {
			fprintf(stderr, "tm: ctl: '%s' is not a size (bytes, "
			    "with k, m, g or t for powers of 1024, or none)\n",
			    size);
			return 2;
		}
		if (for_arg && tm_ctl_parse_duration(for_arg, strlen(for_arg),
		    &req.for_ns)) {
			fprintf(stderr, "tm: ctl: --for: '%s' is not a "
			    "duration (30s, 10m, 2h, 1d, 500ms, or '-' for no "
			    "end)\n", for_arg);
			return 2;
		}
		expr = tm_cli_join(nargs - 1, argv + optind + 1);
		if (!expr) {
			fprintf(stderr, "tm: out of memory\n");
			return 1;
		}
		req.expr = expr;
		nargs = 0;
	} else {
		fprintf(stderr, "tm: ctl: unknown command '%s'\n", verb);
		ctl_usage(stderr);
		return 2;
	}
	if (nargs > 0) {
		fprintf(stderr, "tm: ctl: unexpected '%s' after %s\n",
		    argv[optind + 1], verb);
		return 2;
	}
	if (for_arg && req.verb != TM_CTL_SET_CUTOFF) {
		fprintf(stderr, "tm: ctl: --for goes with set-cutoff\n");
		return 2;
	}
	rc = 2;
	if (req.verb == TM_CTL_SET_CUTOFF) {
		char *buf = malloc(TM_CTL_LINE_MAX + 1);

		if (!buf || tm_ctl_format_request(&req, buf,
		    TM_CTL_LINE_MAX + 1) < 0) {
			fprintf(stderr, "tm: ctl: the expression is empty, "
			    "has a control character or is too long\n");
			free(buf);
			goto out;
		}
		free(buf);
	} else if (tm_ctl_format_request(&req, line, sizeof(line)) < 0) {
		goto out;
	}
	if ((rc = common_ready(&c, "ctl")) != 0) {
		if (rc == 2)
			ctl_usage(stderr);
		goto out;
	}
	if ((rc = call(&c, &req, &a)) != 0)
		goto out;
	if (c.json || !human(&c, &req, a.payload))
		printf("%s\n", a.payload);
	tm_ctl_answer_free(&a);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	free(expr);
	return rc;
}
