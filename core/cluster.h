/*
 * A cluster of capture services behind one query front-end
 * (docs/deployment.md): the cluster file (YAML) and the routing decision,
 * which nodes can hold packets an expression matches.
 *
 *   timeout: 10s
 *   listen: { socket: /run/tm/front.sock, mode: "0660", group: tm,
 *             tcp: ":7070", token_file: /etc/tm/front.token }
 *   nodes:
 *     - name: a
 *       address: /var/lib/tm/a          (unix:PATH, a path, HOST:PORT)
 *       token_file: /etc/tm/a.token
 *       networks: [10.1.0.0/16, "2001:db8:1::/48"]
 *       vlans: [100, 101]
 *       share: 1/3
 *
 * Every mistake is "FILE:LINE:COLUMN: message" (core/config_walk.c).
 */
#ifndef TM_CLUSTER_H
#define TM_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct tm_expr;

#define TM_CLUSTER_MAX_NODES 256
#define TM_CLUSTER_MAX_NETS 65536	/* per node */
#define TM_CLUSTER_NAME_MAX 64
#define TM_CLUSTER_DEFAULT_TIMEOUT_MS 10000

/* A prefix: family 4 or 6, addr masked to plen bits. */
struct tm_cluster_net {
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];
};

struct tm_cluster_node {
	char *name;
	char *address;		/* as tm_ctl_connect takes it */
	char *token_file;	/* NULL: --token-file / TM_TOKEN */
	/* networks: every packet the node holds has its inner (innermost)
	 * source and destination addresses inside these prefixes; packets
	 * without addresses (not IP, not ARP) are not concerned */
	int has_networks;
	struct tm_cluster_net *nets;
	size_t n_nets;
	/* vlans: every VLAN tag of every packet the node holds is one of
	 * these ("[]": its packets carry no tag) */
	int has_vlans;
	uint16_t *vlans;
	size_t n_vlans;
	unsigned share_i, share_n;	/* share: "i/n"; 0/0: none */
	int line;			/* where the node starts, 1-based */
};

struct tm_cluster_listen {
	char *socket;		/* NULL: no Unix socket */
	unsigned mode;		/* 0660 unless set */
	char *group;
	char *tcp;		/* HOST:PORT; NULL: none */
	char *token_file;	/* required with tcp */
};

struct tm_cluster {
	char *file;
	struct tm_cluster_node *nodes;
	size_t n_nodes;
	int timeout_ms;		/* a node silent this long is given up */
	int has_listen;
	struct tm_cluster_listen listen;
};

/* Reads and checks a cluster file. 0, or -1 with err
 * "FILE:LINE:COLUMN: message" (c is then empty; tm_cluster_free is
 * still allowed). */
int tm_cluster_load(struct tm_cluster *c, const char *file, char *err,
    size_t errlen);
void tm_cluster_free(struct tm_cluster *c);

/* An ad-hoc cluster (tm query --node ADDR ...): one node per address,
 * named by it, nothing known about its traffic. 0, or -1 with err. */
int tm_cluster_adhoc(struct tm_cluster *c, const char *const *addrs, size_t n,
    char *err, size_t errlen);

/*
 * "10.0.0.0/8", "2001:db8::/32", an address alone (/32, /128). Bits set
 * beyond the prefix are an error, as in the query language. 0, or -1 with
 * a message (without position) in err.
 */
int tm_cluster_parse_net(const char *s, struct tm_cluster_net *out,
    char *err, size_t errlen);

/*
 * The routing decision: 1 if node n may hold packets e matches (it is
 * asked), 0 if it cannot (skipped), with why (NUL-terminated, may be NULL)
 * naming what excludes it. Conservative: only host/net predicates of the
 * inner scope (any direction) are checked against networks and vlan
 * predicates against vlans, through and (all must be possible) and or
 * (one must be); not, outer/any scopes and everything else may match.
 */
int tm_cluster_may_hold(const struct tm_cluster_node *n,
    const struct tm_expr *e, char *why, size_t whylen);

#endif
