/*
 * A fast reader of classic pcap files for ingest (pcapread.h). What it
 * does per record is what libpcap 1.10's sf-pcap.c does, with libpcap's
 * messages: a captured length above the link type's maximum (262144) is
 * an error, one above the file's snap length is cut to it, a torn
 * header or record at the end is an error, microseconds become
 * nanoseconds (libpcap's signed 32-bit fields included: a differential
 * test and fuzz target hold the two readers to the same answers).
 */
#define _GNU_SOURCE
#include "pcapread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_HDR	24
#define REC_HDR		16
#define MAX_CAPLEN	262144u		/* libpcap's maximum for most types */
#define BUF		((size_t)1 << 20)	/* read size */
#define BUF_ALLOC	(BUF + MAX_CAPLEN + REC_HDR)

struct tm_pcapread {
	int fd, own_fd;
	int nano;
	uint32_t snaplen;
	uint8_t *buf;
	size_t lo, hi;		/* unread bytes: buf[lo..hi) */
	uint64_t pos;		/* file offset of buf[lo] */
	int eof;
	struct pcap_pkthdr hdr;	/* what tm_pcap_next() points at */
	char err[256];
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static struct tm_pcapread *make(int fd, int nano, uint32_t snaplen)
{
	struct tm_pcapread *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->buf = malloc(BUF_ALLOC);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->fd = fd;
	r->nano = nano;
	r->snaplen = snaplen;
	r->pos = FILE_HDR;
	return r;
}

struct tm_pcapread *tm_pcapread_fdopen(int fd, int nano, uint32_t snaplen)
{
	if (snaplen == 0 || snaplen > MAX_CAPLEN)
		snaplen = MAX_CAPLEN;
	return make(fd, nano, snaplen);
}

/* Link types libpcap rewrites after reading (pcap_post_process) or
 * allows larger records for: left to it. */
static int linktype_ours(int dlt)
{
	switch (dlt) {
	case 189:	/* USB_LINUX */
	case 220:	/* USB_LINUX_MMAPPED */
	case 231:	/* DBUS */
	case 239:	/* NFLOG */
	case 249:	/* USBPCAP */
	case 279:	/* EBHSCR */
		return 0;
	default:
		return 1;
	}
}

struct tm_pcapread *tm_pcapread_open(const char *file, pcap_t *p)
{
	uint8_t h[FILE_HDR];
	struct tm_pcapread *r;
	struct stat sb;
	uint32_t magic;
	int fd, nano;

	if (!file || strcmp(file, "-") == 0 || pcap_is_swapped(p) ||
	    pcap_major_version(p) != 2 || pcap_minor_version(p) != 4 ||
	    !linktype_ours(pcap_datalink(p)) || pcap_snapshot(p) <= 0)
		return NULL;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    lseek(fd, FILE_HDR, SEEK_SET) != FILE_HDR) {
		close(fd);
		return NULL;
	}
	/* the same file libpcap read: classic, this byte order */
	magic = le32(h);
	if (magic == 0xa1b2c3d4u)
		nano = 0;
	else if (magic == 0xa1b23c4du)
		nano = 1;
	else {
		close(fd);
		return NULL;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = make(fd, nano, (uint32_t)pcap_snapshot(p));
	if (!r) {
		close(fd);
		return NULL;
	}
	r->own_fd = 1;
	return r;
}

/* At least want unread bytes, unless the file ends first. -1: a read
 * error. */
static int fill(struct tm_pcapread *r, size_t want)
{
	if (r->hi - r->lo >= want || r->eof)
		return 0;
	if (r->lo) {
		memmove(r->buf, r->buf + r->lo, r->hi - r->lo);
		r->hi -= r->lo;
		r->lo = 0;
	}
	while (r->hi < want) {
		size_t room = BUF_ALLOC - r->hi;
		ssize_t n;

		if (room > BUF)
			room = BUF;
		n = read(r->fd, r->buf + r->hi, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(r->err, sizeof(r->err), "error reading dump "
			    "file: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->hi += (size_t)n;
	}
	return 0;
}

int tm_pcapread_next(struct tm_pcapread *r, struct pcap_pkthdr *h,
    const uint8_t **data)
{
	const uint8_t *p;
	uint32_t caplen, len, usec;
	size_t have;

	if (r->hi - r->lo < REC_HDR && fill(r, REC_HDR))
		return -1;
	have = r->hi - r->lo;
	if (have == 0)
		return 0;
	if (have < REC_HDR) {
		snprintf(r->err, sizeof(r->err), "truncated dump file; tried "
		    "to read %d header bytes, only got %zu", REC_HDR, have);
		return -1;
	}
	p = r->buf + r->lo;
	caplen = le32(p + 8);
	len = le32(p + 12);
	usec = le32(p + 4);
	if (caplen > MAX_CAPLEN) {
		if (caplen > r->snaplen)
			snprintf(r->err, sizeof(r->err), "invalid packet "
			    "capture length %u, bigger than snaplen of %u",
			    caplen, r->snaplen);
		else
			snprintf(r->err, sizeof(r->err), "invalid packet "
			    "capture length %u, bigger than maximum of %u",
			    caplen, MAX_CAPLEN);
		return -1;
	}
	if (have < REC_HDR + (size_t)caplen) {
		if (fill(r, REC_HDR + (size_t)caplen))
			return -1;
		have = r->hi - r->lo;
		p = r->buf + r->lo;
		if (have < REC_HDR + (size_t)caplen) {
			/* libpcap reads the snap length's worth first */
			uint32_t want = caplen > r->snaplen &&
			    have - REC_HDR < r->snaplen ? r->snaplen : caplen;

			snprintf(r->err, sizeof(r->err), "truncated dump "
			    "file; tried to read %u captured bytes, only got "
			    "%zu", want, have - REC_HDR);
			return -1;
		}
	}
	/* as libpcap: the fields are signed 32-bit */
	h->ts.tv_sec = (time_t)(int32_t)le32(p);
	h->ts.tv_usec = r->nano ? (suseconds_t)(int32_t)usec :
	    (suseconds_t)(int32_t)usec * 1000;
	h->caplen = caplen > r->snaplen ? r->snaplen : caplen;
	h->len = len;
	*data = p + REC_HDR;
	r->lo += REC_HDR + (size_t)caplen;
	r->pos += REC_HDR + (uint64_t)caplen;
	return 1;
}

int tm_pcap_next(pcap_t *p, struct tm_pcapread *r, struct pcap_pkthdr **h,
    const u_char **data)
{
	int k;

	if (!r)
		return pcap_next_ex(p, h, data);
	k = tm_pcapread_next(r, &r->hdr, data);
	*h = &r->hdr;
	return k == 1 ? 1 : k == 0 ? PCAP_ERROR_BREAK : PCAP_ERROR;
}

const char *tm_pcap_geterr(pcap_t *p, const struct tm_pcapread *r)
{
	return r ? r->err : pcap_geterr(p);
}

const char *tm_pcapread_error(const struct tm_pcapread *r)
{
	return r->err;
}

uint64_t tm_pcapread_pos(const struct tm_pcapread *r)
{
	return r->pos;
}

void tm_pcapread_close(struct tm_pcapread *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	free(r);
}
