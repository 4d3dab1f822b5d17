/*
 * libFuzzer target for the control protocol's parsers (core/ctl_proto.c):
 * what a hostile client sends (the auth line, the request line) and what a
 * hostile server sends (frame headers).
 *
 * Input: any bytes. Up to the first "\n" is parsed as an auth line and as a
 * request line; what follows, up to the next "\n", as a request line (the
 * server reads exactly those two); the whole input as a sequence of frames;
 * its first word as a size and as a duration.
 *
 * Beyond the sanitizers, it checks:
 *  - a refused line has a message "request:1:N: " / "auth:1:N: " with N
 *    within the line (or one past it);
 *  - an accepted request has a known verb, an expression inside the line,
 *    NUL-terminated there, without control characters or outer spaces;
 *    tm_ctl_format_request writes it back and that parses to the same
 *    request (the client's and the server's views agree);
 *  - an accepted token is valid and equal to itself, and the line is an
 *    auth line;
 *  - a size or duration that parses formats back (durations) and is in
 *    range.
 * A violation aborts with a message.
 *
 * Seeds: tests/fuzz/fuzz_ctl.seeds.sh DIR (run.sh calls it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

static char line[TM_CTL_LINE_MAX + 1];
static char again[TM_CTL_LINE_MAX + 64];
static char err[512];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ctl: %s (err '%s')\n", what, err);
	abort();
}

static void check_col(const char *prefix, size_t n)
{
	size_t pl = strlen(prefix);
	char *end;
	unsigned long col;

	if (strncmp(err, prefix, pl) != 0)
		die("error without its prefix");
	col = strtoul(err + pl, &end, 10);
	if (end == err + pl || *end != ':' || end[1] != ' ')
		die("error without a column");
	if (col < 1 || col > n + 1)
		die("column outside the line");
}

static int bad_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void check_request(const uint8_t *p, size_t n)
{
	struct tm_ctl_req r, r2;
	int k;

	if (n >= TM_CTL_LINE_MAX)
		return;
	memcpy(line, p, n);
	line[n] = 'X';	/* the parser must terminate the line itself */
	err[0] = '\0';
	if (tm_ctl_parse_request(line, n, &r, err, sizeof(err))) {
		check_col("request:1:", n);
		return;
	}
	if (r.verb > TM_CTL_FLUSH)
		die("unknown verb accepted");
	if (r.expr[0] && (r.expr < line || r.expr >= line + n))
		die("expression outside the line");
	if (r.expr[0] && r.expr + strlen(r.expr) > line + n)
		die("expression not terminated inside the line");
	if (bad_char(r.expr))
		die("control character in the expression");
	if (r.expr[0] == ' ' || (r.expr[0] &&
	    r.expr[strlen(r.expr) - 1] == ' '))
		die("expression not trimmed");
	if (r.verb == TM_CTL_SET_CUTOFF && (!r.expr[0] || r.for_ns < 0))
		die("set-cutoff without an expression");
	k = tm_ctl_format_request(&r, again, sizeof(again));
	if (k < 0) {
		/* only a line near the limit can grow past it */
		if (n + 40 < TM_CTL_LINE_MAX)
			die("an accepted request does not format");
		return;
	}
	if ((size_t)k != strlen(again) || again[k - 1] != '\n')
		die("formatted length");
	if (tm_ctl_parse_request(again, (size_t)k - 1, &r2, err, sizeof(err)))
		die("the formatted request does not parse");
	if (r2.verb != r.verb || r2.count_only != r.count_only ||
	    r2.json != r.json || strcmp(r2.expr, r.expr) != 0 ||
	    (r.verb == TM_CTL_SET_CUTOFF && (r2.cutoff != r.cutoff ||
	    r2.for_ns != r.for_ns)))
		die("the formatted request parses differently");
}

static void check_auth(const uint8_t *p, size_t n)
{
	const char *tok;
	int is;

	if (n >= TM_CTL_LINE_MAX)
		return;
	memcpy(line, p, n);
	is = tm_ctl_is_auth_line(line, n);
	line[n] = 'X';
	err[0] = '\0';
	if (tm_ctl_parse_auth(line, n, &tok, err, sizeof(err))) {
		check_col("auth:1:", n);
		if (tok)
			die("token set on an error");
		return;
	}
	if (!is)
		die("an auth line tm_ctl_is_auth_line does not see");
	if (tok < line || tok >= line + n || !tm_ctl_token_valid(tok))
		die("bad token accepted");
	if (!tm_ctl_token_equal(tok, tok))
		die("a token differs from itself");
	if (strlen(tok) > 1) {
		char other[TM_CTL_TOKEN_MAX + 1];

		memcpy(other, tok, strlen(tok) + 1);
		other[0] = other[0] == 'a' ? 'b' : 'a';
		if (tm_ctl_token_equal(tok, other))
			die("different tokens compare equal");
		other[strlen(other) - 1] = '\0';
		if (tm_ctl_token_equal(tok, other))
			die("a token equals its prefix");
	}
}

static void check_values(const uint8_t *p, size_t n)
{
	size_t w = 0;
	uint64_t sz;
	int64_t ns;
	char out[40];

	while (w < n && w < 64 && p[w] != ' ' && p[w] != '\n')
		w++;
	if (tm_ctl_parse_size((const char *)p, w, &sz) == 0 && w == 0)
		die("empty size accepted");
	if (tm_ctl_parse_duration((const char *)p, w, &ns) == 0) {
		int64_t back;
		int k;

		if (ns < 0)
			die("negative duration");
		k = tm_ctl_format_duration(ns, out, sizeof(out));
		if (k < 0 || tm_ctl_parse_duration(out, (size_t)k, &back) ||
		    back != ns)
			die("duration does not round trip");
	}
}

static void check_frames(const uint8_t *p, size_t n)
{
	size_t off = 0;

	for (;;) {
		uint32_t len;
		int type, r = tm_ctl_frame_parse(p + off, n - off, &type, &len);

		if (r == 0 && n - off >= TM_CTL_FRAME_HDR)
			die("a whole header wants more");
		if (r != 1)
			return;
		if (len > TM_CTL_FRAME_MAX || (type != 'D' && type != 'N' &&
		    type != 'K' && type != 'E'))
			die("bad frame accepted");
		if (n - off - TM_CTL_FRAME_HDR < len)
			return;
		off += TM_CTL_FRAME_HDR + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;

	check_auth(data, first);
	check_request(data, first);
	if (nl) {
		const uint8_t *rest = nl + 1;
		size_t left = size - first - 1;
		const uint8_t *nl2 = memchr(rest, '\n', left);

		check_request(rest, nl2 ? (size_t)(nl2 - rest) : left);
	}
	check_values(data, size);
	check_frames(data, size);
	return 0;
}
