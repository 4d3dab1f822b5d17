/*
 * nDPI glue. The detection module is created once; per-flow states come
 * from a pool of fixed-size slots (nDPI 4.2's flow struct is a plain
 * structure the caller owns: it is zeroed before use, and
 * ndpi_free_flow_data() releases what nDPI allocated inside it).
 */
#include "ndpi_glue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndpi_api.h>

struct tm_ndpi {
	struct ndpi_detection_module_struct *mod;
	uint8_t *pool;		/* cap slots of flow_size bytes */
	size_t flow_size;
	unsigned cap;
	unsigned busy;
	int *free_slots;	/* stack of free slot numbers */
	unsigned n_free;
	/* busy slots in the order they were fed, most recent at head */
	int *prev, *next;
	uint32_t *owner;
	int head, tail;
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

struct tm_ndpi *tm_ndpi_new(unsigned max_flows, char *err, size_t errlen)
{
	struct tm_ndpi *n = calloc(1, sizeof(*n));
	NDPI_PROTOCOL_BITMASK all;

	if (!n)
		goto oom;
	if (max_flows == 0)
		max_flows = 1;
	n->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!n->mod) {
		snprintf(err, errlen, "nDPI: cannot initialize the detection "
		    "module");
		free(n);
		return NULL;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(n->mod, &all);
	ndpi_finalize_initialization(n->mod);
	/* slots aligned for the struct's 8-byte members */
	n->flow_size = (ndpi_detection_get_sizeof_ndpi_flow_struct() + 15) &
	    ~(size_t)15;
	n->cap = max_flows;
	n->pool = calloc(max_flows, n->flow_size);
	n->free_slots = malloc(max_flows * sizeof(*n->free_slots));
	n->prev = malloc(max_flows * sizeof(*n->prev));
	n->next = malloc(max_flows * sizeof(*n->next));
	n->owner = malloc(max_flows * sizeof(*n->owner));
	n->head = n->tail = -1;
	if (!n->pool || !n->free_slots || !n->prev || !n->next || !n->owner)
		goto oom;
	for (unsigned i = 0; i < max_flows; i++)
		n->free_slots[i] = (int)(max_flows - 1 - i);
	n->n_free = max_flows;
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
	free(n);
}

int tm_ndpi_begin(struct tm_ndpi *n, uint32_t owner)
{
	int slot;

	if (n->n_free == 0)
		return -1;
	slot = n->free_slots[--n->n_free];
	memset(slot_flow(n, slot), 0, n->flow_size);
	n->owner[slot] = owner;
	lru_push(n, slot);
	n->busy++;
	return slot;
}

int tm_ndpi_oldest(const struct tm_ndpi *n, uint32_t *owner)
{
	if (n->tail >= 0)
		*owner = n->owner[n->tail];
	return n->tail;
}

static void verdict_of(ndpi_protocol p, struct tm_ndpi_verdict *v)
{
	v->master = p.master_protocol;
	v->app = p.app_protocol;
	if (v->master == v->app)
		v->master = NDPI_PROTOCOL_UNKNOWN;
}

int tm_ndpi_feed(struct tm_ndpi *n, int slot, const uint8_t *ip,
    uint32_t len, uint64_t time_ms, struct tm_ndpi_verdict *v)
{
	ndpi_protocol p;

	if (len > 65535)
		len = 65535;
	if (n->head != slot) {
		lru_unlink(n, slot);
		lru_push(n, slot);
	}
	p = ndpi_detection_process_packet(n->mod, slot_flow(n, slot), ip,
	    (unsigned short)len, time_ms);
	if (p.master_protocol == NDPI_PROTOCOL_UNKNOWN &&
	    p.app_protocol == NDPI_PROTOCOL_UNKNOWN)
		return 0;
	verdict_of(p, v);
	return 1;
}

void tm_ndpi_giveup(struct tm_ndpi *n, int slot, struct tm_ndpi_verdict *v)
{
	uint8_t guessed = 0;
	ndpi_protocol p = ndpi_detection_giveup(n->mod, slot_flow(n, slot), 0,
	    &guessed);

	verdict_of(p, v);
}

void tm_ndpi_end(struct tm_ndpi *n, int slot)
{
	if (slot < 0 || (unsigned)slot >= n->cap)
		return;
	ndpi_free_flow_data(slot_flow(n, slot));
	lru_unlink(n, slot);
	n->free_slots[n->n_free++] = slot;
	n->busy--;
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
