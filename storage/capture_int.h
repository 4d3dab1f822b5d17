/*
 * Internals shared by the reading side (capture.c) and the writer thread
 * (writer.c) of a capture.
 *
 * The metadata ring is a stream of 32-bit words. A word other than
 * M_CTRL starts a packet of M_PKT_WORDS words: bits 0-30 the
 * segment-local connection id, bit 31 the direction (1: sent by endpoint
 * b of the key); then the bytes kept (caplen), the wire length and the
 * time (ns, low and high word): the writer indexes packets without
 * touching the data ring, which it only hands to write(2). M_CTRL is followed
 * by a header word (type in bits 0-7, payload words in bits 8-31) and the
 * payload:
 *   M_OPEN   linktype, first packet's time (2 words, ns): a segment starts
 *   M_CLOSE  (none): the segment ends after the packets before it
 *   M_CONN   local id, TM_SC_C_* flags, the key (16 words), the context
 *            (n_vlans | n_tunnels << 8, VLAN ids two per word, the tunnel
 *            entries as struct tm_tunnel, names pointing into the loaded
 *            dissector modules)
 *   M_APP    local id, application name NUL-terminated, padded
 */
#ifndef TM_CAPTURE_INT_H
#define TM_CAPTURE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <xxhash.h>

#include "capture.h"
#include "live.h"
#include "ring.h"
#include "sidecar.h"
#include "store.h"

#define M_CTRL	0xffffffffu
enum { M_OPEN = 1, M_CLOSE, M_CONN, M_APP };

#define M_MAX_LOCAL	0x7ffffff0u
/* What a connection of the open segment costs the writer's index (the
 * sidecar builder: key, context, times, position chunks, array growth),
 * about: a segment ends when its connections would take more than the
 * class's memory budget (a flood of one-packet connections makes 3.5
 * million in a 256 MiB segment, about 900 MB of index otherwise). */
#define M_CONN_BYTES	256u
#define M_MIN_LOCAL	4096u
#define M_PKT_WORDS	5

/* Per connection-table entry: what the reading side last told the writer
 * about that connection. */
struct side {
	uint64_t first_frame;	/* which connection (the entry is reused) */
	uint32_t serial;	/* the segment its descriptor went to */
	uint32_t local;		/* its id in that segment */
	uint32_t app;		/* application last sent (master << 16 | app) */
	uint32_t pad;
};

struct wseg {			/* the writer's open segment */
	int open;
	int fd;
	uint64_t seq;
	int64_t start;
	uint32_t linktype;
	uint64_t off;		/* file offset of the next record */
	uint64_t written;	/* bytes in the file */
	int failed;		/* a write failed */
	XXH64_state_t *sum;	/* of the bytes written */
	char path[4200];
};

struct ccls {
	char name[80];
	struct tm_ring data, meta;
	struct tm_capture *cap;

	/* reading side */
	int open;
	uint32_t serial;
	uint32_t n_local;
	uint32_t max_local;	/* connections per segment (memory) */
	uint16_t linktype;
	uint64_t seg_bytes;
	int64_t seg_first;
	uint64_t packets, bytes;

	/* writer side */
	struct wseg w;
	struct tm_scb *b;
	uint64_t meta_pos, data_pos, pending_from;
	struct tm_seg_class *cat;
	uint64_t segments, pcap_bytes, idx_bytes;
	uint64_t deleted, deleted_bytes;
};

struct fseg {			/* a flow file */
	int64_t start;
	uint64_t seq;
	uint64_t bytes;
};

/* In the flow ring only: the record's Community ID is TM_CID_PENDING and
 * the writer computes it (never in a file: lengths are <= TM_FLOWREC_MAX) */
#define FREC_CID_PENDING	0x80000000u

struct tm_capture {
	char *root;
	int lock_fd;
	uint64_t writer_cpu_ns;	/* the writer's CPU time, when it ended */
	struct tm_store_opts so;
	unsigned ring_flags;
	struct ccls *cls;
	size_t ncls;
	struct tm_evc data_evc, space_evc;
	_Atomic int stop;
	_Atomic int failed;
	char errmsg[1024];
	pthread_t thr;
	int started;
	struct tm_catalog cat;
	struct tm_recover_stats rec;

	/* reading side */
	struct tm_tracker *trk;
	struct tm_conntab *conns;
	struct side *side;
	uint32_t n_side;
	uint32_t serial;
	uint64_t flows, flows_dropped;

	/* flow records: ring and files. In the ring, a record's length
	 * word may carry FREC_CID_PENDING, and its checksum word is left to
	 * the writer, which computes both (complete_flow) before the record
	 * goes anywhere. */
	struct tm_ipfix *ipfix;		/* ... and IPFIX export (or NULL) */
	struct tm_ring fring;
	uint16_t cid_seed;
	int ffd;
	uint64_t fpos, fpending_from;
	uint64_t fsize;		/* bytes in the open flow file */
	uint64_t fwritten;
	uint64_t fnext_seq;
	struct fseg *fsegs;	/* closed files, oldest first */
	size_t nfsegs, fcap, fhead;
	uint64_t fbytes;	/* closed files */
	uint64_t fcur_seq;
	int64_t fcur_start;
	uint64_t flow_bytes, flow_files, flows_deleted;

	/* other threads' requests (queries): the reading thread publishes
	 * what it appended (pub_*), the writer takes a snapshot (snap_*) */
	pthread_mutex_t pub_mu;
	pthread_cond_t pub_cv;
	_Atomic uint64_t pub_req, pub_ack;
	uint64_t pub_seen;		/* reading thread */
	pthread_mutex_t snap_one;	/* one requester at a time */
	pthread_mutex_t snap_mu;	/* guards the fields below */
	pthread_cond_t snap_cv;
	_Atomic uint64_t snap_req;
	uint64_t snap_done;
	uint64_t snap_seen;		/* writer */
	int snap_rc;
	int writer_gone;
	struct tm_live *snap_out;
	int sync_init;
	int wake_fd;			/* eventfd the reading thread polls */
};

/* Reading thread: makes everything appended visible to the writer. */
void tm_capture_publish_all(struct tm_capture *cap);
/* Writer thread: answers a snapshot request, if one is pending. */
void tm_writer_snapshot(struct tm_capture *cap);
/* Writer thread, as it exits: no snapshot can be answered any more. */
void tm_writer_gone(struct tm_capture *cap);

void *tm_writer_main(void *arg);
/* The writer's failure: message, flag, rings stop waiting. */
void tm_writer_fail(struct tm_capture *cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Budgets at start (old segments count) and the flow files found. */
int tm_writer_flows_recover(struct tm_capture *cap, char *err, size_t errlen);

#endif
