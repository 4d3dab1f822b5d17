/*
 * The fast pcap reader (core/pcapread.c) against libpcap itself: the same
 * files, read both ways, must give the same records (time, lengths,
 * bytes), the same end, and the same error at the same record with the
 * same message. Hand-made edge cases first, then a few hundred random
 * files (seeded) with odd lengths, odd times and torn ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "pcapread.h"

static char path[64];

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	put(b, x, 4);
}

static void file_header(struct buf *b, uint32_t magic, uint32_t snaplen,
    uint32_t linktype)
{
	put32(b, magic);
	put32(b, 2 | 4u << 16);
	put32(b, 0);
	put32(b, 0);
	put32(b, snaplen);
	put32(b, linktype);
}

static void record(struct buf *b, uint32_t sec, uint32_t frac,
    uint32_t caplen, uint32_t len, uint32_t fill)
{
	put32(b, sec);
	put32(b, frac);
	put32(b, caplen);
	put32(b, len);
	for (uint32_t i = 0; i < fill; i++) {
		uint8_t c = (uint8_t)(i * 7 + sec);

		put(b, &c, 1);
	}
}

static void write_file(const struct buf *b)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
	assert_int_equal(fclose(f), 0);
}

/* Reads path both ways; returns the records read. */
static unsigned compare(void)
{
	char e1[PCAP_ERRBUF_SIZE], e2[PCAP_ERRBUF_SIZE];
	pcap_t *ref, *hdr;
	struct tm_pcapread *r;
	unsigned k = 0;

	ref = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, e1);
	hdr = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, e2);
	assert_non_null(ref);
	assert_non_null(hdr);
	r = tm_pcapread_open(path, hdr);
	assert_non_null(r);
	for (;;) {
		struct pcap_pkthdr *h1, *h2;
		const u_char *d1, *d2;
		int a = pcap_next_ex(ref, &h1, &d1);
		int b = tm_pcap_next(hdr, r, &h2, &d2);

		if (a != b)
			fail_msg("record %u: libpcap %d (%s), ours %d (%s)", k,
			    a, pcap_geterr(ref), b, tm_pcap_geterr(hdr, r));
		if (a == PCAP_ERROR_BREAK)
			break;
		if (a != 1) {
			assert_string_equal(tm_pcap_geterr(hdr, r),
			    pcap_geterr(ref));
			break;
		}
		if (h1->ts.tv_sec != h2->ts.tv_sec ||
		    h1->ts.tv_usec != h2->ts.tv_usec ||
		    h1->caplen != h2->caplen || h1->len != h2->len)
			fail_msg("record %u: libpcap %ld.%09ld %u/%u, ours "
			    "%ld.%09ld %u/%u", k, (long)h1->ts.tv_sec,
			    (long)h1->ts.tv_usec, h1->caplen, h1->len,
			    (long)h2->ts.tv_sec, (long)h2->ts.tv_usec,
			    h2->caplen, h2->len);
		assert_memory_equal(d1, d2, h1->caplen);
		k++;
	}
	tm_pcapread_close(r);
	pcap_close(hdr);
	pcap_close(ref);
	return k;
}

static void test_edges(void **state)
{
	static const uint32_t magics[] = { 0xa1b2c3d4u, 0xa1b23c4du };
	struct buf b = { 0 };

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		/* ordinary, empty, cut to the snap length, times with the
		 * high bit set, a fraction beyond a second */
		b.n = 0;
		file_header(&b, magics[m], 100, 1);
		record(&b, 1764000000, 5, 60, 60, 60);
		record(&b, 1764000001, 999999, 0, 0, 0);
		record(&b, 1764000002, 7, 150, 1500, 150);	/* > snap */
		record(&b, 0x80000001u, 0xfffffff0u, 10, 10, 10);
		record(&b, 4000000000u, 2000000u, 1, 200, 1);
		write_file(&b);
		assert_int_equal(compare(), 5);

		/* the largest record, then one beyond any pcap */
		b.n = 0;
		file_header(&b, magics[m], 262144, 1);
		record(&b, 1, 1, 262144, 262144, 262144);
		record(&b, 2, 2, 262145, 262145, 262145);
		write_file(&b);
		assert_int_equal(compare(), 1);

		/* beyond the maximum but within a huge snap length */
		b.n = 0;
		file_header(&b, magics[m], 0, 1);	/* 0: the maximum */
		record(&b, 1, 1, 70000, 70000, 70000);
		record(&b, 2, 2, 300000, 300000, 10);
		write_file(&b);
		assert_int_equal(compare(), 1);

		/* torn: a header cut after 9 bytes, then data cut short */
		b.n = 0;
		file_header(&b, magics[m], 65535, 1);
		record(&b, 1, 1, 40, 40, 40);
		put32(&b, 3);
		put32(&b, 3);
		put(&b, "x", 1);
		write_file(&b);
		assert_int_equal(compare(), 1);
		b.n = 0;
		file_header(&b, magics[m], 65535, 1);
		record(&b, 1, 1, 40, 40, 40);
		record(&b, 2, 2, 4000, 4000, 3999);
		write_file(&b);
		assert_int_equal(compare(), 1);

		/* records across the reader's 1 MiB reads */
		b.n = 0;
		file_header(&b, magics[m], 262144, 101);
		for (uint32_t i = 0; i < 3000; i++)
			record(&b, 1764000000 + i, i, 1000 + (i * 37) % 9000,
			    20000, 1000 + (i * 37) % 9000);
		write_file(&b);
		assert_int_equal(compare(), 3000);
	}
	free(b.p);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Random files: odd snap lengths, lengths near every limit, odd times,
 * and a torn end now and then. */
static void test_random(void **state)
{
	static const uint32_t snaps[] = { 0, 64, 1514, 65535, 262144,
	    262145, 0x7fffffffu, 0xffffffffu };
	static const uint32_t caps[] = { 0, 1, 63, 64, 65, 1514, 65535,
	    262143, 262144, 262145, 1u << 20 };
	struct buf b = { 0 };
	unsigned compared = 0, records = 0;

	(void)state;
	for (int f = 0; f < 400; f++) {
		uint32_t snap = snaps[rnd() % 8];
		int n = (int)(rnd() % 40);

		b.n = 0;
		file_header(&b, rnd() & 1 ? 0xa1b2c3d4u : 0xa1b23c4du, snap,
		    rnd() % 300);
		for (int i = 0; i < n; i++) {
			uint32_t cl = rnd() % 4 ? rnd() % 2000 :
			    caps[rnd() % 11];
			uint32_t fill = cl > 300000 ? 16 : cl;

			record(&b, rnd() % 3 ? 1764000000 + rnd() % 1000 :
			    rnd() << 1 ^ rnd(), rnd() % 3 ? rnd() % 1000000 :
			    rnd() << 1 ^ rnd(), cl, rnd() % 2 ? cl :
			    rnd() % 70000, fill);
		}
		if (b.n > 24 && rnd() % 4 == 0)
			b.n -= 1 + rnd() % (b.n - 24 < 40 ? b.n - 24 : 40);
		write_file(&b);
		{
			char e[PCAP_ERRBUF_SIZE];
			pcap_t *p = pcap_open_offline(path, e);

			/* link types libpcap rewrites are left to it */
			if (p) {
				struct tm_pcapread *r = tm_pcapread_open(path,
				    p);

				pcap_close(p);
				if (!r)
					continue;
				tm_pcapread_close(r);
			} else {
				continue;
			}
		}
		records += compare();
		compared++;
	}
	/* most files are ours to read (few random link types are not) */
	print_message("%u files, %u records\n", compared, records);
	assert_true(compared >= 380);
	assert_true(records >= 2000);
	free(b.p);
}

/* What the reader leaves to libpcap: byte-swapped files, other versions,
 * pcapng, standard input. */
static void test_declines(void **state)
{
	struct buf b = { 0 };
	char e[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	(void)state;
	/* the other byte order */
	put(&b, "\xa1\xb2\xc3\xd4\x00\x02\x00\x04\0\0\0\0\0\0\0\0"
	    "\x00\x00\xff\xff\x00\x00\x00\x01", 24);
	write_file(&b);
	p = pcap_open_offline(path, e);
	assert_non_null(p);
	assert_null(tm_pcapread_open(path, p));
	assert_null(tm_pcapread_open("-", p));
	pcap_close(p);
	b.n = 0;
	file_header(&b, 0xa1b2c3d4u, 65535, 220);	/* USB, rewritten */
	write_file(&b);
	p = pcap_open_offline(path, e);
	assert_non_null(p);
	assert_null(tm_pcapread_open(path, p));
	pcap_close(p);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_declines),
	};
	int rc;

	snprintf(path, sizeof(path), "/tmp/tm-pcapread-%ld.pcap",
	    (long)getpid());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
