/*
 * The per-packet pipeline after decoding: connection table, class choice,
 * nDPI on the first payload packets, and the cutoff decision. `tm flows`
 * drives it over a file; the storage and the capture service use the same
 * decision for every packet they keep.
 */
#ifndef TM_TRACKER_H
#define TM_TRACKER_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

#include "classes.h"
#include "community_id.h"
#include "conn.h"
#include "rules.h"

struct tm_ndpi;
struct tm_tracker;

struct tm_tracker_opts {
	struct tm_conn_opts conn;
	unsigned ctx_mask;		/* TM_CTX_* */
	const struct tm_classes *classes;
	struct tm_ndpi *ndpi;		/* NULL: no application detection */
	unsigned ndpi_max_packets;	/* payload packets per connection */
	int keep_control;		/* control packets pass the cutoff */
	uint16_t cid_seed;		/* Community ID seed */
	int64_t sweep_ns;		/* how often idle connections are
					 * looked for (packet time); 0: 1 s */
	/* called when nDPI names the application of a connection that is
	 * still in the table (the storage writes it into the segment that
	 * holds the connection's packets); NULL: nobody */
	void (*app_fn)(const struct tm_conn *c, void *arg);
	/* called when a connection ends while nDPI still works on it (its
	 * flow record waits, and its table entry may be reused meanwhile):
	 * what the storage needs to find the connection's segment again,
	 * handed back as the record's store_ref; NULL: nobody */
	uint64_t (*ref_fn)(const struct tm_conn *c, void *arg);
	void *app_arg;			/* of app_fn and ref_fn */
	/* records carry TM_CID_PENDING where their Community ID goes, and
	 * cid_pending set, when they have one: the SHA-1 is left to whoever
	 * writes them (the storage's writer thread: tm_flow_cid_input) */
	int defer_cid;
};

/* A finished connection, as a flow record shows it. Valid during the
 * callback only. */
struct tm_flow_rec {
	const struct tm_conn *c;	/* the connection, or a copy of it */
	uint32_t index;			/* its index in the table's pool */
	struct tm_ctx_view ctx;		/* VLANs and tunnels of its first packet */
	struct tm_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	int has_ports;
	const char *class_name;
	const char *prov_class;		/* class before the nDPI verdict, or NULL */
	const char *app;		/* nDPI's name, or NULL */
	enum tm_end_reason why;
	char community_id[TM_COMMUNITY_ID_SIZE];	/* "" when none */
	int cid_pending;		/* community_id is TM_CID_PENDING
					 * (opts.defer_cid) */
	char uid[24];
	uint64_t store_ref;		/* ref_fn's answer if the record waited
					 * for nDPI, else 0 */
};

/* What a deferred Community ID holds until it is computed: "1:" and 28
 * characters that base64 never writes, as long as the real one. */
#define TM_CID_PENDING	"1:****************************"

/* The packet whose Community ID is the record's: its originator's tuple,
 * from f->c and f's endpoints. Sets only what tm_community_id reads
 * (l3, flags, proto, src, dst, ports, ICMP type and code). */
void tm_flow_cid_input(const struct tm_flow_rec *f, struct tm_packet *p);

typedef void (*tm_flow_fn)(const struct tm_flow_rec *f, void *arg);

/* What to do with one packet. */
struct tm_decision {
	struct tm_conn *conn;	/* valid until the next call */
	int stored;		/* keep the packet */
	int from_resp;		/* sent by the responder */
	uint16_t cls;		/* the connection's class now */
	uint32_t snaplen;	/* bytes to keep of it; 0: all */
	uint64_t total;		/* the connection's bytes, this one included */
};

struct tm_tracker_stats {
	uint64_t packets, bytes;
	uint64_t stored_pkts, stored_bytes;
	uint64_t ndpi_flows;		/* connections given to nDPI */
	uint64_t ndpi_packets;		/* packets given to nDPI */
	uint64_t ndpi_detected;		/* ... that it named */
	uint64_t ndpi_undetected;	/* gave up without a name */
	uint64_t ndpi_pool_full;	/* not classified: no free state */
	uint64_t ndpi_reclaimed;	/* given up early to free a state */
	uint64_t ndpi_busy_peak;
	uint64_t pending;		/* connections whose class waited */
	uint64_t reclassified;		/* ... and changed on the verdict */
	uint64_t port_reuse;		/* a new opening on a closed key */
};

/* NULL with a message in err. */
struct tm_tracker *tm_tracker_new(const struct tm_tracker_opts *o,
    tm_flow_fn fn, void *arg, char *err, size_t errlen);
void tm_tracker_free(struct tm_tracker *t);

/* One decoded packet, seen at ts_ns (packet time); frame: its number in
 * the input, from 1. */
void tm_tracker_packet(struct tm_tracker *t, const struct tm_packet *pkt,
    int64_t ts_ns, uint64_t frame, struct tm_decision *d);

/* A live input is idle: time (now, ns, the packets' clock) goes on, so
 * idle connections end and cutoff rules expire without packets. */
void tm_tracker_tick(struct tm_tracker *t, int64_t now);

/* The input ended: every connection is written, reason eof. */
void tm_tracker_finish(struct tm_tracker *t);

/* Waits until nDPI has answered every packet submitted so far and hands
 * on what follows from the answers (verdicts, the flow records that
 * waited for them). The storage calls it before it closes a segment, so
 * that what a segment's sidecar says of applications depends on its
 * packets alone, not on how far the nDPI threads had got. */
void tm_tracker_ndpi_sync(struct tm_tracker *t);

/* Dynamic cutoffs (rules.h): the tracker's rule set, changed by the
 * thread that feeds it packets only. */
struct tm_rules *tm_tracker_rules(struct tm_tracker *t);
/* The latest packet time seen (INT64_MIN: none yet). */
int64_t tm_tracker_clock(const struct tm_tracker *t);

/* Classes reloaded: same names in the same order (the caller checks).
 * New connections are classified by cs; live ones keep their class and
 * take its cutoff (and the rules') from their next packet. cs must
 * outlive the tracker or the next call. */
void tm_tracker_set_classes(struct tm_tracker *t, const struct tm_classes *cs);

const struct tm_tracker_stats *tm_tracker_stats(const struct tm_tracker *t);
struct tm_conntab *tm_tracker_conns(struct tm_tracker *t);

/* nDPI's name of a connection's verdict, or NULL. */
const char *tm_tracker_app(const struct tm_tracker *t,
    const struct tm_conn *c, char *buf, size_t len);

/* A deterministic Zeek-like uid: "C" + 17 base62 characters of a hash of
 * the key, the first packet's time and frame. out holds >= 19 bytes. */
void tm_flow_uid(const struct tm_conn *c, char *out, size_t len);

#endif
