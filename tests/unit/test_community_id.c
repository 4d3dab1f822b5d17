/*
 * Community ID v1 against the spec's published test vectors, on explicit
 * tuples and on packets decoded by the build's dissectors.
 *
 * Vectors: github.com/corelight/community-id-spec, baseline/README.md
 * ("Default settings" and "A custom seed=1 value" tables) and
 * baseline/baseline_deflt.json (made by pycommunityid's community-id-pcap
 * from pcaps/combined.pcap.gz). For ICMP/ICMPv6 rows the two port columns
 * are the message type and code.
 */
#include <arpa/inet.h>
#include <string.h>

#include "community_id.h"
#include "tm_test.h"

struct vec {
	uint8_t proto;
	const char *src, *dst;
	int sport, dport;	/* -1: no ports */
	const char *id;
};

#define V6A "fe80:0001:0203:0405:0607:0809:0A0B:0C0D"
#define V6B "fe80:1011:1213:1415:1617:1819:1A1B:1C1D"

/* baseline/README.md, default settings (seed 0) */
static const struct vec seed0[] = {
	{ 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
	{ 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
	{ 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
	{ 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=" },
	{ 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=" },
	{ 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
	{ 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=" },
	{ 58, V6A, V6B, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ 58, V6B, V6A, 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
	{ 58, V6A, V6B, 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=" },
	{ 46, "1.2.3.4", "5.6.7.8", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768=" },
	{ 46, "5.6.7.8", "1.2.3.4", -1, -1, "1:ikv3kmf89luf73WPz1jOs49S768=" },
	{ 46, V6A, V6B, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=" },
	{ 46, V6B, V6A, -1, -1, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=" },
};

/* baseline/README.md, seed 1 */
static const struct vec seed1[] = {
	{ 6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
	{ 6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
	{ 17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:OShq+iKDAMVouh/4bMxB9Sz4amw=" },
	{ 17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:OShq+iKDAMVouh/4bMxB9Sz4amw=" },
	{ 132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:uitchpn5MMGAQKBJh7bIr/bAr7s=" },
	{ 132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:uitchpn5MMGAQKBJh7bIr/bAr7s=" },
	{ 1, "1.2.3.4", "5.6.7.8", 8, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=" },
	{ 1, "5.6.7.8", "1.2.3.4", 0, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=" },
	{ 1, "1.2.3.4", "5.6.7.8", 11, 0, "1:1DD7cWGC/Yg91YGsQeni8du3pIA=" },
	{ 58, V6A, V6B, 128, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE=" },
	{ 58, V6B, V6A, 129, 0, "1:IO27GQzPuCtNnwFvjWALMHu5tJE=" },
	{ 58, V6A, V6B, 146, 0, "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s=" },
	{ 46, "1.2.3.4", "5.6.7.8", -1, -1, "1:/buhqeOmaRCopOZFy9HnoJd5XW8=" },
	{ 46, "5.6.7.8", "1.2.3.4", -1, -1, "1:/buhqeOmaRCopOZFy9HnoJd5XW8=" },
	{ 46, V6A, V6B, -1, -1, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=" },
	{ 46, V6B, V6A, -1, -1, "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=" },
};

/* baseline/baseline_deflt.json (seed 0): flows of real captures */
static const struct vec json0[] = {
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
	  "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
	  "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
	  "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=" },
	{ 58, "3ffe:501:410:0:2c0:dfff:fe47:33e",
	  "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
	  "1:hLZd0XGWojozrvxqE0dWB1iM6R0=" },
	{ 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
	  "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
	  "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134,
	  "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133,
	  "1:pkvHqCL88/tg1k4cPigmZXUtL00=" },
	{ 1, "192.168.0.89", "192.168.0.1", 8, 0,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 1, "192.168.0.1", "192.168.0.89", 0, 8,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=" },
	{ 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
	  63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887",
	  25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 132, "192.168.170.8", "192.168.170.56", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 132, "192.168.170.56", "192.168.170.8", 7, 7,
	  "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 6, "128.232.110.120", "66.35.250.204", 34855, 80,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 6, "66.35.250.204", "128.232.110.120", 80, 34855,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 17, "192.168.1.52", "8.8.8.8", 54585, 53,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 17, "8.8.8.8", "192.168.1.52", 53, 54585,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 46, "10.1.12.1", "10.1.12.2", -1, -1, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 46, "10.1.12.2", "10.1.12.1", -1, -1, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
};

static void to_addr(const char *s, struct tm_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, s, a->a) == 1)
		a->family = 6;
	else
		fail_msg("bad address %s", s);
}

static void check_vectors(const struct vec *v, size_t n, uint16_t seed)
{
	for (size_t i = 0; i < n; i++) {
		struct tm_addr src, dst;
		uint8_t d[TM_COMMUNITY_ID_DIGEST], back[TM_COMMUNITY_ID_DIGEST];
		char s[TM_COMMUNITY_ID_SIZE];

		to_addr(v[i].src, &src);
		to_addr(v[i].dst, &dst);
		assert_int_equal(tm_community_id_tuple(&src, &dst, v[i].proto,
		    v[i].sport >= 0, (uint16_t)(v[i].sport < 0 ? 0 : v[i].sport),
		    (uint16_t)(v[i].dport < 0 ? 0 : v[i].dport), seed, d), 0);
		tm_community_id_render(d, s);
		if (strcmp(s, v[i].id) != 0)
			fail_msg("vector %zu (proto %u %s -> %s): got %s, want %s",
			    i, v[i].proto, v[i].src, v[i].dst, s, v[i].id);
		assert_int_equal(tm_community_id_parse(s, strlen(s), back), 0);
		assert_memory_equal(back, d, sizeof(d));
	}
}

static void test_spec_tables(void **state)
{
	(void)state;
	check_vectors(seed0, TM_ARRAY_LEN(seed0), 0);
	check_vectors(seed1, TM_ARRAY_LEN(seed1), 1);
}

static void test_spec_json(void **state)
{
	(void)state;
	check_vectors(json0, TM_ARRAY_LEN(json0), 0);
}

static void test_mixed_families(void **state)
{
	struct tm_addr a, b;
	uint8_t d[20];

	(void)state;
	to_addr("1.2.3.4", &a);
	to_addr("::1", &b);
	assert_int_equal(tm_community_id_tuple(&a, &b, 6, 1, 1, 2, 0, d), -1);
	memset(&b, 0, sizeof(b));
	assert_int_equal(tm_community_id_tuple(&a, &b, 6, 1, 1, 2, 0, d), -1);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "1:", "2:wCb3OG7yAFWelaUydu0D+125CLM=",
		"1:wCb3OG7yAFWelaUydu0D+125CLM",	/* no padding */
		"1:wCb3OG7yAFWelaUydu0D+125CL==",	/* padding too long */
		"1:wCb3OG7yAFWelaUydu0D+125CLN=",	/* non-zero pad bits */
		"1:wCb3OG7yAFWelaUydu0D+125C!M=",	/* not base64 */
		"1:wCb3OG7yAFWelaUydu0D+125CLM=x",
		"1:c026f7386ef200559e95a53276ed03fb5db908b3",	/* hex form */
	};
	uint8_t d[20];

	(void)state;
	for (size_t i = 0; i < TM_ARRAY_LEN(bad); i++)
		if (tm_community_id_parse(bad[i], strlen(bad[i]), d) == 0)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(tm_community_id_parse("1:wCb3OG7yAFWelaUydu0D+125CLM=",
	    30, d), 0);
}

/* ---- on decoded packets ------------------------------------------------- */

static struct tm_buf b;

static void expect_id(const struct tm_packet *p, const char *want)
{
	char s[TM_COMMUNITY_ID_SIZE];

	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), 0);
	assert_string_equal(s, want);
}

static void test_packet_tcp_udp_sctp(void **state)
{
	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "5.6.7.8", "1.2.3.4", 6, 20);
	tb_tcp(&b, 3344, 1122, 0x12);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:wCb3OG7yAFWelaUydu0D+125CLM=");

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "1.2.3.4", "5.6.7.8", 17, 8);
	tb_udp(&b, 1122, 3344, 0);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");

	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "2607:f8b0:400c:c03::1a",
	    "2001:470:e5bf:dead:4957:2174:e82c:4887", 6, 20);
	tb_tcp(&b, 25, 63943, 0x10);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");

	/* SCTP common header: ports, verification tag, checksum */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "5.6.7.8", "1.2.3.4", 132, 12);
	tb_be16(&b, 3344);
	tb_be16(&b, 1122);
	tb_be32(&b, 0);
	tb_be32(&b, 0);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=");
}

static void test_packet_icmp(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* echo reply 5.6.7.8 -> 1.2.3.4 shares the request's ID */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "5.6.7.8", "1.2.3.4", 1, 8);
	tb_u8(&b, 0);
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0x00010001);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/icmp");
	expect_id(p, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
}

static void test_packet_icmp_one_way(void **state)
{
	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 1, 8);
	tb_u8(&b, 11);		/* time exceeded */
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
}

static void test_packet_icmp6(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* neighbor advertisement, answer to the solicitation of the vector */
	tb_reset(&b);
	tb_eth(&b, 0x86dd);
	tb_ipv6(&b, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 58,
	    24);
	tb_u8(&b, 136);
	tb_u8(&b, 0);
	tb_be16(&b, 0);
	tb_be32(&b, 0x60000000);
	tb_zero(&b, 16);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv6/icmpv6");
	expect_id(p, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
}

static void test_packet_portless(void **state)
{
	const struct tm_packet *p;
	char s[TM_COMMUNITY_ID_SIZE];

	(void)state;
	/* RSVP (46): addresses and protocol only */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.1.12.2", "10.1.12.1", 46, 8);
	tb_zero(&b, 8);
	expect_id(tm_test_decode(b.b, b.n, LT_ETHERNET),
	    "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");

	/* ESP: the SPI is not part of the ID */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "10.1.12.2", "10.1.12.1", 50, 16);
	tb_be32(&b, 0x1234);
	tb_be32(&b, 1);
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_true(p->flags & TM_PF_HAS_SPI);
	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), 0);
	{
		struct tm_addr a, c;
		uint8_t d[20];
		char want[TM_COMMUNITY_ID_SIZE];

		to_addr("10.1.12.1", &a);
		to_addr("10.1.12.2", &c);
		tm_community_id_tuple(&a, &c, 50, 0, 0, 0, 0, d);
		tm_community_id_render(d, want);
		assert_string_equal(s, want);
	}
}

static void test_packet_none(void **state)
{
	const struct tm_packet *p;
	char s[TM_COMMUNITY_ID_SIZE] = "x";

	(void)state;
	/* ARP has no Community ID */
	tb_reset(&b);
	tb_eth(&b, 0x0806);
	tb_arp_request(&b);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->l3, TM_L3_ARP);
	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), -1);
	assert_string_equal(s, "");

	/* a later IPv4 fragment of UDP: no ports, so no ID */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "1.2.3.4", "5.6.7.8", 17, 8);
	b.b[14 + 6] = 0x00;
	b.b[14 + 7] = 0x10;	/* offset 128 bytes */
	tb_zero(&b, 8);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_false(p->flags & TM_PF_HAS_PORTS);
	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), -1);

	/* too small a buffer */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "1.2.3.4", "5.6.7.8", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(tm_community_id(p, 0, s, TM_COMMUNITY_ID_SIZE - 1),
	    -1);
	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), 0);
	assert_int_equal(strlen(s), TM_COMMUNITY_ID_STRLEN);
}

/* tm_community_id_applies says, without hashing, whether tm_community_id
 * writes an ID: the storage's writer relies on that (a record's ID is
 * computed there, in the place the reading thread left for it). */
static void test_applies(void **state)
{
	static const struct {
		uint8_t l3, proto;
		uint32_t flags;
		const char *src, *dst;
		int want;
	} cases[] = {
		{ TM_L3_IPV4, 6, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "1.2.3.4",
		  "5.6.7.8", 1 },
		{ TM_L3_IPV4, 6, TM_PF_HAS_PROTO, "1.2.3.4", "5.6.7.8", 0 },
		{ TM_L3_IPV6, 17, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "::1",
		  "::2", 1 },
		{ TM_L3_IPV6, 17, TM_PF_HAS_PROTO, "::1", "::2", 0 },
		{ TM_L3_IPV4, 132, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS,
		  "1.2.3.4", "5.6.7.8", 1 },
		{ TM_L3_IPV4, 132, TM_PF_HAS_PROTO, "1.2.3.4", "5.6.7.8", 0 },
		{ TM_L3_IPV4, 1, TM_PF_HAS_PROTO | TM_PF_HAS_ICMP, "1.2.3.4",
		  "5.6.7.8", 1 },
		{ TM_L3_IPV4, 1, TM_PF_HAS_PROTO, "1.2.3.4", "5.6.7.8", 0 },
		{ TM_L3_IPV6, 58, TM_PF_HAS_PROTO | TM_PF_HAS_ICMP, "::1",
		  "::2", 1 },
		{ TM_L3_IPV6, 58, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "::1",
		  "::2", 0 },
		{ TM_L3_IPV4, 50, TM_PF_HAS_PROTO, "1.2.3.4", "5.6.7.8", 1 },
		{ TM_L3_IPV4, 50, 0, "1.2.3.4", "5.6.7.8", 0 },
		{ TM_L3_IPV4, 6, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "1.2.3.4",
		  "::2", 0 },
		{ TM_L3_IPV4, 6, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "1.2.3.4",
		  NULL, 0 },
		{ TM_L3_ARP, 0, 0, "1.2.3.4", "5.6.7.8", 0 },
		{ TM_L3_NONE, 6, TM_PF_HAS_PROTO | TM_PF_HAS_PORTS, "1.2.3.4",
		  "5.6.7.8", 0 },
	};

	(void)state;
	for (size_t i = 0; i < TM_ARRAY_LEN(cases); i++) {
		struct tm_packet p;
		char s[TM_COMMUNITY_ID_SIZE];

		memset(&p, 0, sizeof(p));
		p.l3 = cases[i].l3;
		p.proto = cases[i].proto;
		p.flags = cases[i].flags;
		p.sport = 1000;
		p.dport = 80;
		p.icmp_type = 8;
		to_addr(cases[i].src, &p.src);
		if (cases[i].dst)
			to_addr(cases[i].dst, &p.dst);
		if (tm_community_id_applies(&p) != cases[i].want)
			fail_msg("case %zu: applies says %d", i, !cases[i].want);
		assert_int_equal(tm_community_id(&p, 0, s, sizeof(s)) == 0,
		    cases[i].want);
	}
}

static void test_inner_flow_of_tunnel(void **state)
{
	const struct tm_packet *p;
	char s[TM_COMMUNITY_ID_SIZE];

	(void)state;
	/* VXLAN: the ID is the inner flow's */
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + 8 + 14 + 20 + 8);
	tb_udp(&b, 40000, 4789, 8 + 14 + 20 + 8);
	tb_be32(&b, 0x08000000);
	tb_be32(&b, 0x00006400);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "1.2.3.4", "5.6.7.8", 17, 8);
	tb_udp(&b, 1122, 3344, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/vxlan/eth/ipv4/udp");
	assert_int_equal(tm_community_id(p, 0, s, sizeof(s)), 0);
	assert_string_equal(s, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_tables),
		cmocka_unit_test(test_spec_json),
		cmocka_unit_test(test_mixed_families),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_packet_tcp_udp_sctp),
		cmocka_unit_test(test_packet_icmp),
		cmocka_unit_test(test_packet_icmp_one_way),
		cmocka_unit_test(test_packet_icmp6),
		cmocka_unit_test(test_packet_portless),
		cmocka_unit_test(test_packet_none),
		cmocka_unit_test(test_inner_flow_of_tunnel),
		cmocka_unit_test(test_applies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
