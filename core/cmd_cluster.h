/*
 * What `tm query --cluster` / `--node` (core/cmd_cluster.c) and
 * `tm frontend` (core/cmd_frontend.c) share: the nodes' tokens, and a
 * query's plan (the expression checked, the text sent to the nodes, which
 * nodes are asked).
 */
#ifndef TM_CMD_CLUSTER_H
#define TM_CMD_CLUSTER_H

#include <stddef.h>

#include "cluster.h"

/* "NAME (ADDRESS)", or NAME alone when it is the address (--node). */
void tm_cl_label(char *buf, size_t len, const char *name,
    const char *address);

/* Exit status of a partial answer (some nodes missing). */
#define TM_EXIT_PARTIAL 3

/*
 * The token of each node: its token_file, else fallback_file, else the
 * environment's TM_TOKEN; NULL: none. *toks: n_nodes entries (free with
 * tm_cl_tokens_free). 0, or -1 with err.
 */
int tm_cl_tokens(const struct tm_cluster *c, const char *fallback_file,
    char ***toks, char *err, size_t errlen);
void tm_cl_tokens_free(char **toks, size_t n);

struct tm_cl_plan {
	char *send;		/* the expression for the nodes */
	int *ask;		/* per node: 1 asked, 0 skipped */
	char (*why)[256];	/* per skipped node: what excludes it */
	size_t n_ask;
};

/*
 * Compiles text (a query: time predicates allowed) and decides which
 * nodes to ask. Relative times (last 10m, 10m ago) are resolved here, once,
 * and sent as absolute times, so every node searches the same window.
 * 0; -1 with err (the compiler's message, an empty time range): a usage
 * error; -2: out of memory.
 */
int tm_cl_plan_query(const struct tm_cluster *c, const char *text,
    struct tm_cl_plan *p, char *err, size_t errlen);
void tm_cl_plan_free(struct tm_cl_plan *p);

#endif
