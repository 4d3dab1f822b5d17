/*
 * VXLAN (RFC 7348) on UDP port 4789 (Linux's old default 8472 and other
 * ports by configuration: --bind vxlan=udp.port:8472). An 8-byte header of
 * flags, reserved bits and a 24-bit VXLAN Network Identifier, then an
 * Ethernet frame. The I flag says the VNI is valid; without it the frame is
 * still followed but no VNI is recorded.
 */
#include <timemachine/dissector.h>

enum { EV_NO_VNI };

static const char *const events[] = {
	"vxlan.no_vni",		/* I flag clear: the VNI is not valid */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 4789 },
};

#define VXLAN_I 0x08u

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t hdr[8];
	struct tm_tunnel *t;

	if (tm_get_bytes(c, hdr, 8))
		return tm_fail(c);
	t = tm_push_tunnel(pkt, TM_TUN_VXLAN);
	if (!t)
		return TM_DONE;
	if (hdr[0] & VXLAN_I) {
		t->vni = ((uint32_t)hdr[4] << 16) | ((uint32_t)hdr[5] << 8) |
		    hdr[6];
		t->ids |= TM_TID_VNI;
	} else {
		tm_event(pkt, EV_NO_VNI);
	}
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	return tm_next(next, TM_TABLE_LINKTYPE, 1);	/* Ethernet */
}

static const struct tm_dissector vxlan = {
	.abi = TM_DISSECTOR_ABI,
	.name = "vxlan",
	.description = "VXLAN (RFC 7348)",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("vxlan", "1.0", &vxlan)
