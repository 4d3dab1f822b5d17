/*
 * libFuzzer target for the flow store's records (storage/flowstore.c):
 * tm_flowrec_decode, tm_flowrec_decode_fixed and tm_flows_valid_length,
 * what `tm flows -s`, the IPFIX export, the crash recovery and the
 * writer's Community ID completion read from disk or from the flow ring.
 *
 * Input: a flow file (it starts with TM_FLOWS_MAGIC) or one record's
 * payload. A file is read twice: as it is (the checksums stop the walk
 * early), then with every record's checksum recomputed, so the fuzzer
 * reaches the records behind them; each whole record is decoded.
 *
 * Beyond the sanitizers, it checks:
 *  - tm_flows_valid_length is within the input and on a record boundary;
 *  - a payload that decodes has a fixed part that decodes, to the same
 *    connection key, ends and end reason;
 *  - encoding what was decoded gives bytes that decode and encode again
 *    to the same bytes (the second generation is a fixed point).
 * A violation aborts with a message.
 *
 * Seeds: tests/fuzz/fuzz_flowrec.seeds.sh DIR (run.sh calls it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "bytes.h"
#include "flowstore.h"

static struct tm_flowrec r1, r2;
static uint8_t e1[TM_FLOWREC_MAX], e2[TM_FLOWREC_MAX];

static void die(const char *what)
{
	fprintf(stderr, "fuzz_flowrec: %s\n", what);
	abort();
}

static void one(const uint8_t *p, size_t n)
{
	struct tm_conn c;
	struct tm_flow_rec f;
	size_t n1, n2;

	if (tm_flowrec_decode(p, n, &r1) != 0) {
		(void)tm_flowrec_decode_fixed(p, n, &c, &f);
		return;
	}
	if (tm_flowrec_decode_fixed(p, n, &c, &f) != 0)
		die("decodes whole, but not its fixed part");
	if (memcmp(&c.key, &r1.c.key, sizeof(c.key)) != 0 ||
	    memcmp(&f.orig_h, &r1.f.orig_h, sizeof(f.orig_h)) != 0 ||
	    memcmp(&f.resp_h, &r1.f.resp_h, sizeof(f.resp_h)) != 0 ||
	    f.orig_p != r1.f.orig_p || f.resp_p != r1.f.resp_p ||
	    f.why != r1.f.why || f.has_ports != r1.f.has_ports)
		die("the fixed part decodes differently");
	n1 = tm_flowrec_encode(&r1.f, e1, sizeof(e1));
	if (!n1)
		die("a decoded record does not encode");
	if (tm_flowrec_decode(e1, n1, &r2) != 0)
		die("an encoded record does not decode");
	n2 = tm_flowrec_encode(&r2.f, e2, sizeof(e2));
	if (n2 != n1 || memcmp(e1, e2, n1) != 0)
		die("encode(decode(encode(decode(x)))) differs");
}

static void file(const uint8_t *p, size_t n)
{
	uint64_t v = tm_flows_valid_length(p, n), off = TM_FLOWS_HDR;

	if (v > n || (v && v < TM_FLOWS_HDR))
		die("valid length outside the file");
	while (off + TM_FLOWS_REC_HDR <= v) {
		uint32_t len = tm_le32(p + off);

		if (off + TM_FLOWS_REC_HDR + len > v)
			die("valid length inside a record");
		one(p + off + TM_FLOWS_REC_HDR, len);
		off += TM_FLOWS_REC_HDR + len;
	}
	if (v && off != v)
		die("valid length not on a record boundary");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint64_t off = TM_FLOWS_HDR;

	if (size < TM_FLOWS_HDR || memcmp(data, TM_FLOWS_MAGIC, 8) != 0) {
		one(data, size);
		return 0;
	}
	file(data, size);
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	while (off + TM_FLOWS_REC_HDR <= size) {
		uint32_t len = tm_le32(copy + off);

		if (len == 0 || len > TM_FLOWREC_MAX ||
		    off + TM_FLOWS_REC_HDR + len > size)
			break;
		tm_put_le32(copy + off + 4, XXH32(copy + off +
		    TM_FLOWS_REC_HDR, len, 0));
		off += TM_FLOWS_REC_HDR + len;
	}
	file(copy, size);
	free(copy);
	return 0;
}
