/*
 * Dynamic cutoffs (`tm ctl set-cutoff EXPR SIZE|none [--for DURATION]`):
 * rules that override the cutoff of the connections they match, as the
 * original Time Machine let Bro raise or lower a connection's cutoff.
 *
 * A rule is an expression (the query language without time bounds), a
 * cutoff and an end (packet time; none: it lasts until cleared or the
 * service stops). Every change of the rule set (a rule added, cleared,
 * ended) bumps a generation; a connection whose generation differs
 * recomputes its cutoff at its next packet: its class's cutoff, unless
 * an active rule matches that packet, the newest such rule's. So a rule
 * applies to live connections from their next packet on and to new ones
 * from their first; when it ends, the connections it set go back to
 * their class's cutoff. A connection's packets are kept while its bytes
 * (all of them, kept or not) stay within its cutoff: raising the cutoff
 * of a connection past it stores its later packets again.
 *
 * Owned by the thread that reads packets (the tracker); other threads
 * hand their requests to it.
 */
#ifndef TM_RULES_H
#define TM_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "../query/expr.h"

#define TM_MAX_RULES 64

struct tm_rule {
	uint32_t id;
	struct tm_expr *e;
	char *text;		/* as given */
	uint64_t cutoff;	/* TM_CUTOFF_NONE: none */
	int64_t until;		/* packet time; INT64_MAX: no end */
};

struct tm_rules {
	struct tm_rule v[TM_MAX_RULES];	/* oldest first */
	unsigned n;
	uint32_t gen;			/* 0 only before the first change */
	uint32_t next_id;
	int64_t next_end;		/* earliest until; INT64_MAX: none */
};

void tm_rules_init(struct tm_rules *rs);
void tm_rules_free(struct tm_rules *rs);

/* Adds a rule (takes e and text, freed with the rule) ending for_ns
 * after now (for_ns 0: no end). Its id, or 0 when the set is full
 * (then e and text are freed too). */
uint32_t tm_rules_add(struct tm_rules *rs, struct tm_expr *e, char *text,
    uint64_t cutoff, int64_t now, int64_t for_ns);

/* Removes every rule; the number removed. */
unsigned tm_rules_clear(struct tm_rules *rs);

/* Ends the rules whose time has come (packet time now). */
void tm_rules_expire_slow(struct tm_rules *rs, int64_t now);

static inline void tm_rules_expire(struct tm_rules *rs, int64_t now)
{
	if (now >= rs->next_end)
		tm_rules_expire_slow(rs, now);
}

/* Forces every connection to recompute its cutoff (classes reloaded). */
void tm_rules_touch(struct tm_rules *rs);

/* The cutoff for a connection at this packet: the newest active rule
 * that matches, else dflt. */
uint64_t tm_rules_cutoff(const struct tm_rules *rs,
    const struct tm_packet *pkt, const struct tm_expr_conn *ec, int64_t ts,
    uint64_t dflt);

#endif
