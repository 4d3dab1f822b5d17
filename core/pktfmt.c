/* Printing a decoded packet for `tm decode`. */
#include "pktfmt.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "key.h"

static const char *const tunnel_names[] = {
	[TM_TUN_NONE] = "none", [TM_TUN_GRE] = "gre", [TM_TUN_PPTP] = "pptp",
	[TM_TUN_ERSPAN] = "erspan", [TM_TUN_L2TP] = "l2tp",
	[TM_TUN_IPIP] = "ipip", [TM_TUN_VXLAN] = "vxlan",
	[TM_TUN_GENEVE] = "geneve", [TM_TUN_GTP] = "gtp",
	[TM_TUN_TEREDO] = "teredo", [TM_TUN_MPLS] = "mpls",
	[TM_TUN_PPPOE] = "pppoe", [TM_TUN_OTHER] = "other",
};

const char *tm_tunnel_type_name(const struct tm_tunnel *t)
{
	if (t->name)
		return t->name;
	if (t->type < sizeof(tunnel_names) / sizeof(tunnel_names[0]))
		return tunnel_names[t->type];
	return "other";
}

const char *tm_l3_name(unsigned l3)
{
	switch (l3) {
	case TM_L3_IPV4: return "ipv4";
	case TM_L3_IPV6: return "ipv6";
	case TM_L3_ARP: return "arp";
	default: return "other";
	}
}

const char *tm_addr_str(const struct tm_addr *a, char *buf, size_t len)
{
	if (a->family == 4)
		return inet_ntop(AF_INET, a->a, buf, (socklen_t)len);
	if (a->family == 6)
		return inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
	snprintf(buf, len, "-");
	return buf;
}

/* Every string we print is ours or a dissector's name; still escape. */
void tm_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

void tm_json_addr(FILE *out, const struct tm_addr *a)
{
	char buf[64];

	if (a->family == 0) {
		fputs("null", out);
		return;
	}
	fprintf(out, "\"%s\"", tm_addr_str(a, buf, sizeof(buf)));
}

static void print_ts(FILE *out, const struct tm_frame_meta *m)
{
	if (m->nanos)
		fprintf(out, "%" PRId64 ".%09u", m->ts_sec, m->ts_frac);
	else
		fprintf(out, "%" PRId64 ".%06u", m->ts_sec, m->ts_frac);
}

void tm_print_vlans_json(FILE *out, const uint16_t *vlans, unsigned n)
{
	fputc('[', out);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "%s%u", i ? "," : "", vlans[i]);
	fputc(']', out);
}

void tm_print_tunnels_json(FILE *out, const struct tm_tunnel *tunnels,
    unsigned n)
{
	fputc('[', out);
	for (unsigned i = 0; i < n; i++) {
		const struct tm_tunnel *t = &tunnels[i];

		fputs(i ? ",{\"type\":" : "{\"type\":", out);
		tm_json_str(out, tm_tunnel_type_name(t));
		fputs(",\"src\":", out);
		tm_json_addr(out, &t->src);
		fputs(",\"dst\":", out);
		tm_json_addr(out, &t->dst);
		if (t->ids & TM_TID_KEY)
			fprintf(out, ",\"key\":%u", t->key);
		if (t->ids & TM_TID_TUNNEL)
			fprintf(out, ",\"tunnel_id\":%u", t->tunnel_id);
		if (t->ids & TM_TID_SESSION)
			fprintf(out, ",\"session_id\":%u", t->session_id);
		if (t->ids & TM_TID_VNI)
			fprintf(out, ",\"vni\":%u", t->vni);
		if (t->ids & TM_TID_TEID)
			fprintf(out, ",\"teid\":%u", t->teid);
		if (t->ids & TM_TID_LABEL)
			fprintf(out, ",\"label\":%u", t->label);
		fputc('}', out);
	}
	fputc(']', out);
}

void tm_print_context_text(FILE *out, const uint16_t *vlans, unsigned nv,
    const struct tm_tunnel *tunnels, unsigned nt)
{
	char a[64], b[64];

	for (unsigned i = 0; i < nv; i++)
		fprintf(out, "%s%u", i ? "." : " vlan ", vlans[i]);
	for (unsigned i = 0; i < nt; i++) {
		const struct tm_tunnel *t = &tunnels[i];

		fprintf(out, " [%s", tm_tunnel_type_name(t));
		if (t->src.family)
			fprintf(out, " %s>%s", tm_addr_str(&t->src, a, sizeof(a)),
			    tm_addr_str(&t->dst, b, sizeof(b)));
		if (t->ids & TM_TID_KEY)
			fprintf(out, " key %u", t->key);
		if (t->ids & TM_TID_TUNNEL)
			fprintf(out, " tunnel %u", t->tunnel_id);
		if (t->ids & TM_TID_SESSION)
			fprintf(out, " session %u", t->session_id);
		if (t->ids & TM_TID_VNI)
			fprintf(out, " vni %u", t->vni);
		if (t->ids & TM_TID_TEID)
			fprintf(out, " teid 0x%x", t->teid);
		if (t->ids & TM_TID_LABEL)
			fprintf(out, " label %u", t->label);
		fputc(']', out);
	}
}

void tm_print_json(FILE *out, const struct tm_registry *r,
    const struct tm_frame_meta *m, const struct tm_packet *pkt)
{
	int ports = (pkt->flags & TM_PF_HAS_PORTS) != 0;
	struct tm_key key;
	int dir;

	fprintf(out, "{\"frame\":%" PRIu64 ",\"ts\":\"", m->frame);
	print_ts(out, m);
	fprintf(out, "\",\"len\":%u,\"caplen\":%u,\"layers\":[", pkt->len,
	    pkt->caplen);
	for (unsigned i = 0; i < pkt->n_layers; i++) {
		if (i)
			fputc(',', out);
		tm_json_str(out, tm_dissector_name(r, pkt->layers[i].dissector));
	}
	fprintf(out, "],\"l3\":\"%s\",\"ethertype\":%u,\"proto\":",
	    tm_l3_name(pkt->l3), pkt->ethertype);
	if ((pkt->flags & TM_PF_HAS_PROTO) && (pkt->l3 == TM_L3_IPV4 ||
	    pkt->l3 == TM_L3_IPV6))
		fprintf(out, "%u", pkt->proto);
	else
		fputs("null", out);
	fputs(",\"src\":", out);
	tm_json_addr(out, &pkt->src);
	fputs(",\"dst\":", out);
	tm_json_addr(out, &pkt->dst);
	if (ports)
		fprintf(out, ",\"sport\":%u,\"dport\":%u", pkt->sport,
		    pkt->dport);
	else
		fputs(",\"sport\":null,\"dport\":null", out);
	if (pkt->flags & TM_PF_HAS_SPI)
		fprintf(out, ",\"spi\":%u", pkt->spi);
	else
		fputs(",\"spi\":null", out);
	if (pkt->flags & TM_PF_HAS_ICMP)
		fprintf(out, ",\"icmp_type\":%u,\"icmp_code\":%u",
		    pkt->icmp_type, pkt->icmp_code);
	if (pkt->flags & TM_PF_HAS_ICMPID)
		fprintf(out, ",\"icmp_id\":%u", pkt->icmp_id);
	fputs(",\"vlan\":", out);
	tm_print_vlans_json(out, pkt->vlans, pkt->n_vlans);
	fputs(",\"tunnels\":", out);
	tm_print_tunnels_json(out, pkt->tunnels, pkt->n_tunnels);
	fputs(",\"events\":[", out);
	for (unsigned i = 0; i < pkt->n_events; i++) {
		if (i)
			fputc(',', out);
		tm_json_str(out, tm_event_name(r, pkt->events[i]));
	}
	fputc(']', out);
	if (pkt->flags & TM_PF_FRAGMENT)
		fprintf(out, ",\"fragment\":%s", pkt->flags & TM_PF_LATER_FRAG
		    ? "\"later\"" : "\"first\"");
	tm_key_make(pkt, TM_CTX_DEFAULT, &key, &dir);
	fprintf(out, ",\"key\":\"%016" PRIx64 "\",\"dir\":%d}\n",
	    tm_key_hash(&key), dir);
}

void tm_print_text(FILE *out, const struct tm_registry *r,
    const struct tm_frame_meta *m, const struct tm_packet *pkt)
{
	char a[64], b[64];

	fprintf(out, "%" PRIu64 " ", m->frame);
	print_ts(out, m);
	fputc(' ', out);
	for (unsigned i = 0; i < pkt->n_layers; i++)
		fprintf(out, "%s%s", i ? "/" : "",
		    tm_dissector_name(r, pkt->layers[i].dissector));
	if (pkt->n_layers == 0)
		fputs("(none)", out);
	if (pkt->src.family) {
		tm_addr_str(&pkt->src, a, sizeof(a));
		tm_addr_str(&pkt->dst, b, sizeof(b));
		if (pkt->flags & TM_PF_HAS_PORTS)
			fprintf(out, " %s%s%s.%u > %s%s%s.%u",
			    "", a, "", pkt->sport, "", b, "", pkt->dport);
		else
			fprintf(out, " %s > %s", a, b);
	}
	if ((pkt->flags & TM_PF_HAS_PROTO) && (pkt->l3 == TM_L3_IPV4 ||
	    pkt->l3 == TM_L3_IPV6))
		fprintf(out, " proto %u", pkt->proto);
	else if (pkt->l3 == TM_L3_OTHER || pkt->l3 == TM_L3_NONE)
		fprintf(out, " ethertype 0x%04x", pkt->ethertype);
	if (pkt->flags & TM_PF_HAS_SPI)
		fprintf(out, " spi 0x%08x", pkt->spi);
	if (pkt->flags & TM_PF_HAS_ICMP)
		fprintf(out, " icmp %u/%u", pkt->icmp_type, pkt->icmp_code);
	if (pkt->flags & TM_PF_HAS_ICMPID)
		fprintf(out, " id %u", pkt->icmp_id);
	if (pkt->flags & TM_PF_LATER_FRAG)
		fputs(" frag", out);
	tm_print_context_text(out, pkt->vlans, pkt->n_vlans, pkt->tunnels,
	    pkt->n_tunnels);
	for (unsigned i = 0; i < pkt->n_events; i++)
		fprintf(out, "%s%s", i ? "," : " !", tm_event_name(r,
		    pkt->events[i]));
	fprintf(out, " len %u", pkt->len);
	if (pkt->caplen != pkt->len)
		fprintf(out, " caplen %u", pkt->caplen);
	fputc('\n', out);
}
