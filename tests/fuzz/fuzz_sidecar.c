/*
 * libFuzzer target for the sidecar readers: a corrupt sidecar must be
 * detected and never trusted, and no reader may leave the buffer.
 *
 * Each input is read three ways:
 *  1. as it is, by the full validation (tm_sc_open): almost every random
 *     input fails at a checksum, as it should;
 *  2. with its size field and both checksums recomputed (bytes 16..23,
 *     120..127 and the last 8), so the fuzzer's changes reach the
 *     structural checks behind them; if tm_sc_open accepts it, every
 *     accessor is walked: connections and their packet positions (which
 *     must stay below the segment size and grow), contexts, strings, the
 *     packet directory, every value of every field and its posting (ids
 *     within the field's universe, ascending);
 *  3. the same bytes opened the light way a query does
 *     (tm_sc_open_light_mem: no whole-file checks) and planned for a few
 *     queries (query/plan.c), every candidate visited, every connection
 *     read through the bounded accessors.
 *
 * Seeds: tests/fuzz/fuzz_sidecar.seeds.sh (sidecars of real stores).
 * Run: tests/fuzz/run.sh SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sidecar.h"
#include "../../query/expr.h"
#include "../../query/plan.h"
#include "../../query/sc_light.h"

static const char *const queries[] = {
	"host 10.0.0.5", "tunnel l2tp and port 80", "vlan 10 or vni 42",
	"src net 192.168.0.0/16 and dst port 53", "app DNS or spi 0x1234",
	"not tcp", "ip6 and host 2001:db8::1", "gre key 7 or teid 9",
};
#define NQ (sizeof(queries) / sizeof(queries[0]))

static struct tm_qplan *plans[NQ];
static struct tm_expr *exprs[NQ];

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < NQ; i++) {
		struct tm_expr_error ee;

		exprs[i] = tm_expr_compile(queries[i], NULL, &ee);
		plans[i] = exprs[i] ? tm_qplan_new(exprs[i]) : NULL;
		if (!plans[i]) {
			fprintf(stderr, "fuzz_sidecar: '%s': %s\n", queries[i],
			    exprs[i] ? "out of memory" : ee.msg);
			abort();
		}
	}
	return 0;
}

static void check(int ok, const char *what, uint64_t a)
{
	if (!ok) {
		fprintf(stderr, "fuzz_sidecar: a validated sidecar broke its "
		    "promise: %s (%llu)\n", what, (unsigned long long)a);
		abort();
	}
}

static void walk_full(const struct tm_sc *sc)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < sc->h.n_conns; i++) {
		struct tm_sc_conn c;
		struct tm_sc_pos it;
		uint64_t off, last = 0, n = 0;
		int dir;

		check(tm_sc_conn_get(sc, i, &c) == 0, "conn_get", i);
		check(c.ctx == UINT32_MAX || c.ctx < sc->h.n_contexts, "ctx",
		    c.ctx);
		tm_sc_pos_begin(&it, &c);
		while (tm_sc_pos_next(&it, &off, &dir)) {
			check(off < sc->h.pcap_size, "position", off);
			check(n == 0 || off > last, "positions grow", off);
			last = off;
			n++;
		}
		check(n == c.n_pkts, "packet count", n);
		total += n;
		(void)tm_sc_conn_ctx(sc, i);
	}
	check(total == sc->h.n_packets, "packets", total);
	for (uint32_t i = 0; i < sc->h.n_contexts; i++) {
		struct tm_ctx_view v;
		uint32_t a, b;

		tm_sc_context(sc, i, &v);
		tm_sc_ctx_conns(sc, i, &a, &b);
		check(a <= b && b <= sc->h.n_conns, "context conns", b);
	}
	for (uint32_t i = 0; i < sc->h.n_strings; i++)
		check(tm_sc_string(sc, i) != NULL, "string", i);
	for (uint32_t k = 0; k < sc->n_dir; k++) {
		uint64_t off;
		int64_t ts;

		tm_sc_dir(sc, k, &off, &ts);
		check(off < sc->h.pcap_size, "directory offset", off);
	}
	for (unsigned f = 0; f < TM_SC_NFIELDS; f++) {
		uint32_t nv = tm_sc_field_count(sc, (enum tm_sc_field)f);

		for (uint32_t i = 0; i < nv; i++) {
			struct tm_sc_posting p;
			uint32_t id, prev = 0, k = 0;
			uint8_t v[16];

			check(tm_sc_field_value(sc, (enum tm_sc_field)f, i, v,
			    &p) == 1, "field value", i);
			while (tm_sc_posting_next(&p, &id)) {
				check(id < sc->f[f].n_ids, "posting id", id);
				check(k == 0 || id > prev, "posting order", id);
				prev = id;
				k++;
			}
		}
	}
}

static void walk_light(const uint8_t *buf, size_t len)
{
	struct tm_sc_light l;
	char err[256];

	if (tm_sc_open_light_mem(&l, buf, len, err, sizeof(err)))
		return;
	if (tm_sc_contexts_light(&l, err, sizeof(err)) == 0) {
		for (size_t q = 0; q < NQ; q++) {
			struct tm_qseg *s = tm_qseg_new(plans[q], &l.sc);
			uint32_t id = 0;

			if (!s)
				abort();
			if (!tm_qseg_damaged(s)) {
				while (tm_qseg_next(s, &id)) {
					struct tm_sc_conn c;

					if (tm_sc_conn_get_safe(&l.sc, id,
					    &c) == 0) {
						struct tm_sc_pos it;
						uint64_t off;
						int dir;

						tm_sc_pos_begin(&it, &c);
						while (tm_sc_pos_next(&it, &off,
						    &dir))
							;
					}
					id++;
				}
			}
			tm_qseg_free(s);
		}
	}
	tm_sc_close_light(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tm_sc sc;
	char err[256];
	uint8_t *b;

	if (size > (1u << 20))
		return 0;
	b = malloc(size ? size : 1);
	if (!b)
		abort();
	memcpy(b, data, size);
	if (tm_sc_open(&sc, b, size, err, sizeof(err)) == 0) {
		walk_full(&sc);
		tm_sc_close(&sc);
	}
	if (size >= TM_SC_HEADER_SIZE + 8) {
		put_le64(b + 16, size);
		put_le64(b + 120, XXH64(b, 120, 0));
		put_le64(b + size - 8, XXH64(b, size - 8, 0));
		if (tm_sc_open(&sc, b, size, err, sizeof(err)) == 0) {
			walk_full(&sc);
			tm_sc_close(&sc);
		}
		walk_light(b, size);
	}
	free(b);
	return 0;
}
