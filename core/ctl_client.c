/*
 * The control protocol's client side (ctl_client.h): connecting, sending
 * the request, reading frames with a time limit, and reading numbers and
 * strings out of the K answer's JSON object.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_client.h"

#define CONNECT_TIMEOUT_MS 10000
#define CHUNK (64u << 10)

__attribute__((format(printf, 3, 4)))
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- connecting ------------------------------------------------------------ */

/* Errors name the path only when it is not the address itself (a
 * directory's tm.sock): the caller names the address. */
static int connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	char buf[sizeof(sa.sun_path) + 16], pre[sizeof(buf) + 4] = "";
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t n = strlen(path);

		if (snprintf(buf, sizeof(buf), "%s%stm.sock", path,
		    n && path[n - 1] == '/' ? "" : "/") >= (int)sizeof(buf))
			return seterr(err, errlen, "%s/tm.sock: path too "
			    "long for a Unix socket", path);
		path = buf;
		snprintf(pre, sizeof(pre), "%s: ", path);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return seterr(err, errlen, "not a usable Unix socket path (1 "
		    "to %zu bytes)", sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(err, errlen, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		if (e == ENOENT)
			return seterr(err, errlen, "%sno such socket (is tm "
			    "capture -i or tm serve running?)", pre);
		if (e == ECONNREFUSED)
			return seterr(err, errlen, "%snothing answers (the "
			    "service is not running)", pre);
		if (e == EACCES)
			return seterr(err, errlen, "%spermission denied (the "
			    "socket's owner and group may connect)", pre);
		return seterr(err, errlen, "%s%s", pre, strerror(e));
	}
	return fd;
}

/* connect() that gives up after timeout_ms. 0, or -1 with errno. */
static int connect_timed(int fd, const struct sockaddr *sa, socklen_t sl,
    int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL), e = 0;
	socklen_t el = sizeof(e);
	struct pollfd p;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, sl) != 0) {
		if (errno != EINPROGRESS)
			return -1;
		p.fd = fd;
		p.events = POLLOUT;
		for (;;) {
			int r = poll(&p, 1, timeout_ms);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			return -1;
		if (e) {
			errno = e;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, fl);
}

static int connect_tcp(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[8];
	int fd = -1, e, last = 0;

	if (tm_ctl_split_hostport(hostport, host, sizeof(host), port,
	    sizeof(port)))
		return seterr(err, errlen, "'%s': expected HOST:PORT or "
		    "[IPV6]:PORT", hostport);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	e = getaddrinfo(host, port, &hints, &res);
	if (e)
		return seterr(err, errlen, "%s", gai_strerror(e));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect_timed(fd, ai->ai_addr, ai->ai_addrlen,
		    CONNECT_TIMEOUT_MS) == 0)
			break;
		last = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return seterr(err, errlen, "%s", strerror(last));
	return fd;
}

int tm_ctl_connect(const char *addr, char *err, size_t errlen)
{
	struct stat st;

	if (strncmp(addr, "unix:", 5) == 0)
		return connect_unix(addr + 5, err, errlen);
	if (strncmp(addr, "tcp:", 4) == 0)
		return connect_tcp(addr + 4, err, errlen);
	if (strchr(addr, '/') || stat(addr, &st) == 0 || !strchr(addr, ':'))
		return connect_unix(addr, err, errlen);
	return connect_tcp(addr, err, errlen);
}

int tm_ctl_token_load(const char *file, char *tok, size_t len, char *err,
    size_t errlen)
{
	char line[TM_CTL_TOKEN_MAX + 64];
	const char *src;
	size_t n;

	if (file) {
		FILE *f = fopen(file, "r");

		if (!f)
			return seterr(err, errlen, "%s: %s", file,
			    strerror(errno));
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		src = file;
	} else {
		const char *env = getenv("TM_TOKEN");

		if (!env)
			return 0;
		if (strlen(env) >= sizeof(line))
			return seterr(err, errlen, "TM_TOKEN: not a token "
			    "(1 to %d printable ASCII characters, no spaces)",
			    TM_CTL_TOKEN_MAX);
		memcpy(line, env, strlen(env) + 1);
		src = "TM_TOKEN";
	}
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
	    line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	if (!tm_ctl_token_valid(line) || n >= len) {
		memset(line, 0, sizeof(line));
		return seterr(err, errlen, "%s: %s is not a token (1 to %d "
		    "printable ASCII characters, no spaces)", src,
		    file ? "the first line" : "the value", TM_CTL_TOKEN_MAX);
	}
	memcpy(tok, line, n + 1);
	memset(line, 0, sizeof(line));
	return 1;
}

/* ---- talking --------------------------------------------------------------- */

int tm_ctl_send_request(int fd, const char *token, const struct tm_ctl_req *r,
    char *err, size_t errlen)
{
	char *buf = malloc(TM_CTL_LINE_MAX + 1);
	int n, rc = 0;

	if (!buf)
		return seterr(err, errlen, "out of memory");
	if (token) {
		if (!tm_ctl_token_valid(token)) {
			free(buf);
			return seterr(err, errlen, "not a valid token");
		}
		n = snprintf(buf, TM_CTL_LINE_MAX + 1, "auth %s\n", token);
		if (tm_ctl_send_all(fd, buf, (size_t)n))
			rc = seterr(err, errlen, "sending: %s",
			    strerror(errno));
		memset(buf, 0, (size_t)n);
	}
	n = tm_ctl_format_request(r, buf, TM_CTL_LINE_MAX + 1);
	if (n < 0)
		rc = seterr(err, errlen, "the request does not fit in a "
		    "request line (at most %d bytes, no control characters)",
		    TM_CTL_LINE_MAX);
	else if (!rc && tm_ctl_send_all(fd, buf, (size_t)n))
		rc = seterr(err, errlen, "sending: %s", strerror(errno));
	free(buf);
	return rc;
}

/*
 * Reads exactly n bytes. 1: done; 0: EOF (*got bytes read); -1: error or
 * timeout (errno ETIMEDOUT).
 */
static int read_full(int fd, void *p, size_t n, int timeout_ms, size_t *got)
{
	size_t off = 0;

	*got = 0;
	while (off < n) {
		struct pollfd pf;
		ssize_t r;
		int k;

		pf.fd = fd;
		pf.events = POLLIN;
		k = poll(&pf, 1, timeout_ms > 0 ? timeout_ms : -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = recv(fd, (char *)p + off, n - off, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		off += (size_t)r;
		*got = off;
	}
	return 1;
}

static void printable(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
}

static int read_error(int r, int timeout_ms, const char *what, char *err,
    size_t errlen)
{
	if (r == 0)
		return seterr(err, errlen, "connection lost before the "
		    "answer ended (%s)", what);
	if (errno == ETIMEDOUT && timeout_ms % 1000)
		return seterr(err, errlen, "no answer for %d ms (%s)",
		    timeout_ms, what);
	if (errno == ETIMEDOUT)
		return seterr(err, errlen, "no answer for %d s (%s)",
		    timeout_ms / 1000, what);
	return seterr(err, errlen, "connection lost: %s (%s)",
	    strerror(errno), what);
}

int tm_ctl_read_answer(int fd, FILE *data, FILE *notes, int timeout_ms,
    struct tm_ctl_answer *a, char *err, size_t errlen)
{
	char *chunk = NULL;
	uint8_t hdr[TM_CTL_FRAME_HDR];
	size_t got;
	int r;

	memset(a, 0, sizeof(*a));
	for (;;) {
		uint32_t len;
		int type;
		char *p;

		r = read_full(fd, hdr, sizeof(hdr), timeout_ms, &got);
		if (r <= 0) {
			if (r == 0 && got == 0)
				seterr(err, errlen, "connection lost before "
				    "the answer ended (no final frame)");
			else
				read_error(r, timeout_ms, "frame header", err,
				    errlen);
			goto fail;
		}
		if (tm_ctl_frame_parse(hdr, sizeof(hdr), &type, &len) != 1) {
			uint32_t l = (uint32_t)hdr[1] << 24 |
			    (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 |
			    hdr[4];

			if (l > TM_CTL_FRAME_MAX)
				seterr(err, errlen, "protocol error: a frame "
				    "of %u bytes (at most %u)", l,
				    TM_CTL_FRAME_MAX);
			else
				seterr(err, errlen, "protocol error: unknown "
				    "frame type 0x%02x", hdr[0]);
			goto fail;
		}
		if (type == TM_CTL_FRAME_DATA) {
			if (!data) {
				seterr(err, errlen, "protocol error: data in "
				    "an answer that has none");
				goto fail;
			}
			if (!chunk && !(chunk = malloc(CHUNK))) {
				seterr(err, errlen, "out of memory");
				goto fail;
			}
			while (len) {
				size_t k = len < CHUNK ? len : CHUNK;

				r = read_full(fd, chunk, k, timeout_ms, &got);
				if (r <= 0) {
					read_error(r, timeout_ms, "data", err,
					    errlen);
					goto fail;
				}
				if (fwrite(chunk, 1, k, data) != k) {
					seterr(err, errlen, "writing: %s",
					    strerror(errno));
					goto fail;
				}
				a->data_bytes += k;
				len -= (uint32_t)k;
			}
			continue;
		}
		p = malloc((size_t)len + 1);
		if (!p) {
			seterr(err, errlen, "out of memory");
			goto fail;
		}
		if (len && (r = read_full(fd, p, len, timeout_ms, &got)) <= 0) {
			free(p);
			read_error(r, timeout_ms, type == TM_CTL_FRAME_NOTE ?
			    "notice" : "final frame", err, errlen);
			goto fail;
		}
		p[len] = '\0';
		if (type == TM_CTL_FRAME_NOTE) {
			printable(p, len);
			a->notes++;
			if (notes) {
				fprintf(notes, "tm: %s\n", p);
				fflush(notes);
			}
			free(p);
			continue;
		}
		if (type == TM_CTL_FRAME_ERR)
			printable(p, len);
		a->type = type;
		a->payload = p;
		a->len = len;
		free(chunk);
		return 0;
	}
fail:
	free(chunk);
	return -1;
}

void tm_ctl_answer_free(struct tm_ctl_answer *a)
{
	free(a->payload);
	a->payload = NULL;
}

int tm_ctl_call(const char *addr, const char *token, const struct tm_ctl_req *r,
    FILE *data, FILE *notes, int timeout_ms, struct tm_ctl_answer *a,
    char *err, size_t errlen)
{
	char serr[256];
	int fd = tm_ctl_connect(addr, err, errlen), rc, sent;

	memset(a, 0, sizeof(*a));
	if (fd < 0)
		return -1;
	sent = tm_ctl_send_request(fd, token, r, serr, sizeof(serr));
	if (sent && strncmp(serr, "sending:", 8) != 0) {
		close(fd);
		return seterr(err, errlen, "%s", serr);
	}
	/* a server that refused us (busy, auth) may have answered already */
	rc = tm_ctl_read_answer(fd, data, notes, timeout_ms, a, err, errlen);
	if (rc && sent)
		seterr(err, errlen, "%s", serr);
	close(fd);
	return rc;
}

int tm_ctl_parse_timeout(const char *s, int *ms)
{
	size_t n = strlen(s), i = 0;
	int64_t ns;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (n && i == n) {
		if (n > 6)
			return -1;
		*ms = atoi(s) * 1000;
		return 0;
	}
	if (strcmp(s, "-") == 0 || tm_ctl_parse_duration(s, n, &ns) ||
	    ns / 1000000 > 86400000LL * 7)
		return -1;
	*ms = ns / 1000000 ? (int)(ns / 1000000) : 1;
	return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* p at '"': past the closing quote, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

static const char *skip_value(const char *p)
{
	int depth = 0;

	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		const char *s = p;

		while (*p && !strchr(",}] \t\n\r", *p))
			p++;
		return p > s ? p : NULL;
	}
	while (*p) {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			if (--depth == 0)
				return p + 1;
		p++;
	}
	return NULL;
}

const char *tm_ctl_json_find(const char *json, const char *key)
{
	size_t kl = strlen(key);
	const char *p = ws(json);

	if (*p++ != '{')
		return NULL;
	for (;;) {
		const char *k, *q;

		p = ws(p);
		if (*p != '"')
			return NULL;
		k = p + 1;
		q = skip_string(p);
		if (!q)
			return NULL;
		p = ws(q);
		if (*p != ':')
			return NULL;
		p = ws(p + 1);
		if ((size_t)(q - 1 - k) == kl && memcmp(k, key, kl) == 0)
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p != ',')
			return NULL;
		p++;
	}
}

int tm_ctl_json_u64(const char *json, const char *key, uint64_t *v)
{
	const char *p = tm_ctl_json_find(json, key);
	char *end;

	if (!p || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	*v = strtoull(p, &end, 10);
	if (errno || (*end && !strchr(",}] \t\n\r", *end)))
		return -1;
	return 0;
}

int tm_ctl_json_double(const char *json, const char *key, double *v)
{
	const char *p = tm_ctl_json_find(json, key);
	char *end;

	if (!p || !((*p >= '0' && *p <= '9') || *p == '-'))
		return -1;
	*v = strtod(p, &end);
	if (end == p || (*end && !strchr(",}] \t\n\r", *end)))
		return -1;
	return 0;
}

static int literal(const char *p, const char *w)
{
	size_t n = strlen(w);

	return p && strncmp(p, w, n) == 0 &&
	    (!p[n] || strchr(",}] \t\n\r", p[n]));
}

int tm_ctl_json_bool(const char *json, const char *key, int *v)
{
	const char *p = tm_ctl_json_find(json, key);

	if (literal(p, "true"))
		*v = 1;
	else if (literal(p, "false"))
		*v = 0;
	else
		return -1;
	return 0;
}

int tm_ctl_json_is_null(const char *json, const char *key)
{
	return literal(tm_ctl_json_find(json, key), "null");
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static size_t utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int tm_ctl_json_string(const char *json, const char *key, char *out,
    size_t outlen)
{
	const char *p = tm_ctl_json_find(json, key);
	size_t o = 0;

	if (!p || *p != '"' || !outlen)
		return -1;
	for (p++; *p != '"'; p++) {
		char tmp[4];
		size_t n = 1;

		if (!*p)
			return -1;
		tmp[0] = *p;
		if (*p == '\\') {
			unsigned cp, lo;

			switch (*++p) {
			case 'n': tmp[0] = '\n'; break;
			case 't': tmp[0] = '\t'; break;
			case 'r': tmp[0] = '\r'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case '"': case '\\': case '/': tmp[0] = *p; break;
			case 'u':
				if (hex4(p + 1, &cp))
					return -1;
				p += 4;
				if (cp >= 0xd800 && cp < 0xdc00) {
					if (p[1] != '\\' || p[2] != 'u' ||
					    hex4(p + 3, &lo) || lo < 0xdc00 ||
					    lo > 0xdfff)
						return -1;
					p += 6;
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp < 0xe000) {
					return -1;
				}
				n = utf8(cp, tmp);
				break;
			default:
				return -1;
			}
		}
		if (o + n >= outlen)
			return -1;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}
