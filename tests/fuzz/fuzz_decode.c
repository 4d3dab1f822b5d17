/*
 * libFuzzer target for the whole decode loop with every dissector module of
 * the build: tm_decode, the key, and the JSON printer over any bytes.
 *
 * Input: a 2-byte big-endian link type selector, then the frame. A selector
 * that some module binds in the linktype table is used as it is (so seeds
 * read naturally: 00 01 = Ethernet, and every link type a module handles is
 * reachable); any other value picks one of the list below by its remainder.
 * Each input is decoded twice: as a whole frame (caplen == len, so a short
 * header is "too short") and as a capture cut by a snap length (len larger
 * than caplen, so the same header is "truncated").
 *
 * Beyond the sanitizers, the packet view is checked for consistency after
 * every decode: counts within their arrays, layer offsets within the frame,
 * event ids known to the registry. A violation aborts with a message.
 *
 * The dispatch tables are arrays, so libFuzzer's comparison tracing never
 * sees the ports, protocol numbers and ethertypes that lead into a
 * dissector. With TM_FUZZ_DICT_OUT=FILE in the environment, the target
 * writes every bound value as a libFuzzer dictionary to FILE and exits;
 * run.sh passes it with -dict.
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
#include "fuzz_view.h"
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

/* Every value bound in a table, as dictionary entries: 2 bytes big-endian
 * (all tables), also little-endian (link types: BSD loopback's family is
 * host order) and 1 byte (ip.proto, and PPP's compressed protocol field). */
static void write_dict(const char *path)
{
	static const char *const tables[TM_TABLE_COUNT] = TM_TABLE_NAMES;
	FILE *f = fopen(path, "w");
	unsigned n = 0;

	if (!f) {
		perror(path);
		exit(1);
	}
	for (unsigned t = 0; t < TM_TABLE_COUNT; t++)
		for (unsigned v = 0; v < 65536; v++) {
			if (tm_registry_lookup(reg, t, (uint16_t)v) < 0)
				continue;
			fprintf(f, "%s_%u_be=\"\\x%02x\\x%02x\"\n", tables[t], v,
			    v >> 8, v & 0xff);
			n++;
			if (t == TM_TABLE_LINKTYPE) {
				fprintf(f, "%s_%u_le=\"\\x%02x\\x%02x\"\n",
				    tables[t], v, v & 0xff, v >> 8);
				n++;
			}
			if ((t == TM_TABLE_IP_PROTO || t == TM_TABLE_PPP_PROTO) &&
			    v < 256) {
				fprintf(f, "%s_%u_u8=\"\\x%02x\"\n", tables[t], v,
				    v);
				n++;
			}
		}
	if (fclose(f)) {
		perror(path);
		exit(1);
	}
	fprintf(stderr, "fuzz_decode: %u dictionary entries in %s\n", n, path);
	exit(0);
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
	if (getenv("TM_FUZZ_DICT_OUT"))
		write_dict(getenv("TM_FUZZ_DICT_OUT"));
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
	fuzz_check_view("fuzz_decode", reg, &pkt, caplen);
	tm_key_make(&pkt, TM_CTX_DEFAULT, &key, &dir);
	(void)tm_key_hash(&key);
	tm_print_json(devnull, reg, &m, &pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t sel, linktype;
	uint32_t caplen;

	if (size < 2 || size - 2 > 262144)
		return 0;
	sel = (uint16_t)((data[0] << 8) | data[1]);
	linktype = tm_registry_lookup(reg, TM_TABLE_LINKTYPE, sel) >= 0 ? sel :
	    linktypes[sel % N_LINKTYPES];
	caplen = (uint32_t)(size - 2);
	/* the frame is the tail of libFuzzer's own exactly-sized buffer, so
	 * ASan sees a read one byte past it */
	one(data + 2, caplen, caplen, linktype);
	one(data + 2, caplen, caplen + 1 + (sel >> 8), linktype);
	return 0;
}
