/*
 * IPFIX export with libfixbuf (docs/ipfix.md).
 *
 * fixbuf encodes: one internal template describes struct xrec (every
 * element we can send), and the export templates are made on demand, one
 * per combination of elements a record really has (IPv4 or IPv6, ports or
 * ICMP, VLANs, which tunnel identifiers...), so nothing is sent as a
 * made-up zero. fixbuf writes each finished message into our buffer
 * (fbExporterAllocBuffer, manual mode); the transport is ours, so that
 * sends time out, SIGPIPE is never raised, a TCP collector that went away
 * is noticed and reconnected, and templates go first on every new
 * connection. All of fixbuf and all network I/O stay on the exporter's
 * thread.
 */
#define _GNU_SOURCE	/* POLLRDHUP */
#include "ipfix.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fixbuf/public.h>

#include "conn.h"
#include "pktfmt.h"
#include "tracker.h"

#define NS		1000000000LL
#define MTU_UDP		1400u	/* a message fits an Ethernet path */
#define MTU_TCP		32768u
#define FLUSH_NS	NS	/* a message waits at most this long */
#define CONNECT_MS	3000
#define SEND_TIMEOUT_S	5
#define BACKOFF_MAX_NS	(30 * NS)
#define MAX_TEMPLATES	256
#define TID_INTERNAL	0xff00u
#define TID_FIRST	256u
#define BATCH		256u

/* ---- what the exporter's thread gets: a plain copy of a record ---------- */

struct qrec {
	int64_t first_ts, last_ts;
	uint64_t pkts[2], bytes[2];
	uint8_t fam;			/* 4 or 6 */
	uint8_t orig[16], resp[16];
	uint16_t orig_p, resp_p;
	uint8_t has_ports, has_proto, has_icmp, has_spi;
	uint8_t proto, icmp_type, icmp_code, why;
	uint32_t spi;
	uint8_t n_vlans;
	uint16_t vlan[2];		/* outermost first */
	uint8_t n_tunnels;
	uint8_t t_type, t_ids, t_fam;	/* the outermost tunnel */
	uint8_t t_src[16], t_dst[16];
	uint32_t t_key, t_tunnel, t_session, t_vni, t_teid, t_label;
	char t_name[32];
	char stack[256];		/* every tunnel, as tm flows prints */
	char uid[24];
	char cid[TM_COMMUNITY_ID_SIZE];
	char cls[128];
	char app[128];
};

/* ---- the record as fixbuf reads it (the internal template) ----------- */

struct xrec {
	uint64_t start_ms, end_ms;
	uint64_t octets, packets;
	uint64_t l2seg;
	uint8_t src6[16], dst6[16];
	uint8_t tsrc6[16], tdst6[16];
	fbVarfield_t app, uid, cid, cls, app_e, t_type, t_stack;
	uint32_t src4, dst4;		/* host order: fixbuf converts */
	uint32_t tsrc4, tdst4;
	uint32_t spi, gre_key, vni, teid, tunnel_id, session_id, label;
	uint16_t sport, dport;
	uint16_t vlan, dot1q, cvlan;
	uint16_t icmp4, icmp6;
	uint8_t proto, why, dir, t_count;
	uint8_t pad[2];
};

_Static_assert(sizeof(struct xrec) == 5 * 8 + 4 * 16 +
    7 * sizeof(fbVarfield_t) + 11 * 4 + 7 * 2 + 4 + 2,
    "struct xrec has holes: the internal template would not match");

/* Which elements a record has: an element goes into an export template
 * when all the bits of its spec are in the record's mask. */
enum {
	B_V4 = 1u << 0, B_V6 = 1u << 1, B_PORTS = 1u << 2, B_PROTO = 1u << 3,
	B_ICMP4 = 1u << 4, B_ICMP6 = 1u << 5, B_SPI = 1u << 6,
	B_VLAN = 1u << 7, B_QINQ = 1u << 8, B_APP = 1u << 9, B_CID = 1u << 10,
	B_TUN = 1u << 11, B_TUN4 = 1u << 12, B_TUN6 = 1u << 13,
	B_GREKEY = 1u << 14, B_VXLAN = 1u << 15, B_VNI = 1u << 16,
	B_TEID = 1u << 17, B_TUNID = 1u << 18, B_SESSID = 1u << 19,
	B_LABEL = 1u << 20,
	B_INTERNAL = 1u << 31		/* padding: internal template only */
};

#define PEN TM_IPFIX_PEN
#define E_ID (FB_IE_F_ENDIAN | FB_IE_IDENTIFIER)

static fbInfoElement_t tm_elements[] = {
	FB_IE_INIT_FULL("tmUid", PEN, 1, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0,
	    FB_STRING, "timemachine's connection uid"),
	FB_IE_INIT_FULL("tmCommunityId", PEN, 2, FB_IE_VARLEN, FB_IE_DEFAULT,
	    0, 0, FB_STRING, "Community ID flow hash, version 1"),
	FB_IE_INIT_FULL("tmClass", PEN, 3, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0,
	    FB_STRING, "the storage class of the connection"),
	FB_IE_INIT_FULL("tmApplication", PEN, 4, FB_IE_VARLEN, FB_IE_DEFAULT,
	    0, 0, FB_STRING, "nDPI's application name"),
	FB_IE_INIT_FULL("tmTunnelType", PEN, 5, FB_IE_VARLEN, FB_IE_DEFAULT,
	    0, 0, FB_STRING, "the outermost tunnel's type"),
	FB_IE_INIT_FULL("tmTunnelStack", PEN, 6, FB_IE_VARLEN, FB_IE_DEFAULT,
	    0, 0, FB_STRING, "every tunnel, outermost first"),
	FB_IE_INIT_FULL("tmTunnelCount", PEN, 7, 1, FB_IE_F_ENDIAN |
	    FB_IE_QUANTITY, 0, 0, FB_UINT_8, "tunnels around the flow"),
	FB_IE_INIT_FULL("tmTunnelSourceIPv4Address", PEN, 8, 4, FB_IE_F_ENDIAN,
	    0, 0, FB_IP4_ADDR, "outermost tunnel: source"),
	FB_IE_INIT_FULL("tmTunnelDestinationIPv4Address", PEN, 9, 4,
	    FB_IE_F_ENDIAN, 0, 0, FB_IP4_ADDR, "outermost tunnel: destination"),
	FB_IE_INIT_FULL("tmTunnelSourceIPv6Address", PEN, 10, 16,
	    FB_IE_DEFAULT, 0, 0, FB_IP6_ADDR, "outermost tunnel: source"),
	FB_IE_INIT_FULL("tmTunnelDestinationIPv6Address", PEN, 11, 16,
	    FB_IE_DEFAULT, 0, 0, FB_IP6_ADDR, "outermost tunnel: destination"),
	FB_IE_INIT_FULL("tmTunnelVni", PEN, 12, 4, E_ID, 0, 0, FB_UINT_32,
	    "VXLAN or Geneve VNI"),
	FB_IE_INIT_FULL("tmTunnelTeid", PEN, 13, 4, E_ID, 0, 0, FB_UINT_32,
	    "GTP-U TEID"),
	FB_IE_INIT_FULL("tmTunnelId", PEN, 14, 4, E_ID, 0, 0, FB_UINT_32,
	    "L2TP tunnel id"),
	FB_IE_INIT_FULL("tmTunnelSessionId", PEN, 15, 4, E_ID, 0, 0,
	    FB_UINT_32, "L2TP, PPPoE or ERSPAN session id"),
	FB_IE_INIT_FULL("tmTunnelMplsLabel", PEN, 16, 4, E_ID, 0, 0,
	    FB_UINT_32, "MPLS label (bottom of the stack)"),
	FB_IE_NULL
};

/* In the order of struct xrec. */
static fbInfoElementSpec_t spec[] = {
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "layer2SegmentId", 8, B_VXLAN },
	{ "sourceIPv6Address", 16, B_V6 },
	{ "destinationIPv6Address", 16, B_V6 },
	{ "tmTunnelSourceIPv6Address", 16, B_TUN6 },
	{ "tmTunnelDestinationIPv6Address", 16, B_TUN6 },
	{ "applicationName", FB_IE_VARLEN, B_APP },
	{ "tmUid", FB_IE_VARLEN, 0 },
	{ "tmCommunityId", FB_IE_VARLEN, B_CID },
	{ "tmClass", FB_IE_VARLEN, 0 },
	{ "tmApplication", FB_IE_VARLEN, B_APP },
	{ "tmTunnelType", FB_IE_VARLEN, B_TUN },
	{ "tmTunnelStack", FB_IE_VARLEN, B_TUN },
	{ "sourceIPv4Address", 4, B_V4 },
	{ "destinationIPv4Address", 4, B_V4 },
	{ "tmTunnelSourceIPv4Address", 4, B_TUN4 },
	{ "tmTunnelDestinationIPv4Address", 4, B_TUN4 },
	{ "IPSecSPI", 4, B_SPI },
	{ "greKey", 4, B_GREKEY },
	{ "tmTunnelVni", 4, B_VNI },
	{ "tmTunnelTeid", 4, B_TEID },
	{ "tmTunnelId", 4, B_TUNID },
	{ "tmTunnelSessionId", 4, B_SESSID },
	{ "tmTunnelMplsLabel", 4, B_LABEL },
	{ "sourceTransportPort", 2, B_PORTS },
	{ "destinationTransportPort", 2, B_PORTS },
	{ "vlanId", 2, B_VLAN },
	{ "dot1qVlanId", 2, B_VLAN },
	{ "dot1qCustomerVlanId", 2, B_QINQ },
	{ "icmpTypeCodeIPv4", 2, B_ICMP4 },
	{ "icmpTypeCodeIPv6", 2, B_ICMP6 },
	{ "protocolIdentifier", 1, B_PROTO },
	{ "flowEndReason", 1, 0 },
	{ "biflowDirection", 1, 0 },
	{ "tmTunnelCount", 1, B_TUN },
	{ "paddingOctets", 2, B_INTERNAL },
	FB_IESPEC_NULL
};

struct tmpl {
	uint32_t mask;
	uint16_t tid;
};

struct tm_ipfix {
	struct tm_ipfix_conf conf;
	char name[300];			/* the collector, for messages */
	struct sockaddr_storage addr;
	socklen_t addrlen;

	/* the queue: producers append, the thread reads in place */
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_room, cv_flushed;
	struct qrec *q;
	unsigned cap, tail, count;
	uint64_t flush_req, flush_done;
	uint64_t unclean;		/* lost + dropped at the last flush */
	int stop;
	pthread_t thr;
	int started;
	struct tm_ipfix_stats st;	/* guarded by mu */

	/* the thread's own */
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;		/* owned by fbuf */
	fBuf_t *fbuf;
	uint8_t *msgbuf;
	unsigned mtu;
	struct tmpl tmpl[MAX_TEMPLATES];
	unsigned n_tmpl;
	int fd;
	int64_t next_connect;		/* TCP: not before (monotonic) */
	unsigned failures;		/* TCP: connects failed in a row */
	int64_t last_templates;		/* UDP: when they were last sent */
	int msg_used;			/* the message holds something */
	unsigned msg_records;
	int64_t msg_t0;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* Thread: an error, counted, with its message kept. */
static void fail(struct tm_ipfix *x, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void fail(struct tm_ipfix *x, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&x->mu);
	x->st.errors++;
	va_start(ap, fmt);
	vsnprintf(x->st.last_error, sizeof(x->st.last_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&x->mu);
}

static void gfail(struct tm_ipfix *x, const char *what, GError *e)
{
	fail(x, "%s: %s", what, e ? e->message : "failed");
}

/* ---- the collector ------------------------------------------------------ */

int tm_ipfix_parse_collector(const char *s, char *host, size_t hostlen,
    char *port, size_t portlen, char *err, size_t errlen)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			goto bad;	/* an IPv6 address needs brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		goto bad;
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)h[i] <= 0x20 || h[i] == 0x7f)
			goto bad;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || p < 1 ||
	    p > 65535)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%lu", p);
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT (port 1-65535; an IPv6 "
	    "address in brackets: [::1]:4739)", s);
	return -1;
}

static void close_fd(struct tm_ipfix *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
}

/* TCP: a connection, made within CONNECT_MS. 0, or -1 (counted). */
static int tcp_connect(struct tm_ipfix *x)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct pollfd pfd;
	int fd, e = 0, fl;
	socklen_t el = sizeof(e);

	fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fail(x, "%s: socket: %s", x->name, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&x->addr, x->addrlen) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			goto bad;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		for (;;) {
			int r = poll(&pfd, 1, CONNECT_MS);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				e = r == 0 ? ETIMEDOUT : errno;
				goto bad;
			}
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e)
			goto bad;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
		e = errno;
		goto bad;
	}
	x->fd = fd;
	pthread_mutex_lock(&x->mu);
	x->st.connects++;
	pthread_mutex_unlock(&x->mu);
	return 0;
bad:
	close(fd);
	fail(x, "%s: connect: %s", x->name, strerror(e));
	return -1;
}

/* TCP: has the collector closed its side (or sent something it should
 * not)? Whatever it sent is read and thrown away, a bounded amount. */
static int tcp_peer_gone(struct tm_ipfix *x)
{
	struct pollfd pfd = { x->fd, POLLIN | POLLRDHUP, 0 };
	uint8_t junk[4096];
	ssize_t r;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
		return 1;
	r = recv(x->fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR))
		return 1;
	return 0;
}

static void tcp_lost(struct tm_ipfix *x, int64_t now)
{
	close_fd(x);
	/* the first try again is at once: a restarted collector */
	x->next_connect = x->failures ? now + ((int64_t)NS << (x->failures > 5 ?
	    5 : x->failures)) : now;
	if (x->next_connect > now + BACKOFF_MAX_NS)
		x->next_connect = now + BACKOFF_MAX_NS;
	x->failures++;
}

/* Sends one message. 0, or -1 (the message is lost). */
static int send_msg(struct tm_ipfix *x, const uint8_t *p, size_t n)
{
	if (x->conf.tcp) {
		size_t off = 0;

		if (x->fd < 0)
			return -1;	/* not connected: counted as lost */
		if (tcp_peer_gone(x)) {
			fail(x, "%s: the collector closed the connection",
			    x->name);
			tcp_lost(x, mono_ns());
			return -1;
		}
		while (off < n) {
			ssize_t r = send(x->fd, p + off, n - off, MSG_NOSIGNAL);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fail(x, "%s: send: %s", x->name, r < 0 &&
				    (errno == EAGAIN || errno == EWOULDBLOCK) ?
				    "timed out" : strerror(errno));
				tcp_lost(x, mono_ns());
				return -1;
			}
			off += (size_t)r;
		}
		x->failures = 0;
		return 0;
	}
	for (int tries = 0; tries < 2; tries++) {
		ssize_t r = send(x->fd, p, n, MSG_NOSIGNAL);

		if (r == (ssize_t)n)
			return 0;
		if (r < 0 && errno == EINTR) {
			tries--;
			continue;
		}
		/* ECONNREFUSED is an earlier datagram's ICMP error: this
		 * one was not sent, the next try sends it */
		fail(x, "%s: send: %s", x->name, r < 0 ? strerror(errno) :
		    "short send");
		if (!(r < 0 && errno == ECONNREFUSED))
			break;
	}
	return -1;
}

/* ---- messages ------------------------------------------------------------ */

static void emit(struct tm_ipfix *x)
{
	GError *e = NULL;
	size_t len;
	int ok;

	if (!x->msg_used)
		return;
	x->msg_used = 0;
	if (!fBufEmit(x->fbuf, &e)) {
		gfail(x, "IPFIX message", e);
		g_clear_error(&e);
		len = 0;
		ok = 0;
	} else {
		len = fbExporterGetMsgLen(x->exporter);
		ok = len >= 16 && send_msg(x, x->msgbuf, len) == 0;
	}
	pthread_mutex_lock(&x->mu);
	if (ok) {
		x->st.records += x->msg_records;
		x->st.messages++;
		x->st.bytes += len;
	} else {
		x->st.lost += x->msg_records;
	}
	pthread_mutex_unlock(&x->mu);
	x->msg_records = 0;
}

static void mark_used(struct tm_ipfix *x)
{
	if (!x->msg_used)
		x->msg_t0 = mono_ns();
	x->msg_used = 1;
}

/* Writes a template into the message: a new one (t, added to the session)
 * or one the session has. fixbuf answers EOM when the message is full, and
 * once when a template follows data (it wants a new message then): the
 * message is sent and the template tried again. 0, or -1 (counted). */
static int put_template(struct tm_ipfix *x, uint16_t tid, fbTemplate_t *t)
{
	GError *e = NULL;

	for (int tries = 0; tries < 3; tries++) {
		int ok = t ? fbSessionAddTemplate(x->session, FALSE, tid, t,
		    &e) != 0 : fbSessionExportTemplate(x->session, tid, &e);

		if (ok) {
			mark_used(x);
			return 0;
		}
		if (!g_error_matches(e, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			break;
		g_clear_error(&e);
		emit(x);
	}
	gfail(x, "IPFIX template", e);
	g_clear_error(&e);
	return -1;
}

/* Every template again (a new TCP connection, the UDP refresh). */
static void export_templates(struct tm_ipfix *x)
{
	for (unsigned i = 0; i < x->n_tmpl; i++)
		put_template(x, x->tmpl[i].tid, NULL);
}

/* Before anything goes into an empty message: a TCP connection (templates
 * first on a new one), the UDP template refresh. */
static void begin_message(struct tm_ipfix *x)
{
	int64_t now = mono_ns();

	if (x->conf.tcp) {
		if (x->fd >= 0 || now < x->next_connect)
			return;
		if (tcp_connect(x) != 0) {
			tcp_lost(x, now);
			return;
		}
		export_templates(x);
	} else if (now - x->last_templates >= x->conf.template_refresh_ns) {
		export_templates(x);
		x->last_templates = now;
	}
}

/* The export template of a mask (made and sent when new). 0 on failure. */
static uint16_t template_for(struct tm_ipfix *x, uint32_t mask)
{
	fbTemplate_t *t;
	GError *e = NULL;
	uint16_t tid;

	for (unsigned i = 0; i < x->n_tmpl; i++)
		if (x->tmpl[i].mask == mask)
			return x->tmpl[i].tid;
	if (x->n_tmpl == MAX_TEMPLATES) {
		fail(x, "IPFIX: more than %d templates", MAX_TEMPLATES);
		return 0;
	}
	/* a new template starts a message: it always fits there */
	emit(x);
	begin_message(x);
	t = fbTemplateAlloc(x->model);
	if (!fbTemplateAppendSpecArray(t, spec, mask, &e)) {
		gfail(x, "IPFIX template", e);
		g_clear_error(&e);
		fbTemplateFreeUnused(t);
		return 0;
	}
	tid = (uint16_t)(TID_FIRST + x->n_tmpl);
	if (put_template(x, tid, t)) {
		fbTemplateFreeUnused(t);
		return 0;
	}
	x->tmpl[x->n_tmpl].mask = mask;
	x->tmpl[x->n_tmpl].tid = tid;
	x->n_tmpl++;
	pthread_mutex_lock(&x->mu);
	x->st.templates++;
	pthread_mutex_unlock(&x->mu);
	return tid;
}

static uint8_t end_reason(uint8_t why)
{
	switch (why) {
	case TM_END_TIMEOUT: return 1;		/* idle timeout */
	case TM_END_FIN:
	case TM_END_RST: return 3;		/* end of flow */
	case TM_END_EVICTED: return 5;		/* lack of resources */
	default: return 4;			/* forced end (eof) */
	}
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void varstr(fbVarfield_t *v, const char *s)
{
	v->buf = (uint8_t *)(uintptr_t)s;
	v->len = strlen(s);
}

/* One direction of a connection (rev: the responder's). */
static uint32_t fill(struct xrec *r, const struct qrec *q, int rev)
{
	const uint8_t *src = rev ? q->resp : q->orig;
	const uint8_t *dst = rev ? q->orig : q->resp;
	uint32_t m = 0;

	memset(r, 0, sizeof(*r));
	r->start_ms = (uint64_t)(q->first_ts / 1000000);
	r->end_ms = (uint64_t)(q->last_ts / 1000000);
	r->packets = q->pkts[rev];
	r->octets = q->bytes[rev];
	if (q->fam == 4) {
		m |= B_V4;
		r->src4 = get_be32(src);
		r->dst4 = get_be32(dst);
	} else {
		m |= B_V6;
		memcpy(r->src6, src, 16);
		memcpy(r->dst6, dst, 16);
	}
	if (q->has_ports) {
		m |= B_PORTS;
		r->sport = rev ? q->resp_p : q->orig_p;
		r->dport = rev ? q->orig_p : q->resp_p;
	}
	if (q->has_proto) {
		m |= B_PROTO;
		r->proto = q->proto;
	}
	/* the first packet's type and code: the initiator's */
	if (q->has_icmp && !rev) {
		m |= q->fam == 4 ? B_ICMP4 : B_ICMP6;
		r->icmp4 = r->icmp6 = (uint16_t)(q->icmp_type << 8 |
		    q->icmp_code);
	}
	if (q->has_spi) {
		m |= B_SPI;
		r->spi = q->spi;
	}
	if (q->n_vlans) {
		m |= B_VLAN;
		r->vlan = r->dot1q = q->vlan[0];
		if (q->n_vlans > 1) {
			m |= B_QINQ;
			r->cvlan = q->vlan[1];
		}
	}
	varstr(&r->uid, q->uid);
	varstr(&r->cls, q->cls);
	if (q->cid[0]) {
		m |= B_CID;
		varstr(&r->cid, q->cid);
	}
	if (q->app[0]) {
		m |= B_APP;
		varstr(&r->app, q->app);
		varstr(&r->app_e, q->app);
	}
	if (q->n_tunnels) {
		m |= B_TUN;
		r->t_count = q->n_tunnels;
		varstr(&r->t_type, q->t_name);
		varstr(&r->t_stack, q->stack);
		if (q->t_fam == 4) {
			m |= B_TUN4;
			r->tsrc4 = get_be32(rev ? q->t_dst : q->t_src);
			r->tdst4 = get_be32(rev ? q->t_src : q->t_dst);
		} else if (q->t_fam == 6) {
			m |= B_TUN6;
			memcpy(r->tsrc6, rev ? q->t_dst : q->t_src, 16);
			memcpy(r->tdst6, rev ? q->t_src : q->t_dst, 16);
		}
		if (q->t_ids & TM_TID_KEY) {
			m |= B_GREKEY;
			r->gre_key = q->t_key;
		}
		if (q->t_ids & TM_TID_VNI) {
			m |= B_VNI;
			r->vni = q->t_vni;
			if (q->t_type == TM_TUN_VXLAN) {
				/* RFC 7348 VNI, encapsulation type 0x01 */
				m |= B_VXLAN;
				r->l2seg = (uint64_t)1 << 56 |
				    (q->t_vni & 0xffffffu);
			}
		}
		if (q->t_ids & TM_TID_TEID) {
			m |= B_TEID;
			r->teid = q->t_teid;
		}
		if (q->t_ids & TM_TID_TUNNEL) {
			m |= B_TUNID;
			r->tunnel_id = q->t_tunnel;
		}
		if (q->t_ids & TM_TID_SESSION) {
			m |= B_SESSID;
			r->session_id = q->t_session;
		}
		if (q->t_ids & TM_TID_LABEL) {
			m |= B_LABEL;
			r->label = q->t_label;
		}
	}
	r->why = end_reason(q->why);
	r->dir = rev ? 2 : 1;	/* (reverse)initiator, biflowDirection */
	return m;
}

static void append(struct tm_ipfix *x, const struct qrec *q, int rev)
{
	struct xrec r;
	uint32_t mask = fill(&r, q, rev);
	uint16_t tid = template_for(x, mask);
	GError *e = NULL;

	if (!tid)
		goto lost;
	if (!x->msg_used)
		begin_message(x);
	/* EOM: the message is full, or holds templates (fixbuf keeps them
	 * apart from data): it goes, and the record starts the next one */
	for (int tries = 0; tries < 2; tries++) {
		if (fBufSetExportTemplate(x->fbuf, tid, &e) &&
		    fBufAppend(x->fbuf, (uint8_t *)&r, sizeof(r), &e)) {
			mark_used(x);
			x->msg_records++;
			return;
		}
		if (!g_error_matches(e, FB_ERROR_DOMAIN, FB_ERROR_EOM) ||
		    !x->msg_used)
			break;
		g_clear_error(&e);
		emit(x);
	}
	gfail(x, "IPFIX record", e);
	g_clear_error(&e);
lost:
	pthread_mutex_lock(&x->mu);
	x->st.lost++;
	pthread_mutex_unlock(&x->mu);
}

static void export_one(struct tm_ipfix *x, const struct qrec *q)
{
	append(x, q, 0);
	if (q->pkts[1])
		append(x, q, 1);
}

static void *run(void *arg)
{
	struct tm_ipfix *x = arg;

	for (;;) {
		unsigned n, start;
		uint64_t freq;
		int stop;

		pthread_mutex_lock(&x->mu);
		while (x->count == 0 && !x->stop &&
		    x->flush_req == x->flush_done) {
			if (x->msg_records) {
				int64_t due = x->msg_t0 + FLUSH_NS;
				struct timespec ts;

				if (mono_ns() >= due)
					break;
				ts.tv_sec = (time_t)(due / NS);
				ts.tv_nsec = (long)(due % NS);
				pthread_cond_timedwait(&x->cv_work, &x->mu, &ts);
			} else {
				pthread_cond_wait(&x->cv_work, &x->mu);
			}
		}
		n = x->count < BATCH ? x->count : BATCH;
		start = x->tail;
		pthread_mutex_unlock(&x->mu);

		for (unsigned i = 0; i < n; i++)
			export_one(x, &x->q[(start + i) % x->cap]);

		pthread_mutex_lock(&x->mu);
		x->tail = (x->tail + n) % x->cap;
		x->count -= n;
		if (n)
			pthread_cond_broadcast(&x->cv_room);
		freq = x->flush_req;
		stop = x->stop;
		n = x->count;
		pthread_mutex_unlock(&x->mu);

		if (x->msg_records && mono_ns() - x->msg_t0 >= FLUSH_NS)
			emit(x);
		if (n == 0 && (freq != x->flush_done || stop)) {
			emit(x);
			pthread_mutex_lock(&x->mu);
			x->flush_done = freq;
			pthread_cond_broadcast(&x->cv_flushed);
			pthread_mutex_unlock(&x->mu);
			if (stop)
				break;
		}
	}
	return NULL;
}

/* ---- the producers' side ------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

int tm_ipfix_add(struct tm_ipfix *x, const struct tm_flow_rec *f)
{
	const struct tm_conn *c = f->c;
	struct qrec q;
	int fam = f->orig_h.family;

	if ((c->key.l3 != TM_L3_IPV4 && c->key.l3 != TM_L3_IPV6) ||
	    (fam != 4 && fam != 6) || f->resp_h.family != fam) {
		pthread_mutex_lock(&x->mu);
		x->st.flows++;
		x->st.skipped++;
		pthread_mutex_unlock(&x->mu);
		return 1;
	}
	memset(&q, 0, sizeof(q));
	q.first_ts = c->first_ts;
	q.last_ts = c->last_ts;
	q.pkts[0] = c->pkts[0];
	q.pkts[1] = c->pkts[1];
	q.bytes[0] = c->bytes[0];
	q.bytes[1] = c->bytes[1];
	q.fam = (uint8_t)fam;
	memcpy(q.orig, f->orig_h.a, 16);
	memcpy(q.resp, f->resp_h.a, 16);
	if (f->has_ports) {
		q.has_ports = 1;
		q.orig_p = f->orig_p;
		q.resp_p = f->resp_p;
	}
	if (c->pflags & TM_CP_PROTO) {
		q.has_proto = 1;
		q.proto = c->key.proto;
	}
	if (c->pflags & TM_CP_ICMP) {
		q.has_icmp = 1;
		q.icmp_type = c->icmp_type;
		q.icmp_code = c->icmp_code;
	}
	if (c->pflags & TM_CP_SPI) {
		q.has_spi = 1;
		q.spi = c->key.spi;
	}
	q.why = (uint8_t)f->why;
	q.n_vlans = f->ctx.n_vlans;
	for (unsigned i = 0; i < 2 && i < f->ctx.n_vlans; i++)
		q.vlan[i] = f->ctx.vlans[i];
	q.n_tunnels = f->ctx.n_tunnels;
	if (q.n_tunnels) {
		const struct tm_tunnel *t = &f->ctx.tunnels[0];
		FILE *m;

		q.t_type = t->type;
		q.t_ids = t->ids;
		if (t->src.family == 4 || t->src.family == 6) {
			q.t_fam = t->src.family;
			memcpy(q.t_src, t->src.a, 16);
			memcpy(q.t_dst, t->dst.a, 16);
		}
		q.t_key = t->key;
		q.t_tunnel = t->tunnel_id;
		q.t_session = t->session_id;
		q.t_vni = t->vni;
		q.t_teid = t->teid;
		q.t_label = t->label;
		copy_str(q.t_name, sizeof(q.t_name), tm_tunnel_type_name(t));
		/* " [gre 192.0.2.1>198.51.100.1 key 5] [...]" */
		m = fmemopen(q.stack, sizeof(q.stack), "w");
		if (m) {
			setvbuf(m, NULL, _IONBF, 0);
			tm_print_context_text(m, NULL, 0, f->ctx.tunnels,
			    f->ctx.n_tunnels);
			fclose(m);
		}
		q.stack[sizeof(q.stack) - 1] = '\0';
		if (q.stack[0] == ' ')
			memmove(q.stack, q.stack + 1, strlen(q.stack));
	}
	copy_str(q.uid, sizeof(q.uid), f->uid);
	copy_str(q.cid, sizeof(q.cid), f->community_id);
	copy_str(q.cls, sizeof(q.cls), f->class_name);
	copy_str(q.app, sizeof(q.app), f->app);

	pthread_mutex_lock(&x->mu);
	x->st.flows++;
	while (x->count == x->cap && !x->stop) {
		if (x->conf.drop_when_full)
			break;
		pthread_cond_wait(&x->cv_room, &x->mu);
	}
	if (x->count == x->cap || x->stop) {
		x->st.dropped++;
		pthread_mutex_unlock(&x->mu);
		return -1;
	}
	x->q[(x->tail + x->count) % x->cap] = q;
	x->count++;
	if (x->count == 1 || x->count == BATCH)
		pthread_cond_signal(&x->cv_work);
	pthread_mutex_unlock(&x->mu);
	return 0;
}

int tm_ipfix_flush(struct tm_ipfix *x)
{
	uint64_t my, bad;
	int rc;

	pthread_mutex_lock(&x->mu);
	my = ++x->flush_req;
	pthread_cond_signal(&x->cv_work);
	while (x->flush_done < my)
		pthread_cond_wait(&x->cv_flushed, &x->mu);
	bad = x->st.lost + x->st.dropped;
	rc = bad != x->unclean ? -1 : 0;
	x->unclean = bad;
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void tm_ipfix_get_stats(struct tm_ipfix *x, struct tm_ipfix_stats *st)
{
	pthread_mutex_lock(&x->mu);
	*st = x->st;
	pthread_mutex_unlock(&x->mu);
}

/* ---- opening and closing ------------------------------------------------- */

static void free_fixbuf(struct tm_ipfix *x)
{
	if (x->fbuf)
		fBufFree(x->fbuf);	/* the session and exporter too */
	else {
		if (x->session)
			fbSessionFree(x->session);
		if (x->exporter)
			fbExporterClose(x->exporter);
	}
	if (x->model)
		fbInfoModelFree(x->model);
	x->fbuf = NULL;
	x->session = NULL;
	x->exporter = NULL;
	x->model = NULL;
}

static int setup_fixbuf(struct tm_ipfix *x, char *err, size_t errlen)
{
	fbTemplate_t *it;
	GError *e = NULL;

	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, tm_elements);
	x->session = fbSessionAlloc(x->model);
	fbSessionSetDomain(x->session, x->conf.domain);
	it = fbTemplateAlloc(x->model);
	if (!fbTemplateAppendSpecArray(it, spec, UINT32_MAX, &e)) {
		fbTemplateFreeUnused(it);
		goto bad;
	}
	if (!fbSessionAddTemplate(x->session, TRUE, TID_INTERNAL, it, &e))
		goto bad;
	x->exporter = fbExporterAllocBuffer(x->msgbuf, (uint16_t)x->mtu);
	x->fbuf = fBufAllocForExport(x->session, x->exporter);
	fBufSetAutomaticMode(x->fbuf, FALSE);
	if (!fBufSetInternalTemplate(x->fbuf, TID_INTERNAL, &e))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "IPFIX templates: %s", e ? e->message :
	    "failed");
	g_clear_error(&e);
	return -1;
}

static int resolve(struct tm_ipfix *x, char *err, size_t errlen)
{
	char host[256], port[8];
	struct addrinfo hints, *ai = NULL;
	int r;

	if (tm_ipfix_parse_collector(x->conf.collector, host, sizeof(host),
	    port, sizeof(port), err, errlen))
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = x->conf.tcp ? SOCK_STREAM : SOCK_DGRAM;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0 || !ai) {
		snprintf(err, errlen, "%s: %s", x->conf.collector,
		    r ? gai_strerror(r) : "no address");
		return -1;
	}
	memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
	x->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (!x->conf.tcp) {
		x->fd = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&x->addr,
		    x->addrlen) != 0) {
			snprintf(err, errlen, "%s: %s", x->conf.collector,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct tm_ipfix *tm_ipfix_open(const struct tm_ipfix_conf *c, char *err,
    size_t errlen)
{
	struct tm_ipfix *x;
	pthread_condattr_t ca;

	if (!c->collector || !*c->collector) {
		snprintf(err, errlen, "IPFIX: no collector");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	x->fd = -1;
	x->conf = *c;
	x->conf.collector = strdup(c->collector);
	if (x->conf.template_refresh_ns <= 0)
		x->conf.template_refresh_ns = TM_IPFIX_DEFAULT_REFRESH;
	x->cap = c->queue ? c->queue : TM_IPFIX_DEFAULT_QUEUE;
	x->mtu = c->tcp ? MTU_TCP : MTU_UDP;
	x->q = calloc(x->cap, sizeof(*x->q));
	x->msgbuf = malloc(65536);
	if (!x->conf.collector || !x->q || !x->msgbuf) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	snprintf(x->name, sizeof(x->name), "IPFIX collector %s (%s)",
	    c->collector, c->tcp ? "tcp" : "udp");
	x->last_templates = INT64_MIN / 2;
	if (resolve(x, err, errlen) || setup_fixbuf(x, err, errlen))
		goto bad;
	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cv_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&x->cv_room, NULL);
	pthread_cond_init(&x->cv_flushed, NULL);
	if (pthread_create(&x->thr, NULL, run, x) != 0) {
		snprintf(err, errlen, "IPFIX: cannot start a thread");
		pthread_mutex_destroy(&x->mu);
		pthread_cond_destroy(&x->cv_work);
		pthread_cond_destroy(&x->cv_room);
		pthread_cond_destroy(&x->cv_flushed);
		goto bad;
	}
	x->started = 1;
	return x;
bad:
	free_fixbuf(x);
	close_fd(x);
	free(x->conf.collector);
	free(x->q);
	free(x->msgbuf);
	free(x);
	return NULL;
}

void tm_ipfix_close(struct tm_ipfix *x)
{
	if (!x)
		return;
	if (x->started) {
		tm_ipfix_flush(x);
		pthread_mutex_lock(&x->mu);
		x->stop = 1;
		pthread_cond_broadcast(&x->cv_work);
		pthread_cond_broadcast(&x->cv_room);
		pthread_mutex_unlock(&x->mu);
		pthread_join(x->thr, NULL);
		pthread_mutex_destroy(&x->mu);
		pthread_cond_destroy(&x->cv_work);
		pthread_cond_destroy(&x->cv_room);
		pthread_cond_destroy(&x->cv_flushed);
	}
	free_fixbuf(x);
	close_fd(x);
	free(x->conf.collector);
	free(x->q);
	free(x->msgbuf);
	free(x);
}
