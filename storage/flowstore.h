/*
 * The flow store: the flow records of `tm flows`, kept in the store
 * (STORE/flows/<start>-<seq>.flows) under their own budget, so they
 * outlive the packets. docs/storage.md describes the format: a 16-byte
 * file header, then records, each a length, an XXH32 of the payload and
 * the payload (a binary flow record: times, counters, key, context,
 * class, application, uid, Community ID). A torn last record (a crash)
 * is recognized by its length or checksum and ignored, then cut off on
 * the next start.
 *
 * `tm flows -s STORE [EXPR]` prints them exactly as `tm flows -r` does.
 */
#ifndef TM_FLOWSTORE_H
#define TM_FLOWSTORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tracker.h"

#define TM_FLOWS_MAGIC		"TMFLOWS\n"	/* 8 bytes */
#define TM_FLOWS_VERSION	1
#define TM_FLOWS_HDR		16
#define TM_FLOWS_REC_HDR	8	/* le32 length, le32 XXH32 */
#define TM_FLOWREC_MAX		4096	/* payload bytes, at most */

/* Encodes a flow record (payload only) into buf; returns its length, or
 * 0 if it does not fit. */
size_t tm_flowrec_encode(const struct tm_flow_rec *f, uint8_t *buf,
    size_t cap);

/* A decoded record: f points into the rest. */
struct tm_flowrec {
	struct tm_flow_rec f;
	struct tm_conn c;
	char class_name[80], prov_class[80], app[128];
};

/* 0, or -1 if the payload is malformed. */
int tm_flowrec_decode(const uint8_t *p, size_t len, struct tm_flowrec *r);
/* Its fixed part alone (the connection's key, counters, flags and ends):
 * c in full, and f's c, endpoints, ports, has_ports and why; f's other
 * fields are left as they were. 0, or -1 if malformed. */
int tm_flowrec_decode_fixed(const uint8_t *p, size_t len,
    struct tm_conn *c, struct tm_flow_rec *f);

/* Writes the file header into buf (TM_FLOWS_HDR bytes). */
void tm_flows_header(uint8_t *buf);

/* Calls fn for every record of every flow file of STORE, oldest file
 * first. Returns 0, or -1 with a message (not a store, unreadable file;
 * a malformed record in the middle of a file is an error, a torn last
 * record is not). */
int tm_flowstore_each(const char *root,
    int (*fn)(const struct tm_flowrec *r, void *arg), void *arg,
    char *err, size_t errlen);

/* `tm flows -s STORE [EXPR]`: prints the records EXPR (may be NULL or
 * empty: all) selects, as JSON lines (json) or text. Exit status: 0, 1
 * (I/O), 2 (bad expression). */
int tm_flowstore_print(const char *root, const char *expr, int json,
    int nano, FILE *out);

/* The hook of `tm flows -s STORE [EXPR...]`: the arguments are joined
 * with spaces into one expression. */
int tm_flows_from_store(const char *root, int argc, char **argv, int json,
    int nano);

/* Valid length of a flow file's content: the header and whole, intact
 * records (what a crash recovery keeps). */
uint64_t tm_flows_valid_length(const uint8_t *p, uint64_t len);

#endif
