/*
 * A single-producer, single-consumer byte ring: the elastic buffer between
 * the thread that reads packets and the thread that writes them.
 *
 * The ring's memory is mapped twice, back to back, so any span of up to
 * `size` bytes starting anywhere in the ring is contiguous: the producer
 * copies a record in one memcpy and the consumer hands a whole stretch to
 * write(2) without caring where the ring wraps.
 *
 * Positions are 64-bit byte counters that only grow. The producer reserves
 * room, writes, commits; committed bytes become visible to the consumer
 * when they are published (every `batch` bytes, or on tm_ring_publish), so
 * the producer touches the shared cache line rarely. Nothing here calls
 * the system or allocates while there is room.
 *
 * When the ring is full the producer either waits for the consumer
 * (TM_RING_WAIT: reading a file, nothing may be lost) or gives up on the
 * record and counts it (TM_RING_DROP: a live interface cannot be paused).
 * Waiting and waking go through event counts (futexes): a side sleeps
 * only after announcing it, and the other side makes a system call only
 * when someone sleeps.
 */
#ifndef TM_RING_H
#define TM_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* An event count: sleepers announce themselves, notifiers wake them. */
struct tm_evc {
	_Atomic uint32_t seq;
	_Atomic uint32_t waiters;
};

void tm_evc_init(struct tm_evc *e);
/* Announces a sleeper and returns the key to wait with. Check the
 * condition again after this, then wait (or cancel). */
uint32_t tm_evc_prepare(struct tm_evc *e);
void tm_evc_cancel(struct tm_evc *e);
/* Sleeps until notified after prepare, or timeout_ms (0: no timeout). */
void tm_evc_wait(struct tm_evc *e, uint32_t key, unsigned timeout_ms);
/* Wakes the sleepers, if any (a fence and a load when there are none). */
void tm_evc_notify(struct tm_evc *e);

/* tm_ring.flags */
#define TM_RING_WAIT	0x0u	/* full: the producer waits */
#define TM_RING_DROP	0x1u	/* full: the record is dropped and counted */

struct tm_ring {
	/* producer side */
	uint8_t *base;		/* size bytes, mapped twice */
	size_t size;		/* a power of two, multiple of the page */
	uint64_t mask;
	uint64_t ph;		/* committed, maybe not yet published */
	uint64_t pub;		/* last published head */
	uint64_t tail_seen;	/* consumer's tail as last read */
	uint64_t batch;		/* publish after this many bytes */
	unsigned flags;		/* TM_RING_* */
	uint64_t drops;		/* records dropped (TM_RING_DROP) */
	uint64_t drop_bytes;
	uint64_t waits;		/* times the producer slept on a full ring */
	struct tm_evc *data_evc;	/* the consumer sleeps on it */
	struct tm_evc *space_evc;	/* the producer sleeps on it */
	_Atomic int *abort;	/* nonzero: stop waiting (consumer failed) */
	uint64_t faulted;	/* bytes from the start mapped (prefault) */
	/* called before waiting for room: must publish this ring (and any
	 * ring the consumer reads along with it, in the right order);
	 * NULL: tm_ring_publish(this ring) */
	void (*before_wait)(void *arg);
	void *before_wait_arg;

	/* shared */
	_Alignas(64) _Atomic uint64_t head;	/* published by the producer */
	_Alignas(64) _Atomic uint64_t tail;	/* released by the consumer */
};

/* Maps a ring of at least `size` bytes (rounded up to a power of two, at
 * least 64 KiB). data_evc / space_evc: shared wake-ups (may be shared by
 * many rings). 0, or -1 with a message in err. */
int tm_ring_init(struct tm_ring *r, size_t size, unsigned flags,
    struct tm_evc *data_evc, struct tm_evc *space_evc, char *err,
    size_t errlen);
void tm_ring_destroy(struct tm_ring *r);
/* Maps the ring's pages up to `upto` bytes from its start now
 * (MADV_POPULATE_WRITE), so the producer takes no page fault on first
 * use there. Pages are mapped as the ring fills, never all at once: an
 * idle class costs no memory. Contents are untouched: the consumer may
 * call it while the producer writes. */
void tm_ring_prefault(struct tm_ring *r, uint64_t upto);

/* ---- producer ---------------------------------------------------------- */

/* Room for len bytes at the head: a pointer to write them at, or NULL
 * when len can never fit, when the ring is full in TM_RING_DROP mode
 * (nothing is counted: see tm_ring_drop), or when *abort became nonzero
 * while waiting. Does not commit. */
void *tm_ring_reserve_slow(struct tm_ring *r, size_t len);

static inline void *tm_ring_reserve(struct tm_ring *r, size_t len)
{
	if (r->ph + len - r->tail_seen <= r->size)
		return r->base + (r->ph & r->mask);
	return tm_ring_reserve_slow(r, len);
}

/* Counts a record the caller drops for want of room. */
static inline void tm_ring_drop(struct tm_ring *r, size_t len)
{
	r->drops++;
	r->drop_bytes += len;
}

/* Makes committed bytes visible to the consumer and wakes it. */
void tm_ring_publish(struct tm_ring *r);

/* Commits len reserved bytes; publishes every `batch` bytes. */
static inline void tm_ring_commit(struct tm_ring *r, size_t len)
{
	r->ph += len;
	if (r->ph - r->pub >= r->batch)
		tm_ring_publish(r);
}

/* ---- consumer ---------------------------------------------------------- */

/* Published bytes not yet released, and where they start (contiguous). */
static inline uint64_t tm_ring_avail(struct tm_ring *r, uint64_t from)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) - from;
}

static inline const uint8_t *tm_ring_at(const struct tm_ring *r,
    uint64_t pos)
{
	return r->base + (pos & r->mask);
}

/* Gives back everything before pos to the producer, and wakes it. */
void tm_ring_release(struct tm_ring *r, uint64_t pos);

#endif
