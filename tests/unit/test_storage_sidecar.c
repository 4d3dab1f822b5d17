/* Sidecars: builder -> bytes -> reader round trip (connections, contexts,
 * positions, directory, every posting), canonical bytes, and every kind
 * of damage the reader must refuse: a changed byte anywhere (checksums),
 * and, with checksums made valid again, each structural check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <roaring/roaring.h>
#include <xxhash.h>

#include "sidecar.h"

static struct tm_key key4(uint32_t a, uint32_t b, uint16_t pa, uint16_t pb,
    uint8_t proto)
{
	struct tm_key k;

	memset(&k, 0, sizeof(k));
	k.l3 = TM_L3_IPV4;
	k.proto = proto;
	k.ethertype = 0x0800;
	k.fam_a = k.fam_b = 4;
	tm_sc_be32(k.addr_a, a);
	tm_sc_be32(k.addr_b, b);
	k.port_a = pa;
	k.port_b = pb;
	return k;
}

static struct tm_key key6(uint8_t last_a, uint8_t last_b, uint16_t pa,
    uint16_t pb)
{
	struct tm_key k;

	memset(&k, 0, sizeof(k));
	k.l3 = TM_L3_IPV6;
	k.proto = 17;
	k.ethertype = 0x86dd;
	k.fam_a = k.fam_b = 6;
	k.addr_a[0] = k.addr_b[0] = 0xfd;
	k.addr_a[15] = last_a;
	k.addr_b[15] = last_b;
	k.port_a = pa;
	k.port_b = pb;
	return k;
}

/* Contexts: VLAN 100; GRE key 7 between 192.0.2.1 and 192.0.2.2 inside
 * VLAN 200 and 300; a plugin tunnel with its own name. */
static void ctx_vlan(struct tm_ctx_view *v)
{
	memset(v, 0, sizeof(*v));
	v->n_vlans = 1;
	v->vlans[0] = 100;
}

static void ctx_gre(struct tm_ctx_view *v)
{
	struct tm_tunnel *t = &v->tunnels[0];

	memset(v, 0, sizeof(*v));
	v->n_vlans = 2;
	v->vlans[0] = 200;
	v->vlans[1] = 300;
	v->n_tunnels = 1;
	t->type = TM_TUN_GRE;
	t->ids = TM_TID_KEY;
	t->key = 7;
	t->src.family = t->dst.family = 4;
	tm_sc_be32(t->src.a, 0xc0000201);
	tm_sc_be32(t->dst.a, 0xc0000202);
	t->payload = 0x0800;
}

static void ctx_named(struct tm_ctx_view *v)
{
	struct tm_tunnel *t;

	memset(v, 0, sizeof(*v));
	v->n_tunnels = 2;
	t = &v->tunnels[0];		/* MPLS without IP outside */
	t->type = TM_TUN_MPLS;
	t->ids = TM_TID_LABEL;
	t->label = 16;
	t = &v->tunnels[1];
	t->type = TM_TUN_OTHER;
	t->name = "vxlan-gpe";
	t->ids = TM_TID_VNI;
	t->vni = 4242;
	t->src.family = t->dst.family = 6;
	t->src.a[0] = t->dst.a[0] = 0x20;
	t->src.a[15] = 1;
	t->dst.a[15] = 2;
}

/* A segment: 6 connections, 1000 packets, apps on some. */
#define NPKT 1000
static const unsigned conn_of[7] = { 0, 1, 2, 3, 4, 5, 1 };

struct built {
	uint8_t *p;
	size_t n;
	uint64_t off[NPKT];
	int64_t ts[NPKT];
	uint32_t cid[NPKT];
};

/* build() takes a snapshot (a finish in the middle, as a query of a
 * running capture does) before packet snap_at; 0: none. */
static int snap_at;
static uint64_t snap_packets;
static uint16_t build_version;	/* 0: the current one */

static void build(struct built *bt, uint32_t dir_interval, int order)
{
	struct tm_scb *b = tm_scb_new();
	struct tm_ctx_view v1, v2, v3;
	struct tm_sbuf out = { 0 };
	struct tm_scb_meta m;
	struct tm_key k[6];
	uint32_t id[6];
	uint64_t off = 24;

	assert_non_null(b);
	tm_scb_reset(b, dir_interval);
	ctx_vlan(&v1);
	ctx_gre(&v2);
	ctx_named(&v3);
	k[0] = key4(0x0a000001, 0x0a000002, 1234, 80, 6);
	k[1] = key4(0x0a000001, 0x0a000003, 1235, 443, 6);
	k[2] = key6(1, 2, 5353, 53);
	k[3] = key4(0x0a000005, 0x0a000006, 40000, 53, 17);
	k[4] = key4(0xc6336401, 0xc6336402, 0, 0, 50);	/* ESP */
	k[4].spi = 0x1234;
	k[5] = key4(0x0a000001, 0x0a000009, 7, 7, 1);	/* ICMP id 7 */
	/* order: which connection is fed first (ids follow) */
	for (int i = 0; i < 6; i++) {
		int j = order ? 5 - i : i;
		const struct tm_ctx_view *cv = j == 1 ? &v1 : j == 2 ? &v2 :
		    j == 3 ? &v3 : j == 5 ? &v1 : NULL;
		unsigned fl = TM_SC_C_PROTO | (j == 4 ? TM_SC_C_SPI : 0) |
		    (j < 4 ? TM_SC_C_PORTS : 0) | (j < 2 ? TM_SC_C_STREAM : 0) |
		    (j == 2 ? TM_SC_C_ORIG_B : 0);

		assert_int_equal(tm_scb_conn(b, &k[j], fl, cv, &id[j]), 0);
	}
	assert_int_equal(tm_scb_app(b, id[1], "TLS.Google"), 0);
	assert_int_equal(tm_scb_app(b, id[2], "DNS"), 0);
	assert_int_equal(tm_scb_app(b, id[3], "DNS"), 0);
	for (int i = 0; i < NPKT; i++) {
		uint32_t c = conn_of[i % 7];
		uint32_t caplen = 60 + (uint32_t)(i % 50);

		bt->off[i] = off;
		bt->ts[i] = 1764000000000000000LL + (int64_t)i * 1000 +
		    (i == 500 ? -5000 : 0);	/* one out of order */
		bt->cid[i] = c;
		if (snap_at && i == snap_at) {
			struct tm_sbuf sn = { 0 };
			struct tm_sc sc;
			char err[256] = "";

			memset(&m, 0, sizeof(m));
			m.class_name = "web";
			m.linktype = 1;
			m.snaplen = 262144;
			m.seq = 42;
			m.start = 1764000000;
			m.pcap_size = off;
			assert_int_equal(tm_scb_finish(b, &m, &sn), 0);
			if (tm_sc_open(&sc, sn.p, sn.n, err, sizeof(err)))
				fail_msg("a snapshot's sidecar refused: %s", err);
			snap_packets = sc.h.n_packets;
			assert_int_equal(sc.h.pcap_size, off);
			tm_sc_close(&sc);
			tm_sbuf_free(&sn);
		}
		assert_int_equal(tm_scb_packet(b, id[c], i & 1, off, bt->ts[i],
		    caplen, caplen + 10), 0);
		off += 16 + caplen;
	}
	/* offsets must grow */
	assert_int_equal(tm_scb_packet(b, id[0], 0, bt->off[NPKT - 1], 0, 60,
	    60), -1);
	memset(&m, 0, sizeof(m));
	m.class_name = "web";
	m.linktype = 1;
	m.snaplen = 262144;
	m.seq = 42;
	m.start = 1764000000;
	m.pcap_size = off;
	m.version = build_version;
	assert_int_equal(tm_scb_finish(b, &m, &out), 0);
	bt->p = out.p;
	bt->n = out.n;
	tm_scb_free(b);
}

/* A snapshot in the middle (tm_scb_finish, then more packets) describes
 * the packets so far, and leaves the builder as it was: the final
 * sidecar is byte for byte the one built without it. */
static void test_snapshot(void **state)
{
	struct built *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	snap_at = 0;
	build(a, 16, 0);
	snap_at = 600;
	build(b, 16, 0);
	snap_at = 0;
	assert_int_equal(snap_packets, 600);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->p, b->p, a->n);
	free(a->p);
	free(b->p);
	free(a);
	free(b);
}

static void open_ok(struct tm_sc *sc, const struct built *bt)
{
	char err[256] = "";

	if (tm_sc_open(sc, bt->p, bt->n, err, sizeof(err)))
		fail_msg("a valid sidecar refused: %s", err);
}

static uint32_t find_conn2(const struct tm_sc *sc, uint16_t port_a,
    uint16_t port_b)
{
	for (uint32_t i = 0; i < sc->h.n_conns; i++) {
		struct tm_sc_conn c;

		tm_sc_conn_get(sc, i, &c);
		if (c.key.port_b == port_b && (!port_a ||
		    c.key.port_a == port_a))
			return i;
	}
	fail_msg("no connection with ports %u %u", port_a, port_b);
	return 0;
}

static uint32_t find_conn(const struct tm_sc *sc, uint16_t port_b)
{
	return find_conn2(sc, 0, port_b);
}

static void test_round_trip(void **state)
{
	struct built bt;
	struct tm_sc sc;
	uint64_t seen = 0;

	(void)state;
	build(&bt, 64, 0);
	open_ok(&sc, &bt);
	assert_int_equal(sc.h.n_packets, NPKT);
	assert_int_equal(sc.h.n_conns, 6);
	assert_int_equal(sc.h.n_contexts, 3);
	assert_int_equal(sc.h.seq, 42);
	assert_int_equal(sc.h.start, 1764000000);
	assert_int_equal(sc.h.linktype, 1);
	assert_string_equal(tm_sc_class(&sc), "web");
	assert_false(sc.h.flags & TM_SC_F_SORTED);
	assert_int_equal(sc.h.min_ts, 1764000000000000000LL);
	assert_int_equal(sc.h.max_ts, 1764000000000000000LL + 999 * 1000);

	/* every packet at its offset, in its connection, in file order */
	for (uint32_t i = 0; i < sc.h.n_conns; i++) {
		struct tm_sc_conn c;
		struct tm_sc_pos it;
		uint64_t off, prev = 0;
		int dir;

		uint32_t cid = UINT32_MAX;

		tm_sc_conn_get(&sc, i, &c);
		tm_sc_pos_begin(&it, &c);
		while (tm_sc_pos_next(&it, &off, &dir)) {
			int k;

			for (k = 0; k < NPKT && bt.off[k] != off; k++)
				;
			assert_true(k < NPKT);
			assert_true(off > prev);
			assert_int_equal(dir, k & 1);
			/* same connection as every other packet of it */
			if (cid == UINT32_MAX)
				cid = bt.cid[k];
			assert_int_equal(bt.cid[k], cid);
			prev = off;
			seen++;
		}
	}
	assert_int_equal(seen, NPKT);

	/* directory: every 64th packet */
	assert_int_equal(sc.n_dir, (NPKT + 63) / 64);
	for (uint32_t k = 0; k < sc.n_dir; k++) {
		uint64_t off;
		int64_t ts;

		tm_sc_dir(&sc, k, &off, &ts);
		assert_int_equal(off, bt.off[k * 64]);
		assert_int_equal(ts, bt.ts[k * 64]);
	}

	/* connections: keys, flags, applications, contexts */
	{
		struct tm_sc_conn c;
		struct tm_ctx_view v;
		uint32_t i = find_conn(&sc, 443), f, e;

		tm_sc_conn_get(&sc, i, &c);
		assert_string_equal(c.app, "TLS.Google");
		assert_int_equal(c.key.proto, 6);
		assert_int_equal(c.key.port_a, 1235);
		assert_true(c.flags & TM_SC_C_STREAM);
		assert_int_not_equal(c.ctx, UINT32_MAX);
		tm_sc_context(&sc, c.ctx, &v);
		assert_int_equal(v.n_vlans, 1);
		assert_int_equal(v.vlans[0], 100);
		tm_sc_ctx_conns(&sc, c.ctx, &f, &e);
		assert_int_equal(e - f, 2);	/* and the ICMP one */
		assert_true(i >= f && i < e);

		i = find_conn2(&sc, 5353, 53);
		tm_sc_conn_get(&sc, i, &c);
		assert_int_equal(c.key.fam_a, 6);
		assert_true(c.flags & TM_SC_C_ORIG_B);
		tm_sc_context(&sc, c.ctx, &v);
		assert_int_equal(v.n_tunnels, 1);
		assert_int_equal(v.tunnels[0].key, 7);
		assert_int_equal(v.tunnels[0].payload, 0x0800);
		assert_null(v.tunnels[0].name);

		/* no context: first in id order */
		tm_sc_ctx_conns(&sc, UINT32_MAX, &f, &e);
		assert_int_equal(f, 0);
		assert_int_equal(e, 2);
		tm_sc_conn_get(&sc, 0, &c);
		assert_int_equal(c.ctx, UINT32_MAX);
		assert_int_equal(c.key.port_b, 80);	/* arrival order */
	}
	tm_sc_close(&sc);
	free(bt.p);
}

/* ids of a field's value, as a string "1,4,5" */
static const char *lookup(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v)
{
	static char s[256];
	struct tm_sc_posting p;
	uint32_t id;
	size_t n = 0;

	s[0] = '\0';
	if (!tm_sc_lookup(sc, f, v, &p))
		return "-";
	while (tm_sc_posting_next(&p, &id))
		n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%u", n ? "," :
		    "", id);
	return s;
}

static void test_postings(void **state)
{
	struct built bt;
	struct tm_sc sc;
	uint8_t v[16];
	char want[64];
	uint32_t c80, c443, ce, ci, cd;

	(void)state;
	build(&bt, 256, 0);
	open_ok(&sc, &bt);
	c80 = find_conn(&sc, 80);
	c443 = find_conn(&sc, 443);
	ci = find_conn(&sc, 7);
	for (ce = 0; ce < 6; ce++) {
		struct tm_sc_conn c;

		tm_sc_conn_get(&sc, ce, &c);
		if (c.flags & TM_SC_C_SPI)
			break;
	}
	for (cd = 0; cd < 6; cd++) {
		struct tm_sc_conn c;

		tm_sc_conn_get(&sc, cd, &c);
		if (c.key.fam_a == 6)
			break;
	}
	/* 10.0.0.1 is in three connections */
	tm_sc_be32(v, 0x0a000001);
	snprintf(want, sizeof(want), "%u,%u,%u", c80 < c443 ? c80 : c443,
	    c80 < c443 ? c443 : c80, ci);
	{
		uint32_t a[3] = { c80, c443, ci }, t;

		for (int i = 0; i < 3; i++)
			for (int j = i + 1; j < 3; j++)
				if (a[j] < a[i]) {
					t = a[i];
					a[i] = a[j];
					a[j] = t;
				}
		snprintf(want, sizeof(want), "%u,%u,%u", a[0], a[1], a[2]);
	}
	assert_string_equal(lookup(&sc, TM_SC_ADDR4, v), want);
	tm_sc_be32(v, 0x0a000004);
	assert_string_equal(lookup(&sc, TM_SC_ADDR4, v), "-");
	memset(v, 0, 16);
	v[0] = 0xfd;
	v[15] = 2;
	snprintf(want, sizeof(want), "%u", cd);
	assert_string_equal(lookup(&sc, TM_SC_ADDR6, v), want);
	/* ports: transport ports only, not the ICMP identifier */
	tm_sc_be16(v, 443);
	snprintf(want, sizeof(want), "%u", c443);
	assert_string_equal(lookup(&sc, TM_SC_PORT, v), want);
	tm_sc_be16(v, 7);
	assert_string_equal(lookup(&sc, TM_SC_PORT, v), "-");
	tm_sc_be16(v, 53);
	assert_int_equal(strchr(lookup(&sc, TM_SC_PORT, v), ',') != NULL, 1);
	v[0] = 50;
	snprintf(want, sizeof(want), "%u", ce);
	assert_string_equal(lookup(&sc, TM_SC_PROTO, v), want);
	tm_sc_be32(v, 0x1234);
	assert_string_equal(lookup(&sc, TM_SC_SPI, v), want);
	v[0] = TM_L3_IPV6;
	snprintf(want, sizeof(want), "%u", cd);
	assert_string_equal(lookup(&sc, TM_SC_L3, v), want);
	assert_int_equal(tm_sc_field_count(&sc, TM_SC_ETHERTYPE), 0);
	/* applications by string index */
	assert_int_equal(tm_sc_field_count(&sc, TM_SC_APP), 2);
	{
		struct tm_sc_posting p;
		uint8_t val[16];
		uint32_t s;

		assert_int_equal(tm_sc_field_value(&sc, TM_SC_APP, 0, val, &p),
		    1);
		s = (uint32_t)val[0] << 24 | val[1] << 16 | val[2] << 8 |
		    val[3];

		assert_string_equal(tm_sc_string(&sc, s), "DNS");
		assert_int_equal(p.count, 2);
	}
	/* context fields: ids are contexts */
	tm_sc_be16(v, 300);
	assert_string_equal(lookup(&sc, TM_SC_VLAN, v), lookup(&sc,
	    TM_SC_GRE_KEY, (const uint8_t *)"\0\0\0\7"));
	v[0] = TM_TUN_OTHER;
	assert_string_not_equal(lookup(&sc, TM_SC_TUNNEL, v), "-");
	tm_sc_be32(v, 4242);
	assert_string_not_equal(lookup(&sc, TM_SC_VNI, v), "-");
	tm_sc_be32(v, 16);
	assert_string_not_equal(lookup(&sc, TM_SC_MPLS_LABEL, v), "-");
	/* the outer IP layer of MPLS-then-vxlan-gpe is the vxlan-gpe's */
	memset(v, 0, 16);
	v[0] = 0x20;
	v[15] = 1;
	assert_string_equal(lookup(&sc, TM_SC_OUTER_ADDR6, v), lookup(&sc,
	    TM_SC_TUNNEL_ADDR6, v));
	assert_string_not_equal(lookup(&sc, TM_SC_OUTER_ADDR6, v), "-");
	tm_sc_be32(v, 0xc0000202);
	assert_string_not_equal(lookup(&sc, TM_SC_OUTER_ADDR4, v), "-");
	assert_int_equal(tm_sc_field_count(&sc, TM_SC_TUNNEL_NAME), 1);
	/* roaring view of a posting */
	{
		struct tm_sc_posting p;
		roaring_bitmap_t *r;

		tm_sc_be32(v, 0x0a000001);
		assert_int_equal(tm_sc_lookup(&sc, TM_SC_ADDR4, v, &p), 1);
		r = tm_sc_posting_bitmap(&p);
		assert_non_null(r);
		assert_int_equal(roaring_bitmap_get_cardinality(r), 3);
		assert_true(roaring_bitmap_contains(r, ci));
		roaring_bitmap_free(r);
	}
	tm_sc_close(&sc);
	free(bt.p);
}

static const uint8_t *section(const uint8_t *p, uint32_t id, size_t *len);

/* The same content fed in another order gives the same bytes, except
 * for the connection order within a context. */
static void test_canonical(void **state)
{
	struct built a, b;

	(void)state;
	build(&a, 256, 0);
	build(&b, 256, 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.p, b.p, a.n);
	free(b.p);
	/* reversed arrival: strings, contexts, shapes numbered the same
	 * (the records' times and offsets are differences to the record
	 * before, so their sizes may differ) */
	build(&b, 256, 1);
	{
		static const uint32_t same[] = { TM_SC_S_STRINGS,
			TM_SC_S_CONTEXTS, TM_SC_S_SHAPES, TM_SC_S_CTX_CONNS };

		for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
			size_t la, lb;
			const uint8_t *pa = section(a.p, same[k], &la);
			const uint8_t *pb = section(b.p, same[k], &lb);

			assert_int_equal(la, lb);
			assert_memory_equal(pa, pb, la);
		}
	}
	{
		struct tm_sc sa, sb;

		open_ok(&sa, &a);
		open_ok(&sb, &b);
		assert_int_equal(sa.h.n_contexts, sb.h.n_contexts);
		for (uint32_t i = 0; i < sa.h.n_contexts; i++)
			assert_memory_equal(sa.ctx[i], sb.ctx[i], 8);
		tm_sc_close(&sa);
		tm_sc_close(&sb);
	}
	free(a.p);
	free(b.p);
}

/* ---- damage ------------------------------------------------------------ */

static void reseal(uint8_t *p, size_t n)
{
	tm_put_le64(p + 120, XXH64(p, 120, 0));
	tm_put_le64(p + n - 8, XXH64(p, n - 8, 0));
}

static const uint8_t *section(const uint8_t *p, uint32_t id, size_t *len)
{
	uint32_t ns = tm_le32(p + 92);

	for (uint32_t i = 0; i < ns; i++) {
		const uint8_t *e = p + 128 + 24 * i;

		if (tm_le32(e) == id) {
			*len = tm_le64(e + 16);
			return p + tm_le64(e + 8);
		}
	}
	fail_msg("no section %u", id);
	return NULL;
}

/* Refused, with a message containing what. */
static void refused(uint8_t *p, size_t n, const char *what)
{
	struct tm_sc sc;
	char err[256] = "";

	if (tm_sc_open(&sc, p, n, err, sizeof(err)) == 0) {
		tm_sc_close(&sc);
		fail_msg("damage not found (expected '%s')", what);
	}
	if (!strstr(err, what))
		fail_msg("expected '%s', got '%s'", what, err);
}

static void every_byte_one(void);

/* Both versions: a version 1 sidecar (a store written before) goes
 * through the same damage. */
static void test_every_byte(void **state)
{
	(void)state;
	every_byte_one();
	build_version = 1;
	every_byte_one();
	build_version = 0;
}

static void every_byte_one(void)
{
	struct built bt;

	build(&bt, 16, 0);
	/* any byte changed: a checksum says so */
	for (size_t i = 0; i < bt.n; i++) {
		struct tm_sc sc;
		char err[256];

		bt.p[i] ^= 0x40;
		assert_int_equal(tm_sc_open(&sc, bt.p, bt.n, err, sizeof(err)),
		    -1);
		bt.p[i] ^= 0x40;
	}
	/* cut anywhere */
	for (size_t n = 0; n < bt.n; n += 7) {
		struct tm_sc sc;
		char err[256];

		assert_int_equal(tm_sc_open(&sc, bt.p, n, err, sizeof(err)),
		    -1);
	}
	/* checksums made valid again: refused or accepted, never a crash
	 * or an overread (ASan), never a loop */
	for (size_t i = 128; i < bt.n - 8; i++) {
		static const uint8_t x[] = { 0x01, 0x80, 0xff };

		for (size_t k = 0; k < sizeof(x); k++) {
			uint8_t *c = malloc(bt.n);
			struct tm_sc sc;
			char err[256];

			memcpy(c, bt.p, bt.n);
			c[i] ^= x[k];
			reseal(c, bt.n);
			if (tm_sc_open(&sc, c, bt.n, err, sizeof(err)) == 0) {
				/* then everything in it is usable */
				for (uint32_t id = 0; id < sc.h.n_conns; id++) {
					struct tm_sc_conn cn;
					struct tm_sc_pos it;
					uint64_t off;
					int dir;

					tm_sc_conn_get(&sc, id, &cn);
					tm_sc_pos_begin(&it, &cn);
					while (tm_sc_pos_next(&it, &off,
					    &dir))
						assert_true(off <
						    sc.h.pcap_size);
				}
				tm_sc_close(&sc);
			}
			free(c);
		}
	}
	free(bt.p);
}

/* p (n bytes) with section id's bytes replaced by rep (rn bytes): the
 * sections after it moved, the sizes and checksums made right. A new
 * buffer in *out, its size returned. */
static size_t splice(const uint8_t *p, size_t n, uint32_t id,
    const uint8_t *rep, size_t rn, uint8_t **out)
{
	uint32_t ns = tm_le32(p + 92);
	size_t off = 0, len = 0, m;
	uint8_t *c;

	for (uint32_t i = 0; i < ns; i++)
		if (tm_le32(p + 128 + 24 * i) == id) {
			off = tm_le64(p + 128 + 24 * i + 8);
			len = tm_le64(p + 128 + 24 * i + 16);
		}
	assert_true(off > 0);
	m = n - len + rn;
	c = malloc(m);
	assert_non_null(c);
	memcpy(c, p, off);
	memcpy(c + off, rep, rn);
	memcpy(c + off + rn, p + off + len, n - off - len);
	for (uint32_t i = 0; i < ns; i++) {
		uint8_t *e = c + 128 + 24 * i;

		if (tm_le32(e) == id)
			tm_put_le64(e + 16, rn);
		else if (tm_le64(e + 8) > off)
			tm_put_le64(e + 8, tm_le64(e + 8) - len + rn);
	}
	tm_put_le64(c + 16, m);
	reseal(c, m);
	*out = c;
	return m;
}

/* A sidecar of 40 UDP connections, one packet each, client ports 1000
 * apart: dictionaries of more than one block. */
static void build_many(uint8_t **p, size_t *n)
{
	struct tm_scb *b = tm_scb_new();
	struct tm_sbuf out = { 0 };
	struct tm_scb_meta m;
	uint64_t off = 24;

	assert_non_null(b);
	tm_scb_reset(b, 16);
	for (uint32_t i = 0; i < 40; i++) {
		struct tm_key k = key4(0x0a000001, 0x0a010000 + i,
		    (uint16_t)(2000 + 1000 * i), 53, 17);
		struct tm_ctx_view v;
		uint32_t id;

		ctx_vlan(&v);
		v.vlans[0] = (uint16_t)(100 + i % 3);	/* 3 contexts */
		assert_int_equal(tm_scb_conn(b, &k, TM_SC_C_PROTO |
		    TM_SC_C_PORTS, &v, &id), 0);
		assert_int_equal(tm_scb_packet(b, id, 0, off,
		    1764000000000000000LL + i * 1000, 60, 60), 0);
		off += 16 + 60;
	}
	memset(&m, 0, sizeof(m));
	m.class_name = "web";
	m.linktype = 1;
	m.snaplen = 262144;
	m.seq = 1;
	m.start = 1764000000;
	m.pcap_size = off;
	assert_int_equal(tm_scb_finish(b, &m, &out), 0);
	tm_scb_free(b);
	*p = out.p;
	*n = out.n;
}

static void test_damage(void **state)
{
	struct built bt;
	uint8_t *c;
	const uint8_t *s;
	size_t len;

	(void)state;
	build(&bt, 16, 0);
	c = malloc(bt.n + 64);

#define FRESH() memcpy(c, bt.p, bt.n)
	FRESH();
	c[0] = 'X';
	refused(c, bt.n, "bad magic");
	FRESH();
	c[8] = 9;
	refused(c, bt.n, "version");
	FRESH();
	c[30] ^= 1;
	refused(c, bt.n, "header checksum");
	FRESH();
	c[bt.n - 20] ^= 1;
	refused(c, bt.n, "checksum mismatch");
	FRESH();
	refused(c, bt.n - 1, "bytes, header says");
	/* header fields, checksums valid */
	FRESH();
	tm_put_le64(c + 48, 0);
	reseal(c, bt.n);
	refused(c, bt.n, "packet count");
	FRESH();
	tm_put_le32(c + 88, 99);
	reseal(c, bt.n);
	refused(c, bt.n, "class name");
	FRESH();
	tm_put_le64(c + 32, tm_le64(c + 40) + 1);
	reseal(c, bt.n);
	refused(c, bt.n, "time range");
	FRESH();
	tm_put_le32(c + 112, 8);
	reseal(c, bt.n);
	refused(c, bt.n, "index interval");
	FRESH();
	tm_put_le32(c + 76, 0);
	reseal(c, bt.n);
	refused(c, bt.n, "directory interval");
	FRESH();
	c[12] = 0x80;
	reseal(c, bt.n);
	refused(c, bt.n, "flags");
	/* section table */
	FRESH();
	tm_put_le64(c + 128 + 8, bt.n);
	reseal(c, bt.n);
	refused(c, bt.n, "out of bounds");
	FRESH();
	tm_put_le32(c + 128 + 24, tm_le32(c + 128));	/* an id twice */
	reseal(c, bt.n);
	refused(c, bt.n, "twice");
	FRESH();
	tm_put_le32(c + 128 + 24, 99);		/* directory gone */
	reseal(c, bt.n);
	refused(c, bt.n, "missing");
	/* strings */
	FRESH();
	s = section(c, TM_SC_S_STRINGS, &len);
	c[s - c + 1] = 'Z';		/* "DNS" > "TLS.Google"? no: "ZNS" */
	reseal(c, bt.n);
	refused(c, bt.n, "strings: not sorted");
	FRESH();
	s = section(c, TM_SC_S_STRINGS, &len);
	c[s - c + 4] = 1;		/* "DNS" no longer NUL-terminated */
	reseal(c, bt.n);
	refused(c, bt.n, "strings");
	/* directory */
	FRESH();
	s = section(c, TM_SC_S_DIRECTORY, &len);
	tm_put_le64(c + (s - c) + 16, tm_le64(s + 16) + 1);
	reseal(c, bt.n);
	refused(c, bt.n, "directory entry 1 is not packet 16");
	FRESH();
	s = section(c, TM_SC_S_DIRECTORY, &len);
	tm_put_le64(c + (s - c) + 16, 10);
	reseal(c, bt.n);
	refused(c, bt.n, "directory: entry 1 has a bad offset");
	FRESH();
	s = section(c, TM_SC_S_DIRECTORY, &len);
	tm_put_le64(c + (s - c) + 8, 1);
	reseal(c, bt.n);
	refused(c, bt.n, "outside the time range");
	/* contexts */
	FRESH();
	s = section(c, TM_SC_S_CONTEXTS, &len);
	c[s - c] = 9;			/* more VLANs than possible */
	reseal(c, bt.n);
	refused(c, bt.n, "contexts: record 0 is malformed");
	/* v2 contexts: the second shares one byte less than it could
	 * (its own bytes one more): VLANs 100, 101, 102 share their
	 * counts (01 00), the ids are little-endian */
	{
		uint8_t *mb, rep[256], *m;
		size_t mbn, rn = 0, mn;
		const uint8_t *cs;
		struct tm_rd r;
		uint64_t s0 = 9, m0 = 9, s1 = 9, m1 = 9;

		build_many(&mb, &mbn);
		cs = section(mb, TM_SC_S_CONTEXTS, &len);
		r.p = cs;
		r.end = cs + len;
		assert_true(len < sizeof(rep) - 1);
		assert_int_equal(tm_rd_varint(&r, &s0), 0);
		assert_int_equal(tm_rd_varint(&r, &m0), 0);
		assert_true(s0 == 0 && m0 == 4);
		r.p += m0;
		assert_int_equal(tm_rd_varint(&r, &s1), 0);
		assert_int_equal(tm_rd_varint(&r, &m1), 0);
		assert_true(s1 == 2 && m1 == 2);
		rn = (size_t)(r.p - cs) - 2;		/* context 0 */
		memcpy(rep, cs, rn);
		rep[rn++] = 1;
		rep[rn++] = 3;
		rep[rn++] = cs[2 + 1];		/* context 0's byte 1 */
		memcpy(rep + rn, r.p, (size_t)(cs + len - r.p));
		rn += (size_t)(cs + len - r.p);
		mn = splice(mb, mbn, TM_SC_S_CONTEXTS, rep, rn, &m);
		refused(m, mn, "contexts: record 1 shares less than it could");
		free(m);
		/* the section as it was, through splice: accepted */
		mn = splice(mb, mbn, TM_SC_S_CONTEXTS, cs, len, &m);
		{
			struct tm_sc sc;
			char err[256];

			assert_int_equal(tm_sc_open(&sc, m, mn, err,
			    sizeof(err)), 0);
			tm_sc_close(&sc);
		}
		free(m);
		free(mb);
	}
	FRESH();
	s = section(bt.p, TM_SC_S_CONTEXTS, &len);
	c[s - bt.p + 1] = 0;		/* context 0: no bytes of its own */
	reseal(c, bt.n);
	refused(c, bt.n, "contexts: record 0 is malformed");
	FRESH();
	s = section(c, TM_SC_S_CTX_CONNS, &len);
	tm_put_le32(c + (s - c), 5);
	reseal(c, bt.n);
	refused(c, bt.n, "context connections");
	/* shapes */
	FRESH();
	s = section(c, TM_SC_S_SHAPES, &len);
	c[s - c] = 0xff;
	reseal(c, bt.n);
	refused(c, bt.n, "shapes: entry 0 is malformed");
	FRESH();
	s = section(c, TM_SC_S_SHAPES, &len);
	memcpy(c + (s - c) + TM_SC_SHAPE_SIZE2, s, TM_SC_SHAPE_SIZE2);
					/* two equal shapes */
	reseal(c, bt.n);
	refused(c, bt.n, "shapes: not sorted");
	/* connection index and records */
	FRESH();
	s = section(c, TM_SC_S_CONN_INDEX, &len);
	tm_put_le32(c + (s - c), 1);
	reseal(c, bt.n);
	refused(c, bt.n, "connection index");
	FRESH();
	s = section(c, TM_SC_S_CONNS, &len);
	c[s - c] = 0x7f;		/* first record's length */
	reseal(c, bt.n);
	refused(c, bt.n, "connection 0");
	FRESH();
	s = section(c, TM_SC_S_CONNS, &len);
	{
		struct tm_rd r = { s, s + len };
		uint64_t rl;

		assert_int_equal(tm_rd_varint(&r, &rl), 0);
		c[r.p - c] = 60;	/* shape index out of range */
	}
	reseal(c, bt.n);
	refused(c, bt.n, "connection 0: malformed record");
	/* positions (the last byte of the first record ends its last
	 * position) */
	{
		struct tm_sc sc;
		struct tm_sc_conn cn;
		size_t at;

		FRESH();
		open_ok(&sc, &bt);
		tm_sc_conn_get(&sc, 0, &cn);
		at = (size_t)(cn.pos_end - bt.p) - 1;
		tm_sc_close(&sc);
		/* the second position (v2: the first is in the record's
		 * head) no step forward */
		c[cn.pos - bt.p] = 0;
		reseal(c, bt.n);
		refused(c, bt.n, "connection 0: position 1 is bad");
		/* v2 positions are bit-coded: the last position's direction
		 * is the last bit of the code, then 0 bits to the byte */
		{
			struct tm_sc_pos it;
			uint64_t off, prev = 0, bits = 0;
			int dir, first = 1;

			tm_sc_pos_begin(&it, &cn);
			while (tm_sc_pos_next(&it, &off, &dir)) {
				uint64_t v = (off - prev) << 1 | (uint64_t)dir,
				    q = v >> cn.pos_k;

				prev = off;
				if (first) {
					first = 0;
					continue;
				}
				bits += 2u * (unsigned)(64 -
				    __builtin_clzll(q + 1)) - 1 + cn.pos_k;
			}
			assert_true(bits > 0);
			assert_int_equal((size_t)(cn.pos_end - cn.pos),
			    (bits + 7) / 8);
			if (bits % 8) {
				FRESH();
				c[at] |= 1;	/* a padding bit */
				reseal(c, bt.n);
				refused(c, bt.n, "connection 0: padding bits "
				    "set");
			}
			at = (size_t)(cn.pos - bt.p) + (bits - 1) / 8;
			FRESH();
			c[at] ^= (uint8_t)(0x80u >> ((bits - 1) % 8));
		}
		reseal(c, bt.n);
		{
			/* accepted: directions are not cross-checked here
			 * (tm store check compares with the pcap) */
			struct tm_sc sc2;
			char err[256];

			assert_int_equal(tm_sc_open(&sc2, c, bt.n, err,
			    sizeof(err)), 0);
			tm_sc_close(&sc2);
		}
	}
	/* record heads (v2): the first packet's offset, 0 (a varint of
	 * the same length), is before the first record; an address index
	 * beyond the dictionary */
	{
		const uint8_t *r0 = section(bt.p, TM_SC_S_CONNS, &len);
		struct tm_rd r = { r0, r0 + len };
		uint64_t x;
		const uint8_t *at;

		assert_int_equal(tm_rd_varint(&r, &x), 0);	/* length */
		assert_int_equal(tm_rd_varint(&r, &x), 0);	/* time */
		at = r.p;
		assert_int_equal(tm_rd_varint(&r, &x), 0);	/* offset */
		FRESH();
		for (const uint8_t *q = at; q < r.p; q++)
			c[q - bt.p] = q + 1 < r.p ? 0x80 : 0;
		reseal(c, bt.n);
		refused(c, bt.n, "connection 0: malformed record");
		assert_int_equal(tm_rd_varint(&r, &x), 0);	/* shape */
		assert_true(r.p[0] < 0x80);	/* address a: one byte */
		FRESH();
		c[r.p - bt.p] = 0x7f;
		reseal(c, bt.n);
		refused(c, bt.n, "connection 0: malformed record");
	}
	/* the time unit */
	FRESH();
	tm_put_le32(c + 116, 7);
	reseal(c, bt.n);
	refused(c, bt.n, "bad time unit");
	/* a shape's application */
	FRESH();
	s = section(c, TM_SC_S_SHAPES, &len);
	tm_put_le32(c + (s - c) + 8, 99);
	reseal(c, bt.n);
	refused(c, bt.n, "shapes: entry 0 names no string");
	/* postings (v2: header 12 bytes, the blocks' offsets, the
	 * dictionary, the posting lists) */
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_ADDR4, &len);
	tm_put_le32(c + (s - c) + 12, 1);	/* block 0 not at 0 */
	reseal(c, bt.n);
	refused(c, bt.n, "field addr4: dictionary malformed at value 0");
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_ADDR4, &len);
	tm_put_le32(c + (s - c) + 8, tm_le32(s + 8) + 1);	/* its length */
	reseal(c, bt.n);
	refused(c, bt.n, "field addr4");
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_ADDR4, &len);
	c[s - c + 16 + 4] = 63 << 1 | 1;	/* value 0: the single id 63 */
	reseal(c, bt.n);
	refused(c, bt.n, "field addr4: posting of value 0 is malformed");
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_ADDR6, &len);
	assert_true(tm_le32(s + 4) >= 2);
	{
		/* value 1 of addr6: the bytes it shares with value 0 */
		struct tm_rd r = { s + 16 + 16, s + len };
		uint64_t ref;

		assert_int_equal(tm_rd_varint(&r, &ref), 0);
		c[r.p - c] = 16;
		reseal(c, bt.n);
		refused(c, bt.n, "field addr6: dictionary malformed at value "
		    "1");
		FRESH();
		c[r.p - c] = 15;	/* shares all but a smaller last byte */
		c[r.p - c + 1] = 0;
		reseal(c, bt.n);
		refused(c, bt.n, "field addr6: dictionary malformed at value "
		    "1");
	}
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_PORT, &len);
	c[s - c] = 4;				/* wrong width */
	reseal(c, bt.n);
	refused(c, bt.n, "field port: bad section header");
	FRESH();
	s = section(c, TM_SC_S_FIELD0 + TM_SC_APP, &len);
	c[s - c + 16 + 3] = 50;		/* value 0: string 50 */
	reseal(c, bt.n);
	refused(c, bt.n, "names no string");
	/* a list posting whose ids run past the universe: addr4's first
	 * list (10.0.0.1) is at the start of its lists */
	{
		const uint8_t *f = section(bt.p, TM_SC_S_FIELD0 + TM_SC_ADDR4,
		    &len);
		uint32_t nv = tm_le32(f + 4);
		size_t at = (size_t)(f - bt.p) + 12 + 4 * ((nv + 15) / 16) +
		    tm_le32(f + 8);

		FRESH();
		c[at + 1] = 100;	/* first id */
		reseal(c, bt.n);
		refused(c, bt.n, "posting of value 0");
	}
	/* values out of order: a block's head not after the block before */
	{
		uint8_t *m;
		size_t mn;
		const uint8_t *f;

		build_many(&m, &mn);
		f = section(m, TM_SC_S_FIELD0 + TM_SC_PORT, &len);
		assert_true(tm_le32(f + 4) > 16);
		/* block 1's head (a port, 2 bytes) made 0 */
		m[(f - m) + 12 + 4 * ((tm_le32(f + 4) + 15) / 16) +
		    tm_le32(f + 12 + 4)] = 0;
		m[(f - m) + 12 + 4 * ((tm_le32(f + 4) + 15) / 16) +
		    tm_le32(f + 12 + 4) + 1] = 0;
		reseal(m, mn);
		refused(m, mn, "field port: values not sorted at 16");
		free(m);
		/* a connection of one packet whose position code has a k */
		build_many(&m, &mn);
		f = section(m, TM_SC_S_CONNS, &len);
		{
			struct tm_rd r = { f, f + len };
			uint64_t x;

			for (int q = 0; q < 6; q++)	/* length .. addr b */
				assert_int_equal(tm_rd_varint(&r, &x), 0);
			r.p += 4;			/* ports */
			assert_int_equal(tm_rd_varint(&r, &x), 0); /* dur */
			assert_int_equal(r.p[0], 0);	/* 1 packet, k 6 */
			m[r.p - m] = 1;
		}
		reseal(m, mn);
		refused(m, mn, "connection 0: position code for no position");
		free(m);
	}
#undef FRESH
	free(c);
	free(bt.p);
}

static void test_header_only(void **state)
{
	struct built bt;
	struct tm_sc_header h;
	char err[256];

	(void)state;
	build(&bt, 256, 0);
	assert_int_equal(tm_sc_header_parse(bt.p, bt.n, &h, err, sizeof(err)),
	    0);
	assert_int_equal(h.idx_size, bt.n);
	assert_int_equal(h.n_packets, NPKT);
	assert_int_equal(tm_sc_header_parse(bt.p, 100, &h, err, sizeof(err)),
	    -1);
	free(bt.p);
}

/* Everything a reader can ask of an opened sidecar. */
static void read_everything(const struct tm_sc *sc)
{
	for (uint32_t id = 0; id < sc->h.n_conns; id++) {
		struct tm_sc_conn cn;
		struct tm_sc_pos it;
		struct tm_ctx_view v;
		uint64_t off;
		int dir;

		if (tm_sc_conn_get(sc, id, &cn))
			continue;
		tm_sc_pos_begin(&it, &cn);
		while (tm_sc_pos_next(&it, &off, &dir))
			assert_true(off + 16 <= sc->h.pcap_size);
		tm_sc_context(sc, cn.ctx, &v);
	}
	for (unsigned f = 0; f < TM_SC_NFIELDS; f++)
		for (uint32_t i = 0; i < tm_sc_field_count(sc, f); i++) {
			struct tm_sc_posting p;
			uint32_t id, n = 0;
			uint8_t val[16];

			if (!tm_sc_field_value(sc, f, i, val, &p))
				continue;
			while (tm_sc_posting_next(&p, &id)) {
				assert_true(id < p.n_ids);
				assert_true(++n <= p.count);
			}
		}
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A light open (queries) checks less at open, so its accessors must stay
 * inside the file whatever the bytes are. */
static void light_one(void);

static void test_light(void **state)
{
	(void)state;
	light_one();
	build_version = 1;
	light_one();
	build_version = 0;
}

static void light_one(void)
{
	struct built bt;
	struct tm_sc full, light;
	char path[] = "/tmp/tm-test-sidecar-XXXXXX", err[256];
	int fd = mkstemp(path);
	uint8_t *c;

	assert_true(fd >= 0);
	close(fd);
	build(&bt, 16, 0);
	write_file(path, bt.p, bt.n);
	open_ok(&full, &bt);
	assert_int_equal(tm_sc_map(&light, path, TM_SC_LIGHT, err,
	    sizeof(err)), 0);
	/* the same answers */
	for (uint32_t id = 0; id < full.h.n_conns; id++) {
		struct tm_sc_conn a, b;

		assert_int_equal(tm_sc_conn_get(&full, id, &a), 0);
		assert_int_equal(tm_sc_conn_get(&light, id, &b), 0);
		assert_int_equal(a.n_pkts, b.n_pkts);
		assert_memory_equal(&a.key, &b.key, sizeof(a.key));
	}
	{
		struct tm_sc_conn x;

		assert_int_equal(tm_sc_conn_get(&light, full.h.n_conns, &x),
		    -1);
	}
	read_everything(&light);
	tm_sc_close(&light);
	/* a full map validates like tm_sc_open */
	assert_int_equal(tm_sc_map(&light, path, 0, err, sizeof(err)), 0);
	tm_sc_close(&light);
	tm_sc_close(&full);

	/* every byte after the header changed, header checksum kept valid:
	 * refused or read safely (ASan) */
	c = malloc(bt.n);
	for (size_t i = 128; i < bt.n; i++) {
		memcpy(c, bt.p, bt.n);
		c[i] ^= 0x41;
		tm_put_le64(c + 120, XXH64(c, 120, 0));
		write_file(path, c, bt.n);
		if (tm_sc_map(&light, path, TM_SC_LIGHT, err, sizeof(err)) ==
		    0) {
			read_everything(&light);
			tm_sc_close(&light);
		}
	}
	free(c);
	unlink(path);
	free(bt.p);
}

/* A sidecar of the previous format (version 1, written before an
 * upgrade) reads as the same content: connections, positions,
 * applications, contexts, every posting; its own damage is still found. */
static void test_v1(void **state)
{
	struct built *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct tm_sc s1, s2;

	(void)state;
	build(a, 16, 0);
	build_version = 1;
	build(b, 16, 0);
	build_version = 0;
	assert_int_equal(tm_le16(a->p + 8), 2);
	assert_int_equal(tm_le16(b->p + 8), 1);
	assert_true(a->n < b->n);
	open_ok(&s2, a);
	open_ok(&s1, b);
	assert_int_equal(s1.h.n_conns, s2.h.n_conns);
	for (uint32_t id = 0; id < s1.h.n_conns; id++) {
		struct tm_sc_conn x, y;
		struct tm_sc_pos ix, iy;
		uint64_t ox, oy;
		int dx, dy;

		assert_int_equal(tm_sc_conn_get(&s1, id, &x), 0);
		assert_int_equal(tm_sc_conn_get(&s2, id, &y), 0);
		assert_memory_equal(&x.key, &y.key, sizeof(x.key));
		assert_int_equal(x.flags, y.flags);
		assert_int_equal(x.ctx, y.ctx);
		assert_int_equal(x.first_ts, y.first_ts);
		assert_int_equal(x.last_ts, y.last_ts);
		assert_int_equal(x.n_pkts, y.n_pkts);
		assert_true((x.app == NULL) == (y.app == NULL));
		if (x.app)
			assert_string_equal(x.app, y.app);
		tm_sc_pos_begin(&ix, &x);
		tm_sc_pos_begin(&iy, &y);
		while (tm_sc_pos_next(&ix, &ox, &dx)) {
			assert_int_equal(tm_sc_pos_next(&iy, &oy, &dy), 1);
			assert_int_equal(ox, oy);
			assert_int_equal(dx, dy);
		}
		assert_int_equal(tm_sc_pos_next(&iy, &oy, &dy), 0);
	}
	for (unsigned f = 0; f < TM_SC_NFIELDS; f++) {
		struct tm_sc_fiter i1, i2;
		struct tm_sc_posting p1, p2;

		assert_int_equal(tm_sc_field_count(&s1, f),
		    tm_sc_field_count(&s2, f));
		tm_sc_field_iter(&s1, f, 0, &i1);
		tm_sc_field_iter(&s2, f, 0, &i2);
		while (tm_sc_field_next(&i1, &p1)) {
			uint32_t x, y;

			assert_int_equal(tm_sc_field_next(&i2, &p2), 1);
			assert_memory_equal(i1.v, i2.v, tm_sc_fields[f].width);
			assert_int_equal(p1.count, p2.count);
			while (tm_sc_posting_next(&p1, &x)) {
				assert_int_equal(tm_sc_posting_next(&p2, &y),
				    1);
				assert_int_equal(x, y);
			}
			assert_int_equal(tm_sc_lookup(&s1, f, i1.v, &p1), 1);
		}
		assert_false(i1.bad);
	}
	tm_sc_close(&s1);
	tm_sc_close(&s2);
	/* v1 damage: a dictionary value out of order, an address */
	{
		uint8_t *c = malloc(b->n);
		size_t len;
		const uint8_t *s;

		memcpy(c, b->p, b->n);
		s = section(c, TM_SC_S_FIELD0 + TM_SC_ADDR4, &len);
		memcpy(c + (s - c) + 8, s + 8 + 8, 4);	/* value 0 = 1 */
		reseal(c, b->n);
		refused(c, b->n, "field addr4: values not sorted at 1");
		memcpy(c, b->p, b->n);
		tm_put_le32(c + 116, 1000);	/* no time unit in v1 */
		reseal(c, b->n);
		refused(c, b->n, "bad time unit");
		free(c);
	}
	free(a->p);
	free(b->p);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_postings),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_light),
		cmocka_unit_test(test_v1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
