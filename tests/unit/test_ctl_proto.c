/* The control protocol's lines and frames (core/ctl_proto.c): every request
 * and its errors with their columns, auth lines, sizes, durations, frame
 * headers, token comparison, request formatting round trips, send_frame on
 * a socket pair. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tm_test.h"
#include "ctl_proto.h"

static char buf[TM_CTL_LINE_MAX + 2];
static char err[512];
static struct tm_ctl_req req;

/* Parses text (copied, room for the NUL). 0 or -1. */
static int parse(const char *text)
{
	size_t n = strlen(text);

	assert_true(n < sizeof(buf));
	memcpy(buf, text, n);
	buf[n] = 'X';	/* the parser must write the terminator itself */
	err[0] = '\0';
	return tm_ctl_parse_request(buf, n, &req, err, sizeof(err));
}

#define assert_parse_err(text, msg) do {				\
	assert_int_equal(parse(text), -1);				\
	assert_string_equal(err, (msg));				\
} while (0)

static void test_ping_flush_clear(void **state)
{
	(void)state;
	assert_int_equal(parse("ping"), 0);
	assert_int_equal(req.verb, TM_CTL_PING);
	assert_int_equal(parse("  ping  "), 0);
	assert_int_equal(parse("ping\r"), 0);
	assert_int_equal(parse("\tping\t"), 0);
	assert_int_equal(parse("flush"), 0);
	assert_int_equal(req.verb, TM_CTL_FLUSH);
	assert_int_equal(parse("clear-cutoffs"), 0);
	assert_int_equal(req.verb, TM_CTL_CLEAR_CUTOFFS);
	assert_parse_err("ping now", "request:1:6: unexpected 'now' after "
	    "'ping'");
	assert_parse_err("flush  x", "request:1:8: unexpected 'x' after "
	    "'flush'");
	assert_parse_err("clear-cutoffs all", "request:1:15: unexpected "
	    "'all' after 'clear-cutoffs'");
}

static void test_query(void **state)
{
	(void)state;
	assert_int_equal(parse("query pcap host 10.0.0.5 and port 443"), 0);
	assert_int_equal(req.verb, TM_CTL_QUERY);
	assert_int_equal(req.count_only, 0);
	assert_string_equal(req.expr, "host 10.0.0.5 and port 443");
	assert_true(req.expr >= buf && req.expr < buf + sizeof(buf));
	assert_int_equal(parse("query count   tcp  \t "), 0);
	assert_int_equal(req.count_only, 1);
	assert_string_equal(req.expr, "tcp");
	assert_int_equal(parse("query pcap"), 0);
	assert_string_equal(req.expr, "");
	assert_int_equal(parse("query   pcap   "), 0);
	assert_string_equal(req.expr, "");
	/* tabs inside the expression become spaces */
	assert_int_equal(parse("query pcap tcp\tand\tport 80"), 0);
	assert_string_equal(req.expr, "tcp and port 80");
	assert_parse_err("query", "request:1:6: 'query' needs 'pcap' or "
	    "'count'");
	assert_parse_err("query   ", "request:1:9: 'query' needs 'pcap' or "
	    "'count'");
	assert_parse_err("query pcapng tcp", "request:1:7: unknown query "
	    "mode 'pcapng' (pcap or count)");
	assert_parse_err("query PCAP", "request:1:7: unknown query mode "
	    "'PCAP' (pcap or count)");
}

static void test_stats(void **state)
{
	(void)state;
	assert_int_equal(parse("stats json"), 0);
	assert_int_equal(req.verb, TM_CTL_STATS);
	assert_int_equal(req.json, 1);
	assert_int_equal(parse("stats text"), 0);
	assert_int_equal(req.json, 0);
	assert_parse_err("stats", "request:1:6: 'stats' needs 'json' or "
	    "'text'");
	assert_parse_err("stats xml", "request:1:7: unknown stats format "
	    "'xml' (json or text)");
	assert_parse_err("stats json pretty", "request:1:12: unexpected "
	    "'pretty' after 'json'");
	assert_parse_err("stats text x", "request:1:12: unexpected 'x' after "
	    "'text'");
}

static void test_set_cutoff(void **state)
{
	(void)state;
	assert_int_equal(parse("set-cutoff 20k 10m host 10.0.0.5"), 0);
	assert_int_equal(req.verb, TM_CTL_SET_CUTOFF);
	assert_int_equal(req.cutoff, 20480);
	assert_int_equal(req.for_ns, 600LL * 1000000000);
	assert_string_equal(req.expr, "host 10.0.0.5");
	assert_int_equal(parse("set-cutoff none - tcp port 443"), 0);
	assert_true(req.cutoff == UINT64_MAX);
	assert_int_equal(req.for_ns, 0);
	assert_string_equal(req.expr, "tcp port 443");
	assert_int_equal(parse("set-cutoff NONE 500ms tcp"), 0);
	assert_true(req.cutoff == UINT64_MAX);
	assert_int_equal(req.for_ns, 500000000);
	assert_int_equal(parse("set-cutoff 0 1d udp"), 0);
	assert_int_equal(req.cutoff, 0);
	assert_int_equal(req.for_ns, 86400LL * 1000000000);
	assert_int_equal(parse("set-cutoff 1G 2h udp"), 0);
	assert_int_equal(req.cutoff, 1ull << 30);
	assert_parse_err("set-cutoff", "request:1:11: 'set-cutoff' needs "
	    "SIZE|none FOR EXPR");
	assert_parse_err("set-cutoff 20x 10m tcp", "request:1:12: bad size "
	    "'20x' (bytes, with k, m, g or t for powers of 1024, or none)");
	assert_parse_err("set-cutoff k 10m tcp", "request:1:12: bad size 'k' "
	    "(bytes, with k, m, g or t for powers of 1024, or none)");
	assert_parse_err("set-cutoff 99999999999999999999 10m tcp",
	    "request:1:12: bad size '99999999999999999999' (bytes, with k, m, "
	    "g or t for powers of 1024, or none)");
	assert_parse_err("set-cutoff 20k", "request:1:15: 'set-cutoff' needs "
	    "FOR (a duration like 10m, or '-' for no end) and EXPR");
	assert_parse_err("set-cutoff 20k 10 tcp", "request:1:16: bad duration "
	    "'10' (a number above 0 with ms, s, m, h or d, or '-' for no "
	    "end)");
	assert_parse_err("set-cutoff 20k 0s tcp", "request:1:16: bad duration "
	    "'0s' (a number above 0 with ms, s, m, h or d, or '-' for no "
	    "end)");
	assert_parse_err("set-cutoff 20k 10w tcp", "request:1:16: bad duration "
	    "'10w' (a number above 0 with ms, s, m, h or d, or '-' for no "
	    "end)");
	assert_parse_err("set-cutoff 20k 10m", "request:1:19: 'set-cutoff' "
	    "needs an expression (the connections it applies to)");
	assert_parse_err("set-cutoff 20k 10m    ", "request:1:23: 'set-cutoff' "
	    "needs an expression (the connections it applies to)");
}

static void test_verbs_and_bytes(void **state)
{
	char big[200];

	(void)state;
	assert_parse_err("", "request:1:1: empty request (expected ping, "
	    "query, stats, set-cutoff, clear-cutoffs or flush)");
	assert_parse_err("   ", "request:1:4: empty request (expected ping, "
	    "query, stats, set-cutoff, clear-cutoffs or flush)");
	assert_parse_err("      quer tcp", "request:1:7: unknown verb 'quer' "
	    "(expected ping, query, stats, set-cutoff, clear-cutoffs or "
	    "flush)");
	assert_parse_err("PING", "request:1:1: unknown verb 'PING' (expected "
	    "ping, query, stats, set-cutoff, clear-cutoffs or flush)");
	assert_parse_err("auth x", "request:1:1: 'auth' is only allowed as "
	    "the first line");
	/* control characters anywhere: the first one's column */
	assert_parse_err("query pcap tcp\x01", "request:1:15: control "
	    "character 0x01");
	assert_parse_err("pi\x7fng", "request:1:3: control character 0x7f");
	assert_parse_err("ping\n", "request:1:5: control character 0x0a");
	assert_parse_err("ping\r\r", "request:1:5: control character 0x0d");
	assert_int_equal(tm_ctl_parse_request(memcpy(buf, "pi\0ng", 5), 5,
	    &req, err, sizeof(err)), -1);
	assert_string_equal(err, "request:1:3: control character 0x00");
	/* bytes outside ASCII are quoted as \xNN; long words are cut */
	assert_parse_err("qu\xc3\xa9ry", "request:1:1: unknown verb "
	    "'qu\\xc3\\xa9ry' (expected ping, query, stats, set-cutoff, "
	    "clear-cutoffs or flush)");
	assert_parse_err("it's", "request:1:1: unknown verb 'it\\x27s' "
	    "(expected ping, query, stats, set-cutoff, clear-cutoffs or "
	    "flush)");
	memset(big, 'a', 100);
	big[100] = '\0';
	assert_parse_err(big, "request:1:1: unknown verb "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (expected ping, "
	    "query, stats, set-cutoff, clear-cutoffs or flush)");
	/* a small error buffer is cut, never overrun */
	memcpy(buf, "quer", 4);
	memset(err, 'Z', sizeof(err));
	assert_int_equal(tm_ctl_parse_request(buf, 4, &req, err, 12), -1);
	assert_string_equal(err, "request:1:1");
	assert_int_equal(err[12], 'Z');
}

static void test_long_line(void **state)
{
	static char line[TM_CTL_LINE_MAX + 1];
	size_t n = TM_CTL_LINE_MAX - 1;	/* the longest line without "\n" */

	(void)state;
	memset(line, 'x', n);
	memcpy(line, "query pcap ", 11);
	assert_int_equal(tm_ctl_parse_request(line, n, &req, err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(req.expr), n - 11);
}

static int auth(const char *text, const char **tok)
{
	size_t n = strlen(text);

	memcpy(buf, text, n);
	buf[n] = 'X';
	err[0] = '\0';
	return tm_ctl_parse_auth(buf, n, tok, err, sizeof(err));
}

static void test_auth(void **state)
{
	const char *tok;
	char big[400];

	(void)state;
	assert_int_equal(auth("auth s3cret-T0ken", &tok), 0);
	assert_string_equal(tok, "s3cret-T0ken");
	assert_int_equal(auth("  auth\tabc  \r", &tok), 0);
	assert_string_equal(tok, "abc");
	assert_int_equal(auth("auth", &tok), -1);
	assert_null(tok);
	assert_string_equal(err, "auth:1:5: 'auth' needs a token");
	assert_int_equal(auth("", &tok), -1);
	assert_string_equal(err, "auth:1:1: expected 'auth TOKEN'");
	assert_int_equal(auth("ping", &tok), -1);
	assert_string_equal(err, "auth:1:1: expected 'auth TOKEN'");
	assert_int_equal(auth("  authx y", &tok), -1);
	assert_string_equal(err, "auth:1:3: expected 'auth TOKEN'");
	assert_int_equal(auth("auth a b", &tok), -1);
	assert_string_equal(err, "auth:1:8: unexpected word after the token");
	assert_int_equal(auth("auth to\x01k", &tok), -1);
	assert_string_equal(err, "auth:1:8: control character 0x01");
	assert_int_equal(auth("auth tok\xc3\xa9", &tok), -1);
	assert_string_equal(err, "auth:1:9: the token has a byte outside "
	    "printable ASCII");
	memcpy(big, "auth ", 5);
	memset(big + 5, 'k', 257);
	big[262] = '\0';
	assert_int_equal(auth(big, &tok), -1);
	assert_string_equal(err, "auth:1:6: the token is longer than 256 "
	    "bytes");
	big[261] = '\0';	/* 256 bytes: the most */
	assert_int_equal(auth(big, &tok), 0);
	assert_int_equal(strlen(tok), 256);
	assert_int_equal(tm_ctl_is_auth_line("auth x", 6), 1);
	assert_int_equal(tm_ctl_is_auth_line(" \tauth", 6), 1);
	assert_int_equal(tm_ctl_is_auth_line("auth\r", 5), 1);
	assert_int_equal(tm_ctl_is_auth_line("authx", 5), 0);
	assert_int_equal(tm_ctl_is_auth_line("aut", 3), 0);
	assert_int_equal(tm_ctl_is_auth_line("ping", 4), 0);
	assert_int_equal(tm_ctl_token_valid("abc"), 1);
	assert_int_equal(tm_ctl_token_valid(""), 0);
	assert_int_equal(tm_ctl_token_valid("a b"), 0);
	assert_int_equal(tm_ctl_token_valid("a\x7f"), 0);
	assert_int_equal(tm_ctl_token_valid(big + 5), 1);
	big[261] = 'k';
	assert_int_equal(tm_ctl_token_valid(big + 5), 0);
}

static void test_token_equal(void **state)
{
	char a[300], b[300];

	(void)state;
	assert_int_equal(tm_ctl_token_equal("abc", "abc"), 1);
	assert_int_equal(tm_ctl_token_equal("abc", "abd"), 0);
	assert_int_equal(tm_ctl_token_equal("abc", "ab"), 0);
	assert_int_equal(tm_ctl_token_equal("ab", "abc"), 0);
	assert_int_equal(tm_ctl_token_equal("", ""), 1);
	assert_int_equal(tm_ctl_token_equal("x", ""), 0);
	memset(a, 'q', 256);
	a[256] = '\0';
	memcpy(b, a, 257);
	assert_int_equal(tm_ctl_token_equal(a, b), 1);
	b[255] = 'r';
	assert_int_equal(tm_ctl_token_equal(a, b), 0);
	/* longer than any token: never equal */
	memset(a, 'q', 299);
	a[299] = '\0';
	memcpy(b, a, 300);
	assert_int_equal(tm_ctl_token_equal(a, b), 0);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
#define SZ(s) tm_ctl_parse_size((s), strlen(s), &v)
	assert_int_equal(SZ("0"), 0);
	assert_int_equal(v, 0);
	assert_int_equal(SZ("1500"), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(SZ("20k"), 0);
	assert_int_equal(v, 20480);
	assert_int_equal(SZ("20K"), 0);
	assert_int_equal(v, 20480);
	assert_int_equal(SZ("3m"), 0);
	assert_int_equal(v, 3u << 20);
	assert_int_equal(SZ("2g"), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(SZ("1t"), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(SZ("none"), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(SZ("None"), 0);
	assert_int_equal(SZ("18446744073709551614"), 0);
	assert_true(v == UINT64_MAX - 1);
	assert_int_equal(SZ("18446744073709551615"), -1);	/* = none */
	assert_int_equal(SZ("18446744073709551616"), -1);
	assert_int_equal(SZ("16777216t"), -1);			/* 2^64 */
	assert_int_equal(SZ("16777215t"), 0);
	assert_int_equal(SZ(""), -1);
	assert_int_equal(SZ("k"), -1);
	assert_int_equal(SZ("-1"), -1);
	assert_int_equal(SZ("1kb"), -1);
	assert_int_equal(SZ("1 k"), -1);
	assert_int_equal(SZ("1.5k"), -1);
	assert_int_equal(SZ("nonex"), -1);
	assert_int_equal(SZ("non"), -1);
	/* only n bytes are read */
	assert_int_equal(tm_ctl_parse_size("20kXYZ", 3, &v), 0);
	assert_int_equal(v, 20480);
#undef SZ
}

static void test_durations(void **state)
{
	int64_t ns;
	char out[32];

	(void)state;
#define DU(s) tm_ctl_parse_duration((s), strlen(s), &ns)
	assert_int_equal(DU("-"), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(DU("500ms"), 0);
	assert_int_equal(ns, 500000000);
	assert_int_equal(DU("30s"), 0);
	assert_int_equal(ns, 30000000000LL);
	assert_int_equal(DU("10m"), 0);
	assert_int_equal(ns, 600000000000LL);
	assert_int_equal(DU("2h"), 0);
	assert_int_equal(ns, 7200000000000LL);
	assert_int_equal(DU("1d"), 0);
	assert_int_equal(ns, 86400000000000LL);
	assert_int_equal(DU("106751d"), 0);	/* INT64_MAX ns is 106751.99 d */
	assert_int_equal(DU("106752d"), -1);
	assert_int_equal(DU("99999999999999999999s"), -1);
	assert_int_equal(DU("0s"), -1);
	assert_int_equal(DU("0ms"), -1);
	assert_int_equal(DU("10"), -1);
	assert_int_equal(DU(""), -1);
	assert_int_equal(DU("s"), -1);
	assert_int_equal(DU("--"), -1);
	assert_int_equal(DU("1S"), -1);
	assert_int_equal(DU("1sec"), -1);
	assert_int_equal(DU("1.5s"), -1);
	assert_int_equal(DU("-1s"), -1);
	assert_int_equal(DU("1 s"), -1);
	assert_int_equal(tm_ctl_parse_duration("10mXX", 3, &ns), 0);
	assert_int_equal(ns, 600000000000LL);
#undef DU
	assert_int_equal(tm_ctl_format_duration(0, out, sizeof(out)), 1);
	assert_string_equal(out, "-");
	assert_int_equal(tm_ctl_format_duration(90000000000LL, out,
	    sizeof(out)), 3);
	assert_string_equal(out, "90s");
	assert_int_equal(tm_ctl_format_duration(7200000000000LL, out,
	    sizeof(out)), 2);
	assert_string_equal(out, "2h");
	assert_int_equal(tm_ctl_format_duration(172800000000000LL, out,
	    sizeof(out)), 2);
	assert_string_equal(out, "2d");
	assert_int_equal(tm_ctl_format_duration(1500000000LL, out,
	    sizeof(out)), 6);
	assert_string_equal(out, "1500ms");
	assert_int_equal(tm_ctl_format_duration(1, out, sizeof(out)), -1);
	assert_int_equal(tm_ctl_format_duration(-1000000, out, sizeof(out)),
	    -1);
	assert_int_equal(tm_ctl_format_duration(7200000000000LL, out, 2), -1);
}

/* format -> parse gives the same request */
static void roundtrip(const struct tm_ctl_req *r)
{
	char line[512];
	struct tm_ctl_req back;
	int n = tm_ctl_format_request(r, line, sizeof(line));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(tm_ctl_parse_request(line, (size_t)n - 1, &back, err,
	    sizeof(err)), 0);
	assert_int_equal(back.verb, r->verb);
	assert_int_equal(back.count_only, r->count_only);
	assert_int_equal(back.json, r->json);
	if (r->verb == TM_CTL_SET_CUTOFF) {
		assert_true(back.cutoff == r->cutoff);
		assert_true(back.for_ns == r->for_ns);
	}
	assert_string_equal(back.expr, r->expr ? r->expr : "");
}

static void test_format(void **state)
{
	struct tm_ctl_req r;
	char line[64];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.verb = TM_CTL_PING;
	roundtrip(&r);
	r.verb = TM_CTL_FLUSH;
	roundtrip(&r);
	r.verb = TM_CTL_CLEAR_CUTOFFS;
	roundtrip(&r);
	r.verb = TM_CTL_STATS;
	roundtrip(&r);
	r.json = 1;
	roundtrip(&r);
	r.json = 0;
	r.verb = TM_CTL_QUERY;
	r.expr = "";
	roundtrip(&r);
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), 11);
	assert_string_equal(line, "query pcap\n");
	r.expr = "host 10.0.0.5 and last 1h";
	r.count_only = 1;
	roundtrip(&r);
	r.count_only = 0;
	r.verb = TM_CTL_SET_CUTOFF;
	r.cutoff = 20480;
	r.for_ns = 600LL * 1000000000;
	r.expr = "tcp port 443";
	roundtrip(&r);
	assert_true(tm_ctl_format_request(&r, line, sizeof(line)) > 0);
	assert_string_equal(line, "set-cutoff 20480 10m tcp port 443\n");
	r.cutoff = UINT64_MAX;
	r.for_ns = 0;
	roundtrip(&r);
	assert_true(tm_ctl_format_request(&r, line, sizeof(line)) > 0);
	assert_string_equal(line, "set-cutoff none - tcp port 443\n");
	/* refused: no expression, control characters, no room, bad time */
	r.expr = "  ";
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), -1);
	r.expr = "tcp\nping";
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), -1);
	r.verb = TM_CTL_QUERY;
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), -1);
	r.expr = "tcp";
	assert_int_equal(tm_ctl_format_request(&r, line, 10), -1);
	r.verb = TM_CTL_SET_CUTOFF;
	r.for_ns = 1;
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), -1);
	r.verb = (enum tm_ctl_verb)99;
	assert_int_equal(tm_ctl_format_request(&r, line, sizeof(line)), -1);
}

static void test_frames(void **state)
{
	uint8_t h[8];
	uint32_t len;
	int type;

	(void)state;
	tm_ctl_frame_header(h, 'D', 0x01020304);
	assert_memory_equal(h, "D\x01\x02\x03\x04", 5);
	tm_ctl_frame_header(h, 'K', 2);
	assert_int_equal(tm_ctl_frame_parse(h, 5, &type, &len), 1);
	assert_int_equal(type, 'K');
	assert_int_equal(len, 2);
	for (size_t n = 0; n < 5; n++)
		assert_int_equal(tm_ctl_frame_parse(h, n, &type, &len), 0);
	tm_ctl_frame_header(h, 'D', TM_CTL_FRAME_MAX);
	assert_int_equal(tm_ctl_frame_parse(h, 5, &type, &len), 1);
	assert_int_equal(len, TM_CTL_FRAME_MAX);
	tm_ctl_frame_header(h, 'D', TM_CTL_FRAME_MAX + 1);
	assert_int_equal(tm_ctl_frame_parse(h, 5, &type, &len), -1);
	tm_ctl_frame_header(h, 'E', 0xffffffffu);
	assert_int_equal(tm_ctl_frame_parse(h, 5, &type, &len), -1);
	for (int t = 0; t < 256; t++) {
		int ok = t == 'D' || t == 'N' || t == 'K' || t == 'E';

		tm_ctl_frame_header(h, t, 0);
		assert_int_equal(tm_ctl_frame_parse(h, 5, &type, &len),
		    ok ? 1 : -1);
	}
}

static void test_send_frame(void **state)
{
	int sv[2];
	uint8_t *big = malloc(TM_CTL_FRAME_MAX + 5), *got;
	size_t have = 0;
	uint32_t len;
	int type, status;
	pid_t child;

	(void)state;
	assert_non_null(big);
	got = malloc(TM_CTL_FRAME_MAX + 5);
	assert_non_null(got);
	for (size_t i = 0; i < TM_CTL_FRAME_MAX; i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(sv[0]);
		_exit(tm_ctl_send_frame(sv[1], 'D', big, TM_CTL_FRAME_MAX) ?
		    1 : 0);
	}
	close(sv[1]);
	for (;;) {
		ssize_t r = read(sv[0], got + have, TM_CTL_FRAME_MAX + 5 -
		    have);

		assert_true(r >= 0);
		if (r == 0)
			break;
		have += (size_t)r;
	}
	assert_int_equal(have, TM_CTL_FRAME_MAX + 5);
	assert_int_equal(tm_ctl_frame_parse(got, have, &type, &len), 1);
	assert_int_equal(type, 'D');
	assert_int_equal(len, TM_CTL_FRAME_MAX);
	assert_memory_equal(got + 5, big, TM_CTL_FRAME_MAX);
	close(sv[0]);
	assert_int_equal(wait(&status), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* refused before anything is sent */
	assert_int_equal(tm_ctl_send_frame(1, 'D', big, TM_CTL_FRAME_MAX + 1),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(tm_ctl_send_frame(1, 'X', "", 0), -1);
	assert_int_equal(errno, EINVAL);
	/* a peer that went away: EPIPE, not SIGPIPE (default disposition) */
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(tm_ctl_send_frame(sv[0], 'K', "{}", 2), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
	/* a pipe is not a socket: plain write */
	assert_int_equal(pipe(sv), 0);
	assert_int_equal(tm_ctl_send_frame(sv[1], 'N', "hi", 2), 0);
	assert_int_equal(read(sv[0], got, 16), 7);
	assert_memory_equal(got, "N\0\0\0\2hi", 7);
	close(sv[0]);
	close(sv[1]);
	free(big);
	free(got);
}

static void test_hostport(void **state)
{
	char h[64], p[8];

	(void)state;
	assert_int_equal(tm_ctl_split_hostport("10.0.0.1:7000", h, sizeof(h),
	    p, sizeof(p)), 0);
	assert_string_equal(h, "10.0.0.1");
	assert_string_equal(p, "7000");
	assert_int_equal(tm_ctl_split_hostport(":7000", h, sizeof(h), p,
	    sizeof(p)), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(tm_ctl_split_hostport("[::1]:0", h, sizeof(h), p,
	    sizeof(p)), 0);
	assert_string_equal(h, "::1");
	assert_string_equal(p, "0");
	assert_int_equal(tm_ctl_split_hostport("localhost:65535", h,
	    sizeof(h), p, sizeof(p)), 0);
	assert_int_equal(tm_ctl_split_hostport("localhost:65536", h,
	    sizeof(h), p, sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("::1:80", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("host", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("host:", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("host:8x", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("[::1]80", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("[::1:80", h, sizeof(h), p,
	    sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("host:0000080", h, sizeof(h),
	    p, sizeof(p)), -1);
	assert_int_equal(tm_ctl_split_hostport("a-very-long-host-name:80", h,
	    8, p, sizeof(p)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_flush_clear),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_set_cutoff),
		cmocka_unit_test(test_verbs_and_bytes),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_token_equal),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_send_frame),
		cmocka_unit_test(test_hostport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
