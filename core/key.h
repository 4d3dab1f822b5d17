/* The normalized connection key of a decoded packet. */
#ifndef TM_KEY_H
#define TM_KEY_H

#include <stdint.h>
#include <timemachine/dissector.h>

/* Which context keeps overlapping address spaces apart. */
#define TM_CTX_VLAN	0x1u
#define TM_CTX_TUNNEL	0x2u
#define TM_CTX_DEFAULT	(TM_CTX_VLAN | TM_CTX_TUNNEL)

struct tm_key {
	uint8_t l3;		/* enum tm_l3 */
	uint8_t proto;		/* innermost transport (0 when none) */
	uint16_t ethertype;	/* innermost ethertype (l3 == other) */
	uint16_t port_a, port_b; /* ports, or ICMP id on both sides */
	uint32_t spi;
	uint8_t addr_a[16], addr_b[16];
	uint8_t fam_a, fam_b;
	uint8_t pad[6];
	uint64_t ctx;		/* hash of the context (0: none) */
};

/* Fills key from the packet view; *dir is 0 when the packet travels from
 * endpoint a to endpoint b, 1 otherwise. ctx_mask: TM_CTX_*. */
void tm_key_make(const struct tm_packet *pkt, unsigned ctx_mask,
    struct tm_key *key, int *dir);

uint64_t tm_key_hash(const struct tm_key *key);

/* Hash of the packet's context alone (VLAN ids and tunnel stack). */
uint64_t tm_context_hash(const struct tm_packet *pkt, unsigned ctx_mask);

#endif
