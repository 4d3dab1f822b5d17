/*
 * The expression parser: recursive descent over the token array, building
 * the node array of struct tm_expr. Precedence as in tcpdump: not binds
 * tighter than and, and tighter than or; and/or chains become one n-ary
 * node, so evaluation depth is bounded by the nesting of ( ) and not.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "community_id.h"
#include "expr_int.h"

#define MAX_DEPTH 200	/* nesting of ( ) and not */

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

static const struct tok *cur(const struct parser *p)
{
	return &p->toks[p->pos];
}

static const struct tok *peek(const struct parser *p, size_t k)
{
	size_t i = p->pos + k;

	return &p->toks[i < p->n ? i : p->n - 1];
}

static void advance(struct parser *p)
{
	if (p->toks[p->pos].kind != T_END)
		p->pos++;
}

static int word_is(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && tm_expr_ieq(t->s, t->len, w, strlen(w));
}

static int is_and(const struct tok *t)
{
	return t->kind == T_AND || word_is(t, "and");
}

static int is_or(const struct tok *t)
{
	return t->kind == T_OR || word_is(t, "or");
}

static int is_not(const struct tok *t)
{
	return t->kind == T_NOT || word_is(t, "not");
}

/* "'abc'" or "end of input", for messages. */
static const char *desc(const struct tok *t, char *buf, size_t len)
{
	if (t->kind == T_END)
		return "end of input";
	if (t->len > 40)
		snprintf(buf, len, "'%.37s...'", t->s);
	else
		snprintf(buf, len, "'%.*s'", (int)t->len, t->s);
	return buf;
}

#define DESC(t) desc((t), dbuf, sizeof(dbuf))

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tm_expr_errf(p->err, t->col, "%s", msg);
}

/* ---- building ----------------------------------------------------------- */

static int new_node(struct parser *p, uint8_t kind, uint32_t *idx)
{
	struct tm_expr *e = p->e;

	if (e->n_nodes == e->cap_nodes) {
		uint32_t ncap = e->cap_nodes ? e->cap_nodes * 2 : 16;
		struct node *nn = realloc(e->nodes, ncap * sizeof(*nn));

		if (!nn)
			return fail(p, cur(p), "out of memory");
		e->nodes = nn;
		e->cap_nodes = ncap;
	}
	memset(&e->nodes[e->n_nodes], 0, sizeof(struct node));
	e->nodes[e->n_nodes].kind = kind;
	*idx = e->n_nodes++;
	return 0;
}

static struct node *N(struct parser *p, uint32_t idx)
{
	return &p->e->nodes[idx];
}

static int make_nary(struct parser *p, uint8_t kind, const uint32_t *items,
    uint32_t count, uint32_t *out)
{
	struct tm_expr *e = p->e;
	uint32_t idx;

	if (count == 1) {
		*out = items[0];
		return 0;
	}
	if (e->n_kids + count > e->cap_kids) {
		uint32_t ncap = e->cap_kids ? e->cap_kids : 16;
		uint32_t *nk;

		while (ncap < e->n_kids + count)
			ncap *= 2;
		nk = realloc(e->kids, ncap * sizeof(*nk));
		if (!nk)
			return fail(p, cur(p), "out of memory");
		e->kids = nk;
		e->cap_kids = ncap;
	}
	if (new_node(p, kind, &idx))
		return -1;
	N(p, idx)->first = e->n_kids;
	N(p, idx)->count = count;
	memcpy(e->kids + e->n_kids, items, count * sizeof(*items));
	e->n_kids += count;
	*out = idx;
	return 0;
}

/* A span copied to a NUL-terminated heap string (quotes and escapes of a
 * "string" token removed). */
static char *tok_text(const struct tok *t, size_t *len)
{
	const char *s = t->s;
	size_t n = t->len, o = 0;
	char *r;

	if (t->kind == T_STRING) {
		s++;
		n -= 2;
	}
	r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (t->kind == T_STRING && s[i] == '\\' && i + 1 < n)
			i++;
		r[o++] = s[i];
	}
	r[o] = '\0';
	if (len)
		*len = o;
	return r;
}

/* ---- predicates --------------------------------------------------------- */

static int parse_or(struct parser *p, uint32_t *out);

static int net_value(struct parser *p, uint8_t scope, uint8_t dir,
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
		return fail(p, t, is_host ? "expected an IPv4 or IPv6 address "
		    "after '%s', got %s" : "expected an address or CIDR prefix "
		    "after '%s', got %s", kw, DESC(t));
	if (rc == EA_PLEN)
		return fail(p, t, "bad prefix length in %s (IPv4: 0-32, "
		    "IPv6: 0-128)", DESC(t));
	if (is_host && has_plen)
		return fail(p, t, "'host' takes an address, not the prefix %s: "
		    "use 'net'", DESC(t));
	if (rc == EA_HOSTBITS) {
		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, abuf,
		    sizeof(abuf));
		return fail(p, t, "%s has bits set beyond its /%u prefix (did "
		    "you mean %s/%u?)", DESC(t), plen, abuf, plen);
	}
	if (new_node(p, N_NET, &idx))
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

static int port_value(struct parser *p, uint8_t scope, uint8_t dir,
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
		return fail(p, t, "port %s is out of range (0-65535)", DESC(t));
	if (bad)
		return fail(p, t, range ? "expected a port range like "
		    "1024-65535 after '%s', got %s" : "expected a port number "
		    "after '%s', got %s", kw, DESC(t));
	if (!range)
		hi = lo;
	if (new_node(p, N_PORT, &idx))
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

static int proto_node(struct parser *p, uint8_t scope, uint8_t proto,
    uint32_t *out)
{
	if (new_node(p, N_PROTO, out))
		return -1;
	N(p, *out)->scope = scope;
	N(p, *out)->u.proto = proto;
	return 0;
}

static int proto_value(struct parser *p, uint8_t scope, const char *kw,
    uint32_t *out)
{
	const struct tok *t = cur(p);
	uint32_t v;
	int big = 0, num;
	char dbuf[64];

	if (t->kind != T_WORD)
		return fail(p, t, "expected a protocol name or number (0-255) "
		    "after '%s', got %s", kw, DESC(t));
	if (tm_expr_parse_uint(t->s, t->len, 255, &v, &big) == 0) {
		num = (int)v;
	} else if (big) {
		return fail(p, t, "protocol number %s is out of range (0-255)",
		    DESC(t));
	} else {
		num = tm_expr_proto_number(t->s, t->len);
		if (num < 0)
			return fail(p, t, "expected a protocol name or number "
			    "(0-255) after '%s', got %s", kw, DESC(t));
	}
	advance(p);
	return proto_node(p, scope, (uint8_t)num, out);
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
			return fail(p, t, "%s %s is out of range (0-%u)", noun,
			    DESC(t), max);
		/* "an SPI", "an L2TP ...", "a VNI": by the letter's sound */
		return fail(p, t, "expected %s %s (decimal or 0x hex) after "
		    "'%s', got %s", strchr("AEFHILMNORSX", noun[0]) ? "an" :
		    "a", noun, kw, DESC(t));
	}
	advance(p);
	return 0;
}

/* spi N, vlan N */
static int num_value(struct parser *p, uint8_t kind, uint32_t max,
    const char *noun, const char *kw, uint32_t *out)
{
	uint32_t v;

	if (num_parse(p, max, noun, kw, &v) || new_node(p, kind, out))
		return -1;
	N(p, *out)->u.num = v;
	return 0;
}

static int is_tunnel_name(const struct tok *t, uint8_t *type)
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

static int tunnel_value(struct parser *p, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint8_t type = TUN_PLUGIN;
	char dbuf[64];
	struct node *n;
	char *name;

	if (word_is(t, "any")) {
		advance(p);
		return new_node(p, N_TUNNEL_ANY, out);
	}
	if ((t->kind != T_WORD && t->kind != T_STRING) || is_and(t) ||
	    is_or(t) || is_not(t))
		return fail(p, t, "expected a tunnel type (gre, pptp, erspan, "
		    "l2tp, ipip, vxlan, geneve, gtp, teredo, mpls, pppoe, a "
		    "plugin's name, or any) after 'tunnel', got %s", DESC(t));
	name = tok_text(t, NULL);
	if (!name)
		return fail(p, t, "out of memory");
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!is_tunnel_name(t, &type) && p->opts->tunnel_check &&
	    p->opts->tunnel_check(name, p->opts->tunnel_check_arg) != 0) {
		free(name);
		return fail(p, t, "unknown tunnel type %s", DESC(t));
	}
	if (new_node(p, N_TUNNEL, out)) {
		free(name);
		return -1;
	}
	n = N(p, *out);
	n->u.tun.type = type;
	n->u.tun.name = name;
	advance(p);
	return 0;
}

static int tid_value(struct parser *p, size_t i, uint32_t *out)
{
	const struct tm_expr_tid *d = &tm_expr_tids[i];
	char what[32];
	uint32_t v;

	if (d->sub)
		snprintf(what, sizeof(what), "%s %s", d->word, d->sub);
	else
		snprintf(what, sizeof(what), "%s", d->word);
	if (num_parse(p, d->max, d->noun, what, &v) ||
	    new_node(p, N_TID, out))
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

static int string_value(struct parser *p, uint8_t kind, const char *kw,
    uint32_t *out)
{
	const struct tok *t = cur(p);
	char dbuf[64];
	size_t len;
	char *s;

	if ((t->kind != T_WORD && t->kind != T_STRING) || is_and(t) ||
	    is_or(t) || is_not(t) || (t->kind == T_STRING && t->len == 2))
		return fail(p, t, kind == N_APP ? "expected an application "
		    "name (TLS, DNS, ...) after '%s', got %s" : "expected a "
		    "class name after '%s', got %s", kw, DESC(t));
	s = tok_text(t, &len);
	if (!s)
		return fail(p, t, "out of memory");
	if (kind == N_APP && app_check(p, s) != 0) {
		free(s);
		return fail(p, t, "unknown application %s", DESC(t));
	}
	if (new_node(p, kind, out)) {
		free(s);
		return -1;
	}
	N(p, *out)->u.str.s = s;
	N(p, *out)->u.str.len = len;
	p->e->uses |= kind == N_APP ? USE_APP : USE_CLASS;
	advance(p);
	return 0;
}

static int cid_value(struct parser *p, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint8_t digest[20];
	char dbuf[64], *s;
	size_t len;

	if (t->kind != T_WORD && t->kind != T_STRING)
		return fail(p, t, "expected a Community ID (1: and 28 base64 "
		    "characters) after 'community_id', got %s", DESC(t));
	s = tok_text(t, &len);
	if (!s)
		return fail(p, t, "out of memory");
	if (tm_community_id_parse(s, len, digest) != 0) {
		free(s);
		return fail(p, t, "expected a Community ID (1: and 28 base64 "
		    "characters) after 'community_id', got %s", DESC(t));
	}
	if (new_node(p, N_CID, out)) {
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
static int time_pred(struct parser *p, const struct tok *kw, uint32_t *out)
{
	const struct tok *t;
	int64_t ts, d;
	char dbuf[64], kbuf[64];
	int is_last = word_is(kw, "last");

	if (!(p->opts->flags & TM_EXPR_ALLOW_TIME))
		return fail(p, kw, "%s is a time predicate: queries take it, "
		    "class filters do not", desc(kw, kbuf, sizeof(kbuf)));
	advance(p);
	t = cur(p);
	if (is_last) {
		if (t->kind != T_WORD ||
		    tm_expr_parse_duration(t->s, t->len, &d))
			return fail(p, t, "expected a duration like 1h or 30m "
			    "after 'last', got %s", DESC(t));
		ts = p->now - d;
		advance(p);
	} else if (word_is(t, "now")) {
		ts = p->now;
		advance(p);
	} else if (word_is(peek(p, 1), "ago")) {
		if (t->kind != T_WORD ||
		    tm_expr_parse_duration(t->s, t->len, &d))
			return fail(p, t, "expected a duration like 10m or "
			    "2h30m before 'ago', got %s", DESC(t));
		ts = p->now - d;
		advance(p);
		advance(p);
	} else if (t->kind != T_WORD ||
	    tm_expr_parse_abstime(t->s, t->len, &ts)) {
		if (t->kind == T_WORD &&
		    tm_expr_parse_duration(t->s, t->len, &d) == 0)
			return fail(p, peek(p, 1), "expected 'ago' after the "
			    "duration %s, got %s", DESC(t),
			    desc(peek(p, 1), kbuf, sizeof(kbuf)));
		return fail(p, t, "expected a time (RFC 3339 like "
		    "2026-11-26T10:00:00Z, Unix seconds, or 10m ago) after "
		    "%s, got %s", desc(kw, kbuf, sizeof(kbuf)), DESC(t));
	} else {
		advance(p);
	}
	if (new_node(p, word_is(kw, "before") ? N_BEFORE : N_AFTER, out))
		return -1;
	N(p, *out)->u.ts = ts;
	p->e->uses |= USE_TIME;
	return 0;
}

/* The value of the last predicate again: `host a or b`, `port 80 or 443`. */
static int repeat_value(struct parser *p, uint32_t *out)
{
	uint8_t scope = p->last.scope, dir = p->last.dir;

	switch (p->last.h) {
	case H_HOST: return net_value(p, scope, dir, 1, "host", out);
	case H_NET: return net_value(p, scope, dir, 0, "net", out);
	case H_PORT: return port_value(p, scope, dir, 0, "port", out);
	case H_PORTRANGE: return port_value(p, scope, dir, 1, "portrange", out);
	case H_PROTO: return proto_value(p, scope, "proto", out);
	case H_SPI: return num_value(p, N_SPI, 0xffffffffu, "SPI", "spi",
	    out);
	case H_VLAN: return num_value(p, N_VLAN, 4095, "VLAN id", "vlan",
	    out);
	case H_TUNNEL: return tunnel_value(p, out);
	case H_TID: return tid_value(p, p->last.tid, out);
	case H_APP: return string_value(p, N_APP, "app", out);
	case H_CLASS: return string_value(p, N_CLASS, "class", out);
	default: return cid_value(p, out);
	}
}

static void remember(struct parser *p, uint8_t h, uint8_t scope, uint8_t dir)
{
	p->last.h = h;
	p->last.scope = scope;
	p->last.dir = dir;
}

static int parse_after_scope(struct parser *p, uint8_t scope,
    const struct tok *scope_tok, uint32_t *out);

/* `tcp port 80`, `ip host 10.0.0.1`, `arp net ...`: the protocol and the
 * predicate that follows it, and-ed. */
static int proto_combo(struct parser *p, uint8_t scope,
    const struct tok *scope_tok, uint32_t *out)
{
	const struct tok *t = cur(p);
	uint32_t items[2];

	if (!(word_is(t, "host") || word_is(t, "net") || word_is(t, "port") ||
	    word_is(t, "portrange") || word_is(t, "src") || word_is(t, "dst")))
		return 0;
	items[0] = *out;
	if (parse_after_scope(p, scope, scope_tok, &items[1]))
		return -1;
	return make_nary(p, N_AND, items, 2, out);
}

static const char *const l3_words[] = { "ip", "ip6", "arp" };
static const uint8_t l3_values[] = { TM_L3_IPV4, TM_L3_IPV6, TM_L3_ARP };
static const char *const bare_protos[] = { "tcp", "udp", "sctp", "icmp",
	"icmp6", "esp", "ah" };

/* Everything after an optional scope qualifier. */
static int parse_after_scope(struct parser *p, uint8_t scope,
    const struct tok *scope_tok, uint32_t *out)
{
	const struct tok *t = cur(p), *dir_tok = NULL;
	uint8_t dir = D_EITHER;
	char dbuf[64], sbuf[64];

	/* src, dst, src or dst, src and dst */
	if (word_is(t, "src") || word_is(t, "dst")) {
		int src = word_is(t, "src");
		const struct tok *t1 = peek(p, 1), *t2 = peek(p, 2);

		dir_tok = t;
		dir = src ? D_SRC : D_DST;
		advance(p);
		if ((word_is(t1, "or") || word_is(t1, "and")) &&
		    word_is(t2, src ? "dst" : "src")) {
			dir = word_is(t1, "or") ? D_EITHER : D_BOTH;
			advance(p);
			advance(p);
		}
		t = cur(p);
	}
	if (word_is(t, "host") || word_is(t, "net")) {
		int host = word_is(t, "host");

		advance(p);
		if (net_value(p, scope, dir, host, host ? "host" : "net", out))
			return -1;
		remember(p, host ? H_HOST : H_NET, scope, dir);
		return 0;
	}
	if (word_is(t, "port") || word_is(t, "portrange")) {
		int range = word_is(t, "portrange");

		advance(p);
		if (port_value(p, scope, dir, range, range ? "portrange" :
		    "port", out))
			return -1;
		remember(p, range ? H_PORTRANGE : H_PORT, scope, dir);
		return 0;
	}
	/* a bare address after a qualifier: host (or net with a prefix) */
	if ((dir_tok || scope_tok) && t->kind == T_WORD &&
	    !tm_expr_is_keyword(t->s, t->len)) {
		int host = memchr(t->s, '/', t->len) == NULL;
		const struct tok *q = dir_tok ? dir_tok : scope_tok;

		snprintf(sbuf, sizeof(sbuf), "%.*s", (int)q->len, q->s);
		if (net_value(p, scope, dir, host, sbuf, out))
			return -1;
		remember(p, host ? H_HOST : H_NET, scope, dir);
		return 0;
	}
	if (dir_tok)
		return fail(p, t, "expected host, net, port or portrange after "
		    "%s, got %s", desc(dir_tok, sbuf, sizeof(sbuf)), DESC(t));
	if (word_is(t, "proto")) {
		advance(p);
		if (proto_value(p, scope, "proto", out))
			return -1;
		remember(p, H_PROTO, scope, dir);
		return 0;
	}
	for (size_t i = 0; i < TM_ARRAY_LEN(l3_words); i++) {
		if (!word_is(t, l3_words[i]))
			continue;
		advance(p);
		if (new_node(p, N_L3, out))
			return -1;
		N(p, *out)->scope = scope;
		N(p, *out)->u.l3 = l3_values[i];
		return proto_combo(p, scope, scope_tok, out);
	}
	for (size_t i = 0; i < TM_ARRAY_LEN(bare_protos); i++) {
		if (!word_is(t, bare_protos[i]))
			continue;
		advance(p);
		if (proto_node(p, scope, (uint8_t)tm_expr_proto_number(t->s,
		    t->len), out))
			return -1;
		return proto_combo(p, scope, scope_tok, out);
	}
	/* the rest take no scope */
	if (scope_tok && t->kind == T_WORD && tm_expr_is_keyword(t->s, t->len))
		return fail(p, scope_tok, "%s does not apply to %s: it "
		    "qualifies host, net, port, portrange, proto, ip, ip6 and "
		    "arp", desc(scope_tok, sbuf, sizeof(sbuf)), DESC(t));
	if (scope_tok)
		return fail(p, t, "expected a predicate after %s, got %s",
		    desc(scope_tok, sbuf, sizeof(sbuf)), DESC(t));
	if (word_is(t, "spi")) {
		advance(p);
		if (num_value(p, N_SPI, 0xffffffffu, "SPI", "spi", out))
			return -1;
		remember(p, H_SPI, scope, dir);
		return 0;
	}
	if (word_is(t, "vlan")) {
		const struct tok *v;

		advance(p);
		v = cur(p);
		if (v->kind != T_WORD || tm_expr_is_keyword(v->s, v->len))
			return new_node(p, N_VLAN_ANY, out);
		if (num_value(p, N_VLAN, 4095, "VLAN id", "vlan", out))
			return -1;
		remember(p, H_VLAN, scope, dir);
		return 0;
	}
	if (word_is(t, "tunnel")) {
		const struct tok *v;

		advance(p);
		v = cur(p);
		if (v->kind == T_END || v->kind == T_RPAREN || is_and(v) ||
		    is_or(v))
			return new_node(p, N_TUNNEL_ANY, out);
		if (tunnel_value(p, out))
			return -1;
		remember(p, H_TUNNEL, scope, dir);
		return 0;
	}
	for (size_t i = 0; i < tm_expr_n_tids; i++) {
		const struct tm_expr_tid *d = &tm_expr_tids[i];
		const struct tok *sub;

		if (!word_is(t, d->word))
			continue;
		advance(p);
		if (d->sub) {
			size_t j;

			sub = cur(p);
			/* l2tp has two subwords: find the one written */
			for (j = i; j < tm_expr_n_tids; j++)
				if (!strcmp(tm_expr_tids[j].word, d->word) &&
				    word_is(sub, tm_expr_tids[j].sub))
					break;
			if (j == tm_expr_n_tids) {
				if (!strcmp(d->word, "gre"))
					return fail(p, sub, "expected 'key' "
					    "after 'gre' (a GRE tunnel is "
					    "'tunnel gre', the IP protocol "
					    "'proto gre'), got %s", DESC(sub));
				if (!strcmp(d->word, "l2tp"))
					return fail(p, sub, "expected 'tunnel' "
					    "or 'session' after 'l2tp' (any "
					    "L2TP tunnel is 'tunnel l2tp'), "
					    "got %s", DESC(sub));
				return fail(p, sub, "expected '%s' after '%s' "
				    "(the tunnel itself is 'tunnel %s'), got "
				    "%s", d->sub, d->word, d->word, DESC(sub));
			}
			i = j;
			advance(p);
		}
		if (tid_value(p, i, out))
			return -1;
		remember(p, H_TID, scope, dir);
		p->last.tid = (uint8_t)i;
		return 0;
	}
	if (word_is(t, "app") || word_is(t, "class")) {
		int app = word_is(t, "app");

		advance(p);
		if (string_value(p, app ? N_APP : N_CLASS, app ? "app" :
		    "class", out))
			return -1;
		remember(p, app ? H_APP : H_CLASS, scope, dir);
		return 0;
	}
	if (word_is(t, "community_id")) {
		advance(p);
		if (cid_value(p, out))
			return -1;
		remember(p, H_CID, scope, dir);
		return 0;
	}
	if (word_is(t, "after") || word_is(t, "before") || word_is(t, "last"))
		return time_pred(p, t, out);
	return fail(p, t, "expected a predicate (host, net, port, portrange, "
	    "proto, ip, ip6, arp, spi, vlan, tunnel, app, class, ...), got %s",
	    DESC(t));
}

/* Would the word at the cursor repeat the last predicate's value? */
static int is_repeat(const struct parser *p)
{
	const struct tok *t = cur(p);
	uint8_t type;

	if (p->last.h == H_NONE || (t->kind != T_WORD && t->kind != T_STRING))
		return 0;
	if (t->kind == T_STRING || !tm_expr_is_keyword(t->s, t->len))
		return 1;
	/* `tunnel vxlan or gre`, unless it is `gre key N` */
	if (p->last.h == H_TUNNEL && is_tunnel_name(t, &type)) {
		const struct tok *next = peek(p, 1);

		for (size_t i = 0; i < tm_expr_n_tids; i++)
			if (tm_expr_tids[i].sub &&
			    word_is(t, tm_expr_tids[i].word) &&
			    word_is(next, tm_expr_tids[i].sub))
				return 0;
		return 1;
	}
	return 0;
}

static int parse_primary(struct parser *p, uint32_t *out)
{
	const struct tok *t = cur(p);
	char dbuf[64];

	if (t->kind == T_LPAREN) {
		const struct tok *open = t;

		if (++p->depth > MAX_DEPTH)
			return fail(p, t, "expression nested too deeply (more "
			    "than %d levels)", MAX_DEPTH);
		advance(p);
		if (parse_or(p, out))
			return -1;
		t = cur(p);
		if (t->kind != T_RPAREN)
			return fail(p, t, "expected ')' to close the '(' at "
			    "column %d, got %s", open->col, DESC(t));
		advance(p);
		p->depth--;
		return 0;
	}
	if (is_repeat(p))
		return repeat_value(p, out);
	if (word_is(t, "inner") || word_is(t, "outer") || word_is(t, "any")) {
		uint8_t scope = word_is(t, "inner") ? S_INNER :
		    word_is(t, "outer") ? S_OUTER : S_ANY;

		advance(p);
		return parse_after_scope(p, scope, t, out);
	}
	if (t->kind == T_WORD && tm_expr_is_keyword(t->s, t->len) &&
	    !is_and(t) && !is_or(t))
		return parse_after_scope(p, S_INNER, NULL, out);
	return fail(p, t, "expected a predicate (host, net, port, portrange, "
	    "proto, ip, ip6, arp, spi, vlan, tunnel, app, class, ...), got %s",
	    DESC(t));
}

static int parse_not(struct parser *p, uint32_t *out)
{
	uint32_t kid;

	if (!is_not(cur(p)))
		return parse_primary(p, out);
	if (++p->depth > MAX_DEPTH)
		return fail(p, cur(p), "expression nested too deeply (more "
		    "than %d levels)", MAX_DEPTH);
	advance(p);
	if (parse_not(p, &kid))
		return -1;
	p->depth--;
	if (new_node(p, N_NOT, out))
		return -1;
	N(p, *out)->first = kid;
	return 0;
}

/* One level of and (or of or): a list of operands. */
static int parse_chain(struct parser *p, int is_or_level, uint32_t *out)
{
	uint32_t *items = NULL, n = 0, cap = 0, idx;
	int rc;

	for (;;) {
		rc = is_or_level ? parse_chain(p, 0, &idx) : parse_not(p, &idx);
		if (rc)
			break;
		if (n == cap) {
			uint32_t *ni = realloc(items, (cap ? cap * 2 : 8) *
			    sizeof(*ni));

			if (!ni) {
				rc = fail(p, cur(p), "out of memory");
				break;
			}
			items = ni;
			cap = cap ? cap * 2 : 8;
		}
		items[n++] = idx;
		if (!(is_or_level ? is_or(cur(p)) : is_and(cur(p)))) {
			rc = make_nary(p, is_or_level ? N_OR : N_AND, items, n,
			    out);
			break;
		}
		advance(p);
	}
	free(items);
	return rc;
}

static int parse_or(struct parser *p, uint32_t *out)
{
	return parse_chain(p, 1, out);
}

/* ---- the API ------------------------------------------------------------ */

static int64_t clock_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct tm_expr *tm_expr_compile(const char *text,
    const struct tm_expr_opts *opts, struct tm_expr_error *err)
{
	static const struct tm_expr_opts defaults;
	struct parser p;
	struct tm_expr *e;
	char dbuf[64];
	int rc;

	if (err) {
		err->column = 0;
		err->msg[0] = '\0';
	}
	memset(&p, 0, sizeof(p));
	p.opts = opts ? opts : &defaults;
	p.err = err;
	p.now = p.opts->now_ns ? p.opts->now_ns : clock_now();
	e = calloc(1, sizeof(*e));
	if (!e) {
		tm_expr_errf(err, 1, "out of memory");
		return NULL;
	}
	e->seed = p.opts->community_id_seed;
	p.e = e;
	if (tm_expr_lex(text ? text : "", &p.toks, &p.n, err)) {
		free(e);
		return NULL;
	}
	if (p.toks[0].kind == T_END) {
		rc = new_node(&p, N_TRUE, &e->root);
	} else {
		rc = parse_or(&p, &e->root);
		if (rc == 0 && cur(&p)->kind != T_END)
			rc = fail(&p, cur(&p), cur(&p)->kind == T_RPAREN ?
			    "unbalanced ')': no '(' to close" : "expected "
			    "'and', 'or' or end of input, got %s",
			    DESC(cur(&p)));
	}
	free(p.toks);
	if (rc) {
		tm_expr_free(e);
		return NULL;
	}
	return e;
}

void tm_expr_free(struct tm_expr *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->n_nodes; i++) {
		struct node *n = &e->nodes[i];

		if (n->kind == N_TUNNEL)
			free(n->u.tun.name);
		else if (n->kind == N_APP || n->kind == N_CLASS)
			free(n->u.str.s);
		else if (n->kind == N_CID)
			free(n->u.cid.s);
	}
	free(e->nodes);
	free(e->kids);
	free(e);
}
