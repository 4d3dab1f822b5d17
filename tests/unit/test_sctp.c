/* SCTP dissector: the common header, the sctp.port hand-off, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

/* A stand-in application bound to sctp.port in this test only. */
static enum tm_verdict app_decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	(void)c;
	(void)pkt;
	(void)next;
	return TM_DONE;
}

static const struct tm_dissector app = {
	.abi = TM_DISSECTOR_ABI, .name = "sctpapp",
	.description = "test", .decode = app_decode,
};

static void sctp4(uint16_t sport, uint16_t dport, size_t chunks)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 132, 12 + chunks);
	tb_be16(&b, sport);
	tb_be16(&b, dport);
	tb_be32(&b, 0x11223344);	/* verification tag */
	tb_be32(&b, 0);			/* checksum */
	for (size_t i = 0; i < chunks; i++)
		tb_u8(&b, (uint8_t)i);
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	sctp4(36412, 2905, 20);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/sctp");
	assert_no_events(p);
	assert_int_equal(p->proto, 132);
	assert_true(p->flags & TM_PF_HAS_PORTS);
	assert_int_equal(p->sport, 36412);
	assert_int_equal(p->dport, 2905);
	assert_true(p->flags & TM_PF_HAS_PAYLOAD);
	assert_int_equal(p->payload_off, 46);
	assert_int_equal(p->payload_len, 20);
}

static void test_ipv6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2001:db8::1", "2001:db8::2", 132, 16);
	tb_be16(&b, 5000);
	tb_be16(&b, 38412);
	tb_be32(&b, 0);
	tb_be32(&b, 0);
	tb_be32(&b, 0x01000004);	/* an INIT chunk header */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/sctp");
	assert_int_equal(p->proto, 132);
	assert_int_equal(p->sport, 5000);
}

static void test_port_binding(void **state)
{
	static const struct tm_dissector *const list[] = { &app };
	static const struct tm_plugin pl =
	    TM_PLUGIN_INIT("sctpapp", "1", list);
	struct tm_registry *r = tm_test_registry();
	const struct tm_packet *p;
	char err[256];

	(void)state;
	assert_int_equal(tm_registry_add_plugin(r, &pl, "test_sctp", NULL, 0),
	    0);
	assert_int_equal(tm_registry_bind(r, "sctpapp", "sctp.port", "2905",
	    err, sizeof(err)), 0);
	/* either side's port finds it */
	sctp4(36412, 2905, 20);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/sctp/sctpapp");
	sctp4(2905, 36412, 20);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/sctp/sctpapp");
	/* no chunks: nothing to hand on */
	sctp4(36412, 2905, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/sctp");
	r->tables[TM_TABLE_SCTP_PORT][2905] = 0;
}

/* chunk: type, flags, length, then length - 4 bytes padded to 4 */
static void chunk(uint8_t type, uint16_t len)
{
	tb_u8(&b, type);
	tb_u8(&b, 0);
	tb_be16(&b, len);
	if (len >= 4)
		tb_zero(&b, ((size_t)len - 4 + 3) & ~(size_t)3);
}

static void with_chunks(const uint8_t *types, const uint16_t *lens,
    size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += 4 + (lens[i] >= 4 ? ((size_t)lens[i] - 4 + 3) &
		    ~(size_t)3 : 0);
	sctp4(36412, 2905, 0);
	b.b[17] = (uint8_t)(20 + 12 + total);
	for (size_t i = 0; i < n; i++)
		chunk(types[i], lens[i]);
}

static void test_state_changes(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t flag;
	} cases[] = {
		{ 1, TM_PF_CONN_OPEN }, { 2, TM_PF_CONN_ACCEPT },
		{ 6, TM_PF_CONN_ABORT }, { 7, TM_PF_CONN_CLOSE },
		{ 8, TM_PF_CONN_CLOSE }, { 14, TM_PF_CONN_CLOSE },
		{ 0, 0 },		/* DATA */
		{ 3, 0 },		/* SACK */
	};
	const struct tm_packet *p;

	(void)state;
	for (size_t i = 0; i < TM_ARRAY_LEN(cases); i++) {
		uint16_t len = 20;

		with_chunks(&cases[i].type, &len, 1);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_layers(p, "eth/ipv4/sctp");
		assert_no_events(p);
		assert_true(p->flags & TM_PF_STREAM);
		assert_int_equal(p->flags & TM_PF_CONN_CONTROL, cases[i].flag);
	}
	/* bundled: a SACK, then a SHUTDOWN with an odd length (padded) */
	{
		static const uint8_t types[] = { 3, 7, 0 };
		static const uint16_t lens[] = { 16, 7, 17 };

		with_chunks(types, lens, 3);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_no_events(p);
		assert_int_equal(p->flags & TM_PF_CONN_CONTROL,
		    TM_PF_CONN_CLOSE);
	}
	/* a chunk cut by the snap length is not looked at, and no event */
	{
		static const uint8_t types[] = { 0, 6 };
		static const uint16_t lens[] = { 100, 4 };

		with_chunks(types, lens, 2);
		p = tm_test_decode_cut(b.b, 46 + 50, b.n, LT_ETHERNET);
		assert_no_events(p);
		assert_int_equal(p->flags & TM_PF_CONN_CONTROL, 0);
		p = tm_test_decode(b.b, b.n, LT_ETHERNET);
		assert_int_equal(p->flags & TM_PF_CONN_CONTROL,
		    TM_PF_CONN_ABORT);
	}
}

static void test_bad_chunk_length(void **state)
{
	static const uint8_t types[] = { 0, 6 };
	static const uint16_t lens[] = { 2, 4 };
	const struct tm_packet *p;

	(void)state;
	/* a length below 4 ends the walk: the ABORT after it is not seen */
	with_chunks(types, lens, 2);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "sctp.bad_chunk_length");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "eth/ipv4/sctp");
	assert_int_equal(p->sport, 36412);
	assert_int_equal(p->flags & TM_PF_CONN_CONTROL, 0);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* 8 bytes: the ports are known, the header is not whole */
	sctp4(1111, 2222, 0);
	b.b[17] = 20 + 8;
	b.n -= 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "sctp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1111);
	assert_int_equal(p->dport, 2222);
	assert_true(p->flags & TM_PF_STREAM);
}

static void test_truncations(void **state)
{
	(void)state;
	sctp4(36412, 2905, 16);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, 34, 46, "sctp.truncated");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_port_binding),
		cmocka_unit_test(test_state_changes),
		cmocka_unit_test(test_bad_chunk_length),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
