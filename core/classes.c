/* Classes: evaluation order, selection with three-valued filters. */
#include "classes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int tm_class_by_name(const struct tm_classes *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const struct tm_classes *sort_cs;

static int by_precedence(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	int64_t px = sort_cs->v[x].precedence, py = sort_cs->v[y].precedence;

	if (px != py)
		return px > py ? -1 : 1;
	return x < y ? -1 : x > y ? 1 : 0;	/* file order */
}

int tm_classes_finalize(struct tm_classes *cs)
{
	int d = tm_class_by_name(cs, TM_DEFAULT_CLASS);

	if (d < 0) {
		struct tm_class *nv;

		if (cs->n >= TM_MAX_CLASSES)
			return -1;
		nv = realloc(cs->v, (cs->n + 1) * sizeof(*nv));
		if (!nv)
			return -1;
		cs->v = nv;
		memset(&cs->v[cs->n], 0, sizeof(cs->v[0]));
		cs->v[cs->n].name = strdup(TM_DEFAULT_CLASS);
		if (!cs->v[cs->n].name)
			return -1;
		cs->v[cs->n].cutoff = TM_DEFAULT_CUTOFF;
		d = (int)cs->n++;
	}
	if (cs->n > TM_MAX_CLASSES)
		return -1;
	cs->dflt = (uint16_t)d;
	free(cs->order);
	cs->order = malloc(cs->n * sizeof(*cs->order));
	if (!cs->order)
		return -1;
	cs->n_order = 0;
	cs->any_app = cs->any_cid = 0;
	for (size_t i = 0; i < cs->n; i++) {
		struct tm_class *c = &cs->v[i];

		c->uses_app = c->expr ? tm_expr_uses_app(c->expr) : 0;
		cs->any_app |= c->uses_app;
		if (c->expr && tm_expr_uses_community_id(c->expr))
			cs->any_cid = 1;
		if ((int)i != d)
			cs->order[cs->n_order++] = (uint16_t)i;
	}
	sort_cs = cs;
	qsort(cs->order, cs->n_order, sizeof(*cs->order), by_precedence);
	return 0;
}

void tm_classes_free(struct tm_classes *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].name);
		free(cs->v[i].filter);
		tm_expr_free(cs->v[i].expr);
	}
	free(cs->v);
	free(cs->order);
	memset(cs, 0, sizeof(*cs));
}

uint16_t tm_classes_select(const struct tm_classes *cs,
    const struct tm_packet *pkt, const struct tm_expr_conn *ec, int *pending)
{
	int unknown = 0;

	for (size_t i = 0; i < cs->n_order; i++) {
		const struct tm_class *c = &cs->v[cs->order[i]];
		enum tm_expr_result r = c->expr ?
		    tm_expr_eval(c->expr, pkt, ec) : TM_EXPR_TRUE;

		if (r == TM_EXPR_TRUE) {
			*pending = unknown;
			return cs->order[i];
		}
		if (r == TM_EXPR_UNKNOWN)
			unknown = 1;
	}
	*pending = unknown;
	return cs->dflt;
}
