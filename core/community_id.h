/*
 * Community ID v1 flow hashing
 * (https://github.com/corelight/community-id-spec), as Zeek, Suricata,
 * Arkime and Wireshark write it:
 *
 *   "1:" base64(SHA-1(seed . saddr . daddr . proto . 0 . sport . dport))
 *
 * over the packet's innermost network layer and transport, with the
 * endpoints put in order (smaller address:port first) so both directions of
 * a flow get the same ID. ICMP and ICMPv6 map type and code to ports the
 * way Zeek does (a request and its reply share an ID; a one-way message
 * such as "time exceeded" is never reordered). Protocols without ports
 * (ESP, AH, GRE, ...) hash the addresses and the protocol only.
 */
#ifndef TM_COMMUNITY_ID_H
#define TM_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>
#include <timemachine/dissector.h>

#define TM_COMMUNITY_ID_DIGEST	20	/* SHA-1 */
#define TM_COMMUNITY_ID_STRLEN	30	/* "1:" + 28 base64 characters */
#define TM_COMMUNITY_ID_SIZE	31	/* ... and the NUL */

/* Writes the Community ID of the packet's innermost flow into out
 * (outlen >= TM_COMMUNITY_ID_SIZE) and returns 0. Returns -1, with out set
 * to "" when outlen allows, when the packet has none: no IPv4/IPv6 network
 * layer (ARP, other ethertypes), no transport protocol number, a TCP, UDP
 * or SCTP packet without ports (a later fragment, a cut header), an ICMP
 * packet without its type, or outlen too small. */
int tm_community_id(const struct tm_packet *pkt, uint16_t seed, char *out,
    size_t outlen);

/* 1 if the packet has a Community ID (tm_community_id would write one),
 * else 0: the test alone, without the hash. */
int tm_community_id_applies(const struct tm_packet *pkt);

/* The same as a raw SHA-1 digest (no base64): what a comparison needs. */
int tm_community_id_digest(const struct tm_packet *pkt, uint16_t seed,
    uint8_t digest[TM_COMMUNITY_ID_DIGEST]);

/* The digest of an explicit tuple. src and dst are both IPv4 or both IPv6.
 * has_ports: 0 for a protocol without ports. For ICMP (proto 1) and ICMPv6
 * (58), sport is the message type and dport the code: the mapping to ports
 * is done here. Returns 0, or -1 when the families differ or are not IP. */
int tm_community_id_tuple(const struct tm_addr *src, const struct tm_addr *dst,
    uint8_t proto, int has_ports, uint16_t sport, uint16_t dport,
    uint16_t seed, uint8_t digest[TM_COMMUNITY_ID_DIGEST]);

/* "1:" + base64 of a digest; out holds TM_COMMUNITY_ID_SIZE bytes. */
void tm_community_id_render(const uint8_t digest[TM_COMMUNITY_ID_DIGEST],
    char out[TM_COMMUNITY_ID_SIZE]);

/* Parses a "1:..." string back to its digest: 0, or -1 if it is not a
 * well-formed v1 Community ID. */
int tm_community_id_parse(const char *s, size_t len,
    uint8_t digest[TM_COMMUNITY_ID_DIGEST]);

#endif
