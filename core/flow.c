/*
 * Flow records as JSON or text. A record is built in a local buffer with
 * small appenders (no printf: a flood writes millions of records) and
 * written with one fwrite; the tunnel stack goes through pktfmt's printer,
 * shared with `tm decode`.
 */
#include "flow.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <string.h>

#include "pktfmt.h"

struct sb {
	char b[2048];
	size_t n;
};

static void sb_str(struct sb *s, const char *str)
{
	size_t l = strlen(str);

	if (l > sizeof(s->b) - s->n - 1)
		l = sizeof(s->b) - s->n - 1;
	memcpy(s->b + s->n, str, l);
	s->n += l;
}

static void sb_chr(struct sb *s, char c)
{
	if (s->n < sizeof(s->b) - 1)
		s->b[s->n++] = c;
}

static void sb_u64w(struct sb *s, uint64_t v, int width)
{
	char t[24];
	int i = 0;

	do {
		t[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || i < width);
	while (i && s->n < sizeof(s->b) - 1)
		s->b[s->n++] = t[--i];
}

static void sb_u64(struct sb *s, uint64_t v)
{
	sb_u64w(s, v, 1);
}

static void sb_ns(struct sb *s, int64_t ns, int nanos)
{
	int64_t sec = ns / 1000000000;
	int64_t frac = ns % 1000000000;

	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	if (sec < 0) {
		sb_chr(s, '-');
		sec = -sec;
	}
	sb_u64(s, (uint64_t)sec);
	sb_chr(s, '.');
	if (nanos)
		sb_u64w(s, (uint64_t)frac, 9);
	else
		sb_u64w(s, (uint64_t)frac / 1000, 6);
}

static void sb_addr(struct sb *s, const struct tm_addr *a)
{
	char buf[64];

	if (a->family == 4) {
		for (int i = 0; i < 4; i++) {
			if (i)
				sb_chr(s, '.');
			sb_u64(s, a->a[i]);
		}
		return;
	}
	sb_str(s, tm_addr_str(a, buf, sizeof(buf)));
}

/* JSON string of our own or nDPI's names: escape what JSON needs. */
static void sb_json_str(struct sb *s, const char *str)
{
	sb_chr(s, '"');
	for (; *str; str++) {
		unsigned char ch = (unsigned char)*str;

		if (ch == '"' || ch == '\\') {
			sb_chr(s, '\\');
			sb_chr(s, (char)ch);
		} else if (ch < 0x20) {
			static const char hex[] = "0123456789abcdef";

			sb_str(s, "\\u00");
			sb_chr(s, hex[ch >> 4]);
			sb_chr(s, hex[ch & 15]);
		} else {
			sb_chr(s, (char)ch);
		}
	}
	sb_chr(s, '"');
}

static void sb_flush(struct sb *s, FILE *out)
{
	fwrite(s->b, 1, s->n, out);
	s->n = 0;
}

void tm_print_ns(FILE *out, int64_t ns, int nanos)
{
	struct sb s;

	s.n = 0;
	sb_ns(&s, ns, nanos);
	sb_flush(&s, out);
}

/* The system's protocol names (/etc/protocols), read once. */
static const char *proto_name(uint8_t proto)
{
	static char names[256][16];
	static int loaded;

	if (!loaded) {
		struct protoent *pe;

		loaded = 1;
		setprotoent(0);
		while ((pe = getprotoent()) != NULL)
			if (pe->p_proto >= 0 && pe->p_proto < 256 &&
			    !names[pe->p_proto][0])
				snprintf(names[pe->p_proto], sizeof(names[0]),
				    "%s", pe->p_name);
		endprotoent();
	}
	return names[proto][0] ? names[proto] : NULL;
}

static int is_ip(const struct tm_conn *c)
{
	return c->key.l3 == TM_L3_IPV4 || c->key.l3 == TM_L3_IPV6;
}

void tm_flow_print_json(FILE *out, const struct tm_flow_rec *f, int nanos)
{
	const struct tm_conn *c = f->c;
	struct sb s;

	s.n = 0;
	sb_str(&s, "{\"ts\":\"");
	sb_ns(&s, c->first_ts, nanos);
	sb_str(&s, "\",\"uid\":\"");
	sb_str(&s, f->uid);
	sb_str(&s, "\",\"l3\":\"");
	sb_str(&s, tm_l3_name(c->key.l3));
	sb_str(&s, "\",\"proto\":");
	if (is_ip(c) && (c->pflags & TM_CP_PROTO))
		sb_u64(&s, c->key.proto);
	else
		sb_str(&s, "null");
	sb_str(&s, ",\"orig_h\":");
	if (f->orig_h.family) {
		sb_chr(&s, '"');
		sb_addr(&s, &f->orig_h);
		sb_chr(&s, '"');
	} else {
		sb_str(&s, "null");
	}
	sb_str(&s, ",\"orig_p\":");
	if (f->has_ports)
		sb_u64(&s, f->orig_p);
	else
		sb_str(&s, "null");
	sb_str(&s, ",\"resp_h\":");
	if (f->resp_h.family) {
		sb_chr(&s, '"');
		sb_addr(&s, &f->resp_h);
		sb_chr(&s, '"');
	} else {
		sb_str(&s, "null");
	}
	sb_str(&s, ",\"resp_p\":");
	if (f->has_ports)
		sb_u64(&s, f->resp_p);
	else
		sb_str(&s, "null");
	sb_str(&s, ",\"spi\":");
	if (c->pflags & TM_CP_SPI)
		sb_u64(&s, c->key.spi);
	else
		sb_str(&s, "null");
	sb_str(&s, ",\"vlan\":[");
	for (unsigned i = 0; i < f->ctx.n_vlans; i++) {
		if (i)
			sb_chr(&s, ',');
		sb_u64(&s, f->ctx.vlans[i]);
	}
	sb_str(&s, "],\"tunnels\":");
	if (f->ctx.n_tunnels) {
		sb_flush(&s, out);
		tm_print_tunnels_json(out, f->ctx.tunnels, f->ctx.n_tunnels);
	} else {
		sb_str(&s, "[]");
	}
	sb_str(&s, ",\"class\":");
	sb_json_str(&s, f->class_name);
	sb_str(&s, ",\"app\":");
	if (f->app)
		sb_json_str(&s, f->app);
	else
		sb_str(&s, "null");
	sb_str(&s, ",\"duration\":");
	sb_ns(&s, c->last_ts - c->first_ts, nanos);
	sb_str(&s, ",\"orig_pkts\":");
	sb_u64(&s, c->pkts[0]);
	sb_str(&s, ",\"orig_bytes\":");
	sb_u64(&s, c->bytes[0]);
	sb_str(&s, ",\"resp_pkts\":");
	sb_u64(&s, c->pkts[1]);
	sb_str(&s, ",\"resp_bytes\":");
	sb_u64(&s, c->bytes[1]);
	sb_str(&s, ",\"stored_pkts\":");
	sb_u64(&s, c->stored_pkts);
	sb_str(&s, ",\"stored_bytes\":");
	sb_u64(&s, c->stored_bytes);
	sb_str(&s, (c->state & TM_CS_CUTOFF) ? ",\"cutoff_hit\":true" :
	    ",\"cutoff_hit\":false");
	sb_str(&s, ",\"end_reason\":\"");
	sb_str(&s, tm_end_reason_name(f->why));
	sb_str(&s, "\",\"community_id\":");
	if (f->community_id[0]) {
		sb_chr(&s, '"');
		sb_str(&s, f->community_id);
		sb_chr(&s, '"');
	} else {
		sb_str(&s, "null");
	}
	/* more than the issue asks for */
	sb_str(&s, ",\"first_frame\":");
	sb_u64(&s, c->first_frame);
	if (c->pflags & TM_CP_ICMP) {
		sb_str(&s, ",\"icmp_type\":");
		sb_u64(&s, c->icmp_type);
		sb_str(&s, ",\"icmp_code\":");
		sb_u64(&s, c->icmp_code);
	}
	if (!is_ip(c)) {
		sb_str(&s, ",\"ethertype\":");
		sb_u64(&s, c->key.ethertype);
	}
	sb_str(&s, ",\"cutoff\":");
	if (c->cutoff == TM_CUTOFF_NONE)
		sb_str(&s, "null");
	else
		sb_u64(&s, c->cutoff);
	if (f->prov_class) {
		sb_str(&s, ",\"provisional_class\":");
		sb_json_str(&s, f->prov_class);
	}
	sb_str(&s, "}\n");
	sb_flush(&s, out);
}

static void endpoint(struct sb *s, const struct tm_addr *a, int ports,
    uint16_t port)
{
	if (a->family == 6 && ports)
		sb_chr(s, '[');
	if (a->family)
		sb_addr(s, a);
	else
		sb_chr(s, '-');
	if (a->family == 6 && ports)
		sb_chr(s, ']');
	if (ports) {
		sb_chr(s, ':');
		sb_u64(s, port);
	}
}

void tm_flow_print_text(FILE *out, const struct tm_flow_rec *f, int nanos)
{
	static const char hex[] = "0123456789abcdef";
	const struct tm_conn *c = f->c;
	struct sb s;

	s.n = 0;
	sb_ns(&s, c->first_ts, nanos);
	sb_chr(&s, ' ');
	sb_str(&s, f->uid);
	sb_chr(&s, ' ');
	sb_str(&s, tm_l3_name(c->key.l3));
	if (is_ip(c) && (c->pflags & TM_CP_PROTO)) {
		/* the system's protocol names, not ours */
		const char *pn = proto_name(c->key.proto);

		sb_chr(&s, '/');
		if (pn)
			sb_str(&s, pn);
		else
			sb_u64(&s, c->key.proto);
	} else if (!is_ip(c)) {
		sb_str(&s, "/0x");
		for (int sh = 12; sh >= 0; sh -= 4)
			sb_chr(&s, hex[(c->key.ethertype >> sh) & 15]);
	}
	sb_chr(&s, ' ');
	endpoint(&s, &f->orig_h, f->has_ports, f->orig_p);
	sb_str(&s, " > ");
	endpoint(&s, &f->resp_h, f->has_ports, f->resp_p);
	if (c->pflags & TM_CP_SPI) {
		sb_str(&s, " spi 0x");
		for (int sh = 28; sh >= 0; sh -= 4)
			sb_chr(&s, hex[(c->key.spi >> sh) & 15]);
	}
	if (f->ctx.n_vlans || f->ctx.n_tunnels) {
		sb_flush(&s, out);
		tm_print_context_text(out, f->ctx.vlans, f->ctx.n_vlans,
		    f->ctx.tunnels, f->ctx.n_tunnels);
	}
	sb_str(&s, " class ");
	sb_str(&s, f->class_name);
	if (f->prov_class) {
		sb_str(&s, " (was ");
		sb_str(&s, f->prov_class);
		sb_chr(&s, ')');
	}
	sb_str(&s, " app ");
	sb_str(&s, f->app ? f->app : "-");
	sb_str(&s, " dur ");
	sb_ns(&s, c->last_ts - c->first_ts, nanos);
	sb_str(&s, " pkts ");
	sb_u64(&s, c->pkts[0]);
	sb_chr(&s, '/');
	sb_u64(&s, c->pkts[1]);
	sb_str(&s, " bytes ");
	sb_u64(&s, c->bytes[0]);
	sb_chr(&s, '/');
	sb_u64(&s, c->bytes[1]);
	sb_str(&s, " stored ");
	sb_u64(&s, c->stored_pkts);
	sb_chr(&s, '/');
	sb_u64(&s, c->stored_bytes);
	if (c->state & TM_CS_CUTOFF)
		sb_str(&s, " cutoff");
	sb_chr(&s, ' ');
	sb_str(&s, tm_end_reason_name(f->why));
	if (f->community_id[0]) {
		sb_chr(&s, ' ');
		sb_str(&s, f->community_id);
	}
	sb_chr(&s, '\n');
	sb_flush(&s, out);
}
