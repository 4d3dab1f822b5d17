/*
 * Asking several services at once (docs/deployment.md, "The front-end"):
 * one request to every target, concurrently; the answers' pcap streams
 * merged by timestamp into one classic pcap as they arrive (k-way,
 * streaming: a node is read only while the merge needs its next packet,
 * so memory stays at about one packet per node); a node that cannot be
 * reached, answers E, breaks the protocol or stays silent longer than the
 * timeout while a byte is wanted from it is given up and named, and the
 * rest is still delivered.
 *
 * Used by `tm query --cluster` / `--node` (core/cmd_cluster.c) and
 * `tm frontend` (core/cmd_frontend.c).
 */
#ifndef TM_CLUSTER_QUERY_H
#define TM_CLUSTER_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_proto.h"

/* A record's captured bytes at most (the largest pcap snap length). */
#define TM_CQ_MAX_CAPLEN 262144u

struct tm_cq_target {
	const char *name;
	const char *address;	/* as tm_ctl_connect takes it */
	const char *token;	/* NULL: no auth line */
};

/* One node's outcome. */
struct tm_cq_node {
	int ok;			/* 1: a K answer, in json */
	int answered_err;	/* 0 with !ok: the node answered E (why) */
	char *json;		/* the K payload, a checked JSON object */
	char why[600];		/* !ok: connection error, E message, timeout,
				 * protocol error */
	uint64_t packets;	/* query pcap: records merged from it */
	uint64_t bytes;		/* their wire lengths */
	uint64_t notes;		/* N frames */
	double ms;		/* from the start to its final frame */
};

struct tm_cq_summary {
	uint64_t packets, bytes, captured;	/* query pcap: merged */
	int header_written;
	uint32_t linktype;
	size_t failed;				/* nodes with !ok */
};

struct tm_cq_opts {
	const struct tm_cq_target *t;
	size_t n;
	const struct tm_ctl_req *req;	/* any request; query pcap merges */
	FILE *pcap;			/* query pcap: the merged stream */
	int timeout_ms;			/* > 0: for connecting and sending,
					 * and silence while a byte is wanted */
	/* a node's N frame (text made printable); NULL: dropped */
	void (*note)(void *arg, size_t node, const char *text);
	void *note_arg;
};

/*
 * Runs o->req on every target; out[] (o->n entries) gets each node's
 * outcome (free with tm_cq_nodes_free). 0: done (some nodes may have
 * failed: sum->failed); -1 with err: the answer as a whole failed (the
 * nodes' link types differ, writing the pcap failed, out of memory).
 * With no target, query pcap writes an empty pcap (link type 1).
 */
int tm_cq_run(const struct tm_cq_opts *o, struct tm_cq_node *out,
    struct tm_cq_summary *sum, char *err, size_t errlen);
/* The same over sockets already connected, the request sent (fds[i] per
 * target; -1: not connected). The sockets are closed. For tests and the
 * fuzz target (tests/fuzz/fuzz_cluster.c). */
int tm_cq_run_fds(const struct tm_cq_opts *o, const int *fds,
    struct tm_cq_node *out, struct tm_cq_summary *sum, char *err,
    size_t errlen);
void tm_cq_nodes_free(struct tm_cq_node *out, size_t n);

/* 1 if s[0..n) is one JSON object (RFC 8259 syntax, nesting at most 64
 * deep, nothing after it but white space). */
int tm_cq_json_object(const char *s, size_t n);

/* Appends s as a JSON string (quotes, escapes) to f. */
void tm_cq_json_string(FILE *f, const char *s);

#endif
