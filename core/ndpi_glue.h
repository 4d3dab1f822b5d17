/*
 * nDPI (Debian's 4.2) behind a small interface, so nothing else includes
 * its headers.
 *
 * Per-flow states live in a pool allocated once, and only while a
 * connection is being classified. Work is submitted as jobs (feed a
 * packet, give up, free the state) whose results come back in submission
 * order through a sink callback. Inline, a job runs at once in the
 * caller's thread; with a worker thread, every nDPI call runs there and
 * the caller goes on with the next packet. Both give the same results:
 * nDPI sees the same calls in the same order.
 *
 * Slot bookkeeping (begin, release, oldest) belongs to the caller's
 * thread; the worker only runs the jobs.
 */
#ifndef TM_NDPI_GLUE_H
#define TM_NDPI_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct tm_ndpi;

struct tm_ndpi_verdict {
	uint16_t master;	/* e.g. TLS; 0: unknown */
	uint16_t app;		/* e.g. YouTube; 0: unknown */
};

enum tm_ndpi_job {
	TM_NDPI_FEED = 0,	/* one packet: ip, len, time */
	TM_NDPI_GIVEUP,		/* no more packets: nDPI's best answer */
	TM_NDPI_END		/* free the state (then tm_ndpi_release) */
};

struct tm_ndpi_result {
	uint8_t job;		/* enum tm_ndpi_job */
	uint8_t verdict;	/* 1: nDPI has decided (FEED) or given up
				 * (GIVEUP): v is final for the flow */
	uint8_t skipped;	/* the flow was already decided: nothing ran */
	int slot;
	uint32_t tag;		/* the caller's, from submit */
	struct tm_ndpi_verdict v;
};

typedef void (*tm_ndpi_sink_fn)(const struct tm_ndpi_result *r, void *arg);

/* The detection module with every protocol enabled, a pool of max_flows
 * per-flow states, and with thread != 0 a worker thread. NULL with a
 * message in err. */
/* threads: worker threads (each with its own detection module); 0: every
 * job runs inline in the caller's thread. */
struct tm_ndpi *tm_ndpi_new(unsigned max_flows, unsigned threads, char *err,
    size_t errlen);
/* Stops the worker (pending jobs are dropped) and frees everything. */
void tm_ndpi_free(struct tm_ndpi *n);

/* Where results go. The sink runs in the caller's thread, from
 * tm_ndpi_submit() or tm_ndpi_collect(); it must not submit. */
void tm_ndpi_set_sink(struct tm_ndpi *n, tm_ndpi_sink_fn fn, void *arg);

/* A fresh state for the caller's flow `owner`: slot >= 0, or -1 when
 * every slot is taken (attached to a flow, or ending). */
/* A state for owner's flow; its jobs go to worker shard % threads
 * (flows with the same shard share a module, and so nDPI's caches of
 * what one flow tells about another). -1: none free. */
int tm_ndpi_begin(struct tm_ndpi *n, uint32_t owner, uint32_t shard);
/* The flow of slot has its verdict: the slot leaves the "oldest" order
 * (an END job follows). */
void tm_ndpi_detach(struct tm_ndpi *n, int slot);
/* After the END result: the slot is free again. */
void tm_ndpi_release(struct tm_ndpi *n, int slot);
/* The attached slot fed least recently (-1 if none), and its owner: the
 * one to give up on when a new flow needs a state and none is free. */
int tm_ndpi_oldest(const struct tm_ndpi *n, uint32_t *owner);

/* Submits a job for slot (FEED: ip points at the innermost network header,
 * len bytes captured, copied). The slot becomes the most recently fed.
 * Inline, the result reaches the sink before this returns; with a worker,
 * this may apply earlier results while it waits for room. */
void tm_ndpi_submit(struct tm_ndpi *n, enum tm_ndpi_job job, int slot,
    uint32_t tag, const uint8_t *ip, uint32_t len, uint64_t time_ms);

/* Hands finished results to the sink; wait != 0: blocks until at least
 * one job has finished (returns at once if none is outstanding). Returns
 * the number of results handed. */
size_t tm_ndpi_collect(struct tm_ndpi *n, int wait);
/* Jobs submitted whose results the sink has not had yet. */
size_t tm_ndpi_outstanding(const struct tm_ndpi *n);

/* "TLS.Google", "DNS", "HTTP"...; NULL for an all-unknown verdict.
 * Safe while the worker runs (nDPI's protocol table is read-only). */
const char *tm_ndpi_name(const struct tm_ndpi *n, struct tm_ndpi_verdict v,
    char *buf, size_t len);

/* 0 if name names an nDPI protocol ("TLS", "Google", or "TLS.Google"),
 * -1 otherwise (case-insensitive). */
int tm_ndpi_known(const struct tm_ndpi *n, const char *name);

unsigned tm_ndpi_busy(const struct tm_ndpi *n);
unsigned tm_ndpi_capacity(const struct tm_ndpi *n);
int tm_ndpi_threaded(const struct tm_ndpi *n);
/* Worker threads, and the CPU time they have used so far (ns). */
unsigned tm_ndpi_threads(const struct tm_ndpi *n);
uint64_t tm_ndpi_cpu_ns(const struct tm_ndpi *n);
size_t tm_ndpi_flow_size(void);

#endif
