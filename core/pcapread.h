/*
 * A fast reader of classic pcap files for ingest: large read(2)s into one
 * buffer, records handed out in place (no copy, no stdio, one system call
 * per megabyte instead of two library calls per packet).
 *
 * It reads only what it reads exactly as libpcap does: a regular file,
 * classic pcap 2.4 in the machine's byte order, a link type libpcap does
 * not rewrite. libpcap opens the file first (its header checks and
 * messages stay the reference); anything else is left to libpcap.
 */
#ifndef TM_PCAPREAD_H
#define TM_PCAPREAD_H

#include <pcap/pcap.h>
#include <stdint.h>

struct tm_pcapread;

/* A reader for FILE, which libpcap has opened as P (P gives the link
 * type and the snap length libpcap settled on). NULL: not a file this
 * reader takes (or no memory): read it with libpcap. */
struct tm_pcapread *tm_pcapread_open(const char *file, pcap_t *p);

/* The next record: 1 with *h (tv_usec holds nanoseconds) and *data,
 * valid until the next call; 0 at the end of the file; -1 on a bad or
 * torn record or a read error (tm_pcapread_error() says which, as
 * libpcap would). */
int tm_pcapread_next(struct tm_pcapread *r, struct pcap_pkthdr *h,
    const uint8_t **data);

const char *tm_pcapread_error(const struct tm_pcapread *r);

/* Bytes of the file consumed so far (for progress). */
uint64_t tm_pcapread_pos(const struct tm_pcapread *r);

void tm_pcapread_close(struct tm_pcapread *r);

/* pcap_next_ex() through R when there is one (R may be NULL): 1 with *h
 * and *data, PCAP_ERROR_BREAK at the end, PCAP_ERROR on a bad record
 * (tm_pcap_geterr() says what). */
int tm_pcap_next(pcap_t *p, struct tm_pcapread *r, struct pcap_pkthdr **h,
    const u_char **data);
const char *tm_pcap_geterr(pcap_t *p, const struct tm_pcapread *r);

/* The same reader over a file descriptor already past the 24-byte file
 * header (tests and fuzzing): nano says the stamps are nanoseconds. */
struct tm_pcapread *tm_pcapread_fdopen(int fd, int nano, uint32_t snaplen);

#endif
