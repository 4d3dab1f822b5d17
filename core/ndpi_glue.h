/*
 * nDPI (Debian's 4.2) behind a small interface, so nothing else includes
 * its headers. Per-flow state lives only while a connection is being
 * classified, in a pool allocated once: when every slot is busy, a new
 * connection is simply not classified (the caller counts it).
 */
#ifndef TM_NDPI_GLUE_H
#define TM_NDPI_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct tm_ndpi;

struct tm_ndpi_verdict {
	uint16_t master;	/* e.g. TLS; 0: unknown */
	uint16_t app;		/* e.g. Google; 0: unknown */
};

/* The detection module with every protocol enabled, and a pool of
 * max_flows per-flow states. NULL with a message in err. */
struct tm_ndpi *tm_ndpi_new(unsigned max_flows, char *err, size_t errlen);
void tm_ndpi_free(struct tm_ndpi *n);

/* A fresh per-flow state for the caller's flow `owner`: slot number >= 0,
 * or -1 when the pool is busy. */
int tm_ndpi_begin(struct tm_ndpi *n, uint32_t owner);

/* The busy slot fed least recently (-1 if none), and its owner: the one to
 * give up on when a new flow needs a state and none is free. */
int tm_ndpi_oldest(const struct tm_ndpi *n, uint32_t *owner);

/* Gives nDPI one packet of the flow: ip points at the innermost network
 * header (IPv4 or IPv6), len bytes of it are captured. Returns 1 when nDPI
 * has decided (v filled), 0 when it wants more. The slot becomes the most
 * recently fed. */
int tm_ndpi_feed(struct tm_ndpi *n, int slot, const uint8_t *ip,
    uint32_t len, uint64_t time_ms, struct tm_ndpi_verdict *v);

/* nDPI gives up on the flow: its best answer so far, without guessing
 * from ports (v may be all zero). */
void tm_ndpi_giveup(struct tm_ndpi *n, int slot, struct tm_ndpi_verdict *v);

/* Frees the flow's state (and what nDPI allocated for it). */
void tm_ndpi_end(struct tm_ndpi *n, int slot);

/* "TLS.Google", "DNS", "HTTP"...; NULL for an all-unknown verdict. */
const char *tm_ndpi_name(const struct tm_ndpi *n, struct tm_ndpi_verdict v,
    char *buf, size_t len);

/* 0 if name names an nDPI protocol ("TLS", "Google", or "TLS.Google"),
 * -1 otherwise (case-insensitive). */
int tm_ndpi_known(const struct tm_ndpi *n, const char *name);

unsigned tm_ndpi_busy(const struct tm_ndpi *n);
unsigned tm_ndpi_capacity(const struct tm_ndpi *n);
size_t tm_ndpi_flow_size(void);

#endif
