/*
 * The write path of a store: what `tm capture` (and later the service)
 * calls for every packet the tracker decided to keep.
 *
 * The reading thread appends each stored packet to its class's memory
 * ring: the pcap record (header and frame, cut to the class's snap
 * length) in a data ring, one 32-bit word (segment-local connection id
 * and direction) in a metadata ring, plus, once per connection and
 * segment, a descriptor (key, flags, context) and, when nDPI names it,
 * the application. The reading thread decides segment boundaries (size,
 * age, link type), so the writer thread needs no lookup per packet: it
 * hands whole stretches of the data ring to write(2), feeds the sidecar
 * builder, rotates, publishes and deletes by budget.
 *
 * Reading thread: no system call and no allocation per packet; when a
 * ring is full it waits (TM_RING_WAIT) or drops and counts (TM_RING_DROP).
 */
#ifndef TM_CAPTURE_H
#define TM_CAPTURE_H

#include <stdint.h>
#include <stdio.h>

#include "classes.h"
#include "live.h"
#include "registry.h"
#include "ring.h"
#include "store.h"
#include "tracker.h"

struct tm_capture;
struct tm_ipfix;

struct tm_capture_opts {
	const char *root;		/* STORE */
	const struct tm_classes *classes;
	struct tm_store_opts store;
	unsigned ring_flags;		/* TM_RING_WAIT (files) or _DROP */
	const struct tm_registry *reg;	/* decoding, for repairs */
	unsigned ctx_mask;
	int progress;			/* repairs: progress on a terminal */
	FILE *log;			/* recovery messages (stderr) */
	struct tm_ipfix *ipfix;		/* flow records exported there too
					 * (the writer queues them); NULL:
					 * none. Outlives the capture. */
	uint16_t cid_seed;		/* Community ID seed: the writer
					 * computes the IDs a tracker with
					 * defer_cid leaves pending */
};

struct tm_capture_class_stats {
	const char *name;
	uint64_t packets, bytes;	/* records appended (bytes: pcap
					 * record bytes) */
	uint64_t dropped, dropped_bytes;	/* TM_RING_DROP */
	uint64_t segments;		/* published by this run */
	uint64_t pcap_bytes, idx_bytes;	/* ... their sizes */
	uint64_t deleted, deleted_bytes;	/* removed by the budgets */
	uint64_t ring_bytes;
	uint64_t waits;			/* the reader waited for room */
};

struct tm_capture_stats {
	uint64_t packets, bytes;
	uint64_t dropped;
	uint64_t segments, pcap_bytes, idx_bytes;
	uint64_t deleted, deleted_bytes;
	uint64_t flows, flow_bytes, flow_files, flows_deleted;
	uint64_t flows_dropped;		/* the flow ring was full (drop mode) */
	uint64_t waits;
	struct tm_recover_stats recovery;
	uint64_t store_bytes;		/* published, all classes, at the end */
	uint64_t store_segments;
	uint64_t writer_cpu_ns;		/* the writer thread's CPU time (after
					 * tm_capture_finish; else 0) */
};

/* Opens (creates) the store, recovers it, and starts the writer thread.
 * NULL with a message in err. */
struct tm_capture *tm_capture_open(const struct tm_capture_opts *o,
    char *err, size_t errlen);

/* Connects the tracker whose decisions and flow records come in (its
 * connection table sizes a side table). 0, or -1 (memory). */
int tm_capture_bind(struct tm_capture *cap, struct tm_tracker *trk);

/* One packet the tracker decided on (d->stored 0: nothing to do). frame:
 * the packet's data, caplen bytes of it captured, len on the wire.
 * 0, or -1 when the writer has failed (see tm_capture_finish). A record
 * holds caplen <= len (a smaller len is raised to caplen), len > 0 and a
 * time from 1970 to 2106: a frame with len 0 or another time is not
 * stored (the caller counts those before the tracker sees them). */
int tm_capture_packet(struct tm_capture *cap, int64_t ts_ns,
    const uint8_t *frame, uint32_t caplen, uint32_t len, uint16_t linktype,
    const struct tm_decision *d);

/* A flow record (the tracker's tm_flow_fn). */
void tm_capture_flow(const struct tm_flow_rec *f, void *cap);

/* The tracker's app_fn: nDPI named the application of a connection that
 * is still in the table; the open segment holding its packets learns it
 * now. */
void tm_capture_app(const struct tm_conn *c, void *cap);

/* The tracker's ref_fn: where connection c's packets went (its segment
 * and its id there), for its flow record to find again; 0: none. */
uint64_t tm_capture_ref(const struct tm_conn *c, void *cap);

/* Periodically (packet time now_ns): closes segments older than the
 * segment age even if their class is idle, and makes everything
 * appended so far visible to the writer. */
void tm_capture_tick(struct tm_capture *cap, int64_t now_ns);

/* Reading thread, often (with every tick, and whenever a live input is
 * idle): answers other threads' requests (tm_capture_snapshot). One
 * atomic load when there is none. */
void tm_capture_poll(struct tm_capture *cap);

/* An eventfd the reading thread polls while its input is idle: a
 * snapshot request writes to it (-1: none, the default). */
void tm_capture_set_wake(struct tm_capture *cap, int fd);

/* Any other thread (a query): what the capture holds beyond the
 * published segments (live.h). Asks the reading thread to publish what
 * it appended (waiting at most wait_ms for it to answer: a reading
 * thread that does not poll only delays the newest packets), then the
 * writer to write what it has, and to describe its open segments. The
 * reading thread never waits for this. 0, or -1 with a message (the
 * writer stopped or failed; out of memory). */
int tm_capture_snapshot(struct tm_capture *cap, struct tm_live *out,
    unsigned wait_ms, char *err, size_t errlen);

/* Reading thread: ends every open segment now (they are published once
 * the writer reaches them: tm_capture_snapshot waits for that). The
 * number ended. */
unsigned tm_capture_flush(struct tm_capture *cap);

/* Has the writer failed? */
int tm_capture_failed(const struct tm_capture *cap);

/* Ends the input: closes every open segment, waits until everything is
 * written, synced and published. 0, or -1 with the writer's error in err
 * (what was published stays readable). */
int tm_capture_finish(struct tm_capture *cap, char *err, size_t errlen);

void tm_capture_get_stats(const struct tm_capture *cap,
    struct tm_capture_stats *st);
size_t tm_capture_n_classes(const struct tm_capture *cap);
void tm_capture_class_stats(const struct tm_capture *cap, size_t i,
    struct tm_capture_class_stats *st);

void tm_capture_free(struct tm_capture *cap);

#endif
