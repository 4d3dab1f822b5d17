/*
 * Consistency of a packet view after a decode, beyond what the sanitizers
 * see: counts within their arrays, layer offsets within the frame and
 * growing, dissector and event ids known to the registry, tunnels within
 * the depth limit. A violation aborts with a message (a crash to
 * libFuzzer). Shared by the decode fuzz targets.
 */
#ifndef TM_FUZZ_VIEW_H
#define TM_FUZZ_VIEW_H

#include <stdio.h>
#include <stdlib.h>

#include "registry.h"

static inline void fuzz_view_die(const char *who, const char *what,
    unsigned a, unsigned b)
{
	fprintf(stderr, "%s: inconsistent packet view: %s (%u, %u)\n", who,
	    what, a, b);
	abort();
}

static inline void fuzz_check_view(const char *who,
    const struct tm_registry *reg, const struct tm_packet *pkt,
    uint32_t caplen)
{
	if (pkt->n_layers > TM_MAX_LAYERS)
		fuzz_view_die(who, "n_layers", pkt->n_layers, TM_MAX_LAYERS);
	for (unsigned i = 0; i < pkt->n_layers; i++) {
		if (pkt->layers[i].offset > caplen)
			fuzz_view_die(who, "layer offset beyond the capture",
			    pkt->layers[i].offset, caplen);
		if (i && pkt->layers[i].offset < pkt->layers[i - 1].offset)
			fuzz_view_die(who, "layer offsets go backwards",
			    pkt->layers[i].offset, pkt->layers[i - 1].offset);
		if (pkt->layers[i].dissector >= reg->n_slots)
			fuzz_view_die(who, "layer dissector",
			    pkt->layers[i].dissector, reg->n_slots);
	}
	if (pkt->n_events > TM_MAX_EVENTS)
		fuzz_view_die(who, "n_events", pkt->n_events, TM_MAX_EVENTS);
	for (unsigned i = 0; i < pkt->n_events; i++)
		if (pkt->events[i] >= reg->n_events)
			fuzz_view_die(who, "unknown event id", pkt->events[i],
			    reg->n_events);
	if (pkt->n_vlans > TM_MAX_VLANS)
		fuzz_view_die(who, "n_vlans", pkt->n_vlans, TM_MAX_VLANS);
	if (pkt->n_tunnels > TM_MAX_TUNNELS)
		fuzz_view_die(who, "n_tunnels", pkt->n_tunnels,
		    TM_MAX_TUNNELS);
	if (pkt->n_tunnels > reg->max_depth)
		fuzz_view_die(who, "more tunnels than the depth limit",
		    pkt->n_tunnels, reg->max_depth);
	for (unsigned i = 0; i < pkt->n_tunnels; i++)
		if (pkt->tunnels[i].type > TM_TUN_OTHER)
			fuzz_view_die(who, "tunnel type", pkt->tunnels[i].type,
			    TM_TUN_OTHER);
	if (pkt->src.family != 0 && pkt->src.family != 4 &&
	    pkt->src.family != 6)
		fuzz_view_die(who, "address family", pkt->src.family, 0);
	if (pkt->l3 > TM_L3_OTHER)
		fuzz_view_die(who, "l3", pkt->l3, TM_L3_OTHER);
}

#endif
