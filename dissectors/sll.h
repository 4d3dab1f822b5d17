/*
 * What follows a Linux cooked header (v1 and v2 alike): the ARPHRD_ type
 * and the protocol field decide the next layer. A private header of the
 * built-in dissectors (static inline: each module links nothing).
 */
#ifndef TM_DISSECTORS_SLL_H
#define TM_DISSECTORS_SLL_H

#include <timemachine/dissector.h>

#include "llc.h"

#define ARPHRD_FRAD	770
#define ARPHRD_IPGRE	778
#define ARPHRD_RADIOTAP	803
#define ARPHRD_NETLINK	824
#define SLL_P_802_2	0x0004

/* The cursor is past the cooked header. */
static inline enum tm_verdict tm_sll_next(struct tm_cursor *c,
    struct tm_next *next, uint16_t hatype, uint16_t proto)
{
	switch (hatype) {
	case ARPHRD_IPGRE:
		return tm_next(next, TM_TABLE_GRE_PROTO, proto);
	case ARPHRD_FRAD:
	case ARPHRD_RADIOTAP:
	case ARPHRD_NETLINK:
		return TM_DONE;
	default:
		break;
	}
	if (proto >= 0x0600)
		return tm_next(next, TM_TABLE_ETHERTYPE, proto);
	if (proto != SLL_P_802_2)
		return TM_DONE;
	/* 802.2 LLC; with SNAP and an ethertype OUI, follow the ethertype */
	switch (tm_llc_snap(c, &proto)) {
	case 1:
		return tm_next(next, TM_TABLE_ETHERTYPE, proto);
	case 0:
		return TM_DONE;
	default:
		return tm_fail(c);
	}
}

#endif
