/* Dynamic cutoffs (core/rules.c) and how the tracker applies them: a rule
 * raises or lowers the cutoff of live connections from their next packet,
 * the newest matching rule wins, clearing or an ended rule gives the
 * class's cutoff back, reloaded classes give their new cutoff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tm_test.h"
#include "classes.h"
#include "config.h"
#include "rules.h"
#include "tracker.h"

#define S 1000000000LL

static struct tm_buf b;
static struct tm_classes cs;
static struct tm_tracker *trk;
static uint64_t frame;

static void no_flow(const struct tm_flow_rec *f, void *arg)
{
	(void)f;
	(void)arg;
}

static void start(uint64_t cutoff)
{
	struct tm_tracker_opts o;
	struct tm_config cfg;
	char err[256];

	tm_config_defaults(&cfg);
	memset(&o, 0, sizeof(o));
	o.conn = cfg.conn;
	o.conn.max = 1000;
	o.ctx_mask = TM_CTX_DEFAULT;
	tm_classes_free(&cs);
	assert_int_equal(tm_classes_finalize(&cs), 0);
	cs.v[cs.dflt].cutoff = cutoff;
	o.classes = &cs;
	o.keep_control = 1;
	trk = tm_tracker_new(&o, no_flow, NULL, err, sizeof(err));
	assert_non_null(trk);
	frame = 0;
}

static void stop(void)
{
	tm_tracker_finish(trk);
	tm_tracker_free(trk);
	trk = NULL;
	tm_classes_free(&cs);
}

/* One TCP segment of client c (10.0.0.C:40000 -> 10.0.0.2:80) with 1000
 * bytes of payload (a 1054-byte frame), or a handshake packet. */
static int seg(const char *c, int64_t ts, uint8_t flags, size_t data)
{
	struct tm_decision d;

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, c, "10.0.0.2", 6, 20 + data);
	tb_tcp(&b, 40000, 80, flags);
	tb_zero(&b, data);
	tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET), ts,
	    ++frame, &d);
	return d.stored;
}

static int data(const char *c, int64_t ts)
{
	return seg(c, ts, 0x18, 1000);
}

static struct tm_expr *expr(const char *text)
{
	struct tm_expr_error ee;
	struct tm_expr *e = tm_expr_compile(text, NULL, &ee);

	if (!e)
		fail_msg("'%s': %s", text, ee.msg);
	return e;
}

static uint32_t rule(const char *text, uint64_t cutoff, int64_t now,
    int64_t for_ns)
{
	return tm_rules_add(tm_tracker_rules(trk), expr(text), strdup(text),
	    cutoff, now, for_ns);
}

static void test_set(void **state)
{
	struct tm_rules rs;
	uint32_t g;

	(void)state;
	tm_rules_init(&rs);
	assert_int_equal(rs.gen, 0);
	assert_int_equal(tm_rules_add(&rs, expr("host 10.0.0.1"),
	    strdup("host 10.0.0.1"), 100, 5 * S, 2 * S), 1);
	assert_int_equal(rs.next_end, 7 * S);
	g = rs.gen;
	assert_int_not_equal(g, 0);
	assert_int_equal(tm_rules_add(&rs, expr("port 80"), strdup("port 80"),
	    TM_CUTOFF_NONE, 5 * S, 0), 2);
	assert_int_not_equal(rs.gen, g);
	assert_int_equal(rs.v[1].until, INT64_MAX);
	g = rs.gen;
	tm_rules_expire(&rs, 6 * S);	/* nothing ends */
	assert_int_equal(rs.gen, g);
	assert_int_equal(rs.n, 2);
	tm_rules_expire(&rs, 7 * S);	/* the first ends */
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.v[0].id, 2);
	assert_int_not_equal(rs.gen, g);
	assert_int_equal(rs.next_end, INT64_MAX);
	/* a full set refuses (and frees what it was given) */
	for (unsigned i = rs.n; i < TM_MAX_RULES; i++)
		assert_int_not_equal(tm_rules_add(&rs, expr("tcp"),
		    strdup("tcp"), 1, 0, 0), 0);
	assert_int_equal(tm_rules_add(&rs, expr("udp"), strdup("udp"), 1, 0,
	    0), 0);
	g = rs.gen;
	assert_int_equal(tm_rules_clear(&rs), TM_MAX_RULES);
	assert_int_not_equal(rs.gen, g);
	assert_int_equal(tm_rules_clear(&rs), 0);
	tm_rules_free(&rs);
}

static void test_raise_lower(void **state)
{
	int64_t t = 100 * S;

	(void)state;
	start(2048);
	/* handshake (162 bytes) and the first 1054-byte segment fit 2k */
	assert_true(seg("10.0.0.1", t, 0x02, 0));
	assert_true(seg("10.0.0.1", t, 0x10, 0));
	assert_true(data("10.0.0.1", t));
	assert_false(data("10.0.0.1", t));
	assert_true(data("10.0.0.3", t));	/* 1054 bytes fit, */
	assert_false(data("10.0.0.3", t));	/* 2108 do not */
	/* raised: the next packets are stored again */
	assert_int_equal(rule("host 10.0.0.1", TM_CUTOFF_NONE, t, 0), 1);
	assert_true(data("10.0.0.1", t));
	assert_true(data("10.0.0.1", t));
	/* another connection no rule matches keeps its class's cutoff */
	assert_false(data("10.0.0.3", t));
	/* lowered by a newer rule: it wins */
	assert_int_equal(rule("tcp port 80", 0, t, 0), 2);
	assert_false(data("10.0.0.1", t));
	/* cleared: the class's 2k, long passed */
	assert_int_equal(tm_rules_clear(tm_tracker_rules(trk)), 2);
	assert_false(data("10.0.0.1", t));
	/* a new connection a rule matches from its first packet */
	assert_int_equal(rule("host 10.0.0.4", 0, t, 0), 3);
	assert_false(seg("10.0.0.4", t, 0x18, 10));
	stop();
}

static void test_for(void **state)
{
	int64_t t = 100 * S;

	(void)state;
	start(2048);
	assert_true(data("10.0.0.1", t));
	assert_false(data("10.0.0.1", t));
	assert_int_not_equal(rule("host 10.0.0.1", TM_CUTOFF_NONE, t, 2 * S),
	    0);
	assert_true(data("10.0.0.1", t + S));
	/* the rule ends at t + 2 s */
	assert_false(data("10.0.0.1", t + 2 * S));
	assert_int_equal(tm_tracker_rules(trk)->n, 0);
	/* time goes on without packets too (a live interface, idle) */
	assert_int_not_equal(rule("host 10.0.0.1", TM_CUTOFF_NONE, t + 3 * S,
	    S), 0);
	tm_tracker_tick(trk, t + 5 * S);
	assert_int_equal(tm_tracker_rules(trk)->n, 0);
	assert_false(data("10.0.0.1", t + 5 * S));
	stop();
}

/* The responder's packet of 10.0.0.2:80 -> 10.0.0.1:40000. */
static int reply(int64_t ts)
{
	struct tm_decision d;

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.2", "10.0.0.1", 6, 20 + 100);
	tb_tcp(&b, 80, 40000, 0x18);
	tb_zero(&b, 100);
	tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET), ts,
	    ++frame, &d);
	return d.stored;
}

/* Rules see the connection as its originator does, like class filters:
 * `src host X` is about who opened it, whichever side's packet comes. */
static void test_direction(void **state)
{
	int64_t t = 100 * S;

	(void)state;
	start(TM_CUTOFF_NONE);
	assert_true(seg("10.0.0.1", t, 0x02, 0));	/* 10.0.0.1 opens */
	assert_int_not_equal(rule("src host 10.0.0.2", 0, t, 0), 0);
	assert_true(reply(t));		/* the responder is not src */
	assert_int_not_equal(rule("src host 10.0.0.1 and dst port 80", 0, t,
	    0), 0);
	assert_false(reply(t));		/* now it matches, from either side */
	assert_false(data("10.0.0.1", t));
	stop();
}

static void test_reload(void **state)
{
	struct tm_classes n = { 0 };
	int64_t t = 100 * S;

	(void)state;
	start(2048);
	assert_true(data("10.0.0.1", t));
	assert_false(data("10.0.0.1", t));
	/* the same classes, a new cutoff: live connections take it */
	assert_int_equal(tm_classes_finalize(&n), 0);
	n.v[n.dflt].cutoff = TM_CUTOFF_NONE;
	tm_tracker_set_classes(trk, &n);
	assert_true(data("10.0.0.1", t));
	/* a rule still wins over the reloaded class */
	assert_int_not_equal(rule("host 10.0.0.1", 0, t, 0), 0);
	assert_false(data("10.0.0.1", t));
	stop();
	tm_classes_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_raise_lower),
		cmocka_unit_test(test_for),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
