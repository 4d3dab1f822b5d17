/*
 * timemachine dissector plugin ABI.
 *
 * This is the only header a dissector includes. Everything in it is either a
 * plain data structure or a static inline helper, so a plugin links against
 * nothing: the loader hands it a cursor over its layer and the packet view,
 * and the dissector answers with a verdict.
 *
 * A dissector never dereferences packet memory itself. Every read goes
 * through tm_get_*() / tm_skip() / tm_peek_*(), which check the bytes are
 * inside the current window first and advance only on success. A failed read
 * records why it failed in the cursor (the capture ran out: TM_TRUNCATED; the
 * frame on the wire is shorter than the header: TM_SHORT) and the dissector
 * returns tm_fail(c).
 *
 * Any change to a structure or enum below bumps TM_DISSECTOR_ABI; the loader
 * refuses modules built for another version, and, as a second guard, one
 * whose view, cursor or verdict structures have another size.
 */
#ifndef TIMEMACHINE_DISSECTOR_H
#define TIMEMACHINE_DISSECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TM_DISSECTOR_ABI 2u

/* ---- dispatch tables ---------------------------------------------------
 * A dissector attaches to (table, value) pairs and hands the next layer on
 * by naming a table and a value. Values are 16 bits wide in every table. */
enum tm_table {
	TM_TABLE_LINKTYPE = 0,	/* pcap LINKTYPE_* value of the capture */
	TM_TABLE_ETHERTYPE,	/* IEEE ethertype */
	TM_TABLE_IP_PROTO,	/* IPv4 protocol / IPv6 next header */
	TM_TABLE_UDP_PORT,	/* UDP port (either side; lower port tried first) */
	TM_TABLE_TCP_PORT,	/* TCP port */
	TM_TABLE_SCTP_PORT,	/* SCTP port */
	TM_TABLE_PPP_PROTO,	/* PPP protocol field */
	TM_TABLE_GRE_PROTO,	/* GRE protocol type; falls back to ethertype */
	TM_TABLE_COUNT
};

/* Table names as users and `tm plugins` spell them, indexed by enum tm_table. */
#define TM_TABLE_NAMES { "linktype", "ethertype", "ip.proto", "udp.port", \
	"tcp.port", "sctp.port", "ppp.proto", "gre.proto" }

struct tm_binding {
	uint16_t table;		/* enum tm_table */
	uint16_t value;
};

/* ---- the packet view ---------------------------------------------------- */

#define TM_MAX_VLANS	8	/* 802.1Q/802.1ad tags kept per packet */
#define TM_MAX_TUNNELS	8	/* tunnel stack entries kept per packet */
#define TM_MAX_LAYERS	32	/* layers kept per packet (decode stops beyond) */
#define TM_MAX_EVENTS	8	/* events kept per packet (more are counted) */

enum tm_l3 { TM_L3_NONE = 0, TM_L3_IPV4, TM_L3_IPV6, TM_L3_ARP, TM_L3_OTHER };

/* An address: IPv4 in a[0..3], IPv6 in a[0..15]; family 0 means "none". */
struct tm_addr {
	uint8_t family;		/* 0, 4 or 6 */
	uint8_t a[16];
};

enum tm_tunnel_type {
	TM_TUN_NONE = 0,
	TM_TUN_GRE,		/* GRE v0 (RFC 2784/2890), also GRE-in-UDP */
	TM_TUN_PPTP,		/* GRE v1 (enhanced GRE, RFC 2637) */
	TM_TUN_ERSPAN,
	TM_TUN_L2TP,		/* L2TPv2 over UDP, L2TPv3 over IP */
	TM_TUN_IPIP,		/* IPv4/IPv6 in IPv4/IPv6 (4in4, 6in4, 4in6, 6in6) */
	TM_TUN_VXLAN,
	TM_TUN_GENEVE,
	TM_TUN_GTP,		/* GTP-U */
	TM_TUN_TEREDO,
	TM_TUN_MPLS,
	TM_TUN_PPPOE,
	TM_TUN_OTHER		/* a plugin's own type: see tm_tunnel.name */
};

/* Which identifiers of a tunnel entry are present. */
#define TM_TID_KEY	0x01u	/* GRE key */
#define TM_TID_TUNNEL	0x02u	/* L2TP tunnel id */
#define TM_TID_SESSION	0x04u	/* L2TP / PPPoE / ERSPAN session id */
#define TM_TID_VNI	0x08u	/* VXLAN / Geneve VNI */
#define TM_TID_TEID	0x10u	/* GTP TEID */
#define TM_TID_LABEL	0x20u	/* MPLS label (bottom of stack) */

struct tm_tunnel {
	uint8_t type;		/* enum tm_tunnel_type */
	uint8_t ids;		/* TM_TID_* present */
	const char *name;	/* printed name; NULL: the type's own name */
	struct tm_addr src;	/* the outer IP endpoints carrying the tunnel */
	struct tm_addr dst;
	uint32_t key;
	uint32_t tunnel_id;
	uint32_t session_id;
	uint32_t vni;
	uint32_t teid;
	uint32_t label;
	uint16_t payload;	/* what it carries, where two tunnels between
				 * the same endpoints differ only by that: the
				 * GRE protocol type (IP-in-GRE vs Ethernet-in-
				 * GRE); 0 when not used. Part of the context. */
};

/* Per-packet flags. */
#define TM_PF_FRAGMENT	0x0001u	/* innermost IP packet is a fragment */
#define TM_PF_LATER_FRAG 0x0002u /* ... and not the first one (ports unknown) */
#define TM_PF_TRUNCATED	0x0004u	/* decoding stopped: the capture ran out */
#define TM_PF_MALFORMED	0x0008u	/* decoding stopped: protocol violated */
#define TM_PF_HAS_PORTS	0x0010u	/* sport/dport are valid */
#define TM_PF_HAS_SPI	0x0020u	/* spi is valid */
#define TM_PF_HAS_ICMP	0x0040u	/* icmp_type/code valid */
#define TM_PF_HAS_ICMPID 0x0080u /* icmp_id valid (echo and similar) */
#define TM_PF_HAS_PROTO	0x0100u	/* proto is valid */
#define TM_PF_DEPTH	0x0200u	/* decoding stopped: depth limit */
#define TM_PF_NESTED_L3	0x0400u	/* a network layer inside another one */
#define TM_PF_OUTER_PORTS 0x0800u /* outer_sport/outer_dport are valid */
#define TM_PF_OUTER_PROTO 0x1000u /* outer_proto is valid */
#define TM_PF_HAS_PAYLOAD 0x2000u /* payload_off/payload_len are valid */
/* Connection-oriented transports (TCP, SCTP...) say how a packet changes
 * its connection's state, without the core knowing the protocol: the
 * connection table closes on them, and the cutoff keeps such control
 * packets so connection boundaries stay visible. See tm_set_conn_flags(). */
#define TM_PF_STREAM	 0x4000u /* a transport whose connections open and close */
#define TM_PF_CONN_OPEN	 0x8000u /* opens a connection (TCP SYN without ACK) */
#define TM_PF_CONN_ACCEPT 0x10000u /* accepts an opening (TCP SYN+ACK) */
#define TM_PF_CONN_CLOSE 0x20000u /* closes its sender's direction (TCP FIN) */
#define TM_PF_CONN_ABORT 0x40000u /* aborts the connection (TCP RST) */
#define TM_PF_CONN_CONTROL (TM_PF_CONN_OPEN | TM_PF_CONN_ACCEPT | \
	TM_PF_CONN_CLOSE | TM_PF_CONN_ABORT)

struct tm_layer {
	uint16_t dissector;	/* registry index of the dissector */
	uint32_t offset;	/* where the layer starts in the frame */
};

struct tm_packet {
	/* the frame */
	const uint8_t *data;
	uint32_t caplen;
	uint32_t len;		/* length on the wire */
	uint16_t linktype;

	/* the layer stack, outermost first */
	uint8_t n_layers;
	struct tm_layer layers[TM_MAX_LAYERS];

	/* innermost network layer */
	uint8_t l3;		/* enum tm_l3 */
	uint8_t l3_layer;	/* its index in layers[] */
	uint16_t ethertype;	/* innermost ethertype handed to a dissector */
	struct tm_addr src, dst; /* innermost endpoints, this packet's direction */
	struct tm_addr outer_src, outer_dst; /* outermost IP layer */
	uint8_t outer_proto;	/* ... its transport protocol */
	uint16_t outer_sport, outer_dport; /* ... and ports */

	/* innermost transport */
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t spi;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint32_t payload_off;	/* innermost transport payload: frame offset */
	uint32_t payload_len;	/* ... and length on the wire */

	uint32_t flags;		/* TM_PF_* */

	/* context */
	uint8_t n_vlans;
	uint16_t vlans[TM_MAX_VLANS];	/* outermost first */
	uint8_t n_tunnels;
	struct tm_tunnel tunnels[TM_MAX_TUNNELS]; /* outermost first */

	/* events */
	uint8_t n_events;
	uint16_t n_events_lost;
	uint16_t events[TM_MAX_EVENTS];	/* global event ids */

	/* set by the decode loop before each dissector runs */
	uint16_t via_table;		/* table this dissector was reached by */
	uint16_t via_value;		/* ... and the value looked up */
	uint16_t cur_event_base;	/* global id of this dissector's event 0 */
	uint16_t depth;			/* tunnels entered so far */
	uint16_t max_depth;		/* the configured limit */
	uint32_t scratch;		/* free for a dissector; cleared per packet */
};

/* ---- the cursor --------------------------------------------------------
 * A window [p, end) of captured bytes, plus how many bytes the window spans
 * on the wire (wire >= end - p when the capture was cut by a snap length). */
enum tm_verdict {
	TM_NEXT = 0,	/* decode the next layer: see struct tm_next */
	TM_DONE,	/* terminal layer: nothing below to decode */
	TM_TRUNCATED,	/* the capture ran out inside this header */
	TM_SHORT,	/* the frame on the wire is shorter than the header */
	TM_MALFORMED,	/* protocol violated; the dissector recorded an event */
	TM_DECLINE	/* not this protocol after all: undo this layer */
};

struct tm_cursor {
	const uint8_t *p;
	const uint8_t *end;
	const uint8_t *start;	/* start of this layer */
	uint32_t wire;		/* bytes from p to the window's end on the wire */
	uint8_t err;		/* verdict of the last failed read */
	uint8_t partial;	/* the window is a first fragment: length fields
				 * may reach beyond it (see tm_mark_partial) */
};

struct tm_next {
	uint16_t table;		/* enum tm_table */
	uint16_t value;
	uint16_t alt;		/* a second value to try (has_alt) */
	uint8_t has_alt;
	uint8_t narrow;		/* 1: the next layer's window is inner_len bytes */
	uint32_t inner_len;
};

static inline size_t tm_avail(const struct tm_cursor *c)
{
	return (size_t)(c->end - c->p);
}

static inline uint32_t tm_wire_remaining(const struct tm_cursor *c)
{
	return c->wire;
}

/* Bytes consumed in this layer so far. */
static inline size_t tm_offset(const struct tm_cursor *c)
{
	return (size_t)(c->p - c->start);
}

/* Records why n bytes are not there. Returns -1. */
static inline int tm__short(struct tm_cursor *c, size_t n)
{
	/* beyond the end of a first fragment, the datagram goes on in the
	 * next fragment: that is a cut, not a short frame */
	c->err = (n > c->wire && !c->partial) ? TM_SHORT : TM_TRUNCATED;
	return -1;
}

/* 0 when n bytes are available at the cursor, else -1 (reason recorded). */
static inline int tm_need(struct tm_cursor *c, size_t n)
{
	if (n <= tm_avail(c))
		return 0;
	return tm__short(c, n);
}

static inline int tm_skip(struct tm_cursor *c, size_t n)
{
	if (tm_need(c, n))
		return -1;
	c->p += n;
	c->wire -= (uint32_t)n;
	return 0;
}

static inline int tm_peek_u8(struct tm_cursor *c, size_t off, uint8_t *v)
{
	if (tm_need(c, off + 1))
		return -1;
	*v = c->p[off];
	return 0;
}

static inline int tm_peek_be16(struct tm_cursor *c, size_t off, uint16_t *v)
{
	if (tm_need(c, off + 2))
		return -1;
	*v = (uint16_t)((c->p[off] << 8) | c->p[off + 1]);
	return 0;
}

static inline int tm_peek_be32(struct tm_cursor *c, size_t off, uint32_t *v)
{
	if (tm_need(c, off + 4))
		return -1;
	*v = ((uint32_t)c->p[off] << 24) | ((uint32_t)c->p[off + 1] << 16) |
	    ((uint32_t)c->p[off + 2] << 8) | (uint32_t)c->p[off + 3];
	return 0;
}

static inline int tm_peek_le16(struct tm_cursor *c, size_t off, uint16_t *v)
{
	if (tm_need(c, off + 2))
		return -1;
	*v = (uint16_t)(c->p[off] | (c->p[off + 1] << 8));
	return 0;
}

static inline int tm_peek_le32(struct tm_cursor *c, size_t off, uint32_t *v)
{
	if (tm_need(c, off + 4))
		return -1;
	*v = (uint32_t)c->p[off] | ((uint32_t)c->p[off + 1] << 8) |
	    ((uint32_t)c->p[off + 2] << 16) | ((uint32_t)c->p[off + 3] << 24);
	return 0;
}

static inline int tm_peek_bytes(struct tm_cursor *c, size_t off, void *dst,
    size_t n)
{
	if (tm_need(c, off + n))
		return -1;
	memcpy(dst, c->p + off, n);
	return 0;
}

static inline int tm_get_u8(struct tm_cursor *c, uint8_t *v)
{
	return tm_peek_u8(c, 0, v) ? -1 : tm_skip(c, 1);
}

static inline int tm_get_be16(struct tm_cursor *c, uint16_t *v)
{
	return tm_peek_be16(c, 0, v) ? -1 : tm_skip(c, 2);
}

static inline int tm_get_be32(struct tm_cursor *c, uint32_t *v)
{
	return tm_peek_be32(c, 0, v) ? -1 : tm_skip(c, 4);
}

static inline int tm_get_le16(struct tm_cursor *c, uint16_t *v)
{
	return tm_peek_le16(c, 0, v) ? -1 : tm_skip(c, 2);
}

static inline int tm_get_le32(struct tm_cursor *c, uint32_t *v)
{
	return tm_peek_le32(c, 0, v) ? -1 : tm_skip(c, 4);
}

static inline int tm_get_bytes(struct tm_cursor *c, void *dst, size_t n)
{
	return tm_peek_bytes(c, 0, dst, n) ? -1 : tm_skip(c, n);
}

/* The verdict for the last failed read: TM_TRUNCATED or TM_SHORT. */
static inline enum tm_verdict tm_fail(const struct tm_cursor *c)
{
	return c->err == TM_SHORT ? TM_SHORT : TM_TRUNCATED;
}

/* ---- filling the packet view ------------------------------------------- */

/* Records this dissector's event number idx (an index into its events[]).
 * Decoding goes on unless the dissector also returns TM_MALFORMED. */
static inline void tm_event(struct tm_packet *pkt, unsigned idx)
{
	if (pkt->n_events < TM_MAX_EVENTS)
		pkt->events[pkt->n_events++] =
		    (uint16_t)(pkt->cur_event_base + idx);
	else
		pkt->n_events_lost++;
}

/* Records event idx and returns TM_MALFORMED: `return tm_malformed(pkt, E);` */
static inline enum tm_verdict tm_malformed(struct tm_packet *pkt, unsigned idx)
{
	tm_event(pkt, idx);
	return TM_MALFORMED;
}

static inline void tm_addr_set4(struct tm_addr *a, const uint8_t v4[4])
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->a, v4, 4);
}

static inline void tm_addr_set6(struct tm_addr *a, const uint8_t v6[16])
{
	a->family = 6;
	memcpy(a->a, v6, 16);
}

/* A new network layer: its addresses become the innermost endpoints, and the
 * first one seen is also the outermost IP layer. Ports, protocol and ICMP
 * fields of an outer layer are forgotten; an SPI is kept (an AH in tunnel
 * mode names the security association of the packet inside it). */
static inline void tm_set_l3(struct tm_packet *pkt, enum tm_l3 l3,
    const struct tm_addr *src, const struct tm_addr *dst)
{
	pkt->l3 = (uint8_t)l3;
	pkt->l3_layer = (uint8_t)(pkt->n_layers ? pkt->n_layers - 1 : 0);
	if (pkt->outer_src.family != 0)
		pkt->flags |= TM_PF_NESTED_L3;
	if (src && dst) {
		pkt->src = *src;
		pkt->dst = *dst;
		if (pkt->outer_src.family == 0 && (l3 == TM_L3_IPV4 ||
		    l3 == TM_L3_IPV6)) {
			pkt->outer_src = *src;
			pkt->outer_dst = *dst;
		}
	} else {
		pkt->src.family = 0;
		pkt->dst.family = 0;
	}
	pkt->proto = 0;
	pkt->sport = pkt->dport = 0;
	pkt->icmp_type = pkt->icmp_code = 0;
	pkt->icmp_id = 0;
	pkt->flags &= ~(TM_PF_HAS_PORTS | TM_PF_HAS_ICMP |
	    TM_PF_HAS_ICMPID | TM_PF_HAS_PROTO | TM_PF_FRAGMENT |
	    TM_PF_LATER_FRAG | TM_PF_HAS_PAYLOAD | TM_PF_STREAM |
	    TM_PF_CONN_CONTROL);
}

/* The transport protocol (the last next-header value along the innermost
 * IP header and its extension headers, AH included). While no network layer
 * is nested in another, it is also the outermost IP layer's protocol. */
static inline void tm_set_proto(struct tm_packet *pkt, uint8_t proto)
{
	pkt->proto = proto;
	pkt->flags |= TM_PF_HAS_PROTO;
	if (!(pkt->flags & TM_PF_NESTED_L3)) {
		pkt->outer_proto = proto;
		pkt->flags |= TM_PF_OUTER_PROTO;
	}
}

static inline void tm_set_ports(struct tm_packet *pkt, uint16_t sport,
    uint16_t dport)
{
	pkt->sport = sport;
	pkt->dport = dport;
	pkt->flags |= TM_PF_HAS_PORTS;
	if (!(pkt->flags & TM_PF_NESTED_L3)) {
		pkt->outer_sport = sport;
		pkt->outer_dport = dport;
		pkt->flags |= TM_PF_OUTER_PORTS;
	}
}

static inline void tm_set_spi(struct tm_packet *pkt, uint32_t spi)
{
	pkt->spi = spi;
	pkt->flags |= TM_PF_HAS_SPI;
}

static inline void tm_set_icmp(struct tm_packet *pkt, uint8_t type,
    uint8_t code)
{
	pkt->icmp_type = type;
	pkt->icmp_code = code;
	pkt->flags |= TM_PF_HAS_ICMP;
}

static inline void tm_set_icmp_id(struct tm_packet *pkt, uint16_t id)
{
	pkt->icmp_id = id;
	pkt->flags |= TM_PF_HAS_ICMPID;
}

/* The innermost transport's payload starts at the cursor (TCP, UDP, SCTP,
 * ICMP call this after their header): used to give application
 * classification only packets that carry payload. */
static inline void tm_set_payload(struct tm_packet *pkt,
    const struct tm_cursor *c)
{
	pkt->payload_off = (uint32_t)(c->p - pkt->data);
	pkt->payload_len = c->wire;
	pkt->flags |= TM_PF_HAS_PAYLOAD;
}

/* A connection-oriented transport marks its packets: TM_PF_STREAM, plus
 * any of TM_PF_CONN_OPEN / _ACCEPT / _CLOSE / _ABORT this packet carries. */
static inline void tm_set_conn_flags(struct tm_packet *pkt, uint32_t f)
{
	pkt->flags |= TM_PF_STREAM | (f & TM_PF_CONN_CONTROL);
}

/* Returns 0, or -1 when TM_MAX_VLANS tags are already recorded. */
static inline int tm_push_vlan(struct tm_packet *pkt, uint16_t vid)
{
	if (pkt->n_vlans >= TM_MAX_VLANS)
		return -1;
	pkt->vlans[pkt->n_vlans++] = vid;
	return 0;
}

/* Pushes a tunnel whose outer endpoints are the current innermost network
 * addresses, and returns it for the caller to fill in identifiers; NULL when
 * the depth limit is reached (the dissector should then return TM_DONE:
 * the loop has already recorded decode.depth_exceeded). */
static inline struct tm_tunnel *tm_push_tunnel(struct tm_packet *pkt,
    enum tm_tunnel_type type)
{
	struct tm_tunnel *t;

	if (pkt->depth >= pkt->max_depth || pkt->n_tunnels >= TM_MAX_TUNNELS) {
		pkt->flags |= TM_PF_DEPTH;
		return NULL;
	}
	pkt->depth++;
	t = &pkt->tunnels[pkt->n_tunnels++];
	memset(t, 0, sizeof(*t));
	t->type = (uint8_t)type;
	if (pkt->src.family == 4 || pkt->src.family == 6) {
		t->src = pkt->src;
		t->dst = pkt->dst;
	}
	return t;
}

/* The most recently pushed tunnel, or NULL. */
static inline struct tm_tunnel *tm_top_tunnel(struct tm_packet *pkt)
{
	return pkt->n_tunnels ? &pkt->tunnels[pkt->n_tunnels - 1] : NULL;
}

/* Hand on to the next layer after the bytes consumed so far. */
static inline enum tm_verdict tm_next(struct tm_next *n, enum tm_table table,
    uint16_t value)
{
	n->table = (uint16_t)table;
	n->value = value;
	n->has_alt = 0;
	return TM_NEXT;
}

/* Like tm_next(), with a second value to try if the first has no dissector
 * or its dissector declines (UDP and TCP: both ports, lower one first). */
static inline enum tm_verdict tm_next2(struct tm_next *n, enum tm_table table,
    uint16_t value, uint16_t alt)
{
	n->table = (uint16_t)table;
	n->value = value;
	n->alt = alt;
	n->has_alt = value != alt;
	return TM_NEXT;
}

/* Hand on an ethertype. (The loop records every value looked up in the
 * ethertype table as the packet's innermost ethertype.) */
static inline enum tm_verdict tm_next_ethertype(struct tm_packet *pkt,
    struct tm_next *n, uint16_t ethertype)
{
	(void)pkt;
	return tm_next(n, TM_TABLE_ETHERTYPE, ethertype);
}

/* The window holds only the first fragment of a datagram: from here on a
 * length field that reaches beyond the window is not a violation, and
 * tm_narrow()/tm_limit() keep the rest of the window instead of failing.
 * IPv4 and IPv6 call it on a first fragment. */
static inline void tm_mark_partial(struct tm_cursor *c)
{
	c->partial = 1;
}

/* The next layer's window is the next len bytes (a length field said so).
 * Returns -1 when len exceeds what the wire carried (unless the window is
 * a first fragment: see tm_mark_partial()). */
static inline int tm_narrow(const struct tm_cursor *c, struct tm_next *n,
    uint32_t len)
{
	if (len > c->wire) {
		if (!c->partial)
			return -1;
		len = c->wire;
	}
	n->narrow = 1;
	n->inner_len = len;
	return 0;
}

/* Narrows this layer's own window to the next len bytes (its length field
 * said so); the next layer inherits the narrowed window. Returns -1 when len
 * exceeds what the wire carried. */
static inline int tm_limit(struct tm_cursor *c, uint32_t len)
{
	if (len > c->wire) {
		if (!c->partial)
			return -1;
		len = c->wire;
	}
	if (len < tm_avail(c))
		c->end = c->p + len;
	c->wire = len;
	return 0;
}

/* ---- the dissector ------------------------------------------------------ */

typedef enum tm_verdict (*tm_decode_fn)(struct tm_cursor *c,
    struct tm_packet *pkt, struct tm_next *next);

struct tm_dissector {
	uint32_t abi;			/* TM_DISSECTOR_ABI */
	const char *name;		/* "gre": layer name and event prefix */
	const char *description;
	const struct tm_binding *bindings;
	size_t n_bindings;
	const char *const *events;	/* "gre.bad_version", ...: full names */
	size_t n_events;
	tm_decode_fn decode;
	uint32_t flags;			/* reserved, 0 */
};

struct tm_plugin {
	uint32_t abi;			/* TM_DISSECTOR_ABI */
	const char *name;
	const char *version;
	const struct tm_dissector *const *dissectors;
	size_t n_dissectors;
	/* sizes of the shared structures as the module was compiled: the
	 * loader refuses a module whose header differs from tm's */
	uint32_t packet_size;		/* sizeof(struct tm_packet) */
	uint32_t cursor_size;		/* sizeof(struct tm_cursor) */
	uint32_t next_size;		/* sizeof(struct tm_next) */
	uint32_t tunnel_size;		/* sizeof(struct tm_tunnel) */
};

/* Every module exports this one symbol (libltdl also finds
 * <module>_LTX_tm_plugin_entry, so several modules never clash). */
#define TM_PLUGIN_ENTRY tm_plugin_entry
typedef const struct tm_plugin *(*tm_plugin_entry_fn)(void);

#define TM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An initializer for a struct tm_plugin over an array of dissectors, with
 * the ABI version and structure sizes filled in. */
#define TM_PLUGIN_INIT(NAME, VERSION, LIST)				\
	{ TM_DISSECTOR_ABI, NAME, VERSION, LIST, TM_ARRAY_LEN(LIST),	\
	  sizeof(struct tm_packet), sizeof(struct tm_cursor),		\
	  sizeof(struct tm_next), sizeof(struct tm_tunnel) }

/* Declares a module holding the given dissectors:
 *   TM_PLUGIN("gre", "1.0", &gre_dissector);                               */
#define TM_PLUGIN(NAME, VERSION, ...)					\
	static const struct tm_dissector *const tm__dissectors[] = {	\
		__VA_ARGS__ };						\
	static const struct tm_plugin tm__plugin =			\
		TM_PLUGIN_INIT(NAME, VERSION, tm__dissectors);		\
	__attribute__((visibility("default")))				\
	const struct tm_plugin *tm_plugin_entry(void);			\
	const struct tm_plugin *tm_plugin_entry(void) { return &tm__plugin; }

#ifdef __cplusplus
}
#endif

#endif /* TIMEMACHINE_DISSECTOR_H */
