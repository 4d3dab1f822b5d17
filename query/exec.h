/*
 * Running a query over a store (`tm query`): the published segments are
 * listed, pruned by their time range, planned over their sidecars
 * (plan.h), read in file order with large reads, and merged by
 * timestamp into one classic pcap stream (nanosecond magic). Equal
 * timestamps keep the order of the segments (oldest first, then class
 * name, then sequence number) and, within a segment, file order.
 */
#ifndef TM_QEXEC_H
#define TM_QEXEC_H

#include <stdint.h>
#include <stdio.h>

#include "expr.h"
#include "live.h"
#include "registry.h"

struct tm_query_opts {
	const char *root;		/* STORE */
	const struct tm_expr *e;	/* compiled with TM_EXPR_ALLOW_TIME */
	FILE *pcap;			/* matching packets; NULL: none */
	FILE *explain;			/* the plan, per segment; NULL: none */
	/* the dissectors, loaded when a packet must be decoded (NULL
	 * return: cannot decode, an error) */
	const struct tm_registry *(*registry)(void *arg);
	void *registry_arg;
	/* a running capture's open segments (NULL: the published ones
	 * only): published segments from live->cls[].first_open on are
	 * left out, live->segs are read instead */
	const struct tm_live *live;
};

struct tm_query_stats {
	uint64_t segments;		/* published segments listed */
	uint64_t pruned_time;		/* outside the time range */
	uint64_t pruned_index;		/* no connection can match */
	uint64_t skipped;		/* vanished or damaged */
	uint64_t searched;		/* segments whose packets were read */
	uint64_t conns;			/* connections of the planned segments */
	uint64_t candidates;		/* ... that may match (index) */
	uint64_t conns_all;		/* ... every packet of which matches */
	uint64_t conns_checked;		/* ... checked packet by packet */
	uint64_t packets_read;		/* records read */
	uint64_t packets_decoded;	/* ... decoded to decide */
	uint64_t packets;		/* matching packets */
	uint64_t bytes;			/* ... their wire lengths */
	uint64_t captured;		/* ... their captured lengths */
	uint64_t file_bytes;		/* bytes read from segments */
	uint64_t index_bytes;		/* bytes of sidecars loaded */
	uint64_t live_segments;		/* open segments of a capture */
	uint64_t live_packets;		/* matching packets they gave */
	double plan_ms, total_ms;
};

/* Runs the query. 0, or -1 with a message in err (I/O, memory, link
 * types that one pcap cannot hold). */
int tm_query_run(const struct tm_query_opts *o, struct tm_query_stats *st,
    char *err, size_t errlen);

#endif
