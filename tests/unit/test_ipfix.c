/*
 * IPFIX export (core/ipfix.c) against real sockets on loopback: a UDP
 * collector thread and a TCP listener in this file read what the exporter
 * sends, and a small strict IPFIX reader below checks it: message headers
 * (version, length, domain, sequence numbers), templates before the data
 * that uses them, and every element of the records of an IPv4 TCP flow,
 * an IPv6 flow with QinQ and an application, VXLAN, GRE with a key over
 * IPv6, ESP, ICMP without an answer, a non-IP record; the UDP template
 * refresh; TCP templates first on every connection, a collector that
 * closes (with junk bytes first), a refused connection; many flows over
 * many datagrams within the MTU; the export section of the configuration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tm_test.h"
#include "config.h"
#include "ipfix.h"
#include "tracker.h"

#define PEN TM_IPFIX_PEN
#define MAXF 64

/* ---- a strict IPFIX reader -------------------------------------------- */

struct field {
	uint32_t pen;
	uint16_t id, len;
};

struct tmpl {
	uint16_t id;
	int n;
	struct field f[MAXF];
};

struct val {
	uint32_t pen;
	uint16_t id, len;
	const uint8_t *p;
};

struct rec {
	uint16_t tid;
	uint32_t domain;
	int msg;		/* index of its message */
	int n;
	struct val v[MAXF];
};

struct msg {
	uint32_t seq, domain, export_time;
	size_t len;
	int n_records;
	int first_set_is_template;
};

static uint8_t *arena;
static size_t arena_n;
#define ARENA (16u << 20)
static struct tmpl tmpls[64];
static int n_tmpls;
static struct rec *recs;
static int n_recs;
#define MAXRECS 20000
static struct msg msgs[4096];
static int n_msgs;

static void reader_reset(void)
{
	if (!arena)
		arena = malloc(ARENA);
	if (!recs)
		recs = malloc(MAXRECS * sizeof(*recs));
	assert_non_null(arena);
	assert_non_null(recs);
	arena_n = 0;
	n_tmpls = 0;
	n_recs = 0;
	n_msgs = 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static struct tmpl *tmpl_find(uint16_t id)
{
	for (int i = 0; i < n_tmpls; i++)
		if (tmpls[i].id == id)
			return &tmpls[i];
	return NULL;
}

/* One message (a copy is kept: records point into it). Fails the test on
 * anything malformed. */
static void parse_msg(const uint8_t *in, size_t len)
{
	struct msg *m = &msgs[n_msgs];
	const uint8_t *p, *end;
	int first = 1;

	assert_true(n_msgs < (int)(sizeof(msgs) / sizeof(msgs[0])));
	assert_true(arena_n + len <= ARENA);
	p = memcpy(arena + arena_n, in, len);
	arena_n += len;
	assert_true(len >= 16);
	assert_int_equal(be16(p), 10);
	assert_int_equal(be16(p + 2), len);
	m->export_time = be32(p + 4);
	m->seq = be32(p + 8);
	m->domain = be32(p + 12);
	m->len = len;
	m->n_records = 0;
	m->first_set_is_template = 0;
	n_msgs++;
	end = p + len;
	p += 16;
	while (p < end) {
		uint16_t sid, slen;
		const uint8_t *s, *se;

		assert_true(end - p >= 4);
		sid = be16(p);
		slen = be16(p + 2);
		assert_true(slen >= 4 && slen <= end - p);
		s = p + 4;
		se = p + slen;
		if (first)
			m->first_set_is_template = sid == 2;
		first = 0;
		if (sid == 2) {
			while (se - s >= 4) {
				struct tmpl t;
				struct tmpl *old;

				t.id = be16(s);
				t.n = be16(s + 2);
				s += 4;
				assert_true(t.id >= 256);
				assert_true(t.n > 0 && t.n <= MAXF);
				for (int i = 0; i < t.n; i++) {
					assert_true(se - s >= 4);
					t.f[i].id = be16(s);
					t.f[i].len = be16(s + 2);
					t.f[i].pen = 0;
					s += 4;
					if (t.f[i].id & 0x8000) {
						assert_true(se - s >= 4);
						t.f[i].pen = be32(s);
						t.f[i].id &= 0x7fff;
						s += 4;
					}
				}
				old = tmpl_find(t.id);
				if (old)
					*old = t;
				else {
					assert_true(n_tmpls < 64);
					tmpls[n_tmpls++] = t;
				}
			}
			assert_true(s == se);
		} else {
			const struct tmpl *t = tmpl_find(sid);

			assert_true(sid >= 256);
			/* data only after its template */
			assert_non_null(t);
			while (s < se) {
				struct rec *r = &recs[n_recs];

				assert_true(n_recs < MAXRECS);
				r->tid = sid;
				r->domain = m->domain;
				r->msg = n_msgs - 1;
				r->n = t->n;
				for (int i = 0; i < t->n; i++) {
					size_t l = t->f[i].len;

					if (l == 65535) {
						assert_true(se - s >= 1);
						l = *s++;
						if (l == 255) {
							assert_true(se - s >= 2);
							l = be16(s);
							s += 2;
						}
					}
					assert_true((size_t)(se - s) >= l);
					r->v[i].pen = t->f[i].pen;
					r->v[i].id = t->f[i].id;
					r->v[i].len = (uint16_t)l;
					r->v[i].p = s;
					s += l;
				}
				n_recs++;
				m->n_records++;
			}
		}
		p = se;
	}
}

static const struct val *get(const struct rec *r, uint32_t pen, uint16_t id)
{
	for (int i = 0; i < r->n; i++)
		if (r->v[i].pen == pen && r->v[i].id == id)
			return &r->v[i];
	return NULL;
}

static int has(const struct rec *r, uint32_t pen, uint16_t id)
{
	return get(r, pen, id) != NULL;
}

static uint64_t num(const struct rec *r, uint32_t pen, uint16_t id)
{
	const struct val *v = get(r, pen, id);
	uint64_t x = 0;

	if (!v)
		fail_msg("element %u/%u missing", pen, id);
	assert_true(v->len >= 1 && v->len <= 8);
	for (int i = 0; i < v->len; i++)
		x = x << 8 | v->p[i];
	return x;
}

static const char *str(const struct rec *r, uint32_t pen, uint16_t id)
{
	static char buf[4][512];
	static int k;
	const struct val *v = get(r, pen, id);
	char *b = buf[k++ & 3];

	if (!v)
		fail_msg("element %u/%u missing", pen, id);
	assert_true(v->len < sizeof(buf[0]));
	memcpy(b, v->p, v->len);
	b[v->len] = '\0';
	return b;
}

static const char *addr(const struct rec *r, uint32_t pen, uint16_t id)
{
	static char buf[4][64];
	static int k;
	const struct val *v = get(r, pen, id);
	char *b = buf[k++ & 3];

	if (!v)
		fail_msg("element %u/%u missing", pen, id);
	assert_true(v->len == 4 || v->len == 16);
	inet_ntop(v->len == 4 ? AF_INET : AF_INET6, v->p, b, 64);
	return b;
}

/* The record of uid in one direction (1: initiator, 2: responder). */
static const struct rec *find(const char *uid, int dir)
{
	const struct rec *found = NULL;

	for (int i = 0; i < n_recs; i++) {
		const struct rec *r = &recs[i];

		if (strcmp(str(r, PEN, 1), uid) == 0 && num(r, 0, 239) ==
		    (uint64_t)dir) {
			if (found)
				fail_msg("two records for %s dir %d", uid, dir);
			found = r;
		}
	}
	return found;
}

static int count_uid(const char *uid)
{
	int n = 0;

	for (int i = 0; i < n_recs; i++)
		n += strcmp(str(&recs[i], PEN, 1), uid) == 0;
	return n;
}

/* Sequence numbers: each message's is the count of data records of the
 * domain in the messages before it (nothing was lost). */
static void check_sequence(void)
{
	uint32_t next = 0;

	for (int i = 0; i < n_msgs; i++) {
		assert_int_equal(msgs[i].seq, next);
		next += (uint32_t)msgs[i].n_records;
	}
}

/* ---- collectors ------------------------------------------------------- */

static int listen_on(int type, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* UDP: a thread reads every datagram (so a burst never overflows the
 * socket) until told to stop; the test's thread parses them after. */
static struct {
	pthread_t thr;
	pthread_mutex_t mu;
	int fd, stop;
	size_t max_datagram;
	int datagrams;
	uint8_t *raw;
	size_t raw_n;
	size_t off[8192], len[8192];
} uc = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void *udp_reader(void *arg)
{
	static uint8_t buf[65536];

	(void)arg;
	for (;;) {
		struct pollfd pfd = { uc.fd, POLLIN, 0 };
		ssize_t r;

		pthread_mutex_lock(&uc.mu);
		if (uc.stop) {
			pthread_mutex_unlock(&uc.mu);
			break;
		}
		pthread_mutex_unlock(&uc.mu);
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		r = recv(uc.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			continue;
		pthread_mutex_lock(&uc.mu);
		if ((size_t)r > uc.max_datagram)
			uc.max_datagram = (size_t)r;
		/* more than fits is noticed by the counts of the test */
		if (uc.datagrams < 8192 && uc.raw_n + (size_t)r <= ARENA) {
			memcpy(uc.raw + uc.raw_n, buf, (size_t)r);
			uc.off[uc.datagrams] = uc.raw_n;
			uc.len[uc.datagrams] = (size_t)r;
			uc.raw_n += (size_t)r;
			uc.datagrams++;
		}
		pthread_mutex_unlock(&uc.mu);
	}
	return NULL;
}

static uint16_t udp_start(void)
{
	uint16_t port;

	reader_reset();
	if (!uc.raw)
		uc.raw = malloc(ARENA);
	assert_non_null(uc.raw);
	uc.fd = listen_on(SOCK_DGRAM, &port);
	{
		int sz = 8 << 20;

		if (setsockopt(uc.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
		    sizeof(sz)) != 0)
			setsockopt(uc.fd, SOL_SOCKET, SO_RCVBUF, &sz,
			    sizeof(sz));
	}
	uc.stop = 0;
	uc.max_datagram = 0;
	uc.datagrams = 0;
	uc.raw_n = 0;
	assert_int_equal(pthread_create(&uc.thr, NULL, udp_reader, NULL), 0);
	return port;
}

/* Stops the reader once nothing came for a while (the exporter flushed:
 * what it sent is in the socket already). */
static void udp_stop(void)
{
	int last = -1;

	for (;;) {
		struct timespec ts = { 0, 100 * 1000000L };
		int now;

		nanosleep(&ts, NULL);
		pthread_mutex_lock(&uc.mu);
		now = uc.datagrams;
		pthread_mutex_unlock(&uc.mu);
		if (now == last)
			break;
		last = now;
	}
	pthread_mutex_lock(&uc.mu);
	uc.stop = 1;
	pthread_mutex_unlock(&uc.mu);
	pthread_join(uc.thr, NULL);
	close(uc.fd);
	for (int i = 0; i < uc.datagrams; i++)
		parse_msg(uc.raw + uc.off[i], uc.len[i]);
}

/* TCP: everything readable on c now, split into messages. */
static void tcp_read(int c)
{
	static uint8_t buf[1 << 20];
	size_t n = 0, off = 0;

	for (;;) {
		struct pollfd pfd = { c, POLLIN, 0 };
		ssize_t r;

		if (poll(&pfd, 1, 300) <= 0)
			break;
		r = recv(c, buf + n, sizeof(buf) - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		assert_true(n < sizeof(buf));
	}
	while (off < n) {
		size_t l;

		assert_true(n - off >= 4);
		l = be16(buf + off + 2);
		assert_true(l >= 16 && l <= n - off);
		parse_msg(buf + off, l);
		off += l;
	}
}

static int accept_within(int lfd, int ms)
{
	struct pollfd pfd = { lfd, POLLIN, 0 };

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return accept(lfd, NULL, NULL);
}

/* ---- flow records ----------------------------------------------------- */

struct fl {
	struct tm_conn c;
	struct tm_flow_rec f;
};

static void set_addr(struct tm_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		a->family = 6;
		assert_int_equal(inet_pton(AF_INET6, s, a->a), 1);
	} else {
		a->family = 4;
		assert_int_equal(inet_pton(AF_INET, s, a->a), 1);
	}
}

#define T0 1764000000123456789LL	/* 2025-11-24 16:00:00.123456789 */

static void mk(struct fl *x, const char *uid, const char *o, const char *r,
    uint8_t proto, uint16_t op, uint16_t rp)
{
	memset(x, 0, sizeof(*x));
	x->c.key.l3 = strchr(o, ':') ? TM_L3_IPV6 : TM_L3_IPV4;
	x->c.key.proto = proto;
	x->c.pflags = TM_CP_PROTO | (op || rp ? TM_CP_PORTS : 0);
	x->c.first_ts = T0;
	x->c.last_ts = T0 + 2500000000LL;
	x->c.pkts[0] = 5;
	x->c.bytes[0] = 600;
	x->c.pkts[1] = 3;
	x->c.bytes[1] = 200;
	x->f.c = &x->c;
	set_addr(&x->f.orig_h, o);
	set_addr(&x->f.resp_h, r);
	x->f.has_ports = op || rp;
	x->f.orig_p = op;
	x->f.resp_p = rp;
	x->f.class_name = "default";
	x->f.why = TM_END_FIN;
	snprintf(x->f.community_id, sizeof(x->f.community_id), "1:cid-%s", uid);
	snprintf(x->f.uid, sizeof(x->f.uid), "%s", uid);
}

static struct tm_ipfix *open_x(uint16_t port, int tcp, uint32_t domain,
    int64_t refresh)
{
	struct tm_ipfix_conf c;
	struct tm_ipfix *x;
	char coll[64], err[256];

	snprintf(coll, sizeof(coll), "127.0.0.1:%u", port);
	memset(&c, 0, sizeof(c));
	c.collector = coll;
	c.tcp = tcp;
	c.domain = domain;
	c.template_refresh_ns = refresh;
	x = tm_ipfix_open(&c, err, sizeof(err));
	if (!x)
		fail_msg("tm_ipfix_open: %s", err);
	return x;
}

/* ---- tests --------------------------------------------------------------- */

static void test_v4_tcp_and_icmp(void **state)
{
	uint16_t port = udp_start();
	struct tm_ipfix *x = open_x(port, 0, 77, 0);
	struct tm_ipfix_stats st;
	const struct rec *a, *b;
	struct fl t, ic;
	time_t now = time(NULL);

	(void)state;
	mk(&t, "Ctcp", "10.1.0.1", "10.2.0.2", 6, 40000, 443);
	t.f.class_name = "web";
	mk(&ic, "Cicmp", "10.1.0.1", "10.2.0.3", 1, 0, 0);
	ic.c.pflags |= TM_CP_ICMP;
	ic.c.icmp_type = 8;
	ic.c.icmp_code = 0;
	ic.c.pkts[1] = ic.c.bytes[1] = 0;	/* no answer */
	ic.f.why = TM_END_TIMEOUT;
	assert_int_equal(tm_ipfix_add(x, &t.f), 0);
	assert_int_equal(tm_ipfix_add(x, &ic.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	tm_ipfix_get_stats(x, &st);
	tm_ipfix_close(x);
	udp_stop();

	assert_int_equal(st.flows, 2);
	assert_int_equal(st.records, 3);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(n_recs, 3);
	assert_true(msgs[0].first_set_is_template);
	for (int i = 0; i < n_msgs; i++) {
		assert_int_equal(msgs[i].domain, 77);
		assert_true(msgs[i].export_time >= (uint32_t)now - 5 &&
		    msgs[i].export_time <= (uint32_t)now + 60);
	}
	check_sequence();

	a = find("Ctcp", 1);
	b = find("Ctcp", 2);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(addr(a, 0, 8), "10.1.0.1");
	assert_string_equal(addr(a, 0, 12), "10.2.0.2");
	assert_int_equal(num(a, 0, 7), 40000);
	assert_int_equal(num(a, 0, 11), 443);
	assert_int_equal(num(a, 0, 4), 6);
	assert_int_equal(num(a, 0, 2), 5);
	assert_int_equal(num(a, 0, 1), 600);
	assert_int_equal(num(a, 0, 152), 1764000000123ULL);
	assert_int_equal(num(a, 0, 153), 1764000002623ULL);
	assert_int_equal(num(a, 0, 136), 3);	/* fin: end of flow */
	assert_string_equal(str(a, PEN, 3), "web");
	assert_string_equal(str(a, PEN, 2), "1:cid-Ctcp");
	assert_false(has(a, 0, 96));		/* no application */
	assert_false(has(a, 0, 58));		/* no VLAN */
	assert_false(has(a, 0, 32));		/* not ICMP */
	assert_false(has(a, PEN, 5));		/* no tunnel */
	assert_false(has(a, 0, 27));		/* not IPv6 */
	assert_string_equal(addr(b, 0, 8), "10.2.0.2");
	assert_string_equal(addr(b, 0, 12), "10.1.0.1");
	assert_int_equal(num(b, 0, 7), 443);
	assert_int_equal(num(b, 0, 11), 40000);
	assert_int_equal(num(b, 0, 2), 3);
	assert_int_equal(num(b, 0, 1), 200);
	assert_string_equal(str(b, PEN, 3), "web");

	/* ICMP without an answer: one record, its type and code */
	assert_int_equal(count_uid("Cicmp"), 1);
	a = find("Cicmp", 1);
	assert_non_null(a);
	assert_int_equal(num(a, 0, 32), 0x0800);
	assert_int_equal(num(a, 0, 4), 1);
	assert_false(has(a, 0, 7));
	assert_false(has(a, 0, 11));
	assert_int_equal(num(a, 0, 136), 1);	/* idle timeout */
}

static void test_v6_qinq_app(void **state)
{
	uint16_t port = udp_start();
	struct tm_ipfix *x = open_x(port, 0, 0, 0);
	const struct rec *a, *b;
	struct fl u, v, i6;

	(void)state;
	mk(&u, "Cv6", "2001:db8::1", "2001:db8:ffff::53", 17, 5353, 53);
	u.f.ctx.n_vlans = 2;
	u.f.ctx.vlans[0] = 100;
	u.f.ctx.vlans[1] = 200;
	u.f.app = "DNS";
	u.f.why = TM_END_TIMEOUT;
	mk(&v, "Cvlan", "10.1.0.1", "10.2.0.2", 17, 1000, 2000);
	v.f.ctx.n_vlans = 1;
	v.f.ctx.vlans[0] = 4094;
	v.f.why = TM_END_EOF;
	v.f.community_id[0] = '\0';
	mk(&i6, "Cicmp6", "2001:db8::1", "2001:db8::2", 58, 0, 0);
	i6.c.pflags |= TM_CP_ICMP;
	i6.c.icmp_type = 128;
	i6.c.icmp_code = 0;
	assert_int_equal(tm_ipfix_add(x, &u.f), 0);
	assert_int_equal(tm_ipfix_add(x, &v.f), 0);
	assert_int_equal(tm_ipfix_add(x, &i6.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	tm_ipfix_close(x);
	udp_stop();

	assert_int_equal(n_recs, 6);
	check_sequence();
	a = find("Cv6", 1);
	b = find("Cv6", 2);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(addr(a, 0, 27), "2001:db8::1");
	assert_string_equal(addr(a, 0, 28), "2001:db8:ffff::53");
	assert_string_equal(addr(b, 0, 27), "2001:db8:ffff::53");
	assert_false(has(a, 0, 8));
	assert_int_equal(num(a, 0, 58), 100);	/* vlanId: the outer tag */
	assert_int_equal(num(a, 0, 243), 100);	/* dot1qVlanId */
	assert_int_equal(num(a, 0, 245), 200);	/* dot1qCustomerVlanId */
	assert_int_equal(num(b, 0, 245), 200);
	assert_string_equal(str(a, 0, 96), "DNS");
	assert_string_equal(str(a, PEN, 4), "DNS");
	assert_int_equal(num(a, 0, 136), 1);
	assert_int_equal(num(a, 0, 4), 17);

	a = find("Cvlan", 1);
	assert_non_null(a);
	assert_int_equal(num(a, 0, 58), 4094);
	assert_false(has(a, 0, 245));		/* one tag: no customer VLAN */
	assert_false(has(a, PEN, 2));		/* no Community ID */
	assert_int_equal(num(a, 0, 136), 4);	/* eof: forced end */

	a = find("Cicmp6", 1);
	b = find("Cicmp6", 2);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(num(a, 0, 139), 128 << 8);
	assert_false(has(a, 0, 32));
	assert_false(has(b, 0, 139));		/* the initiator's only */
}

static void test_tunnels_spi(void **state)
{
	uint16_t port = udp_start();
	struct tm_ipfix *x = open_x(port, 0, 0, 0);
	const struct rec *a, *b;
	struct fl vx, gre, esp;
	struct tm_tunnel *t;

	(void)state;
	mk(&vx, "Cvxlan", "192.168.1.1", "192.168.1.2", 6, 33000, 80);
	vx.f.ctx.n_tunnels = 1;
	t = &vx.f.ctx.tunnels[0];
	t->type = TM_TUN_VXLAN;
	t->ids = TM_TID_VNI;
	set_addr(&t->src, "192.0.2.1");
	set_addr(&t->dst, "198.51.100.2");
	t->vni = 4242;
	vx.f.why = TM_END_RST;

	mk(&gre, "Cgre", "10.0.0.1", "10.0.0.2", 17, 1111, 2222);
	gre.f.ctx.n_tunnels = 2;
	t = &gre.f.ctx.tunnels[0];
	t->type = TM_TUN_GRE;
	t->ids = TM_TID_KEY;
	set_addr(&t->src, "2001:db8:1::1");
	set_addr(&t->dst, "2001:db8:2::2");
	t->key = 7;
	t = &gre.f.ctx.tunnels[1];
	t->type = TM_TUN_MPLS;
	t->ids = TM_TID_LABEL;
	t->label = 16;

	mk(&esp, "Cesp", "10.9.0.1", "10.9.0.2", 50, 0, 0);
	esp.c.pflags |= TM_CP_SPI;
	esp.c.key.spi = 0x1234;
	esp.c.pkts[1] = esp.c.bytes[1] = 0;
	esp.f.why = TM_END_EVICTED;

	assert_int_equal(tm_ipfix_add(x, &vx.f), 0);
	assert_int_equal(tm_ipfix_add(x, &gre.f), 0);
	assert_int_equal(tm_ipfix_add(x, &esp.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	tm_ipfix_close(x);
	udp_stop();

	assert_int_equal(n_recs, 5);
	a = find("Cvxlan", 1);
	b = find("Cvxlan", 2);
	assert_non_null(a);
	assert_non_null(b);
	/* the inner conversation is the flow */
	assert_string_equal(addr(a, 0, 8), "192.168.1.1");
	assert_int_equal(num(a, 0, 351), 0x0100000000001092ULL);
	assert_int_equal(num(a, PEN, 12), 4242);
	assert_string_equal(str(a, PEN, 5), "vxlan");
	assert_string_equal(str(a, PEN, 6),
	    "[vxlan 192.0.2.1>198.51.100.2 vni 4242]");
	assert_int_equal(num(a, PEN, 7), 1);
	assert_string_equal(addr(a, PEN, 8), "192.0.2.1");
	assert_string_equal(addr(a, PEN, 9), "198.51.100.2");
	/* the responder's record: the tunnel the other way */
	assert_string_equal(addr(b, PEN, 8), "198.51.100.2");
	assert_string_equal(addr(b, PEN, 9), "192.0.2.1");
	assert_false(has(a, 0, 296));
	assert_false(has(a, PEN, 10));
	assert_int_equal(num(a, 0, 136), 3);	/* rst: end of flow */

	a = find("Cgre", 1);
	assert_non_null(a);
	assert_int_equal(num(a, 0, 296), 7);	/* greKey */
	assert_false(has(a, 0, 351));
	assert_false(has(a, PEN, 8));
	assert_string_equal(addr(a, PEN, 10), "2001:db8:1::1");
	assert_string_equal(addr(a, PEN, 11), "2001:db8:2::2");
	assert_int_equal(num(a, PEN, 7), 2);
	assert_string_equal(str(a, PEN, 6),
	    "[gre 2001:db8:1::1>2001:db8:2::2 key 7] [mpls label 16]");
	assert_false(has(a, PEN, 16));		/* not the outermost */

	assert_int_equal(count_uid("Cesp"), 1);
	a = find("Cesp", 1);
	assert_non_null(a);
	assert_int_equal(num(a, 0, 295), 0x1234);	/* IPSecSPI */
	assert_int_equal(num(a, 0, 136), 5);	/* evicted: lack of resources */
	assert_false(has(a, 0, 7));
}

static void test_not_ip(void **state)
{
	uint16_t port = udp_start();
	struct tm_ipfix *x = open_x(port, 0, 0, 0);
	struct tm_ipfix_stats st;
	struct fl arp;

	(void)state;
	mk(&arp, "Carp", "10.0.0.1", "10.0.0.2", 0, 0, 0);
	arp.c.key.l3 = TM_L3_ARP;
	arp.c.pflags = 0;
	assert_int_equal(tm_ipfix_add(x, &arp.f), 1);
	assert_int_equal(tm_ipfix_flush(x), 0);
	tm_ipfix_get_stats(x, &st);
	tm_ipfix_close(x);
	udp_stop();
	assert_int_equal(st.flows, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.records, 0);
	assert_int_equal(n_msgs, 0);
}

/* UDP: templates again after template_refresh (1 ns here: before every
 * message); without it, a second batch of the same kind carries none. */
static void test_udp_refresh(void **state)
{
	for (int refresh = 0; refresh < 2; refresh++) {
		uint16_t port = udp_start();
		struct tm_ipfix *x = open_x(port, 0, 0, refresh ? 1 : 0);
		struct fl a, b;

		(void)state;
		mk(&a, "Ca", "10.1.0.1", "10.2.0.2", 6, 1, 2);
		mk(&b, "Cb", "10.1.0.1", "10.2.0.2", 6, 3, 4);
		assert_int_equal(tm_ipfix_add(x, &a.f), 0);
		assert_int_equal(tm_ipfix_flush(x), 0);
		assert_int_equal(tm_ipfix_add(x, &b.f), 0);
		assert_int_equal(tm_ipfix_flush(x), 0);
		tm_ipfix_close(x);
		udp_stop();
		/* fixbuf puts templates in messages of their own */
		assert_int_equal(n_msgs, refresh ? 4 : 3);
		assert_true(msgs[0].first_set_is_template);
		assert_int_equal(msgs[0].n_records, 0);
		assert_int_equal(msgs[1].n_records, 2);
		assert_int_equal(msgs[2].first_set_is_template, refresh);
		assert_non_null(find("Cb", 2));
		check_sequence();
	}
}

/* Many flows: many datagrams, none above the MTU, nothing lost. (Sent in
 * bursts of 100 flows, a flush after each: a busy machine may leave the
 * reading thread asleep longer than a socket buffer lasts.) */
static void test_udp_many(void **state)
{
	uint16_t port = udp_start();
	struct tm_ipfix *x = open_x(port, 0, 9, 0);
	struct tm_ipfix_stats st;
	struct fl f;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		char uid[24];

		snprintf(uid, sizeof(uid), "C%d", i);
		mk(&f, uid, i & 1 ? "2001:db8::1" : "10.1.0.1",
		    i & 1 ? "2001:db8::2" : "10.2.0.2", 6,
		    (uint16_t)(1024 + i), 80);
		f.c.pkts[0] = (uint64_t)i + 1;
		if (i % 3 == 0)
			f.c.pkts[1] = f.c.bytes[1] = 0;
		f.f.app = i % 5 ? NULL : "HTTP";
		assert_int_equal(tm_ipfix_add(x, &f.f), 0);
		if (i % 100 == 99)
			assert_int_equal(tm_ipfix_flush(x), 0);
	}
	assert_int_equal(tm_ipfix_flush(x), 0);
	tm_ipfix_get_stats(x, &st);
	tm_ipfix_close(x);
	udp_stop();
	assert_int_equal(st.records, 3000 + 2000);
	assert_int_equal(st.lost + st.dropped + st.errors, 0);
	assert_int_equal(n_recs, 5000);
	assert_int_equal(st.messages, (uint64_t)n_msgs);
	assert_true(n_msgs > 100);
	assert_true(uc.max_datagram <= 1400);
	check_sequence();
	for (int i = 0; i < 3000; i += 7) {
		char uid[24];
		const struct rec *r;

		snprintf(uid, sizeof(uid), "C%d", i);
		r = find(uid, 1);
		assert_non_null(r);
		assert_int_equal(num(r, 0, 2), (uint64_t)i + 1);
		assert_int_equal(count_uid(uid), i % 3 == 0 ? 1 : 2);
		assert_int_equal(has(r, 0, 96), i % 5 == 0);
	}
}

/* TCP: templates first on each connection; a collector that sends junk
 * and closes loses the next message (counted) and is reconnected; junk on
 * a live connection is read and ignored. */
static void test_tcp_reconnect(void **state)
{
	uint16_t port;
	int lfd = listen_on(SOCK_STREAM, &port), c;
	struct tm_ipfix *x = open_x(port, 1, 5, 0);
	struct tm_ipfix_stats st;
	struct fl a, b, cc, d;

	(void)state;
	reader_reset();
	mk(&a, "Ca", "10.1.0.1", "10.2.0.2", 6, 1, 2);
	mk(&b, "Cb", "10.1.0.1", "10.2.0.2", 6, 3, 4);
	mk(&cc, "Cc", "10.1.0.1", "10.2.0.2", 6, 5, 6);
	mk(&d, "Cd", "10.1.0.1", "10.2.0.2", 6, 7, 8);

	assert_int_equal(tm_ipfix_add(x, &a.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	c = accept_within(lfd, 2000);
	assert_true(c >= 0);
	tcp_read(c);
	assert_true(n_msgs >= 1);
	assert_true(msgs[0].first_set_is_template);
	assert_non_null(find("Ca", 1));
	assert_non_null(find("Ca", 2));

	/* junk, then gone */
	assert_int_equal(send(c, "hello exporter", 14, MSG_NOSIGNAL), 14);
	close(c);
	{
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
	assert_int_equal(tm_ipfix_add(x, &b.f), 0);
	assert_int_equal(tm_ipfix_flush(x), -1);	/* b is lost */
	tm_ipfix_get_stats(x, &st);
	assert_int_equal(st.lost, 2);
	assert_true(st.errors >= 1);

	reader_reset();
	assert_int_equal(tm_ipfix_add(x, &cc.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	c = accept_within(lfd, 2000);
	assert_true(c >= 0);
	/* junk on a live connection: read, ignored */
	assert_int_equal(send(c, "noise", 5, MSG_NOSIGNAL), 5);
	assert_int_equal(tm_ipfix_add(x, &d.f), 0);
	assert_int_equal(tm_ipfix_flush(x), 0);
	tcp_read(c);
	assert_true(msgs[0].first_set_is_template);
	assert_null(find("Cb", 1));
	assert_non_null(find("Cc", 1));
	assert_non_null(find("Cd", 2));
	for (int i = 0; i < n_msgs; i++)
		assert_int_equal(msgs[i].domain, 5);
	tm_ipfix_get_stats(x, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.lost, 2);
	tm_ipfix_close(x);
	close(c);
	close(lfd);
}

/* TCP to a port nobody listens on: every record counted as lost, the
 * reason kept, nothing hangs. */
static void test_tcp_refused(void **state)
{
	uint16_t port;
	int lfd = listen_on(SOCK_STREAM, &port);
	struct tm_ipfix *x;
	struct tm_ipfix_stats st;
	struct fl a;

	(void)state;
	close(lfd);
	x = open_x(port, 1, 0, 0);
	mk(&a, "Ca", "10.1.0.1", "10.2.0.2", 6, 1, 2);
	assert_int_equal(tm_ipfix_add(x, &a.f), 0);
	assert_int_equal(tm_ipfix_flush(x), -1);
	tm_ipfix_get_stats(x, &st);
	tm_ipfix_close(x);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.lost, 2);
	assert_true(st.errors >= 1);
	assert_non_null(strstr(st.last_error, "connect"));
}

static void test_parse_collector(void **state)
{
	static const char *const good[][3] = {
		{ "127.0.0.1:4739", "127.0.0.1", "4739" },
		{ "[::1]:4739", "::1", "4739" },
		{ "collector.example:1", "collector.example", "1" },
		{ "h:65535", "h", "65535" },
	};
	static const char *const bad[] = { "127.0.0.1", ":4739", "::1:4739",
		"[::1]4739", "[::1]", "h:0", "h:65536", "h:12x", "h:", "[]:1",
		"a b:1", "h:-1", "h:+1", "", "h:99999999999999999999" };
	char host[256], port[8], err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(tm_ipfix_parse_collector(good[i][0], host,
		    sizeof(host), port, sizeof(port), err, sizeof(err)), 0);
		assert_string_equal(host, good[i][1]);
		assert_string_equal(port, good[i][2]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tm_ipfix_parse_collector(bad[i], host, sizeof(host), port,
		    sizeof(port), err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "HOST:PORT"));
	}
}

static int load(const char *text, struct tm_config *cfg, char *err,
    size_t errlen)
{
	char path[] = "/tmp/tm-ipfix-conf.XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	tm_config_defaults(cfg);
	rc = tm_config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

static void test_config(void **state)
{
	static const char *const bad[][2] = {
		{ "export:\n  ipfix:\n    colector: 1.2.3.4:5\n",
		  "unknown key 'colector'" },
		{ "export:\n  ipfix:\n    collector: 1.2.3.4:5\n"
		  "    transport: sctp\n", "not udp or tcp" },
		{ "export:\n  ipfix:\n    transport: tcp\n",
		  "needs a collector" },
		{ "export:\n  ipfix:\n    collector: 1.2.3.4\n",
		  "is not HOST:PORT" },
		{ "export:\n  ipfix:\n    collector: 1.2.3.4:5\n"
		  "    template_refresh: 0s\n", "from 1s to 1d" },
		{ "export:\n  ipfix:\n    collector: 1.2.3.4:5\n"
		  "    observation_domain: 4294967296\n", "4294967295" },
		{ "export:\n  netflow: {}\n", "unknown key 'netflow'" },
		{ "export:\n  ipfix: 1.2.3.4:5\n", "expected a mapping" },
	};
	struct tm_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load("export:\n  ipfix:\n    collector: "
	    "'[::1]:4739'\n    transport: tcp\n    observation_domain: 7\n"
	    "    template_refresh: 5m\n", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.ipfix.collector, "[::1]:4739");
	assert_int_equal(cfg.ipfix.tcp, 1);
	assert_int_equal(cfg.ipfix.domain, 7);
	assert_int_equal(cfg.ipfix.template_refresh_ns, 300000000000LL);
	tm_config_free(&cfg);
	assert_null(cfg.ipfix.collector);

	assert_int_equal(load("classes: []\n", &cfg, err, sizeof(err)), 0);
	assert_null(cfg.ipfix.collector);
	tm_config_free(&cfg);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load(bad[i][0], &cfg, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i][0]);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i][0],
			    err, bad[i][1]);
		/* FILE:LINE:COLUMN */
		assert_non_null(strstr(err, "tm-ipfix-conf"));
		tm_config_free(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_tcp_and_icmp),
		cmocka_unit_test(test_v6_qinq_app),
		cmocka_unit_test(test_tunnels_spi),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_udp_refresh),
		cmocka_unit_test(test_udp_many),
		cmocka_unit_test(test_tcp_reconnect),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_parse_collector),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
