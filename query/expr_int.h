/* Internals of the expression language, shared by its lexer, parser,
 * evaluator and printer. Nothing outside query/expr*.c includes this. */
#ifndef TM_EXPR_INT_H
#define TM_EXPR_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"

/* ---- tokens ------------------------------------------------------------- */

enum tok_kind {
	T_END = 0,
	T_WORD,		/* host, 10.0.0.0/8, 443, 1:abc=, TLS ... */
	T_STRING,	/* "..." (s/len span the quotes) */
	T_LPAREN,
	T_RPAREN,
	T_NOT,		/* ! */
	T_AND,		/* && */
	T_OR		/* || */
};

struct tok {
	uint8_t kind;
	const char *s;
	size_t len;
	int col;	/* 1-based */
};

/* Fills err with "column COL: " and the message; returns -1. */
int tm_expr_errf(struct tm_expr_error *err, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Splits text into tokens ending with T_END. 0, or -1 with err filled. */
int tm_expr_lex(const char *text, struct tok **toks, size_t *n,
    struct tm_expr_error *err);

/* ---- the compiled tree -------------------------------------------------- */

enum node_kind {
	N_TRUE = 0,	/* the empty expression */
	N_AND,		/* kids[first .. first + count) */
	N_OR,
	N_NOT,		/* kid */
	N_NET,		/* host ADDR, net CIDR */
	N_PORT,		/* port N, portrange A-B */
	N_PROTO,	/* proto N */
	N_L3,		/* ip, ip6, arp */
	N_SPI,
	N_VLAN,		/* vlan N at any depth */
	N_VLAN_ANY,	/* vlan (any tag) */
	N_TUNNEL,	/* tunnel TYPE */
	N_TUNNEL_ANY,	/* tunnel any */
	N_TID,		/* gre key, l2tp session/tunnel, vni, teid, ... */
	N_APP,
	N_CLASS,
	N_CID,		/* community_id */
	N_AFTER,	/* ts >= t */
	N_BEFORE	/* ts < t */
};

enum scope { S_INNER = 0, S_OUTER, S_ANY };
enum dir { D_EITHER = 0, D_SRC, D_DST, D_BOTH };

struct node {
	uint8_t kind;		/* enum node_kind */
	uint8_t scope;		/* enum scope */
	uint8_t dir;		/* enum dir */
	uint8_t is_host;	/* N_NET: written as host (prints so) */
	uint32_t first;		/* N_AND/N_OR: index in kids[]; N_NOT: node */
	uint32_t count;		/* N_AND/N_OR: number of kids */
	union {
		struct {
			uint8_t family, plen;
			uint8_t addr[16], mask[16];
		} net;
		struct {
			uint16_t lo, hi;
			uint8_t range;	/* written as portrange */
		} port;
		uint8_t proto;
		uint8_t l3;		/* enum tm_l3: IPV4, IPV6 or ARP */
		uint32_t num;		/* spi, vlan */
		struct {
			uint8_t type;	/* enum tm_tunnel_type, or
					 * TUN_PLUGIN: match by name only */
			char *name;	/* the name as written (lower case) */
		} tun;
		struct {
			uint8_t flag;	/* TM_TID_* */
			uint8_t type;	/* TM_TUN_NONE: any type */
			uint8_t what;	/* index in tm_expr_tids[] */
			uint32_t val;
		} tid;
		struct {
			char *s;
			size_t len;
		} str;			/* app, class */
		struct {
			char *s;
			uint8_t digest[20];
		} cid;
		int64_t ts;
	} u;
};

#define TUN_PLUGIN	0xffu

#define USE_APP		0x1u
#define USE_CLASS	0x2u
#define USE_CID		0x4u
#define USE_TIME	0x8u

struct tm_expr {
	struct node *nodes;
	uint32_t n_nodes, cap_nodes;
	uint32_t *kids;
	uint32_t n_kids, cap_kids;
	uint32_t root;
	unsigned uses;		/* USE_* */
	uint16_t seed;		/* Community ID seed */
};

/* ---- tables shared by the parser and the printer ------------------------ */

/* Tunnel identifiers written as `KEYWORD [SUBWORD] N`. */
struct tm_expr_tid {
	const char *word;	/* "gre" */
	const char *sub;	/* "key"; NULL: none ("vni N") */
	uint8_t flag;		/* TM_TID_* */
	uint8_t type;		/* TM_TUN_* the entry must have; NONE: any */
	uint32_t max;
	const char *noun;	/* "GRE key", for messages */
};
extern const struct tm_expr_tid tm_expr_tids[];
extern const size_t tm_expr_n_tids;

/* Built-in tunnel type names as `tm decode` prints them, by type. */
extern const char *const tm_expr_tunnel_names[];
extern const size_t tm_expr_n_tunnel_names;

/* IP protocol name -> number: -1 when unknown. */
int tm_expr_proto_number(const char *s, size_t len);
/* Number -> the canonical name, or NULL. */
const char *tm_expr_proto_name(uint8_t proto);

/* Is this word a keyword of the language (case-insensitive)? */
int tm_expr_is_keyword(const char *s, size_t len);

/* ASCII case-insensitive equality of two spans. */
int tm_expr_ieq(const char *a, size_t alen, const char *b, size_t blen);

/* ---- values ------------------------------------------------------------- */

/* Unsigned decimal or 0x hex, at most max. 0, or -1 (not a number or too
 * big: *too_big set). */
int tm_expr_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *v,
    int *too_big);

/* "A.B.C.D", "v6::addr", optionally "/len". Returns 0, or a negative code:
 * EA_SYNTAX (not an address), EA_PLEN (bad prefix length), EA_HOSTBITS
 * (bits set beyond the prefix; net is still filled, masked). */
enum { EA_SYNTAX = -1, EA_PLEN = -2, EA_HOSTBITS = -3 };
int tm_expr_parse_cidr(const char *s, size_t len, uint8_t *family,
    uint8_t addr[16], uint8_t *plen, int *has_plen);
void tm_expr_make_mask(uint8_t family, uint8_t plen, uint8_t mask[16]);

/* "2026-11-26T10:00:00Z" (fractions and +hh:mm offsets too; a bare date is
 * its midnight UTC) or Unix seconds "1764150000[.5]": ns since the epoch. */
int tm_expr_parse_abstime(const char *s, size_t len, int64_t *ns);
/* "10m", "1h30m", "2d": ns. Units s m h d w. */
int tm_expr_parse_duration(const char *s, size_t len, int64_t *ns);
/* Writes ns as RFC 3339 UTC into buf (>= 40 bytes). */
void tm_expr_format_time(int64_t ns, char *buf, size_t len);

#endif
