/* Classes: precedence, file order on ties, the default class, the
 * three-valued choice while nDPI is undecided, and the cutoff rule. */
#include <stdlib.h>
#include <string.h>
#include "tm_test.h"
#include "classes.h"

static struct tm_buf b;
static struct tm_classes cs;

struct def {
	const char *name;
	const char *filter;	/* NULL: the default class */
	int64_t precedence;
};

static void make(const struct def *d, size_t n)
{
	struct tm_expr_error ee;

	tm_classes_free(&cs);
	cs.v = calloc(n, sizeof(*cs.v));
	assert_non_null(cs.v);
	cs.n = n;
	for (size_t i = 0; i < n; i++) {
		cs.v[i].name = strdup(d[i].name);
		cs.v[i].precedence = d[i].precedence;
		cs.v[i].cutoff = 1000 * (i + 1);
		if (d[i].filter) {
			cs.v[i].filter = strdup(d[i].filter);
			cs.v[i].expr = tm_expr_compile(d[i].filter, NULL, &ee);
			if (!cs.v[i].expr)
				fail_msg("%s: %s", d[i].filter, ee.msg);
		}
	}
	assert_int_equal(tm_classes_finalize(&cs), 0);
}

/* A TCP packet 10.0.0.1:sport -> 10.0.0.2:dport. */
static const struct tm_packet *tcp(uint16_t sport, uint16_t dport)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 6, 20);
	tb_tcp(&b, sport, dport, 0x02);
	return tm_test_decode(b.b, b.n, LT_ETHERNET);
}

static uint16_t pick(const struct tm_packet *p, const char *app, int final,
    int *pending)
{
	struct tm_expr_conn ec = { 0 };

	ec.app = app;
	ec.app_final = final;
	return tm_classes_select(&cs, p, &ec, pending);
}

static void test_default_added(void **state)
{
	const struct def d[] = { { "web", "port 80", 0 } };
	int pending;

	(void)state;
	make(d, 1);
	assert_int_equal(cs.n, 2);
	assert_string_equal(cs.v[cs.dflt].name, "default");
	assert_int_equal(cs.v[cs.dflt].cutoff, TM_DEFAULT_CUTOFF);
	assert_int_equal(pick(tcp(1234, 80), NULL, 1, &pending), 0);
	assert_int_equal(pending, 0);
	/* unmatched traffic is never dropped: the default class */
	assert_int_equal(pick(tcp(1234, 25), NULL, 1, &pending), cs.dflt);
	assert_int_equal(pending, 0);
}

static void test_precedence_and_ties(void **state)
{
	const struct def d[] = {
		{ "low", "tcp", 1 },
		{ "first", "port 80", 5 },
		{ "second", "dst port 80", 5 },
		{ "high", "port 80 and src port 1234", 9 },
		{ "default", NULL, 0 },
	};
	int pending;

	(void)state;
	make(d, 5);
	assert_int_equal(cs.dflt, 4);
	assert_int_equal(pick(tcp(1234, 80), NULL, 1, &pending), 3);
	/* a tie goes to the class written first */
	assert_int_equal(pick(tcp(1235, 80), NULL, 1, &pending), 1);
	assert_int_equal(pick(tcp(1235, 81), NULL, 1, &pending), 0);
	assert_int_equal(pending, 0);
}

static void test_app_pending(void **state)
{
	const struct def d[] = {
		{ "web", "app HTTP", 10 },
		{ "port80", "port 80", 5 },
		{ "notls", "not app TLS", 1 },
	};
	int pending;

	(void)state;
	make(d, 3);
	/* nDPI undecided: "web" may still match, "port80" already does */
	assert_int_equal(pick(tcp(1234, 80), NULL, 0, &pending), 1);
	assert_int_equal(pending, 1);
	/* the verdict decides */
	assert_int_equal(pick(tcp(1234, 80), "HTTP", 1, &pending), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(pick(tcp(1234, 80), "HTTP.Google", 1, &pending), 0);
	assert_int_equal(pick(tcp(1234, 80), "TLS", 1, &pending), 1);
	assert_int_equal(pending, 0);
	/* nDPI never knows (off, no payload): app tests are false */
	assert_int_equal(pick(tcp(1234, 80), NULL, 1, &pending), 1);
	assert_int_equal(pending, 0);
	/* nothing true yet but "notls" unknown: provisional default */
	assert_int_equal(pick(tcp(1234, 25), NULL, 0, &pending), cs.dflt);
	assert_int_equal(pending, 1);
	assert_int_equal(pick(tcp(1234, 25), NULL, 1, &pending), 2);
	assert_int_equal(pick(tcp(1234, 25), "TLS", 1, &pending), cs.dflt);
	assert_int_equal(pending, 0);
}

static void test_uses_app(void **state)
{
	const struct def d[] = {
		{ "a", "app DNS", 0 },
		{ "b", "udp", 0 },
	};

	(void)state;
	make(d, 2);
	assert_int_equal(cs.v[0].uses_app, 1);
	assert_int_equal(cs.v[1].uses_app, 0);
	assert_int_equal(cs.any_app, 1);
	assert_int_equal(tm_class_by_name(&cs, "b"), 1);
	assert_int_equal(tm_class_by_name(&cs, "nope"), -1);
}

static void test_cutoff_rule(void **state)
{
	(void)state;
	/* at or below the cutoff, this packet included */
	assert_true(tm_cutoff_stores(100, 100, 0, 1));
	assert_false(tm_cutoff_stores(101, 100, 0, 1));
	/* control packets pass, unless told otherwise */
	assert_true(tm_cutoff_stores(101, 100, 1, 1));
	assert_false(tm_cutoff_stores(101, 100, 1, 0));
	/* cutoff 0: nothing but control packets; none: everything */
	assert_false(tm_cutoff_stores(60, 0, 0, 1));
	assert_true(tm_cutoff_stores(60, 0, 1, 1));
	assert_true(tm_cutoff_stores(UINT64_MAX - 1, TM_CUTOFF_NONE, 0, 1));
}

static int teardown(void **state)
{
	(void)state;
	tm_classes_free(&cs);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_added),
		cmocka_unit_test(test_precedence_and_ties),
		cmocka_unit_test(test_app_pending),
		cmocka_unit_test(test_uses_app),
		cmocka_unit_test(test_cutoff_rule),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
