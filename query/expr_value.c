/* Values of the expression language: numbers, addresses and prefixes,
 * times and durations, protocol and tunnel names, keywords. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "expr_int.h"

int tm_expr_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

/* ---- names -------------------------------------------------------------- */

static const char *const keywords[] = {
	"and", "or", "not", "inner", "outer", "any", "src", "dst",
	"host", "net", "port", "portrange", "proto", "ip", "ip6", "arp",
	"tcp", "udp", "sctp", "icmp", "icmp6", "esp", "ah",
	"spi", "vlan", "tunnel", "gre", "l2tp", "pppoe", "erspan", "mpls",
	"vni", "teid", "app", "class", "community_id",
	"after", "before", "last", "ago", "now",
};

int tm_expr_is_keyword(const char *s, size_t len)
{
	for (size_t i = 0; i < TM_ARRAY_LEN(keywords); i++)
		if (tm_expr_ieq(s, len, keywords[i], strlen(keywords[i])))
			return 1;
	return 0;
}

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
	/* the first name of a number is the one printed */
	{ "hopopt", 0 }, { "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 },
	{ "ipencap", 4 }, { "tcp", 6 }, { "egp", 8 }, { "udp", 17 },
	{ "ipv6", 41 }, { "ipv6-route", 43 }, { "ipv6-frag", 44 },
	{ "rsvp", 46 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 },
	{ "icmp6", 58 }, { "icmpv6", 58 }, { "ipv6-icmp", 58 },
	{ "ipv6-nonxt", 59 }, { "ipv6-opts", 60 }, { "eigrp", 88 },
	{ "ospf", 89 }, { "pim", 103 }, { "vrrp", 112 }, { "l2tp", 115 },
	{ "sctp", 132 }, { "udplite", 136 },
};

int tm_expr_proto_number(const char *s, size_t len)
{
	for (size_t i = 0; i < TM_ARRAY_LEN(protos); i++)
		if (tm_expr_ieq(s, len, protos[i].name, strlen(protos[i].name)))
			return protos[i].num;
	return -1;
}

const char *tm_expr_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < TM_ARRAY_LEN(protos); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}

/* As core/pktfmt.c prints them (the language must name what `tm decode`
 * shows). */
const char *const tm_expr_tunnel_names[] = {
	[TM_TUN_NONE] = "none", [TM_TUN_GRE] = "gre", [TM_TUN_PPTP] = "pptp",
	[TM_TUN_ERSPAN] = "erspan", [TM_TUN_L2TP] = "l2tp",
	[TM_TUN_IPIP] = "ipip", [TM_TUN_VXLAN] = "vxlan",
	[TM_TUN_GENEVE] = "geneve", [TM_TUN_GTP] = "gtp",
	[TM_TUN_TEREDO] = "teredo", [TM_TUN_MPLS] = "mpls",
	[TM_TUN_PPPOE] = "pppoe", [TM_TUN_OTHER] = "other",
};
const size_t tm_expr_n_tunnel_names = TM_ARRAY_LEN(tm_expr_tunnel_names);

const struct tm_expr_tid tm_expr_tids[] = {
	{ "gre", "key", TM_TID_KEY, TM_TUN_NONE, 0xffffffffu, "GRE key" },
	{ "l2tp", "tunnel", TM_TID_TUNNEL, TM_TUN_L2TP, 0xffffffffu,
	  "L2TP tunnel id" },
	{ "l2tp", "session", TM_TID_SESSION, TM_TUN_L2TP, 0xffffffffu,
	  "L2TP session id" },
	{ "pppoe", "session", TM_TID_SESSION, TM_TUN_PPPOE, 0xffffu,
	  "PPPoE session id" },
	{ "erspan", "session", TM_TID_SESSION, TM_TUN_ERSPAN, 0x3ffu,
	  "ERSPAN session id" },
	{ "mpls", "label", TM_TID_LABEL, TM_TUN_NONE, 0xfffffu, "MPLS label" },
	{ "vni", NULL, TM_TID_VNI, TM_TUN_NONE, 0xffffffu, "VNI" },
	{ "teid", NULL, TM_TID_TEID, TM_TUN_NONE, 0xffffffffu, "TEID" },
};
const size_t tm_expr_n_tids = TM_ARRAY_LEN(tm_expr_tids);

/* ---- numbers ------------------------------------------------------------ */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int tm_expr_parse_uint(const char *s, size_t len, uint32_t max, uint32_t *v,
    int *too_big)
{
	uint64_t acc = 0;
	unsigned base = 10;
	size_t i = 0;

	*too_big = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		int d = hexval(s[i]);

		if (d < 0 || (unsigned)d >= base)
			return -1;
		acc = acc * base + (unsigned)d;
		if (acc > 0xffffffffu)
			acc = (uint64_t)0xffffffffu + 1;	/* keep going */
	}
	if (acc > max) {
		*too_big = 1;
		return -1;
	}
	*v = (uint32_t)acc;
	return 0;
}

/* ---- addresses ---------------------------------------------------------- */

void tm_expr_make_mask(uint8_t family, uint8_t plen, uint8_t mask[16])
{
	size_t alen = family == 4 ? 4 : 16;

	memset(mask, 0, 16);
	for (size_t i = 0; i < alen; i++) {
		if (plen >= 8) {
			mask[i] = 0xff;
			plen = (uint8_t)(plen - 8);
		} else {
			mask[i] = (uint8_t)(0xff00u >> plen);
			plen = 0;
		}
	}
}

int tm_expr_parse_cidr(const char *s, size_t len, uint8_t *family,
    uint8_t addr[16], uint8_t *plen, int *has_plen)
{
	char buf[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint8_t mask[16], maxlen;
	int hostbits = 0;

	*has_plen = slash != NULL;
	if (alen == 0 || alen >= sizeof(buf))
		return EA_SYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = 6;
	else
		return EA_SYNTAX;
	maxlen = *family == 4 ? 32 : 128;
	*plen = maxlen;
	if (slash) {
		uint32_t v;
		int big;
		size_t plen_len = len - alen - 1;

		/* decimal only: "/0x10" is not a prefix length */
		if (plen_len == 0 || plen_len > 3 ||
		    tm_expr_parse_uint(slash + 1, plen_len, maxlen, &v, &big) ||
		    slash[1] < '0' || slash[1] > '9' ||
		    (plen_len > 1 && (slash[2] == 'x' || slash[2] == 'X')))
			return EA_PLEN;
		*plen = (uint8_t)v;
	}
	tm_expr_make_mask(*family, *plen, mask);
	for (size_t i = 0; i < 16; i++) {
		if (addr[i] & (uint8_t)~mask[i])
			hostbits = 1;
		addr[i] &= mask[i];
	}
	return hostbits ? EA_HOSTBITS : 0;
}

/* ---- times -------------------------------------------------------------- */

#define NS_PER_S 1000000000LL
/* |seconds| that fit in int64 nanoseconds */
#define MAX_SECONDS 9223372035LL

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s into *v. */
static int digits(const char *s, size_t n, int64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* ".123" at s[*i]: nanoseconds, advancing *i. */
static int fraction(const char *s, size_t len, size_t *i, int64_t *ns)
{
	size_t n = 0;

	*ns = 0;
	if (*i >= len || s[*i] != '.')
		return 0;
	(*i)++;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		if (n < 9) {
			*ns = *ns * 10 + (s[*i] - '0');
			n++;
		}
		(*i)++;
	}
	if (n == 0)
		return -1;
	for (; n < 9; n++)
		*ns *= 10;
	return 0;
}

static int rfc3339(const char *s, size_t len, int64_t *out)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
		31, 30, 31 };
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0, secs;
	size_t i = 10;

	if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &mo) || digits(s + 8, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -1;
	if (len > 10) {
		int64_t oh, om;

		if ((s[10] != 'T' && s[10] != 't') || len < 20 ||
		    s[13] != ':' || s[16] != ':' || digits(s + 11, 2, &h) ||
		    digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		i = 19;
		if (fraction(s, len, &i, &frac))
			return -1;
		if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
		    s[i + 3] == ':' && !digits(s + i + 1, 2, &oh) &&
		    !digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
			off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
			i += 6;
		} else {
			return -1;	/* RFC 3339 needs Z or an offset */
		}
	}
	if (i != len)
		return -1;
	secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - off;
	if (secs > MAX_SECONDS || secs < -MAX_SECONDS)
		return -1;
	*out = secs * NS_PER_S + frac;
	return 0;
}

int tm_expr_parse_abstime(const char *s, size_t len, int64_t *ns)
{
	size_t i = 0;
	int64_t secs = 0, frac;

	if (len >= 10 && s[4] == '-')
		return rfc3339(s, len, ns);
	/* Unix seconds */
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		secs = secs * 10 + (s[i] - '0');
		if (secs > MAX_SECONDS)
			return -1;
		i++;
	}
	if (i == 0 || fraction(s, len, &i, &frac) || i != len)
		return -1;
	*ns = secs * NS_PER_S + frac;
	return 0;
}

int tm_expr_parse_duration(const char *s, size_t len, int64_t *ns)
{
	size_t i = 0;
	int64_t total = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		int64_t n = 0, unit;
		size_t start = i;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			n = n * 10 + (s[i] - '0');
			if (n > MAX_SECONDS)
				return -1;
			i++;
		}
		if (i == start || i == len)
			return -1;	/* a number, then its unit */
		switch (s[i]) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		i++;
		if (n > MAX_SECONDS / unit)
			return -1;
		total += n * unit;
		if (total > MAX_SECONDS)
			return -1;
	}
	*ns = total * NS_PER_S;
	return 0;
}

void tm_expr_format_time(int64_t ns, char *buf, size_t len)
{
	int64_t secs = ns / NS_PER_S, frac = ns % NS_PER_S, days, rem;
	int64_t z, era, doe, yoe, y, doy, mp, d, m;
	char fbuf[16] = "";

	if (frac < 0) {
		frac += NS_PER_S;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (frac) {
		int n = 9;

		snprintf(fbuf, sizeof(fbuf), ".%09lld", (long long)frac);
		while (fbuf[n] == '0')
			fbuf[n--] = '\0';
	}
	snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld%sZ",
	    (long long)y, (long long)m, (long long)d, (long long)(rem / 3600),
	    (long long)(rem / 60 % 60), (long long)(rem % 60), fbuf);
}
