/*
 * Inside the sidecar reader: the dictionaries and postings of
 * sidecar_dict.c as sidecar_read.c (records, full validation) and
 * query/sc_light.c use them.
 */
#ifndef TM_SIDECAR_DICT_H
#define TM_SIDECAR_DICT_H

#include "sidecar.h"

/* The next value of the dictionary (it->v) and its reference: a single
 * id (*single 1) or the offset of a posting in the field's blob. 1, or 0
 * at the end or at damaged bytes. */
int tm_sc_dict_next(struct tm_sc_fiter *it, int *single, uint64_t *val);

/* The posting a reference names; check: every id of it too. 0, or -1. */
int tm_sc_posting_at(const struct tm_sc_fsec *fs, int single, uint64_t val,
    struct tm_sc_posting *p, int check);

/* Everything in a field's section: values sorted and (v2) blocks where
 * the table says, each posting whole, string values naming strings. 0,
 * or -1 (not sorted), -2 (dictionary bytes), -3 (a posting), -4 (a value
 * that names no string), with the value's index in *at. */
int tm_sc_fsec_check(const struct tm_sc_fsec *fs, unsigned fi,
    uint32_t n_strings, uint32_t *at);

/* Address i of the addr4 (v6 0) or addr6 (v6 1) dictionary into a (4 or
 * 16 bytes): 1, or 0 (no such value, damaged bytes). */
int tm_sc_addr_value(const struct tm_sc *sc, int v6, uint64_t i,
    uint8_t *a);
/* Frees what a cursor holds. */
void tm_sc_cursor_free(struct tm_sc_cursor *c);

/* zigzag: signed differences as varints */
static inline uint64_t tm_zz(int64_t x)
{
	return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static inline int64_t tm_unzz(uint64_t x)
{
	return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

#endif
