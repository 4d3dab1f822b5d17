/*
 * The service's counters as `tm stats` shows them (docs/control-protocol.md
 * lists every key): taken on the reading thread (a capture) or from the
 * store's sidecars (tm serve), formatted as JSON or text on the client's.
 */
#ifndef TM_SVC_STATS_H
#define TM_SVC_STATS_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "rules.h"
#include "service.h"

struct tm_svc_class {
	char name[80];
	struct tm_capture_class_stats s;
	uint64_t cutoff;		/* TM_CUTOFF_NONE: none */
	uint32_t snaplen;
	/* published segments (tm serve: all of the store's) */
	uint64_t segs, seg_bytes, seg_packets;
	int64_t min_ts, max_ts;
};

struct tm_svc_rule {
	uint32_t id;
	uint64_t cutoff;
	int64_t until;
	char text[512];
};

struct tm_svc_stats {
	uint64_t frames, bytes, wire_bytes;
	struct tm_tracker_stats trk;
	struct tm_conn_stats conns;
	uint32_t conns_max;
	size_t conn_memory;
	struct tm_capture_stats cap;
	struct tm_svc_class *cls;
	size_t ncls;
	int have_pcap;
	uint64_t ps_recv, ps_drop, ps_ifdrop;
	struct tm_svc_rule rules[TM_MAX_RULES];
	unsigned nrules;
	uint64_t events[TM_MAX_EVENT_IDS];
	int64_t clock;			/* latest packet time */
};

struct tm_svc_info {
	const char *store, *source, *conf_file;
	int64_t uptime_ns;
	const struct tm_registry *reg;	/* event names */
	int capturing;
};

/* Reading thread: a capture's counters. */
void tm_svc_stats_take(struct tm_svc_stats *st, struct tm_capture *cap,
    struct tm_tracker *trk, const struct tm_svc_counters *cnt, pcap_t *p,
    const struct tm_classes *cs);
/* A store's published segments (tm serve). 0, or -1. */
int tm_svc_stats_store(struct tm_svc_stats *st, const char *store);
/* JSON (json != 0) or {"text":"..."}: a malloc'ed string, or NULL. */
char *tm_svc_stats_format(const struct tm_svc_stats *st,
    const struct tm_svc_info *info, int json);
void tm_svc_stats_free(struct tm_svc_stats *st);

#endif
