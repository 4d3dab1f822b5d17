/* `tm store check`: one segment against its sidecar. */
#ifndef TM_CHECK_H
#define TM_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct tm_check_info {
	uint64_t packets, pcap_bytes, idx_bytes;
	uint32_t conns;
	int64_t min_ts, max_ts;
};

/* 0: the segment and its sidecar agree in everything; 1: damage, said in
 * msg (what and where). */
int tm_segment_check(const char *pcap, const char *idx, const char *cls,
    int64_t start, uint64_t seq, struct tm_check_info *info, char *msg,
    size_t len);

#endif
