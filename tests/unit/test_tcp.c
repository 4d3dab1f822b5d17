/* TCP dissector: ports, options, the tcp.port hand-off, every malformed
 * branch, truncation. */
#include <string.h>
#include "tm_test.h"
#include "tm_cut.h"

static struct tm_buf b;

#define TCP 34			/* where TCP starts after eth/ipv4 */

static enum tm_verdict app_decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t x;

	(void)next;
	(void)pkt;
	/* declines a payload that starts with 'D' */
	if (tm_peek_u8(c, 0, &x) == 0 && x == 'D')
		return TM_DECLINE;
	return TM_DONE;
}

static const struct tm_dissector app = {
	.abi = TM_DISSECTOR_ABI, .name = "tcpapp",
	.description = "test", .decode = app_decode,
};

static void seg(uint16_t sport, uint16_t dport, size_t data)
{
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 6, 20 + data);
	tb_tcp(&b, sport, dport, 0x18);
	for (size_t i = 0; i < data; i++)
		tb_u8(&b, (uint8_t)('a' + i % 26));
}

static void test_normal(void **state)
{
	const struct tm_packet *p;

	(void)state;
	seg(51000, 80, 10);
	tb_zero(&b, 6);			/* trailer */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->proto, 6);
	assert_true(p->flags & TM_PF_HAS_PORTS);
	assert_int_equal(p->sport, 51000);
	assert_int_equal(p->dport, 80);
	assert_true(p->flags & TM_PF_HAS_PAYLOAD);
	assert_int_equal(p->payload_off, TCP + 20);
	assert_int_equal(p->payload_len, 10);

	/* no payload */
	seg(80, 51000, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp");
	assert_int_equal(p->payload_len, 0);
}

static void test_options(void **state)
{
	const struct tm_packet *p;

	(void)state;
	seg(51000, 443, 0);
	b.b[TCP + 12] = 0x80;		/* 32-byte header */
	memset(b.b + b.n, 1, 12);	/* NOP options */
	b.n += 12;
	tb_be32(&b, 0x16030100);	/* payload */
	b.b[17] = 20 + 32 + 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->payload_off, TCP + 32);
	assert_int_equal(p->payload_len, 4);
}

static void test_port_dispatch(void **state)
{
	static const struct tm_dissector *const list[] = { &app };
	static const struct tm_plugin pl =
	    TM_PLUGIN_INIT("tcpapp", "1", list);
	struct tm_registry *r = tm_test_registry();
	const struct tm_packet *p;
	char err[256];

	(void)state;
	assert_int_equal(tm_registry_add_plugin(r, &pl, "test_tcp", NULL, 0),
	    0);
	assert_int_equal(tm_registry_bind(r, "tcpapp", "tcp.port", "40001",
	    err, sizeof(err)), 0);
	seg(40001, 50000, 4);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp/tcpapp");
	seg(50000, 40001, 4);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp/tcpapp");
	/* no payload: nothing handed on */
	seg(50000, 40001, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp");
	/* declined: the layer is undone, TCP stays the last one */
	seg(50000, 40001, 4);
	b.b[TCP + 20] = 'D';
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/tcp");
	assert_no_events(p);
	assert_int_equal(p->dport, 40001);
	r->tables[TM_TABLE_TCP_PORT][40001] = 0;
}

static void test_bad_offset(void **state)
{
	const struct tm_packet *p;

	(void)state;
	seg(1, 2, 8);
	b.b[TCP + 12] = 0x40;		/* 16 bytes: below the header */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.bad_offset");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* the ports were decoded first */
	assert_int_equal(p->sport, 1);
	assert_int_equal(p->dport, 2);

	seg(1, 2, 8);
	b.b[TCP + 12] = 0xf0;		/* 60 bytes in a 28-byte segment */
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.bad_offset");
	assert_true(p->flags & TM_PF_MALFORMED);
}

/* A first IP fragment that ends inside the TCP header: the header goes on
 * in the next fragment, so the layer is cut short, not malformed. */
static void test_first_fragment(void **state)
{
	const struct tm_packet *p;

	(void)state;
	seg(1234, 80, 0);
	b.b[17] = 20 + 16;
	b.b[20] = 0x20;			/* MF, offset 0 */
	b.n -= 4;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1234);
	/* a 60-byte header is no violation either */
	seg(1234, 80, 8);
	b.b[TCP + 12] = 0xf0;
	b.b[20] = 0x20;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.truncated");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_too_short(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* IP says 10 bytes of TCP */
	seg(1234, 80, 0);
	b.b[17] = 20 + 10;
	b.n -= 10;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_int_equal(p->sport, 1234);
	/* 2 bytes: not even the ports */
	seg(1234, 80, 0);
	b.b[17] = 20 + 2;
	b.n -= 18;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_event(p, "tcp.too_short");
	assert_false(p->flags & TM_PF_HAS_PORTS);
}

static void test_truncations(void **state)
{
	const struct tm_packet *p;

	(void)state;
	seg(51000, 80, 10);
	tm_test_truncations(b.b, b.n, LT_ETHERNET);
	tm_test_cuts(b.b, b.n, LT_ETHERNET, TCP, TCP + 20, "tcp.truncated");
	/* a cut after the ports still names them */
	p = tm_test_decode_cut(b.b, TCP + 4, b.n, LT_ETHERNET);
	assert_int_equal(p->sport, 51000);
	assert_int_equal(p->dport, 80);
	/* a cut in the payload is no truncation of TCP */
	p = tm_test_decode_cut(b.b, TCP + 25, b.n, LT_ETHERNET);
	assert_no_events(p);
	assert_false(p->flags & TM_PF_TRUNCATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_port_dispatch),
		cmocka_unit_test(test_bad_offset),
		cmocka_unit_test(test_first_fragment),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
