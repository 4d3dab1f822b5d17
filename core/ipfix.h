/*
 * IPFIX export (RFC 7011) of flow records, encoded with libfixbuf, to one
 * collector over UDP or TCP. docs/ipfix.md lists every element sent.
 *
 * A connection becomes two uniflow records, one per direction that sent
 * packets (the initiator's with biflowDirection 1, the responder's with 2),
 * addresses and ports as the flow record shows them (the innermost
 * conversation); tunnel, class, application, uid and Community ID go along
 * in standard elements where IANA has one and in enterprise-specific ones
 * (enterprise number 32473, RFC 5612's documentation number) otherwise.
 * Non-IP records (ARP, other ethertypes) are not exported.
 *
 * Threads: tm_ipfix_add() only copies the record into a bounded queue; the
 * exporter's own thread encodes, builds messages and does all network I/O
 * (sends time out; a TCP collector that goes away is reconnected with a
 * growing pause, what is built meanwhile is counted as lost). A message
 * that has waited a second is sent even if it is not full.
 */
#ifndef TM_IPFIX_H
#define TM_IPFIX_H

#include <stddef.h>
#include <stdint.h>

struct tm_flow_rec;
struct tm_ipfix;

#define TM_IPFIX_PEN			32473u	/* RFC 5612: documentation */
#define TM_IPFIX_DEFAULT_REFRESH	(600 * 1000000000LL)	/* 10 min */
#define TM_IPFIX_DEFAULT_QUEUE		4096u

struct tm_ipfix_conf {
	char *collector;		/* "HOST:PORT" or "[V6ADDR]:PORT";
					 * NULL: no export */
	int tcp;			/* 0: UDP */
	uint32_t domain;		/* observation domain id */
	int64_t template_refresh_ns;	/* UDP: templates again this often;
					 * 0: TM_IPFIX_DEFAULT_REFRESH */
	int drop_when_full;		/* queue full: drop and count (a live
					 * capture) instead of waiting */
	unsigned queue;			/* records queued; 0: default */
};

struct tm_ipfix_stats {
	uint64_t flows;		/* records given to tm_ipfix_add */
	uint64_t skipped;	/* ... not IP: nothing to export */
	uint64_t dropped;	/* ... not queued: the queue was full */
	uint64_t records;	/* IPFIX data records sent (1 or 2 a flow) */
	uint64_t lost;		/* ... built, not sent (send failed, no
				 * connection) */
	uint64_t messages;	/* IPFIX messages sent */
	uint64_t bytes;		/* ... their bytes */
	uint64_t errors;	/* failed connects, sends and encodings */
	uint64_t connects;	/* TCP connections made */
	uint64_t templates;	/* templates defined */
	char last_error[256];	/* "" when none */
};

/* Splits "HOST:PORT" / "[V6]:PORT" (port 1-65535). 0, or -1 with a
 * message. */
int tm_ipfix_parse_collector(const char *s, char *host, size_t hostlen,
    char *port, size_t portlen, char *err, size_t errlen);

/* Resolves the collector, builds the templates and starts the exporter's
 * thread. Nothing is sent yet (a TCP connection is made for the first
 * message). NULL with a message in err. */
struct tm_ipfix *tm_ipfix_open(const struct tm_ipfix_conf *c, char *err,
    size_t errlen);

/* Queues a flow record (copied: f may go away on return). 0; 1 when it is
 * not exported (not IP); -1 when it was dropped (queue full in drop mode,
 * or the exporter is closing). Any thread, one at a time or several. */
int tm_ipfix_add(struct tm_ipfix *x, const struct tm_flow_rec *f);

/* Waits until every record queued before the call is sent (or counted as
 * lost). 0, or -1 when records were lost or dropped since the last flush
 * (the stats say why). */
int tm_ipfix_flush(struct tm_ipfix *x);

void tm_ipfix_get_stats(struct tm_ipfix *x, struct tm_ipfix_stats *st);

/* Flushes, stops the thread, frees. NULL is fine. */
void tm_ipfix_close(struct tm_ipfix *x);

#endif
