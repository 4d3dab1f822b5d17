/*
 * Finding the Ethernet frame of an L2TPv3 pseudowire after the session id,
 * for L2TPv3 over IP (l2tpv3.c) and over UDP (l2tp.c): the cookie length and
 * the L2-specific sublayer are not signalled in the packet, so the frame is
 * looked for (see the comment at the top of l2tpv3.c). A private header of
 * the built-in dissectors: static inline, each module links nothing.
 */
#ifndef TM_DISSECTORS_L2TPV3_PW_H
#define TM_DISSECTORS_L2TPV3_PW_H

#include <timemachine/dissector.h>

#include "ethertypes.h"

/* The offset of the Ethernet frame after the session id, or -1. */
static inline int tm_l2tpv3_find_ethernet(struct tm_cursor *c)
{
	static const uint8_t cand[] = { 0, 4, 8, 12 };

	for (size_t i = 0; i < TM_ARRAY_LEN(cand); i++) {
		size_t k = cand[i];
		uint32_t wire = tm_wire_remaining(c);
		uint16_t type;

		if (wire < k + 14)
			break;
		if (tm_peek_be16(c, k + 12, &type))
			return (int)k;	/* beyond the capture: not ruled out */
		if (tm_known_ethertype(type))
			return (int)k;
		if (type <= 1500 && (type == wire - k - 14 ||
		    (type < 46 && wire - k - 14 == 46)))
			return (int)k;	/* an 802.3 frame, maybe padded */
	}
	return -1;
}

#endif
