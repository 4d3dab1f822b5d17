/* The per-packet pipeline and flow records: TCP closing (FIN, RST), idle
 * timeout, eviction, port reuse, the cutoff rule with control packets,
 * nDPI with a class decided on its verdict, the JSON record's keys, uid and
 * Community ID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tm_test.h"
#include "classes.h"
#include "config.h"
#include "flow.h"
#include "ndpi_glue.h"
#include "tracker.h"

#define S 1000000000LL

static struct tm_buf b;
static char *out;
static size_t outlen;
static FILE *mem;
static struct tm_classes cs;
static struct tm_tracker *trk;
static uint64_t frame;

static int defer;		/* start(): opts.defer_cid */
static int pending_seen;

/* With defer, a record whose Community ID is pending gets it here, as the
 * storage's writer computes it: from the record alone. */
static void write_flow(const struct tm_flow_rec *f, void *arg)
{
	struct tm_flow_rec g;
	struct tm_packet p;

	(void)arg;
	if (!defer) {
		assert_false(f->cid_pending);
		tm_flow_print_json(mem, f, 0);
		return;
	}
	g = *f;
	if (f->cid_pending) {
		pending_seen++;
		assert_string_equal(f->community_id, TM_CID_PENDING);
		tm_flow_cid_input(f, &p);
		assert_int_equal(tm_community_id(&p, 0, g.community_id,
		    sizeof(g.community_id)), 0);
	} else {
		assert_string_equal(f->community_id, "");
	}
	tm_flow_print_json(mem, &g, 0);
}

/* The storage's hook: nDPI named a live connection's application. */
static int app_calls;
static char app_last[64];

static void on_app(const struct tm_conn *c, void *arg)
{
	(void)arg;
	app_calls++;
	if (!tm_tracker_app(trk, c, app_last, sizeof(app_last)))
		app_last[0] = '\0';
}

static void start(uint32_t max, uint64_t cutoff, const char *app_filter,
    struct tm_ndpi *ndpi)
{
	struct tm_tracker_opts o;
	struct tm_config cfg;
	char err[256];

	tm_config_defaults(&cfg);
	memset(&o, 0, sizeof(o));
	o.conn = cfg.conn;
	o.conn.max = max;
	o.ctx_mask = TM_CTX_DEFAULT;
	tm_classes_free(&cs);
	if (app_filter) {
		struct tm_expr_error ee;

		cs.v = calloc(1, sizeof(*cs.v));
		cs.n = 1;
		cs.v[0].name = strdup("web");
		cs.v[0].filter = strdup(app_filter);
		cs.v[0].expr = tm_expr_compile(app_filter, NULL, &ee);
		assert_non_null(cs.v[0].expr);
		cs.v[0].cutoff = TM_CUTOFF_NONE;
		cs.v[0].precedence = 10;
	}
	assert_int_equal(tm_classes_finalize(&cs), 0);
	cs.v[cs.dflt].cutoff = cutoff;
	o.classes = &cs;
	o.ndpi = ndpi;
	o.ndpi_max_packets = 8;
	o.keep_control = 1;
	o.app_fn = on_app;
	o.defer_cid = defer;
	app_calls = 0;
	app_last[0] = '\0';
	mem = open_memstream(&out, &outlen);
	assert_non_null(mem);
	trk = tm_tracker_new(&o, write_flow, NULL, err, sizeof(err));
	assert_non_null(trk);
	frame = 0;
}

/* Ends the run and returns the records, one per line. */
static const char *finish(void)
{
	tm_tracker_finish(trk);
	tm_tracker_free(trk);
	trk = NULL;
	fclose(mem);
	mem = NULL;
	return out;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* One TCP segment with `data` bytes of payload (filled with 'x' unless
 * payload is given); dir 0: client -> server. */
static struct tm_decision seg(int64_t ts, int dir, uint8_t flags,
    const char *payload, size_t data)
{
	const char *c = "10.0.0.1", *s = "10.0.0.2";
	struct tm_decision d;

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, dir ? s : c, dir ? c : s, 6, 20 + data);
	tb_tcp(&b, dir ? 80 : 40000, dir ? 40000 : 80, flags);
	for (size_t i = 0; i < data; i++)
		tb_u8(&b, payload ? (uint8_t)payload[i] : 'x');
	tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET), ts,
	    ++frame, &d);
	return d;
}

static struct tm_decision udp(int64_t ts, uint16_t sport, uint16_t vlan)
{
	struct tm_decision d;

	tb_reset(&b);
	if (vlan) {
		tb_eth(&b, 0x8100);
		tb_be16(&b, vlan);
		tb_be16(&b, 0x0800);
	} else {
		tb_eth(&b, 0x0800);
	}
	tb_ipv4(&b, "10.0.0.1", "10.0.0.3", 17, 8 + 10);
	tb_udp(&b, sport, 9999, 10);
	tb_zero(&b, 10);
	tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET), ts,
	    ++frame, &d);
	return d;
}

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

static void test_tcp_fin_record(void **state)
{
	const char *r;

	(void)state;
	start(100, TM_CUTOFF_NONE, NULL, NULL);
	seg(1 * S, 0, SYN, NULL, 0);
	seg(1 * S + 1000, 1, SYN | ACK, NULL, 0);
	seg(1 * S + 2000, 0, ACK, NULL, 0);
	seg(1 * S + 3000, 0, PSH | ACK, NULL, 100);
	seg(1 * S + 4000, 1, PSH | ACK, NULL, 300);
	seg(1 * S + 5000, 0, FIN | ACK, NULL, 0);
	seg(1 * S + 6000, 1, FIN | ACK, NULL, 0);
	seg(1 * S + 7000, 0, ACK, NULL, 0);
	/* 10 s later, another connection: the first is over by then */
	udp(11 * S, 5000, 0);
	r = finish();
	assert_int_equal(count(r, "\n"), 2);
	/* every key of the issue, in order */
	assert_non_null(strstr(r,
	    "{\"ts\":\"1.000000\",\"uid\":\"C"));
	assert_non_null(strstr(r, "\",\"l3\":\"ipv4\",\"proto\":6,"
	    "\"orig_h\":\"10.0.0.1\",\"orig_p\":40000,\"resp_h\":\"10.0.0.2\","
	    "\"resp_p\":80,\"spi\":null,\"vlan\":[],\"tunnels\":[],"
	    "\"class\":\"default\",\"app\":null,\"duration\":0.000007,"
	    "\"orig_pkts\":5,\"orig_bytes\":370,\"resp_pkts\":3,"
	    "\"resp_bytes\":462,\"stored_pkts\":8,\"stored_bytes\":832,"
	    "\"cutoff_hit\":false,\"end_reason\":\"fin\",\"community_id\":\"1:"));
	assert_non_null(strstr(r, "\"end_reason\":\"eof\""));
	free(out);
}

static void test_rst_and_reuse(void **state)
{
	const char *r;

	(void)state;
	start(100, TM_CUTOFF_NONE, NULL, NULL);
	seg(1 * S, 0, SYN, NULL, 0);
	seg(1 * S + 1000, 1, RST | ACK, NULL, 0);
	/* the client tries again on the same port: a new connection */
	seg(2 * S, 0, SYN, NULL, 0);
	seg(2 * S + 1000, 1, SYN | ACK, NULL, 0);
	assert_int_equal(tm_tracker_stats(trk)->port_reuse, 1);
	r = finish();
	assert_int_equal(count(r, "\n"), 2);
	assert_non_null(strstr(r, "\"orig_pkts\":1,\"orig_bytes\":54,"
	    "\"resp_pkts\":1,\"resp_bytes\":54,\"stored_pkts\":2,"
	    "\"stored_bytes\":108,\"cutoff_hit\":false,\"end_reason\":\"rst\""));
	assert_non_null(strstr(r, "\"ts\":\"2.000000\""));
	assert_non_null(strstr(r, "\"end_reason\":\"eof\""));
	free(out);
}

/* The original Time Machine's rule: stored while the byte count, this
 * packet included, stays at or below the cutoff; SYN/FIN/RST regardless. */
static void test_cutoff_semantics(void **state)
{
	struct tm_decision d;
	const char *r;

	(void)state;
	start(100, 300, NULL, NULL);
	d = seg(1 * S, 0, SYN, NULL, 0);		/* 54: total 54 */
	assert_true(d.stored);
	d = seg(1 * S + 1, 1, SYN | ACK, NULL, 0);	/* 108 */
	assert_true(d.stored);
	d = seg(1 * S + 2, 0, PSH | ACK, NULL, 138);	/* 192 -> 300 */
	assert_true(d.stored);
	assert_int_equal(d.total, 300);
	d = seg(1 * S + 3, 1, PSH | ACK, NULL, 1);	/* 55 -> 355 */
	assert_false(d.stored);
	d = seg(1 * S + 4, 1, ACK, NULL, 0);		/* 54 -> 409 */
	assert_false(d.stored);
	d = seg(1 * S + 5, 0, FIN | ACK, NULL, 0);	/* control: kept */
	assert_true(d.stored);
	d = seg(1 * S + 6, 1, FIN | ACK, NULL, 0);
	assert_true(d.stored);
	r = finish();
	assert_non_null(strstr(r, "\"stored_pkts\":5,\"stored_bytes\":408,"
	    "\"cutoff_hit\":true"));
	assert_non_null(strstr(r, "\"cutoff\":300"));
	free(out);
}

static void test_timeout_and_vlan(void **state)
{
	const char *r;

	(void)state;
	start(100, TM_CUTOFF_NONE, NULL, NULL);
	udp(1 * S, 5000, 100);
	udp(2 * S, 5000, 100);
	/* idle 60 s and more: the next packet starts a new connection */
	udp(63 * S, 5000, 100);
	r = finish();
	assert_int_equal(count(r, "\n"), 2);
	assert_non_null(strstr(r, "\"proto\":17,\"orig_h\":\"10.0.0.1\","
	    "\"orig_p\":5000,\"resp_h\":\"10.0.0.3\",\"resp_p\":9999,"
	    "\"spi\":null,\"vlan\":[100],\"tunnels\":[]"));
	assert_non_null(strstr(r, "\"orig_pkts\":2,"));
	assert_non_null(strstr(r, "\"end_reason\":\"timeout\""));
	assert_non_null(strstr(r, "\"ts\":\"63.000000\""));
	free(out);
}

static void test_eviction(void **state)
{
	const char *r;

	(void)state;
	start(2, TM_CUTOFF_NONE, NULL, NULL);
	for (uint16_t i = 0; i < 10; i++)
		udp((1 + i) * S, (uint16_t)(1000 + i), 0);
	r = finish();
	assert_int_equal(count(r, "\n"), 10);
	assert_int_equal(count(r, "\"end_reason\":\"evicted\""), 8);
	assert_int_equal(count(r, "\"end_reason\":\"eof\""), 2);
	/* the oldest went first */
	assert_true(strstr(r, "\"orig_p\":1000") < strstr(r, "\"orig_p\":1001"));
	free(out);
}

static void test_uid_and_community_id(void **state)
{
	struct tm_decision d;
	struct tm_conn c;
	char u1[24], u2[24];
	const char *r;

	(void)state;
	/* the Community ID spec's example: 128.232.110.120:34855 ->
	 * 66.35.250.204:80 TCP, seed 0 */
	start(10, TM_CUTOFF_NONE, NULL, NULL);
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "128.232.110.120", "66.35.250.204", 6, 20);
	tb_tcp(&b, 34855, 80, SYN);
	tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET), S, 1, &d);
	c = *d.conn;
	r = finish();
	assert_non_null(strstr(r,
	    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""));
	tm_flow_uid(&c, u1, sizeof(u1));
	tm_flow_uid(&c, u2, sizeof(u2));
	assert_string_equal(u1, u2);
	assert_int_equal(strlen(u1), 18);
	assert_int_equal(u1[0], 'C');
	assert_non_null(strstr(r, u1));
	c.first_ts++;
	tm_flow_uid(&c, u2, sizeof(u2));
	assert_string_not_equal(u1, u2);
	free(out);
}

/* The storage leaves the Community ID to its writer thread (defer_cid):
 * the records carry TM_CID_PENDING exactly when they have an ID, and what
 * is computed from the record is what the tracker writes itself. */
static void test_deferred_community_id(void **state)
{
	static const char *const peers[][2] = {
		{ "128.232.110.120", "66.35.250.204" },
		{ "10.0.0.9", "10.0.0.1" },
	};
	char *runs[2];

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct tm_decision d;

		defer = k;
		pending_seen = 0;
		start(10, TM_CUTOFF_NONE, NULL, NULL);
		for (size_t i = 0; i < TM_ARRAY_LEN(peers); i++) {
			tb_reset(&b);
			tb_eth(&b, 0x0800);
			tb_ipv4(&b, peers[i][0], peers[i][1], 6, 20);
			tb_tcp(&b, (uint16_t)(34855 + i), 80, SYN);
			tm_tracker_packet(trk, tm_test_decode(b.b, b.n,
			    LT_ETHERNET), S + (int64_t)i, ++frame, &d);
		}
		/* ARP: no Community ID, none pending */
		tb_reset(&b);
		tb_eth(&b, 0x0806);
		tb_arp_request(&b);
		tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET),
		    2 * S, ++frame, &d);
		runs[k] = (char *)finish();
		assert_int_equal(pending_seen, k ? 2 : 0);
	}
	defer = 0;
	assert_non_null(strstr(runs[0],
	    "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""));
	assert_int_equal(count(runs[0], "\"community_id\":\"1:"), 2);
	assert_string_equal(runs[0], runs[1]);
	free(runs[0]);
	free(runs[1]);
	out = NULL;
}

/* A class chosen by `app`: pending on the first packet (provisionally the
 * default class), decided on nDPI's verdict from the request. */
static void app_class_on_verdict(unsigned thread)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n"
	    "User-Agent: test\r\nAccept: */*\r\n\r\n";
	struct tm_ndpi *n;
	struct tm_decision d;
	char err[256];
	const char *r;

	n = tm_ndpi_new(16, thread, err, sizeof(err));
	assert_non_null(n);
	assert_int_equal(tm_ndpi_threaded(n), thread > 0);
	start(100, 0, "app HTTP", n);
	d = seg(1 * S, 0, SYN, NULL, 0);
	assert_int_equal(d.cls, cs.dflt);		/* provisional */
	assert_true(d.conn->state & TM_CS_PENDING);
	assert_true(d.stored);				/* a SYN */
	seg(1 * S + 1, 1, SYN | ACK, NULL, 0);
	d = seg(1 * S + 2, 0, ACK, NULL, 0);
	assert_false(d.stored);			/* cutoff 0 meanwhile */
	d = seg(1 * S + 3, 0, PSH | ACK, req, sizeof(req) - 1);
	assert_int_equal(d.cls, 0);			/* decided: web */
	assert_false(d.conn->state & TM_CS_PENDING);
	assert_true(d.stored);				/* cutoff none now */
	d = seg(1 * S + 4, 1, PSH | ACK, NULL, 500);
	assert_true(d.stored);
	r = finish();
	assert_non_null(strstr(r, "\"class\":\"web\",\"app\":\"HTTP\""));
	assert_non_null(strstr(r, "\"provisional_class\":\"default\""));
	assert_non_null(strstr(r, "\"stored_pkts\":4,"));
	free(out);
	tm_ndpi_free(n);
}

static void test_app_class_on_verdict(void **state)
{
	(void)state;
	app_class_on_verdict(0);
}

/* The same with nDPI on its worker thread: the pending connection waits
 * for the verdict at its packet, so the same packets are stored. */
static void test_app_class_on_verdict_threaded(void **state)
{
	(void)state;
	app_class_on_verdict(1);
}

/* ... and with three workers (the flow's host pair picks one). */
static void test_app_class_on_verdict_lanes(void **state)
{
	(void)state;
	app_class_on_verdict(3);
}

/* With nDPI on a thread: a verdict reaches the storage's hook once it is
 * collected (tm_tracker_ndpi_sync waits for every answer); and once the
 * tracker is being freed (after a failure the storage is gone first),
 * nothing reaches the hook any more, though nDPI's answers still drain. */
static void test_app_hook_sync_and_free(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n"
	    "User-Agent: test\r\nAccept: */*\r\n\r\n";
	struct tm_ndpi *n;
	char err[256];

	(void)state;
	n = tm_ndpi_new(16, 2, err, sizeof(err));
	assert_non_null(n);
	start(100, 20480, NULL, n);
	seg(1 * S, 0, SYN, NULL, 0);
	seg(1 * S + 1, 1, SYN | ACK, NULL, 0);
	seg(1 * S + 2, 0, ACK, NULL, 0);
	seg(1 * S + 3, 0, PSH | ACK, req, sizeof(req) - 1);
	tm_tracker_ndpi_sync(trk);
	assert_int_equal(tm_ndpi_outstanding(n), 0);
	assert_int_equal(app_calls, 1);
	assert_string_equal(app_last, "HTTP");
	free((char *)finish());

	/* the same request, the tracker freed while its answer is out */
	start(100, 20480, NULL, n);
	seg(2 * S, 0, SYN, NULL, 0);
	seg(2 * S + 1, 1, SYN | ACK, NULL, 0);
	seg(2 * S + 2, 0, ACK, NULL, 0);
	seg(2 * S + 3, 0, PSH | ACK, req, sizeof(req) - 1);
	assert_true(tm_ndpi_outstanding(n) > 0);
	tm_tracker_free(trk);
	trk = NULL;
	assert_int_equal(tm_ndpi_outstanding(n), 0);
	assert_int_equal(app_calls, 0);
	fclose(mem);
	mem = NULL;
	free(out);
	tm_ndpi_free(n);
}

/* Without payload nDPI never runs: a flood of openings takes no state,
 * and the class is decided when the connection ends. */
static void test_no_payload_no_ndpi(void **state)
{
	struct tm_ndpi *n;
	char err[256];
	const char *r;

	(void)state;
	n = tm_ndpi_new(4, 0, err, sizeof(err));
	assert_non_null(n);
	start(100, 20480, "app HTTP", n);
	for (int i = 0; i < 50; i++) {
		struct tm_decision d;

		tb_reset(&b);
		tb_eth(&b, 0x0800);
		tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 6, 20);
		tb_tcp(&b, (uint16_t)(2000 + i), 80, SYN);
		tm_tracker_packet(trk, tm_test_decode(b.b, b.n, LT_ETHERNET),
		    S + i, ++frame, &d);
		assert_int_equal(tm_ndpi_busy(n), 0);
	}
	assert_int_equal(tm_tracker_stats(trk)->ndpi_flows, 0);
	r = finish();
	assert_int_equal(count(r, "\"class\":\"default\",\"app\":null"), 50);
	free(out);
	tm_ndpi_free(n);
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
		cmocka_unit_test(test_tcp_fin_record),
		cmocka_unit_test(test_rst_and_reuse),
		cmocka_unit_test(test_cutoff_semantics),
		cmocka_unit_test(test_timeout_and_vlan),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_uid_and_community_id),
		cmocka_unit_test(test_deferred_community_id),
		cmocka_unit_test(test_app_class_on_verdict),
		cmocka_unit_test(test_app_class_on_verdict_threaded),
		cmocka_unit_test(test_app_class_on_verdict_lanes),
		cmocka_unit_test(test_app_hook_sync_and_free),
		cmocka_unit_test(test_no_payload_no_ndpi),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
