/*
 * libFuzzer target for the expression language: the lexer, the parser and
 * its error paths, the printer, and the evaluator.
 *
 * Input: the expression text (any bytes; cut at the first NUL). Time
 * predicates are allowed (query mode) with a fixed "now", and a name check
 * rejects the application "bad" and the tunnel "bad", so those error paths
 * run too.
 *
 * Beyond the sanitizers, it checks:
 *  - a failed compile has a message that starts with "column N: " where N
 *    is within the text (or one past it);
 *  - the canonical form compiles again, to the same canonical form;
 *  - tm_expr_format's return value is the length written with room to spare;
 *  - evaluation on a few fixed views (empty, UDP, tunnelled with VLANs, ARP)
 *    with and without a connection and a timestamp gives a valid result,
 *    and the canonical form evaluates the same everywhere;
 *  - a result at a time inside [from, until) of tm_expr_time_range is the
 *    only way to be TRUE: outside it nothing is.
 * A violation aborts with a message.
 *
 * Seeds: tests/fuzz/fuzz_expr.seeds.sh DIR (run.sh calls it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../query/expr.h"

#define NOW_NS (1795694400LL * 1000000000LL)

static struct tm_packet views[4];
static int ready;

static void die(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_expr: %s: '%s'\n", what, text);
	abort();
}

static void set4(struct tm_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	const uint8_t v[4] = { x, y, z, w };

	tm_addr_set4(a, v);
}

static void setup(void)
{
	struct tm_packet *p;

	memset(views, 0, sizeof(views));
	/* 1: 192.0.2.1:1234 -> 198.51.100.2:53 UDP */
	p = &views[1];
	p->l3 = TM_L3_IPV4;
	set4(&p->src, 192, 0, 2, 1);
	set4(&p->dst, 198, 51, 100, 2);
	p->outer_src = p->src;
	p->outer_dst = p->dst;
	p->proto = p->outer_proto = 17;
	p->sport = p->outer_sport = 1234;
	p->dport = p->outer_dport = 53;
	p->flags = TM_PF_HAS_PROTO | TM_PF_HAS_PORTS | TM_PF_OUTER_PROTO |
	    TM_PF_OUTER_PORTS;
	/* 2: VLANs 10 and 300, GRE key 5 inside VXLAN VNI 100, inner TCP */
	p = &views[2];
	*p = views[1];
	p->proto = 6;
	set4(&p->src, 10, 0, 0, 1);
	set4(&p->dst, 10, 0, 0, 2);
	p->sport = 40000;
	p->dport = 443;
	p->outer_dport = 4789;
	p->flags |= TM_PF_NESTED_L3 | TM_PF_HAS_SPI;
	p->spi = 0x1234;
	p->n_vlans = 2;
	p->vlans[0] = 10;
	p->vlans[1] = 300;
	p->n_tunnels = 2;
	p->tunnels[0].type = TM_TUN_VXLAN;
	p->tunnels[0].ids = TM_TID_VNI;
	p->tunnels[0].vni = 100;
	p->tunnels[0].src = views[1].src;
	p->tunnels[0].dst = views[1].dst;
	p->tunnels[1].type = TM_TUN_GRE;
	p->tunnels[1].name = "nvgre";
	p->tunnels[1].ids = TM_TID_KEY;
	p->tunnels[1].key = 5;
	set4(&p->tunnels[1].src, 172, 16, 0, 1);
	set4(&p->tunnels[1].dst, 172, 16, 0, 2);
	/* 3: ARP 10.0.0.1 -> 10.0.0.2 */
	p = &views[3];
	p->l3 = TM_L3_ARP;
	set4(&p->src, 10, 0, 0, 1);
	set4(&p->dst, 10, 0, 0, 2);
	ready = 1;
}

static int check_name(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "bad") == 0 ? -1 : 0;
}

static const struct tm_expr_conn conns[] = {
	{ NULL, 0, NULL, NULL },
	{ NULL, 1, "bulk", NULL },
	{ "TLS.Google", 0, "web", "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ "DNS", 1, NULL, NULL },
};

static const int64_t times[] = { TM_EXPR_NO_TIME, 0, NOW_NS - 1,
	NOW_NS, NOW_NS - 3600000000000LL, INT64_MAX, INT64_MIN + 1 };

static void check_eval(const struct tm_expr *e, const struct tm_expr *c,
    const char *text)
{
	int64_t from, until;

	tm_expr_time_range(e, &from, &until);
	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		for (size_t k = 0; k <= sizeof(conns) / sizeof(conns[0]); k++) {
			const struct tm_expr_conn *conn = k ? &conns[k - 1] :
			    NULL;

			for (size_t t = 0; t < sizeof(times) / sizeof(times[0]);
			    t++) {
				int64_t ts = times[t];
				enum tm_expr_result r = tm_expr_eval_at(e,
				    &views[v], conn, ts);

				if (r != TM_EXPR_FALSE && r != TM_EXPR_TRUE &&
				    r != TM_EXPR_UNKNOWN)
					die("bad result", text);
				if (r != tm_expr_eval_at(c, &views[v], conn,
				    ts))
					die("canonical form evaluates "
					    "differently", text);
				if (r == TM_EXPR_TRUE &&
				    ts != TM_EXPR_NO_TIME &&
				    tm_expr_uses_time(e) && (ts < from ||
				    (ts >= until && until != INT64_MAX)))
					die("true outside its time range",
					    text);
			}
		}
		if (tm_expr_eval(e, &views[v], NULL) !=
		    tm_expr_eval_at(e, &views[v], NULL, TM_EXPR_NO_TIME))
			die("eval and eval_at disagree", text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_expr_opts o = { .app_check = check_name,
		.tunnel_check = check_name, .flags = TM_EXPR_ALLOW_TIME,
		.now_ns = NOW_NS };
	struct tm_expr_error err;
	struct tm_expr *e, *c;
	char *text, *canon, *canon2;
	size_t n, n2, len;

	if (!ready)
		setup();
	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	e = tm_expr_compile(text, &o, &err);
	if (!e) {
		char want[32];

		snprintf(want, sizeof(want), "column %d: ", err.column);
		if (err.column < 1 || (size_t)err.column > len + 1 ||
		    strncmp(err.msg, want, strlen(want)) != 0)
			die("bad error", err.msg);
		free(text);
		return 0;
	}
	n = tm_expr_format(e, NULL, 0);
	canon = malloc(n + 1);
	if (!canon)
		abort();
	if (tm_expr_format(e, canon, n + 1) != n || strlen(canon) != n)
		die("format length", text);
	c = tm_expr_compile(canon, &o, &err);
	if (!c)
		die(err.msg, canon);
	n2 = tm_expr_format(c, NULL, 0);
	canon2 = malloc(n2 + 1);
	if (!canon2)
		abort();
	tm_expr_format(c, canon2, n2 + 1);
	if (strcmp(canon, canon2) != 0)
		die("canonical form is not stable", canon);
	check_eval(e, c, text);
	free(canon2);
	free(canon);
	tm_expr_free(c);
	tm_expr_free(e);
	free(text);
	return 0;
}
