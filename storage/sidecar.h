/*
 * The sidecar index of a segment (STORE/segments/<class>/<start>-<seq>.idx):
 * what a query needs to find a connection's packets in the segment's pcap
 * without reading it. docs/storage.md describes every byte.
 *
 *   header (128 bytes, own checksum) | section table | sections | xxh64
 *
 * Sections: strings (class, application and tunnel names), the packet
 * directory (offset and time of every Nth packet), the contexts (VLAN ids
 * and tunnel stacks, each stored once), the connections sorted by context
 * (so a context's connections are one id range), an index of connection
 * records, the connection records (key with its addresses as indexes into
 * the address dictionaries, first time and offset as differences to the
 * record before except at the indexed ones, packet positions as delta
 * varints with the direction in the low bit), and one posting section per
 * indexed field: a sorted dictionary of values in blocks of 16 (the first
 * whole, the others as differences), each with the set of segment-local
 * connection (or context) ids that have it, as an inline id, a
 * delta-varint list or a bitset, whichever is smallest. Version 2;
 * version 1 (fixed-size addresses, dictionary entries) is still read.
 *
 * The builder (sidecar_write.c) is fed connections and packets in file
 * order and produces a canonical byte string: the same content always
 * gives the same bytes, so `tm store check` rebuilds a sidecar from the
 * pcap and compares. The reader (sidecar_read.c) validates everything
 * (bounds, order, checksums) before anything is used.
 */
#ifndef TM_SIDECAR_H
#define TM_SIDECAR_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

#include "bytes.h"
#include "conn.h"
#include "key.h"

#define TM_SC_MAGIC		"TMIDX\r\n\032"	/* 8 bytes */
#define TM_SC_VERSION		2	/* written; 1 is still read */
#define TM_SC_DICT_BLOCK	16	/* v2 dictionaries: values per block */
#define TM_SC_POS_K0		6	/* v2 positions: k - 6 in 3 bits */
#define TM_SC_HEADER_SIZE	128
#define TM_SC_SECTION_SIZE	24
#define TM_SC_MAX_OFFSET	UINT32_MAX	/* segments stay below 4 GiB */
#define TM_SC_INDEX_EVERY	16 /* connection index: every 16th record */
#define TM_SC_SHAPE_SIZE	8	/* v1 */
#define TM_SC_SHAPE_SIZE2	12	/* v2: and the application */

/* header flags */
#define TM_SC_F_SORTED	0x1u	/* timestamps never decrease in file order */
#define TM_SC_F_REBUILT	0x2u	/* built by scanning the pcap (a repair):
				 * connections are keys, no application */

/* connection flags (record byte 0, and the builder's input) */
#define TM_SC_C_ORIG_B	0x01u	/* the originator is endpoint b of the key */
#define TM_SC_C_PORTS	0x02u	/* port_a/port_b are transport ports */
#define TM_SC_C_SPI	0x04u	/* spi is valid */
#define TM_SC_C_PROTO	0x08u	/* proto is valid */
#define TM_SC_C_STREAM	0x10u	/* a connection-oriented transport */
#define TM_SC_C_KPORTS	0x20u	/* the record has port fields (ports, or
				 * the ICMP identifier on both sides) */
#define TM_SC_C_MASK	0x3fu

enum tm_sc_section {
	TM_SC_S_STRINGS = 1,
	TM_SC_S_DIRECTORY = 2,
	TM_SC_S_CONTEXTS = 3,
	TM_SC_S_CTX_CONNS = 4,
	TM_SC_S_CONN_INDEX = 5,
	TM_SC_S_CONNS = 6,
	TM_SC_S_SHAPES = 7,
	TM_SC_S_PCAP_SUM = 8,	/* xxh64 of the pcap's bytes */
	TM_SC_S_FIELD0 = 16	/* + enum tm_sc_field */
};

/* Indexed fields. Values are stored big-endian, `width` bytes. */
enum tm_sc_field {
	/* over connections (ids: segment-local connection ids) */
	TM_SC_ADDR4 = 0,	/* 4: an inner endpoint's IPv4 address (ARP:
				 * the protocol addresses) */
	TM_SC_ADDR6,		/* 16: an inner endpoint's IPv6 address */
	TM_SC_PORT,		/* 2: an inner transport port */
	TM_SC_PROTO,		/* 1: the inner transport protocol */
	TM_SC_L3,		/* 1: enum tm_l3 */
	TM_SC_ETHERTYPE,	/* 2: innermost ethertype, non-IP only */
	TM_SC_SPI,		/* 4: ESP/AH SPI */
	TM_SC_APP,		/* 4: application: string index */
	/* over contexts (ids: context indexes) */
	TM_SC_VLAN,		/* 2: a VLAN id at any depth */
	TM_SC_TUNNEL,		/* 1: a tunnel type at any level */
	TM_SC_TUNNEL_NAME,	/* 4: a tunnel's own name: string index */
	TM_SC_GRE_KEY,		/* 4 */
	TM_SC_L2TP_TUNNEL,	/* 4: L2TP tunnel id */
	TM_SC_SESSION,		/* 4: L2TP / PPPoE / ERSPAN session id */
	TM_SC_VNI,		/* 4: VXLAN / Geneve */
	TM_SC_TEID,		/* 4: GTP */
	TM_SC_MPLS_LABEL,	/* 4 */
	TM_SC_OUTER_ADDR4,	/* 4: endpoints of the outermost tunnel
				 * that has IP endpoints (the outer IP layer) */
	TM_SC_OUTER_ADDR6,	/* 16 */
	TM_SC_TUNNEL_ADDR4,	/* 4: endpoints of a tunnel at any level */
	TM_SC_TUNNEL_ADDR6,	/* 16 */
	TM_SC_NFIELDS
};

#define TM_SC_U_CONNS	0	/* a field's ids are connection ids */
#define TM_SC_U_CTX	1	/* ... context indexes */

struct tm_sc_field_info {
	const char *name;
	uint8_t width;
	uint8_t universe;
};

extern const struct tm_sc_field_info tm_sc_fields[TM_SC_NFIELDS];

/* ---- builder ------------------------------------------------------------ */

struct tm_scb;

struct tm_scb_meta {
	const char *class_name;
	uint32_t linktype;
	uint32_t snaplen;	/* the pcap header's */
	uint32_t flags;		/* TM_SC_F_REBUILT; SORTED is computed */
	uint16_t version;	/* 0: TM_SC_VERSION; 1: the previous format
				 * (what `tm store check` rebuilds a v1
				 * sidecar in) */
	uint64_t seq;		/* the segment's sequence number */
	int64_t start;		/* the <start> of its name */
	uint64_t pcap_size;	/* bytes of the pcap it describes */
	uint64_t pcap_sum;	/* XXH64 (seed 0) of those bytes */
};

struct tm_scb *tm_scb_new(void);
void tm_scb_free(struct tm_scb *b);
/* Starts a new segment (keeps the memory): a directory entry every
 * dir_interval packets (0: the default). */
void tm_scb_reset(struct tm_scb *b, uint32_t dir_interval);

/* A new connection: its key (key->ctx is ignored), TM_SC_C_* flags and
 * context (ctx may be NULL: none; tunnel names are copied). Sets *id, the
 * builder's id for tm_scb_packet, in order from 0. 0, or -1 (memory). */
int tm_scb_conn(struct tm_scb *b, const struct tm_key *key, unsigned flags,
    const struct tm_ctx_view *ctx, uint32_t *id);
/* The connection's application (name copied; NULL clears). 0 or -1. */
int tm_scb_app(struct tm_scb *b, uint32_t id, const char *name);
/* A packet of connection id at byte offset off of the pcap (in file
 * order), sent from endpoint b when dir is 1: its position is encoded at
 * once, so little is left for tm_scb_finish. 0, or -1 (memory, offset
 * not after the previous one, unknown id). */
int tm_scb_packet(struct tm_scb *b, uint32_t id, int dir, uint64_t off,
    int64_t ts, uint32_t caplen, uint32_t len);
uint64_t tm_scb_packets(const struct tm_scb *b);
uint32_t tm_scb_conns(const struct tm_scb *b);
/* Appends the sidecar's bytes to out. Connections without packets are
 * left out. 0, or -1 (memory, or no packet). */
int tm_scb_finish(struct tm_scb *b, const struct tm_scb_meta *m,
    struct tm_sbuf *out);

/* ---- reader ------------------------------------------------------------- */

struct tm_sc_header {
	uint16_t version;
	uint32_t flags;
	uint64_t idx_size;
	uint64_t pcap_size;
	int64_t min_ts, max_ts;		/* ns; 0/0 for no packets */
	uint64_t n_packets;
	uint64_t wire_bytes;		/* sum of the packets' wire lengths */
	uint32_t n_conns, n_contexts, n_strings;
	uint32_t dir_interval;
	uint32_t linktype, snaplen;
	uint32_t class_str;
	uint32_t n_sections;
	uint64_t seq;
	int64_t start;
	uint32_t index_every;		/* TM_SC_INDEX_EVERY */
	uint32_t time_unit;		/* v2 records' times count this
					 * (ns): 1 or 1000; v1: 1 */
};

/* Checks and decodes a header (at least TM_SC_HEADER_SIZE bytes): magic,
 * version, sizes, header checksum. 0, or -1 with the reason in err. */
int tm_sc_header_parse(const uint8_t *buf, size_t len,
    struct tm_sc_header *h, char *err, size_t errlen);
/* Reads and checks the header of a sidecar file, and its size on disk
 * (which must equal h->idx_size). 0, or -1 with the reason in err. */
int tm_sc_header_read(const char *path, struct tm_sc_header *h,
    char *err, size_t errlen);

struct tm_sc_fsec {
	const uint8_t *dict;	/* v1: n_values x (width + 4); v2: blocks */
	size_t dict_len;
	const uint8_t *blocks;	/* v2: offset of each block in dict (le32) */
	const uint8_t *blob;
	size_t blob_len;
	uint32_t n_values;
	uint8_t width;
	uint8_t universe;	/* TM_SC_U_* */
	uint8_t version;	/* the sidecar's */
	uint32_t n_ids;		/* size of the id universe */
};

/* Sets up field fi's section (p, len) of a sidecar of the given version:
 * its header and the bounds of its dictionary. 0, or -1. */
int tm_sc_fsec_init(struct tm_sc_fsec *fs, unsigned version, unsigned fi,
    const uint8_t *p, size_t len, uint32_t n_ids);

/* Where tm_sc_conn_get's walk from an anchor record ended: the next
 * connection of the same anchor group is read from there (connections
 * asked for in ascending order, as a query does, are read once each). */
struct tm_sc_cursor {
	uint32_t next;		/* the id of the record at p; 0: unused */
	const uint8_t *p;
	uint64_t first, off;	/* v2: the record before's first time and
				 * offset */
	/* v2 records name addresses by their index in the addr4/addr6
	 * dictionaries; once a reader has asked for many, each dictionary
	 * is decoded whole, once (flat: n_values x width) */
	uint8_t *flat[2];
	uint32_t asks[2];	/* UINT32_MAX: no flat copy (damage) */
};

struct tm_sc {
	struct tm_sc_header h;
	const uint8_t *buf;
	size_t len;
	uint8_t *owned;			/* the file's bytes (tm_sc_load) */
	const uint8_t *dir;		/* n_dir x 16 */
	uint32_t n_dir;
	const char **strings;		/* n_strings, NUL-terminated, in buf */
	const uint8_t **ctx;		/* n_contexts records (v2: unfolded
					 * into ctx_mem), ... */
	const uint8_t *ctx_end;		/* ... which end by here */
	uint8_t *ctx_mem;
	const uint8_t *ctx_conns;	/* (n_contexts + 1) x le32 */
	const uint8_t *conn_index;	/* every index_every-th record */
	const uint8_t *conns;
	size_t conns_len;
	const uint8_t *shapes;		/* n_shapes x shape_size */
	uint32_t n_shapes;
	uint32_t shape_size;		/* v1 8, v2 12 */
	uint64_t pcap_sum;		/* XXH64 of the pcap's bytes */
	struct tm_sc_fsec f[TM_SC_NFIELDS];
	struct tm_sc_cursor *cur;	/* where the last tm_sc_conn_get
					 * ended (NULL: none kept) */
	int light;			/* opened with TM_SC_LIGHT */
	const void *map;		/* tm_sc_map's mapping */
	size_t map_len;
};

/* Reads a sidecar file and checks its header, size and both checksums
 * (not its structure: see tm_sc_open). What a restart trusts. 0, or -1
 * with the reason in err. */
int tm_sc_file_verify(const char *path, struct tm_sc_header *h, char *err,
    size_t errlen);

/* Validates a whole sidecar in memory (kept, not copied: buf must live
 * as long as sc): checksums, every section's bounds and order, every
 * connection record, position, context and posting. 0, or -1 with what
 * is wrong and where in err. */
int tm_sc_open(struct tm_sc *sc, const uint8_t *buf, size_t len, char *err,
    size_t errlen);
/* Reads a sidecar file and validates it (tm_sc_open). */
int tm_sc_load(struct tm_sc *sc, const char *path, char *err, size_t errlen);

/* Maps a sidecar file. flags 0: validated as tm_sc_open does. With
 * TM_SC_LIGHT, for queries, where milliseconds count: the header's
 * checksum, the sizes, the section table, the strings, the directory,
 * the contexts, groups and shapes, and the bounds of the connection index
 * and of every dictionary are checked, not the whole file's checksum nor
 * each record and posting: those are checked as they are read (every
 * accessor below is bounded; a damaged record reads as an error, a
 * damaged posting or position list ends early), so damage can make an
 * answer wrong, never make a reader leave the file. `tm store check` and
 * a start verify the checksums. 0, or -1 with the reason in err. */
#define TM_SC_LIGHT	0x1u
int tm_sc_map(struct tm_sc *sc, const char *path, unsigned flags, char *err,
    size_t errlen);
void tm_sc_close(struct tm_sc *sc);

const char *tm_sc_string(const struct tm_sc *sc, uint32_t i);
const char *tm_sc_class(const struct tm_sc *sc);

/* Packet directory entry k: the packet number k * dir_interval. */
void tm_sc_dir(const struct tm_sc *sc, uint32_t k, uint64_t *off,
    int64_t *ts);

/* A context, decoded (tunnel names point into the sidecar). */
void tm_sc_context(const struct tm_sc *sc, uint32_t i,
    struct tm_ctx_view *out);
/* Connections of context i (ids [*first, *end)); i == UINT32_MAX: those
 * without context (no VLAN, no tunnel). */
void tm_sc_ctx_conns(const struct tm_sc *sc, uint32_t i, uint32_t *first,
    uint32_t *end);
/* Context index of a connection, or UINT32_MAX for none. */
uint32_t tm_sc_conn_ctx(const struct tm_sc *sc, uint32_t id);

struct tm_sc_conn {
	struct tm_key key;	/* key.ctx is 0 */
	unsigned flags;		/* TM_SC_C_* */
	uint32_t ctx;		/* context index, UINT32_MAX: none */
	const char *app;	/* NULL: not known */
	int64_t first_ts, last_ts;
	uint64_t n_pkts;
	const uint8_t *pos, *pos_end;	/* positions, see tm_sc_pos */
	uint64_t pcap_size;		/* positions stay below */
	uint64_t first_off;	/* v2: the first packet's offset, direction */
	uint8_t first_dir;	/* (the others follow at pos, bit-coded with
				 * parameter pos_k) */
	uint8_t v2;
	uint8_t pos_k;
};

/* Connection id: 0, or -1 (no such id, or a damaged record after a
 * light open; c is then zeroed). */
int tm_sc_conn_get(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c);

/* The same without the key's addresses (left zero; a v2 record names
 * them by their index in a dictionary, one random read each): what a
 * reader of the packets needs (times, count, positions, application,
 * context, ports) at less cost. */
int tm_sc_conn_packets(const struct tm_sc *sc, uint32_t id,
    struct tm_sc_conn *c);

/* Iterates a connection's packets in file order. */
struct tm_sc_pos {
	struct tm_rd rd;
	uint64_t off;
	uint64_t left;
	uint64_t limit;
	int first_pending;	/* v2: the first position is in off */
	int first_dir;
	uint8_t v2;		/* the others bit-coded (docs/storage.md) */
	uint8_t k;
	uint8_t bit;		/* v2: the next bit of *rd.p, 0: its top */
};

void tm_sc_pos_begin(struct tm_sc_pos *it, const struct tm_sc_conn *c);
/* 1 with the next packet's offset and direction (1: sent by endpoint
 * b), 0 at the end. */
int tm_sc_pos_next(struct tm_sc_pos *it, uint64_t *off, int *dir);

/* A posting: the ids that have one value of one field. */
struct tm_sc_posting {
	uint32_t count;
	uint8_t kind;		/* 0: list, 1: bitset, 2: single */
	uint32_t n_ids;
	uint32_t single;
	const uint8_t *p;	/* list or bitset bytes */
	const uint8_t *end;	/* end of the field's postings */
	/* iteration */
	uint32_t done;
	uint32_t cur;
};

/* Values of field f: how many, and value i (width bytes, big-endian,
 * copied to v, 16 bytes of room) with its posting (p may be NULL): 1, or
 * 0 when there is no value i (or its bytes are damaged, after a light
 * open; a damaged posting reads as an empty one). */
uint32_t tm_sc_field_count(const struct tm_sc *sc, enum tm_sc_field f);
int tm_sc_field_value(const struct tm_sc *sc, enum tm_sc_field f,
    uint32_t i, uint8_t *v, struct tm_sc_posting *p);

/* Walks field f's values in order from value index i (v2 dictionaries
 * are delta-coded in blocks: walking is cheaper than asking for each). */
struct tm_sc_fiter {
	const struct tm_sc_fsec *fs;
	struct tm_rd r;		/* v2: the bytes of the next value */
	uint32_t i;		/* index of the next value */
	uint8_t v[16];		/* the last value */
	int bad;		/* the walk met damaged bytes (light open) */
};
void tm_sc_field_iter(const struct tm_sc *sc, enum tm_sc_field f,
    uint32_t i, struct tm_sc_fiter *it);
/* 1 with the next value (it->v, width bytes) and its posting (p may be
 * NULL), 0 at the end or at damaged bytes. */
int tm_sc_field_next(struct tm_sc_fiter *it, struct tm_sc_posting *p);
/* The first value index whose value is >= v (binary search). */
uint32_t tm_sc_field_lower(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v);
/* The posting of value v (width bytes, big-endian): 1, or 0 if no
 * connection (context) has it. */
int tm_sc_lookup(const struct tm_sc *sc, enum tm_sc_field f,
    const uint8_t *v, struct tm_sc_posting *p);
/* Next id of a posting, ascending: 1, or 0 at the end. */
int tm_sc_posting_next(struct tm_sc_posting *p, uint32_t *id);

/* The posting as a CRoaring bitmap (the caller frees it with
 * roaring_bitmap_free), or NULL when out of memory. */
struct roaring_bitmap_s;
struct roaring_bitmap_s *tm_sc_posting_bitmap(const struct tm_sc_posting *p);

/* Helpers to spell a value big-endian. */
static inline void tm_sc_be16(uint8_t *v, uint16_t x)
{
	v[0] = (uint8_t)(x >> 8);
	v[1] = (uint8_t)x;
}

static inline void tm_sc_be32(uint8_t *v, uint32_t x)
{
	v[0] = (uint8_t)(x >> 24);
	v[1] = (uint8_t)(x >> 16);
	v[2] = (uint8_t)(x >> 8);
	v[3] = (uint8_t)x;
}

#endif
