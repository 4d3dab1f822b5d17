/*
 * The control protocol's lines and frames (ctl_proto.h,
 * docs/control-protocol.md). The parsers read only line[0..len] and write
 * only there; nothing is allocated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ctl_proto.h"

#define NS_PER_MS 1000000LL
#define ECHO_MAX 40	/* bytes of a bad word quoted in an error */

/* ---- words ----------------------------------------------------------------- */

struct cur {
	char *s;
	size_t len;
	size_t pos;
};

/* The next word: skips spaces, then [*at, *at + *n). 0 if none is left. */
static int next_word(struct cur *c, size_t *at, size_t *n)
{
	while (c->pos < c->len && c->s[c->pos] == ' ')
		c->pos++;
	if (c->pos >= c->len)
		return 0;
	*at = c->pos;
	while (c->pos < c->len && c->s[c->pos] != ' ')
		c->pos++;
	*n = c->pos - *at;
	return 1;
}

static int word_is(const struct cur *c, size_t at, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(c->s + at, w, n) == 0;
}

/* A word for an error message: at most ECHO_MAX bytes, anything outside
 * printable ASCII as \xNN, so the message is plain ASCII. */
static void echo(char *dst, size_t dstlen, const char *w, size_t n)
{
	size_t o = 0;

	if (!dstlen)
		return;
	for (size_t i = 0; i < n && i < ECHO_MAX; i++) {
		unsigned char ch = (unsigned char)w[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\'') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)ch;
		} else {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, dstlen - o, "\\x%02x", ch);
			o += 4;
		}
	}
	if (n > ECHO_MAX && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

__attribute__((format(printf, 5, 6)))
static int fail(char *err, size_t errlen, const char *what, size_t col,
    const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!err || !errlen)
		return -1;
	k = snprintf(err, errlen, "%s:1:%zu: ", what, col);
	if (k < 0 || (size_t)k >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Common start of both parsers: drops a final "\r", refuses control
 * characters, turns tabs into spaces, terminates the line. 0 or -1.
 */
static int prepare(char *line, size_t *len, const char *what, char *err,
    size_t errlen)
{
	size_t n = *len;

	if (n && line[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == '\t')
			line[i] = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			return fail(err, errlen, what, i + 1,
			    "control character 0x%02x", ch);
	}
	line[n] = '\0';
	*len = n;
	return 0;
}

/* ---- sizes and durations --------------------------------------------------- */

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

int tm_ctl_parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (n == 4 && lower(s[0]) == 'n' && lower(s[1]) == 'o' &&
	    lower(s[2]) == 'n' && lower(s[3]) == 'e') {
		*out = TM_CTL_CUTOFF_NONE;
		return 0;
	}
	if (n == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (i < n) {
		switch (lower(s[i])) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		case 't': mul = 1ull << 40; break;
		default: return -1;
		}
		if (++i != n)
			return -1;
	}
	if (v && mul > UINT64_MAX / v)
		return -1;
	v *= mul;
	if (v == TM_CTL_CUTOFF_NONE)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	int64_t ns;
} units[] = {	/* largest first: tm_ctl_format_duration picks the first */
	{ "d", 86400LL * 1000 * NS_PER_MS },
	{ "h", 3600LL * 1000 * NS_PER_MS },
	{ "m", 60LL * 1000 * NS_PER_MS },
	{ "s", 1000LL * NS_PER_MS },
	{ "ms", NS_PER_MS },
};

int tm_ctl_parse_duration(const char *s, size_t n, int64_t *ns)
{
	int64_t v = 0;
	size_t i = 0;

	if (n == 1 && s[0] == '-') {
		*ns = 0;
		return 0;
	}
	if (n == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		int64_t d = s[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v == 0)
		return -1;
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ul = strlen(units[u].name);

		if (n - i != ul || memcmp(s + i, units[u].name, ul) != 0)
			continue;
		if (v > INT64_MAX / units[u].ns)
			return -1;
		*ns = v * units[u].ns;
		return 0;
	}
	return -1;
}

int tm_ctl_format_duration(int64_t ns, char *buf, size_t len)
{
	int k;

	if (ns < 0 || ns % NS_PER_MS)
		return -1;
	if (ns == 0) {
		k = snprintf(buf, len, "-");
	} else {
		size_t u = 0;

		while (ns % units[u].ns)
			u++;
		k = snprintf(buf, len, "%" PRId64 "%s", ns / units[u].ns,
		    units[u].name);
	}
	return k < 0 || (size_t)k >= len ? -1 : k;
}

/* ---- requests -------------------------------------------------------------- */

#define VERBS "ping, query, stats, set-cutoff, clear-cutoffs or flush"

/* The rest of the line from c->pos, spaces trimmed on both ends. */
static const char *rest(struct cur *c)
{
	size_t end = c->len;

	while (c->pos < c->len && c->s[c->pos] == ' ')
		c->pos++;
	while (end > c->pos && c->s[end - 1] == ' ')
		c->s[--end] = '\0';
	return c->s + c->pos;
}

static int no_more(struct cur *c, const char *after, char *err, size_t errlen)
{
	size_t at, n;
	char w[4 * ECHO_MAX + 8];

	if (!next_word(c, &at, &n))
		return 0;
	echo(w, sizeof(w), c->s + at, n);
	return fail(err, errlen, "request", at + 1, "unexpected '%s' after "
	    "'%s'", w, after);
}

int tm_ctl_parse_request(char *line, size_t len, struct tm_ctl_req *r,
    char *err, size_t errlen)
{
	struct cur c;
	size_t at, n;
	char w[4 * ECHO_MAX + 8];

	memset(r, 0, sizeof(*r));
	r->cutoff = TM_CTL_CUTOFF_NONE;
	r->expr = "";
	if (prepare(line, &len, "request", err, errlen))
		return -1;
	c.s = line;
	c.len = len;
	c.pos = 0;
	if (!next_word(&c, &at, &n))
		return fail(err, errlen, "request", c.pos + 1,
		    "empty request (expected " VERBS ")");
	if (word_is(&c, at, n, "ping")) {
		r->verb = TM_CTL_PING;
		return no_more(&c, "ping", err, errlen);
	}
	if (word_is(&c, at, n, "flush")) {
		r->verb = TM_CTL_FLUSH;
		return no_more(&c, "flush", err, errlen);
	}
	if (word_is(&c, at, n, "clear-cutoffs")) {
		r->verb = TM_CTL_CLEAR_CUTOFFS;
		return no_more(&c, "clear-cutoffs", err, errlen);
	}
	if (word_is(&c, at, n, "query")) {
		r->verb = TM_CTL_QUERY;
		if (!next_word(&c, &at, &n))
			return fail(err, errlen, "request", c.pos + 1,
			    "'query' needs 'pcap' or 'count'");
		if (word_is(&c, at, n, "count")) {
			r->count_only = 1;
		} else if (!word_is(&c, at, n, "pcap")) {
			echo(w, sizeof(w), line + at, n);
			return fail(err, errlen, "request", at + 1,
			    "unknown query mode '%s' (pcap or count)", w);
		}
		r->expr = rest(&c);
		return 0;
	}
	if (word_is(&c, at, n, "stats")) {
		r->verb = TM_CTL_STATS;
		if (!next_word(&c, &at, &n))
			return fail(err, errlen, "request", c.pos + 1,
			    "'stats' needs 'json' or 'text'");
		if (word_is(&c, at, n, "json")) {
			r->json = 1;
		} else if (!word_is(&c, at, n, "text")) {
			echo(w, sizeof(w), line + at, n);
			return fail(err, errlen, "request", at + 1,
			    "unknown stats format '%s' (json or text)", w);
		}
		return no_more(&c, r->json ? "json" : "text", err,
		    errlen);
	}
	if (word_is(&c, at, n, "set-cutoff")) {
		r->verb = TM_CTL_SET_CUTOFF;
		if (!next_word(&c, &at, &n))
			return fail(err, errlen, "request", c.pos + 1,
			    "'set-cutoff' needs SIZE|none FOR EXPR");
		if (tm_ctl_parse_size(line + at, n, &r->cutoff)) {
			echo(w, sizeof(w), line + at, n);
			return fail(err, errlen, "request", at + 1,
			    "bad size '%s' (bytes, with k, m, g or t for "
			    "powers of 1024, or none)", w);
		}
		if (!next_word(&c, &at, &n))
			return fail(err, errlen, "request", c.pos + 1,
			    "'set-cutoff' needs FOR (a duration like 10m, or "
			    "'-' for no end) and EXPR");
		if (tm_ctl_parse_duration(line + at, n, &r->for_ns)) {
			echo(w, sizeof(w), line + at, n);
			return fail(err, errlen, "request", at + 1,
			    "bad duration '%s' (a number above 0 with ms, s, "
			    "m, h or d, or '-' for no end)", w);
		}
		r->expr = rest(&c);
		if (!r->expr[0])
			return fail(err, errlen, "request", c.pos + 1,
			    "'set-cutoff' needs an expression (the "
			    "connections it applies to)");
		return 0;
	}
	if (word_is(&c, at, n, "auth"))
		return fail(err, errlen, "request", at + 1,
		    "'auth' is only allowed as the first line");
	echo(w, sizeof(w), line + at, n);
	return fail(err, errlen, "request", at + 1, "unknown verb '%s' "
	    "(expected " VERBS ")", w);
}

int tm_ctl_is_auth_line(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 4 || memcmp(line + i, "auth", 4) != 0)
		return 0;
	i += 4;
	return i == len || line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r';
}

int tm_ctl_token_valid(const char *s)
{
	size_t i = 0;

	for (; s[i]; i++)
		if (i >= TM_CTL_TOKEN_MAX || s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return i > 0;
}

int tm_ctl_parse_auth(char *line, size_t len, const char **token, char *err,
    size_t errlen)
{
	struct cur c;
	size_t at, n, tat, tn;

	*token = NULL;
	if (prepare(line, &len, "auth", err, errlen))
		return -1;
	c.s = line;
	c.len = len;
	c.pos = 0;
	if (!next_word(&c, &at, &n))
		return fail(err, errlen, "auth", c.pos + 1,
		    "expected 'auth TOKEN'");
	if (!word_is(&c, at, n, "auth"))
		return fail(err, errlen, "auth", at + 1,
		    "expected 'auth TOKEN'");
	if (!next_word(&c, &tat, &tn))
		return fail(err, errlen, "auth", c.pos + 1,
		    "'auth' needs a token");
	if (tn > TM_CTL_TOKEN_MAX)
		return fail(err, errlen, "auth", tat + 1, "the token is longer "
		    "than %d bytes", TM_CTL_TOKEN_MAX);
	for (size_t i = tat; i < tat + tn; i++)
		if ((unsigned char)line[i] >= 0x7f)
			return fail(err, errlen, "auth", i + 1, "the token "
			    "has a byte outside printable ASCII");
	if (next_word(&c, &at, &n))
		return fail(err, errlen, "auth", at + 1,
		    "unexpected word after the token");
	line[tat + tn] = '\0';	/* a space or the line's end */
	*token = line + tat;
	return 0;
}

int tm_ctl_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	volatile unsigned char diff = 0;

	if (la > TM_CTL_TOKEN_MAX || lb > TM_CTL_TOKEN_MAX)
		return 0;
	diff |= (unsigned char)(la != lb);
	for (size_t i = 0; i < TM_CTL_TOKEN_MAX; i++) {
		unsigned char x = i < la ? (unsigned char)a[i] : 0;
		unsigned char y = i < lb ? (unsigned char)b[i] : 0;

		diff |= x ^ y;
	}
	return diff == 0;
}

static int expr_ok(const char *e, int need)
{
	int any = 0;

	for (; *e; e++) {
		unsigned char ch = (unsigned char)*e;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
		if (ch != ' ' && ch != '\t')
			any = 1;
	}
	return any || !need;
}

int tm_ctl_format_request(const struct tm_ctl_req *r, char *buf, size_t len)
{
	const char *e = r->expr ? r->expr : "";
	char size[24], dur[32];
	int k;

	switch (r->verb) {
	case TM_CTL_PING:
		k = snprintf(buf, len, "ping\n");
		break;
	case TM_CTL_FLUSH:
		k = snprintf(buf, len, "flush\n");
		break;
	case TM_CTL_CLEAR_CUTOFFS:
		k = snprintf(buf, len, "clear-cutoffs\n");
		break;
	case TM_CTL_STATS:
		k = snprintf(buf, len, "stats %s\n", r->json ? "json" : "text");
		break;
	case TM_CTL_QUERY:
		if (!expr_ok(e, 0))
			return -1;
		k = snprintf(buf, len, "query %s%s%s\n",
		    r->count_only ? "count" : "pcap", e[0] ? " " : "", e);
		break;
	case TM_CTL_SET_CUTOFF:
		if (!expr_ok(e, 1) ||
		    tm_ctl_format_duration(r->for_ns, dur, sizeof(dur)) < 0)
			return -1;
		if (r->cutoff == TM_CTL_CUTOFF_NONE)
			snprintf(size, sizeof(size), "none");
		else
			snprintf(size, sizeof(size), "%" PRIu64, r->cutoff);
		k = snprintf(buf, len, "set-cutoff %s %s %s\n", size, dur, e);
		break;
	default:
		return -1;
	}
	if (k < 0 || (size_t)k >= len || (size_t)k > TM_CTL_LINE_MAX)
		return -1;
	return k;
}

/* ---- addresses ------------------------------------------------------------- */

int tm_ctl_split_hostport(const char *addr, char *host, size_t hlen,
    char *port, size_t plen)
{
	const char *colon, *h = addr;
	size_t hl, pl;

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -1;
		h = addr + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -1;
		hl = (size_t)(colon - addr);
	}
	pl = strlen(colon + 1);
	if (hl >= hlen || pl == 0 || pl > 5 || pl >= plen)
		return -1;
	for (size_t i = 1; i <= pl; i++)
		if (colon[i] < '0' || colon[i] > '9')
			return -1;
	if (atoi(colon + 1) > 65535)
		return -1;
	if (hl) {
		memcpy(host, h, hl);
		host[hl] = '\0';
	} else {
		snprintf(host, hlen, "127.0.0.1");
	}
	memcpy(port, colon + 1, pl + 1);
	return 0;
}

/* ---- frames ---------------------------------------------------------------- */

static int type_ok(int t)
{
	return t == TM_CTL_FRAME_DATA || t == TM_CTL_FRAME_NOTE ||
	    t == TM_CTL_FRAME_OK || t == TM_CTL_FRAME_ERR;
}

int tm_ctl_frame_parse(const uint8_t *p, size_t n, int *type, uint32_t *len)
{
	uint32_t l;

	if (n < TM_CTL_FRAME_HDR)
		return 0;
	l = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 8 | (uint32_t)p[4];
	if (!type_ok(p[0]) || l > TM_CTL_FRAME_MAX)
		return -1;
	*type = p[0];
	*len = l;
	return 1;
}

void tm_ctl_frame_header(uint8_t hdr[TM_CTL_FRAME_HDR], int type, uint32_t len)
{
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

/* Writes every byte of iov[0..n), which it advances. */
static int sendv_all(int fd, struct iovec *iov, int n)
{
	int sock = 1;

	while (n > 0) {
		ssize_t w;

		if (sock) {
			struct msghdr m;

			memset(&m, 0, sizeof(m));
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)n;
			w = sendmsg(fd, &m, MSG_NOSIGNAL);
			if (w < 0 && errno == ENOTSOCK) {
				sock = 0;
				continue;
			}
		} else {
			w = writev(fd, iov, n);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int tm_ctl_send_frame(int fd, int type, const void *p, size_t n)
{
	uint8_t h[TM_CTL_FRAME_HDR];
	struct iovec iov[2];

	if (!type_ok(type) || n > TM_CTL_FRAME_MAX || (n && !p)) {
		errno = EINVAL;
		return -1;
	}
	tm_ctl_frame_header(h, type, (uint32_t)n);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = n;
	return sendv_all(fd, iov, n ? 2 : 1);
}

int tm_ctl_send_all(int fd, const void *p, size_t n)
{
	struct iovec iov;

	if (!n)
		return 0;
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	return sendv_all(fd, &iov, 1);
}
