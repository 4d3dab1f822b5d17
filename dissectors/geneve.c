/*
 * Geneve (RFC 8926) on UDP port 6081. An 8-byte header (version, options
 * length in 4-byte words, O and C flags, protocol type, 24-bit VNI), the
 * options, then the payload named by the protocol type, an ethertype
 * (0x6558 Ethernet, 0x0800 IPv4, 0x86dd IPv6, ...): it is handed to the
 * gre.proto table, where Ethernet is bound and which falls back to
 * ethertypes. Options are skipped, not interpreted.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_BAD_OPT_LENGTH };

static const char *const events[] = {
	"geneve.bad_version",		/* version is not 0 */
	"geneve.bad_option_length",	/* options beyond the datagram */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 6081 },
};

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t hdr[8];
	uint16_t type;
	size_t optlen;
	struct tm_tunnel *t;

	if (tm_get_bytes(c, hdr, 8))
		return tm_fail(c);
	if (hdr[0] >> 6)
		return tm_malformed(pkt, EV_BAD_VERSION);
	optlen = (size_t)(hdr[0] & 0x3fu) * 4u;
	type = (uint16_t)((hdr[2] << 8) | hdr[3]);
	t = tm_push_tunnel(pkt, TM_TUN_GENEVE);
	if (!t)
		return TM_DONE;
	t->vni = ((uint32_t)hdr[4] << 16) | ((uint32_t)hdr[5] << 8) | hdr[6];
	t->ids |= TM_TID_VNI;
	if (optlen > tm_wire_remaining(c))
		return tm_malformed(pkt, EV_BAD_OPT_LENGTH);
	if (tm_skip(c, optlen))
		return tm_fail(c);
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return tm_next(next, TM_TABLE_GRE_PROTO, type);
}

static const struct tm_dissector geneve = {
	.abi = TM_DISSECTOR_ABI,
	.name = "geneve",
	.description = "Geneve (RFC 8926)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("geneve", "1.0", &geneve)
