/*
 * Ethertypes common enough to recognize an Ethernet header by, for the
 * dissectors that must guess whether a frame is Ethernet (MPLS pseudowires
 * without a control word, L2TPv3 pseudowires). A private header of the
 * built-in dissectors.
 */
#ifndef TM_DISSECTORS_ETHERTYPES_H
#define TM_DISSECTORS_ETHERTYPES_H

#include <stdint.h>

/* IPv4, ARP, IPv6, VLAN and QinQ tags, MPLS, PPPoE, LLDP, LACP, 802.1X,
 * PTP, RARP, TRILL, MACsec, ... */
static inline int tm_known_ethertype(uint16_t t)
{
	switch (t) {
	case 0x0800: case 0x0806: case 0x86dd: case 0x8100: case 0x88a8:
	case 0x9100: case 0x8847: case 0x8848: case 0x8863: case 0x8864:
	case 0x88cc: case 0x8809: case 0x888e: case 0x88e5: case 0x88f7:
	case 0x8035: case 0x22f0: case 0x88b5: case 0x893a:
		return 1;
	default:
		return 0;
	}
}

#endif
