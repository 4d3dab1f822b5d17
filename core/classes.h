/*
 * Classes of traffic and the cutoff decision.
 *
 * A class is a name, a filter (the expression language), a precedence, a
 * cutoff and budgets. On a connection's first packet the matching class
 * with the highest precedence wins (ties: the order of the configuration
 * file). A filter that tests `app` is UNKNOWN until nDPI has its verdict:
 * while a class of higher precedence is still UNKNOWN, the connection is
 * "pending" and uses, provisionally, the best class that already matches
 * (or the default class); the choice is made again on the verdict.
 * Traffic that no class matches goes to the default class, never dropped.
 */
#ifndef TM_CLASSES_H
#define TM_CLASSES_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

#include "../query/expr.h"

#define TM_CUTOFF_NONE	UINT64_MAX
#define TM_DEFAULT_CLASS "default"
#define TM_DEFAULT_CUTOFF ((uint64_t)20 * 1024)
#define TM_MAX_CLASSES	1024

struct tm_class {
	char *name;
	char *filter;		/* the filter's text; NULL: none */
	struct tm_expr *expr;	/* compiled; NULL: matches everything */
	int64_t precedence;	/* higher wins */
	uint64_t cutoff;	/* bytes per connection; TM_CUTOFF_NONE */
	uint32_t snaplen;	/* bytes kept of each stored packet; 0: all */
	uint64_t memory;	/* memory budget in bytes; 0: not set */
	uint64_t disk;		/* disk budget in bytes; 0: not set */
	int uses_app;		/* the filter tests `app` */
	/* where the class and its filter are written (line 0: built in) */
	int line, column;
	int filter_line, filter_column;
	int filter_exact;	/* filter columns map 1:1 onto the file */
};

struct tm_classes {
	struct tm_class *v;	/* in file order; the default class too */
	size_t n;
	uint16_t *order;	/* non-default classes, best first */
	size_t n_order;
	uint16_t dflt;		/* index of the default class */
	int any_app;		/* some filter tests `app` */
	int any_cid;		/* some filter tests `community_id` */
};

/* Adds the default class if missing (cutoff 20k) and computes the
 * evaluation order. Filters must be compiled already. 0, or -1 when out
 * of memory or beyond TM_MAX_CLASSES. */
int tm_classes_finalize(struct tm_classes *cs);
void tm_classes_free(struct tm_classes *cs);

/* The class for a connection, given its first packet pkt (oriented as the
 * originator sent it) and what is known of the connection (ec). Sets
 * *pending when a better class is still UNKNOWN (it waits for nDPI). */
uint16_t tm_classes_select(const struct tm_classes *cs,
    const struct tm_packet *pkt, const struct tm_expr_conn *ec, int *pending);

int tm_class_by_name(const struct tm_classes *cs, const char *name);

/* The original Time Machine's rule: a packet is stored while the
 * connection's byte count, this packet included, stays at or below the
 * cutoff; control packets (TCP SYN/FIN/RST) are stored regardless when
 * keep_control is set. */
static inline int tm_cutoff_stores(uint64_t total_incl, uint64_t cutoff,
    int control, int keep_control)
{
	return total_incl <= cutoff || (control && keep_control);
}

#endif
