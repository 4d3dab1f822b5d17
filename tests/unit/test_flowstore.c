/* The flow record's encoding (storage/flowstore.c): what is encoded decodes
 * back the same, the fixed part alone (what the writer reads to compute a
 * pending Community ID) agrees with the whole decode, and every malformed
 * payload is refused. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "tm_test.h"
#include "community_id.h"
#include "flowstore.h"

static void addr(const char *s, uint8_t *fam, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		*fam = 4;
	else if (inet_pton(AF_INET6, s, a) == 1)
		*fam = 6;
	else
		fail_msg("bad address %s", s);
}

/* A TCP connection 10.0.0.2:80 <- 10.0.0.1:4242 (the originator is b) in
 * a VLAN and a GRE tunnel, its record in buf. */
static size_t sample(struct tm_conn *c, struct tm_flow_rec *f, uint8_t *buf,
    const char *cid)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	memset(f, 0, sizeof(*f));
	c->first_ts = 1764000000123456789LL;
	c->last_ts = c->first_ts + 5;
	c->pkts[0] = 3;
	c->pkts[1] = 4;
	c->bytes[0] = 300;
	c->bytes[1] = 4000;
	c->stored_pkts = 7;
	c->stored_bytes = 4300;
	c->cutoff = 20480;
	c->first_frame = 17;
	c->key.l3 = TM_L3_IPV4;
	c->key.proto = 6;
	c->key.port_a = 80;
	c->key.port_b = 4242;
	addr("10.0.0.2", &c->key.fam_a, c->key.addr_a);
	addr("10.0.0.1", &c->key.fam_b, c->key.addr_b);
	c->orig = 1;
	c->pflags = TM_CP_PROTO | TM_CP_PORTS | TM_CP_STREAM;
	f->c = c;
	f->has_ports = 1;
	f->orig_h.family = 4;
	memcpy(f->orig_h.a, c->key.addr_b, 16);
	f->resp_h.family = 4;
	memcpy(f->resp_h.a, c->key.addr_a, 16);
	f->orig_p = 4242;
	f->resp_p = 80;
	f->why = TM_END_FIN;
	f->ctx.n_vlans = 1;
	f->ctx.vlans[0] = 100;
	f->ctx.n_tunnels = 1;
	f->ctx.tunnels[0].type = 1;
	f->ctx.tunnels[0].ids = 1;
	f->ctx.tunnels[0].key = 7;
	addr("192.0.2.1", &f->ctx.tunnels[0].src.family,
	    f->ctx.tunnels[0].src.a);
	addr("192.0.2.2", &f->ctx.tunnels[0].dst.family,
	    f->ctx.tunnels[0].dst.a);
	f->class_name = "default";
	f->app = "HTTP";
	snprintf(f->uid, sizeof(f->uid), "C0123456789abcdefg");
	snprintf(f->community_id, sizeof(f->community_id), "%s", cid);
	n = tm_flowrec_encode(f, buf, TM_FLOWREC_MAX);
	assert_true(n > 134);
	return n;
}

static void test_round_trip(void **state)
{
	static uint8_t buf[TM_FLOWREC_MAX];
	struct tm_conn c, fc;
	struct tm_flow_rec f, ff;
	struct tm_flowrec *r = malloc(sizeof(*r));
	size_t n = sample(&c, &f, buf, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");

	(void)state;
	assert_non_null(r);
	assert_int_equal(tm_flowrec_decode(buf, n, r), 0);
	assert_int_equal(r->c.first_ts, c.first_ts);
	assert_int_equal(r->c.bytes[1], 4000);
	assert_int_equal(r->c.first_frame, 17);
	assert_memory_equal(r->c.key.addr_a, c.key.addr_a, 16);
	assert_int_equal(r->f.orig_p, 4242);
	assert_int_equal(r->f.resp_p, 80);
	assert_int_equal(r->f.ctx.n_vlans, 1);
	assert_int_equal(r->f.ctx.vlans[0], 100);
	assert_int_equal(r->f.ctx.n_tunnels, 1);
	assert_int_equal(r->f.ctx.tunnels[0].key, 7);
	assert_string_equal(r->f.class_name, "default");
	assert_null(r->f.prov_class);
	assert_string_equal(r->f.app, "HTTP");
	assert_string_equal(r->f.uid, f.uid);
	assert_string_equal(r->f.community_id, f.community_id);

	/* the fixed part alone says the same of the connection and its
	 * ends, and touches nothing else of f */
	memset(&ff, 0xa5, sizeof(ff));
	assert_int_equal(tm_flowrec_decode_fixed(buf, n, &fc, &ff), 0);
	assert_memory_equal(&fc.key, &r->c.key, sizeof(fc.key));
	assert_int_equal(fc.pflags, r->c.pflags);
	assert_int_equal(fc.orig, 1);
	assert_ptr_equal(ff.c, &fc);
	assert_memory_equal(&ff.orig_h, &r->f.orig_h, sizeof(ff.orig_h));
	assert_memory_equal(&ff.resp_h, &r->f.resp_h, sizeof(ff.resp_h));
	assert_int_equal(ff.orig_p, 4242);
	assert_int_equal(ff.has_ports, 1);
	assert_int_equal(ff.why, TM_END_FIN);
	assert_int_equal(ff.ctx.n_vlans, 0xa5);

	/* encoding what was decoded gives the same bytes */
	{
		static uint8_t again[TM_FLOWREC_MAX];

		assert_int_equal(tm_flowrec_encode(&r->f, again,
		    TM_FLOWREC_MAX), n);
		assert_memory_equal(again, buf, n);
	}
	free(r);
}

/* A pending ID is as long as a real one and the last field, so the
 * writer can put the real one in its place; computed from the fixed part
 * it is the one of the connection's tuple. */
static void test_pending_id_in_place(void **state)
{
	static uint8_t buf[TM_FLOWREC_MAX], real[TM_FLOWREC_MAX];
	struct tm_conn c, fc;
	struct tm_flow_rec f, ff;
	struct tm_packet p;
	char cid[TM_COMMUNITY_ID_SIZE];
	size_t n, m;

	(void)state;
	n = sample(&c, &f, buf, TM_CID_PENDING);
	tm_flow_cid_input(&f, &p);
	assert_int_equal(tm_community_id(&p, 0, cid, sizeof(cid)), 0);
	m = sample(&c, &f, real, cid);
	assert_int_equal(n, m);
	assert_int_equal(buf[n - TM_COMMUNITY_ID_STRLEN - 1],
	    TM_COMMUNITY_ID_STRLEN);
	assert_memory_equal(buf + n - TM_COMMUNITY_ID_STRLEN, TM_CID_PENDING,
	    TM_COMMUNITY_ID_STRLEN);
	assert_int_equal(tm_flowrec_decode_fixed(buf, n, &fc, &ff), 0);
	tm_flow_cid_input(&ff, &p);
	assert_int_equal(tm_community_id(&p, 0, cid, sizeof(cid)), 0);
	memcpy(buf + n - TM_COMMUNITY_ID_STRLEN, cid, TM_COMMUNITY_ID_STRLEN);
	assert_memory_equal(buf, real, n);
}

static void test_malformed(void **state)
{
	static uint8_t buf[TM_FLOWREC_MAX], bad[TM_FLOWREC_MAX + 1];
	struct tm_flowrec *r = malloc(sizeof(*r));
	struct tm_conn c, fc;
	struct tm_flow_rec f, ff;
	size_t n = sample(&c, &f, buf, "");

	(void)state;
	assert_non_null(r);
	/* short: below the fixed part, and cut anywhere after it */
	assert_int_equal(tm_flowrec_decode(buf, 133, r), -1);
	assert_int_equal(tm_flowrec_decode_fixed(buf, 133, &fc, &ff), -1);
	for (size_t k = 134; k < n; k++)
		if (tm_flowrec_decode(buf, k, r) != -1)
			fail_msg("a record cut to %zu of %zu bytes decodes", k,
			    n);
	/* a byte too many */
	memcpy(bad, buf, n);
	bad[n] = 0;
	assert_int_equal(tm_flowrec_decode(bad, n + 1, r), -1);
	/* an end reason, a network layer or an address family that does
	 * not exist */
	memcpy(bad, buf, n);
	bad[98] = TM_END_EOF + 1;
	assert_int_equal(tm_flowrec_decode_fixed(bad, n, &fc, &ff), -1);
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	memcpy(bad, buf, n);
	bad[80] = TM_L3_OTHER + 1;
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	memcpy(bad, buf, n);
	bad[92] = 5;
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	memcpy(bad, buf, n);
	bad[93] = 5;
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	/* too many VLANs or tunnels */
	memcpy(bad, buf, n);
	bad[132] = TM_MAX_VLANS + 1;
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	memcpy(bad, buf, n);
	bad[133] = TM_MAX_TUNNELS + 1;
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	/* a string longer than what is left */
	memcpy(bad, buf, n);
	bad[n - 1] = 200;	/* the empty Community ID says 200 bytes */
	assert_int_equal(tm_flowrec_decode(bad, n, r), -1);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_pending_id_in_place),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
