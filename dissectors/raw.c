/*
 * Raw IP (LINKTYPE_RAW, 101; also 12 and 14, the DLT_RAW values some files
 * carry): no link header at all. The version nibble of the first byte says
 * IPv4 or IPv6; this layer consumes nothing and hands the bytes on as the
 * matching ethertype.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION };

static const char *const events[] = {
	"raw.bad_version",	/* first nibble neither 4 nor 6 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_LINKTYPE, 101 },	/* LINKTYPE_RAW */
	{ TM_TABLE_LINKTYPE, 12 },	/* DLT_RAW on most BSDs */
	{ TM_TABLE_LINKTYPE, 14 },	/* DLT_RAW on OpenBSD */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t v;

	if (tm_peek_u8(c, 0, &v))
		return tm_fail(c);
	switch (v >> 4) {
	case 4:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	case 6:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	default:
		return tm_malformed(pkt, EV_BAD_VERSION);
	}
}

static const struct tm_dissector raw = {
	.abi = TM_DISSECTOR_ABI,
	.name = "raw",
	.description = "raw IPv4/IPv6 without a link header (LINKTYPE_RAW)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("raw", "1.0", &raw)
