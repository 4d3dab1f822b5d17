/*
 * The connection table: normalized key -> connection state.
 *
 * Entries come from a pool of `max` entries allocated once (pages are only
 * touched as entries are first used); a lookup or an insert never calls
 * malloc. Chained hashing with 32-bit indices into the pool. Every entry is
 * on one of five LRU lists, one per timeout class, most recently seen at the
 * head: an idle connection is found at a list's tail in O(1), and at the
 * `max` limit the least recently seen connection of all five tails is
 * evicted. Time is the packets' time.
 *
 * The context of a connection (VLAN ids and tunnel stack of its first
 * packet) is interned in a small side table: an entry holds a 4-byte id,
 * and connections through the same tunnel share one refcounted copy.
 */
#ifndef TM_CONN_H
#define TM_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

#include "key.h"

#define TM_CONN_NIL	UINT32_MAX

/* Timeout classes: one LRU list and one idle timeout each. */
enum tm_tclass {
	TM_TC_TCP = 0,		/* TCP, not (yet) closed */
	TM_TC_TCP_CLOSING,	/* TCP after FIN both ways or RST */
	TM_TC_UDP,
	TM_TC_ICMP,		/* ICMP and ICMPv6 */
	TM_TC_OTHER,		/* everything else: ESP, AH, ARP, ... */
	TM_TC_COUNT
};

enum tm_end_reason {
	TM_END_NONE = 0,
	TM_END_FIN,		/* FIN both ways, then the closing timeout */
	TM_END_RST,		/* RST, then the closing timeout */
	TM_END_TIMEOUT,		/* idle longer than its class's timeout */
	TM_END_EVICTED,		/* the table was full: least recently seen */
	TM_END_EOF		/* the input ended */
};

const char *tm_end_reason_name(enum tm_end_reason r);

/* Connection state bits (tm_conn.state). */
#define TM_CS_FIN_ORIG	0x01u	/* FIN seen from the originator */
#define TM_CS_FIN_RESP	0x02u	/* FIN seen from the responder */
#define TM_CS_RST	0x04u	/* RST seen */
#define TM_CS_CUTOFF	0x08u	/* a packet was not stored: cutoff hit */
#define TM_CS_PENDING	0x10u	/* class not final: waits for nDPI */
#define TM_CS_APP_DONE	0x20u	/* nDPI has decided or given up */
#define TM_CS_NO_NDPI	0x40u	/* not classified (pool full or off) */

/* Per-packet flags (tm_conn.pflags) about the first packet. */
#define TM_CP_PORTS	0x01u	/* the first packet had ports */
#define TM_CP_ICMP	0x02u	/* ... ICMP type/code (icmp_type/code) */
#define TM_CP_SPI	0x04u	/* ... an SPI (key.spi) */
#define TM_CP_PROTO	0x08u	/* ... a transport protocol number */
#define TM_CP_STREAM	0x10u	/* ... a connection-oriented transport */
#define TM_CP_DGRAM	0x20u	/* ... ports, not connection-oriented */

struct tm_conn {
	struct tm_key key;	/* 64 bytes */
	int64_t first_ts;	/* nanoseconds, first packet */
	int64_t last_ts;	/* latest packet */
	uint64_t pkts[2];	/* [0] from the originator, [1] from the responder */
	uint64_t bytes[2];	/* frame lengths on the wire */
	uint64_t stored_pkts;
	uint64_t stored_bytes;
	uint64_t cutoff;	/* bytes; UINT64_MAX: none */
	uint64_t first_frame;	/* number of the first packet in the input */
	uint32_t hnext;		/* hash chain / free list */
	uint32_t prev, next;	/* LRU list of its timeout class */
	uint32_t hash_hi;	/* upper half of the key hash */
	uint32_t ctx;		/* interned context id, 0: none */
	uint32_t ndpi;		/* nDPI state slot + 1, 0: none */
	uint16_t cls;		/* class index */
	uint16_t app_master;	/* nDPI verdict (0: unknown) */
	uint16_t app_proto;
	uint8_t tclass;		/* enum tm_tclass: which list */
	uint8_t orig;		/* key direction (tm_key_make's dir) of the
				 * originator: packets with dir == orig are
				 * the originator's */
	uint8_t state;		/* TM_CS_* */
	uint8_t pflags;		/* TM_CP_* */
	uint8_t ndpi_pkts;	/* payload packets given to nDPI */
	uint8_t icmp_type, icmp_code;
	uint8_t prov_cls_set;	/* the class before the verdict differed */
	uint16_t prov_cls;	/* ... the provisional class */
	uint32_t rule_gen;	/* cutoff rules (rules.h) it last saw */
};

/* An interned context, decoded for printing. */
struct tm_ctx_view {
	uint8_t n_vlans;
	uint8_t n_tunnels;
	uint16_t vlans[TM_MAX_VLANS];
	struct tm_tunnel tunnels[TM_MAX_TUNNELS];
};

struct tm_conn_opts {
	uint32_t max;				/* connections, >= 1 */
	int64_t timeout_ns[TM_TC_COUNT];	/* idle timeouts */
};

struct tm_conn_stats {
	uint64_t created;
	uint64_t ended[TM_END_EOF + 1];	/* by reason */
	uint64_t live, peak;
	uint64_t contexts, contexts_peak;
};

struct tm_conntab;

/* Called for every connection that ends, before its entry is reused. The
 * connection must not be touched after the call returns. */
typedef void (*tm_conn_end_fn)(struct tm_conn *c, enum tm_end_reason why,
    void *arg);

/* NULL when the pool cannot be allocated (message in err). */
struct tm_conntab *tm_conntab_new(const struct tm_conn_opts *o,
    tm_conn_end_fn fn, void *arg, char *err, size_t errlen);
void tm_conntab_free(struct tm_conntab *t);

/* The connection of key, or NULL. hash is tm_key_hash(key). */
struct tm_conn *tm_conntab_find(struct tm_conntab *t,
    const struct tm_key *key, uint64_t hash);

/* A new zeroed connection for key, first seen at now, on list tclass. At
 * the limit the least recently seen connection is ended first (evicted).
 * Never fails. */
struct tm_conn *tm_conntab_insert(struct tm_conntab *t,
    const struct tm_key *key, uint64_t hash, int64_t now,
    enum tm_tclass tclass);

/* Marks the connection seen at now (moves it to the head of list tclass). */
void tm_conntab_touch(struct tm_conntab *t, struct tm_conn *c, int64_t now,
    enum tm_tclass tclass);

/* Has the connection been idle longer than its timeout at now? */
int tm_conntab_idle(const struct tm_conntab *t, const struct tm_conn *c,
    int64_t now);

/* Ends one connection now (the callback runs) and frees its entry. */
void tm_conntab_end(struct tm_conntab *t, struct tm_conn *c,
    enum tm_end_reason why);

/* Ends every connection idle longer than its timeout at now. Returns how
 * many ended. */
size_t tm_conntab_expire(struct tm_conntab *t, int64_t now);

/* Ends every connection, oldest first packet first, with reason why. */
void tm_conntab_flush(struct tm_conntab *t, enum tm_end_reason why);

/* The end reason a connection idle past its timeout gets. */
enum tm_end_reason tm_conn_idle_reason(const struct tm_conn *c);

/* Index of the entry in the pool (stable while the connection lives). */
uint32_t tm_conntab_index(const struct tm_conntab *t, const struct tm_conn *c);
uint32_t tm_conntab_max(const struct tm_conntab *t);
/* The live connection at a pool index. */
struct tm_conn *tm_conntab_at(struct tm_conntab *t, uint32_t idx);

const struct tm_conn_stats *tm_conntab_stats(const struct tm_conntab *t);

/* Bytes the table holds now: pool pages in use, buckets, contexts. */
size_t tm_conntab_memory(const struct tm_conntab *t);

/* Interns the packet's VLAN ids and tunnel stack; returns the id to store
 * in tm_conn.ctx (0 when the packet has neither), with one reference taken
 * for the connection. tm_conntab_end() drops it. */
uint32_t tm_conntab_ctx_intern(struct tm_conntab *t,
    const struct tm_packet *pkt);
/* Decodes an interned context (id 0: empty). */
void tm_conntab_ctx_get(const struct tm_conntab *t, uint32_t id,
    struct tm_ctx_view *out);

#endif
