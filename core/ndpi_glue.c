/*
 * nDPI glue. The detection module is created once; per-flow states come
 * from a pool of fixed-size slots (nDPI 4.2's flow struct is a plain
 * structure the caller owns: it is zeroed before use, and
 * ndpi_free_flow_data() releases what nDPI allocated inside it).
 *
 * With a worker thread, every call into nDPI (process, give up, free a
 * flow's data) runs on the worker, in submission order, through a
 * single-producer single-consumer ring of jobs; packets are copied into a
 * byte arena. Sleeping and waking use a mutex and two condition variables,
 * with the Dekker pattern on seq_cst atomics so neither side sleeps while
 * the other has just published work.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "ndpi_glue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ndpi_api.h>

#define QJOBS	4096u		/* jobs in flight per lane (power of two) */
#define ARENA	(8u << 20)	/* bytes of packets in flight, all lanes */
#define MAX_LANES 16u

struct job {
	uint8_t type;
	uint8_t verdict, skipped;
	int slot;
	uint32_t tag;
	uint32_t len;
	uint64_t ms;
	uint64_t boff;		/* absolute arena position of the packet */
	struct tm_ndpi_verdict v;
};

/* One worker thread with its own detection module (nDPI 4.2 keeps the
 * packet being dissected in the module, so a module serves one thread)
 * and its own single-producer single-consumer queue: the caller writes
 * jobs at qhead and publishes qpub, the worker runs them and advances
 * qdone, the caller hands their results on from qtail. */
struct lane {
	struct tm_ndpi *n;
	struct ndpi_detection_module_struct *mod;	/* lane 0: n->mod */
	struct job *jobs;
	uint8_t *arena;
	uint32_t asize;		/* ARENA shared out: the memory does not grow
				 * with the number of threads */
	uint64_t qhead, qtail;
	uint64_t ahead, atail;	/* arena positions written / freed */
	_Atomic uint64_t qpub, qdone;
	_Atomic uint64_t wake_at;	/* the caller sleeps until qdone >= */
	_Atomic int worker_sleeping, main_waiting, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	pthread_t th;
	int th_started;
};

struct tm_ndpi {
	struct ndpi_detection_module_struct *mod;	/* names; inline */
	uint8_t *pool;		/* cap slots of flow_size bytes */
	size_t flow_size;
	unsigned cap;
	unsigned busy;
	int *free_slots;	/* stack of free slot numbers */
	unsigned n_free;
	/* attached slots in the order they were fed, most recent at head */
	int *prev, *next;
	int head, tail;
	uint32_t *owner;
	uint8_t *attached;
	uint8_t *lane_of;	/* the lane a busy slot's jobs go to */
	uint8_t *decided;	/* worker side: the flow of slot is decided */
	tm_ndpi_sink_fn sink;
	void *sink_arg;

	/* threaded: results are handed on in submission order across the
	 * lanes: route[i % rcap] is the lane of the i-th job */
	unsigned nlanes;
	struct lane *lanes;
	uint8_t *route;
	uint64_t rcap, ghead, gtail;
};

static void lru_unlink(struct tm_ndpi *n, int s)
{
	if (n->prev[s] >= 0)
		n->next[n->prev[s]] = n->next[s];
	else
		n->head = n->next[s];
	if (n->next[s] >= 0)
		n->prev[n->next[s]] = n->prev[s];
	else
		n->tail = n->prev[s];
}

static void lru_push(struct tm_ndpi *n, int s)
{
	n->prev[s] = -1;
	n->next[s] = n->head;
	if (n->head >= 0)
		n->prev[n->head] = s;
	else
		n->tail = s;
	n->head = s;
}

static struct ndpi_flow_struct *slot_flow(const struct tm_ndpi *n, int slot)
{
	return (struct ndpi_flow_struct *)(void *)(n->pool +
	    (size_t)slot * n->flow_size);
}

size_t tm_ndpi_flow_size(void)
{
	return ndpi_detection_get_sizeof_ndpi_flow_struct();
}

static void verdict_of(ndpi_protocol p, struct tm_ndpi_verdict *v)
{
	v->master = p.master_protocol;
	v->app = p.app_protocol;
	if (v->master == v->app)
		v->master = NDPI_PROTOCOL_UNKNOWN;
}

/* Runs one job with module mod: on a worker, or inline. */
static void run_job(struct tm_ndpi *n, struct ndpi_detection_module_struct *mod,
    struct job *j, const uint8_t *ip)
{
	struct ndpi_flow_struct *f = slot_flow(n, j->slot);
	ndpi_protocol p;
	uint8_t guessed = 0;

	j->verdict = j->skipped = 0;
	j->v.master = j->v.app = 0;
	switch (j->type) {
	case TM_NDPI_FEED:
		if (n->decided[j->slot]) {
			j->skipped = 1;
			break;
		}
		p = ndpi_detection_process_packet(mod, f, ip,
		    (unsigned short)j->len, j->ms);
		if (p.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
		    p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
			verdict_of(p, &j->v);
			j->verdict = 1;
			n->decided[j->slot] = 1;
		}
		break;
	case TM_NDPI_GIVEUP:
		if (n->decided[j->slot]) {
			j->skipped = 1;
			break;
		}
		/* no guessing from ports: a name means nDPI saw it */
		p = ndpi_detection_giveup(mod, f, 0, &guessed);
		verdict_of(p, &j->v);
		j->verdict = 1;
		n->decided[j->slot] = 1;
		break;
	default:
		ndpi_free_flow_data(f);
		n->decided[j->slot] = 0;
		break;
	}
}

/* A short busy wait before sleeping (a few microseconds): a sleep and a
 * wake cost more than the microseconds the other side usually needs, but
 * a longer spin burns a core the reading, writer and other nDPI threads
 * need when there are more of them than cores (2 cores, 4 threads here:
 * 4000 pauses cost 0.2 CPU-s per 1.15 M packets; 50: median CPU 2.30 s
 * against 2.53 s, bench/storage_bench.sh's trace, 6 rounds each). */
#define SPIN 50

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void *worker(void *arg)
{
	struct lane *l = arg;
	uint64_t i = atomic_load(&l->qdone);

	for (;;) {
		struct job *j;

		for (int k = 0; k < SPIN && i == atomic_load_explicit(&l->qpub,
		    memory_order_relaxed); k++)
			relax();
		if (i == atomic_load(&l->qpub)) {
			pthread_mutex_lock(&l->mu);
			atomic_store(&l->worker_sleeping, 1);
			while (i == atomic_load(&l->qpub) &&
			    !atomic_load(&l->stop))
				pthread_cond_wait(&l->cv_work, &l->mu);
			atomic_store(&l->worker_sleeping, 0);
			pthread_mutex_unlock(&l->mu);
			if (atomic_load(&l->stop))
				return NULL;
			continue;
		}
		j = &l->jobs[i & (QJOBS - 1)];
		run_job(l->n, l->mod, j, l->arena + (j->boff % l->asize));
		atomic_store(&l->qdone, ++i);
		if (atomic_load(&l->main_waiting) &&
		    i >= atomic_load(&l->wake_at)) {
			pthread_mutex_lock(&l->mu);
			pthread_cond_signal(&l->cv_done);
			pthread_mutex_unlock(&l->mu);
		}
	}
}

static struct ndpi_detection_module_struct *new_module(void)
{
	struct ndpi_detection_module_struct *mod;
	NDPI_PROTOCOL_BITMASK all;

	mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!mod)
		return NULL;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(mod, &all);
	ndpi_finalize_initialization(mod);
	return mod;
}

/* Starts lane k of threads. */
static int lane_start(struct tm_ndpi *n, struct lane *l, unsigned k,
    unsigned threads, char *err, size_t errlen)
{
	l->n = n;
	/* the first lane uses the caller's module: the caller only reads
	 * protocol names from it, which do not change after setup */
	l->mod = k == 0 ? n->mod : new_module();
	l->jobs = calloc(QJOBS, sizeof(*l->jobs));
	l->asize = ARENA / threads;
	l->arena = malloc(l->asize);
	if (!l->mod || !l->jobs || !l->arena) {
		snprintf(err, errlen, "nDPI: out of memory for its thread %u",
		    k + 1);
		return -1;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv_work, NULL);
	pthread_cond_init(&l->cv_done, NULL);
	if (pthread_create(&l->th, NULL, worker, l) != 0) {
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv_work);
		pthread_cond_destroy(&l->cv_done);
		snprintf(err, errlen, "nDPI: cannot start its thread %u",
		    k + 1);
		return -1;
	}
	l->th_started = 1;
	{
		char name[16];
		snprintf(name, sizeof(name), "tm-ndpi%u", k);
		(void)pthread_setname_np(l->th, name);
	}
	return 0;
}

static void lane_stop(struct lane *l)
{
	if (l->th_started) {
		pthread_mutex_lock(&l->mu);
		atomic_store(&l->stop, 1);
		pthread_cond_signal(&l->cv_work);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->th, NULL);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cv_work);
		pthread_cond_destroy(&l->cv_done);
	}
	if (l->mod && l->mod != l->n->mod)
		ndpi_exit_detection_module(l->mod);
	free(l->jobs);
	free(l->arena);
}

struct tm_ndpi *tm_ndpi_new(unsigned max_flows, unsigned threads, char *err,
    size_t errlen)
{
	struct tm_ndpi *n = calloc(1, sizeof(*n));

	if (!n)
		goto oom;
	if (max_flows == 0)
		max_flows = 1;
	if (threads > MAX_LANES)
		threads = MAX_LANES;
	n->mod = new_module();
	if (!n->mod) {
		snprintf(err, errlen, "nDPI: cannot initialize the detection "
		    "module");
		free(n);
		return NULL;
	}
	/* slots aligned for the struct's 8-byte members */
	n->flow_size = (ndpi_detection_get_sizeof_ndpi_flow_struct() + 15) &
	    ~(size_t)15;
	n->cap = max_flows;
	n->pool = calloc(max_flows, n->flow_size);
	n->free_slots = malloc(max_flows * sizeof(*n->free_slots));
	n->prev = malloc(max_flows * sizeof(*n->prev));
	n->next = malloc(max_flows * sizeof(*n->next));
	n->owner = malloc(max_flows * sizeof(*n->owner));
	n->attached = calloc(max_flows, 1);
	n->lane_of = calloc(max_flows, 1);
	n->decided = calloc(max_flows, 1);
	n->head = n->tail = -1;
	if (!n->pool || !n->free_slots || !n->prev || !n->next || !n->owner ||
	    !n->attached || !n->lane_of || !n->decided)
		goto oom;
	for (unsigned i = 0; i < max_flows; i++)
		n->free_slots[i] = (int)(max_flows - 1 - i);
	n->n_free = max_flows;
	if (threads) {
		n->lanes = calloc(threads, sizeof(*n->lanes));
		n->rcap = (uint64_t)QJOBS * threads;
		n->route = malloc(n->rcap);
		if (!n->lanes || !n->route)
			goto oom;
		for (unsigned k = 0; k < threads; k++) {
			n->nlanes = k + 1;	/* what tm_ndpi_free stops */
			if (lane_start(n, &n->lanes[k], k, threads, err,
			    errlen)) {
				tm_ndpi_free(n);
				return NULL;
			}
		}
	}
	return n;
oom:
	snprintf(err, errlen, "nDPI: out of memory for %u flow states",
	    max_flows);
	tm_ndpi_free(n);
	return NULL;
}

void tm_ndpi_free(struct tm_ndpi *n)
{
	if (!n)
		return;
	for (unsigned k = 0; n->lanes && k < n->nlanes; k++)
		lane_stop(&n->lanes[k]);
	if (n->pool && n->free_slots) {
		/* release what busy slots still hold */
		uint8_t *is_free = calloc(n->cap, 1);

		if (is_free) {
			for (unsigned i = 0; i < n->n_free; i++)
				is_free[n->free_slots[i]] = 1;
			for (unsigned i = 0; i < n->cap; i++)
				if (!is_free[i])
					ndpi_free_flow_data(slot_flow(n,
					    (int)i));
			free(is_free);
		}
	}
	if (n->mod)
		ndpi_exit_detection_module(n->mod);
	free(n->pool);
	free(n->free_slots);
	free(n->prev);
	free(n->next);
	free(n->owner);
	free(n->attached);
	free(n->lane_of);
	free(n->decided);
	free(n->lanes);
	free(n->route);
	free(n);
}

void tm_ndpi_set_sink(struct tm_ndpi *n, tm_ndpi_sink_fn fn, void *arg)
{
	n->sink = fn;
	n->sink_arg = arg;
}

int tm_ndpi_begin(struct tm_ndpi *n, uint32_t owner, uint32_t shard)
{
	int slot;

	if (n->n_free == 0)
		return -1;
	slot = n->free_slots[--n->n_free];
	/* the worker is done with it: its END result came back */
	memset(slot_flow(n, slot), 0, n->flow_size);
	n->owner[slot] = owner;
	n->attached[slot] = 1;
	n->lane_of[slot] = (uint8_t)(n->nlanes ? shard % n->nlanes : 0);
	lru_push(n, slot);
	n->busy++;
	return slot;
}

void tm_ndpi_detach(struct tm_ndpi *n, int slot)
{
	if (n->attached[slot]) {
		lru_unlink(n, slot);
		n->attached[slot] = 0;
	}
}

void tm_ndpi_release(struct tm_ndpi *n, int slot)
{
	tm_ndpi_detach(n, slot);
	n->free_slots[n->n_free++] = slot;
	n->busy--;
}

int tm_ndpi_oldest(const struct tm_ndpi *n, uint32_t *owner)
{
	if (n->tail >= 0)
		*owner = n->owner[n->tail];
	return n->tail;
}

static void hand(struct tm_ndpi *n, const struct job *j)
{
	struct tm_ndpi_result r;

	r.job = j->type;
	r.verdict = j->verdict;
	r.skipped = j->skipped;
	r.slot = j->slot;
	r.tag = j->tag;
	r.v = j->v;
	if (n->sink)
		n->sink(&r, n->sink_arg);
}

/* Sleeps until lane l has done job target - 1 (no spinning: the caller
 * waits because a worker is behind, and on two cores a spinning caller
 * takes the time the workers need). */
static void sleep_until(struct lane *l, uint64_t target)
{
	if (atomic_load(&l->qdone) >= target)
		return;
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->wake_at, target);
	atomic_store(&l->main_waiting, 1);
	while (atomic_load(&l->qdone) < target)
		pthread_cond_wait(&l->cv_done, &l->mu);
	atomic_store(&l->main_waiting, 0);
	pthread_mutex_unlock(&l->mu);
}

/* The lane of the oldest job not handed on yet. */
static struct lane *head_lane(const struct tm_ndpi *n)
{
	return &n->lanes[n->route[n->gtail % n->rcap]];
}

/* Hands the results that are done to the sink, in submission order. */
static size_t hand_done(struct tm_ndpi *n)
{
	size_t k = 0;

	while (n->gtail < n->ghead) {
		struct lane *l = head_lane(n);
		const struct job *j;

		if (l->qtail >= atomic_load_explicit(&l->qdone,
		    memory_order_acquire))
			break;
		j = &l->jobs[l->qtail & (QJOBS - 1)];
		l->qtail++;
		n->gtail++;
		if (j->type == TM_NDPI_FEED)
			l->atail = j->boff + j->len;
		if (l->qtail == l->qhead)
			l->atail = l->ahead;
		hand(n, j);
		k++;
	}
	return k;
}

size_t tm_ndpi_collect(struct tm_ndpi *n, int wait)
{
	struct lane *l;

	if (!n->nlanes || n->gtail == n->ghead)
		return 0;
	if (wait) {
		/* one result (a verdict a class needs, a state ending): a
		 * short spin first, as a worker usually has it within
		 * microseconds */
		l = head_lane(n);
		for (int s = 0; s < SPIN && atomic_load_explicit(&l->qdone,
		    memory_order_relaxed) == l->qtail; s++)
			relax();
		sleep_until(l, l->qtail + 1);
	}
	return hand_done(n);
}

/* A lane's queue or arena is full: the workers are behind. Results go
 * out in submission order, so this waits for the lane of the oldest
 * result, until it has done half of what it has outstanding: both sides
 * then run for a while without meeting. */
static void make_room(struct tm_ndpi *n)
{
	struct lane *l;
	uint64_t out;

	if (hand_done(n))
		return;
	l = head_lane(n);
	out = l->qhead - l->qtail;
	sleep_until(l, l->qtail + (out > 1 ? out / 2 : 1));
	hand_done(n);
}

size_t tm_ndpi_outstanding(const struct tm_ndpi *n)
{
	return (size_t)(n->ghead - n->gtail);
}

void tm_ndpi_submit(struct tm_ndpi *n, enum tm_ndpi_job job, int slot,
    uint32_t tag, const uint8_t *ip, uint32_t len, uint64_t time_ms)
{
	struct lane *l;
	struct job *j, local;
	uint64_t pos;

	if (job != TM_NDPI_FEED)
		len = 0;
	else if (len > 65535)
		len = 65535;
	if (job == TM_NDPI_FEED && n->attached[slot] && n->head != slot) {
		lru_unlink(n, slot);
		lru_push(n, slot);
	}
	if (!n->nlanes) {
		memset(&local, 0, sizeof(local));
		local.type = (uint8_t)job;
		local.slot = slot;
		local.tag = tag;
		local.len = len;
		local.ms = time_ms;
		run_job(n, n->mod, &local, ip);
		hand(n, &local);
		return;
	}
	l = &n->lanes[n->lane_of[slot]];
	while (l->qhead - l->qtail >= QJOBS)
		make_room(n);
	for (;;) {
		pos = l->ahead;
		if (pos % l->asize + len > l->asize)
			pos += l->asize - pos % l->asize;	/* no wrap */
		if (pos + len - l->atail <= l->asize)
			break;
		make_room(n);
	}
	j = &l->jobs[l->qhead & (QJOBS - 1)];
	j->type = (uint8_t)job;
	j->slot = slot;
	j->tag = tag;
	j->len = len;
	j->ms = time_ms;
	j->boff = pos;
	if (len)
		memcpy(l->arena + pos % l->asize, ip, len);
	l->ahead = pos + len;
	l->qhead++;
	n->route[n->ghead++ % n->rcap] = n->lane_of[slot];
	atomic_store(&l->qpub, l->qhead);
	if (atomic_load(&l->worker_sleeping)) {
		pthread_mutex_lock(&l->mu);
		pthread_cond_signal(&l->cv_work);
		pthread_mutex_unlock(&l->mu);
	}
}

const char *tm_ndpi_name(const struct tm_ndpi *n, struct tm_ndpi_verdict v,
    char *buf, size_t len)
{
	ndpi_protocol p = { 0 };

	if (v.master == NDPI_PROTOCOL_UNKNOWN && v.app == NDPI_PROTOCOL_UNKNOWN)
		return NULL;
	if (v.master == NDPI_PROTOCOL_UNKNOWN) {
		snprintf(buf, len, "%s", ndpi_get_proto_name(n->mod, v.app));
		return buf;
	}
	p.master_protocol = v.master;
	p.app_protocol = v.app;
	return ndpi_protocol2name(n->mod, p, buf, (u_int)len);
}

int tm_ndpi_known(const struct tm_ndpi *n, const char *name)
{
	char buf[128];
	char *dot;

	if (snprintf(buf, sizeof(buf), "%s", name) >= (int)sizeof(buf))
		return -1;
	dot = strchr(buf, '.');
	if (dot) {
		*dot = '\0';
		return ndpi_get_protocol_id(n->mod, buf) >= 0 &&
		    ndpi_get_protocol_id(n->mod, dot + 1) >= 0 ? 0 : -1;
	}
	return ndpi_get_protocol_id(n->mod, buf) >= 0 ? 0 : -1;
}

unsigned tm_ndpi_busy(const struct tm_ndpi *n)
{
	return n->busy;
}

unsigned tm_ndpi_capacity(const struct tm_ndpi *n)
{
	return n->cap;
}

int tm_ndpi_threaded(const struct tm_ndpi *n)
{
	return n->nlanes > 0;
}

unsigned tm_ndpi_threads(const struct tm_ndpi *n)
{
	return n->nlanes;
}

uint64_t tm_ndpi_cpu_ns(const struct tm_ndpi *n)
{
	uint64_t sum = 0;

	for (unsigned k = 0; k < n->nlanes; k++) {
		struct timespec ts;
		clockid_t cid;

		if (n->lanes[k].th_started &&
		    pthread_getcpuclockid(n->lanes[k].th, &cid) == 0 &&
		    clock_gettime(cid, &ts) == 0)
			sum += (uint64_t)ts.tv_sec * 1000000000u +
			    (uint64_t)ts.tv_nsec;
	}
	return sum;
}
