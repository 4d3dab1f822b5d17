/*
 * A store on disk (docs/storage.md):
 *
 *   STORE/lock                                 held by the writing tm
 *   STORE/segments/<class>/<start>-<seq>.pcap  packets, classic pcap (ns)
 *   STORE/segments/<class>/<start>-<seq>.idx   its sidecar (sidecar.h)
 *   STORE/flows/<start>-<seq>.flows            flow records (flowstore.h)
 *
 * <start> is the Unix time (seconds) of the segment's first packet, ten
 * digits, zero-padded; <seq> the class's sequence number, eight digits
 * at least. A segment is published when its sidecar is: the .idx is
 * written to <name>.idx.tmp, synced, renamed, and the directory synced,
 * only after the pcap was synced.
 *
 * The catalogue lists the published segments of each class, oldest
 * first, with their sizes, for the budgets and for `tm store info`.
 */
#ifndef TM_STORE_H
#define TM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "registry.h"
#include "sidecar.h"

#define TM_PCAP_MAGIC_NS	0xa1b23c4du
#define TM_PCAP_HDR		24
#define TM_PCAP_REC_HDR		16
#define TM_PCAP_SNAPLEN		262144u		/* in segment headers */

struct tm_store_opts {
	uint64_t segment_size;		/* rotate beyond this many pcap bytes */
	int64_t segment_age_ns;		/* ... or this old (packet time) */
	uint64_t disk;			/* store-wide budget; 0: none */
	uint32_t dir_interval;		/* packet directory interval */
	uint64_t memory;		/* a class's ring when it sets none */
	uint64_t flows_disk;		/* flow store budget; 0: none */
	uint64_t flows_segment_size;	/* rotate flow files beyond this */
};

#define TM_STORE_DEFAULT_SEGMENT_SIZE	((uint64_t)256 << 20)
#define TM_STORE_DEFAULT_SEGMENT_AGE	(15 * 60 * 1000000000LL)
#define TM_STORE_DEFAULT_DIR_INTERVAL	256u
#define TM_STORE_DEFAULT_MEMORY		((uint64_t)64 << 20)
#define TM_STORE_DEFAULT_FLOWS_DISK	((uint64_t)1 << 30)
#define TM_STORE_DEFAULT_FLOWS_SEGMENT	((uint64_t)64 << 20)
#define TM_STORE_MIN_SEGMENT_SIZE	((uint64_t)64 << 10)
/* offsets are 32 bits */
#define TM_STORE_MAX_SEGMENT_SIZE	((uint64_t)4 << 30)

void tm_store_opts_default(struct tm_store_opts *o);

/* A published segment. */
struct tm_seg {
	uint64_t seq;
	int64_t start;
	uint64_t pcap_bytes, idx_bytes;
	int64_t min_ts, max_ts;
	uint64_t n_packets, wire_bytes;
	uint32_t n_conns;
};

struct tm_seg_class {
	char *name;
	struct tm_seg *v;	/* v[head..n): oldest first */
	size_t head, n, cap;
	uint64_t bytes;		/* pcap + idx of the published segments */
	uint64_t next_seq;
	uint64_t budget;	/* the class's disk budget; 0: none */
};

struct tm_catalog {
	char *root;		/* STORE */
	struct tm_seg_class *cls;
	size_t n;
	uint64_t bytes;		/* all classes */
};

void tm_catalog_free(struct tm_catalog *cat);
/* The class entry of name, added if missing (NULL: out of memory). */
struct tm_seg_class *tm_catalog_class(struct tm_catalog *cat,
    const char *name);
int tm_catalog_add(struct tm_catalog *cat, struct tm_seg_class *c,
    const struct tm_seg *s);

/* Paths: STORE/segments/<class>/<start>-<seq><ext>. */
void tm_seg_path(char *buf, size_t len, const char *root, const char *cls,
    int64_t start, uint64_t seq, const char *ext);
/* Parses "<start>-<seq>" followed by ext (".pcap", ".idx", ...). 0/-1. */
int tm_seg_parse_name(const char *name, const char *ext, int64_t *start,
    uint64_t *seq);

/* Creates STORE, STORE/segments and STORE/flows as needed. 0, or -1. */
int tm_store_mkdirs(const char *root, char *err, size_t errlen);
/* Takes STORE/lock (one writer per store). The fd, or -1 (err). */
int tm_store_lock(const char *root, char *err, size_t errlen);

/* Writes a file atomically: <path>.tmp, fsync, rename, fsync of the
 * directory. 0; -1 with errno set (the temporary file is removed, path
 * untouched); 1 with errno set when only the directory's sync failed
 * (path is in place, but a power cut may lose the rename). */
int tm_publish_file(const char *path, const void *buf, size_t len);
/* fsync of the directory holding path (or of dir itself). */
int tm_fsync_dir(const char *dir);

/* ---- recovery ----------------------------------------------------------- */

struct tm_recover_opts {
	const struct tm_registry *reg;	/* decoding for repairs */
	unsigned ctx_mask;
	uint32_t dir_interval;
	int progress;			/* a terminal: \r progress lines */
	int readonly;			/* list only: no repair, no removal */
	FILE *log;			/* messages (stderr) */
};

struct tm_recover_stats {
	uint64_t segments;		/* published segments found */
	uint64_t bytes;
	uint64_t repaired;		/* sidecars rebuilt by scanning */
	uint64_t repaired_packets;
	uint64_t truncated_bytes;	/* torn records cut off */
	uint64_t removed;		/* stale temporary files, orphan
					 * sidecars, empty segments */
	uint64_t unpublished;		/* readonly: segments without a
					 * valid sidecar */
	double seconds;
};

/* Reads STORE's segments into cat: every segment whose sidecar header is
 * intact (checksum, sizes) counts as it is, its pcap never read; a pcap
 * without a valid sidecar (the one open at a crash) is cut after its last
 * whole record and its sidecar rebuilt by decoding every packet; stale
 * temporary files and orphan sidecars are removed. Unless readonly.
 * 0, or -1 with a message in err. */
int tm_store_recover(const char *root, const struct tm_recover_opts *o,
    struct tm_catalog *cat, struct tm_recover_stats *st, char *err,
    size_t errlen);

/* Rebuilds a segment's sidecar from its pcap (decode + key per packet):
 * truncates the pcap after its last whole record first (unless readonly:
 * then the bytes are only ignored). Fills seg. With out != NULL the
 * sidecar bytes are returned there instead of being published. 0, or -1
 * with a message (a file that is not a segment, I/O errors). */
int tm_segment_rebuild(const char *pcap_path, const char *cls,
    uint64_t seq, int64_t start, const struct tm_recover_opts *o,
    struct tm_seg *seg, uint64_t *truncated, struct tm_sbuf *out,
    char *err, size_t errlen);

#endif
