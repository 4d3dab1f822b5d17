/*
 * The service behind the control socket (docs/control-protocol.md): what
 * `tm capture` (live, or a file with --serve) and `tm serve` answer.
 *
 * Requests run in the control server's client threads. What only the
 * thread reading packets may touch (the tracker's rules, its counters,
 * closing segments) is handed to it as a call: it runs calls in
 * tm_service_poll, which it calls often (after every batch of packets,
 * and at least every buffer timeout when the input is idle). It never
 * waits for a client; a client waits for it. Queries need no call: they
 * take a snapshot of the capture (storage/live.h) and read the store.
 */
#ifndef TM_SERVICE_H
#define TM_SERVICE_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "cli.h"
#include "config.h"
#include "registry.h"
#include "tracker.h"

/* Kept by the thread that reads packets; read by calls. */
struct tm_svc_counters {
	uint64_t frames, bytes;		/* read (captured bytes) */
	uint64_t wire_bytes;
	uint64_t events[TM_MAX_EVENT_IDS];	/* decode events by id */
};

static inline void tm_svc_count(struct tm_svc_counters *k,
    const struct tm_packet *pkt, uint32_t caplen)
{
	k->frames++;
	k->bytes += caplen;
	k->wire_bytes += pkt->len;
	for (unsigned i = 0; i < pkt->n_events && i < TM_MAX_EVENTS; i++)
		if (pkt->events[i] < TM_MAX_EVENT_IDS)
			k->events[pkt->events[i]]++;
}

struct tm_service_opts {
	const char *store;
	const struct tm_config *cfg;	/* control: the socket */
	const char *conf_file;		/* shown in stats; NULL: built in */
	/* a capture (NULL: tm serve, the store only) */
	struct tm_capture *cap;
	struct tm_tracker *trk;
	const struct tm_registry *reg;	/* the reading thread's (events) */
	struct tm_svc_counters *cnt;
	pcap_t *pcap;			/* live: kernel drops */
	const char *source;		/* the interface or file */
	int wake_fd;			/* eventfd the reading thread polls
					 * (written when a call waits); -1 */
	/* dissectors for queries (loaded when a query needs them) */
	const struct tm_cli_plugins *plug;
	FILE *log;
};

struct tm_service;

/* Starts the control server. NULL with a message in err. */
struct tm_service *tm_service_start(const struct tm_service_opts *o,
    char *err, size_t errlen);

/* Reading thread: runs the calls clients wait for (and answers the
 * capture's snapshot requests). One atomic load when there is none. */
void tm_service_poll(struct tm_service *s);

/* Reading thread: its input ended or it stops; calls from now on fail
 * ("not capturing any more"), queries still work while the store is
 * there. */
void tm_service_close(struct tm_service *s);

/* The Unix socket's path, or NULL. */
const char *tm_service_socket(const struct tm_service *s);

/* Stops the server (waits for its clients) and frees. */
void tm_service_stop(struct tm_service *s);

/* Reading thread: the classes were reloaded (same names, same order). */
void tm_service_classes(struct tm_service *s, const struct tm_classes *cs);

#endif
