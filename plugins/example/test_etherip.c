/*
 * A unit test of the EtherIP dissector that needs no timemachine library:
 * it calls the decode function directly with a cursor and a packet view set
 * up the way the core's decode loop sets them up. (Dissectors inside the
 * timemachine tree use the cmocka harness of tests/unit/ instead, which runs
 * the real decode loop: see docs/plugins.md.)
 *
 *   make check
 */
#include <stdio.h>
#include <string.h>

#include "etherip.c"	/* the dissector under test, statics included */

#define EVENT_BASE 100u	/* any value: events are recorded as base + index */

static int failures, checks;

#define CHECK(cond) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "%s:%d: %s: check failed: %s\n",	\
		    __FILE__, __LINE__, __func__, #cond);		\
	}								\
} while (0)

static struct tm_packet pkt;
static struct tm_next nx;

/* Runs the dissector over caplen captured bytes of a len-byte frame, as the
 * loop would after an IPv4 header 192.0.2.1 > 198.51.100.2. */
static enum tm_verdict run(const uint8_t *b, size_t caplen, size_t len)
{
	struct tm_cursor c = { b, b + caplen, b, (uint32_t)len, 0 };
	static const uint8_t s[4] = { 192, 0, 2, 1 }, d[4] = { 198, 51, 100, 2 };

	memset(&pkt, 0, sizeof(pkt));
	memset(&nx, 0, sizeof(nx));
	pkt.max_depth = 8;
	pkt.cur_event_base = EVENT_BASE;
	pkt.via_table = TM_TABLE_IP_PROTO;
	pkt.via_value = 97;
	tm_addr_set4(&pkt.src, s);
	tm_addr_set4(&pkt.dst, d);
	pkt.l3 = TM_L3_IPV4;
	return decode(&c, &pkt, &nx);
}

static int has_event(unsigned idx)
{
	for (unsigned i = 0; i < pkt.n_events; i++)
		if (pkt.events[i] == EVENT_BASE + idx)
			return 1;
	return 0;
}

static const uint8_t good[] = {
	0x30, 0x00,				/* EtherIP version 3 */
	0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6,	/* inner MACs */
	0x08, 0x00,				/* inner ethertype */
};

static void test_normal(void)
{
	CHECK(run(good, sizeof(good), sizeof(good)) == TM_NEXT);
	CHECK(nx.table == TM_TABLE_LINKTYPE && nx.value == 1);
	CHECK(pkt.n_events == 0);
	CHECK(pkt.n_tunnels == 1);
	CHECK(pkt.tunnels[0].type == TM_TUN_OTHER);
	CHECK(pkt.tunnels[0].name && strcmp(pkt.tunnels[0].name,
	    "etherip") == 0);
	CHECK(pkt.tunnels[0].src.family == 4 &&
	    pkt.tunnels[0].src.a[0] == 192);
	CHECK(pkt.tunnels[0].dst.family == 4 &&
	    pkt.tunnels[0].dst.a[0] == 198);
}

static void test_bad_version(void)
{
	uint8_t b[sizeof(good)];

	memcpy(b, good, sizeof(b));
	b[0] = 0x40;
	CHECK(run(b, sizeof(b), sizeof(b)) == TM_MALFORMED);
	CHECK(has_event(EV_BAD_VERSION));
	CHECK(pkt.n_tunnels == 0);
	/* the version in the wrong nibble (0x03 0x00) is not EtherIP 3 */
	b[0] = 0x03;
	CHECK(run(b, sizeof(b), sizeof(b)) == TM_MALFORMED);
	CHECK(has_event(EV_BAD_VERSION));
}

static void test_reserved_set(void)
{
	uint8_t b[sizeof(good)];

	memcpy(b, good, sizeof(b));
	b[1] = 0x01;
	CHECK(run(b, sizeof(b), sizeof(b)) == TM_NEXT);
	CHECK(has_event(EV_RESERVED_SET));
	CHECK(pkt.n_tunnels == 1);
}

static void test_truncation(void)
{
	/* every cut inside the 2-byte header: the capture ran out */
	for (size_t cut = 0; cut < 2; cut++) {
		CHECK(run(good, cut, sizeof(good)) == TM_TRUNCATED);
		CHECK(pkt.n_tunnels == 0);
	}
	/* a frame that really ends inside the header: too short */
	CHECK(run(good, 1, 1) == TM_SHORT);
}

static void test_depth_limit(void)
{
	struct tm_cursor c = { good, good + sizeof(good), good,
		sizeof(good), 0 };

	/* one tunnel entered already, and the limit is one */
	memset(&pkt, 0, sizeof(pkt));
	pkt.max_depth = 1;
	pkt.depth = 1;
	CHECK(decode(&c, &pkt, &nx) == TM_DONE);
	CHECK(pkt.flags & TM_PF_DEPTH);
	CHECK(pkt.n_tunnels == 0);
}

static void test_plugin(void)
{
	const struct tm_plugin *pl = tm_plugin_entry();

	CHECK(pl->abi == TM_DISSECTOR_ABI);
	CHECK(pl->n_dissectors == 1);
	CHECK(pl->dissectors[0]->abi == TM_DISSECTOR_ABI);
	CHECK(strcmp(pl->dissectors[0]->name, "etherip") == 0);
	/* every event is spelled "<name>.<what>" */
	for (size_t i = 0; i < pl->dissectors[0]->n_events; i++)
		CHECK(strncmp(pl->dissectors[0]->events[i], "etherip.", 8) == 0);
}

int main(void)
{
	test_normal();
	test_bad_version();
	test_reserved_set();
	test_truncation();
	test_depth_limit();
	test_plugin();
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures != 0;
}
