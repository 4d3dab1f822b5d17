/*
 * The cluster front-end's parts: the routing decision (which nodes can hold
 * what an expression matches), the cluster file's checks (each mistake at
 * its FILE:LINE:COLUMN), the JSON check of node answers, and the merge of
 * node answers (core/cluster_query.c) against fake nodes on real Unix
 * sockets that answer scripted bytes: time order and ties, byte orders and
 * microsecond streams, link types, E answers, hostile frames and records,
 * a node that closes early and one that never answers.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "tm_test.h"
#include "cluster.h"
#include "cluster_query.h"
#include "ctl_proto.h"
#include "../query/expr.h"

static char g_dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/tm-cluster-test.XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---- routing ------------------------------------------------------------------- */

struct tnode {
	struct tm_cluster_node n;
	struct tm_cluster_net nets[8];
	uint16_t vlans[8];
};

/* nets: space-separated prefixes, or NULL (not said); vlans: -1-ended ids,
 * or NULL (not said); an empty list: {-1}. */
static void mknode(struct tnode *t, const char *nets, const int *vlans)
{
	char buf[256], err[256], *save = NULL;

	memset(t, 0, sizeof(*t));
	t->n.name = "n";
	t->n.address = "/nowhere";
	if (nets) {
		snprintf(buf, sizeof(buf), "%s", nets);
		for (char *w = strtok_r(buf, " ", &save); w;
		    w = strtok_r(NULL, " ", &save)) {
			if (tm_cluster_parse_net(w, &t->nets[t->n.n_nets], err,
			    sizeof(err)))
				fail_msg("%s: %s", w, err);
			t->n.n_nets++;
		}
		t->n.nets = t->nets;
		t->n.has_networks = 1;
	}
	if (vlans) {
		for (; *vlans >= 0; vlans++)
			t->vlans[t->n.n_vlans++] = (uint16_t)*vlans;
		t->n.vlans = t->vlans;
		t->n.has_vlans = 1;
	}
}

static int route(const struct tnode *t, const char *text, char *why,
    size_t whylen)
{
	struct tm_expr_opts o;
	struct tm_expr_error ee;
	struct tm_expr *e;
	int r;

	memset(&o, 0, sizeof(o));
	o.flags = TM_EXPR_ALLOW_TIME;
	e = tm_expr_compile(text, &o, &ee);
	if (!e)
		fail_msg("'%s': %s", text, ee.msg);
	r = tm_cluster_may_hold(&t->n, e, why, whylen);
	tm_expr_free(e);
	return r;
}

#define ASKED(t, text) do {						\
	char w_[512];							\
	if (!route((t), (text), w_, sizeof(w_)))			\
		fail_msg("'%s' skipped the node (%s), it may hold "	\
		    "matches", (text), w_);				\
	assert_string_equal(w_, "");					\
} while (0)
#define SKIPPED(t, text) do {						\
	char w_[512];							\
	if (route((t), (text), w_, sizeof(w_)))				\
		fail_msg("'%s' asked the node, it cannot hold matches",\
		    (text));						\
	assert_true(w_[0] != '\0');					\
} while (0)

static void test_route_networks(void **state)
{
	struct tnode t;

	(void)state;
	mknode(&t, "10.1.0.0/16 192.168.7.0/24 2001:db8:1::/48", NULL);
	/* hosts inside and outside */
	ASKED(&t, "host 10.1.2.3");
	ASKED(&t, "host 192.168.7.255");
	SKIPPED(&t, "host 10.2.0.1");
	SKIPPED(&t, "host 192.168.8.1");
	ASKED(&t, "host 2001:db8:1:ffff::1");
	SKIPPED(&t, "host 2001:db8:2::1");
	/* an IPv4 address never equals an IPv6 one */
	SKIPPED(&t, "host ::ffff:10.1.2.3");
	/* prefixes: inside, around, beside */
	ASKED(&t, "net 10.1.128.0/17");
	ASKED(&t, "net 10.0.0.0/8");
	ASKED(&t, "net 0.0.0.0/0");
	SKIPPED(&t, "net 10.2.0.0/16");
	SKIPPED(&t, "net 11.0.0.0/8");
	ASKED(&t, "net 2001:db8::/32");
	SKIPPED(&t, "net 2001:db8:2::/48");
	ASKED(&t, "net ::/0");
	/* every direction requires the address */
	SKIPPED(&t, "src host 10.2.0.1");
	SKIPPED(&t, "dst host 10.2.0.1");
	SKIPPED(&t, "src or dst host 10.2.0.1");
	SKIPPED(&t, "src and dst host 10.2.0.1");
	SKIPPED(&t, "src 10.2.0.1");
	SKIPPED(&t, "dst net 10.2.0.0/16");
	ASKED(&t, "src host 10.1.0.1 and dst host 10.1.0.2");
	/* explicit inner scope is the default one */
	SKIPPED(&t, "inner host 10.2.0.1");
	/* outer and any scopes look at tunnel endpoints: unsure */
	ASKED(&t, "outer host 10.2.0.1");
	ASKED(&t, "any host 10.2.0.1");
	ASKED(&t, "outer net 11.0.0.0/8");
	/* qualified forms */
	SKIPPED(&t, "tcp host 10.2.0.1");
	SKIPPED(&t, "ip host 10.2.0.1");
	SKIPPED(&t, "udp src 10.2.0.1");
	ASKED(&t, "tcp host 10.1.0.9");
}

static void test_route_logic(void **state)
{
	struct tnode t;

	(void)state;
	mknode(&t, "10.1.0.0/16", NULL);
	/* and: one impossible part is enough */
	SKIPPED(&t, "tcp and port 80 and host 10.2.0.1");
	SKIPPED(&t, "host 10.2.0.1 and tcp");
	SKIPPED(&t, "(tcp and (host 10.2.0.1 and port 443))");
	ASKED(&t, "tcp and port 80 and host 10.1.0.1");
	/* src and dst must both be possible */
	SKIPPED(&t, "src host 10.1.0.1 and dst host 10.2.0.1");
	/* or: every branch must be impossible */
	ASKED(&t, "host 10.2.0.1 or host 10.1.0.1");
	ASKED(&t, "host 10.2.0.1 or tcp");
	SKIPPED(&t, "host 10.2.0.1 or host 10.3.0.1");
	SKIPPED(&t, "host 10.2.0.1 or 10.3.0.1");	/* repeated */
	ASKED(&t, "host 10.2.0.1 or 10.1.0.1");
	SKIPPED(&t, "(host 10.2.0.1 or net 11.0.0.0/8) and port 80");
	ASKED(&t, "(host 10.2.0.1 or port 80) and tcp");
	/* not: unsure, whatever is inside */
	ASKED(&t, "not host 10.2.0.1");
	ASKED(&t, "not host 10.1.0.1");
	ASKED(&t, "not (host 10.2.0.1 or host 10.3.0.1)");
	ASKED(&t, "not not host 10.1.0.1");
	SKIPPED(&t, "not not host 10.2.0.1");	/* folded to host */
	/* things the description says nothing about */
	ASKED(&t, "");
	ASKED(&t, "tcp port 443");
	ASKED(&t, "tunnel gre");
	ASKED(&t, "vlan 5");
	ASKED(&t, "vlan");
	ASKED(&t, "app tls");
	ASKED(&t, "class bulk");
	ASKED(&t, "last 1h");
	ASKED(&t, "after 2026-01-01T00:00:00Z and before 2026-01-02");
	SKIPPED(&t, "last 1h and host 10.2.0.1");
	ASKED(&t, "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=");
}

static void test_route_vlans(void **state)
{
	static const int v[] = { 100, 200, 4095, -1 };
	static const int none[] = { -1 };
	struct tnode t;

	(void)state;
	mknode(&t, NULL, v);
	ASKED(&t, "vlan 100");
	ASKED(&t, "vlan 4095");
	SKIPPED(&t, "vlan 101");
	SKIPPED(&t, "vlan 0");
	ASKED(&t, "vlan");
	ASKED(&t, "vlan 101 or vlan 200");
	SKIPPED(&t, "vlan 101 or 102");
	SKIPPED(&t, "tcp and vlan 7");
	ASKED(&t, "not vlan 7");
	/* no networks given: any address */
	ASKED(&t, "host 10.2.0.1");
	ASKED(&t, "host 10.2.0.1 and vlan 100");
	SKIPPED(&t, "host 10.2.0.1 and vlan 7");
	/* an empty list: untagged traffic only */
	mknode(&t, NULL, none);
	SKIPPED(&t, "vlan");
	SKIPPED(&t, "vlan 1");
	ASKED(&t, "not vlan");
	ASKED(&t, "tcp");
	/* both lists */
	mknode(&t, "10.0.0.0/8", v);
	SKIPPED(&t, "host 11.0.0.1 or vlan 7");
	ASKED(&t, "host 11.0.0.1 or vlan 100");
	ASKED(&t, "host 10.0.0.1 or vlan 7");
	/* a node that says nothing is always asked */
	mknode(&t, NULL, NULL);
	ASKED(&t, "host 10.2.0.1 and vlan 7");
	ASKED(&t, "vlan");
}

static void test_route_why(void **state)
{
	static const int v[] = { 100, -1 };
	struct tnode t;
	char why[512];

	(void)state;
	mknode(&t, "10.0.0.0/8", v);
	assert_int_equal(route(&t, "tcp and host 11.0.0.1", why,
	    sizeof(why)), 0);
	assert_non_null(strstr(why, "networks"));
	assert_non_null(strstr(why, "11.0.0.1"));
	assert_int_equal(route(&t, "vlan 7 and tcp", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "vlans"));
	assert_non_null(strstr(why, "7"));
	assert_int_equal(route(&t, "vlan 7 or host 11.0.0.1", why,
	    sizeof(why)), 0);
	assert_non_null(strstr(why, "every branch"));
	/* a small buffer is cut, NUL-terminated */
	assert_int_equal(route(&t, "host 11.0.0.1", why, 8), 0);
	assert_int_equal(strlen(why), 7);
	/* NULL why */
	assert_int_equal(tm_cluster_may_hold(&t.n, NULL, NULL, 0), 1);
}

static void test_parse_net(void **state)
{
	struct tm_cluster_net n;
	char err[256];

	(void)state;
	assert_int_equal(tm_cluster_parse_net("10.0.0.0/8", &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n.family, 4);
	assert_int_equal(n.plen, 8);
	assert_int_equal(n.addr[0], 10);
	assert_int_equal(tm_cluster_parse_net("10.1.2.3", &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n.plen, 32);
	assert_int_equal(tm_cluster_parse_net("::/0", &n, err, sizeof(err)),
	    0);
	assert_int_equal(n.family, 6);
	assert_int_equal(n.plen, 0);
	assert_int_equal(tm_cluster_parse_net("2001:db8::1", &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n.plen, 128);
	assert_int_equal(tm_cluster_parse_net("10.0.0.1/8", &n, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "did you mean 10.0.0.0/8?"));
	assert_int_equal(tm_cluster_parse_net("2001:db8::1/32", &n, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "2001:db8::/32"));
	static const char *const bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33",
		"10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8x", "10.0.0/8",
		"10.0.0.256", "::/129", "::/1280", "host", "10.0.0.0/ 8",
		"0x0a000000/8", "10.0.0.0/0008" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tm_cluster_parse_net(bad[i], &n, err, sizeof(err)) == 0)
			fail_msg("'%s' parsed as a prefix", bad[i]);
}

/* ---- the cluster file ------------------------------------------------------------ */

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_file_good(void **state)
{
	struct tm_cluster c;
	char err[512];
	const char *p;

	(void)state;
	p = write_file("good.yaml",
	    "timeout: 1500ms\n"
	    "listen:\n"
	    "  socket: /run/tm/front.sock\n"
	    "  mode: \"0640\"\n"
	    "  group: tm\n"
	    "  tcp: \":7070\"\n"
	    "  token_file: /etc/tm/front.token\n"
	    "nodes:\n"
	    "  - name: a\n"
	    "    address: /var/lib/tm/a\n"
	    "    networks: [10.1.0.0/16, \"2001:db8:1::/48\"]\n"
	    "    vlans: [100, 101]\n"
	    "    share: 1/3\n"
	    "  - name: b.2_x-y\n"
	    "    address: 192.0.2.7:7070\n"
	    "    token_file: /etc/tm/b.token\n"
	    "    vlans: []\n"
	    "  - {name: c, address: \"tcp:[2001:db8::1]:7070\", share: 3/3}\n");
	if (tm_cluster_load(&c, p, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.timeout_ms, 1500);
	assert_int_equal(c.has_listen, 1);
	assert_string_equal(c.listen.socket, "/run/tm/front.sock");
	assert_int_equal(c.listen.mode, 0640);
	assert_string_equal(c.listen.group, "tm");
	assert_string_equal(c.listen.tcp, ":7070");
	assert_string_equal(c.listen.token_file, "/etc/tm/front.token");
	assert_int_equal(c.n_nodes, 3);
	assert_string_equal(c.nodes[0].name, "a");
	assert_string_equal(c.nodes[0].address, "/var/lib/tm/a");
	assert_null(c.nodes[0].token_file);
	assert_int_equal(c.nodes[0].has_networks, 1);
	assert_int_equal(c.nodes[0].n_nets, 2);
	assert_int_equal(c.nodes[0].nets[1].family, 6);
	assert_int_equal(c.nodes[0].nets[1].plen, 48);
	assert_int_equal(c.nodes[0].n_vlans, 2);
	assert_int_equal(c.nodes[0].vlans[1], 101);
	assert_int_equal(c.nodes[0].share_i, 1);
	assert_int_equal(c.nodes[0].share_n, 3);
	assert_int_equal(c.nodes[0].line, 9);
	assert_string_equal(c.nodes[1].name, "b.2_x-y");
	assert_string_equal(c.nodes[1].token_file, "/etc/tm/b.token");
	assert_int_equal(c.nodes[1].has_networks, 0);
	assert_int_equal(c.nodes[1].has_vlans, 1);
	assert_int_equal(c.nodes[1].n_vlans, 0);
	assert_int_equal(c.nodes[2].share_i, 3);
	tm_cluster_free(&c);

	/* defaults */
	p = write_file("min.yaml", "nodes:\n  - name: a\n    address: x.sock\n");
	if (tm_cluster_load(&c, p, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.timeout_ms, TM_CLUSTER_DEFAULT_TIMEOUT_MS);
	assert_int_equal(c.has_listen, 0);
	assert_int_equal(c.nodes[0].has_networks, 0);
	assert_int_equal(c.nodes[0].has_vlans, 0);
	tm_cluster_free(&c);
}

static void file_err(const char *text, const char *want)
{
	struct tm_cluster c;
	char err[512];
	const char *p = write_file("bad.yaml", text);

	if (tm_cluster_load(&c, p, err, sizeof(err)) == 0) {
		tm_cluster_free(&c);
		fail_msg("accepted:\n%s", text);
	}
	if (!strstr(err, want))
		fail_msg("'%s' does not contain '%s'", err, want);
	assert_int_equal(c.n_nodes, 0);
	assert_null(c.nodes);
	tm_cluster_free(&c);
}

static void test_file_errors(void **state)
{
	char want[160], big[8192];
	size_t o = 0;

	(void)state;
	file_err("", "bad.yaml:1:1: the cluster file is empty");
	file_err("timeout: 1s\n", "has no nodes");
	file_err("nodes: []\n", "bad.yaml:1:8: nodes: the list is empty");
	file_err("nodes: x\n", "bad.yaml:1:8: nodes: expected a list");
	file_err("nodes:\n  - name: a\n    adress: /x\n",
	    "bad.yaml:3:5: unknown key 'adress' in a node");
	file_err("nodes:\n  - name: a\n", "bad.yaml:2:5: a node needs an "
	    "address");
	file_err("nodes:\n  - address: /x\n", "a node needs a name");
	file_err("nodes:\n  - name: a b\n    address: /x\n",
	    "bad.yaml:2:11: name: 'a b' is not a node name");
	file_err("nodes:\n  - name: a\n    address: /x\n"
	    "  - name: a\n    address: /y\n",
	    "bad.yaml:4:11: name: 'a' is already the name of the node at "
	    "line 2");
	file_err("nodes:\n  - name: a\n    address: /x\n"
	    "  - name: b\n    address: /x\n",
	    "bad.yaml:5:14: address: '/x' is already the address of node 'a'");
	file_err("nodes:\n  - name: a\n    address: host:port\n",
	    "'host:port' is not HOST:PORT");
	file_err("nodes:\n  - name: a\n    address: tcp:nohost\n",
	    "is not HOST:PORT");
	file_err("nodes:\n  - name: a\n    address: \"\"\n", "not an address");
	file_err("nodes:\n  - name: a\n    address: \"unix:\"\n",
	    "unix:PATH needs a path");
	file_err("nodes:\n  - name: a\n    address: /x\n    networks: "
	    "[10.0.0.1/8]\n", "bad.yaml:4:16: networks: '10.0.0.1/8' has "
	    "bits set beyond its /8 prefix (did you mean 10.0.0.0/8?)");
	file_err("nodes:\n  - name: a\n    address: /x\n    networks: []\n",
	    "bad.yaml:4:15: networks: an empty list");
	file_err("nodes:\n  - name: a\n    address: /x\n    networks: "
	    "10.0.0.0/8\n", "bad.yaml:4:15: networks: expected a list");
	file_err("nodes:\n  - name: a\n    address: /x\n    networks: "
	    "[[10.0.0.0/8]]\n", "networks: expected a value");
	file_err("nodes:\n  - name: a\n    address: /x\n    vlans: [1, "
	    "4096]\n", "bad.yaml:4:16: vlans: '4096' is not a VLAN id");
	file_err("nodes:\n  - name: a\n    address: /x\n    vlans: [-1]\n",
	    "vlans: '-1' is not a VLAN id");
	file_err("nodes:\n  - name: a\n    address: /x\n    share: 4/3\n",
	    "bad.yaml:4:12: share: '4/3' is not I/N");
	file_err("nodes:\n  - name: a\n    address: /x\n    share: 0/3\n",
	    "share: '0/3' is not I/N");
	file_err("nodes:\n  - name: a\n    address: /x\n    share: 1\n",
	    "share: '1' is not I/N");
	file_err("nodes:\n  - name: a\n    address: /x\n    share: 1/3/4\n",
	    "is not I/N");
	file_err("nodes:\n  - name: a\n    address: /x\n    share: 1/3\n"
	    "    share: 2/3\n", "bad.yaml:5:5: 'share' given twice in a node "
	    "(first at line 4)");
	file_err("timeout: 10x\nnodes:\n  - name: a\n    address: /x\n",
	    "bad.yaml:1:10: timeout: '10x' is not a duration");
	file_err("timeout: 50ms\nnodes:\n  - name: a\n    address: /x\n",
	    "from 100ms to 1h");
	file_err("timeout: 2h\nnodes:\n  - name: a\n    address: /x\n",
	    "from 100ms to 1h");
	file_err("listen:\n  tcp: \":7070\"\nnodes:\n  - name: a\n    "
	    "address: /x\n", "bad.yaml:2:3: listen.tcp needs "
	    "listen.token_file");
	file_err("listen:\n  mode: \"0640\"\nnodes:\n  - name: a\n    "
	    "address: /x\n", "listen: needs a socket or tcp");
	file_err("listen:\n  socket: /x\n  mode: \"0460\"\nnodes:\n  - name: "
	    "a\n    address: /x\n", "bad.yaml:3:9: listen.mode: '0460'");
	file_err("listen:\n  socket: /x\n  tcp: nope\n  token_file: t\n"
	    "nodes:\n  - name: a\n    address: /x\n",
	    "listen.tcp: 'nope' is not HOST:PORT");
	file_err("nodes:\n  - name: a\n    address: /x\nextra: 1\n",
	    "bad.yaml:4:1: unknown key 'extra' in the cluster file");
	file_err("nodes:\n  - name: a\n    address: /x\n---\nnodes: []\n",
	    "a second YAML document");
	file_err("nodes:\n  - name: a\n    address: [/x\n", "bad.yaml:");
	file_err("nodes:\n  - name: \"a\\x01\"\n    address: /x\n",
	    "is not a node name");
	file_err("nodes:\n  - name: a\n    address: \"/x\\ty\"\n",
	    "not an address");
	/* too many nodes */
	o += (size_t)snprintf(big + o, sizeof(big) - o, "nodes: [");
	for (int i = 0; i <= TM_CLUSTER_MAX_NODES && o < sizeof(big) - 64;
	    i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o,
		    "%s{name: n%d, address: /n%d}", i ? "," : "", i, i);
	snprintf(big + o, sizeof(big) - o, "]\n");
	snprintf(want, sizeof(want), "nodes: %d entries (at most %d)",
	    TM_CLUSTER_MAX_NODES + 1, TM_CLUSTER_MAX_NODES);
	file_err(big, want);
	/* no such file */
	{
		struct tm_cluster c;
		char err[512];

		assert_int_equal(tm_cluster_load(&c, "/nonexistent/c.yaml", err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "/nonexistent/c.yaml: cannot "
		    "open"));
	}
}

static void test_adhoc(void **state)
{
	const char *a[] = { "/x", "127.0.0.1:7070", "unix:/y" };
	const char *dup[] = { "/x", "/x" };
	const char *bad[] = { "/x", "host:port" };
	struct tm_cluster c;
	char err[256];

	(void)state;
	assert_int_equal(tm_cluster_adhoc(&c, a, 3, err, sizeof(err)), 0);
	assert_int_equal(c.n_nodes, 3);
	assert_string_equal(c.nodes[1].name, "127.0.0.1:7070");
	assert_string_equal(c.nodes[2].address, "unix:/y");
	assert_int_equal(c.timeout_ms, TM_CLUSTER_DEFAULT_TIMEOUT_MS);
	tm_cluster_free(&c);
	assert_int_equal(tm_cluster_adhoc(&c, dup, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(tm_cluster_adhoc(&c, bad, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host:port"));
	assert_int_equal(tm_cluster_adhoc(&c, a, 0, err, sizeof(err)), -1);
}

/* ---- JSON --------------------------------------------------------------------- */

static void test_json(void **state)
{
	static const char *const good[] = { "{}", " { } ",
		"{\"a\":1,\"b\":[1,2.5,-3e+2,true,false,null,\"x\"],\"c\":{}}",
		"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}",
		"{\"u\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"n\":0,\"m\":-0.5,\"k\":1E9}" };
	static const char *const bad[] = { "", "[]", "1", "\"x\"", "{",
		"{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12g4\"}", "{\"a\":\"x\ny\"}", "{\"a\":\"\xff\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\xe2\x82\"}", "{} {}", "{}x", "{\"a\":[1,]}",
		"{\"a\":1 \"b\":2}", "{\"a\":+1}", "{\"a\":1e}" };
	char deep[300];
	size_t o = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!tm_cq_json_object(good[i], strlen(good[i])))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tm_cq_json_object(bad[i], strlen(bad[i])))
			fail_msg("accepted: %s", bad[i]);
	/* an embedded NUL is not JSON */
	assert_int_equal(tm_cq_json_object("{}\0", 3), 0);
	/* nesting: 64 levels are fine, 100 are not */
	deep[o++] = '{';
	o += (size_t)snprintf(deep + o, sizeof(deep) - o, "\"a\":");
	for (int i = 0; i < 100; i++)
		deep[o++] = '[';
	for (int i = 0; i < 100; i++)
		deep[o++] = ']';
	deep[o++] = '}';
	assert_int_equal(tm_cq_json_object(deep, o), 0);
	o = 0;
	deep[o++] = '{';
	o += (size_t)snprintf(deep + o, sizeof(deep) - o, "\"a\":");
	for (int i = 0; i < 60; i++)
		deep[o++] = '[';
	for (int i = 0; i < 60; i++)
		deep[o++] = ']';
	deep[o++] = '}';
	assert_int_equal(tm_cq_json_object(deep, o), 1);

	/* the writer: what it writes is JSON */
	{
		char *buf = NULL, obj[512];
		size_t len;
		FILE *f = open_memstream(&buf, &len);

		tm_cq_json_string(f, "a\"b\\c\n\x01\x7f\xc3\xa9\xff/");
		fclose(f);
		assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\\u007f"
		    "\xc3\xa9?/\"");
		snprintf(obj, sizeof(obj), "{\"k\":%s}", buf);
		assert_int_equal(tm_cq_json_object(obj, strlen(obj)), 1);
		free(buf);
	}
}

/* ---- fake nodes ----------------------------------------------------------------- */

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put32(struct bytes *b, uint32_t v, int be)
{
	uint8_t x[4];

	if (be) {
		x[0] = (uint8_t)(v >> 24);
		x[1] = (uint8_t)(v >> 16);
		x[2] = (uint8_t)(v >> 8);
		x[3] = (uint8_t)v;
	} else {
		x[0] = (uint8_t)v;
		x[1] = (uint8_t)(v >> 8);
		x[2] = (uint8_t)(v >> 16);
		x[3] = (uint8_t)(v >> 24);
	}
	put(b, x, 4);
}

/* A pcap stream: header, then records. */
struct pstream {
	struct bytes b;
	int be, usec;
};

static void ps_header(struct pstream *s, uint32_t linktype, int be, int usec)
{
	s->be = be;
	s->usec = usec;
	put32(&s->b, usec ? 0xa1b2c3d4u : 0xa1b23c4du, be);
	put32(&s->b, be ? 0x00020004u : 0x00040002u, 0);
	put32(&s->b, 0, 0);
	put32(&s->b, 0, 0);
	put32(&s->b, 262144, be);
	put32(&s->b, linktype, be);
}

static void ps_free(struct pstream *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].b.p);
		memset(&s[i], 0, sizeof(s[i]));
	}
}

/* A record of len bytes, each (tag + i); its time sec.frac (ns or us). */
static void ps_rec(struct pstream *s, uint32_t sec, uint32_t frac,
    uint32_t len, uint8_t tag)
{
	put32(&s->b, sec, s->be);
	put32(&s->b, frac, s->be);
	put32(&s->b, len, s->be);
	put32(&s->b, len + 4, s->be);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)(tag + i);

		put(&s->b, &c, 1);
	}
}

static void frame(struct bytes *b, int type, const void *p, size_t n)
{
	uint8_t h[TM_CTL_FRAME_HDR];

	tm_ctl_frame_header(h, type, (uint32_t)n);
	put(b, h, sizeof(h));
	put(b, p, n);
}

/* The stream as D frames of at most chunk bytes. */
static void frames_of(struct bytes *b, const struct pstream *s, size_t chunk)
{
	for (size_t o = 0; o < s->b.n; o += chunk)
		frame(b, 'D', s->b.p + o, s->b.n - o < chunk ? s->b.n - o :
		    chunk);
}

static void k_packets(struct bytes *b, unsigned packets)
{
	char j[128];

	snprintf(j, sizeof(j), "{\"packets\":%u,\"bytes\":%u}", packets,
	    packets * 10);
	frame(b, 'K', j, strlen(j));
}

struct fake {
	char path[128];
	int lfd;
	struct bytes answer;	/* sent after the request */
	size_t piece;		/* write in pieces of this many bytes
				 * (0: at once), with a short pause */
	int silent;		/* send nothing, keep the connection */
	int hold;		/* after the answer, keep the connection */
	int no_accept;		/* never accept */
	char request[512];	/* the lines it got */
	pthread_t th;
	int started;
	int stop;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	size_t got = 0;
	int fd;

	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	/* the request: until a line that is not auth */
	for (;;) {
		ssize_t r = recv(fd, f->request + got,
		    sizeof(f->request) - 1 - got, 0);
		char *nl;

		if (r <= 0)
			break;
		got += (size_t)r;
		f->request[got] = '\0';
		nl = strchr(f->request, '\n');
		if (nl && strncmp(f->request, "auth ", 5) == 0)
			nl = strchr(nl + 1, '\n');
		if (nl || got == sizeof(f->request) - 1)
			break;
	}
	if (f->silent) {
		while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
			usleep(10000);
		close(fd);
		return NULL;
	}
	for (size_t o = 0; o < f->answer.n;) {
		size_t n = f->piece ? f->piece : f->answer.n;
		ssize_t w;

		if (n > f->answer.n - o)
			n = f->answer.n - o;
		w = send(fd, f->answer.p + o, n, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		o += (size_t)w;
		if (f->piece)
			usleep(200);
	}
	while (f->hold && !__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
		usleep(10000);
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, const char *name)
{
	struct sockaddr_un sa;

	snprintf(f->path, sizeof(f->path), "%s/%s.sock", g_dir, name);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(f->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->path, strlen(f->path));
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	if (!f->no_accept) {
		assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
		f->started = 1;
	}
}

static void fake_end(struct fake *f)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	if (f->started) {
		shutdown(f->lfd, SHUT_RDWR);
		pthread_join(f->th, NULL);
	}
	close(f->lfd);
	unlink(f->path);
	free(f->answer.p);
}

struct outcome {
	int rc;
	char err[512];
	struct tm_cq_node res[8];
	struct tm_cq_summary sum;
	char *pcap;
	size_t plen;
	char notes[1024];
	double secs;
};

static void note_cb(void *arg, size_t node, const char *text)
{
	struct outcome *o = arg;
	size_t n = strlen(o->notes);

	snprintf(o->notes + n, sizeof(o->notes) - n, "[%zu]%s|", node, text);
}

static void run(struct fake *fk, size_t n, int verb_pcap, int timeout_ms,
    struct outcome *oc)
{
	struct tm_cq_target t[8];
	const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	struct tm_ctl_req req;
	struct tm_cq_opts o;
	struct timespec t0, t1;
	FILE *f = NULL;

	memset(oc, 0, sizeof(*oc));
	for (size_t i = 0; i < n; i++) {
		t[i].name = names[i];
		t[i].address = fk[i].path;
		t[i].token = i == 1 ? "tok-b" : NULL;
	}
	memset(&req, 0, sizeof(req));
	req.verb = TM_CTL_QUERY;
	req.count_only = !verb_pcap;
	req.expr = "tcp port 80";
	if (verb_pcap)
		f = open_memstream(&oc->pcap, &oc->plen);
	memset(&o, 0, sizeof(o));
	o.t = t;
	o.n = n;
	o.req = &req;
	o.pcap = f;
	o.timeout_ms = timeout_ms;
	o.note = note_cb;
	o.note_arg = oc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	oc->rc = tm_cq_run(&o, oc->res, &oc->sum, oc->err, sizeof(oc->err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	oc->secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (f)
		fclose(f);
}

static void outcome_free(struct outcome *oc, size_t n)
{
	tm_cq_nodes_free(oc->res, n);
	free(oc->pcap);
}

/* The merged pcap's records as "sec.frac/tag" (tag: the first byte). */
static void records_of(const struct outcome *oc, char *out, size_t len,
    uint32_t *linktype)
{
	const uint8_t *p = (const uint8_t *)oc->pcap;
	size_t o = 24, w = 0;

	out[0] = '\0';
	assert_true(oc->plen >= 24);
	assert_int_equal(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24,
	    0xa1b23c4du);
	*linktype = p[20] | p[21] << 8 | p[22] << 16 | (uint32_t)p[23] << 24;
	while (o + 16 <= oc->plen) {
		uint32_t sec = p[o] | p[o + 1] << 8 | p[o + 2] << 16 |
		    (uint32_t)p[o + 3] << 24;
		uint32_t ns = p[o + 4] | p[o + 5] << 8 | p[o + 6] << 16 |
		    (uint32_t)p[o + 7] << 24;
		uint32_t cl = p[o + 8] | p[o + 9] << 8 | p[o + 10] << 16 |
		    (uint32_t)p[o + 11] << 24;
		uint32_t ol = p[o + 12] | p[o + 13] << 8 | p[o + 14] << 16 |
		    (uint32_t)p[o + 15] << 24;

		assert_int_equal(ol, cl + 4);
		assert_true(o + 16 + cl <= oc->plen);
		for (uint32_t i = 1; i < cl; i++)
			assert_int_equal(p[o + 16 + i],
			    (uint8_t)(p[o + 16] + i));
		if (w < len)
			w += (size_t)snprintf(out + w, len - w, "%u.%09u/%u ",
			    sec, ns, cl ? p[o + 16] : 0);
		o += 16 + cl;
	}
	assert_int_equal(o, oc->plen);
}

static void test_merge_order(void **state)
{
	struct fake fk[3];
	struct pstream s[3];
	struct outcome oc;
	char got[2048];
	uint32_t lt;

	(void)state;
	memset(fk, 0, sizeof(fk));
	memset(s, 0, sizeof(s));
	/* a: ns, little-endian; b: us, big-endian (converted); c: ns in
	 * one-byte D frames. Ties at 10.5 s: a before b before c. */
	ps_header(&s[0], 1, 0, 0);
	ps_rec(&s[0], 10, 100, 60, 0xa0);
	ps_rec(&s[0], 10, 500000000, 61, 0xa1);
	ps_rec(&s[0], 12, 0, 62, 0xa2);
	ps_header(&s[1], 1, 1, 1);
	ps_rec(&s[1], 9, 999999, 40, 0xb0);
	ps_rec(&s[1], 10, 500000, 41, 0xb1);
	ps_rec(&s[1], 11, 0, 1500, 0xb2);
	ps_rec(&s[1], 13, 1, 0, 0xb3);
	ps_header(&s[2], 1, 0, 0);
	ps_rec(&s[2], 10, 500000000, 30, 0xc0);
	ps_rec(&s[2], 10, 500000000, 31, 0xc1);
	frames_of(&fk[0].answer, &s[0], 1 << 20);
	k_packets(&fk[0].answer, 3);
	frame(&fk[1].answer, 'N', "reading\x01 2 segments", 19);
	frames_of(&fk[1].answer, &s[1], 7);
	k_packets(&fk[1].answer, 4);
	frames_of(&fk[2].answer, &s[2], 1);
	k_packets(&fk[2].answer, 2);
	fk[2].piece = 3;
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	fake_start(&fk[2], "c");
	run(fk, 3, 1, 5000, &oc);
	if (oc.rc)
		fail_msg("%s", oc.err);
	for (int i = 0; i < 3; i++)
		if (!oc.res[i].ok)
			fail_msg("node %d: %s", i, oc.res[i].why);
	records_of(&oc, got, sizeof(got), &lt);
	assert_string_equal(got,
	    "9.999999000/176 10.000000100/160 10.500000000/161 "
	    "10.500000000/177 10.500000000/192 10.500000000/193 "
	    "11.000000000/178 12.000000000/162 13.000001000/0 ");
	assert_int_equal(lt, 1);
	assert_int_equal(oc.sum.packets, 9);
	assert_int_equal(oc.sum.failed, 0);
	assert_int_equal(oc.res[0].packets, 3);
	assert_int_equal(oc.res[1].packets, 4);
	assert_int_equal(oc.res[2].packets, 2);
	assert_int_equal(oc.sum.captured, 60 + 61 + 62 + 40 + 41 + 1500 + 30 +
	    31);
	assert_int_equal(oc.sum.bytes, oc.sum.captured + 9 * 4);
	assert_string_equal(oc.notes, "[1]reading  2 segments|");
	/* each node got the request; b with its token first */
	assert_string_equal(fk[0].request, "query pcap tcp port 80\n");
	assert_string_equal(fk[1].request, "auth tok-b\nquery pcap tcp port "
	    "80\n");
	outcome_free(&oc, 3);
	for (int i = 0; i < 3; i++)
		fake_end(&fk[i]);
	ps_free(s, 3);
}

static void test_merge_linktypes(void **state)
{
	struct fake fk[3];
	struct pstream s[3];
	struct outcome oc;
	char got[512];
	uint32_t lt;

	(void)state;
	memset(fk, 0, sizeof(fk));
	memset(s, 0, sizeof(s));
	ps_header(&s[0], 1, 0, 0);
	ps_rec(&s[0], 1, 0, 20, 1);
	ps_header(&s[1], 101, 0, 0);
	ps_rec(&s[1], 2, 0, 20, 2);
	frames_of(&fk[0].answer, &s[0], 1 << 20);
	k_packets(&fk[0].answer, 1);
	frames_of(&fk[1].answer, &s[1], 1 << 20);
	k_packets(&fk[1].answer, 1);
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	run(fk, 2, 1, 5000, &oc);
	assert_int_equal(oc.rc, -1);
	assert_non_null(strstr(oc.err, "nodes a and b answer with link types "
	    "1 and 101"));
	outcome_free(&oc, 2);
	fake_end(&fk[0]);
	fake_end(&fk[1]);
	ps_free(s, 3);

	/* a node without packets does not count: its header is the default
	 * a service writes for an empty answer */
	memset(fk, 0, sizeof(fk));
	memset(s, 0, sizeof(s));
	ps_header(&s[0], 1, 0, 0);
	ps_header(&s[1], 101, 0, 0);
	ps_rec(&s[1], 2, 0, 20, 2);
	ps_header(&s[2], 228, 0, 0);
	frames_of(&fk[0].answer, &s[0], 1 << 20);
	k_packets(&fk[0].answer, 0);
	frames_of(&fk[1].answer, &s[1], 1 << 20);
	k_packets(&fk[1].answer, 1);
	frames_of(&fk[2].answer, &s[2], 1 << 20);
	k_packets(&fk[2].answer, 0);
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	fake_start(&fk[2], "c");
	run(fk, 3, 1, 5000, &oc);
	if (oc.rc)
		fail_msg("%s", oc.err);
	records_of(&oc, got, sizeof(got), &lt);
	assert_int_equal(lt, 101);
	assert_string_equal(got, "2.000000000/2 ");
	outcome_free(&oc, 3);
	for (int i = 0; i < 3; i++)
		fake_end(&fk[i]);
	ps_free(s, 3);

	/* no target: an empty pcap, Ethernet */
	run(fk, 0, 1, 5000, &oc);
	assert_int_equal(oc.rc, 0);
	assert_int_equal(oc.plen, 24);
	records_of(&oc, got, sizeof(got), &lt);
	assert_int_equal(lt, 1);
	outcome_free(&oc, 0);
}

/* One good node, and b misbehaving as `bad` builds it: b is given up with
 * a reason containing want, a's packets are all there, within limits. */
static void one_bad(void (*bad)(struct fake *f, struct pstream *s),
    const char *want, int timeout_ms, double max_secs)
{
	struct fake fk[2];
	struct pstream s[2];
	struct outcome oc;
	char got[512];
	uint32_t lt;

	memset(fk, 0, sizeof(fk));
	memset(s, 0, sizeof(s));
	ps_header(&s[0], 1, 0, 0);
	ps_rec(&s[0], 5, 0, 20, 0x10);
	ps_rec(&s[0], 7, 0, 20, 0x11);
	frames_of(&fk[0].answer, &s[0], 1 << 20);
	k_packets(&fk[0].answer, 2);
	bad(&fk[1], &s[1]);
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	run(fk, 2, 1, timeout_ms, &oc);
	if (oc.rc)
		fail_msg("%s: %s", want, oc.err);
	assert_int_equal(oc.res[0].ok, 1);
	assert_int_equal(oc.res[1].ok, 0);
	assert_int_equal(oc.sum.failed, 1);
	if (!strstr(oc.res[1].why, want))
		fail_msg("b's reason '%s' does not contain '%s'",
		    oc.res[1].why, want);
	records_of(&oc, got, sizeof(got), &lt);
	/* a's two, and b's packets before it went wrong (at 6 s) */
	if (strcmp(got, "5.000000000/16 7.000000000/17 ") != 0 &&
	    strcmp(got, "5.000000000/16 6.000000000/32 7.000000000/17 ") != 0)
		fail_msg("%s: merged %s", want, got);
	if (oc.secs > max_secs)
		fail_msg("%s: took %.2f s", want, oc.secs);
	outcome_free(&oc, 2);
	fake_end(&fk[0]);
	fake_end(&fk[1]);
	ps_free(s, 2);
}

static void bad_error(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
	frame(&f->answer, 'E', "store: segment 3 is\x07 damaged", 28);
}

static void bad_caplen(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	put32(&s->b, 6, 0);
	put32(&s->b, 5, 0);
	put32(&s->b, 262145, 0);
	put32(&s->b, 262145, 0);
	frames_of(&f->answer, s, 1 << 20);
}

static void bad_frame_len(struct fake *f, struct pstream *s)
{
	uint8_t h[5] = { 'D', 0x00, 0x10, 0x00, 0x01 };	/* 1 MiB + 1 */

	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
	put(&f->answer, h, sizeof(h));
}

static void bad_type(struct fake *f, struct pstream *s)
{
	(void)s;
	frame(&f->answer, 'X', "", 0);
}

static void bad_eof(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
}

static void bad_eof_in_record(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	ps_rec(s, 8, 0, 20, 0x21);
	s->b.n -= 5;
	frames_of(&f->answer, s, 1 << 20);
	k_packets(&f->answer, 2);
}

static void bad_not_pcap(struct fake *f, struct pstream *s)
{
	put(&s->b, "this is not a pcap stream at all", 32);
	frames_of(&f->answer, s, 1 << 20);
	k_packets(&f->answer, 0);
}

static void bad_no_pcap(struct fake *f, struct pstream *s)
{
	(void)s;
	k_packets(&f->answer, 0);
}

static void bad_count(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
	k_packets(&f->answer, 5);
}

static void bad_json(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
	frame(&f->answer, 'K', "{\"packets\":1,", 13);
}

static void bad_frac(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 1);	/* microseconds */
	ps_rec(s, 6, 0, 20, 0x20);
	ps_rec(s, 6, 1000000, 20, 0x21);
	frames_of(&f->answer, s, 1 << 20);
	k_packets(&f->answer, 2);
}

static void bad_backwards(struct fake *f, struct pstream *s)
{
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	ps_rec(s, 5, 500000000, 20, 0x21);
	frames_of(&f->answer, s, 1 << 20);
	k_packets(&f->answer, 2);
}

static void bad_silent(struct fake *f, struct pstream *s)
{
	(void)s;
	f->silent = 1;
}

static void bad_stalls(struct fake *f, struct pstream *s)
{
	/* one packet, then silence without an end */
	ps_header(s, 1, 0, 0);
	ps_rec(s, 6, 0, 20, 0x20);
	frames_of(&f->answer, s, 1 << 20);
	f->hold = 1;
}

static void bad_absent(struct fake *f, struct pstream *s)
{
	(void)s;
	f->no_accept = 1;
}

static void test_merge_failures(void **state)
{
	(void)state;
	one_bad(bad_error, "store: segment 3 is? damaged", 5000, 4);
	one_bad(bad_caplen, "a packet record of 262145 bytes", 5000, 4);
	one_bad(bad_frame_len, "bad frame header", 5000, 4);
	one_bad(bad_type, "bad frame header", 5000, 4);
	one_bad(bad_eof, "connection lost before the answer ended", 5000, 4);
	one_bad(bad_eof_in_record, "ends inside a packet record", 5000, 4);
	one_bad(bad_not_pcap, "not a classic pcap stream", 5000, 4);
	one_bad(bad_no_pcap, "no pcap stream", 5000, 4);
	one_bad(bad_count, "counted 5 packets but sent 1", 5000, 4);
	one_bad(bad_json, "not a JSON object", 5000, 4);
	one_bad(bad_frac, "1000000 microseconds", 5000, 4);
	one_bad(bad_backwards, "go back in time (5.500000000 after "
	    "6.000000000)", 5000, 4);
	/* silence: given up after the timeout, not before, never a hang */
	one_bad(bad_silent, "no answer for 300 ms", 300, 2);
	one_bad(bad_absent, "no answer for 300 ms", 300, 2);
	one_bad(bad_stalls, "no answer for 300 ms", 300, 2);
}

static void test_merge_stall_timing(void **state)
{
	struct fake fk[2];
	struct pstream s[2];
	struct outcome oc;

	(void)state;
	/* a stall after a packet: the timeout runs from the last byte */
	memset(fk, 0, sizeof(fk));
	memset(s, 0, sizeof(s));
	ps_header(&s[0], 1, 0, 0);
	ps_rec(&s[0], 5, 0, 20, 0x10);
	frames_of(&fk[0].answer, &s[0], 1 << 20);
	k_packets(&fk[0].answer, 1);
	ps_header(&s[1], 1, 0, 0);
	ps_rec(&s[1], 6, 0, 20, 0x20);
	frames_of(&fk[1].answer, &s[1], 1 << 20);
	fk[1].hold = 1;		/* one packet, then nothing, no end */
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	run(fk, 2, 1, 400, &oc);
	assert_int_equal(oc.rc, 0);
	assert_int_equal(oc.res[1].ok, 0);
	assert_non_null(strstr(oc.res[1].why, "no answer for 400 ms"));
	assert_true(oc.secs >= 0.39);
	assert_true(oc.secs < 2);
	assert_int_equal(oc.sum.packets, 2);	/* b's first is whole */
	assert_int_equal(oc.res[1].packets, 1);
	outcome_free(&oc, 2);
	fake_end(&fk[0]);
	fake_end(&fk[1]);
	ps_free(s, 2);
}

static void test_count_mode(void **state)
{
	struct fake fk[3];
	struct pstream s;
	struct outcome oc;

	(void)state;
	memset(fk, 0, sizeof(fk));
	memset(&s, 0, sizeof(s));
	frame(&fk[0].answer, 'N', "hello", 5);
	k_packets(&fk[0].answer, 7);
	/* data in a count answer is a protocol error */
	ps_header(&s, 1, 0, 0);
	frames_of(&fk[1].answer, &s, 1 << 20);
	k_packets(&fk[1].answer, 0);
	/* an empty K is fine */
	frame(&fk[2].answer, 'K', "{}", 2);
	fake_start(&fk[0], "a");
	fake_start(&fk[1], "b");
	fake_start(&fk[2], "c");
	run(fk, 3, 0, 5000, &oc);
	assert_int_equal(oc.rc, 0);
	assert_int_equal(oc.res[0].ok, 1);
	assert_string_equal(oc.res[0].json, "{\"packets\":7,\"bytes\":70}");
	assert_int_equal(oc.res[1].ok, 0);
	assert_non_null(strstr(oc.res[1].why, "data in an answer"));
	assert_int_equal(oc.res[2].ok, 1);
	assert_string_equal(oc.res[2].json, "{}");
	assert_string_equal(oc.notes, "[0]hello|");
	assert_string_equal(fk[0].request, "query count tcp port 80\n");
	assert_null(oc.pcap);
	outcome_free(&oc, 3);
	for (int i = 0; i < 3; i++)
		fake_end(&fk[i]);
	ps_free(&s, 1);
}

/* A node that answers after the others ended: the merge waits for it
 * (it is not silent), and a node whose connection is refused is named. */
static void test_unreachable(void **state)
{
	struct fake fk[2];
	struct pstream s;
	struct outcome oc;
	char got[8192];
	uint32_t lt;

	(void)state;
	memset(fk, 0, sizeof(fk));
	memset(&s, 0, sizeof(s));
	ps_header(&s, 1, 0, 0);
	for (int i = 0; i < 200; i++)
		ps_rec(&s, 100 + (uint32_t)i, 0, 10, (uint8_t)i);
	frames_of(&fk[0].answer, &s, 1000);
	k_packets(&fk[0].answer, 200);
	fk[0].piece = 512;
	fake_start(&fk[0], "a");
	snprintf(fk[1].path, sizeof(fk[1].path), "%s/nothing.sock", g_dir);
	run(fk, 2, 1, 5000, &oc);
	assert_int_equal(oc.rc, 0);
	assert_int_equal(oc.res[0].ok, 1);
	assert_int_equal(oc.res[1].ok, 0);
	assert_non_null(strstr(oc.res[1].why, "no such socket"));
	assert_int_equal(oc.sum.packets, 200);
	records_of(&oc, got, sizeof(got), &lt);
	assert_int_equal(strncmp(got, "100.000000000/0 101.000000000/1 ", 32),
	    0);
	outcome_free(&oc, 2);
	fake_end(&fk[0]);
	ps_free(&s, 1);

	/* every node unreachable: no pcap header is written */
	run(fk + 1, 1, 1, 5000, &oc);
	assert_int_equal(oc.rc, 0);
	assert_int_equal(oc.sum.failed, 1);
	assert_int_equal(oc.sum.header_written, 0);
	assert_int_equal(oc.plen, 0);
	outcome_free(&oc, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_networks),
		cmocka_unit_test(test_route_logic),
		cmocka_unit_test(test_route_vlans),
		cmocka_unit_test(test_route_why),
		cmocka_unit_test(test_parse_net),
		cmocka_unit_test_setup_teardown(test_file_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
		    teardown),
		cmocka_unit_test(test_adhoc),
		cmocka_unit_test(test_json),
		cmocka_unit_test_setup_teardown(test_merge_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_linktypes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_stall_timing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_count_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
