/* Printing a decoded packet: one JSON object or one human-readable line. */
#ifndef TM_PKTFMT_H
#define TM_PKTFMT_H

#include <stdint.h>
#include <stdio.h>

#include "registry.h"

struct tm_frame_meta {
	uint64_t frame;		/* 1-based */
	int64_t ts_sec;
	uint32_t ts_frac;	/* microseconds or nanoseconds */
	int nanos;		/* ts_frac is in nanoseconds */
};

/* Writes an address as text ("-" when none); buf holds >= 46 bytes. */
const char *tm_addr_str(const struct tm_addr *a, char *buf, size_t len);
const char *tm_tunnel_type_name(const struct tm_tunnel *t);
const char *tm_l3_name(unsigned l3);

/* JSON pieces shared with flow records: an escaped string, an address
 * (null when none), the VLAN id list and the tunnel stack as arrays. */
void tm_json_str(FILE *out, const char *s);
void tm_json_addr(FILE *out, const struct tm_addr *a);
void tm_print_vlans_json(FILE *out, const uint16_t *vlans, unsigned n);
void tm_print_tunnels_json(FILE *out, const struct tm_tunnel *tunnels,
    unsigned n);
/* " vlan 10.20 [gre 192.0.2.1>198.51.100.1 key 5]..." */
void tm_print_context_text(FILE *out, const uint16_t *vlans, unsigned nv,
    const struct tm_tunnel *tunnels, unsigned nt);

void tm_print_json(FILE *out, const struct tm_registry *r,
    const struct tm_frame_meta *m, const struct tm_packet *pkt);
void tm_print_text(FILE *out, const struct tm_registry *r,
    const struct tm_frame_meta *m, const struct tm_packet *pkt);

#endif
