/* Community ID v1: see community_id.h. */
#include "community_id.h"

#include <gcrypt.h>
#include <string.h>

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ICMP6	58
#define PROTO_SCTP	132

/* ---- SHA-1, from libgcrypt ---------------------------------------------
 * (nDPI links it already). It must be initialized once, on the main
 * thread, before any other thread uses it: a constructor does that before
 * main() runs. */

__attribute__((constructor)) static void gcrypt_init(void)
{
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcry_check_version(NULL);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
}

static int icmp4_counterpart(uint8_t type)
{
	switch (type) {
	case 8: return 0;	/* echo <-> echo reply */
	case 0: return 8;
	case 13: return 14;	/* timestamp */
	case 14: return 13;
	case 15: return 16;	/* information */
	case 16: return 15;
	case 10: return 9;	/* router solicitation <-> advertisement */
	case 9: return 10;
	case 17: return 18;	/* address mask */
	case 18: return 17;
	default: return -1;
	}
}

static int icmp6_counterpart(uint8_t type)
{
	switch (type) {
	case 128: return 129;	/* echo request <-> reply */
	case 129: return 128;
	case 130: return 131;	/* MLD query <-> report */
	case 131: return 130;
	case 133: return 134;	/* router solicitation <-> advertisement */
	case 134: return 133;
	case 135: return 136;	/* neighbor solicitation <-> advertisement */
	case 136: return 135;
	case 139: return 140;	/* who-are-you request <-> reply */
	case 140: return 139;
	case 144: return 145;	/* home agent address discovery */
	case 145: return 144;
	default: return -1;
	}
}

/* ---- the ID ------------------------------------------------------------- */

int tm_community_id_tuple(const struct tm_addr *src, const struct tm_addr *dst,
    uint8_t proto, int has_ports, uint16_t sport, uint16_t dport,
    uint16_t seed, uint8_t digest[TM_COMMUNITY_ID_DIGEST])
{
	const struct tm_addr *a = src, *b = dst;
	uint16_t pa = sport, pb = dport;
	size_t alen;
	int one_way = 0, cmp;
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t n;

	if (src->family != dst->family ||
	    (src->family != 4 && src->family != 6))
		return -1;
	alen = src->family == 4 ? 4 : 16;
	if (has_ports && (proto == PROTO_ICMP || proto == PROTO_ICMP6)) {
		int peer = proto == PROTO_ICMP ?
		    icmp4_counterpart((uint8_t)sport) :
		    icmp6_counterpart((uint8_t)sport);

		if (peer < 0)
			one_way = 1;	/* type and code, never swapped */
		else
			pb = (uint16_t)peer;
	}
	cmp = memcmp(a->a, b->a, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && (!has_ports || pa >= pb)))) {
		const struct tm_addr *ta = a;
		uint16_t tp = pa;

		a = b; b = ta;
		pa = pb; pb = tp;
	}
	/* seed, both addresses, protocol, a zero byte, then the ports */
	n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, a->a, alen);
	n += alen;
	memcpy(buf + n, b->a, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (has_ports) {
		buf[n++] = (uint8_t)(pa >> 8);
		buf[n++] = (uint8_t)pa;
		buf[n++] = (uint8_t)(pb >> 8);
		buf[n++] = (uint8_t)pb;
	}
	gcry_md_hash_buffer(GCRY_MD_SHA1, digest, buf, n);
	return 0;
}

int tm_community_id_applies(const struct tm_packet *pkt)
{
	if ((pkt->l3 != TM_L3_IPV4 && pkt->l3 != TM_L3_IPV6) ||
	    !(pkt->flags & TM_PF_HAS_PROTO) ||
	    pkt->src.family != pkt->dst.family ||
	    (pkt->src.family != 4 && pkt->src.family != 6))
		return 0;
	switch (pkt->proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		return (pkt->flags & TM_PF_HAS_PORTS) != 0;
	case PROTO_ICMP:
	case PROTO_ICMP6:
		return (pkt->flags & TM_PF_HAS_ICMP) != 0;
	default:
		return 1;
	}
}

int tm_community_id_digest(const struct tm_packet *pkt, uint16_t seed,
    uint8_t digest[TM_COMMUNITY_ID_DIGEST])
{
	uint8_t proto = pkt->proto;

	if (!tm_community_id_applies(pkt))
		return -1;
	switch (proto) {
	case PROTO_TCP:
	case PROTO_UDP:
	case PROTO_SCTP:
		return tm_community_id_tuple(&pkt->src, &pkt->dst, proto, 1,
		    pkt->sport, pkt->dport, seed, digest);
	case PROTO_ICMP:
	case PROTO_ICMP6:
		return tm_community_id_tuple(&pkt->src, &pkt->dst, proto, 1,
		    pkt->icmp_type, pkt->icmp_code, seed, digest);
	default:
		return tm_community_id_tuple(&pkt->src, &pkt->dst, proto, 0,
		    0, 0, seed, digest);
	}
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void tm_community_id_render(const uint8_t digest[TM_COMMUNITY_ID_DIGEST],
    char out[TM_COMMUNITY_ID_SIZE])
{
	char *o = out;

	*o++ = '1';
	*o++ = ':';
	for (int i = 0; i < TM_COMMUNITY_ID_DIGEST; i += 3) {
		uint32_t v = (uint32_t)digest[i] << 16;

		if (i + 1 < TM_COMMUNITY_ID_DIGEST)
			v |= (uint32_t)digest[i + 1] << 8;
		if (i + 2 < TM_COMMUNITY_ID_DIGEST)
			v |= digest[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < TM_COMMUNITY_ID_DIGEST ? b64[(v >> 6) & 63] :
		    '=';
		*o++ = i + 2 < TM_COMMUNITY_ID_DIGEST ? b64[v & 63] : '=';
	}
	*o = '\0';
}

int tm_community_id(const struct tm_packet *pkt, uint16_t seed, char *out,
    size_t outlen)
{
	uint8_t d[TM_COMMUNITY_ID_DIGEST];

	if (outlen > 0)
		out[0] = '\0';
	if (outlen < TM_COMMUNITY_ID_SIZE ||
	    tm_community_id_digest(pkt, seed, d) != 0)
		return -1;
	tm_community_id_render(d, out);
	return 0;
}

static int b64_value(char ch)
{
	const char *p = ch ? strchr(b64, ch) : NULL;

	return p ? (int)(p - b64) : -1;
}

int tm_community_id_parse(const char *s, size_t len,
    uint8_t digest[TM_COMMUNITY_ID_DIGEST])
{
	uint8_t d[21];
	size_t n = 0;

	/* 20 bytes: 6 groups of 4 characters, then 3 characters and '=' */
	if (len != TM_COMMUNITY_ID_STRLEN || s[0] != '1' || s[1] != ':' ||
	    s[len - 1] != '=')
		return -1;
	for (size_t i = 2; i < len - 1; i += 4) {
		int v[4];
		uint32_t w;

		for (int j = 0; j < 4; j++)
			v[j] = (i + j < len - 1) ? b64_value(s[i + j]) : 0;
		if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0)
			return -1;
		w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
		    ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		d[n++] = (uint8_t)(w >> 16);
		d[n++] = (uint8_t)(w >> 8);
		d[n++] = (uint8_t)w;
	}
	/* 7 groups made 21 bytes: the last one is the padding, which must be
	 * zero (so must the 2 low bits of the character before '=') */
	if (n != 21 || d[20] != 0)
		return -1;
	memcpy(digest, d, TM_COMMUNITY_ID_DIGEST);
	return 0;
}
