/* Test helpers: the build's modules, decoding, frame building. */
#include "tm_test.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/loader.h"

static struct tm_registry *reg;
static struct tm_packet pkt;
static uint8_t cutbuf[65536 + 64];

struct tm_registry *tm_test_registry(void)
{
	static const char *const dirs[] = { TM_TEST_MODULE_DIR };
	struct tm_load_opts o = { .dirs = dirs, .n_dirs = 1, .no_builtin = 1 };

	if (reg)
		return reg;
	reg = calloc(1, sizeof(*reg));
	if (!reg || tm_registry_init(reg) || tm_load_plugins(reg, &o)) {
		fprintf(stderr, "cannot load modules from %s\n", dirs[0]);
		abort();
	}
	for (unsigned i = 0; i < reg->n_modules; i++)
		if (!reg->modules[i].loaded) {
			fprintf(stderr, "module %s refused: %s\n",
			    reg->modules[i].file, reg->modules[i].reason);
			abort();
		}
	return reg;
}

const struct tm_packet *tm_test_decode_cut(const void *bytes, size_t caplen,
    size_t len, uint16_t linktype)
{
	/* a private copy of exactly caplen bytes: ASan sees any overread */
	uint8_t *copy = malloc(caplen ? caplen : 1);

	assert_non_null(copy);
	memcpy(copy, bytes, caplen);
	tm_decode(tm_test_registry(), &pkt, copy, (uint32_t)caplen,
	    (uint32_t)len, linktype);
	/* the view points into the frame; keep a stable copy for asserts */
	memcpy(cutbuf, copy, caplen < sizeof(cutbuf) ? caplen : sizeof(cutbuf));
	pkt.data = cutbuf;
	free(copy);
	return &pkt;
}

const struct tm_packet *tm_test_decode(const void *bytes, size_t len,
    uint16_t linktype)
{
	return tm_test_decode_cut(bytes, len, len, linktype);
}

int tm_test_has_event(const struct tm_packet *p, const char *name)
{
	int id = tm_event_id(tm_test_registry(), name);

	if (id < 0) {
		fprintf(stderr, "no event named %s is registered\n", name);
		return 0;
	}
	for (unsigned i = 0; i < p->n_events; i++)
		if (p->events[i] == id)
			return 1;
	return 0;
}

const char *tm_test_layers(const struct tm_packet *p)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_layers && n < sizeof(buf) - 80; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i ? "/" : "", tm_dissector_name(tm_test_registry(),
		    p->layers[i].dissector));
	return buf;
}

const char *tm_test_addr(const struct tm_addr *a)
{
	static char buf[2][64];
	static int k;

	k ^= 1;
	if (a->family == 4)
		inet_ntop(AF_INET, a->a, buf[k], sizeof(buf[k]));
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->a, buf[k], sizeof(buf[k]));
	else
		snprintf(buf[k], sizeof(buf[k]), "-");
	return buf[k];
}

void tm_test_truncations(const void *bytes, size_t len, uint16_t linktype)
{
	struct tm_layer full[TM_MAX_LAYERS];
	unsigned n_full;
	const struct tm_packet *p = tm_test_decode(bytes, len, linktype);

	n_full = p->n_layers;
	memcpy(full, p->layers, sizeof(full));
	for (size_t cut = 0; cut < len; cut++) {
		unsigned k;
		char ev[128];

		p = tm_test_decode_cut(bytes, cut, len, linktype);
		/* which layer's header holds byte `cut`? only layers that
		 * have a successor have a known header end */
		for (k = 0; k + 1 < n_full; k++)
			if (cut >= full[k].offset && cut < full[k + 1].offset)
				break;
		if (k + 1 >= n_full)
			continue;
		snprintf(ev, sizeof(ev), "%s.truncated",
		    tm_dissector_name(tm_test_registry(), full[k].dissector));
		if (!tm_test_has_event(p, ev))
			fail_msg("cut at byte %zu of %zu: expected %s, got "
			    "layers %s with %u events", cut, len, ev,
			    tm_test_layers(p), p->n_events);
		assert_true(p->flags & TM_PF_TRUNCATED);
	}
}

void tb_reset(struct tm_buf *b)
{
	b->n = 0;
}

void tb_bytes(struct tm_buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

void tb_u8(struct tm_buf *b, uint8_t v)
{
	tb_bytes(b, &v, 1);
}

void tb_be16(struct tm_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	tb_bytes(b, x, 2);
}

void tb_be32(struct tm_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	tb_bytes(b, x, 4);
}

void tb_zero(struct tm_buf *b, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memset(b->b + b->n, 0, n);
	b->n += n;
}

void tb_eth(struct tm_buf *b, uint16_t ethertype)
{
	static const uint8_t macs[12] = { 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6 };

	tb_bytes(b, macs, 12);
	tb_be16(b, ethertype);
}

void tb_ipv4(struct tm_buf *b, const char *src, const char *dst, uint8_t proto,
    size_t payload)
{
	uint8_t a[4];

	tb_u8(b, 0x45);
	tb_u8(b, 0);
	tb_be16(b, (uint16_t)(20 + payload));
	tb_be32(b, 0x12340000);		/* id, no fragment */
	tb_u8(b, 64);
	tb_u8(b, proto);
	tb_be16(b, 0);
	assert_int_equal(inet_pton(AF_INET, src, a), 1);
	tb_bytes(b, a, 4);
	assert_int_equal(inet_pton(AF_INET, dst, a), 1);
	tb_bytes(b, a, 4);
}

void tb_ipv6(struct tm_buf *b, const char *src, const char *dst, uint8_t nh,
    size_t payload)
{
	uint8_t a[16];

	tb_be32(b, 0x60000000);
	tb_be16(b, (uint16_t)payload);
	tb_u8(b, nh);
	tb_u8(b, 64);
	assert_int_equal(inet_pton(AF_INET6, src, a), 1);
	tb_bytes(b, a, 16);
	assert_int_equal(inet_pton(AF_INET6, dst, a), 1);
	tb_bytes(b, a, 16);
}

void tb_udp(struct tm_buf *b, uint16_t sport, uint16_t dport, size_t payload)
{
	tb_be16(b, sport);
	tb_be16(b, dport);
	tb_be16(b, (uint16_t)(8 + payload));
	tb_be16(b, 0);
}

void tb_tcp(struct tm_buf *b, uint16_t sport, uint16_t dport, uint8_t flags)
{
	tb_be16(b, sport);
	tb_be16(b, dport);
	tb_be32(b, 1);
	tb_be32(b, 0);
	tb_u8(b, 0x50);
	tb_u8(b, flags);
	tb_be16(b, 65535);
	tb_be32(b, 0);
}

void tb_arp_request(struct tm_buf *b)
{
	tb_be16(b, 1);		/* Ethernet */
	tb_be16(b, 0x0800);	/* IPv4 */
	tb_u8(b, 6);
	tb_u8(b, 4);
	tb_be16(b, 1);		/* request */
	tb_zero(b, 6);
	tb_bytes(b, "\x0a\x00\x00\x01", 4);
	tb_zero(b, 6);
	tb_bytes(b, "\x0a\x00\x00\x02", 4);
}
