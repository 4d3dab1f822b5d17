/* The canonical form of a compiled expression, and its time range. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expr_int.h"

struct out {
	char *buf;
	size_t len;	/* capacity */
	size_t n;	/* length of the whole form so far */
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->n < o->len ? o->len - o->n : 0;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(room ? o->buf + o->n : NULL, room, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += (size_t)k;
}

/* A name as a bare word when the parser would read it back as that word,
 * else as a "string". A tunnel name may be a keyword (`tunnel gre`) but
 * not and/or/not/any. */
static void put_name(struct out *o, const char *s, int tunnel)
{
	size_t len = strlen(s);
	int bare = len > 0 && (tunnel ? !tm_expr_ieq(s, len, "and", 3) &&
	    !tm_expr_ieq(s, len, "or", 2) && !tm_expr_ieq(s, len, "not", 3) &&
	    !tm_expr_ieq(s, len, "any", 3) : !tm_expr_is_keyword(s, len));

	for (const char *c = s; *c && bare; c++) {
		unsigned char ch = (unsigned char)*c;

		if (ch <= ' ' || ch == 0x7f || strchr("()!&|\"", ch))
			bare = 0;
	}
	if (bare) {
		put(o, "%s", s);
		return;
	}
	put(o, "\"");
	for (const char *c = s; *c; c++)
		put(o, (*c == '"' || *c == '\\') ? "\\%c" : "%c", *c);
	put(o, "\"");
}

static void put_qualifiers(struct out *o, const struct node *n, int has_dir)
{
	static const char *const scopes[] = { "", "outer ", "any " };
	static const char *const dirs[] = { "", "src ", "dst ",
		"src and dst " };

	put(o, "%s", scopes[n->scope < 3 ? n->scope : 0]);
	if (has_dir)
		put(o, "%s", dirs[n->dir < 4 ? n->dir : 0]);
}

static void put_node(const struct tm_expr *e, uint32_t idx, struct out *o)
{
	const struct node *n = &e->nodes[idx];
	char abuf[INET6_ADDRSTRLEN], tbuf[48];
	const char *name;

	switch (n->kind) {
	case N_TRUE:
		break;
	case N_AND:
	case N_OR:
		put(o, "(");
		for (uint32_t i = 0; i < n->count; i++) {
			if (i)
				put(o, n->kind == N_AND ? " and " : " or ");
			put_node(e, e->kids[n->first + i], o);
		}
		put(o, ")");
		break;
	case N_NOT:
		put(o, "not ");
		put_node(e, n->first, o);
		break;
	case N_NET:
		put_qualifiers(o, n, 1);
		inet_ntop(n->u.net.family == 4 ? AF_INET : AF_INET6,
		    n->u.net.addr, abuf, sizeof(abuf));
		if (n->is_host)
			put(o, "host %s", abuf);
		else
			put(o, "net %s/%u", abuf, n->u.net.plen);
		break;
	case N_PORT:
		put_qualifiers(o, n, 1);
		if (n->u.port.range)
			put(o, "portrange %u-%u", n->u.port.lo, n->u.port.hi);
		else
			put(o, "port %u", n->u.port.lo);
		break;
	case N_PROTO:
		put_qualifiers(o, n, 0);
		name = tm_expr_proto_name(n->u.proto);
		if (name)
			put(o, "proto %s", name);
		else
			put(o, "proto %u", n->u.proto);
		break;
	case N_L3:
		put_qualifiers(o, n, 0);
		put(o, "%s", n->u.l3 == TM_L3_IPV4 ? "ip" :
		    n->u.l3 == TM_L3_IPV6 ? "ip6" : "arp");
		break;
	case N_SPI:
		put(o, "spi 0x%x", n->u.num);
		break;
	case N_VLAN:
		put(o, "vlan %u", n->u.num);
		break;
	case N_VLAN_ANY:
		put(o, "vlan");
		break;
	case N_TUNNEL:
		put(o, "tunnel ");
		put_name(o, n->u.tun.name, 1);
		break;
	case N_TUNNEL_ANY:
		put(o, "tunnel any");
		break;
	case N_TID: {
		const struct tm_expr_tid *d = &tm_expr_tids[n->u.tid.what];

		put(o, "%s%s%s %u", d->word, d->sub ? " " : "",
		    d->sub ? d->sub : "", n->u.tid.val);
		break;
	}
	case N_APP:
	case N_CLASS:
		put(o, n->kind == N_APP ? "app " : "class ");
		put_name(o, n->u.str.s, 0);
		break;
	case N_CID:
		put(o, "community_id %s", n->u.cid.s);
		break;
	case N_AFTER:
	case N_BEFORE:
		tm_expr_format_time(n->u.ts, tbuf, sizeof(tbuf));
		put(o, "%s %s", n->kind == N_AFTER ? "after" : "before", tbuf);
		break;
	default:
		break;
	}
}

size_t tm_expr_format(const struct tm_expr *e, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	put_node(e, e->root, &o);
	return o.n;
}

/* ---- time range --------------------------------------------------------- */

struct range {
	int64_t lo, hi;		/* [lo, hi); lo >= hi: empty */
};

static const struct range all = { INT64_MIN, INT64_MAX };
static const struct range none = { INT64_MAX, INT64_MIN };

static struct range range_of(const struct tm_expr *e, uint32_t idx)
{
	const struct node *n = &e->nodes[idx];
	struct range r, k;

	switch (n->kind) {
	case N_AFTER:
		r.lo = n->u.ts;
		r.hi = INT64_MAX;
		return r;
	case N_BEFORE:
		r.lo = INT64_MIN;
		r.hi = n->u.ts;
		return r;
	case N_NOT: {
		const struct node *kid = &e->nodes[n->first];

		if (kid->kind == N_AFTER) {
			r.lo = INT64_MIN;
			r.hi = kid->u.ts;
			return r;
		}
		if (kid->kind == N_BEFORE) {
			r.lo = kid->u.ts;
			r.hi = INT64_MAX;
			return r;
		}
		return all;
	}
	case N_AND:
		r = all;
		for (uint32_t i = 0; i < n->count; i++) {
			k = range_of(e, e->kids[n->first + i]);
			if (k.lo > r.lo)
				r.lo = k.lo;
			if (k.hi < r.hi)
				r.hi = k.hi;
		}
		return r.lo < r.hi ? r : none;
	case N_OR:
		r = none;
		for (uint32_t i = 0; i < n->count; i++) {
			k = range_of(e, e->kids[n->first + i]);
			if (k.lo >= k.hi)
				continue;
			if (k.lo < r.lo)
				r.lo = k.lo;
			if (k.hi > r.hi)
				r.hi = k.hi;
		}
		return r;
	default:
		return all;
	}
}

void tm_expr_time_range(const struct tm_expr *e, int64_t *from,
    int64_t *until)
{
	struct range r = range_of(e, e->root);

	*from = r.lo;
	*until = r.hi;
}
