/*
 * The query planner: which connections of a segment an expression can
 * match, answered from the segment's sidecar (storage/sidecar.h) before
 * any packet is read. See docs/query-language.md ("tm query").
 *
 * For every node of the compiled expression and every segment, two sets
 * of segment-local connection ids bound the truth:
 *
 *   lo  connections every packet of which matches the node,
 *   hi  connections some packet of which may match it,
 *
 * so lo is a subset of hi. Leaves get them from the postings (inner and
 * outer addresses, ports, protocol, VLAN ids, tunnel types and
 * identifiers, SPI, application), from the contexts, from the segment's
 * class, or, where no index answers (a direction such as `src host`, an
 * outer port, a Community ID), as lo = {} and hi = everything. and/or/not
 * combine them (not: lo = all - hi, hi = all - lo). Connections outside
 * the root's hi are never read; the rest are decided per connection with
 * its time range, then per packet with its timestamp, and only what is
 * still undecided is decoded and evaluated by tm_expr_eval_at().
 */
#ifndef TM_QPLAN_H
#define TM_QPLAN_H

#include <stdint.h>
#include <stdio.h>

#include "expr.h"
#include "sidecar.h"

struct tm_qplan;
struct tm_qseg;

/* What a query's expression needs, computed once. NULL: out of memory. */
struct tm_qplan *tm_qplan_new(const struct tm_expr *e);
void tm_qplan_free(struct tm_qplan *p);

/* Only time predicates (or none): a segment can be read by time alone,
 * without its connections. */
int tm_qplan_time_only(const struct tm_qplan *p);
/* The expression tests the application (app NAME). */
int tm_qplan_uses_app(const struct tm_qplan *p);
/* Planning reads connection records (src/dst address or port
 * predicates), not only postings and contexts. */
int tm_qplan_reads_records(const struct tm_qplan *p);
/* Planning reads the contexts' records (tm_sc_context). */
int tm_qplan_uses_contexts(const struct tm_qplan *p);
/* Describes how each predicate is answered (for --explain). */
void tm_qplan_describe(const struct tm_qplan *p, FILE *out);

/* The sets of one segment. NULL: out of memory. sc must outlive it.
 * Postings and contexts are read with bounds checks: a malformed one
 * marks the segment damaged (tm_qseg_damaged) instead of being used. */
struct tm_qseg *tm_qseg_new(const struct tm_qplan *p, const struct tm_sc *sc);
int tm_qseg_damaged(const struct tm_qseg *s);
void tm_qseg_free(struct tm_qseg *s);

/* Connections that may match (the root's hi), and of them those that
 * match with every packet (the root's lo), before time is considered. */
uint32_t tm_qseg_hi_count(const struct tm_qseg *s);
uint32_t tm_qseg_lo_count(const struct tm_qseg *s);
/* No connection can match. */
int tm_qseg_hi_empty(const struct tm_qseg *s);
/* Every connection may match: the root's hi is the whole segment. */
int tm_qseg_hi_all(const struct tm_qseg *s);
/* The candidates in ascending order: start with *id = 0 (or the last id
 * + 1); 1 with the next candidate >= *id in *id, 0 at the end. */
int tm_qseg_next(const struct tm_qseg *s, uint32_t *id);

/* Three-valued decision for connection id (UINT32_MAX: not known, as in
 * a scan) whose packets lie in [t0, t1] (t0 == t1: one packet's
 * timestamp); dir: the packet's direction (1: sent by endpoint b of the
 * key, as the sidecar's positions say), or -1 for a whole connection.
 * UNKNOWN: the packet must be decoded. */
enum tm_expr_result tm_qseg_eval(const struct tm_qseg *s, uint32_t id,
    int64_t t0, int64_t t1, int dir);

#endif
