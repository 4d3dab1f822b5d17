/*
 * The expression language: one grammar for class filters (issue 3) and
 * queries (issue 5). Compiled once into an evaluator; nothing is parsed per
 * packet. See docs/query-language.md.
 */
#ifndef TM_EXPR_H
#define TM_EXPR_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

struct tm_expr;

/* Connection-level attributes an expression may test. A NULL member is
 * "not known (yet)": a predicate on it evaluates to TM_EXPR_UNKNOWN. */
struct tm_expr_conn {
	const char *app;		/* nDPI name, e.g. "TLS" or "TLS.Google" */
	int app_final;			/* 1: nDPI has decided (app may be NULL:
					 * never known -> predicate is false) */
	const char *class_name;		/* the connection's class */
	const char *community_id;	/* "1:..." Community ID v1 */
};

enum tm_expr_result { TM_EXPR_FALSE = 0, TM_EXPR_TRUE = 1,
	TM_EXPR_UNKNOWN = 2 };

struct tm_expr_error {
	int column;		/* 1-based column of the offending token */
	char msg[256];		/* "expected an address after 'host'" ... */
};

/* Optional check of names at compile time: returns 0 if `name` is a known
 * application (nDPI protocol) name, -1 otherwise. */
typedef int (*tm_expr_app_check_fn)(const char *name, void *arg);

struct tm_expr_opts {
	tm_expr_app_check_fn app_check;	/* NULL: any name accepted */
	void *app_check_arg;
};

/* Compiles text; NULL on error with err filled. The empty string (or only
 * whitespace) compiles to "match everything". */
struct tm_expr *tm_expr_compile(const char *text,
    const struct tm_expr_opts *opts, struct tm_expr_error *err);
void tm_expr_free(struct tm_expr *e);

/* Evaluates on a decoded packet and, if given, its connection's attributes
 * (conn may be NULL: every connection-level predicate is then UNKNOWN).
 * Three-valued: and/or/not follow Kleene logic. Allocation-free. */
enum tm_expr_result tm_expr_eval(const struct tm_expr *e,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn);

/* Does the expression use connection-level predicates (app, class,
 * community_id)? */
int tm_expr_uses_app(const struct tm_expr *e);
int tm_expr_uses_class(const struct tm_expr *e);

/* Writes a canonical, fully parenthesized form (for --explain and tests). */
size_t tm_expr_format(const struct tm_expr *e, char *buf, size_t len);

#endif
