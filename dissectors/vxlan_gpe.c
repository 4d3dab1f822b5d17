/*
 * VXLAN-GPE, VXLAN Generic Protocol Extension (draft-ietf-nvo3-vxlan-gpe),
 * on UDP port 4790. The VXLAN header with a version, a P flag and a next
 * protocol byte: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS. With P clear
 * the payload is Ethernet, as in plain VXLAN. The tunnel is a VXLAN tunnel
 * named "vxlan-gpe", with its VNI when the I flag says it is valid.
 */
#include <timemachine/dissector.h>

enum { EV_BAD_VERSION, EV_NO_VNI, EV_UNKNOWN_NEXT };

static const char *const events[] = {
	"vxlan_gpe.bad_version",	/* version is not 0 */
	"vxlan_gpe.no_vni",		/* I flag clear: the VNI is not valid */
	"vxlan_gpe.unknown_next_protocol", /* next protocol not 1..5 */
};

static const struct tm_binding bindings[] = {
	{ TM_TABLE_UDP_PORT, 4790 },
};

#define GPE_VER	0x30u
#define GPE_I	0x08u
#define GPE_P	0x04u

static enum tm_verdict decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t hdr[8];
	struct tm_tunnel *t;

	if (tm_get_bytes(c, hdr, 8))
		return tm_fail(c);
	if (hdr[0] & GPE_VER)
		return tm_malformed(pkt, EV_BAD_VERSION);
	t = tm_push_tunnel(pkt, TM_TUN_VXLAN);
	if (!t)
		return TM_DONE;
	t->name = "vxlan-gpe";
	if (hdr[0] & GPE_I) {
		t->vni = ((uint32_t)hdr[4] << 16) | ((uint32_t)hdr[5] << 8) |
		    hdr[6];
		t->ids |= TM_TID_VNI;
	} else {
		tm_event(pkt, EV_NO_VNI);
	}
	if (tm_wire_remaining(c) == 0)
		return TM_DONE;
	if (!(hdr[0] & GPE_P))
		return tm_next(next, TM_TABLE_LINKTYPE, 1);
	switch (hdr[3]) {
	case 1:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x0800);
	case 2:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x86dd);
	case 3:
		return tm_next(next, TM_TABLE_LINKTYPE, 1);	/* Ethernet */
	case 4:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x894f); /* NSH */
	case 5:
		return tm_next(next, TM_TABLE_ETHERTYPE, 0x8847); /* MPLS */
	default:
		tm_event(pkt, EV_UNKNOWN_NEXT);
		return TM_DONE;
	}
}

static const struct tm_dissector vxlan_gpe = {
	.abi = TM_DISSECTOR_ABI,
	.name = "vxlan_gpe",
	.description = "VXLAN Generic Protocol Extension",
	.bindings = bindings, .n_bindings = TM_ARRAY_LEN(bindings),
	.events = events, .n_events = TM_ARRAY_LEN(events),
	.decode = decode,
};

TM_PLUGIN("vxlan_gpe", "1.0", &vxlan_gpe)
