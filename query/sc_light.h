/*
 * A sidecar opened for a query (sc_light.c): mapped, both checksums
 * verified, tables set up; the deep checks of tm_sc_load() are left to
 * `tm store check`. Read it with the field and
 * context accessors of sidecar.h and tm_sc_conn_get_safe().
 */
#ifndef TM_SC_LIGHT_H
#define TM_SC_LIGHT_H

#include <stddef.h>

#include "sidecar.h"

struct tm_sc_light {
	struct tm_sc sc;
	const void *map;
	size_t map_len;
	const uint8_t *ctx_sec;	/* the contexts section */
	size_t ctx_len;
};

/* Maps and sets up, checking the header's and the whole file's
 * checksums and every table's bounds. 0, or -1 with the reason. */
int tm_sc_open_light(struct tm_sc_light *l, const char *path, char *err,
    size_t errlen);
/* The same over a sidecar in memory (kept, not copied: buf must outlive
 * l; tm_sc_close_light does not free it). */
int tm_sc_open_light_mem(struct tm_sc_light *l, const uint8_t *buf,
    size_t len, char *err, size_t errlen);
/* Finds where each context starts (for tm_sc_context): 0, or -1. */
int tm_sc_contexts_light(struct tm_sc_light *l, char *err, size_t errlen);
/* tm_sc_conn_get() after checking that the walk to the record stays in
 * the connections section: 0, or -1 (damage: c is zeroed). */
int tm_sc_conn_get_safe(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c);
/* The same without the key's addresses (tm_sc_conn_packets): for
 * reading a connection's packets. */
int tm_sc_conn_packets_safe(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c);
void tm_sc_close_light(struct tm_sc_light *l);

#endif
