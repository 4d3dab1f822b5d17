/*
 * What a running capture holds that no published segment does yet: the
 * open segment of each class, as the writer has it at one instant (its
 * pcap's bytes written so far, and its sidecar built from the writer's
 * in-memory index), so that a query sees the newest packets without
 * waiting for a segment to be closed, synced and published.
 *
 * A snapshot is consistent with the store's listing: for each class,
 * every segment with a sequence number below `first_open` was published
 * before the snapshot was taken; the packets of the segments from
 * `first_open` on are exactly those of `segs` (up to their pcap_size),
 * even if such a segment is published while the query runs.
 */
#ifndef TM_LIVE_H
#define TM_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

struct tm_live_seg {
	char cls[80];
	char path[4200];	/* STORE/segments/<class>/<start>-<seq>.pcap */
	uint64_t seq;
	uint64_t pcap_size;	/* whole records written when taken */
	struct tm_sbuf idx;	/* its sidecar as it stood then */
};

struct tm_live_class {
	char name[80];
	uint64_t first_open;	/* published segments: seq < first_open */
};

struct tm_live {
	struct tm_live_class *cls;
	size_t ncls;
	struct tm_live_seg *segs;
	size_t nsegs;
	uint64_t packets;	/* packets in segs */
};

void tm_live_free(struct tm_live *l);

#endif
