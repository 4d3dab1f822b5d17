/* A read-only view of the compiled tree for the query planner
 * (expr_walk.h). */
#include <string.h>

#include "expr_int.h"
#include "expr_walk.h"

uint32_t tm_expr_root(const struct tm_expr *e)
{
	return e->root;
}

uint32_t tm_expr_n_nodes(const struct tm_expr *e)
{
	return e->n_nodes;
}

static const enum tm_xkind kinds[] = {
	[N_TRUE] = TM_X_TRUE, [N_AND] = TM_X_AND, [N_OR] = TM_X_OR,
	[N_NOT] = TM_X_NOT, [N_NET] = TM_X_NET, [N_PORT] = TM_X_PORT,
	[N_PROTO] = TM_X_PROTO, [N_L3] = TM_X_L3, [N_SPI] = TM_X_SPI,
	[N_VLAN] = TM_X_VLAN, [N_VLAN_ANY] = TM_X_VLAN_ANY,
	[N_TUNNEL] = TM_X_TUNNEL, [N_TUNNEL_ANY] = TM_X_TUNNEL_ANY,
	[N_TID] = TM_X_TID, [N_APP] = TM_X_APP, [N_CLASS] = TM_X_CLASS,
	[N_CID] = TM_X_CID, [N_AFTER] = TM_X_AFTER, [N_BEFORE] = TM_X_BEFORE,
};

void tm_expr_node(const struct tm_expr *e, uint32_t id, struct tm_xnode *out)
{
	const struct node *n = &e->nodes[id];

	memset(out, 0, sizeof(*out));
	out->kind = n->kind < sizeof(kinds) / sizeof(kinds[0]) ?
	    kinds[n->kind] : TM_X_TRUE;
	out->scope = (enum tm_xscope)n->scope;
	out->dir = (enum tm_xdir)n->dir;
	switch (n->kind) {
	case N_AND:
	case N_OR:
		out->n_kids = n->count;
		break;
	case N_NOT:
		out->n_kids = 1;
		break;
	case N_NET:
		out->family = n->u.net.family;
		out->plen = n->u.net.plen;
		memcpy(out->addr, n->u.net.addr, 16);
		memcpy(out->mask, n->u.net.mask, 16);
		break;
	case N_PORT:
		out->port_lo = n->u.port.lo;
		out->port_hi = n->u.port.hi;
		break;
	case N_PROTO:
		out->proto = n->u.proto;
		break;
	case N_L3:
		out->l3 = n->u.l3;
		break;
	case N_SPI:
	case N_VLAN:
		out->num = n->u.num;
		break;
	case N_TUNNEL:
		out->tun_type = n->u.tun.type;
		out->tun_plugin = n->u.tun.type == TUN_PLUGIN;
		out->tun_name = n->u.tun.name;
		break;
	case N_TID:
		out->tid_flag = n->u.tid.flag;
		out->tid_type = n->u.tid.type;
		out->tid_val = n->u.tid.val;
		break;
	case N_APP:
	case N_CLASS:
		out->str = n->u.str.s;
		out->str_len = n->u.str.len;
		break;
	case N_CID:
		out->str = n->u.cid.s;
		out->str_len = n->u.cid.s ? strlen(n->u.cid.s) : 0;
		break;
	case N_AFTER:
	case N_BEFORE:
		out->ts = n->u.ts;
		break;
	default:
		break;
	}
}

uint32_t tm_expr_kid(const struct tm_expr *e, uint32_t id, uint32_t k)
{
	const struct node *n = &e->nodes[id];

	if (n->kind == N_NOT)
		return n->first;
	return e->kids[n->first + k];
}

enum tm_expr_result tm_expr_eval_node(const struct tm_expr *e, uint32_t id,
    const struct tm_packet *pkt, const struct tm_expr_conn *conn,
    int64_t ts_ns)
{
	struct tm_expr sub = *e;	/* the same tree, another root */

	sub.root = id;
	return tm_expr_eval_at(&sub, pkt, conn, ts_ns);
}

size_t tm_expr_format_node(const struct tm_expr *e, uint32_t id, char *buf,
    size_t len)
{
	struct tm_expr sub = *e;

	sub.root = id;
	return tm_expr_format(&sub, buf, len);
}

int tm_expr_app_matches(const char *app, const char *name, size_t nlen)
{
	const char *p = app;

	if (tm_expr_ieq(app, strlen(app), name, nlen))
		return 1;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (tm_expr_ieq(p, l, name, nlen))
			return 1;
		if (!dot)
			return 0;
		p = dot + 1;
	}
}
