/*
 * The normalized key: innermost network layer, transport, endpoints in
 * canonical order (the smaller (address, port) first) and a context hash of
 * VLAN ids and the tunnel stack. ESP is the exception: a security
 * association is one direction, so its endpoints keep packet order.
 */
#include "key.h"

#include <string.h>

/* the hash is on the per-packet path: inline it rather than call it */
#define XXH_INLINE_ALL
#include <xxhash.h>

static int addr_len(uint8_t family)
{
	return family == 6 ? 16 : family == 4 ? 4 : 0;
}

static int endpoint_cmp(const struct tm_addr *a, uint16_t pa,
    const struct tm_addr *b, uint16_t pb)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* constant sizes, so the compiler inlines the comparison */
	c = a->family == 6 ? memcmp(a->a, b->a, 16) : a->family == 4 ?
	    memcmp(a->a, b->a, 4) : 0;
	if (c)
		return c;
	return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/* The context as a small canonical byte string, then hashed. */
uint64_t tm_context_hash(const struct tm_packet *pkt, unsigned ctx_mask)
{
	uint8_t buf[TM_MAX_VLANS * 2 + TM_MAX_TUNNELS * 72 + 4];
	size_t n = 0;

	if ((ctx_mask & TM_CTX_VLAN) && pkt->n_vlans) {
		buf[n++] = 'V';
		buf[n++] = pkt->n_vlans;
		for (unsigned i = 0; i < pkt->n_vlans; i++) {
			buf[n++] = (uint8_t)(pkt->vlans[i] >> 8);
			buf[n++] = (uint8_t)pkt->vlans[i];
		}
	}
	if ((ctx_mask & TM_CTX_TUNNEL) && pkt->n_tunnels) {
		buf[n++] = 'T';
		buf[n++] = pkt->n_tunnels;
		for (unsigned i = 0; i < pkt->n_tunnels; i++) {
			const struct tm_tunnel *t = &pkt->tunnels[i];
			const struct tm_addr *lo = &t->src, *hi = &t->dst;
			uint32_t ids[6] = { t->key, t->tunnel_id, t->session_id,
				t->vni, t->teid, t->label };

			/* outer endpoints unordered: both directions alike */
			if (endpoint_cmp(lo, 0, hi, 0) > 0) {
				lo = &t->dst;
				hi = &t->src;
			}
			buf[n++] = t->type;
			buf[n++] = t->ids;
			buf[n++] = (uint8_t)(t->payload >> 8);
			buf[n++] = (uint8_t)t->payload;
			buf[n++] = lo->family;
			memcpy(buf + n, lo->a, (size_t)addr_len(lo->family));
			n += (size_t)addr_len(lo->family);
			buf[n++] = hi->family;
			memcpy(buf + n, hi->a, (size_t)addr_len(hi->family));
			n += (size_t)addr_len(hi->family);
			for (unsigned k = 0; k < 6; k++)
				if (t->ids & (1u << k)) {
					memcpy(buf + n, &ids[k], 4);
					n += 4;
				}
		}
	}
	return n ? XXH3_64bits(buf, n) : 0;
}

void tm_key_make(const struct tm_packet *pkt, unsigned ctx_mask,
    struct tm_key *key, int *dir)
{
	const struct tm_addr *s = &pkt->src, *d = &pkt->dst;
	uint16_t sp = 0, dp = 0;
	int swap;

	memset(key, 0, sizeof(*key));
	key->l3 = pkt->l3;
	key->ethertype = pkt->ethertype;
	if (pkt->flags & TM_PF_HAS_PROTO)
		key->proto = pkt->proto;
	if (pkt->flags & TM_PF_HAS_PORTS) {
		sp = pkt->sport;
		dp = pkt->dport;
	} else if (pkt->flags & TM_PF_HAS_ICMPID) {
		sp = dp = pkt->icmp_id;
	}
	if (pkt->flags & TM_PF_HAS_SPI)
		key->spi = pkt->spi;
	/* an ESP security association is one direction: no canonical swap */
	swap = (pkt->flags & TM_PF_HAS_SPI) && !(pkt->flags & TM_PF_HAS_PORTS)
	    ? 0 : endpoint_cmp(s, sp, d, dp) > 0;
	if (swap) {
		const struct tm_addr *t = s;
		uint16_t tp = sp;

		s = d;
		d = t;
		sp = dp;
		dp = tp;
	}
	key->fam_a = s->family;
	key->fam_b = d->family;
	memcpy(key->addr_a, s->a, (size_t)addr_len(s->family));
	memcpy(key->addr_b, d->a, (size_t)addr_len(d->family));
	key->port_a = sp;
	key->port_b = dp;
	key->ctx = tm_context_hash(pkt, ctx_mask);
	*dir = swap;
}

uint64_t tm_key_hash(const struct tm_key *key)
{
	return XXH3_64bits(key, sizeof(*key));
}
