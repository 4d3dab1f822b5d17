/*
 * The values of the predicates: addresses and prefixes, ports, protocols,
 * identifiers, names, Community IDs and times, each into its node, with
 * the error messages that say what was expected.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community_id.h"
#include "expr_parser.h"

int xp_net_value(struct parser *p, uint8_t scope, uint8_t dir,
    int is_host, const char *kw, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint8_t family, addr[16], plen;
	int has_plen, rc;
	char dbuf[64], abuf[INET6_ADDRSTRLEN];
	uint32_t idx;
	struct node *n;

	rc = t->kind == T_WORD ? tm_expr_parse_cidr(t->s, t->len, &family,
	    addr, &plen, &has_plen) : EA_SYNTAX;
	if (rc == EA_SYNTAX)
		return xp_fail(p, t, is_host ? "expected an IPv4 or IPv6 "
		    "address after '%s', got %s" : "expected an address or "
		    "CIDR prefix after '%s', got %s", kw, DESC(t));
	if (rc == EA_PLEN)
		return xp_fail(p, t, "bad prefix length in %s (IPv4: 0-32, "
		    "IPv6: 0-128)", DESC(t));
	if (is_host && has_plen)
		return xp_fail(p, t, "'host' takes an address, not the prefix "
		    "%s: use 'net'", DESC(t));
	if (rc == EA_HOSTBITS) {
		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, abuf,
		    sizeof(abuf));
		return xp_fail(p, t, "%s has bits set beyond its /%u prefix "
		    "(did you mean %s/%u?)", DESC(t), plen, abuf, plen);
	}
	if (xp_new_node(p, N_NET, &idx))
		return -1;
	n = N(p, idx);
	n->scope = scope;
	n->dir = dir;
	n->is_host = (uint8_t)is_host;
	n->u.net.family = family;
	n->u.net.plen = plen;
	memcpy(n->u.net.addr, addr, 16);
	tm_expr_make_mask(family, plen, n->u.net.mask);
	advance(p);
	*out = idx;
	return 0;
}

int xp_port_value(struct parser *p, uint8_t scope, uint8_t dir,
    int range, const char *kw, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint32_t lo, hi, idx;
	int big = 0, bad;
	char dbuf[64];
	struct node *n;

	if (t->kind != T_WORD)
		bad = 1;
	else if (!range)
		bad = tm_expr_parse_uint(t->s, t->len, 65535, &lo, &big);
	else {
		const char *dash = memchr(t->s, '-', t->len);
		size_t l1 = dash ? (size_t)(dash - t->s) : 0;
		int big2 = 0;

		bad = !dash || tm_expr_parse_uint(t->s, l1, 65535, &lo, &big) ||
		    tm_expr_parse_uint(dash + 1, t->len - l1 - 1, 65535, &hi,
		    &big2);
		big |= big2;
	}
	if (bad && big)
		return xp_fail(p, t, "port %s is out of range (0-65535)",
		    DESC(t));
	if (bad)
		return xp_fail(p, t, range ? "expected a port range like "
		    "1024-65535 after '%s', got %s" : "expected a port number "
		    "after '%s', got %s", kw, DESC(t));
	if (!range)
		hi = lo;
	if (xp_new_node(p, N_PORT, &idx))
		return -1;
	n = N(p, idx);
	n->scope = scope;
	n->dir = dir;
	n->u.port.lo = (uint16_t)(lo < hi ? lo : hi);
	n->u.port.hi = (uint16_t)(lo < hi ? hi : lo);
	n->u.port.range = (uint8_t)range;
	advance(p);
	*out = idx;
	return 0;
}

int xp_proto_node(struct parser *p, uint8_t scope, uint8_t proto,
    uint32_t *out)
{
	if (xp_new_node(p, N_PROTO, out))
		return -1;
	N(p, *out)->scope = scope;
	N(p, *out)->u.proto = proto;
	return 0;
}

int xp_proto_value(struct parser *p, uint8_t scope, const char *kw,
    uint32_t *out)
{
	const struct tok *t = cur(p);
	uint32_t v;
	int big = 0, num;
	char dbuf[64];

	if (t->kind != T_WORD)
		return xp_fail(p, t, "expected a protocol name or number "
		    "(0-255) after '%s', got %s", kw, DESC(t));
	if (tm_expr_parse_uint(t->s, t->len, 255, &v, &big) == 0) {
		num = (int)v;
	} else if (big) {
		return xp_fail(p, t, "protocol number %s is out of range "
		    "(0-255)", DESC(t));
	} else {
		num = tm_expr_proto_number(t->s, t->len);
		if (num < 0)
			return xp_fail(p, t, "expected a protocol name or "
			    "number (0-255) after '%s', got %s", kw, DESC(t));
	}
	advance(p);
	return xp_proto_node(p, scope, (uint8_t)num, out);
}

/* A number at most max; noun names it in messages ("VLAN id"). */
static int num_parse(struct parser *p, uint32_t max, const char *noun,
    const char *kw, uint32_t *v)
{
	const struct tok *t = cur(p);
	int big = 0;
	char dbuf[64];

	if (t->kind != T_WORD ||
	    tm_expr_parse_uint(t->s, t->len, max, v, &big)) {
		if (big)
			return xp_fail(p, t, "%s %s is out of range (0-%u)",
			    noun, DESC(t), max);
		/* "an SPI", "an L2TP ...", "a VNI": by the letter's sound */
		return xp_fail(p, t, "expected %s %s (decimal or 0x hex) after "
		    "'%s', got %s", strchr("AEFHILMNORSX", noun[0]) ? "an" :
		    "a", noun, kw, DESC(t));
	}
	advance(p);
	return 0;
}

/* spi N, vlan N */
int xp_num_value(struct parser *p, uint8_t kind, uint32_t max,
    const char *noun, const char *kw, uint32_t *out)
{
	uint32_t v;

	if (num_parse(p, max, noun, kw, &v) || xp_new_node(p, kind, out))
		return -1;
	N(p, *out)->u.num = v;
	return 0;
}

int xp_is_tunnel_name(const struct tok *t, uint8_t *type)
{
	for (size_t i = 1; i < tm_expr_n_tunnel_names; i++) {
		const char *nm = tm_expr_tunnel_names[i];

		if (t->kind == T_WORD && tm_expr_ieq(t->s, t->len, nm,
		    strlen(nm))) {
			*type = (uint8_t)i;
			return 1;
		}
	}
	return 0;
}

int xp_tunnel_value(struct parser *p, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint8_t type = TUN_PLUGIN;
	char dbuf[64];
	struct node *n;
	char *name;

	if (word_is(t, "any")) {
		advance(p);
		return xp_new_node(p, N_TUNNEL_ANY, out);
	}
	if ((t->kind != T_WORD && t->kind != T_STRING) || is_and(t) ||
	    is_or(t) || is_not(t))
		return xp_fail(p, t, "expected a tunnel type (gre, pptp, "
		    "erspan, l2tp, ipip, vxlan, geneve, gtp, teredo, mpls, "
		    "pppoe, a plugin's name, or any) after 'tunnel', got %s",
		    DESC(t));
	name = xp_tok_text(t, NULL);
	if (!name)
		return xp_fail(p, t, "out of memory");
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!xp_is_tunnel_name(t, &type) && p->opts->tunnel_check &&
	    p->opts->tunnel_check(name, p->opts->tunnel_check_arg) != 0) {
		free(name);
		return xp_fail(p, t, "unknown tunnel type %s", DESC(t));
	}
	if (xp_new_node(p, N_TUNNEL, out)) {
		free(name);
		return -1;
	}
	n = N(p, *out);
	n->u.tun.type = type;
	n->u.tun.name = name;
	advance(p);
	return 0;
}

int xp_tid_value(struct parser *p, size_t i, uint32_t *out)
{
	const struct tm_expr_tid *d = &tm_expr_tids[i];
	char what[32];
	uint32_t v;

	if (d->sub)
		snprintf(what, sizeof(what), "%s %s", d->word, d->sub);
	else
		snprintf(what, sizeof(what), "%s", d->word);
	if (num_parse(p, d->max, d->noun, what, &v) ||
	    xp_new_node(p, N_TID, out))
		return -1;
	N(p, *out)->u.tid.val = v;
	N(p, *out)->u.tid.flag = d->flag;
	N(p, *out)->u.tid.type = d->type;
	N(p, *out)->u.tid.what = (uint8_t)i;
	return 0;
}

static int app_check(struct parser *p, const char *name)
{
	tm_expr_app_check_fn fn = p->opts->app_check;
	const char *s = name;

	if (!fn || fn(name, p->opts->app_check_arg) == 0)
		return 0;
	/* "tls.google": each part must be known */
	if (!strchr(name, '.'))
		return -1;
	while (*s) {
		char part[64];
		size_t l = strcspn(s, ".");

		if (l == 0 || l >= sizeof(part))
			return -1;
		memcpy(part, s, l);
		part[l] = '\0';
		if (fn(part, p->opts->app_check_arg) != 0)
			return -1;
		s += l;
		if (*s == '.')
			s++;
	}
	return 0;
}

int xp_string_value(struct parser *p, uint8_t kind, const char *kw,
    uint32_t *out)
{
	const struct tok *t = cur(p);
	char dbuf[64];
	size_t len;
	char *s;

	if ((t->kind != T_WORD && t->kind != T_STRING) || is_and(t) ||
	    is_or(t) || is_not(t) || (t->kind == T_STRING && t->len == 2))
		return xp_fail(p, t, kind == N_APP ? "expected an application "
		    "name (TLS, DNS, ...) after '%s', got %s" : "expected a "
		    "class name after '%s', got %s", kw, DESC(t));
	s = xp_tok_text(t, &len);
	if (!s)
		return xp_fail(p, t, "out of memory");
	if (kind == N_APP && app_check(p, s) != 0) {
		free(s);
		return xp_fail(p, t, "unknown application %s", DESC(t));
	}
	if (xp_new_node(p, kind, out)) {
		free(s);
		return -1;
	}
	N(p, *out)->u.str.s = s;
	N(p, *out)->u.str.len = len;
	p->e->uses |= kind == N_APP ? USE_APP : USE_CLASS;
	advance(p);
	return 0;
}

int xp_cid_value(struct parser *p, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint8_t digest[20];
	char dbuf[64], *s;
	size_t len;

	if (t->kind != T_WORD && t->kind != T_STRING)
		return xp_fail(p, t, "expected a Community ID (1: and 28 "
		    "base64 characters) after 'community_id', got %s", DESC(t));
	s = xp_tok_text(t, &len);
	if (!s)
		return xp_fail(p, t, "out of memory");
	if (tm_community_id_parse(s, len, digest) != 0) {
		free(s);
		return xp_fail(p, t, "expected a Community ID (1: and 28 "
		    "base64 characters) after 'community_id', got %s", DESC(t));
	}
	if (xp_new_node(p, N_CID, out)) {
		free(s);
		return -1;
	}
	N(p, *out)->u.cid.s = s;
	memcpy(N(p, *out)->u.cid.digest, digest, 20);
	p->e->uses |= USE_CID;
	advance(p);
	return 0;
}

/* after/before TIME, last DURATION. kw is the keyword token. */
int xp_time_pred(struct parser *p, const struct tok *kw, uint32_t *out)
{
	const struct tok *t;
	int64_t ts, d;
	char dbuf[64], kbuf[64];
	int is_last = word_is(kw, "last");

	if (!(p->opts->flags & TM_EXPR_ALLOW_TIME))
		return xp_fail(p, kw, "%s is a time predicate: queries take "
		    "it, class filters do not", xp_desc(kw, kbuf,
		    sizeof(kbuf)));
	advance(p);
	t = cur(p);
	if (is_last) {
		if (t->kind != T_WORD ||
		    tm_expr_parse_duration(t->s, t->len, &d))
			return xp_fail(p, t, "expected a duration like 1h or "
			    "30m after 'last', got %s", DESC(t));
		ts = p->now - d;
		advance(p);
	} else if (word_is(t, "now")) {
		ts = p->now;
		advance(p);
	} else if (word_is(peek(p, 1), "ago")) {
		if (t->kind != T_WORD ||
		    tm_expr_parse_duration(t->s, t->len, &d))
			return xp_fail(p, t, "expected a duration like 10m or "
			    "2h30m before 'ago', got %s", DESC(t));
		ts = p->now - d;
		advance(p);
		advance(p);
	} else if (t->kind != T_WORD ||
	    tm_expr_parse_abstime(t->s, t->len, &ts)) {
		if (t->kind == T_WORD &&
		    tm_expr_parse_duration(t->s, t->len, &d) == 0)
			return xp_fail(p, peek(p, 1), "expected 'ago' after "
			    "the duration %s, got %s", DESC(t),
			    xp_desc(peek(p, 1), kbuf, sizeof(kbuf)));
		return xp_fail(p, t, "expected a time (RFC 3339 like "
		    "2026-11-26T10:00:00Z, Unix seconds, or 10m ago) after "
		    "%s, got %s", xp_desc(kw, kbuf, sizeof(kbuf)), DESC(t));
	} else {
		advance(p);
	}
	if (xp_new_node(p, word_is(kw, "before") ? N_BEFORE : N_AFTER, out))
		return -1;
	N(p, *out)->u.ts = ts;
	p->e->uses |= USE_TIME;
	return 0;
}
