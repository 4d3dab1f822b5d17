/*
 * libFuzzer target for one dissector module (built once per module of
 * dissectors/, as fuzz_mod_NAME, with TM_FUZZ_MODULE="NAME"): every
 * module is loaded, so the layers after it are decoded too, but the
 * fuzzer's bytes start right at this module's header.
 *
 * The module's bindings (table, value) are listed at start; the input's
 * first byte picks one, the rest is the module's header and payload. A
 * fixed lead-in reaches the binding: nothing for a link type, an Ethernet
 * header for an ethertype, Ethernet + IPv4 for an IP protocol, + UDP, TCP
 * or SCTP for a port (the fuzzed bytes as the destination port's
 * payload), PPP's address and control bytes for a PPP protocol, Ethernet +
 * IPv4 + GRE for a GRE protocol type. Lengths in the lead-in cover the
 * fuzzed bytes. Each input is decoded whole and cut by a snap length.
 *
 * Run: tests/fuzz/run.sh SECONDS (FUZZ_TARGETS="fuzz_mod_gre" for one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "key.h"
#include "registry.h"
#include "fuzz_view.h"
#include "../../plugins/loader.h"

#ifndef TM_FUZZ_MODULE_DIR
#error "TM_FUZZ_MODULE_DIR must name the build's module directory"
#endif
#ifndef TM_FUZZ_MODULE
#error "TM_FUZZ_MODULE must name the module this target fuzzes"
#endif

#define MAX_BINDINGS 64
#define LEAD_MAX 64

static struct tm_registry *reg;
static struct tm_packet pkt;
static struct { uint8_t table; uint16_t value; } bind[MAX_BINDINGS];
static unsigned n_bind;
static uint8_t frame[LEAD_MAX + 262144];

static const char *stem(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { TM_FUZZ_MODULE_DIR };
	struct tm_load_opts o = { .dirs = dirs, .n_dirs = 1, .no_builtin = 1 };
	size_t nl = strlen(TM_FUZZ_MODULE);
	int mod = -1;

	(void)argc;
	(void)argv;
	reg = calloc(1, sizeof(*reg));
	if (!reg || tm_registry_init(reg) || tm_load_plugins(reg, &o))
		abort();
	for (unsigned i = 0; i < reg->n_modules; i++) {
		const char *f = stem(reg->modules[i].file);

		if (strncmp(f, TM_FUZZ_MODULE, nl) == 0 && f[nl] == '.')
			mod = (int)i;
	}
	if (mod < 0 || !reg->modules[mod].loaded) {
		fprintf(stderr, "fuzz_mod_%s: module not loaded from %s\n",
		    TM_FUZZ_MODULE, dirs[0]);
		abort();
	}
	for (unsigned t = 0; t < TM_TABLE_COUNT; t++)
		for (unsigned v = 0; v < 65536 && n_bind < MAX_BINDINGS; v++) {
			int d = tm_registry_lookup(reg, t, (uint16_t)v);

			if (d >= 0 && reg->slots[d].module == mod) {
				bind[n_bind].table = (uint8_t)t;
				bind[n_bind].value = (uint16_t)v;
				n_bind++;
			}
		}
	if (!n_bind) {
		fprintf(stderr, "fuzz_mod_%s: the module binds nothing\n",
		    TM_FUZZ_MODULE);
		abort();
	}
	fprintf(stderr, "fuzz_mod_%s: %u bindings\n", TM_FUZZ_MODULE, n_bind);
	return 0;
}

static void be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t eth(uint8_t *p, unsigned type)
{
	memcpy(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	be16(p + 12, type);
	return 14;
}

static size_t ipv4(uint8_t *p, unsigned proto, size_t payload)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	be16(p + 2, (unsigned)(20 + payload > 65535 ? 65535 : 20 + payload));
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	return 20;
}

/* The lead-in for binding b before n fuzzed bytes; *lt: the link type. */
static size_t lead(unsigned b, size_t n, uint8_t *p, uint16_t *lt)
{
	unsigned v = bind[b].value;
	size_t k = 0;

	*lt = 1;
	switch (bind[b].table) {
	case TM_TABLE_LINKTYPE:
		*lt = (uint16_t)v;
		return 0;
	case TM_TABLE_ETHERTYPE:
		return eth(p, v);
	case TM_TABLE_IP_PROTO:
		k = eth(p, 0x0800);
		return k + ipv4(p + k, v, n);
	case TM_TABLE_UDP_PORT:
		k = eth(p, 0x0800);
		k += ipv4(p + k, 17, n + 8);
		be16(p + k, 65000);
		be16(p + k + 2, v);
		be16(p + k + 4, (unsigned)(n + 8 > 65535 ? 65535 : n + 8));
		be16(p + k + 6, 0);
		return k + 8;
	case TM_TABLE_TCP_PORT:
		k = eth(p, 0x0800);
		k += ipv4(p + k, 6, n + 20);
		memset(p + k, 0, 20);
		be16(p + k, 65000);
		be16(p + k + 2, v);
		p[k + 12] = 5 << 4;
		p[k + 13] = 0x18;
		return k + 20;
	case TM_TABLE_SCTP_PORT:
		k = eth(p, 0x0800);
		k += ipv4(p + k, 132, n + 12);
		memset(p + k, 0, 12);
		be16(p + k, 65000);
		be16(p + k + 2, v);
		return k + 12;
	case TM_TABLE_PPP_PROTO:
		*lt = 9;	/* PPP */
		p[0] = 0xff;
		p[1] = 0x03;
		be16(p + 2, v);
		return 4;
	default:		/* GRE protocol type */
		k = eth(p, 0x0800);
		k += ipv4(p + k, 47, n + 4);
		be16(p + k, 0);
		be16(p + k + 2, v);
		return k + 4;
	}
}

/* Decodes the first caplen bytes of frame from an exactly sized copy, so
 * ASan sees a read past the capture. */
static void one(uint32_t caplen, uint32_t len, uint16_t lt)
{
	uint8_t *f = malloc(caplen ? caplen : 1);
	struct tm_key key;
	int dir;

	if (!f)
		abort();
	memcpy(f, frame, caplen);
	tm_decode(reg, &pkt, f, caplen, len, lt);
	fuzz_check_view("fuzz_mod_" TM_FUZZ_MODULE, reg, &pkt, caplen);
	tm_key_make(&pkt, TM_CTX_DEFAULT, &key, &dir);
	(void)tm_key_hash(&key);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t lt;
	size_t k, n;

	if (size < 1 || size - 1 > 262144 - LEAD_MAX)
		return 0;
	n = size - 1;
	k = lead(data[0] % n_bind, n, frame, &lt);
	memcpy(frame + k, data + 1, n);
	one((uint32_t)(k + n), (uint32_t)(k + n), lt);
	if (n > 1)
		one((uint32_t)(k + n / 2), (uint32_t)(k + n), lt);
	return 0;
}
