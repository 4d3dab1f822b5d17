/* The SPSC byte ring: mirrored mapping, reserve/commit/publish/release,
 * drop mode, waiting producer with a consumer thread, abort. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ring.h"

static void test_mirror(void **state)
{
	struct tm_ring r;
	struct tm_evc d, s;
	char err[256];
	uint8_t *p;

	(void)state;
	tm_evc_init(&d);
	tm_evc_init(&s);
	assert_int_equal(tm_ring_init(&r, 100000, TM_RING_WAIT, &d, &s, err,
	    sizeof(err)), 0);
	/* rounded up to a power of two */
	assert_int_equal(r.size, 131072);
	/* a write across the end shows up at the start */
	r.ph = r.tail_seen = r.size - 10;
	atomic_store(&r.tail, r.size - 10);
	p = tm_ring_reserve(&r, 100);
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	assert_int_equal(r.base[r.size - 10], 0);
	assert_int_equal(r.base[0], 10);
	assert_int_equal(r.base[89], 99);
	tm_ring_destroy(&r);
}

static void test_flow(void **state)
{
	struct tm_ring r;
	struct tm_evc d, s;
	char err[256];
	uint64_t tail = 0;

	(void)state;
	tm_evc_init(&d);
	tm_evc_init(&s);
	assert_int_equal(tm_ring_init(&r, 65536, TM_RING_DROP, &d, &s, err,
	    sizeof(err)), 0);
	r.batch = 1000;
	/* nothing visible before it is published */
	memset(tm_ring_reserve(&r, 500), 7, 500);
	tm_ring_commit(&r, 500);
	assert_int_equal(tm_ring_avail(&r, tail), 0);
	memset(tm_ring_reserve(&r, 600), 8, 600);
	tm_ring_commit(&r, 600);		/* batch reached */
	assert_int_equal(tm_ring_avail(&r, tail), 1100);
	assert_int_equal(tm_ring_at(&r, tail)[499], 7);
	assert_int_equal(tm_ring_at(&r, tail)[500], 8);
	/* full: dropped, nothing committed */
	assert_null(tm_ring_reserve(&r, 65536 - 1100 + 1));
	tm_ring_drop(&r, 65536 - 1100 + 1);
	assert_int_equal(r.drops, 1);
	assert_non_null(tm_ring_reserve(&r, 65536 - 1100));
	/* released room comes back */
	tail += 1100;
	tm_ring_release(&r, tail);
	assert_non_null(tm_ring_reserve(&r, 65536));
	/* never more than the ring */
	assert_null(tm_ring_reserve(&r, 65537));
	tm_ring_destroy(&r);
}

struct consumer {
	struct tm_ring *r;
	uint64_t records;
	uint64_t bad;
	uint64_t want;
};

/* Records: u32 length (>= 8), u32 sequence, then bytes (seq & 0xff). */
static void *consume(void *arg)
{
	struct consumer *c = arg;
	uint64_t tail = 0;

	while (c->records < c->want) {
		uint64_t avail = tm_ring_avail(c->r, tail);

		if (avail == 0) {
			uint32_t key = tm_evc_prepare(c->r->data_evc);

			if (tm_ring_avail(c->r, tail) == 0)
				tm_evc_wait(c->r->data_evc, key, 50);
			else
				tm_evc_cancel(c->r->data_evc);
			continue;
		}
		while (avail >= 8) {
			const uint8_t *p = tm_ring_at(c->r, tail);
			uint32_t len, seq;

			memcpy(&len, p, 4);
			memcpy(&seq, p + 4, 4);
			if (seq != c->records)
				c->bad++;
			for (uint32_t i = 8; i < len; i++)
				if (p[i] != (uint8_t)seq)
					c->bad++;
			tail += len;
			avail -= len;
			c->records++;
		}
		tm_ring_release(c->r, tail);
	}
	return NULL;
}

static void test_wait_mode(void **state)
{
	struct tm_ring r;
	struct tm_evc d, s;
	struct consumer c;
	pthread_t t;
	char err[256];
	const uint64_t n = 200000;

	(void)state;
	tm_evc_init(&d);
	tm_evc_init(&s);
	assert_int_equal(tm_ring_init(&r, 65536, TM_RING_WAIT, &d, &s, err,
	    sizeof(err)), 0);
	memset(&c, 0, sizeof(c));
	c.r = &r;
	c.want = n;
	assert_int_equal(pthread_create(&t, NULL, consume, &c), 0);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = 8 + (uint32_t)(i * 7919 % 1500);
		uint32_t seq = (uint32_t)i;
		uint8_t *p = tm_ring_reserve(&r, len);

		assert_non_null(p);
		memcpy(p, &len, 4);
		memcpy(p + 4, &seq, 4);
		memset(p + 8, (uint8_t)seq, len - 8);
		tm_ring_commit(&r, len);
	}
	tm_ring_publish(&r);
	pthread_join(t, NULL);
	assert_int_equal(c.records, n);
	assert_int_equal(c.bad, 0);
	/* the producer had to wait: ~150 MB through a 64 KiB ring */
	assert_true(r.waits > 0);
	assert_int_equal(r.drops, 0);
	tm_ring_destroy(&r);
}

static void test_abort(void **state)
{
	struct tm_ring r;
	struct tm_evc d, s;
	_Atomic int abort_flag;
	char err[256];

	(void)state;
	tm_evc_init(&d);
	tm_evc_init(&s);
	atomic_init(&abort_flag, 1);
	assert_int_equal(tm_ring_init(&r, 65536, TM_RING_WAIT, &d, &s, err,
	    sizeof(err)), 0);
	r.abort = &abort_flag;
	assert_non_null(tm_ring_reserve(&r, 65536));
	tm_ring_commit(&r, 65536);
	/* full, consumer gone: a waiting producer gives up */
	assert_null(tm_ring_reserve(&r, 1));
	tm_ring_destroy(&r);
}

static void test_prefault(void **state)
{
	struct tm_ring r;
	char err[256];

	(void)state;
	assert_int_equal(tm_ring_init(&r, 1 << 20, TM_RING_DROP, NULL, NULL,
	    err, sizeof(err)), 0);
	memset(tm_ring_reserve(&r, 100), 0x5a, 100);
	tm_ring_prefault(&r, 5000);	/* contents untouched */
	assert_int_equal(r.faulted, 8192);	/* whole pages */
	tm_ring_prefault(&r, 1000);		/* never backwards */
	assert_int_equal(r.faulted, 8192);
	tm_ring_prefault(&r, 1 << 30);		/* never beyond */
	assert_int_equal(r.faulted, r.size);
	assert_int_equal(r.base[99], 0x5a);
	assert_int_equal(r.base[r.size + 99], 0x5a);
	tm_ring_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_wait_mode),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_prefault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
