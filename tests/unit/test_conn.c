/* The connection table: lookups, LRU timeouts, eviction at the limit,
 * interned contexts, flush order, bounded memory under a flood. */
#include <stdlib.h>
#include <string.h>
#include "tm_test.h"
#include "conn.h"

#define S 1000000000LL

struct ended {
	uint32_t id;		/* key.port_a of the connection */
	enum tm_end_reason why;
};

static struct ended log_[64];
static size_t n_log;
static uint64_t n_ended;

static void on_end(struct tm_conn *c, enum tm_end_reason why, void *arg)
{
	(void)arg;
	if (n_log < 64) {
		log_[n_log].id = c->key.port_a;
		log_[n_log].why = why;
		n_log++;
	}
	n_ended++;
}

static struct tm_conn_opts opts(uint32_t max)
{
	struct tm_conn_opts o;

	memset(&o, 0, sizeof(o));
	o.max = max;
	o.timeout_ns[TM_TC_TCP] = 300 * S;
	o.timeout_ns[TM_TC_TCP_CLOSING] = 5 * S;
	o.timeout_ns[TM_TC_UDP] = 60 * S;
	o.timeout_ns[TM_TC_ICMP] = 30 * S;
	o.timeout_ns[TM_TC_OTHER] = 10 * S;
	return o;
}

static struct tm_key key_n(uint32_t n)
{
	struct tm_key k;

	memset(&k, 0, sizeof(k));
	k.l3 = TM_L3_IPV4;
	k.proto = 6;
	k.fam_a = k.fam_b = 4;
	memcpy(k.addr_a, &n, 4);
	k.addr_b[0] = 10;
	k.port_a = (uint16_t)n;
	k.port_b = 80;
	return k;
}

static struct tm_conntab *tab(uint32_t max)
{
	struct tm_conn_opts o = opts(max);
	char err[256];
	struct tm_conntab *t = tm_conntab_new(&o, on_end, NULL, err,
	    sizeof(err));

	assert_non_null(t);
	n_log = 0;
	n_ended = 0;
	return t;
}

static struct tm_conn *add(struct tm_conntab *t, uint32_t n, int64_t ts,
    enum tm_tclass tc)
{
	struct tm_key k = key_n(n);

	return tm_conntab_insert(t, &k, tm_key_hash(&k), ts, tc);
}

static struct tm_conn *find(struct tm_conntab *t, uint32_t n)
{
	struct tm_key k = key_n(n);

	return tm_conntab_find(t, &k, tm_key_hash(&k));
}

static void test_entry_size(void **state)
{
	(void)state;
	/* the budget: <= 256 bytes per connection once nDPI is done */
	assert_true(sizeof(struct tm_conn) <= 256);
}

static void test_insert_find_end(void **state)
{
	struct tm_conntab *t = tab(100);
	struct tm_conn *c;

	(void)state;
	for (uint32_t i = 1; i <= 50; i++)
		add(t, i, i * S, TM_TC_TCP);
	for (uint32_t i = 1; i <= 50; i++) {
		c = find(t, i);
		assert_non_null(c);
		assert_int_equal(c->key.port_a, i);
		assert_int_equal(c->first_ts, (int64_t)i * S);
	}
	assert_null(find(t, 51));
	c = find(t, 7);
	tm_conntab_end(t, c, TM_END_FIN);
	assert_null(find(t, 7));
	assert_int_equal(n_log, 1);
	assert_int_equal(log_[0].id, 7);
	assert_int_equal(log_[0].why, TM_END_FIN);
	assert_non_null(find(t, 8));
	assert_int_equal(tm_conntab_stats(t)->live, 49);
	assert_int_equal(tm_conntab_stats(t)->ended[TM_END_FIN], 1);
	/* the freed entry is reused */
	c = add(t, 99, 60 * S, TM_TC_UDP);
	assert_non_null(find(t, 99));
	assert_int_equal(tm_conntab_stats(t)->created, 51);
	tm_conntab_free(t);
}

static void test_expire_per_class(void **state)
{
	struct tm_conntab *t = tab(100);

	(void)state;
	add(t, 1, 0, TM_TC_TCP);		/* 300 s */
	add(t, 2, 0, TM_TC_TCP_CLOSING);	/* 5 s */
	add(t, 3, 0, TM_TC_UDP);		/* 60 s */
	add(t, 4, 0, TM_TC_ICMP);		/* 30 s */
	add(t, 5, 0, TM_TC_OTHER);		/* 10 s */
	find(t, 2)->state |= TM_CS_RST;
	assert_int_equal(tm_conntab_expire(t, 5 * S), 0);	/* not beyond */
	assert_int_equal(tm_conntab_expire(t, 5 * S + 1), 1);
	assert_int_equal(log_[0].id, 2);
	assert_int_equal(log_[0].why, TM_END_RST);
	/* touching keeps a connection alive */
	tm_conntab_touch(t, find(t, 5), 9 * S, TM_TC_OTHER);
	assert_int_equal(tm_conntab_expire(t, 11 * S), 0);
	assert_int_equal(tm_conntab_expire(t, 20 * S), 1);
	assert_int_equal(log_[1].id, 5);
	assert_int_equal(log_[1].why, TM_END_TIMEOUT);
	assert_int_equal(tm_conntab_expire(t, 61 * S), 2);	/* icmp, udp */
	assert_non_null(find(t, 1));
	assert_true(tm_conntab_idle(t, find(t, 1), 301 * S));
	assert_false(tm_conntab_idle(t, find(t, 1), 300 * S));
	assert_int_equal(tm_conntab_expire(t, 301 * S), 1);
	assert_int_equal(tm_conntab_stats(t)->live, 0);
	tm_conntab_free(t);
}

static void test_touch_moves_list(void **state)
{
	struct tm_conntab *t = tab(10);
	struct tm_conn *c;

	(void)state;
	c = add(t, 1, 0, TM_TC_TCP);
	/* FIN both ways: now on the closing list, 5 s */
	c->state |= TM_CS_FIN_ORIG | TM_CS_FIN_RESP;
	tm_conntab_touch(t, c, 1 * S, TM_TC_TCP_CLOSING);
	assert_int_equal(c->tclass, TM_TC_TCP_CLOSING);
	assert_int_equal(tm_conntab_expire(t, 7 * S), 1);
	assert_int_equal(log_[0].why, TM_END_FIN);
	tm_conntab_free(t);
}

static void test_evict_oldest(void **state)
{
	struct tm_conntab *t = tab(4);

	(void)state;
	add(t, 1, 1 * S, TM_TC_TCP);
	add(t, 2, 2 * S, TM_TC_UDP);
	add(t, 3, 3 * S, TM_TC_OTHER);
	add(t, 4, 4 * S, TM_TC_TCP);
	/* 1 was seen again: 2 is now the least recently seen */
	tm_conntab_touch(t, find(t, 1), 5 * S, TM_TC_TCP);
	add(t, 5, 6 * S, TM_TC_TCP);
	assert_int_equal(n_log, 1);
	assert_int_equal(log_[0].id, 2);
	assert_int_equal(log_[0].why, TM_END_EVICTED);
	add(t, 6, 7 * S, TM_TC_ICMP);
	assert_int_equal(log_[1].id, 3);
	add(t, 7, 8 * S, TM_TC_ICMP);
	assert_int_equal(log_[2].id, 4);
	assert_int_equal(tm_conntab_stats(t)->live, 4);
	assert_int_equal(tm_conntab_stats(t)->ended[TM_END_EVICTED], 3);
	assert_non_null(find(t, 1));
	assert_non_null(find(t, 7));
	tm_conntab_free(t);
}

static void test_flush_order(void **state)
{
	struct tm_conntab *t = tab(16);

	(void)state;
	add(t, 3, 30 * S, TM_TC_UDP);
	add(t, 1, 10 * S, TM_TC_TCP);
	add(t, 2, 20 * S, TM_TC_OTHER);
	tm_conntab_flush(t, TM_END_EOF);
	assert_int_equal(n_log, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(log_[i].id, i + 1);
		assert_int_equal(log_[i].why, TM_END_EOF);
	}
	assert_int_equal(tm_conntab_stats(t)->live, 0);
	tm_conntab_free(t);
}

static void addr4(struct tm_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->a[0] = 192;
	a->a[3] = last;
}

static void test_context_interning(void **state)
{
	struct tm_conntab *t = tab(16);
	static struct tm_packet p;
	struct tm_ctx_view v;
	uint32_t a, b, c, d;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(tm_conntab_ctx_intern(t, &p), 0);	/* nothing */
	p.n_vlans = 2;
	p.vlans[0] = 100;
	p.vlans[1] = 200;
	p.n_tunnels = 1;
	p.tunnels[0].type = TM_TUN_GRE;
	p.tunnels[0].ids = TM_TID_KEY;
	p.tunnels[0].key = 42;
	addr4(&p.tunnels[0].src, 1);
	addr4(&p.tunnels[0].dst, 2);
	a = tm_conntab_ctx_intern(t, &p);
	b = tm_conntab_ctx_intern(t, &p);
	assert_true(a != 0);
	assert_int_equal(a, b);			/* shared */
	assert_int_equal(tm_conntab_stats(t)->contexts, 1);
	p.tunnels[0].key = 43;
	c = tm_conntab_ctx_intern(t, &p);
	assert_true(c != a);
	/* the other direction through the same tunnel is kept as it was
	 * first seen: its own copy */
	p.tunnels[0].key = 42;
	addr4(&p.tunnels[0].src, 2);
	addr4(&p.tunnels[0].dst, 1);
	d = tm_conntab_ctx_intern(t, &p);
	assert_true(d != a && d != c);
	tm_conntab_ctx_get(t, a, &v);
	assert_int_equal(v.n_vlans, 2);
	assert_int_equal(v.vlans[1], 200);
	assert_int_equal(v.n_tunnels, 1);
	assert_int_equal(v.tunnels[0].type, TM_TUN_GRE);
	assert_int_equal(v.tunnels[0].key, 42);
	assert_int_equal(v.tunnels[0].src.a[3], 1);
	assert_int_equal(v.tunnels[0].dst.a[3], 2);
	assert_int_equal(tm_conntab_stats(t)->contexts, 3);

	/* references go with the connections that hold them */
	{
		struct tm_conn *c1 = add(t, 1, 0, TM_TC_TCP);
		struct tm_conn *c2 = add(t, 2, 0, TM_TC_TCP);

		c1->ctx = a;
		c2->ctx = b;
		tm_conntab_end(t, c1, TM_END_FIN);
		tm_conntab_ctx_get(t, a, &v);
		assert_int_equal(v.n_vlans, 2);		/* still held */
		tm_conntab_end(t, c2, TM_END_FIN);
		assert_int_equal(tm_conntab_stats(t)->contexts, 2);
	}
	tm_conntab_free(t);
}

/* A flood of one-packet connections: the table stays at its limit, every
 * connection beyond it evicts the oldest, and memory does not grow. */
static void test_flood_bounded(void **state)
{
	struct tm_conntab *t = tab(1000);
	size_t mem0 = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		add(t, i + 1, (int64_t)i * 1000, TM_TC_TCP);
		assert_true(tm_conntab_stats(t)->live <= 1000);
		if (i == 1000)
			mem0 = tm_conntab_memory(t);
	}
	assert_int_equal(tm_conntab_stats(t)->live, 1000);
	assert_int_equal(tm_conntab_stats(t)->ended[TM_END_EVICTED], 999000);
	assert_int_equal(tm_conntab_memory(t), mem0);
	/* the survivors are the newest */
	assert_non_null(find(t, 1000000));
	assert_null(find(t, 998999));
	tm_conntab_free(t);
}

static void test_bad_max(void **state)
{
	struct tm_conn_opts o = opts(0);
	char err[256];

	(void)state;
	assert_null(tm_conntab_new(&o, on_end, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "connections.max"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_size),
		cmocka_unit_test(test_insert_find_end),
		cmocka_unit_test(test_expire_per_class),
		cmocka_unit_test(test_touch_moves_list),
		cmocka_unit_test(test_evict_oldest),
		cmocka_unit_test(test_flush_order),
		cmocka_unit_test(test_context_interning),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_bad_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
