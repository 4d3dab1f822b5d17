/*
 * The cluster file and the routing decision (cluster.h). The file is read
 * with libyaml's document loader and the configuration's walk helpers
 * (config_int.h), so every message names FILE:LINE:COLUMN.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_int.h"
#include "ctl_proto.h"
#include "../query/expr.h"
#include "../query/expr_walk.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- values ------------------------------------------------------------------ */

int tm_cluster_parse_net(const char *s, struct tm_cluster_net *out,
    char *err, size_t errlen)
{
	char host[64], canon[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;
	unsigned max;
	int fam;

	memset(out, 0, sizeof(*out));
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "'%s' is not an address or prefix", s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		fam = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		fam = 6;
		max = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address "
		    "(or ADDRESS/LENGTH)", s);
		return -1;
	}
	plen = max;
	if (slash) {
		const char *p = slash + 1;
		char *end;

		if (!isdigit((unsigned char)*p) || strlen(p) > 3) {
			snprintf(err, errlen, "'%s': the prefix length is not "
			    "a number from 0 to %u", s, max);
			return -1;
		}
		plen = strtoul(p, &end, 10);
		if (*end || plen > max) {
			snprintf(err, errlen, "'%s': the prefix length is not "
			    "a number from 0 to %u", s, max);
			return -1;
		}
	}
	out->family = (uint8_t)fam;
	out->plen = (uint8_t)plen;
	for (unsigned b = (unsigned)plen; b < max; b++)
		if (out->addr[b / 8] & (0x80u >> (b % 8))) {
			uint8_t m[16];

			memcpy(m, out->addr, sizeof(m));
			for (unsigned k = (unsigned)plen; k < max; k++)
				m[k / 8] &= (uint8_t)~(0x80u >> (k % 8));
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, m, canon,
			    sizeof(canon));
			snprintf(err, errlen, "'%s' has bits set beyond its "
			    "/%lu prefix (did you mean %s/%lu?)", s, plen,
			    canon, plen);
			return -1;
		}
	return 0;
}

/* Do the prefixes share an address? (One contains the other.) */
static int nets_meet(const struct tm_cluster_net *a, uint8_t family,
    uint8_t plen, const uint8_t *addr)
{
	unsigned n = a->plen < plen ? a->plen : plen;

	if (a->family != family)
		return 0;
	for (unsigned b = 0; b < n; b++) {
		unsigned m = 0x80u >> (b % 8);

		if ((a->addr[b / 8] & m) != (addr[b / 8] & m))
			return 0;
	}
	return 1;
}

/* ---- the routing decision ----------------------------------------------------- */

enum { WHY_NETS = 1, WHY_VLANS, WHY_BRANCHES };

static int may(const struct tm_cluster_node *n, const struct tm_expr *e,
    uint32_t id, int depth, uint32_t *why_id, int *why)
{
	struct tm_xnode x;

	if (depth > 512)
		return 1;	/* deeper than the compiler allows: unsure */
	tm_expr_node(e, id, &x);
	switch (x.kind) {
	case TM_X_AND:
		for (uint32_t k = 0; k < x.n_kids; k++)
			if (!may(n, e, tm_expr_kid(e, id, k), depth + 1,
			    why_id, why))
				return 0;
		return 1;
	case TM_X_OR:
		for (uint32_t k = 0; k < x.n_kids; k++) {
			uint32_t wi;
			int w;

			if (may(n, e, tm_expr_kid(e, id, k), depth + 1, &wi,
			    &w))
				return 1;
		}
		if (x.n_kids == 0)
			return 1;
		*why_id = id;
		*why = WHY_BRANCHES;
		return 0;
	case TM_X_NET:
		if (x.scope != TM_XS_INNER || !n->has_networks ||
		    (x.family != 4 && x.family != 6))
			return 1;
		for (size_t i = 0; i < n->n_nets; i++)
			if (nets_meet(&n->nets[i], x.family, x.plen, x.addr))
				return 1;
		*why_id = id;
		*why = WHY_NETS;
		return 0;
	case TM_X_VLAN:
		if (!n->has_vlans)
			return 1;
		for (size_t i = 0; i < n->n_vlans; i++)
			if (n->vlans[i] == x.num)
				return 1;
		*why_id = id;
		*why = WHY_VLANS;
		return 0;
	case TM_X_VLAN_ANY:
		if (!n->has_vlans || n->n_vlans)
			return 1;
		*why_id = id;
		*why = WHY_VLANS;
		return 0;
	default:
		/* not, ports, protocols, tunnels, applications, times, the
		 * empty expression: the node's description says nothing */
		return 1;
	}
}

int tm_cluster_may_hold(const struct tm_cluster_node *n,
    const struct tm_expr *e, char *why, size_t whylen)
{
	uint32_t wi = 0;
	int w = 0;
	char text[200];
	size_t tl;

	if (why && whylen)
		why[0] = '\0';
	if (!e || may(n, e, tm_expr_root(e), 0, &wi, &w))
		return 1;
	if (why && whylen) {
		tl = tm_expr_format_node(e, wi, text, sizeof(text));
		if (tl >= sizeof(text))
			memcpy(text + sizeof(text) - 4, "...", 4);
		snprintf(why, whylen, "%s '%s'",
		    w == WHY_NETS ? "its networks exclude" :
		    w == WHY_VLANS ? "its vlans exclude" :
		    "its networks and vlans exclude every branch of", text);
	}
	return 0;
}

/* ---- the file -------------------------------------------------------------------- */

struct cl_load {
	struct tm_cluster *c;
	struct tm_cluster_node *node;	/* being read */
	int has_name, has_address;
};

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TM_CLUSTER_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

/* The forms tm_ctl_connect takes (core/ctl_client.c), checked as far as
 * they can be without connecting. */
static int valid_address(const char *s, char *why, size_t len)
{
	char host[256], port[8];

	if (!*s || strlen(s) > 4095 || !cfg_printable(s)) {
		snprintf(why, len, "not an address (unix:PATH, a socket path "
		    "or store directory, tcp:HOST:PORT or HOST:PORT)");
		return 0;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		if (!s[5] || strlen(s + 5) > 107) {
			snprintf(why, len, "unix:PATH needs a path of 1 to 107 "
			    "bytes");
			return 0;
		}
		return 1;
	}
	if (strncmp(s, "tcp:", 4) == 0 || (!strchr(s, '/') && strchr(s, ':'))) {
		const char *hp = strncmp(s, "tcp:", 4) == 0 ? s + 4 : s;

		if (tm_ctl_split_hostport(hp, host, sizeof(host), port,
		    sizeof(port))) {
			snprintf(why, len, "'%s' is not HOST:PORT (or "
			    "[IPV6]:PORT)", hp);
			return 0;
		}
		return 1;
	}
	return 1;
}

static int list_items(struct cfg_walk *w, yaml_node_t *v, const char *key,
    size_t max)
{
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_failf(w, v, "%s: expected a list, found %s", key,
		    cfg_kind(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > max)
		return cfg_failf(w, v, "%s: %zu entries (at most %zu)", key, n,
		    max);
	return 0;
}

static int node_networks(struct cfg_walk *w, struct tm_cluster_node *nd,
    yaml_node_t *v)
{
	size_t n;
	char msg[256];

	if (list_items(w, v, "networks", TM_CLUSTER_MAX_NETS))
		return -1;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return cfg_failf(w, v, "networks: an empty list would route "
		    "every address query away from this node; leave "
		    "networks out when the node may see any address");
	nd->nets = calloc(n, sizeof(*nd->nets));
	if (!nd->nets)
		return cfg_failf(w, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = cfg_node(w, v->data.sequence.items.start[i]);

		if (!it || cfg_want_scalar(w, it, "networks"))
			return it ? -1 : cfg_failf(w, v, "networks: broken "
			    "list");
		if (tm_cluster_parse_net(cfg_scalar(it), &nd->nets[i], msg,
		    sizeof(msg)))
			return cfg_failf(w, it, "networks: %s", msg);
		nd->n_nets++;
	}
	nd->has_networks = 1;
	return 0;
}

static int node_vlans(struct cfg_walk *w, struct tm_cluster_node *nd,
    yaml_node_t *v)
{
	size_t n;

	if (list_items(w, v, "vlans", 4096))
		return -1;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	nd->vlans = calloc(n ? n : 1, sizeof(*nd->vlans));
	if (!nd->vlans)
		return cfg_failf(w, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = cfg_node(w, v->data.sequence.items.start[i]);
		uint64_t u;

		if (!it || cfg_want_scalar(w, it, "vlans"))
			return it ? -1 : cfg_failf(w, v, "vlans: broken list");
		if (cfg_parse_uint(cfg_scalar(it), 0, 4095, &u))
			return cfg_failf(w, it, "vlans: '%s' is not a VLAN id "
			    "(0 to 4095)", cfg_scalar(it));
		nd->vlans[nd->n_vlans++] = (uint16_t)u;
	}
	nd->has_vlans = 1;
	return 0;
}

static int node_share(struct cfg_walk *w, struct tm_cluster_node *nd,
    yaml_node_t *v)
{
	const char *s = cfg_scalar(v), *slash = strchr(s, '/');
	char a[16];
	uint64_t i, n;

	if (!slash || (size_t)(slash - s) >= sizeof(a))
		goto bad;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (cfg_parse_uint(a, 1, 65535, &i) ||
	    cfg_parse_uint(slash + 1, 1, 65535, &n) || i > n)
		goto bad;
	nd->share_i = (unsigned)i;
	nd->share_n = (unsigned)n;
	return 0;
bad:
	return cfg_failf(w, v, "share: '%s' is not I/N (the node's hash share, "
	    "1 <= I <= N, e.g. 2/3)", s);
}

static const char *const node_keys[] = { "name", "address", "token_file",
	"networks", "vlans", "share" };

static int node_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct cl_load *l = arg;
	struct tm_cluster_node *nd = l->node;
	char why[256];
	const char *s;

	if (idx == 3)
		return node_networks(w, nd, v);
	if (idx == 4)
		return node_vlans(w, nd, v);
	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (!valid_name(s))
			return cfg_failf(w, v, "name: '%s' is not a node name "
			    "(1 to %d letters, digits, '-', '_', '.')", s,
			    TM_CLUSTER_NAME_MAX);
		for (size_t i = 0; i < l->c->n_nodes; i++)
			if (strcmp(l->c->nodes[i].name, s) == 0)
				return cfg_failf(w, v, "name: '%s' is already "
				    "the name of the node at line %d", s,
				    l->c->nodes[i].line);
		l->has_name = 1;
		return cfg_set_str(w, v, &nd->name);
	case 1:
		if (!valid_address(s, why, sizeof(why)))
			return cfg_failf(w, v, "address: %s", why);
		for (size_t i = 0; i < l->c->n_nodes; i++)
			if (strcmp(l->c->nodes[i].address, s) == 0)
				return cfg_failf(w, v, "address: '%s' is "
				    "already the address of node '%s' (its "
				    "packets would come twice)", s,
				    l->c->nodes[i].name);
		l->has_address = 1;
		return cfg_set_str(w, v, &nd->address);
	case 2:
		if (!*s || !cfg_printable(s))
			return cfg_failf(w, v, "token_file: '%s' is not a file "
			    "name", s);
		return cfg_set_str(w, v, &nd->token_file);
	default:
		return node_share(w, nd, v);
	}
}

static void node_free(struct tm_cluster_node *nd)
{
	free(nd->name);
	free(nd->address);
	free(nd->token_file);
	free(nd->nets);
	free(nd->vlans);
	memset(nd, 0, sizeof(*nd));
}

static int load_nodes(struct cfg_walk *w, struct tm_cluster *c,
    yaml_node_t *v)
{
	size_t n;

	if (list_items(w, v, "nodes", TM_CLUSTER_MAX_NODES))
		return -1;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n == 0)
		return cfg_failf(w, v, "nodes: the list is empty (at least one "
		    "node)");
	c->nodes = calloc(n, sizeof(*c->nodes));
	if (!c->nodes)
		return cfg_failf(w, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *it = cfg_node(w, v->data.sequence.items.start[i]);
		struct cl_load l = { c, &c->nodes[i], 0, 0 };

		if (!it)
			return cfg_failf(w, v, "nodes: broken list");
		c->nodes[i].line = (int)it->start_mark.line + 1;
		if (cfg_each_pair(w, it, "a node", node_keys,
		    ARRAY_LEN(node_keys), node_pair, &l)) {
			node_free(&c->nodes[i]);
			return -1;
		}
		if (!l.has_name || !l.has_address) {
			node_free(&c->nodes[i]);
			return cfg_failf(w, it, "a node needs %s", !l.has_name ?
			    "a name" : "an address");
		}
		c->n_nodes++;
	}
	return 0;
}

static const char *const listen_keys[] = { "socket", "mode", "group",
	"tcp", "token_file" };

static int listen_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_cluster_listen *ls = arg;
	char host[256], port[8], *end;
	const char *s;
	unsigned long m;

	if (cfg_want_scalar(w, v, cfg_scalar(k)))
		return -1;
	s = cfg_scalar(v);
	switch (idx) {
	case 0:
		if (!*s || strlen(s) > 107 || !cfg_printable(s))
			return cfg_failf(w, v, "listen.socket: '%s' is not a "
			    "socket path (1 to 107 bytes)", s);
		return cfg_set_str(w, v, &ls->socket);
	case 1:
		m = strtoul(s, &end, 8);
		if (!*s || *end || m > 0777 || (m & 0600) != 0600)
			return cfg_failf(w, v, "listen.mode: '%s' is not an "
			    "octal mode that lets the owner read and write "
			    "(e.g. 0660)", s);
		ls->mode = (unsigned)m;
		return 0;
	case 2:
		if (!*s || strlen(s) > 64 || !cfg_printable(s))
			return cfg_failf(w, v, "listen.group: '%s' is not a "
			    "group name", s);
		return cfg_set_str(w, v, &ls->group);
	case 3:
		if (strlen(s) > 300 || tm_ctl_split_hostport(s, host,
		    sizeof(host), port, sizeof(port)))
			return cfg_failf(w, v, "listen.tcp: '%s' is not "
			    "HOST:PORT (e.g. 127.0.0.1:7070 or :7070)", s);
		return cfg_set_str(w, v, &ls->tcp);
	default:
		if (!*s || !cfg_printable(s))
			return cfg_failf(w, v, "listen.token_file: '%s' is not "
			    "a file name", s);
		return cfg_set_str(w, v, &ls->token_file);
	}
}

static const char *const top_keys[] = { "nodes", "timeout", "listen" };

static int top_pair(struct cfg_walk *w, int idx, yaml_node_t *k,
    yaml_node_t *v, void *arg)
{
	struct tm_cluster *c = arg;
	int64_t ns;

	switch (idx) {
	case 0:
		return load_nodes(w, c, v);
	case 1:
		if (cfg_want_scalar(w, v, cfg_scalar(k)))
			return -1;
		if (tm_parse_duration(cfg_scalar(v), &ns) ||
		    ns < 100 * 1000000LL || ns > 3600 * 1000000000LL ||
		    ns % 1000000)
			return cfg_failf(w, v, "timeout: '%s' is not a duration "
			    "from 100ms to 1h (e.g. 10s)", cfg_scalar(v));
		c->timeout_ms = (int)(ns / 1000000);
		return 0;
	default:
		c->has_listen = 1;
		if (cfg_each_pair(w, v, "listen", listen_keys,
		    ARRAY_LEN(listen_keys), listen_pair, &c->listen))
			return -1;
		if (!c->listen.socket && !c->listen.tcp)
			return cfg_failf(w, v, "listen: needs a socket or tcp "
			    "(or both)");
		if (c->listen.tcp && !c->listen.token_file)
			return cfg_failf(w, v, "listen.tcp needs "
			    "listen.token_file: the TCP socket requires a "
			    "token");
		return 0;
	}
}

void tm_cluster_free(struct tm_cluster *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		node_free(&c->nodes[i]);
	free(c->nodes);
	free(c->file);
	free(c->listen.socket);
	free(c->listen.group);
	free(c->listen.tcp);
	free(c->listen.token_file);
	memset(c, 0, sizeof(*c));
}

int tm_cluster_adhoc(struct tm_cluster *c, const char *const *addrs, size_t n,
    char *err, size_t errlen)
{
	char why[256];

	memset(c, 0, sizeof(*c));
	c->timeout_ms = TM_CLUSTER_DEFAULT_TIMEOUT_MS;
	c->listen.mode = TM_CONFIG_DEFAULT_MODE;
	if (n == 0 || n > TM_CLUSTER_MAX_NODES) {
		snprintf(err, errlen, "--node: 1 to %d nodes",
		    TM_CLUSTER_MAX_NODES);
		return -1;
	}
	c->nodes = calloc(n, sizeof(*c->nodes));
	if (!c->nodes) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct tm_cluster_node *nd = &c->nodes[i];

		if (!valid_address(addrs[i], why, sizeof(why))) {
			snprintf(err, errlen, "--node '%s': %s", addrs[i], why);
			tm_cluster_free(c);
			return -1;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(addrs[k], addrs[i]) == 0) {
				snprintf(err, errlen, "--node '%s' is given "
				    "twice (its packets would come twice)",
				    addrs[i]);
				tm_cluster_free(c);
				return -1;
			}
		nd->name = strdup(addrs[i]);
		nd->address = strdup(addrs[i]);
		c->n_nodes++;
		if (!nd->name || !nd->address) {
			snprintf(err, errlen, "out of memory");
			tm_cluster_free(c);
			return -1;
		}
	}
	return 0;
}

int tm_cluster_load(struct tm_cluster *c, const char *file, char *err,
    size_t errlen)
{
	struct cfg_file cf;
	yaml_node_t *root;
	struct cfg_walk w = { &cf.doc, file, err, errlen, NULL };
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = TM_CLUSTER_DEFAULT_TIMEOUT_MS;
	c->listen.mode = TM_CONFIG_DEFAULT_MODE;
	if (cfg_file_open(&cf, file, err, errlen))
		return -1;
	root = yaml_document_get_root_node(&cf.doc);
	if (!root || (root->type == YAML_SCALAR_NODE &&
	    root->data.scalar.length == 0))
		snprintf(err, errlen, "%s:1:1: the cluster file is empty (it "
		    "needs nodes:)", file);
	else
		rc = cfg_each_pair(&w, root, "the cluster file", top_keys,
		    ARRAY_LEN(top_keys), top_pair, c);
	if (rc == 0 && c->n_nodes == 0) {
		snprintf(err, errlen, "%s:%zu:%zu: the cluster file has no "
		    "nodes: list", file, root->start_mark.line + 1,
		    root->start_mark.column + 1);
		rc = -1;
	}
	rc = cfg_file_close(&cf, rc, file, err, errlen);
	if (rc == 0) {
		c->file = strdup(file);
		if (!c->file) {
			snprintf(err, errlen, "%s: out of memory", file);
			rc = -1;
		}
	}
	if (rc)
		tm_cluster_free(c);
	return rc;
}
