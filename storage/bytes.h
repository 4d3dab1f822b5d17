/*
 * Little-endian integers and LEB128 varints for the on-disk formats
 * (sidecars, flow files). Writers append to a growable buffer; readers go
 * through a bounds-checked cursor that fails instead of reading short.
 */
#ifndef TM_STORAGE_BYTES_H
#define TM_STORAGE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void tm_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void tm_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tm_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t tm_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t tm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t tm_le64(const uint8_t *p)
{
	return (uint64_t)tm_le32(p) | ((uint64_t)tm_le32(p + 4) << 32);
}

/* Bytes a varint of v takes (1 to 10). */
static inline size_t tm_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Writes v at p (room for 10 bytes); returns the bytes written. */
static inline size_t tm_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* ---- a growable output buffer ------------------------------------------ */

struct tm_sbuf {
	uint8_t *p;
	size_t n, cap;
	int failed;		/* an allocation failed: the content is lost */
};

/* Makes room for n more bytes; returns where they go, or NULL. */
uint8_t *tm_sbuf_grow(struct tm_sbuf *b, size_t n);
void tm_sbuf_free(struct tm_sbuf *b);

static inline void tm_sbuf_bytes(struct tm_sbuf *b, const void *v, size_t n)
{
	uint8_t *p;

	if (n == 0)
		return;
	p = tm_sbuf_grow(b, n);
	if (p) {
		memcpy(p, v, n);
		b->n += n;
	}
}

static inline void tm_sbuf_u8(struct tm_sbuf *b, uint8_t v)
{
	tm_sbuf_bytes(b, &v, 1);
}

static inline void tm_sbuf_le16(struct tm_sbuf *b, uint16_t v)
{
	uint8_t t[2];

	tm_put_le16(t, v);
	tm_sbuf_bytes(b, t, 2);
}

static inline void tm_sbuf_le32(struct tm_sbuf *b, uint32_t v)
{
	uint8_t t[4];

	tm_put_le32(t, v);
	tm_sbuf_bytes(b, t, 4);
}

static inline void tm_sbuf_le64(struct tm_sbuf *b, uint64_t v)
{
	uint8_t t[8];

	tm_put_le64(t, v);
	tm_sbuf_bytes(b, t, 8);
}

static inline void tm_sbuf_varint(struct tm_sbuf *b, uint64_t v)
{
	uint8_t *p = tm_sbuf_grow(b, 10);

	if (p)
		b->n += tm_put_varint(p, v);
}

/* ---- a bounds-checked reader -------------------------------------------- */

struct tm_rd {
	const uint8_t *p, *end;
};

static inline size_t tm_rd_left(const struct tm_rd *r)
{
	return (size_t)(r->end - r->p);
}

static inline int tm_rd_bytes(struct tm_rd *r, void *out, size_t n)
{
	if (tm_rd_left(r) < n)
		return -1;
	if (out)
		memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static inline int tm_rd_u8(struct tm_rd *r, uint8_t *v)
{
	if (r->p >= r->end)
		return -1;
	*v = *r->p++;
	return 0;
}

static inline int tm_rd_le16(struct tm_rd *r, uint16_t *v)
{
	if (tm_rd_left(r) < 2)
		return -1;
	*v = tm_le16(r->p);
	r->p += 2;
	return 0;
}

static inline int tm_rd_le32(struct tm_rd *r, uint32_t *v)
{
	if (tm_rd_left(r) < 4)
		return -1;
	*v = tm_le32(r->p);
	r->p += 4;
	return 0;
}

static inline int tm_rd_le64(struct tm_rd *r, uint64_t *v)
{
	if (tm_rd_left(r) < 8)
		return -1;
	*v = tm_le64(r->p);
	r->p += 8;
	return 0;
}

/* A varint of at most 10 bytes that fits 64 bits; -1 otherwise. */
static inline int tm_rd_varint(struct tm_rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (r->p >= r->end)
			return -1;
		b = *r->p++;
		if (shift == 63 && b > 1)
			return -1;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

#endif
