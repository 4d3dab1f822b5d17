/* The decode loop: follows dissector verdicts through the dispatch tables. */
#ifndef TM_DECODE_H
#define TM_DECODE_H

#include "registry.h"

/* Decodes one frame into pkt. Never fails: whatever could be decoded is in
 * the view, and why decoding stopped early is in pkt->flags and events. */
void tm_decode(const struct tm_registry *r, struct tm_packet *pkt,
    const uint8_t *data, uint32_t caplen, uint32_t len, uint16_t linktype);

#endif
