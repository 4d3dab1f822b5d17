/*
 * A read-only view of a compiled expression's tree, for the query planner
 * (query/plan.c): which predicates an index can answer, and the
 * evaluation of one subtree. The tree is the one tm_expr_compile() built;
 * nothing here changes it. Node ids are stable for the expression's life.
 */
#ifndef TM_EXPR_WALK_H
#define TM_EXPR_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "expr.h"

enum tm_xkind {
	TM_X_TRUE = 0,		/* the empty expression */
	TM_X_AND,		/* n_kids children */
	TM_X_OR,
	TM_X_NOT,		/* one child */
	TM_X_NET,		/* host ADDR, net CIDR */
	TM_X_PORT,		/* port N, portrange A-B */
	TM_X_PROTO,		/* proto N */
	TM_X_L3,		/* ip, ip6, arp */
	TM_X_SPI,
	TM_X_VLAN,		/* vlan N at any depth */
	TM_X_VLAN_ANY,		/* vlan */
	TM_X_TUNNEL,		/* tunnel TYPE (or a plugin's name) */
	TM_X_TUNNEL_ANY,	/* tunnel any */
	TM_X_TID,		/* gre key, l2tp tunnel/session, vni, ... */
	TM_X_APP,
	TM_X_CLASS,
	TM_X_CID,		/* community_id */
	TM_X_AFTER,		/* ts >= ts */
	TM_X_BEFORE		/* ts < ts */
};

enum tm_xscope { TM_XS_INNER = 0, TM_XS_OUTER, TM_XS_ANY };
enum tm_xdir { TM_XD_EITHER = 0, TM_XD_SRC, TM_XD_DST, TM_XD_BOTH };

struct tm_xnode {
	enum tm_xkind kind;
	enum tm_xscope scope;	/* NET, PORT, PROTO, L3 */
	enum tm_xdir dir;	/* NET, PORT */
	uint32_t n_kids;	/* AND, OR: children; NOT: 1 */
	/* NET: family 4 or 6, the prefix and its mask (addr is masked) */
	uint8_t family, plen;
	uint8_t addr[16], mask[16];
	uint16_t port_lo, port_hi;	/* PORT: [lo, hi] */
	uint8_t proto;			/* PROTO */
	uint8_t l3;			/* L3: enum tm_l3 */
	uint32_t num;			/* SPI, VLAN */
	/* TUNNEL: a built-in type, or (tun_plugin) a name only */
	uint8_t tun_type;
	int tun_plugin;
	const char *tun_name;		/* as written, lower case */
	/* TID: which identifier (TM_TID_*), of which tunnel type
	 * (TM_TUN_NONE: any), and the value */
	uint8_t tid_flag, tid_type;
	uint32_t tid_val;
	const char *str;		/* APP, CLASS: the name; CID: the ID */
	size_t str_len;
	int64_t ts;			/* AFTER, BEFORE: ns since the epoch */
};

/* The root node's id. */
uint32_t tm_expr_root(const struct tm_expr *e);
/* Number of nodes (ids are 0 .. n-1). */
uint32_t tm_expr_n_nodes(const struct tm_expr *e);
/* Describes node id (strings point into the expression). */
void tm_expr_node(const struct tm_expr *e, uint32_t id, struct tm_xnode *out);
/* Child k of an AND/OR node (0 <= k < n_kids), or a NOT's only child. */
uint32_t tm_expr_kid(const struct tm_expr *e, uint32_t id, uint32_t k);

/* Evaluates the subtree at node id, exactly as tm_expr_eval_at() would
 * evaluate it as a whole expression. */
enum tm_expr_result tm_expr_eval_node(const struct tm_expr *e, uint32_t id,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn,
    int64_t ts_ns);

/* The canonical form of the subtree at node id (tm_expr_format()). */
size_t tm_expr_format_node(const struct tm_expr *e, uint32_t id, char *buf,
    size_t len);

/* Does name match an nDPI application name as `app NAME` tests it (the
 * whole name or one dot-separated part, case-insensitively)? */
int tm_expr_app_matches(const char *app, const char *name, size_t nlen);

#endif
