/* Dynamic cutoffs (rules.h). */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

static void bump(struct tm_rules *rs)
{
	if (++rs->gen == 0)
		rs->gen = 1;
}

static void recompute_end(struct tm_rules *rs)
{
	rs->next_end = INT64_MAX;
	for (unsigned i = 0; i < rs->n; i++)
		if (rs->v[i].until < rs->next_end)
			rs->next_end = rs->v[i].until;
}

void tm_rules_init(struct tm_rules *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->next_end = INT64_MAX;
	rs->next_id = 1;
}

static void drop(struct tm_rule *r)
{
	tm_expr_free(r->e);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void tm_rules_free(struct tm_rules *rs)
{
	for (unsigned i = 0; i < rs->n; i++)
		drop(&rs->v[i]);
	rs->n = 0;
}

uint32_t tm_rules_add(struct tm_rules *rs, struct tm_expr *e, char *text,
    uint64_t cutoff, int64_t now, int64_t for_ns)
{
	struct tm_rule *r;

	if (rs->n >= TM_MAX_RULES) {
		tm_expr_free(e);
		free(text);
		return 0;
	}
	r = &rs->v[rs->n++];
	r->id = rs->next_id++;
	if (rs->next_id == 0)
		rs->next_id = 1;
	r->e = e;
	r->text = text;
	r->cutoff = cutoff;
	r->until = for_ns > 0 && now <= INT64_MAX - for_ns ? now + for_ns :
	    INT64_MAX;
	recompute_end(rs);
	bump(rs);
	return r->id;
}

unsigned tm_rules_clear(struct tm_rules *rs)
{
	unsigned n = rs->n;

	tm_rules_free(rs);
	recompute_end(rs);
	if (n)
		bump(rs);
	return n;
}

void tm_rules_expire_slow(struct tm_rules *rs, int64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < rs->n; i++) {
		if (rs->v[i].until <= now)
			drop(&rs->v[i]);
		else
			rs->v[j++] = rs->v[i];
	}
	if (j != rs->n) {
		for (unsigned i = j; i < rs->n; i++)
			memset(&rs->v[i], 0, sizeof(rs->v[i]));
		rs->n = j;
		bump(rs);
	}
	recompute_end(rs);
}

void tm_rules_touch(struct tm_rules *rs)
{
	bump(rs);
}

uint64_t tm_rules_cutoff(const struct tm_rules *rs,
    const struct tm_packet *pkt, const struct tm_expr_conn *ec, int64_t ts,
    uint64_t dflt)
{
	for (unsigned i = rs->n; i-- > 0;) {
		const struct tm_rule *r = &rs->v[i];

		if (ts < r->until &&
		    tm_expr_eval_at(r->e, pkt, ec, ts) == TM_EXPR_TRUE)
			return r->cutoff;
	}
	return dflt;
}
