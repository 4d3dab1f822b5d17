/*
 * The SPSC byte ring (see ring.h): a memfd mapped twice back to back, and
 * futex-based event counts for the rare waits.
 */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- event counts ------------------------------------------------------- */

void tm_evc_init(struct tm_evc *e)
{
	atomic_init(&e->seq, 0);
	atomic_init(&e->waiters, 0);
}

uint32_t tm_evc_prepare(struct tm_evc *e)
{
	atomic_fetch_add(&e->waiters, 1); /* seq_cst: before our re-check */
	return atomic_load(&e->seq);
}

void tm_evc_cancel(struct tm_evc *e)
{
	atomic_fetch_sub(&e->waiters, 1);
}

void tm_evc_wait(struct tm_evc *e, uint32_t key, unsigned timeout_ms)
{
	struct timespec ts, *tp = NULL;

	if (timeout_ms) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tp = &ts;
	}
	if (atomic_load(&e->seq) == key)
		syscall(SYS_futex, &e->seq, FUTEX_WAIT_PRIVATE, key, tp, NULL,
		    0);
	atomic_fetch_sub(&e->waiters, 1);
}

void tm_evc_notify(struct tm_evc *e)
{
	/* pairs with the seq_cst increment in prepare: either the sleeper
	 * sees our change when it re-checks, or we see it waiting */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&e->waiters, memory_order_relaxed) == 0)
		return;
	atomic_fetch_add(&e->seq, 1);
	syscall(SYS_futex, &e->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL,
	    0);
}

/* ---- the ring --------------------------------------------------------- */

int tm_ring_init(struct tm_ring *r, size_t size, unsigned flags,
    struct tm_evc *data_evc, struct tm_evc *space_evc, char *err,
    size_t errlen)
{
	size_t sz = 64 * 1024, page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *a = MAP_FAILED, *m1, *m2;
	int fd;

	memset(r, 0, sizeof(*r));
	while (sz < size || sz < page) {
		if (sz > ((size_t)1 << 40)) {
			snprintf(err, errlen, "ring of %zu bytes: too large",
			    size);
			return -1;
		}
		sz <<= 1;
	}
	fd = memfd_create("tm-ring", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)sz) != 0) {
		snprintf(err, errlen, "ring of %zu bytes: %s", sz,
		    strerror(errno));
		goto fail;
	}
	/* reserve twice the size, then map the file over both halves */
	a = mmap(NULL, 2 * sz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		snprintf(err, errlen, "ring of %zu bytes: %s", sz,
		    strerror(errno));
		goto fail;
	}
	m1 = mmap(a, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	m2 = mmap(a + sz, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
	    fd, 0);
	if (m1 != a || m2 != a + sz) {
		snprintf(err, errlen, "ring of %zu bytes: %s", sz,
		    strerror(errno));
		munmap(a, 2 * sz);
		goto fail;
	}
	close(fd);
	r->base = a;
	r->size = sz;
	r->mask = sz - 1;
	r->batch = sz / 8 < 256 * 1024 ? sz / 8 : 256 * 1024;
	r->flags = flags;
	r->data_evc = data_evc;
	r->space_evc = space_evc;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
fail:
	close(fd);
	return -1;
}

void tm_ring_destroy(struct tm_ring *r)
{
	if (r->base)
		munmap(r->base, 2 * r->size);
	r->base = NULL;
}

void tm_ring_prefault(struct tm_ring *r, uint64_t upto)
{
	if (!r->base || upto <= r->faulted || r->faulted >= r->size)
		return;
	if (upto > r->size)
		upto = r->size;
	/* whole pages: the ring's size is a multiple of the page */
	upto = (upto + 4095) & ~(uint64_t)4095;
	if (upto > r->size)
		upto = r->size;
#ifdef MADV_POPULATE_WRITE
	madvise(r->base + r->faulted, upto - r->faulted, MADV_POPULATE_WRITE);
#endif
	r->faulted = upto;
}

void tm_ring_publish(struct tm_ring *r)
{
	if (r->ph == r->pub)
		return;
	atomic_store_explicit(&r->head, r->ph, memory_order_release);
	r->pub = r->ph;
	if (r->data_evc)
		tm_evc_notify(r->data_evc);
}

static int fits(struct tm_ring *r, size_t len)
{
	r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
	return r->ph + len - r->tail_seen <= r->size;
}

void *tm_ring_reserve_slow(struct tm_ring *r, size_t len)
{
	if (len > r->size)
		return NULL;
	if (fits(r, len))
		return r->base + (r->ph & r->mask);
	if (r->flags & TM_RING_DROP)
		return NULL;
	/* the consumer must see what we have before it can make room */
	if (r->before_wait)
		r->before_wait(r->before_wait_arg);
	else
		tm_ring_publish(r);
	for (;;) {
		uint32_t key;

		if (r->abort && atomic_load(r->abort))
			return NULL;
		key = tm_evc_prepare(r->space_evc);
		if (fits(r, len)) {
			tm_evc_cancel(r->space_evc);
			break;
		}
		r->waits++;
		/* the timeout only guards against a lost consumer */
		tm_evc_wait(r->space_evc, key, 100);
		if (fits(r, len))
			break;
	}
	return r->base + (r->ph & r->mask);
}

void tm_ring_release(struct tm_ring *r, uint64_t pos)
{
	atomic_store_explicit(&r->tail, pos, memory_order_release);
	if (r->space_evc)
		tm_evc_notify(r->space_evc);
}
