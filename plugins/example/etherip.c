/*
 * EtherIP (RFC 3378): Ethernet frames tunnelled directly in IP, protocol 97.
 *
 * An example timemachine plugin, built out of tree against the installed
 * header only (see Makefile and docs/plugins.md). It shows the whole job of a
 * tunnel dissector:
 *   - binding to a value of another dissector's table (ip.proto 97),
 *   - reading a header through the bounds-checked cursor,
 *   - telling a truncated capture from a protocol violation,
 *   - a fatal named event (etherip.bad_version) and a non-fatal one
 *     (etherip.reserved_set),
 *   - pushing a tunnel of the plugin's own type, and
 *   - handing the inner Ethernet frame on to whoever decodes LINKTYPE 1.
 *
 * The header is 16 bits, most significant first:
 *
 *    0                   1
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |VERSION|       RESERVED        |    VERSION = 3, RESERVED = 0
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * followed by a complete Ethernet frame (no FCS).
 */
#include <timemachine/dissector.h>

#define ETHERIP_VERSION		3u
#define LINKTYPE_ETHERNET	1u

/* Indexes into events[] below: tm_event()/tm_malformed() take these. */
enum { EV_BAD_VERSION, EV_RESERVED_SET };

/* Full names, "<dissector>.<what>". The core adds two more by itself:
 * "etherip.truncated" and "etherip.too_short". */
static const char *const events[] = {
	"etherip.bad_version",	/* version field is not 3: not EtherIP */
	"etherip.reserved_set",	/* reserved bits not 0 (decoding goes on) */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_IP_PROTO, 97 },	/* IANA: ETHERIP, IPv4 and IPv6 alike */
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	struct tm_tunnel *t;
	uint16_t hdr;

	/* 1. Read the header. A failed read knows whether the capture was
	 *    cut (TM_TRUNCATED) or the frame really ends here (TM_SHORT);
	 *    tm_fail() returns that, and the core records the event. */
	if (tm_get_be16(c, &hdr))
		return tm_fail(c);

	/* 2. Validate. A violation ends decoding with a named event. */
	if ((hdr >> 12) != ETHERIP_VERSION)
		return tm_malformed(pkt, EV_BAD_VERSION);
	if (hdr & 0x0fffu)
		tm_event(pkt, EV_RESERVED_SET);

	/* 3. Enter the tunnel. Its outer endpoints are the current innermost
	 *    IP addresses (the IP header that carried us), copied by
	 *    tm_push_tunnel(). At the depth limit it returns NULL: stop. */
	t = tm_push_tunnel(pkt, TM_TUN_OTHER);
	if (!t)
		return TM_DONE;
	t->name = "etherip";	/* a string that lives as long as the module */

	/* 4. The rest of the window is an Ethernet frame: hand it on by its
	 *    link type, so whatever dissector decodes captures of Ethernet
	 *    decodes it here too. The window is already the IP payload (IPv4
	 *    and IPv6 narrow it to their length fields). */
	return tm_next(next, TM_TABLE_LINKTYPE, LINKTYPE_ETHERNET);
}

static const struct tm_dissector etherip = {
	.abi = TM_DISSECTOR_ABI,
	.name = "etherip",
	.description = "EtherIP (RFC 3378): Ethernet in IP protocol 97",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

/* The module's one exported symbol, tm_plugin_entry(), listing its
 * dissectors. The plugin name must be unique among loaded plugins. */
TM_PLUGIN("etherip", "1.0", &etherip)
