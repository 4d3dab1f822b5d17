/*
 * libFuzzer target for the whole decode loop with every dissector module of
 * the build: tm_decode, the key, and the JSON printer over any bytes.
 *
 * Input: a 2-byte big-endian link type selector, then the frame. A selector
 * that is one of the link types below is used as it is (so seeds read
 * naturally: 00 01 = Ethernet); any other value picks one by its remainder.
 * Each input is decoded twice: as a whole frame (caplen == len, so a short
 * header is "too short") and as a capture cut by a snap length (len larger
 * than caplen, so the same header is "truncated").
 *
 * Beyond the sanitizers, the packet view is checked for consistency after
 * every decode: counts within their arrays, layer offsets within the frame,
 * event ids known to the registry. A violation aborts with a message.
 *
 * Run: tests/fuzz/run.sh SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "key.h"
#include "pktfmt.h"
#include "registry.h"
#include "../../plugins/loader.h"

#ifndef TM_FUZZ_MODULE_DIR
#error "TM_FUZZ_MODULE_DIR must name the build's module directory"
#endif

static const uint16_t linktypes[] = {
	1,	/* Ethernet */
	101,	/* raw IP */
	113,	/* Linux cooked (SLL) */
	276,	/* Linux cooked v2 (SLL2) */
	0,	/* BSD loopback, host order */
	108,	/* OpenBSD loopback, network order */
	9,	/* PPP */
};
#define N_LINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))

static struct tm_registry *reg;
static struct tm_packet pkt;
static FILE *devnull;

static void die(const char *what, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_decode: inconsistent packet view: %s (%u, %u)\n",
	    what, a, b);
	abort();
}

static void check_view(uint32_t caplen)
{
	if (pkt.n_layers > TM_MAX_LAYERS)
		die("n_layers", pkt.n_layers, TM_MAX_LAYERS);
	for (unsigned i = 0; i < pkt.n_layers; i++) {
		if (pkt.layers[i].offset > caplen)
			die("layer offset beyond the capture",
			    pkt.layers[i].offset, caplen);
		if (i && pkt.layers[i].offset < pkt.layers[i - 1].offset)
			die("layer offsets go backwards", pkt.layers[i].offset,
			    pkt.layers[i - 1].offset);
		if (pkt.layers[i].dissector >= reg->n_slots)
			die("layer dissector", pkt.layers[i].dissector,
			    reg->n_slots);
	}
	if (pkt.n_events > TM_MAX_EVENTS)
		die("n_events", pkt.n_events, TM_MAX_EVENTS);
	for (unsigned i = 0; i < pkt.n_events; i++)
		if (pkt.events[i] >= reg->n_events)
			die("unknown event id", pkt.events[i], reg->n_events);
	if (pkt.n_vlans > TM_MAX_VLANS)
		die("n_vlans", pkt.n_vlans, TM_MAX_VLANS);
	if (pkt.n_tunnels > TM_MAX_TUNNELS)
		die("n_tunnels", pkt.n_tunnels, TM_MAX_TUNNELS);
	if (pkt.n_tunnels > reg->max_depth)
		die("more tunnels than the depth limit", pkt.n_tunnels,
		    reg->max_depth);
	for (unsigned i = 0; i < pkt.n_tunnels; i++)
		if (pkt.tunnels[i].type > TM_TUN_OTHER)
			die("tunnel type", pkt.tunnels[i].type, TM_TUN_OTHER);
	if (pkt.src.family != 0 && pkt.src.family != 4 && pkt.src.family != 6)
		die("address family", pkt.src.family, 0);
	if (pkt.l3 > TM_L3_OTHER)
		die("l3", pkt.l3, TM_L3_OTHER);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const dirs[] = { TM_FUZZ_MODULE_DIR };
	struct tm_load_opts o = { .dirs = dirs, .n_dirs = 1, .no_builtin = 1 };

	(void)argc;
	(void)argv;
	reg = calloc(1, sizeof(*reg));
	if (!reg || tm_registry_init(reg) || tm_load_plugins(reg, &o)) {
		fprintf(stderr, "fuzz_decode: cannot load modules from %s\n",
		    dirs[0]);
		abort();
	}
	for (unsigned i = 0; i < reg->n_modules; i++)
		if (!reg->modules[i].loaded) {
			fprintf(stderr, "fuzz_decode: module %s refused: %s\n",
			    reg->modules[i].file, reg->modules[i].reason);
			abort();
		}
	if (reg->n_slots == 0) {
		fprintf(stderr, "fuzz_decode: no module in %s\n", dirs[0]);
		abort();
	}
	fprintf(stderr, "fuzz_decode: %u dissectors from %s\n", reg->n_slots,
	    dirs[0]);
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

static void one(const uint8_t *frame, uint32_t caplen, uint32_t len,
    uint16_t linktype)
{
	static const struct tm_frame_meta m = { 0 };
	struct tm_key key;
	int dir;

	tm_decode(reg, &pkt, frame, caplen, len, linktype);
	check_view(caplen);
	tm_key_make(&pkt, TM_CTX_DEFAULT, &key, &dir);
	(void)tm_key_hash(&key);
	tm_print_json(devnull, reg, &m, &pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t sel, linktype;
	uint32_t caplen;
	unsigned i;

	if (size < 2 || size - 2 > 262144)
		return 0;
	sel = (uint16_t)((data[0] << 8) | data[1]);
	linktype = linktypes[sel % N_LINKTYPES];
	for (i = 0; i < N_LINKTYPES; i++)
		if (linktypes[i] == sel)
			linktype = sel;
	caplen = (uint32_t)(size - 2);
	/* the frame is the tail of libFuzzer's own exactly-sized buffer, so
	 * ASan sees a read one byte past it */
	one(data + 2, caplen, caplen, linktype);
	one(data + 2, caplen, caplen + 1 + (sel >> 8), linktype);
	return 0;
}
