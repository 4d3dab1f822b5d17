/*
 * Snapshots of a running capture for queries (live.h, capture.h): the
 * requesting side. The reading thread answers in tm_capture_poll (it
 * publishes what it appended); the writer answers in tm_writer_snapshot
 * (writer.c). Requests come one at a time; neither the reading thread
 * nor the writer ever waits for a requester.
 */
#define _GNU_SOURCE
#include "capture_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void tm_live_free(struct tm_live *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nsegs; i++)
		tm_sbuf_free(&l->segs[i].idx);
	free(l->segs);
	free(l->cls);
	memset(l, 0, sizeof(*l));
}

void tm_capture_poll(struct tm_capture *cap)
{
	uint64_t req = atomic_load_explicit(&cap->pub_req,
	    memory_order_acquire);

	if (req == cap->pub_seen)
		return;
	tm_capture_publish_all(cap);
	cap->pub_seen = req;
	pthread_mutex_lock(&cap->pub_mu);
	atomic_store_explicit(&cap->pub_ack, req, memory_order_release);
	pthread_cond_broadcast(&cap->pub_cv);
	pthread_mutex_unlock(&cap->pub_mu);
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void tm_capture_set_wake(struct tm_capture *cap, int fd)
{
	cap->wake_fd = fd;
}

/* Asks the reading thread to publish; waits at most wait_ms. */
static void ask_publish(struct tm_capture *cap, unsigned wait_ms)
{
	struct timespec dl;
	uint64_t req, one = 1;

	deadline_in(&dl, wait_ms);
	pthread_mutex_lock(&cap->pub_mu);
	req = atomic_fetch_add(&cap->pub_req, 1) + 1;
	if (cap->wake_fd >= 0) {
		/* a full counter means it is awake already */
		ssize_t k = write(cap->wake_fd, &one, sizeof(one));

		(void)k;
	}
	while (atomic_load(&cap->pub_ack) < req)
		if (pthread_cond_timedwait(&cap->pub_cv, &cap->pub_mu,
		    &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&cap->pub_mu);
}

int tm_capture_snapshot(struct tm_capture *cap, struct tm_live *out,
    unsigned wait_ms, char *err, size_t errlen)
{
	uint64_t req;
	int rc;

	memset(out, 0, sizeof(*out));
	out->cls = calloc(cap->ncls ? cap->ncls : 1, sizeof(*out->cls));
	out->segs = calloc(cap->ncls ? cap->ncls : 1, sizeof(*out->segs));
	if (!out->cls || !out->segs) {
		tm_live_free(out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&cap->snap_one);
	ask_publish(cap, wait_ms);
	pthread_mutex_lock(&cap->snap_mu);
	if (cap->writer_gone) {
		rc = -1;
	} else {
		cap->snap_out = out;
		cap->snap_rc = 0;
		req = atomic_fetch_add(&cap->snap_req, 1) + 1;
		tm_evc_notify(&cap->data_evc);
		while (cap->snap_done < req && !cap->writer_gone)
			pthread_cond_wait(&cap->snap_cv, &cap->snap_mu);
		rc = cap->snap_done >= req ? cap->snap_rc : -1;
		cap->snap_out = NULL;
	}
	pthread_mutex_unlock(&cap->snap_mu);
	pthread_mutex_unlock(&cap->snap_one);
	if (rc) {
		tm_live_free(out);
		snprintf(err, errlen, "%s", atomic_load(&cap->failed) ?
		    "the capture's writer failed" : cap->writer_gone ?
		    "the capture has stopped writing" : "out of memory");
	}
	return rc;
}
