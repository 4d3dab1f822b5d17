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
	const char *community_id;	/* "1:..." Community ID v1; NULL:
					 * computed from the packet */
};

enum tm_expr_result { TM_EXPR_FALSE = 0, TM_EXPR_TRUE = 1,
	TM_EXPR_UNKNOWN = 2 };

struct tm_expr_error {
	int column;		/* 1-based column (byte) of the offending token;
				 * one past the end for "end of input" */
	char msg[256];		/* the whole message, column included:
				 * "column 12: expected a port number after
				 * 'port', got 'abc'" */
};

/* Optional check of names at compile time: returns 0 if `name` is a known
 * application (nDPI protocol) name, -1 otherwise. */
typedef int (*tm_expr_app_check_fn)(const char *name, void *arg);

/* Flags of struct tm_expr_opts. */
#define TM_EXPR_ALLOW_TIME 0x1u	/* accept after/before/last (queries);
				 * without it they are a compile error, as
				 * class filters want */

struct tm_expr_opts {
	tm_expr_app_check_fn app_check;	/* NULL: any name accepted */
	void *app_check_arg;
	/* Optional check of `tunnel NAME` names beyond the built-in types
	 * (a plugin's own names): 0 known, -1 unknown. NULL: any accepted. */
	tm_expr_app_check_fn tunnel_check;
	void *tunnel_check_arg;
	unsigned flags;			/* TM_EXPR_* */
	int64_t now_ns;			/* "now" for `10m ago` and `last 1h`,
					 * ns since the epoch; 0: the clock at
					 * compile time */
	uint16_t community_id_seed;	/* seed when the ID is computed */
};

/* Compiles text; NULL on error with err filled (err may be NULL). The empty
 * string (or only whitespace) compiles to "match everything". opts may be
 * NULL (all defaults: class-filter mode, no name checks). */
struct tm_expr *tm_expr_compile(const char *text,
    const struct tm_expr_opts *opts, struct tm_expr_error *err);
void tm_expr_free(struct tm_expr *e);

/* Evaluates on a decoded packet and, if given, its connection's attributes
 * (conn may be NULL: every connection-level predicate is then UNKNOWN,
 * except community_id, which is then computed from the packet).
 * Three-valued: and/or/not follow Kleene logic. Allocation-free. Time
 * predicates are UNKNOWN here (no timestamp): see tm_expr_eval_at(). */
enum tm_expr_result tm_expr_eval(const struct tm_expr *e,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn);

/* The same with the packet's timestamp (ns since the epoch), which the time
 * predicates test: `after T` is ts >= T, `before T` is ts < T.
 * ts_ns == TM_EXPR_NO_TIME makes them UNKNOWN. */
#define TM_EXPR_NO_TIME INT64_MIN
enum tm_expr_result tm_expr_eval_at(const struct tm_expr *e,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn,
    int64_t ts_ns);

/* Does the expression use connection-level predicates (app, class,
 * community_id)? */
int tm_expr_uses_app(const struct tm_expr *e);
int tm_expr_uses_class(const struct tm_expr *e);
int tm_expr_uses_community_id(const struct tm_expr *e);
int tm_expr_uses_time(const struct tm_expr *e);

/* The time range [*from, *until) outside of which the expression cannot be
 * true, from its time predicates (a query planner prunes segments with it).
 * INT64_MIN / INT64_MAX when unbounded; *from >= *until: never true. */
void tm_expr_time_range(const struct tm_expr *e, int64_t *from,
    int64_t *until);

/* Writes a canonical, fully parenthesized form (for --explain and tests),
 * like snprintf: returns the length of the whole form, writes at most
 * len - 1 characters and a NUL. Relative times appear resolved. */
size_t tm_expr_format(const struct tm_expr *e, char *buf, size_t len);

#endif
