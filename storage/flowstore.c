/*
 * Flow records on disk: encoding, decoding, listing (see flowstore.h and
 * docs/storage.md).
 */
#define _GNU_SOURCE
#include "flowstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../query/expr.h"
#include "bytes.h"
#include "flow.h"
#include "store.h"

/* on-disk "valid" bits of a record */
#define FR_PROTO	0x01u
#define FR_PORTS	0x02u
#define FR_SPI		0x04u
#define FR_ICMP		0x08u
#define FR_STREAM	0x10u
#define FR_DGRAM	0x20u
#define FR_CUTOFF	0x40u
#define FR_HAS_PORTS	0x80u	/* the record shows ports */

static const struct { uint8_t fr, cp; } pflag_map[] = {
	{ FR_PROTO, TM_CP_PROTO }, { FR_PORTS, TM_CP_PORTS },
	{ FR_SPI, TM_CP_SPI }, { FR_ICMP, TM_CP_ICMP },
	{ FR_STREAM, TM_CP_STREAM }, { FR_DGRAM, TM_CP_DGRAM },
};

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 255)
		n = 255;
	p[0] = (uint8_t)n;
	if (n)
		memcpy(p + 1, s, n);
	return n + 1;
}

size_t tm_flowrec_encode(const struct tm_flow_rec *f, uint8_t *buf,
    size_t cap)
{
	const struct tm_conn *c = f->c;
	uint8_t *p = buf;
	uint8_t valid = 0;
	unsigned nv = f->ctx.n_vlans, nt = f->ctx.n_tunnels;

	/* fixed part 132, context <= 2 + 16 + 8 * 318, strings <= 5 * 256:
	 * 3974 bytes at most */
	if (cap < TM_FLOWREC_MAX || nv > TM_MAX_VLANS || nt > TM_MAX_TUNNELS)
		return 0;
	tm_put_le64(p, (uint64_t)c->first_ts);
	tm_put_le64(p + 8, (uint64_t)c->last_ts);
	tm_put_le64(p + 16, c->pkts[0]);
	tm_put_le64(p + 24, c->pkts[1]);
	tm_put_le64(p + 32, c->bytes[0]);
	tm_put_le64(p + 40, c->bytes[1]);
	tm_put_le64(p + 48, c->stored_pkts);
	tm_put_le64(p + 56, c->stored_bytes);
	tm_put_le64(p + 64, c->cutoff);
	tm_put_le64(p + 72, c->first_frame);
	p[80] = c->key.l3;
	p[81] = c->key.proto;
	tm_put_le16(p + 82, c->key.ethertype);
	tm_put_le16(p + 84, c->key.port_a);
	tm_put_le16(p + 86, c->key.port_b);
	tm_put_le32(p + 88, c->key.spi);
	p[92] = c->key.fam_a;
	p[93] = c->key.fam_b;
	p[94] = c->orig;
	for (size_t i = 0; i < TM_ARRAY_LEN(pflag_map); i++)
		if (c->pflags & pflag_map[i].cp)
			valid |= pflag_map[i].fr;
	if (c->state & TM_CS_CUTOFF)
		valid |= FR_CUTOFF;
	if (f->has_ports)
		valid |= FR_HAS_PORTS;
	p[95] = valid;
	p[96] = c->icmp_type;
	p[97] = c->icmp_code;
	p[98] = (uint8_t)f->why;
	p[99] = 0;
	memcpy(p + 100, c->key.addr_a, 16);
	memcpy(p + 116, c->key.addr_b, 16);
	p += 132;
	*p++ = (uint8_t)nv;
	*p++ = (uint8_t)nt;
	for (unsigned i = 0; i < nv; i++) {
		tm_put_le16(p, f->ctx.vlans[i]);
		p += 2;
	}
	for (unsigned i = 0; i < nt; i++) {
		const struct tm_tunnel *t = &f->ctx.tunnels[i];
		uint32_t ids[6] = { t->key, t->tunnel_id, t->session_id,
			t->vni, t->teid, t->label };

		*p++ = t->type;
		*p++ = (uint8_t)(t->ids & 0x3f);
		*p++ = t->src.family;
		memcpy(p, t->src.a, 16);
		p += 16;
		*p++ = t->dst.family;
		memcpy(p, t->dst.a, 16);
		p += 16;
		for (unsigned k = 0; k < 6; k++) {
			tm_put_le32(p, ids[k]);
			p += 4;
		}
		tm_put_le16(p, t->payload);
		p += 2;
		p += put_str(p, t->name);
	}
	p += put_str(p, f->class_name);
	p += put_str(p, f->prov_class);
	p += put_str(p, f->app);
	p += put_str(p, f->uid);
	p += put_str(p, f->community_id);
	return (size_t)(p - buf);
}

static int get_str(struct tm_rd *r, char *out, size_t cap, int *present)
{
	uint8_t n;

	if (tm_rd_u8(r, &n) || tm_rd_left(r) < n || (size_t)n + 1 > cap ||
	    memchr(r->p, 0, n))
		return -1;
	memcpy(out, r->p, n);
	out[n] = '\0';
	r->p += n;
	if (present)
		*present = n > 0;
	return 0;
}

/* tunnel names of decoded records live here (records are decoded one at
 * a time, and names are few) */
static char tunnel_names[TM_MAX_TUNNELS][256];

int tm_flowrec_decode_fixed(const uint8_t *p, size_t len,
    struct tm_conn *c, struct tm_flow_rec *f)
{
	uint8_t valid;
	int a_is_orig;

	memset(c, 0, sizeof(*c));
	if (len < 134)
		return -1;
	c->first_ts = (int64_t)tm_le64(p);
	c->last_ts = (int64_t)tm_le64(p + 8);
	c->pkts[0] = tm_le64(p + 16);
	c->pkts[1] = tm_le64(p + 24);
	c->bytes[0] = tm_le64(p + 32);
	c->bytes[1] = tm_le64(p + 40);
	c->stored_pkts = tm_le64(p + 48);
	c->stored_bytes = tm_le64(p + 56);
	c->cutoff = tm_le64(p + 64);
	c->first_frame = tm_le64(p + 72);
	c->key.l3 = p[80];
	c->key.proto = p[81];
	c->key.ethertype = tm_le16(p + 82);
	c->key.port_a = tm_le16(p + 84);
	c->key.port_b = tm_le16(p + 86);
	c->key.spi = tm_le32(p + 88);
	c->key.fam_a = p[92];
	c->key.fam_b = p[93];
	c->orig = p[94] ? 1 : 0;
	valid = p[95];
	for (size_t i = 0; i < TM_ARRAY_LEN(pflag_map); i++)
		if (valid & pflag_map[i].fr)
			c->pflags |= pflag_map[i].cp;
	if (valid & FR_CUTOFF)
		c->state |= TM_CS_CUTOFF;
	f->has_ports = (valid & FR_HAS_PORTS) != 0;
	c->icmp_type = p[96];
	c->icmp_code = p[97];
	if (p[98] > TM_END_EOF || c->key.l3 > TM_L3_OTHER ||
	    (c->key.fam_a && c->key.fam_a != 4 && c->key.fam_a != 6) ||
	    (c->key.fam_b && c->key.fam_b != 4 && c->key.fam_b != 6))
		return -1;
	f->why = (enum tm_end_reason)p[98];
	memcpy(c->key.addr_a, p + 100, 16);
	memcpy(c->key.addr_b, p + 116, 16);
	f->c = c;
	/* the originator's endpoints, as the tracker gives them */
	a_is_orig = c->orig == 0;
	f->orig_h.family = a_is_orig ? c->key.fam_a : c->key.fam_b;
	memcpy(f->orig_h.a, a_is_orig ? c->key.addr_a : c->key.addr_b, 16);
	f->resp_h.family = a_is_orig ? c->key.fam_b : c->key.fam_a;
	memcpy(f->resp_h.a, a_is_orig ? c->key.addr_b : c->key.addr_a, 16);
	f->orig_p = a_is_orig ? c->key.port_a : c->key.port_b;
	f->resp_p = a_is_orig ? c->key.port_b : c->key.port_a;
	return 0;
}

int tm_flowrec_decode(const uint8_t *p, size_t len, struct tm_flowrec *r)
{
	struct tm_rd rd;
	struct tm_flow_rec *f = &r->f;
	uint8_t nv, nt;
	int has;

	memset(r, 0, sizeof(*r));
	if (tm_flowrec_decode_fixed(p, len, &r->c, f))
		return -1;
	rd.p = p + 132;
	rd.end = p + len;
	if (tm_rd_u8(&rd, &nv) || tm_rd_u8(&rd, &nt) || nv > TM_MAX_VLANS ||
	    nt > TM_MAX_TUNNELS)
		return -1;
	f->ctx.n_vlans = nv;
	f->ctx.n_tunnels = nt;
	for (unsigned i = 0; i < nv; i++)
		if (tm_rd_le16(&rd, &f->ctx.vlans[i]))
			return -1;
	for (unsigned i = 0; i < nt; i++) {
		struct tm_tunnel *t = &f->ctx.tunnels[i];
		uint32_t *ids[6] = { &t->key, &t->tunnel_id, &t->session_id,
			&t->vni, &t->teid, &t->label };

		if (tm_rd_u8(&rd, &t->type) || tm_rd_u8(&rd, &t->ids) ||
		    tm_rd_u8(&rd, &t->src.family) ||
		    tm_rd_bytes(&rd, t->src.a, 16) ||
		    tm_rd_u8(&rd, &t->dst.family) ||
		    tm_rd_bytes(&rd, t->dst.a, 16))
			return -1;
		for (unsigned k = 0; k < 6; k++)
			if (tm_rd_le32(&rd, ids[k]))
				return -1;
		if (tm_rd_le16(&rd, &t->payload) ||
		    get_str(&rd, tunnel_names[i], sizeof(tunnel_names[i]),
		    &has))
			return -1;
		t->name = has ? tunnel_names[i] : NULL;
	}
	if (get_str(&rd, r->class_name, sizeof(r->class_name), NULL) ||
	    get_str(&rd, r->prov_class, sizeof(r->prov_class), &has))
		return -1;
	f->prov_class = has ? r->prov_class : NULL;
	if (get_str(&rd, r->app, sizeof(r->app), &has))
		return -1;
	f->app = has ? r->app : NULL;
	if (get_str(&rd, f->uid, sizeof(f->uid), NULL) ||
	    get_str(&rd, f->community_id, sizeof(f->community_id), NULL) ||
	    tm_rd_left(&rd))
		return -1;
	f->class_name = r->class_name;
	return 0;
}

void tm_flows_header(uint8_t *buf)
{
	memcpy(buf, TM_FLOWS_MAGIC, 8);
	tm_put_le32(buf + 8, TM_FLOWS_VERSION);
	tm_put_le32(buf + 12, 0);
}

uint64_t tm_flows_valid_length(const uint8_t *p, uint64_t len)
{
	uint64_t off = TM_FLOWS_HDR;

	if (len < TM_FLOWS_HDR || memcmp(p, TM_FLOWS_MAGIC, 8) != 0)
		return 0;
	while (off + TM_FLOWS_REC_HDR <= len) {
		uint32_t n = tm_le32(p + off), x = tm_le32(p + off + 4);

		if (n == 0 || n > TM_FLOWREC_MAX ||
		    off + TM_FLOWS_REC_HDR + n > len ||
		    XXH32(p + off + TM_FLOWS_REC_HDR, n, 0) != x)
			break;
		off += TM_FLOWS_REC_HDR + n;
	}
	return off;
}

/* ---- listing ------------------------------------------------------------ */

struct fname {
	int64_t start;
	uint64_t seq;
	char *name;
};

static int cmp_fname(const void *a, const void *b)
{
	const struct fname *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

int tm_flowstore_each(const char *root,
    int (*fn)(const struct tm_flowrec *r, void *arg), void *arg,
    char *err, size_t errlen)
{
	char dir[4200];
	struct fname *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct tm_flowrec *rec = NULL;
	DIR *d;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/flows", root);
	d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, errno == ENOENT ?
		    "not a store (no flows/)" : strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct fname f;

		if (tm_seg_parse_name(de->d_name, ".flows", &f.start, &f.seq))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct fname *nv = realloc(v, nc * sizeof(*nv));

			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		f.name = strdup(de->d_name);
		if (!f.name)
			goto oom;
		v[n++] = f;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_fname);
	rec = malloc(sizeof(*rec));
	if (!rec)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		char path[4400];
		struct stat st;
		const uint8_t *m;
		uint64_t off = TM_FLOWS_HDR, valid;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* deleted by the budget */
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			goto out;
		}
		if (st.st_size == 0) {
			close(fd);
			continue;
		}
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
		    0);
		close(fd);
		if (m == MAP_FAILED) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		valid = tm_flows_valid_length(m, (uint64_t)st.st_size);
		if (valid == 0 && st.st_size >= TM_FLOWS_HDR) {
			snprintf(err, errlen, "%s: not a flow file", path);
			munmap((void *)m, (size_t)st.st_size);
			goto out;
		}
		while (off < valid) {
			uint32_t len = tm_le32(m + off);

			if (tm_flowrec_decode(m + off + TM_FLOWS_REC_HDR, len,
			    rec)) {
				snprintf(err, errlen, "%s: offset %llu: "
				    "malformed flow record", path,
				    (unsigned long long)off);
				munmap((void *)m, (size_t)st.st_size);
				goto out;
			}
			if (fn(rec, arg)) {
				munmap((void *)m, (size_t)st.st_size);
				rc = 0;
				goto out;
			}
			off += TM_FLOWS_REC_HDR + len;
		}
		munmap((void *)m, (size_t)st.st_size);
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(rec);
	return rc;
}

struct print_ctx {
	struct tm_expr *e;
	int json, nano;
	FILE *out;
	struct tm_packet pkt;
};

/* The originator's first packet as the record keeps it: what a class
 * filter saw (the tracker rebuilds the same view). */
static void rebuild_view(struct tm_packet *v, const struct tm_flowrec *r)
{
	const struct tm_conn *c = &r->c;
	const struct tm_flow_rec *f = &r->f;

	memset(v, 0, sizeof(*v));
	v->l3 = c->key.l3;
	v->ethertype = c->key.ethertype;
	v->src = f->orig_h;
	v->dst = f->resp_h;
	v->proto = c->key.proto;
	v->spi = c->key.spi;
	if (c->pflags & TM_CP_PROTO)
		v->flags |= TM_PF_HAS_PROTO;
	if (c->pflags & TM_CP_PORTS) {
		v->flags |= TM_PF_HAS_PORTS;
		v->sport = f->orig_p;
		v->dport = f->resp_p;
	}
	if (c->pflags & TM_CP_SPI)
		v->flags |= TM_PF_HAS_SPI;
	if (c->pflags & TM_CP_ICMP) {
		v->flags |= TM_PF_HAS_ICMP;
		v->icmp_type = c->icmp_type;
		v->icmp_code = c->icmp_code;
	}
	if (c->pflags & TM_CP_STREAM)
		v->flags |= TM_PF_STREAM;
	v->n_vlans = f->ctx.n_vlans;
	memcpy(v->vlans, f->ctx.vlans, sizeof(v->vlans));
	v->n_tunnels = f->ctx.n_tunnels;
	memcpy(v->tunnels, f->ctx.tunnels, sizeof(v->tunnels));
	v->outer_src = v->src;
	v->outer_dst = v->dst;
	for (unsigned i = 0; i < f->ctx.n_tunnels; i++) {
		const struct tm_tunnel *t = &f->ctx.tunnels[i];

		if (t->src.family == 4 || t->src.family == 6) {
			v->outer_src = t->src;
			v->outer_dst = t->dst;
			v->flags |= TM_PF_NESTED_L3;
			break;
		}
	}
}

static int print_one(const struct tm_flowrec *r, void *arg)
{
	struct print_ctx *pc = arg;

	if (pc->e) {
		struct tm_expr_conn ec;

		memset(&ec, 0, sizeof(ec));
		ec.app = r->f.app;
		ec.app_final = 1;
		ec.class_name = r->f.class_name;
		ec.community_id = r->f.community_id[0] ? r->f.community_id :
		    NULL;
		rebuild_view(&pc->pkt, r);
		if (tm_expr_eval_at(pc->e, &pc->pkt, &ec, r->c.first_ts) !=
		    TM_EXPR_TRUE)
			return 0;
	}
	if (pc->json)
		tm_flow_print_json(pc->out, &r->f, pc->nano);
	else
		tm_flow_print_text(pc->out, &r->f, pc->nano);
	return 0;
}

int tm_flowstore_print(const char *root, const char *expr, int json,
    int nano, FILE *out)
{
	struct print_ctx *pc = calloc(1, sizeof(*pc));
	char err[512];
	int rc = 0;

	if (!pc) {
		fprintf(stderr, "tm: out of memory\n");
		return 1;
	}
	pc->json = json;
	pc->nano = nano;
	pc->out = out;
	if (expr && *expr) {
		struct tm_expr_opts eo;
		struct tm_expr_error ee;

		memset(&eo, 0, sizeof(eo));
		eo.flags = TM_EXPR_ALLOW_TIME;
		pc->e = tm_expr_compile(expr, &eo, &ee);
		if (!pc->e) {
			fprintf(stderr, "tm: bad expression: %s\n", ee.msg);
			free(pc);
			return 2;
		}
	}
	if (tm_flowstore_each(root, print_one, pc, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
	}
	if (fflush(out) != 0 || ferror(out)) {
		perror("tm: standard output");
		rc = 1;
	}
	tm_expr_free(pc->e);
	free(pc);
	return rc;
}

int tm_flows_from_store(const char *root, int argc, char **argv, int json,
    int nano)
{
	size_t len = 1;
	char *expr;
	int rc;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	expr = malloc(len);
	if (!expr) {
		fprintf(stderr, "tm: out of memory\n");
		return 1;
	}
	expr[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(expr, " ");
		strcat(expr, argv[i]);
	}
	rc = tm_flowstore_print(root, expr, json, nano, stdout);
	free(expr);
	return rc;
}
