/*
 * libFuzzer target for the fast pcap reader of ingest (core/pcapread.c),
 * differential: the input is written to a file and read both by libpcap
 * and by the reader (when it takes the file); they must give the same
 * records (time, lengths, bytes), the same end, and the same error at
 * the same record with the same message. A difference aborts.
 *
 * Input: a pcap file (the first 24 bytes its header). Seeds:
 * tests/fuzz/fuzz_pcapread.seeds.sh DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pcapread.h"

static char path[64];

static void differ(const char *what, unsigned k)
{
	fprintf(stderr, "fuzz_pcapread: record %u: %s\n", k, what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char e1[PCAP_ERRBUF_SIZE], e2[PCAP_ERRBUF_SIZE];
	pcap_t *ref, *hdr;
	struct tm_pcapread *r;
	unsigned k = 0;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_pcapread-%ld.pcap",
		    (long)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	if (fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	ref = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, e1);
	if (!ref)
		return 0;
	hdr = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, e2);
	if (!hdr)
		differ("libpcap opened it once only", 0);
	r = tm_pcapread_open(path, hdr);
	if (!r)
		goto out;	/* libpcap's to read */
	for (;;) {
		struct pcap_pkthdr *h1, *h2;
		const u_char *d1, *d2;
		int a = pcap_next_ex(ref, &h1, &d1);
		int b = tm_pcap_next(hdr, r, &h2, &d2);

		if (a != b)
			differ("one reads a record, the other does not", k);
		if (a == PCAP_ERROR_BREAK)
			break;
		if (a != 1) {
			if (strcmp(pcap_geterr(ref), tm_pcap_geterr(hdr, r)))
				differ("different messages", k);
			break;
		}
		if (h1->ts.tv_sec != h2->ts.tv_sec ||
		    h1->ts.tv_usec != h2->ts.tv_usec ||
		    h1->caplen != h2->caplen || h1->len != h2->len)
			differ("different headers", k);
		if (memcmp(d1, d2, h1->caplen))
			differ("different bytes", k);
		k++;
	}
	tm_pcapread_close(r);
out:
	pcap_close(hdr);
	pcap_close(ref);
	return 0;
}
