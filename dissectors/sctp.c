/*
 * SCTP (RFC 9260): the common header (ports, verification tag, checksum).
 * Ports first, so a cut header still names them. SCTP is connection-
 * oriented: the chunks captured are walked for the ones that change an
 * association's state (INIT opens, INIT ACK accepts, SHUTDOWN, SHUTDOWN
 * ACK and SHUTDOWN COMPLETE close, ABORT aborts). The chunks are handed to
 * the sctp.port table (lower port first) only when there are some and a
 * plugin is bound; nothing is bound by default.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_CHUNK_LENGTH };

static const char *const events[] = {
	"sctp.bad_chunk_length",	/* a chunk length below 4 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 132 },
};

#define SCTP_COMMON	12u
#define MAX_CHUNKS	32u	/* chunks walked per packet */

static uint32_t chunk_flags(uint8_t type)
{
	switch (type) {
	case 1:  return TM_PF_CONN_OPEN;	/* INIT */
	case 2:  return TM_PF_CONN_ACCEPT;	/* INIT ACK */
	case 6:  return TM_PF_CONN_ABORT;	/* ABORT */
	case 7:				/* SHUTDOWN */
	case 8:				/* SHUTDOWN ACK */
	case 14: return TM_PF_CONN_CLOSE;	/* SHUTDOWN COMPLETE */
	default: return 0;
	}
}

/* The state changes carried by the chunks that were captured. A chunk cut
 * by the snap length is simply not looked at: chunks are payload. */
static uint32_t walk_chunks(struct tm_cursor *c, struct tm_packet *pkt)
{
	uint32_t f = 0;
	size_t off = 0;

	for (unsigned n = 0; n < MAX_CHUNKS; n++) {
		uint8_t type;
		uint16_t len;

		if (off + 4 > tm_wire_remaining(c) ||
		    tm_peek_u8(c, off, &type) || tm_peek_be16(c, off + 2, &len))
			break;
		if (len < 4) {
			tm_event(pkt, EV_BAD_CHUNK_LENGTH);
			break;
		}
		f |= chunk_flags(type);
		off += ((size_t)len + 3u) & ~(size_t)3u;
	}
	return f;
}

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint16_t sport, dport;

	if (tm_peek_be16(c, 0, &sport) || tm_peek_be16(c, 2, &dport))
		return tm_fail(c);
	tm_set_proto(pkt, 132);
	tm_set_ports(pkt, sport, dport);
	tm_set_conn_flags(pkt, 0);	/* connection-oriented, even if cut */
	if (tm_skip(c, SCTP_COMMON))
		return tm_fail(c);
	tm_set_payload(pkt, c);
	tm_set_conn_flags(pkt, walk_chunks(c, pkt));
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return sport < dport ? tm_next2(next, TM_TABLE_SCTP_PORT, sport, dport)
	    : tm_next2(next, TM_TABLE_SCTP_PORT, dport, sport);
}

static const struct tm_dissector sctp = {
	.abi = TM_DISSECTOR_ABI,
	.name = "sctp",
	.description = "SCTP common header and association state changes",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("sctp", "1.0", &sctp)
