/*
 * The control protocol's listening side (ctl_server.h).
 *
 * One accept thread polls the listening sockets and a wake-up pipe, so
 * tm_ctl_server_stop is prompt; each client gets a thread of its own (at
 * most max_clients; one more is told "busy" and closed). A client thread
 * reads the request within request_timeout_ms, authenticates TCP clients,
 * parses, and calls the handler. Every write is a send() with MSG_NOSIGNAL
 * and a send timeout, so a client that vanishes or stops reading costs an
 * error, never the process or a thread forever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_server.h"

#define DEFAULT_MODE 0660
#define DEFAULT_MAX_CLIENTS 32
#define DEFAULT_REQUEST_MS 10000
#define DEFAULT_SEND_MS 60000
#define DATA_BUFFER (256u << 10)
#define NOTE_MAX 4096
#define BUSY_MSG "busy: too many clients"

struct tm_ctl_conn {
	struct tm_ctl_server *s;
	int fd;			/* -1 once closed (under s->mu) */
	int tcp;
	int answered;		/* a final frame was sent (or tried) */
	int broken;		/* a write failed: the client is gone */
	int done;		/* the thread has finished: join it */
	FILE *data;
	char *dbuf;
	pthread_t th;
	struct tm_ctl_conn *next;
	char peer[96];
	size_t have;		/* bytes in line */
	char line[TM_CTL_LINE_MAX + 1];
};

struct tm_ctl_server {
	tm_ctl_handler h;
	void *arg;
	char *unix_path;
	char *token;
	FILE *log;
	int max_clients, request_ms, send_ms;
	int ufd, tfd, tcp_port;
	int wake[2];
	int created;		/* the socket file is ours: dev, ino */
	dev_t dev;
	ino_t ino;
	pthread_t acceptor;
	int acceptor_started;
	pthread_mutex_t mu;
	struct tm_ctl_conn *conns;
	int active;		/* client threads not done */
};

__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void slog(struct tm_ctl_server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->log)
		return;
	flockfile(s->log);
	fputs("tm: control: ", s->log);
	va_start(ap, fmt);
	vfprintf(s->log, fmt, ap);
	va_end(ap);
	fputc('\n', s->log);
	fflush(s->log);
	funlockfile(s->log);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_timeouts(int fd, int send_ms)
{
	struct timeval tv;

	tv.tv_sec = send_ms / 1000;
	tv.tv_usec = (send_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Half-closes, reads what the client still sent (so TCP does not answer it
 * with a reset that could destroy our last frame), closes. */
static void close_gently(int fd)
{
	char junk[4096];

	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16; i++)
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

/* ---- answering ------------------------------------------------------------- */

static int send_final(struct tm_ctl_conn *c, int type, const char *p, size_t n)
{
	if (c->answered)
		return -1;
	c->answered = 1;
	if (c->broken)
		return -1;
	if (n > TM_CTL_FRAME_MAX)
		n = TM_CTL_FRAME_MAX;
	if (tm_ctl_send_frame(c->fd, type, p, n)) {
		c->broken = 1;
		return -1;
	}
	return 0;
}

/* A message for an E or N frame: one line, no control characters. */
__attribute__((format(printf, 3, 0)))
static size_t vformat_line(char *buf, size_t len, const char *fmt, va_list ap)
{
	int k = vsnprintf(buf, len, fmt, ap);
	size_t n;

	if (k < 0) {
		buf[0] = '\0';
		return 0;
	}
	n = (size_t)k < len ? (size_t)k : len - 1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	return n;
}

int tm_ctl_reply_ok(struct tm_ctl_conn *c, const char *json)
{
	if (!json)
		json = "{}";
	if (c->answered)
		return -1;
	if (c->data && fflush(c->data) != 0) {
		c->answered = 1;
		c->broken = 1;
		return -1;
	}
	return send_final(c, TM_CTL_FRAME_OK, json, strlen(json));
}

int tm_ctl_reply_err(struct tm_ctl_conn *c, const char *fmt, ...)
{
	char msg[NOTE_MAX];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vformat_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_final(c, TM_CTL_FRAME_ERR, msg, n);
}

int tm_ctl_note(struct tm_ctl_conn *c, const char *fmt, ...)
{
	char msg[NOTE_MAX];
	va_list ap;
	size_t n;

	if (c->answered || c->broken)
		return -1;
	va_start(ap, fmt);
	n = vformat_line(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tm_ctl_send_frame(c->fd, TM_CTL_FRAME_NOTE, msg, n)) {
		c->broken = 1;
		return -1;
	}
	return 0;
}

int tm_ctl_conn_is_tcp(const struct tm_ctl_conn *c)
{
	return c->tcp;
}

const char *tm_ctl_conn_peer(const struct tm_ctl_conn *c)
{
	return c->peer;
}

/* fopencookie's write: 0 means an error to stdio. */
static ssize_t data_write(void *cookie, const char *buf, size_t n)
{
	struct tm_ctl_conn *c = cookie;
	size_t off = 0;

	if (c->answered || c->broken) {
		errno = EPIPE;
		return 0;
	}
	while (off < n) {
		size_t k = n - off;

		if (k > TM_CTL_FRAME_MAX)
			k = TM_CTL_FRAME_MAX;
		if (tm_ctl_send_frame(c->fd, TM_CTL_FRAME_DATA, buf + off, k)) {
			c->broken = 1;
			return 0;
		}
		off += k;
	}
	return (ssize_t)n;
}

FILE *tm_ctl_data_stream(struct tm_ctl_conn *c)
{
	cookie_io_functions_t io = { NULL, data_write, NULL, NULL };

	if (c->data)
		return c->data;
	if (c->answered)
		return NULL;
	c->dbuf = malloc(DATA_BUFFER);
	if (!c->dbuf)
		return NULL;
	c->data = fopencookie(c, "w", io);
	if (!c->data) {
		free(c->dbuf);
		c->dbuf = NULL;
		return NULL;
	}
	setvbuf(c->data, c->dbuf, _IOFBF, DATA_BUFFER);
	return c->data;
}

/* ---- a client's thread ----------------------------------------------------- */

/*
 * The next line into c->line[0..*len) (without "\n"), within the deadline.
 * 1: a line; 0: no line (answered or the client went away); -1: error.
 */
static int read_line(struct tm_ctl_conn *c, int64_t deadline, size_t *len)
{
	struct tm_ctl_server *s = c->s;

	for (;;) {
		char *nl = memchr(c->line, '\n', c->have);
		struct pollfd p;
		int64_t left;
		ssize_t r;

		if (nl) {
			*len = (size_t)(nl - c->line);
			return 1;
		}
		if (c->have >= TM_CTL_LINE_MAX) {
			slog(s, "%s: request line too long", c->peer);
			tm_ctl_reply_err(c, "request: line longer than %d "
			    "bytes", TM_CTL_LINE_MAX);
			return 0;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			slog(s, "%s: no request within %d ms", c->peer,
			    s->request_ms);
			if (s->request_ms % 1000)
				tm_ctl_reply_err(c, "request: no complete "
				    "request line within %d ms", s->request_ms);
			else
				tm_ctl_reply_err(c, "request: no complete "
				    "request line within %d s",
				    s->request_ms / 1000);
			return 0;
		}
		p.fd = c->fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!p.revents)
			continue;
		r = recv(c->fd, c->line + c->have, TM_CTL_LINE_MAX - c->have,
		    0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0) {
			if (c->have)
				tm_ctl_reply_err(c, "request: the line does "
				    "not end in a newline");
			return 0;
		}
		c->have += (size_t)r;
	}
}

/* Drops the first line (len bytes and its "\n") from c->line. */
static void consume(struct tm_ctl_conn *c, size_t len)
{
	memmove(c->line, c->line + len + 1, c->have - len - 1);
	c->have -= len + 1;
}

static void serve(struct tm_ctl_conn *c)
{
	struct tm_ctl_server *s = c->s;
	int64_t deadline = now_ms() + s->request_ms;
	struct tm_ctl_req req;
	char err[512];
	size_t len;
	int r;

	if ((r = read_line(c, deadline, &len)) <= 0)
		return;
	if (c->tcp) {
		const char *token = NULL;

		if (!tm_ctl_is_auth_line(c->line, len)) {
			slog(s, "%s: authentication failed (no auth line)",
			    c->peer);
			tm_ctl_reply_err(c, "authentication failed");
			return;
		}
		if (tm_ctl_parse_auth(c->line, len, &token, err, sizeof(err)) ||
		    !tm_ctl_token_equal(token, s->token)) {
			slog(s, "%s: authentication failed (%s)", c->peer,
			    token ? "wrong token" : err);
			tm_ctl_reply_err(c, "authentication failed");
			return;
		}
		consume(c, len);
		if ((r = read_line(c, deadline, &len)) <= 0)
			return;
	} else if (tm_ctl_is_auth_line(c->line, len)) {
		consume(c, len);	/* the file's permissions decided */
		if ((r = read_line(c, deadline, &len)) <= 0)
			return;
	}
	if (tm_ctl_parse_request(c->line, len, &req, err, sizeof(err))) {
		slog(s, "%s: %s", c->peer, err);
		tm_ctl_reply_err(c, "%s", err);
		return;
	}
	s->h(s->arg, &req, c);
	if (c->data) {
		if (!c->answered)
			fflush(c->data);
		fclose(c->data);	/* after an answer: data dropped */
		c->data = NULL;
		free(c->dbuf);
		c->dbuf = NULL;
	}
	if (!c->answered) {
		slog(s, "%s: the handler did not answer", c->peer);
		tm_ctl_reply_err(c, "internal error: no answer");
	}
}

static void *client_main(void *arg)
{
	struct tm_ctl_conn *c = arg;
	struct tm_ctl_server *s = c->s;
	int fd = c->fd;

	serve(c);
	if (c->data) {		/* serve() returned before the handler */
		fclose(c->data);
		c->data = NULL;
	}
	free(c->dbuf);
	c->dbuf = NULL;
	pthread_mutex_lock(&s->mu);
	c->fd = -1;		/* stop no longer shuts it down */
	pthread_mutex_unlock(&s->mu);
	close_gently(fd);
	pthread_mutex_lock(&s->mu);
	c->done = 1;
	s->active--;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- accepting ------------------------------------------------------------- */

static void peer_name(int fd, int tcp, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (!tcp) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			snprintf(buf, len, "unix pid %ld uid %ld",
			    (long)cr.pid, (long)cr.uid);
		else
			snprintf(buf, len, "unix");
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" :
		    "%s:%s", host, port);
	else
		snprintf(buf, len, "tcp");
}

/* Joins and frees client threads that have finished. Under s->mu. */
static void reap_locked(struct tm_ctl_server *s)
{
	struct tm_ctl_conn **pp = &s->conns;

	while (*pp) {
		struct tm_ctl_conn *c = *pp;

		if (!c->done) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		pthread_join(c->th, NULL);
		free(c);
	}
}

static void refuse_busy(struct tm_ctl_server *s, int fd, const char *peer)
{
	slog(s, "%s: refused: too many clients (%d)", peer, s->max_clients);
	set_timeouts(fd, 200);
	tm_ctl_send_frame(fd, TM_CTL_FRAME_ERR, BUSY_MSG, strlen(BUSY_MSG));
	close_gently(fd);
}

static void accept_one(struct tm_ctl_server *s, int lfd, int tcp)
{
	struct tm_ctl_conn *c;
	char peer[96];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			slog(s, "accept: %s", strerror(errno));
			poll(NULL, 0, 100);	/* the error persists: no spin */
		}
		return;
	}
	peer_name(fd, tcp, peer, sizeof(peer));
	pthread_mutex_lock(&s->mu);
	reap_locked(s);
	if (s->active >= s->max_clients) {
		pthread_mutex_unlock(&s->mu);
		refuse_busy(s, fd, peer);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&s->mu);
		refuse_busy(s, fd, peer);
		return;
	}
	c->s = s;
	c->fd = fd;
	c->tcp = tcp;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	set_timeouts(fd, s->send_ms);
	if (pthread_create(&c->th, NULL, client_main, c) != 0) {
		pthread_mutex_unlock(&s->mu);
		free(c);
		refuse_busy(s, fd, peer);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->active++;
	pthread_mutex_unlock(&s->mu);
}

static void *accept_main(void *arg)
{
	struct tm_ctl_server *s = arg;

	for (;;) {
		struct pollfd p[3];
		int n = 0, iu = -1, it = -1;

		p[n].fd = s->wake[0];
		p[n++].events = POLLIN;
		if (s->ufd >= 0) {
			iu = n;
			p[n].fd = s->ufd;
			p[n++].events = POLLIN;
		}
		if (s->tfd >= 0) {
			it = n;
			p[n].fd = s->tfd;
			p[n++].events = POLLIN;
		}
		for (int i = 0; i < n; i++)
			p[i].revents = 0;
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			slog(s, "poll: %s", strerror(errno));
			poll(NULL, 0, 100);
			continue;
		}
		if (p[0].revents)
			return NULL;
		if (iu >= 0 && p[iu].revents)
			accept_one(s, s->ufd, 0);
		if (it >= 0 && p[it].revents)
			accept_one(s, s->tfd, 1);
	}
}

/* ---- listening ------------------------------------------------------------- */

static int set_group(const char *path, const char *group, char *err,
    size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[16384];
	int e = getgrnam_r(group, &gr, buf, sizeof(buf), &res);

	if (e || !res) {
		seterr(err, errlen, "control socket group '%s': %s", group,
		    e ? strerror(e) : "no such group");
		return -1;
	}
	if (chown(path, (uid_t)-1, gr.gr_gid) != 0) {
		seterr(err, errlen, "%s: cannot give the socket to group "
		    "'%s': %s", path, group, strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_unix(struct tm_ctl_server *s, const char *path,
    unsigned mode, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path)) {
		seterr(err, errlen, "%s: not a usable Unix socket path (1 to "
		    "%zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		int probe, r;

		if (!S_ISSOCK(st.st_mode)) {
			seterr(err, errlen, "%s: exists and is not a socket",
			    path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0) {
			seterr(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		r = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		close(probe);
		if (r == 0) {
			seterr(err, errlen, "%s: already served by another tm",
			    path);
			return -1;
		}
		if (errno != ECONNREFUSED) {
			seterr(err, errlen, "%s: cannot tell whether another "
			    "tm serves it: %s", path, strerror(errno));
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			seterr(err, errlen, "%s: cannot remove the stale "
			    "socket: %s", path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		seterr(err, errlen, "%s: %s", path, errno == EADDRINUSE ?
		    "already served by another tm" : strerror(errno));
		close(fd);
		return -1;
	}
	/* nobody can connect before listen(): permissions first */
	if (lstat(path, &st) != 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	s->created = 1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (chmod(path, mode) != 0) {
		seterr(err, errlen, "%s: chmod: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (group && set_group(path, group, err, errlen)) {
		close(fd);
		return -1;
	}
	if (listen(fd, 64) != 0) {
		seterr(err, errlen, "%s: listen: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	s->ufd = fd;
	return 0;
}

static int listen_tcp(struct tm_ctl_server *s, const char *addr, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[8];
	int fd = -1, e, last = 0;

	if (tm_ctl_split_hostport(addr, host, sizeof(host), port, sizeof(port))) {
		seterr(err, errlen, "control TCP address '%s': expected "
		    "HOST:PORT, :PORT (loopback) or [IPV6]:PORT", addr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	e = getaddrinfo(host, port, &hints, &res);
	if (e) {
		seterr(err, errlen, "control TCP address '%s': %s", addr,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 64) == 0)
			break;
		last = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		seterr(err, errlen, "control TCP address '%s': %s", addr,
		    strerror(last));
		return -1;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			s->tcp_port = ntohs(ss.ss_family == AF_INET6 ?
			    ((struct sockaddr_in6 *)&ss)->sin6_port :
			    ((struct sockaddr_in *)&ss)->sin_port);
	}
	s->tfd = fd;
	return 0;
}

/* Removes the socket file if it is still the one this server created. */
static void unlink_ours(struct tm_ctl_server *s)
{
	struct stat st;

	if (s->created && lstat(s->unix_path, &st) == 0 &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->unix_path);
	s->created = 0;
}

static void destroy(struct tm_ctl_server *s)
{
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->tfd >= 0)
		close(s->tfd);
	unlink_ours(s);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->mu);
	free(s->unix_path);
	if (s->token) {
		memset(s->token, 0, strlen(s->token));
		free(s->token);
	}
	free(s);
}

struct tm_ctl_server *tm_ctl_server_start(const struct tm_ctl_server_opts *o,
    tm_ctl_handler h, void *arg, char *err, size_t errlen)
{
	struct tm_ctl_server *s;

	if (!o->unix_path && !o->tcp_addr) {
		seterr(err, errlen, "control: no socket to listen on");
		return NULL;
	}
	if (o->tcp_addr && (!o->token || !tm_ctl_token_valid(o->token))) {
		seterr(err, errlen, "control over TCP (%s) needs a token: 1 "
		    "to %d printable ASCII characters, no spaces",
		    o->tcp_addr, TM_CTL_TOKEN_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	s->h = h;
	s->arg = arg;
	s->log = o->log;
	s->ufd = s->tfd = s->wake[0] = s->wake[1] = -1;
	s->max_clients = o->max_clients > 0 ? o->max_clients :
	    DEFAULT_MAX_CLIENTS;
	s->request_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms :
	    DEFAULT_REQUEST_MS;
	s->send_ms = o->send_timeout_ms > 0 ? o->send_timeout_ms :
	    DEFAULT_SEND_MS;
	pthread_mutex_init(&s->mu, NULL);
	if ((o->unix_path && !(s->unix_path = strdup(o->unix_path))) ||
	    (o->token && !(s->token = strdup(o->token)))) {
		seterr(err, errlen, "out of memory");
		destroy(s);
		return NULL;
	}
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		seterr(err, errlen, "pipe: %s", strerror(errno));
		destroy(s);
		return NULL;
	}
	if (o->unix_path && listen_unix(s, o->unix_path,
	    o->mode ? o->mode : DEFAULT_MODE, o->group, err, errlen)) {
		destroy(s);
		return NULL;
	}
	if (o->tcp_addr && listen_tcp(s, o->tcp_addr, err, errlen)) {
		destroy(s);
		return NULL;
	}
	if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
		seterr(err, errlen, "control: cannot start a thread");
		destroy(s);
		return NULL;
	}
	s->acceptor_started = 1;
	return s;
}

void tm_ctl_server_stop(struct tm_ctl_server *s)
{
	if (!s)
		return;
	if (s->acceptor_started) {
		ssize_t w;

		do
			w = write(s->wake[1], "x", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(s->acceptor, NULL);
	}
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->tfd >= 0)
		close(s->tfd);
	s->ufd = s->tfd = -1;
	unlink_ours(s);
	pthread_mutex_lock(&s->mu);
	for (struct tm_ctl_conn *c = s->conns; c; c = c->next)
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->mu);
	while (s->conns) {
		struct tm_ctl_conn *c = s->conns;

		s->conns = c->next;
		pthread_join(c->th, NULL);
		free(c);
	}
	destroy(s);
}

int tm_ctl_server_tcp_port(const struct tm_ctl_server *s)
{
	return s && s->tfd >= 0 ? s->tcp_port : 0;
}

int tm_ctl_server_clients(struct tm_ctl_server *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->active;
	pthread_mutex_unlock(&s->mu);
	return n;
}
