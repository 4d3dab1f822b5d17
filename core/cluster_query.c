/*
 * Asking several services at once and merging their pcap streams
 * (cluster_query.h).
 *
 * Connecting and sending the request happen in one short-lived thread per
 * node (tm_ctl_connect may block: a TCP handshake, a Unix listener whose
 * backlog is full), which the caller waits for at most the timeout; a
 * thread still stuck then is abandoned (it closes its socket itself when
 * it ends). Reading is one poll loop over every node: a node is read only
 * while the merge wants its next packet (it has no complete record
 * buffered and has not ended), and only then does its silence count
 * against the timeout. The merge emits the smallest timestamp among the
 * nodes' next records once every node still answering has one; equal
 * timestamps go in the targets' order.
 */
#define _GNU_SOURCE
#include "cluster_query.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"

#define PCAP_HDR 24
#define REC_HDR 16
#define PB_START (64u << 10)
#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

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

static void fmt_timeout(char *buf, size_t len, int ms)
{
	if (ms % 1000)
		snprintf(buf, len, "%d ms", ms);
	else
		snprintf(buf, len, "%d s", ms / 1000);
}

/* ---- JSON -------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t k;
	unsigned v;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, v = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((k == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (k == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	return k;
}

struct jp {
	const unsigned char *p, *end;
};

static void j_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int j_lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int j_digits(struct jp *j)
{
	const unsigned char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -1;
}

static int j_number(struct jp *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j_digits(j))
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j_digits(j))
			return -1;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j_digits(j))
			return -1;
	}
	return 0;
}

static int j_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end) {
		unsigned c = *j->p;
		size_t k;

		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (j->end - j->p < 2)
				return -1;
			c = j->p[1];
			if (c == 'u') {
				if (j->end - j->p < 6)
					return -1;
				for (int i = 2; i < 6; i++) {
					unsigned h = j->p[i];

					if (!((h >= '0' && h <= '9') ||
					    (h >= 'a' && h <= 'f') ||
					    (h >= 'A' && h <= 'F')))
						return -1;
				}
				j->p += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", (int)c) || c == 0)
				return -1;
			j->p += 2;
			continue;
		}
		k = utf8_len(j->p, (size_t)(j->end - j->p));
		if (!k)
			return -1;
		j->p += k;
	}
	return -1;
}

static int j_value(struct jp *j, int depth);

static int j_object(struct jp *j, int depth)
{
	j->p++;		/* '{' */
	j_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		j_ws(j);
		if (j_string(j))
			return -1;
		j_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return -1;
		j->p++;
		if (j_value(j, depth + 1))
			return -1;
		j_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return -1;
		j->p++;
	}
}

static int j_array(struct jp *j, int depth)
{
	j->p++;		/* '[' */
	j_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (j_value(j, depth + 1))
			return -1;
		j_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == ']') {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return -1;
		j->p++;
	}
}

static int j_value(struct jp *j, int depth)
{
	if (depth > 64)
		return -1;
	j_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{': return j_object(j, depth);
	case '[': return j_array(j, depth);
	case '"': return j_string(j);
	case 't': return j_lit(j, "true");
	case 'f': return j_lit(j, "false");
	case 'n': return j_lit(j, "null");
	default: return j_number(j);
	}
}

int tm_cq_json_object(const char *s, size_t n)
{
	struct jp j = { (const unsigned char *)s,
		(const unsigned char *)s + n };

	j_ws(&j);
	if (j.p >= j.end || *j.p != '{' || j_value(&j, 0))
		return 0;
	j_ws(&j);
	return j.p == j.end;
}

void tm_cq_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	fputc('"', f);
	while (n) {
		size_t k;

		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
			k = 1;
		} else if (*p == '\n') {
			fputs("\\n", f);
			k = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
			k = 1;
		} else if ((k = utf8_len(p, n)) != 0) {
			fwrite(p, 1, k, f);
		} else {
			fputc('?', f);	/* not UTF-8 */
			k = 1;
		}
		p += k;
		n -= k;
	}
	fputc('"', f);
}

/* ---- connecting: one thread per node ----------------------------------------- */

struct cjob {
	struct cgroup *g;
	char *addr;
	char *send;		/* auth line (if any) and request line */
	size_t send_len;
	int timeout_ms;
	int fd;
	int done;
	char err[512];
};

struct cgroup {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	int abandoned;
	size_t pending;
	size_t n;
	struct cjob *jobs;
};

static void cgroup_unref_locked(struct cgroup *g, int *last)
{
	*last = --g->refs == 0;
}

static void cgroup_free(struct cgroup *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->jobs[i].send)
			memset(g->jobs[i].send, 0, g->jobs[i].send_len);
		free(g->jobs[i].send);
		free(g->jobs[i].addr);
	}
	free(g->jobs);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

static void job_connect(struct cjob *j)
{
	char err[480];
	int fd = tm_ctl_connect(j->addr, err, sizeof(err));

	if (fd < 0) {
		snprintf(j->err, sizeof(j->err), "%s", err);
	} else {
		struct timeval tv;

		tv.tv_sec = j->timeout_ms / 1000;
		tv.tv_usec = (j->timeout_ms % 1000) * 1000;
		if (j->timeout_ms > 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv));
		if (tm_ctl_send_all(fd, j->send, j->send_len)) {
			int e = errno;

			snprintf(j->err, sizeof(j->err), "sending the request: "
			    "%s", e == EAGAIN || e == EWOULDBLOCK ?
			    "it takes no bytes" : strerror(e));
			close(fd);
			fd = -1;
		}
	}
	j->fd = fd;
}

static void *job_main(void *arg)
{
	struct cjob *j = arg;
	struct cgroup *g = j->g;
	int last;

	job_connect(j);
	pthread_mutex_lock(&g->mu);
	j->done = 1;
	g->pending--;
	if (g->abandoned && j->fd >= 0) {
		close(j->fd);
		j->fd = -1;
	}
	cgroup_unref_locked(g, &last);
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (last)
		cgroup_free(g);
	return NULL;
}

/* The request bytes for one node. */
static char *request_bytes(const char *token, const char *line, size_t ll,
    size_t *len)
{
	size_t tl = token ? strlen(token) : 0;
	char *b = malloc(tl + 6 + ll + 1);

	if (!b)
		return NULL;
	*len = 0;
	if (token) {
		memcpy(b, "auth ", 5);
		memcpy(b + 5, token, tl);
		b[5 + tl] = '\n';
		*len = tl + 6;
	}
	memcpy(b + *len, line, ll);
	*len += ll;
	return b;
}

/*
 * Connects to every target and sends the request, concurrently, waiting
 * at most timeout_ms (0: as long as tm_ctl_connect takes). fds[i]: the
 * socket, or -1 with out[i].why set. 0, or -1 (out of memory).
 */
static int connect_all(const struct tm_cq_opts *o, const char *line,
    size_t ll, int *fds, struct tm_cq_node *out)
{
	struct cgroup *g = calloc(1, sizeof(*g));
	pthread_attr_t at;
	int64_t deadline;
	int last;

	if (!g)
		return -1;
	g->jobs = calloc(o->n ? o->n : 1, sizeof(*g->jobs));
	if (!g->jobs) {
		free(g);
		return -1;
	}
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->n = o->n;
	g->refs = 1;
	for (size_t i = 0; i < o->n; i++) {
		struct cjob *j = &g->jobs[i];

		j->g = g;
		j->fd = -1;
		j->timeout_ms = o->timeout_ms;
		j->addr = strdup(o->t[i].address);
		j->send = request_bytes(o->t[i].token, line, ll, &j->send_len);
		if (!j->addr || !j->send) {
			cgroup_free(g);
			return -1;
		}
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256u << 10);
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < o->n; i++) {
		pthread_t t;

		g->refs++;
		g->pending++;
		if (pthread_create(&t, &at, job_main, &g->jobs[i]) != 0) {
			/* no thread: connect here, unbounded by the timeout
			 * only as far as tm_ctl_connect is */
			g->refs--;
			g->pending--;
			pthread_mutex_unlock(&g->mu);
			job_connect(&g->jobs[i]);
			pthread_mutex_lock(&g->mu);
			g->jobs[i].done = 1;
		}
	}
	pthread_attr_destroy(&at);
	deadline = mono_ns() + (int64_t)o->timeout_ms * 1000000;
	while (g->pending) {
		if (o->timeout_ms > 0) {
			struct timespec ts;
			int64_t left = deadline - mono_ns();

			if (left <= 0)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(left / 1000000000);
			ts.tv_nsec += (long)(left % 1000000000);
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		} else {
			pthread_cond_wait(&g->cv, &g->mu);
		}
	}
	g->abandoned = 1;
	for (size_t i = 0; i < o->n; i++) {
		struct cjob *j = &g->jobs[i];

		fds[i] = -1;
		if (!j->done) {
			char t[32];

			fmt_timeout(t, sizeof(t), o->timeout_ms);
			snprintf(out[i].why, sizeof(out[i].why), "no connection "
			    "within %s", t);
		} else if (j->fd < 0) {
			snprintf(out[i].why, sizeof(out[i].why), "%s", j->err);
		} else {
			fds[i] = j->fd;
			j->fd = -1;
		}
	}
	cgroup_unref_locked(g, &last);
	pthread_mutex_unlock(&g->mu);
	if (last)
		cgroup_free(g);
	return 0;
}

/* ---- reading one node ---------------------------------------------------------- */

struct rd {
	int fd;			/* -1 once it ended or failed */
	int final;		/* nothing more will come */
	/* the frame being read */
	uint8_t hdr[TM_CTL_FRAME_HDR];
	size_t hgot;
	int in_payload, ftype;
	uint32_t fleft;
	char *msg;		/* N, K, E payload */
	size_t mlen;
	/* the pcap stream: pb[pst..pen) not yet merged */
	uint8_t *pb;
	size_t pcap, pst, pen;
	int ghdr, swap, nsec;
	uint32_t linktype, snaplen;
	int has_rec;		/* a whole record at pb + pst */
	int64_t ts;
	int64_t last_ts;	/* of the record before: INT64_MIN none */
	uint32_t caplen, origlen;
	/* silence */
	int wanting;
	int64_t since;
};

struct run {
	const struct tm_cq_opts *o;
	struct tm_cq_node *out;
	struct rd *r;
	int pcap_mode;
	int64_t t0;
};

static void node_fail(struct run *x, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void node_close(struct rd *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->final = 1;
	free(r->msg);
	r->msg = NULL;
}

static void node_fail(struct run *x, size_t i, const char *fmt, ...)
{
	va_list ap;

	if (x->r[i].final)
		return;
	va_start(ap, fmt);
	vsnprintf(x->out[i].why, sizeof(x->out[i].why), fmt, ap);
	va_end(ap);
	x->out[i].ok = 0;
	x->out[i].ms = (double)(mono_ns() - x->t0) / 1e6;
	node_close(&x->r[i]);
}

static uint32_t get32(const uint8_t *p, int swap)
{
	if (swap)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Parses what pb holds: the header, then the next record if whole. A
 * malformed stream fails the node (its records so far stay merged). */
static void parse_pcap(struct run *x, size_t i)
{
	struct rd *r = &x->r[i];
	size_t have = r->pen - r->pst;
	const uint8_t *p = r->pb + r->pst;
	uint32_t sec, frac;

	if (!r->ghdr) {
		uint32_t m;

		if (have < PCAP_HDR)
			return;
		m = get32(p, 0);
		if (m == MAGIC_US || m == MAGIC_NS) {
			r->swap = 0;
		} else {
			m = get32(p, 1);
			if (m != MAGIC_US && m != MAGIC_NS) {
				node_fail(x, i, "protocol error: the answer is "
				    "not a classic pcap stream");
				return;
			}
			r->swap = 1;
		}
		r->nsec = m == MAGIC_NS;
		r->snaplen = get32(p + 16, r->swap);
		r->linktype = get32(p + 20, r->swap);
		r->ghdr = 1;
		r->pst += PCAP_HDR;
		have -= PCAP_HDR;
		p += PCAP_HDR;
	}
	if (r->has_rec || have < REC_HDR)
		return;
	r->caplen = get32(p + 8, r->swap);
	if (r->caplen > TM_CQ_MAX_CAPLEN) {
		node_fail(x, i, "protocol error: a packet record of %" PRIu32
		    " bytes (at most %u)", r->caplen, TM_CQ_MAX_CAPLEN);
		return;
	}
	if (REC_HDR + (size_t)r->caplen > r->pcap) {
		size_t want = REC_HDR + (size_t)r->caplen;
		uint8_t *nb;

		if (r->pst) {
			memmove(r->pb, r->pb + r->pst, have);
			r->pen = have;
			r->pst = 0;
			p = r->pb;
		}
		nb = realloc(r->pb, want);
		if (!nb) {
			node_fail(x, i, "out of memory");
			return;
		}
		r->pb = nb;
		r->pcap = want;
		p = r->pb;
	}
	if (have < REC_HDR + (size_t)r->caplen)
		return;
	sec = get32(p, r->swap);
	frac = get32(p + 4, r->swap);
	if (frac >= (r->nsec ? 1000000000u : 1000000u)) {
		node_fail(x, i, "protocol error: a packet's time has %" PRIu32
		    " %s", frac, r->nsec ? "nanoseconds" : "microseconds");
		return;
	}
	r->origlen = get32(p + 12, r->swap);
	r->ts = (int64_t)sec * 1000000000 + (int64_t)frac * (r->nsec ? 1 :
	    1000);
	if (r->ts < r->last_ts) {
		/* a service answers in time order: one that does not would
		 * break the merge's */
		node_fail(x, i, "protocol error: its packets go back in time "
		    "(%" PRId64 ".%09" PRId64 " after %" PRId64 ".%09" PRId64
		    ")", r->ts / 1000000000, r->ts % 1000000000,
		    r->last_ts / 1000000000, r->last_ts % 1000000000);
		return;
	}
	r->last_ts = r->ts;
	r->has_rec = 1;
}

/* A whole N, K or E payload is in r->msg. */
static void frame_done(struct run *x, size_t i)
{
	struct rd *r = &x->r[i];
	struct tm_cq_node *o = &x->out[i];
	char *m = r->msg;
	uint64_t said;

	r->msg = NULL;
	m[r->mlen] = '\0';
	switch (r->ftype) {
	case TM_CTL_FRAME_NOTE:
		for (size_t k = 0; k < r->mlen; k++)
			if ((unsigned char)m[k] < 0x20 || m[k] == 0x7f)
				m[k] = ' ';
		o->notes++;
		if (x->o->note)
			x->o->note(x->o->note_arg, i, m);
		break;
	case TM_CTL_FRAME_ERR:
		for (size_t k = 0; k < r->mlen; k++)
			if ((unsigned char)m[k] < 0x20 || m[k] == 0x7f)
				m[k] = '?';
		node_fail(x, i, "%s", m);
		o->answered_err = 1;
		break;
	default:	/* K */
		if (!tm_cq_json_object(m, r->mlen)) {
			node_fail(x, i, "protocol error: the answer is not a "
			    "JSON object");
			break;
		}
		if (x->pcap_mode && !r->ghdr) {
			node_fail(x, i, "protocol error: the answer has no "
			    "pcap stream");
			break;
		}
		if (x->pcap_mode && r->pen != r->pst) {
			node_fail(x, i, "protocol error: the pcap stream ends "
			    "inside a packet record");
			break;
		}
		if (x->pcap_mode && tm_ctl_json_u64(m, "packets", &said) == 0 &&
		    said != o->packets) {
			node_fail(x, i, "protocol error: it counted %" PRIu64
			    " packets but sent %" PRIu64, said, o->packets);
			break;
		}
		o->ok = 1;
		o->json = m;
		m = NULL;
		o->ms = (double)(mono_ns() - x->t0) / 1e6;
		node_close(r);
		break;
	}
	free(m);
}

/* One recv from node i (poll said it is readable). */
static void node_read(struct run *x, size_t i)
{
	struct rd *r = &x->r[i];
	void *dst;
	size_t want;
	ssize_t n;

	if (r->final)
		return;
	if (!r->in_payload) {
		dst = r->hdr + r->hgot;
		want = TM_CTL_FRAME_HDR - r->hgot;
	} else if (r->ftype == TM_CTL_FRAME_DATA) {
		if (r->pst && (r->pen == r->pcap || r->pst > r->pcap / 2)) {
			memmove(r->pb, r->pb + r->pst, r->pen - r->pst);
			r->pen -= r->pst;
			r->pst = 0;
		}
		if (r->pen == r->pcap) {
			/* full without a whole record: parse_pcap grows it
			 * once a record's header says how long it is */
			node_fail(x, i, "internal error: no room for the "
			    "pcap stream");
			return;
		}
		dst = r->pb + r->pen;
		want = r->pcap - r->pen;
		if (want > r->fleft)
			want = r->fleft;
	} else {
		dst = r->msg + r->mlen;
		want = r->fleft;
	}
	n = recv(r->fd, dst, want, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		node_fail(x, i, "connection lost: %s", strerror(errno));
		return;
	}
	if (n == 0) {
		node_fail(x, i, "connection lost before the answer ended");
		return;
	}
	r->since = mono_ns();
	if (!r->in_payload) {
		int type;
		uint32_t len;

		r->hgot += (size_t)n;
		if (r->hgot < TM_CTL_FRAME_HDR)
			return;
		r->hgot = 0;
		if (tm_ctl_frame_parse(r->hdr, TM_CTL_FRAME_HDR, &type,
		    &len) != 1) {
			node_fail(x, i, "protocol error: a bad frame header");
			return;
		}
		r->ftype = type;
		r->fleft = len;
		if (type == TM_CTL_FRAME_DATA) {
			if (!x->pcap_mode) {
				node_fail(x, i, "protocol error: data in an "
				    "answer that has none");
				return;
			}
			r->in_payload = len > 0;
			return;
		}
		r->msg = malloc((size_t)len + 1);
		if (!r->msg) {
			node_fail(x, i, "out of memory");
			return;
		}
		r->mlen = 0;
		r->in_payload = 1;
		if (len == 0) {
			r->in_payload = 0;
			frame_done(x, i);
		}
		return;
	}
	r->fleft -= (uint32_t)n;
	if (r->ftype == TM_CTL_FRAME_DATA) {
		r->pen += (size_t)n;
		if (!r->fleft)
			r->in_payload = 0;
		parse_pcap(x, i);
		return;
	}
	r->mlen += (size_t)n;
	if (!r->fleft) {
		r->in_payload = 0;
		frame_done(x, i);
	}
}

/* ---- the merge ------------------------------------------------------------------- */

static int put_header(struct run *x, struct tm_cq_summary *sum,
    uint32_t linktype, uint32_t snaplen, char *err, size_t errlen)
{
	uint8_t h[PCAP_HDR];

	sum->header_written = 1;
	sum->linktype = linktype;
	put32(h, MAGIC_NS);
	h[4] = 2;
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	put32(h + 8, 0);
	put32(h + 12, 0);
	put32(h + 16, snaplen);
	put32(h + 20, linktype);
	if (fwrite(h, sizeof(h), 1, x->o->pcap) != 1)
		return seterr(err, errlen, "writing: %s", strerror(errno));
	return 0;
}

/* The header once every node still answering has its first packet: one
 * link type among the nodes that have packets. */
static int first_header(struct run *x, struct tm_cq_summary *sum, char *err,
    size_t errlen)
{
	size_t first = SIZE_MAX;
	uint32_t snap = 0;

	for (size_t i = 0; i < x->o->n; i++) {
		struct rd *r = &x->r[i];

		if (!r->has_rec)
			continue;
		if (first == SIZE_MAX)
			first = i;
		else if (r->linktype != x->r[first].linktype)
			return seterr(err, errlen, "nodes %s and %s answer with "
			    "link types %" PRIu32 " and %" PRIu32 ": one pcap "
			    "holds one (narrow the query, or ask them apart)",
			    x->o->t[first].name, x->o->t[i].name,
			    x->r[first].linktype, r->linktype);
		if (r->snaplen > snap)
			snap = r->snaplen;
	}
	if (first == SIZE_MAX)
		return 0;
	if (snap == 0 || snap > TM_CQ_MAX_CAPLEN)
		snap = TM_CQ_MAX_CAPLEN;
	return put_header(x, sum, x->r[first].linktype, snap, err, errlen);
}

static int emit(struct run *x, size_t i, struct tm_cq_summary *sum,
    char *err, size_t errlen)
{
	struct rd *r = &x->r[i];
	uint8_t h[REC_HDR];

	put32(h, (uint32_t)(r->ts / 1000000000));
	put32(h + 4, (uint32_t)(r->ts % 1000000000));
	put32(h + 8, r->caplen);
	put32(h + 12, r->origlen);
	if (fwrite(h, sizeof(h), 1, x->o->pcap) != 1 || (r->caplen &&
	    fwrite(r->pb + r->pst + REC_HDR, r->caplen, 1, x->o->pcap) != 1))
		return seterr(err, errlen, "writing: %s", strerror(errno));
	sum->packets++;
	sum->bytes += r->origlen;
	sum->captured += r->caplen;
	x->out[i].packets++;
	x->out[i].bytes += r->origlen;
	r->pst += REC_HDR + (size_t)r->caplen;
	r->has_rec = 0;
	if (r->pst == r->pen)
		r->pst = r->pen = 0;
	parse_pcap(x, i);
	return 0;
}

/* Gives up nodes silent for the timeout while wanted. The poll timeout
 * until the next such deadline (-1: none). */
static int check_silence(struct run *x, int64_t now)
{
	int64_t next = INT64_MAX, lim = (int64_t)x->o->timeout_ms * 1000000;

	if (x->o->timeout_ms <= 0)
		return -1;
	for (size_t i = 0; i < x->o->n; i++) {
		struct rd *r = &x->r[i];

		if (r->final || !r->wanting)
			continue;
		if (now - r->since >= lim) {
			char t[32];

			fmt_timeout(t, sizeof(t), x->o->timeout_ms);
			node_fail(x, i, "no answer for %s", t);
			continue;
		}
		if (r->since + lim < next)
			next = r->since + lim;
	}
	if (next == INT64_MAX)
		return -1;
	return (int)((next - now + 999999) / 1000000);
}

/* given: the sockets, connected and the request sent (tm_cq_run_fds), or
 * NULL: connect here. */
static int run_common(const struct tm_cq_opts *o, const int *given,
    struct tm_cq_node *out, struct tm_cq_summary *sum, char *err,
    size_t errlen)
{
	struct run x;
	struct pollfd *pf = NULL;
	size_t *pi = NULL;
	int *fds = NULL, rc = -1;
	char *line = NULL;
	int ll;

	memset(&x, 0, sizeof(x));
	memset(sum, 0, sizeof(*sum));
	if (o->n)
		memset(out, 0, o->n * sizeof(*out));
	x.o = o;
	x.out = out;
	x.t0 = mono_ns();
	x.pcap_mode = o->req->verb == TM_CTL_QUERY && !o->req->count_only;
	if (x.pcap_mode && !o->pcap) {
		if (given)
			for (size_t i = 0; i < o->n; i++)
				if (given[i] >= 0)
					close(given[i]);
		return seterr(err, errlen, "internal error: no pcap output");
	}
	line = malloc(TM_CTL_LINE_MAX + 1);
	x.r = calloc(o->n ? o->n : 1, sizeof(*x.r));
	if (x.r)
		for (size_t i = 0; i < o->n; i++)
			x.r[i].fd = -1;
	fds = calloc(o->n ? o->n : 1, sizeof(*fds));
	pf = calloc(o->n ? o->n : 1, sizeof(*pf));
	pi = calloc(o->n ? o->n : 1, sizeof(*pi));
	if (!line || !x.r || !fds || !pf || !pi) {
		seterr(err, errlen, "out of memory");
		if (given)
			for (size_t i = 0; i < o->n; i++)
				if (given[i] >= 0)
					close(given[i]);
		goto out;
	}
	if (given) {
		for (size_t i = 0; i < o->n; i++) {
			fds[i] = given[i];
			if (fds[i] < 0)
				snprintf(out[i].why, sizeof(out[i].why),
				    "not connected");
		}
		goto connected;
	}
	ll = tm_ctl_format_request(o->req, line, TM_CTL_LINE_MAX + 1);
	if (ll < 0) {
		seterr(err, errlen, "the request does not fit in a request "
		    "line (at most %d bytes, no control characters)",
		    TM_CTL_LINE_MAX);
		goto out;
	}
	if (connect_all(o, line, (size_t)ll, fds, out)) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
connected:
	for (size_t i = 0; i < o->n; i++) {
		struct rd *r = &x.r[i];

		r->last_ts = INT64_MIN;
		r->fd = fds[i];
		if (r->fd < 0) {
			r->final = 1;
			out[i].ms = (double)(mono_ns() - x.t0) / 1e6;
			continue;
		}
		if (x.pcap_mode) {
			r->pb = malloc(PB_START);
			if (!r->pb) {
				node_fail(&x, i, "out of memory");
				continue;
			}
			r->pcap = PB_START;
		}
	}
	for (;;) {
		size_t np = 0, best = SIZE_MAX;
		int64_t now = mono_ns();
		int tmo, k;

		for (size_t i = 0; i < o->n; i++) {
			struct rd *r = &x.r[i];

			if (r->has_rec || r->final) {
				r->wanting = 0;
			} else if (!r->wanting) {
				r->wanting = 1;
				r->since = now;
			}
		}
		tmo = check_silence(&x, now);	/* may give nodes up */
		for (size_t i = 0; i < o->n; i++) {
			struct rd *r = &x.r[i];

			if (r->has_rec) {
				if (best == SIZE_MAX || r->ts < x.r[best].ts)
					best = i;
			} else if (!r->final) {
				pf[np].fd = r->fd;
				pf[np].events = POLLIN;
				pf[np].revents = 0;
				pi[np++] = i;
			}
		}
		if (np == 0) {
			if (best == SIZE_MAX)
				break;	/* every node ended */
			if (!sum->header_written &&
			    first_header(&x, sum, err, errlen))
				goto out;
			if (emit(&x, best, sum, err, errlen))
				goto out;
			continue;
		}
		k = poll(pf, np, tmo);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			seterr(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		for (size_t j = 0; j < np; j++)
			if (pf[j].revents)
				node_read(&x, pi[j]);
	}
	for (size_t i = 0; i < o->n; i++)
		if (!out[i].ok)
			sum->failed++;
	if (x.pcap_mode && !sum->header_written &&
	    (o->n == 0 || sum->failed < o->n)) {
		/* no packet anywhere: the first node's header, or Ethernet */
		uint32_t lt = 1, snap = TM_CQ_MAX_CAPLEN;

		for (size_t i = 0; i < o->n; i++)
			if (x.r[i].ghdr) {
				lt = x.r[i].linktype;
				if (x.r[i].snaplen && x.r[i].snaplen <=
				    TM_CQ_MAX_CAPLEN)
					snap = x.r[i].snaplen;
				break;
			}
		if (put_header(&x, sum, lt, snap, err, errlen))
			goto out;
	}
	if (x.pcap_mode && fflush(o->pcap) != 0) {
		seterr(err, errlen, "writing: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (x.r)
		for (size_t i = 0; i < o->n; i++) {
			if (rc && !x.r[i].final)
				snprintf(out[i].why, sizeof(out[i].why),
				    "not read to its end");
			node_close(&x.r[i]);
			free(x.r[i].pb);
		}
	free(x.r);
	free(fds);
	free(pf);
	free(pi);
	free(line);
	return rc;
}

int tm_cq_run(const struct tm_cq_opts *o, struct tm_cq_node *out,
    struct tm_cq_summary *sum, char *err, size_t errlen)
{
	return run_common(o, NULL, out, sum, err, errlen);
}

int tm_cq_run_fds(const struct tm_cq_opts *o, const int *fds,
    struct tm_cq_node *out, struct tm_cq_summary *sum, char *err,
    size_t errlen)
{
	return run_common(o, fds, out, sum, err, errlen);
}

void tm_cq_nodes_free(struct tm_cq_node *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(out[i].json);
		out[i].json = NULL;
	}
}
