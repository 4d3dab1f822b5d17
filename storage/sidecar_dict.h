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

/* The next bit-coded v2 position value (docs/storage.md: Exp-Golomb
 * quotient, then k low bits) at r/bit: 0, or -1 when the bytes end or
 * the code is longer than any offset. */
static inline int tm_sc_bits(struct tm_rd *r, uint8_t *bit, unsigned n,
    uint64_t *v)
{
	uint64_t x = 0;

	while (n) {
		unsigned take, have;

		if (r->p >= r->end)
			return -1;
		have = 8u - *bit;
		take = n < have ? n : have;
		x = x << take | ((uint64_t)(*r->p >> (have - take)) &
		    ((1u << take) - 1));
		n -= take;
		*bit = (uint8_t)(*bit + take);
		if (*bit == 8) {
			*bit = 0;
			r->p++;
		}
	}
	*v = x;
	return 0;
}

static inline int tm_sc_pos_value(struct tm_rd *r, uint8_t *bit,
    unsigned k, uint64_t *v)
{
	unsigned z = 0;
	uint64_t q, low;

	for (;;) {			/* the zeros before the first 1 */
		unsigned x;

		if (r->p >= r->end)
			return -1;
		x = (unsigned)(uint8_t)(*r->p << *bit);
		if (x) {
			unsigned lz = (unsigned)__builtin_clz(x) - 24;

			z += lz;
			*bit = (uint8_t)(*bit + lz);
			break;
		}
		z += 8u - *bit;
		*bit = 0;
		r->p++;
		if (z > 40)
			return -1;
	}
	if (z > 40 || tm_sc_bits(r, bit, z + 1, &q) ||
	    tm_sc_bits(r, bit, k, &low))
		return -1;
	*v = (q - 1) << k | low;	/* q: the quotient + 1 */
	return 0;
}

/* Sets sc->ctx[] (allocated here) to where each of the n_contexts
 * contexts of section (p, len) starts, and sc->ctx_end: v1 in the
 * section, v2 unfolded (each is the bytes it shares with the one before,
 * then its own) into sc->ctx_mem. 0, or -1 with the context's index in
 * *at (UINT32_MAX: out of memory). Each record is then still to check. */
int tm_sc_ctx_unfold(struct tm_sc *sc, const uint8_t *p, size_t len,
    uint32_t *at);

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
