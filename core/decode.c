/*
 * The decode loop. It knows no protocol: it asks the dispatch tables who
 * handles (table, value), gives that dissector a cursor over the rest of the
 * frame, and follows the verdict. Iterative, with a hard cap on layers and
 * the tunnel depth limit enforced by tm_push_tunnel().
 */
#include "decode.h"

#include <string.h>

static void reset(struct tm_packet *pkt, const uint8_t *data, uint32_t caplen,
    uint32_t len, uint16_t linktype, unsigned max_depth)
{
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->len = len < caplen ? caplen : len;
	pkt->linktype = linktype;
	pkt->n_layers = 0;
	pkt->l3 = TM_L3_NONE;
	pkt->ethertype = 0;
	pkt->src.family = pkt->dst.family = 0;
	pkt->outer_src.family = pkt->outer_dst.family = 0;
	pkt->proto = 0;
	pkt->sport = pkt->dport = 0;
	pkt->spi = 0;
	pkt->icmp_type = pkt->icmp_code = 0;
	pkt->icmp_id = 0;
	pkt->flags = 0;
	pkt->n_vlans = 0;
	pkt->n_tunnels = 0;
	pkt->n_events = 0;
	pkt->n_events_lost = 0;
	pkt->cur_event_base = 0;
	pkt->via_table = 0;
	pkt->via_value = 0;
	pkt->depth = 0;
	pkt->max_depth = (uint16_t)max_depth;
	pkt->scratch = 0;
}

static void core_event(struct tm_packet *pkt, unsigned id)
{
	if (pkt->n_events < TM_MAX_EVENTS)
		pkt->events[pkt->n_events++] = (uint16_t)id;
	else
		pkt->n_events_lost++;
}

/* Who handles (table, value)? GRE protocol types fall back to ethertypes. */
static int lookup(const struct tm_registry *r, struct tm_packet *pkt,
    unsigned table, uint16_t value)
{
	int d = tm_registry_lookup(r, table, value);

	if (d < 0 && table == TM_TABLE_GRE_PROTO) {
		table = TM_TABLE_ETHERTYPE;
		d = tm_registry_lookup(r, table, value);
	}
	if (table == TM_TABLE_ETHERTYPE)
		pkt->ethertype = value;
	return d;
}

void tm_decode(const struct tm_registry *r, struct tm_packet *pkt,
    const uint8_t *data, uint32_t caplen, uint32_t len, uint16_t linktype)
{
	struct tm_cursor c;
	struct tm_next nx;
	unsigned table = TM_TABLE_LINKTYPE;
	uint16_t value = linktype, alt = 0;
	int has_alt = 0;

	reset(pkt, data, caplen, len, linktype, r->max_depth);
	c.p = c.start = data;
	c.end = data + caplen;
	c.wire = pkt->len;
	c.err = 0;
	c.partial = 0;

	for (;;) {
		const struct tm_dissector_slot *s;
		const uint8_t *saved_p, *saved_end;
		uint32_t saved_wire;
		uint8_t saved_partial;
		enum tm_verdict v;
		int d = lookup(r, pkt, table, value);

		if (d < 0 && has_alt) {
			has_alt = 0;
			value = alt;
			continue;
		}
		if (d < 0)
			return;		/* nothing bound: a terminal payload */
		if (pkt->n_layers >= TM_MAX_LAYERS) {
			core_event(pkt, TM_EV_TOO_MANY_LAYERS);
			pkt->flags |= TM_PF_MALFORMED;
			return;
		}
		s = &r->slots[d];
		pkt->layers[pkt->n_layers].dissector = (uint16_t)d;
		pkt->layers[pkt->n_layers].offset = (uint32_t)(c.p - data);
		pkt->n_layers++;
		pkt->cur_event_base = s->event_base;
		pkt->via_table = (uint16_t)table;
		pkt->via_value = value;
		c.start = c.p;
		c.err = 0;
		/* field by field: a whole-struct copy right after the
		 * dissector's narrow stores stalls store forwarding */
		saved_p = c.p;
		saved_end = c.end;
		saved_wire = c.wire;
		saved_partial = c.partial;
		nx.narrow = 0;
		nx.has_alt = 0;

		v = s->d->decode(&c, pkt, &nx);
		switch (v) {
		case TM_NEXT:
			if (nx.table >= TM_TABLE_COUNT) {
				core_event(pkt, TM_EV_BAD_VERDICT);
				pkt->flags |= TM_PF_MALFORMED;
				return;
			}
			if (nx.narrow && nx.inner_len <= c.wire) {
				if (nx.inner_len < (size_t)(c.end - c.p))
					c.end = c.p + nx.inner_len;
				c.wire = nx.inner_len;
			}
			table = nx.table;
			value = nx.value;
			alt = nx.alt;
			has_alt = nx.has_alt;
			break;
		case TM_DONE:
			if (pkt->flags & TM_PF_DEPTH)
				core_event(pkt, TM_EV_DEPTH_EXCEEDED);
			return;
		case TM_TRUNCATED:
			core_event(pkt, s->event_base - 2u);
			pkt->flags |= TM_PF_TRUNCATED;
			return;
		case TM_SHORT:
			core_event(pkt, s->event_base - 1u);
			pkt->flags |= TM_PF_MALFORMED;
			return;
		case TM_MALFORMED:
			pkt->flags |= TM_PF_MALFORMED;
			return;
		case TM_DECLINE:
			pkt->n_layers--;
			c.p = c.start = saved_p;
			c.end = saved_end;
			c.wire = saved_wire;
			c.partial = saved_partial;
			if (!has_alt)
				return;
			has_alt = 0;
			value = alt;
			break;
		default:
			core_event(pkt, TM_EV_BAD_VERDICT);
			pkt->flags |= TM_PF_MALFORMED;
			return;
		}
	}
}
