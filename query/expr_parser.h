/* The parser's state and helpers, shared by the grammar (expr_parse.c)
 * and the predicates' value parsers (expr_pred.c). Internal. */
#ifndef TM_EXPR_PARSER_H
#define TM_EXPR_PARSER_H

#include <stdio.h>
#include <string.h>

#include "expr_int.h"

/* What `host a or b` repeats: the last value-taking predicate. */
enum handler {
	H_NONE = 0, H_HOST, H_NET, H_PORT, H_PORTRANGE, H_PROTO, H_SPI,
	H_VLAN, H_TUNNEL, H_TID, H_APP, H_CLASS, H_CID
};

struct parser {
	struct tok *toks;
	size_t n, pos;
	struct tm_expr *e;
	const struct tm_expr_opts *opts;
	struct tm_expr_error *err;
	int depth;
	int64_t now;
	struct {
		uint8_t h;	/* enum handler */
		uint8_t scope, dir;
		uint8_t tid;	/* H_TID: index in tm_expr_tids */
	} last;
};

/* ---- tokens ------------------------------------------------------------- */

static inline const struct tok *cur(const struct parser *p)
{
	return &p->toks[p->pos];
}

static inline const struct tok *peek(const struct parser *p, size_t k)
{
	size_t i = p->pos + k;

	return &p->toks[i < p->n ? i : p->n - 1];
}

static inline void advance(struct parser *p)
{
	if (p->toks[p->pos].kind != T_END)
		p->pos++;
}

static inline int word_is(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && tm_expr_ieq(t->s, t->len, w, strlen(w));
}

static inline int is_and(const struct tok *t)
{
	return t->kind == T_AND || word_is(t, "and");
}

static inline int is_or(const struct tok *t)
{
	return t->kind == T_OR || word_is(t, "or");
}

static inline int is_not(const struct tok *t)
{
	return t->kind == T_NOT || word_is(t, "not");
}

static inline struct node *N(struct parser *p, uint32_t idx)
{
	return &p->e->nodes[idx];
}

/* "'abc'" or "end of input", for messages. */
const char *xp_desc(const struct tok *t, char *buf, size_t len);
#define DESC(t) xp_desc((t), dbuf, sizeof(dbuf))

/* Fills p->err ("column N: ...") and returns -1. */
int xp_fail(struct parser *p, const struct tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends a zeroed node of that kind: 0, or -1 (out of memory). */
int xp_new_node(struct parser *p, uint8_t kind, uint32_t *idx);
/* An and/or node over items (the item itself when count is 1). */
int xp_make_nary(struct parser *p, uint8_t kind, const uint32_t *items,
    uint32_t count, uint32_t *out);
/* The token's text as a heap string ("string" quotes and escapes
 * removed); NULL when out of memory. */
char *xp_tok_text(const struct tok *t, size_t *len);

/* ---- the predicates' values (expr_pred.c) ------------------------------- */
/* Each parses the value at the cursor into a new node *out, advancing past
 * it: 0, or -1 with the error filled. kw names the keyword in messages. */

int xp_net_value(struct parser *p, uint8_t scope, uint8_t dir, int is_host,
    const char *kw, uint32_t *out);
int xp_port_value(struct parser *p, uint8_t scope, uint8_t dir, int range,
    const char *kw, uint32_t *out);
int xp_proto_node(struct parser *p, uint8_t scope, uint8_t proto,
    uint32_t *out);
int xp_proto_value(struct parser *p, uint8_t scope, const char *kw,
    uint32_t *out);
/* spi N, vlan N: noun names the number ("VLAN id") */
int xp_num_value(struct parser *p, uint8_t kind, uint32_t max,
    const char *noun, const char *kw, uint32_t *out);
/* Is the token a built-in tunnel type name? (*type: its TM_TUN_*) */
int xp_is_tunnel_name(const struct tok *t, uint8_t *type);
int xp_tunnel_value(struct parser *p, uint32_t *out);
/* tm_expr_tids[i]'s number */
int xp_tid_value(struct parser *p, size_t i, uint32_t *out);
/* app NAME (kind N_APP) or class NAME (N_CLASS) */
int xp_string_value(struct parser *p, uint8_t kind, const char *kw,
    uint32_t *out);
int xp_cid_value(struct parser *p, uint32_t *out);
/* after/before TIME, last DURATION; kw is the keyword's token */
int xp_time_pred(struct parser *p, const struct tok *kw, uint32_t *out);

#endif
