/*
 * The expression parser: recursive descent over the token array, building
 * the node array of struct tm_expr. Precedence as in tcpdump: not binds
 * tighter than and, and tighter than or; and/or chains become one n-ary
 * node, so evaluation depth is bounded by the nesting of ( ) and not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr_parser.h"

#define MAX_DEPTH 200	/* nesting of ( ) and not */

#define EXPECTED_PREDICATE "expected a predicate (host, net, port, " \
	"portrange, proto, ip, ip6, arp, spi, vlan, tunnel, app, class, " \
	"...), got %s"

/* ---- helpers -------------------------------------------------------------- */

/* "'abc'" or "end of input", for messages. */
const char *xp_desc(const struct tok *t, char *buf, size_t len)
{
	if (t->kind == T_END)
		return "end of input";
	if (t->len > 40)
		snprintf(buf, len, "'%.37s...'", t->s);
	else
		snprintf(buf, len, "'%.*s'", (int)t->len, t->s);
	return buf;
}

int xp_fail(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tm_expr_errf(p->err, t->col, "%s", msg);
}

int xp_new_node(struct parser *p, uint8_t kind, uint32_t *idx)
{
	struct tm_expr *e = p->e;

	if (e->n_nodes == e->cap_nodes) {
		uint32_t ncap = e->cap_nodes ? e->cap_nodes * 2 : 16;
		struct node *nn = realloc(e->nodes, ncap * sizeof(*nn));

		if (!nn)
			return xp_fail(p, cur(p), "out of memory");
		e->nodes = nn;
		e->cap_nodes = ncap;
	}
	memset(&e->nodes[e->n_nodes], 0, sizeof(struct node));
	e->nodes[e->n_nodes].kind = kind;
	*idx = e->n_nodes++;
	return 0;
}

int xp_make_nary(struct parser *p, uint8_t kind, const uint32_t *items,
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
			return xp_fail(p, cur(p), "out of memory");
		e->kids = nk;
		e->cap_kids = ncap;
	}
	if (xp_new_node(p, kind, &idx))
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
char *xp_tok_text(const struct tok *t, size_t *len)
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

/* ---- the grammar ---------------------------------------------------------- */

static int parse_or(struct parser *p, uint32_t *out);

/* The value of the last predicate again: `host a or b`, `port 80 or 443`. */
static int repeat_value(struct parser *p, uint32_t *out)
{
	uint8_t scope = p->last.scope, dir = p->last.dir;

	switch (p->last.h) {
	case H_HOST: return xp_net_value(p, scope, dir, 1, "host", out);
	case H_NET: return xp_net_value(p, scope, dir, 0, "net", out);
	case H_PORT: return xp_port_value(p, scope, dir, 0, "port", out);
	case H_PORTRANGE:
		return xp_port_value(p, scope, dir, 1, "portrange", out);
	case H_PROTO: return xp_proto_value(p, scope, "proto", out);
	case H_SPI: return xp_num_value(p, N_SPI, 0xffffffffu, "SPI", "spi",
	    out);
	case H_VLAN: return xp_num_value(p, N_VLAN, 4095, "VLAN id", "vlan",
	    out);
	case H_TUNNEL: return xp_tunnel_value(p, out);
	case H_TID: return xp_tid_value(p, p->last.tid, out);
	case H_APP: return xp_string_value(p, N_APP, "app", out);
	case H_CLASS: return xp_string_value(p, N_CLASS, "class", out);
	default: return xp_cid_value(p, out);
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
	return xp_make_nary(p, N_AND, items, 2, out);
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
		if (xp_net_value(p, scope, dir, host, host ? "host" : "net",
		    out))
			return -1;
		remember(p, host ? H_HOST : H_NET, scope, dir);
		return 0;
	}
	if (word_is(t, "port") || word_is(t, "portrange")) {
		int range = word_is(t, "portrange");

		advance(p);
		if (xp_port_value(p, scope, dir, range, range ? "portrange" :
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
		if (xp_net_value(p, scope, dir, host, sbuf, out))
			return -1;
		remember(p, host ? H_HOST : H_NET, scope, dir);
		return 0;
	}
	if (dir_tok)
		return xp_fail(p, t, "expected host, net, port or portrange "
		    "after %s, got %s", xp_desc(dir_tok, sbuf, sizeof(sbuf)),
		    DESC(t));
	if (word_is(t, "proto")) {
		advance(p);
		if (xp_proto_value(p, scope, "proto", out))
			return -1;
		remember(p, H_PROTO, scope, dir);
		return 0;
	}
	for (size_t i = 0; i < TM_ARRAY_LEN(l3_words); i++) {
		if (!word_is(t, l3_words[i]))
			continue;
		advance(p);
		if (xp_new_node(p, N_L3, out))
			return -1;
		N(p, *out)->scope = scope;
		N(p, *out)->u.l3 = l3_values[i];
		return proto_combo(p, scope, scope_tok, out);
	}
	for (size_t i = 0; i < TM_ARRAY_LEN(bare_protos); i++) {
		if (!word_is(t, bare_protos[i]))
			continue;
		advance(p);
		if (xp_proto_node(p, scope, (uint8_t)tm_expr_proto_number(t->s,
		    t->len), out))
			return -1;
		return proto_combo(p, scope, scope_tok, out);
	}
	/* the rest take no scope */
	if (scope_tok && t->kind == T_WORD && tm_expr_is_keyword(t->s, t->len))
		return xp_fail(p, scope_tok, "%s does not apply to %s: it "
		    "qualifies host, net, port, portrange, proto, ip, ip6 and "
		    "arp", xp_desc(scope_tok, sbuf, sizeof(sbuf)), DESC(t));
	if (scope_tok)
		return xp_fail(p, t, "expected a predicate after %s, got %s",
		    xp_desc(scope_tok, sbuf, sizeof(sbuf)), DESC(t));
	if (word_is(t, "spi")) {
		advance(p);
		if (xp_num_value(p, N_SPI, 0xffffffffu, "SPI", "spi", out))
			return -1;
		remember(p, H_SPI, scope, dir);
		return 0;
	}
	if (word_is(t, "vlan")) {
		const struct tok *v;

		advance(p);
		v = cur(p);
		if (v->kind != T_WORD || tm_expr_is_keyword(v->s, v->len))
			return xp_new_node(p, N_VLAN_ANY, out);
		if (xp_num_value(p, N_VLAN, 4095, "VLAN id", "vlan", out))
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
			return xp_new_node(p, N_TUNNEL_ANY, out);
		if (xp_tunnel_value(p, out))
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
					return xp_fail(p, sub, "expected 'key' "
					    "after 'gre' (a GRE tunnel is "
					    "'tunnel gre', the IP protocol "
					    "'proto gre'), got %s", DESC(sub));
				if (!strcmp(d->word, "l2tp"))
					return xp_fail(p, sub, "expected "
					    "'tunnel' or 'session' after "
					    "'l2tp' (any L2TP tunnel is "
					    "'tunnel l2tp'), got %s",
					    DESC(sub));
				return xp_fail(p, sub, "expected '%s' after "
				    "'%s' (the tunnel itself is 'tunnel %s'), "
				    "got %s", d->sub, d->word, d->word,
				    DESC(sub));
			}
			i = j;
			advance(p);
		}
		if (xp_tid_value(p, i, out))
			return -1;
		remember(p, H_TID, scope, dir);
		p->last.tid = (uint8_t)i;
		return 0;
	}
	if (word_is(t, "app") || word_is(t, "class")) {
		int app = word_is(t, "app");

		advance(p);
		if (xp_string_value(p, app ? N_APP : N_CLASS, app ? "app" :
		    "class", out))
			return -1;
		remember(p, app ? H_APP : H_CLASS, scope, dir);
		return 0;
	}
	if (word_is(t, "community_id")) {
		advance(p);
		if (xp_cid_value(p, out))
			return -1;
		remember(p, H_CID, scope, dir);
		return 0;
	}
	if (word_is(t, "after") || word_is(t, "before") || word_is(t, "last"))
		return xp_time_pred(p, t, out);
	return xp_fail(p, t, EXPECTED_PREDICATE, DESC(t));
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
	if (p->last.h == H_TUNNEL && xp_is_tunnel_name(t, &type)) {
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
			return xp_fail(p, t, "expression nested too deeply "
			    "(more than %d levels)", MAX_DEPTH);
		advance(p);
		if (parse_or(p, out))
			return -1;
		t = cur(p);
		if (t->kind != T_RPAREN)
			return xp_fail(p, t, "expected ')' to close the '(' at "
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
	return xp_fail(p, t, EXPECTED_PREDICATE, DESC(t));
}

static int parse_not(struct parser *p, uint32_t *out)
{
	uint32_t kid;

	if (!is_not(cur(p)))
		return parse_primary(p, out);
	if (++p->depth > MAX_DEPTH)
		return xp_fail(p, cur(p), "expression nested too deeply (more "
		    "than %d levels)", MAX_DEPTH);
	advance(p);
	if (parse_not(p, &kid))
		return -1;
	p->depth--;
	/* not not x is x, in Kleene's three values too: folding it keeps
	 * the canonical form within the nesting limit its text was in */
	if (N(p, kid)->kind == N_NOT) {
		*out = N(p, kid)->first;
		return 0;
	}
	if (xp_new_node(p, N_NOT, out))
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
				rc = xp_fail(p, cur(p), "out of memory");
				break;
			}
			items = ni;
			cap = cap ? cap * 2 : 8;
		}
		items[n++] = idx;
		if (!(is_or_level ? is_or(cur(p)) : is_and(cur(p)))) {
			rc = xp_make_nary(p, is_or_level ? N_OR : N_AND, items,
			    n, out);
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
		rc = xp_new_node(&p, N_TRUE, &e->root);
	} else {
		rc = parse_or(&p, &e->root);
		if (rc == 0 && cur(&p)->kind != T_END)
			rc = xp_fail(&p, cur(&p), cur(&p)->kind == T_RPAREN ?
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
