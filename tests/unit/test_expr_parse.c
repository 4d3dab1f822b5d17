/*
 * The expression language's parser: canonical forms (precedence, repeated
 * values, qualifiers, every predicate), round trips, time values, and every
 * syntax error with its column and message.
 */
#include <string.h>

#include "../../query/expr.h"
#include "tm_test.h"

/* 2026-11-26T12:00:00Z */
#define NOW_S 1795694400LL
#define NOW_NS (NOW_S * 1000000000LL)

static const char *format(const struct tm_expr *e)
{
	static char buf[1024];

	tm_expr_format(e, buf, sizeof(buf));
	return buf;
}

static void expect_form(const struct tm_expr_opts *o, const char *text,
    const char *want)
{
	struct tm_expr_error err;
	struct tm_expr *e = tm_expr_compile(text, o, &err), *again;
	char first[1024];

	if (!e)
		fail_msg("'%s' did not compile: %s", text, err.msg);
	snprintf(first, sizeof(first), "%s", format(e));
	if (strcmp(first, want) != 0)
		fail_msg("'%s' -> '%s', want '%s'", text, first, want);
	/* the canonical form reads back to itself */
	again = tm_expr_compile(first, o, &err);
	if (!again)
		fail_msg("canonical '%s' did not compile: %s", first, err.msg);
	assert_string_equal(format(again), first);
	tm_expr_free(again);
	tm_expr_free(e);
}

static void expect_error(const struct tm_expr_opts *o, const char *text,
    int col, const char *msg)
{
	struct tm_expr_error err;
	struct tm_expr *e = tm_expr_compile(text, o, &err);

	if (e) {
		fail_msg("'%s' compiled to '%s', want an error", text,
		    format(e));
	}
	if (err.column != col || strcmp(err.msg, msg) != 0)
		fail_msg("'%s':\n got %d '%s'\nwant %d '%s'", text, err.column,
		    err.msg, col, msg);
}

static void test_empty(void **state)
{
	struct tm_packet pkt;
	struct tm_expr *e;

	(void)state;
	memset(&pkt, 0, sizeof(pkt));
	e = tm_expr_compile("", NULL, NULL);
	assert_non_null(e);
	assert_string_equal(format(e), "");
	assert_int_equal(tm_expr_eval(e, &pkt, NULL), TM_EXPR_TRUE);
	tm_expr_free(e);
	e = tm_expr_compile(" \t\n ", NULL, NULL);
	assert_non_null(e);
	assert_int_equal(tm_expr_eval(e, &pkt, NULL), TM_EXPR_TRUE);
	tm_expr_free(e);
	e = tm_expr_compile(NULL, NULL, NULL);
	assert_non_null(e);
	tm_expr_free(e);
	tm_expr_free(NULL);
}

static void test_precedence(void **state)
{
	(void)state;
	expect_form(NULL, "port 1 or port 2 and port 3",
	    "(port 1 or (port 2 and port 3))");
	expect_form(NULL, "port 1 and port 2 or port 3",
	    "((port 1 and port 2) or port 3)");
	expect_form(NULL, "not port 1 and port 2", "(not port 1 and port 2)");
	expect_form(NULL, "!port 1 || port 2 && port 3",
	    "(not port 1 or (port 2 and port 3))");
	expect_form(NULL, "not (port 1 or port 2)", "not (port 1 or port 2)");
	/* double negation folds away (also in Kleene logic) */
	expect_form(NULL, "not not port 1", "port 1");
	expect_form(NULL, "not not not port 1", "not port 1");
	expect_form(NULL, "! ! port 1", "port 1");
	expect_form(NULL, "port 1 and port 2 and port 3",
	    "(port 1 and port 2 and port 3)");
	expect_form(NULL, "port 1 or port 2 or port 3 and not port 4",
	    "(port 1 or port 2 or (port 3 and not port 4))");
	expect_form(NULL, "((port 1))", "port 1");
	expect_form(NULL, "(port 1 or port 2) and (port 3 or port 4)",
	    "((port 1 or port 2) and (port 3 or port 4))");
	expect_form(NULL, "port 1&&port 2||!(port 3)",
	    "((port 1 and port 2) or not port 3)");
	expect_form(NULL, "HOST 10.0.0.1 AND Port 80 Or NOT tcp",
	    "((host 10.0.0.1 and port 80) or not proto tcp)");
}

static void test_addresses(void **state)
{
	(void)state;
	expect_form(NULL, "host 10.0.0.1", "host 10.0.0.1");
	expect_form(NULL, "src host 10.0.0.1", "src host 10.0.0.1");
	expect_form(NULL, "dst host 10.0.0.1", "dst host 10.0.0.1");
	expect_form(NULL, "src or dst host 10.0.0.1", "host 10.0.0.1");
	expect_form(NULL, "src and dst net 10.0.0.0/8",
	    "src and dst net 10.0.0.0/8");
	expect_form(NULL, "dst and src net 10.0.0.0/8",
	    "src and dst net 10.0.0.0/8");
	expect_form(NULL, "net 10.0.0.1", "net 10.0.0.1/32");
	expect_form(NULL, "net 0.0.0.0/0", "net 0.0.0.0/0");
	expect_form(NULL, "host 2001:DB8::1", "host 2001:db8::1");
	expect_form(NULL, "net 2001:db8::/32", "net 2001:db8::/32");
	expect_form(NULL, "net ::/0", "net ::/0");
	expect_form(NULL, "src 10.0.0.1", "src host 10.0.0.1");
	expect_form(NULL, "dst 10.0.0.0/8", "dst net 10.0.0.0/8");
	expect_form(NULL, "outer 192.0.2.1", "outer host 192.0.2.1");
	expect_form(NULL, "any src 192.0.2.0/24", "any src net 192.0.2.0/24");
	expect_form(NULL, "inner host 10.0.0.1", "host 10.0.0.1");
	expect_form(NULL, "outer host 192.0.2.1 and tunnel gre",
	    "(outer host 192.0.2.1 and tunnel gre)");
	/* tcpdump's repetition of the last predicate */
	expect_form(NULL, "host 10.0.0.1 or 10.0.0.2",
	    "(host 10.0.0.1 or host 10.0.0.2)");
	expect_form(NULL, "src host 10.0.0.1 and not 10.0.0.2",
	    "(src host 10.0.0.1 and not src host 10.0.0.2)");
	expect_form(NULL, "outer net 10.0.0.0/8 or 2001:db8::/32",
	    "(outer net 10.0.0.0/8 or outer net 2001:db8::/32)");
}

static void test_ports_protos(void **state)
{
	(void)state;
	expect_form(NULL, "port 53", "port 53");
	expect_form(NULL, "port 0x35", "port 53");
	expect_form(NULL, "src port 53", "src port 53");
	expect_form(NULL, "port 80 or 443", "(port 80 or port 443)");
	expect_form(NULL, "portrange 1024-65535", "portrange 1024-65535");
	expect_form(NULL, "portrange 200-100", "portrange 100-200");
	expect_form(NULL, "dst portrange 1-1023", "dst portrange 1-1023");
	expect_form(NULL, "outer port 4789", "outer port 4789");
	expect_form(NULL, "any port 53", "any port 53");
	expect_form(NULL, "proto 6", "proto tcp");
	expect_form(NULL, "proto 253", "proto 253");
	expect_form(NULL, "proto icmpv6", "proto icmp6");
	expect_form(NULL, "proto GRE", "proto gre");
	expect_form(NULL, "proto esp or ah", "(proto esp or proto ah)");
	expect_form(NULL, "outer proto gre", "outer proto gre");
	expect_form(NULL, "tcp", "proto tcp");
	expect_form(NULL, "udp or sctp or icmp or icmp6 or esp or ah",
	    "(proto udp or proto sctp or proto icmp or proto icmp6 or "
	    "proto esp or proto ah)");
	expect_form(NULL, "tcp port 80", "(proto tcp and port 80)");
	expect_form(NULL, "tcp dst port 80", "(proto tcp and dst port 80)");
	expect_form(NULL, "outer udp port 4789",
	    "(outer proto udp and outer port 4789)");
	expect_form(NULL, "ip host 10.0.0.1", "(ip and host 10.0.0.1)");
	expect_form(NULL, "arp src 10.0.0.1", "(arp and src host 10.0.0.1)");
	expect_form(NULL, "ip", "ip");
	expect_form(NULL, "any ip6", "any ip6");
	expect_form(NULL, "outer arp", "outer arp");
}

static void test_context_predicates(void **state)
{
	(void)state;
	expect_form(NULL, "spi 0x1234", "spi 0x1234");
	expect_form(NULL, "spi 4660", "spi 0x1234");
	expect_form(NULL, "spi 0xffffffff", "spi 0xffffffff");
	expect_form(NULL, "vlan 100", "vlan 100");
	expect_form(NULL, "vlan", "vlan");
	expect_form(NULL, "vlan and port 1", "(vlan and port 1)");
	expect_form(NULL, "vlan 100 or 200", "(vlan 100 or vlan 200)");
	expect_form(NULL, "(vlan)", "vlan");
	expect_form(NULL, "tunnel any", "tunnel any");
	expect_form(NULL, "tunnel", "tunnel any");
	expect_form(NULL, "tunnel and port 1", "(tunnel any and port 1)");
	expect_form(NULL, "tunnel GRE", "tunnel gre");
	expect_form(NULL, "tunnel etherip", "tunnel etherip");
	expect_form(NULL, "tunnel \"My Tunnel\"", "tunnel \"my tunnel\"");
	expect_form(NULL, "tunnel \"any\"", "tunnel \"any\"");
	expect_form(NULL, "tunnel l2tp or mpls or pppoe or erspan",
	    "(tunnel l2tp or tunnel mpls or tunnel pppoe or tunnel erspan)");
	expect_form(NULL, "tunnel vxlan or gre",
	    "(tunnel vxlan or tunnel gre)");
	expect_form(NULL, "tunnel vxlan or gre key 5",
	    "(tunnel vxlan or gre key 5)");
	expect_form(NULL, "gre key 0x10", "gre key 16");
	expect_form(NULL, "gre key 1 or 2", "(gre key 1 or gre key 2)");
	expect_form(NULL, "l2tp session 7", "l2tp session 7");
	expect_form(NULL, "l2tp tunnel 3", "l2tp tunnel 3");
	expect_form(NULL, "l2tp tunnel 3 or 4",
	    "(l2tp tunnel 3 or l2tp tunnel 4)");
	expect_form(NULL, "pppoe session 1", "pppoe session 1");
	expect_form(NULL, "erspan session 1023", "erspan session 1023");
	expect_form(NULL, "mpls label 16", "mpls label 16");
	expect_form(NULL, "vni 5000", "vni 5000");
	expect_form(NULL, "teid 0xdeadbeef", "teid 3735928559");
	expect_form(NULL, "app TLS", "app TLS");
	expect_form(NULL, "app tls or dns", "(app tls or app dns)");
	expect_form(NULL, "app \"and\"", "app \"and\"");
	expect_form(NULL, "app ah", "app \"ah\"");
	expect_form(NULL, "class bulk", "class bulk");
	expect_form(NULL, "class \"bulk data\"", "class \"bulk data\"");
	expect_form(NULL, "class \"say \\\"hi\\\"\"",
	    "class \"say \\\"hi\\\"\"");
	expect_form(NULL, "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=",
	    "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=");
	expect_form(NULL, "community_id \"1:wCb3OG7yAFWelaUydu0D+125CLM=\"",
	    "community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=");
}

static void test_times(void **state)
{
	struct tm_expr_opts o = { .flags = TM_EXPR_ALLOW_TIME,
		.now_ns = NOW_NS };

	(void)state;
	expect_form(&o, "after 2026-11-26T10:00:00Z",
	    "after 2026-11-26T10:00:00Z");
	expect_form(&o, "after 2026-11-26t10:00:00z",
	    "after 2026-11-26T10:00:00Z");
	expect_form(&o, "before 1764150000", "before 2025-11-26T09:40:00Z");
	expect_form(&o, "before 1764150000.25",
	    "before 2025-11-26T09:40:00.25Z");
	expect_form(&o, "after 10m ago", "after 2026-11-26T11:50:00Z");
	expect_form(&o, "before 1h30m ago", "before 2026-11-26T10:30:00Z");
	expect_form(&o, "last 1h", "after 2026-11-26T11:00:00Z");
	expect_form(&o, "last 2d", "after 2026-11-24T12:00:00Z");
	expect_form(&o, "last 1w", "after 2026-11-19T12:00:00Z");
	expect_form(&o, "last 30s", "after 2026-11-26T11:59:30Z");
	expect_form(&o, "after now", "after 2026-11-26T12:00:00Z");
	expect_form(&o, "after 2026-11-26T10:00:00.5+01:00",
	    "after 2026-11-26T09:00:00.5Z");
	expect_form(&o, "after 2026-11-26T10:00:00-02:30",
	    "after 2026-11-26T12:30:00Z");
	expect_form(&o, "after 2026-11-26", "after 2026-11-26T00:00:00Z");
	expect_form(&o, "after 2024-02-29T23:59:59.123456789Z",
	    "after 2024-02-29T23:59:59.123456789Z");
	expect_form(&o, "after 1969-12-31T23:59:59Z",
	    "after 1969-12-31T23:59:59Z");
	expect_form(&o, "after 2026-11-26T10:00:00Z and before "
	    "2026-11-26T11:00:00Z and host 10.0.0.1",
	    "(after 2026-11-26T10:00:00Z and before 2026-11-26T11:00:00Z and "
	    "host 10.0.0.1)");
}

static void test_time_range(void **state)
{
	struct tm_expr_opts o = { .flags = TM_EXPR_ALLOW_TIME,
		.now_ns = NOW_NS };
	static const struct {
		const char *text;
		int64_t from, until;
	} cases[] = {
		{ "port 80", INT64_MIN, INT64_MAX },
		{ "after 100", 100000000000LL, INT64_MAX },
		{ "before 100", INT64_MIN, 100000000000LL },
		{ "after 100 and before 200 and port 80", 100000000000LL,
		  200000000000LL },
		{ "after 100 or before 200", INT64_MIN, INT64_MAX },
		{ "(after 100 and before 200) or (after 300 and before 400)",
		  100000000000LL, 400000000000LL },
		{ "(after 100 and before 200) or port 80", INT64_MIN,
		  INT64_MAX },
		{ "not after 100", INT64_MIN, 100000000000LL },
		{ "not before 100", 100000000000LL, INT64_MAX },
		{ "not (after 100 and port 80)", INT64_MIN, INT64_MAX },
		{ "last 1h", NOW_NS - 3600000000000LL, INT64_MAX },
		{ "(after 300 and before 200) or (after 100 and before 150)",
		  100000000000LL, 150000000000LL },
	};

	(void)state;
	for (size_t i = 0; i < TM_ARRAY_LEN(cases); i++) {
		struct tm_expr_error err;
		struct tm_expr *e = tm_expr_compile(cases[i].text, &o, &err);
		int64_t from, until;

		if (!e)
			fail_msg("%s: %s", cases[i].text, err.msg);
		tm_expr_time_range(e, &from, &until);
		if (from != cases[i].from || until != cases[i].until)
			fail_msg("%s: [%lld, %lld)", cases[i].text,
			    (long long)from, (long long)until);
		tm_expr_free(e);
	}
	/* never true: empty range */
	{
		struct tm_expr *e = tm_expr_compile("after 300 and before 200",
		    &o, NULL);
		int64_t from, until;

		tm_expr_time_range(e, &from, &until);
		assert_true(from >= until);
		tm_expr_free(e);
	}
}

static void test_errors(void **state)
{
	char deep[1024];
	size_t n = 0;

	(void)state;
	expect_error(NULL, "port abc", 6,
	    "column 6: expected a port number after 'port', got 'abc'");
	expect_error(NULL, "tcp and port abc", 14,
	    "column 14: expected a port number after 'port', got 'abc'");
	expect_error(NULL, "port", 5,
	    "column 5: expected a port number after 'port', got end of input");
	expect_error(NULL, "port 70000", 6,
	    "column 6: port '70000' is out of range (0-65535)");
	expect_error(NULL, "port -1", 6,
	    "column 6: expected a port number after 'port', got '-1'");
	expect_error(NULL, "portrange 10", 11, "column 11: expected a port "
	    "range like 1024-65535 after 'portrange', got '10'");
	expect_error(NULL, "portrange 10-x", 11, "column 11: expected a port "
	    "range like 1024-65535 after 'portrange', got '10-x'");
	expect_error(NULL, "portrange 1-70000", 11,
	    "column 11: port '1-70000' is out of range (0-65535)");
	expect_error(NULL, "host", 5, "column 5: expected an IPv4 or IPv6 "
	    "address after 'host', got end of input");
	expect_error(NULL, "host 10.0.0.256", 6, "column 6: expected an IPv4 "
	    "or IPv6 address after 'host', got '10.0.0.256'");
	expect_error(NULL, "host example.com", 6, "column 6: expected an IPv4 "
	    "or IPv6 address after 'host', got 'example.com'");
	expect_error(NULL, "host 10.0.0.0/8", 6, "column 6: 'host' takes an "
	    "address, not the prefix '10.0.0.0/8': use 'net'");
	expect_error(NULL, "net 10.0.0.1/8", 5, "column 5: '10.0.0.1/8' has "
	    "bits set beyond its /8 prefix (did you mean 10.0.0.0/8?)");
	expect_error(NULL, "net 2001:db8::1/32", 5, "column 5: "
	    "'2001:db8::1/32' has bits set beyond its /32 prefix (did you "
	    "mean 2001:db8::/32?)");
	expect_error(NULL, "net 10.0.0.0/33", 5, "column 5: bad prefix length "
	    "in '10.0.0.0/33' (IPv4: 0-32, IPv6: 0-128)");
	expect_error(NULL, "net ::/129", 5, "column 5: bad prefix length in "
	    "'::/129' (IPv4: 0-32, IPv6: 0-128)");
	expect_error(NULL, "net 10.0.0.0/0x8", 5, "column 5: bad prefix "
	    "length in '10.0.0.0/0x8' (IPv4: 0-32, IPv6: 0-128)");
	expect_error(NULL, "net 10.0.0.0/", 5, "column 5: bad prefix length "
	    "in '10.0.0.0/' (IPv4: 0-32, IPv6: 0-128)");
	expect_error(NULL, "net foo", 5, "column 5: expected an address or "
	    "CIDR prefix after 'net', got 'foo'");
	expect_error(NULL, "src foo", 5, "column 5: expected an IPv4 or IPv6 "
	    "address after 'src', got 'foo'");
	expect_error(NULL, "proto foo", 7, "column 7: expected a protocol name "
	    "or number (0-255) after 'proto', got 'foo'");
	expect_error(NULL, "proto 256", 7,
	    "column 7: protocol number '256' is out of range (0-255)");
	expect_error(NULL, "spi xyz", 5, "column 5: expected an SPI (decimal "
	    "or 0x hex) after 'spi', got 'xyz'");
	expect_error(NULL, "spi 0x100000000", 5,
	    "column 5: SPI '0x100000000' is out of range (0-4294967295)");
	expect_error(NULL, "vlan 4096", 6,
	    "column 6: VLAN id '4096' is out of range (0-4095)");
	expect_error(NULL, "vlan abc", 6, "column 6: expected a VLAN id "
	    "(decimal or 0x hex) after 'vlan', got 'abc'");
	expect_error(NULL, "tunnel (", 8, "column 8: expected a tunnel type "
	    "(gre, pptp, erspan, l2tp, ipip, vxlan, geneve, gtp, teredo, mpls, "
	    "pppoe, a plugin's name, or any) after 'tunnel', got '('");
	expect_error(NULL, "gre 5", 5, "column 5: expected 'key' after 'gre' "
	    "(a GRE tunnel is 'tunnel gre', the IP protocol 'proto gre'), got "
	    "'5'");
	expect_error(NULL, "gre", 4, "column 4: expected 'key' after 'gre' "
	    "(a GRE tunnel is 'tunnel gre', the IP protocol 'proto gre'), got "
	    "end of input");
	expect_error(NULL, "gre key x", 9, "column 9: expected a GRE key "
	    "(decimal or 0x hex) after 'gre key', got 'x'");
	expect_error(NULL, "l2tp 5", 6, "column 6: expected 'tunnel' or "
	    "'session' after 'l2tp' (any L2TP tunnel is 'tunnel l2tp'), got "
	    "'5'");
	expect_error(NULL, "l2tp session x", 14, "column 14: expected an L2TP "
	    "session id (decimal or 0x hex) after 'l2tp session', got 'x'");
	expect_error(NULL, "mpls 5", 6, "column 6: expected 'label' after "
	    "'mpls' (the tunnel itself is 'tunnel mpls'), got '5'");
	expect_error(NULL, "mpls label 1048576", 12, "column 12: MPLS label "
	    "'1048576' is out of range (0-1048575)");
	expect_error(NULL, "pppoe session 65536", 15, "column 15: PPPoE "
	    "session id '65536' is out of range (0-65535)");
	expect_error(NULL, "erspan session 1024", 16, "column 16: ERSPAN "
	    "session id '1024' is out of range (0-1023)");
	expect_error(NULL, "vni 16777216", 5,
	    "column 5: VNI '16777216' is out of range (0-16777215)");
	expect_error(NULL, "teid", 5, "column 5: expected a TEID (decimal or "
	    "0x hex) after 'teid', got end of input");
	expect_error(NULL, "app", 4, "column 4: expected an application name "
	    "(TLS, DNS, ...) after 'app', got end of input");
	expect_error(NULL, "app and port 1", 5, "column 5: expected an "
	    "application name (TLS, DNS, ...) after 'app', got 'and'");
	expect_error(NULL, "app \"\"", 5, "column 5: expected an application "
	    "name (TLS, DNS, ...) after 'app', got '\"\"'");
	expect_error(NULL, "class", 6,
	    "column 6: expected a class name after 'class', got end of input");
	expect_error(NULL, "community_id foo", 14, "column 14: expected a "
	    "Community ID (1: and 28 base64 characters) after 'community_id', "
	    "got 'foo'");
	expect_error(NULL, "community_id (", 14, "column 14: expected a "
	    "Community ID (1: and 28 base64 characters) after 'community_id', "
	    "got '('");
	expect_error(NULL, "outer vlan 5", 1, "column 1: 'outer' does not "
	    "apply to 'vlan': it qualifies host, net, port, portrange, proto, "
	    "ip, ip6 and arp");
	expect_error(NULL, "any app tls", 1, "column 1: 'any' does not apply "
	    "to 'app': it qualifies host, net, port, portrange, proto, ip, ip6 "
	    "and arp");
	expect_error(NULL, "outer (", 7,
	    "column 7: expected a predicate after 'outer', got '('");
	expect_error(NULL, "src proto tcp", 5, "column 5: expected host, net, "
	    "port or portrange after 'src', got 'proto'");
	expect_error(NULL, "src", 4, "column 4: expected host, net, port or "
	    "portrange after 'src', got end of input");
	expect_error(NULL, "foo", 1, "column 1: expected a predicate (host, "
	    "net, port, portrange, proto, ip, ip6, arp, spi, vlan, tunnel, "
	    "app, class, ...), got 'foo'");
	expect_error(NULL, "port 80 port 81", 9, "column 9: expected 'and', "
	    "'or' or end of input, got 'port'");
	expect_error(NULL, "(port 80", 9, "column 9: expected ')' to close the "
	    "'(' at column 1, got end of input");
	expect_error(NULL, "port 80 and ((port 81)", 23, "column 23: expected "
	    "')' to close the '(' at column 13, got end of input");
	expect_error(NULL, "port 80)", 8,
	    "column 8: unbalanced ')': no '(' to close");
	expect_error(NULL, "()", 2, "column 2: expected a predicate (host, "
	    "net, port, portrange, proto, ip, ip6, arp, spi, vlan, tunnel, "
	    "app, class, ...), got ')'");
	expect_error(NULL, "port 80 and", 12, "column 12: expected a predicate "
	    "(host, net, port, portrange, proto, ip, ip6, arp, spi, vlan, "
	    "tunnel, app, class, ...), got end of input");
	expect_error(NULL, "and port 80", 1, "column 1: expected a predicate "
	    "(host, net, port, portrange, proto, ip, ip6, arp, spi, vlan, "
	    "tunnel, app, class, ...), got 'and'");
	expect_error(NULL, "not", 4, "column 4: expected a predicate (host, "
	    "net, port, portrange, proto, ip, ip6, arp, spi, vlan, tunnel, "
	    "app, class, ...), got end of input");
	expect_error(NULL, "port 80 & port 81", 9,
	    "column 9: expected '&&', got a single '&'");
	expect_error(NULL, "port 80 | port 81", 9,
	    "column 9: expected '||', got a single '|'");
	expect_error(NULL, "app \"tls", 5, "column 5: unterminated string");
	expect_error(NULL, "port 80\x01", 8,
	    "column 8: unexpected character 0x01");
	expect_error(NULL, "host 10.0.0.1 and "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 19,
	    "column 19: expected an IPv4 or IPv6 address after 'host', got "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	/* nesting limits: ( and not */
	for (n = 0; n < 250; n++)
		deep[n] = '(';
	deep[n] = '\0';
	expect_error(NULL, deep, 201,
	    "column 201: expression nested too deeply (more than 200 levels)");
	n = 0;
	for (int i = 0; i < 250; i++)
		deep[n++] = '!';
	memcpy(deep + n, "port 1", 7);
	expect_error(NULL, deep, 201,
	    "column 201: expression nested too deeply (more than 200 levels)");
	/* err may be NULL */
	assert_null(tm_expr_compile("port abc", NULL, NULL));
}

static void test_time_errors(void **state)
{
	struct tm_expr_opts o = { .flags = TM_EXPR_ALLOW_TIME,
		.now_ns = NOW_NS };
	const char *const want = "expected a time (RFC 3339 like "
	    "2026-11-26T10:00:00Z, Unix seconds, or 10m ago) after ";
	char msg[256];

	(void)state;
	/* class filters (the default) take no time predicates */
	expect_error(NULL, "after 2026-11-26T10:00:00Z", 1, "column 1: 'after' "
	    "is a time predicate: queries take it, class filters do not");
	expect_error(NULL, "port 1 or last 1h", 11, "column 11: 'last' is a "
	    "time predicate: queries take it, class filters do not");
	snprintf(msg, sizeof(msg), "column 7: %s'after', got '5'", want);
	expect_error(&o, "after 5 years", 9, "column 9: expected 'and', 'or' "
	    "or end of input, got 'years'");
	snprintf(msg, sizeof(msg), "column 7: %s'after', got 'yesterday'",
	    want);
	expect_error(&o, "after yesterday", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'before', got end of input",
	    want);
	expect_error(&o, "before", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'after', got "
	    "'2026-13-01T00:00:00Z'", want);
	expect_error(&o, "after 2026-13-01T00:00:00Z", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'after', got "
	    "'2026-02-29T00:00:00Z'", want);
	expect_error(&o, "after 2026-02-29T00:00:00Z", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'after', got "
	    "'2026-11-26T10:00:00'", want);
	expect_error(&o, "after 2026-11-26T10:00:00", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'after', got "
	    "'2026-11-26T24:00:00Z'", want);
	expect_error(&o, "after 2026-11-26T24:00:00Z", 7, msg);
	snprintf(msg, sizeof(msg), "column 7: %s'after', got "
	    "'99999999999'", want);
	expect_error(&o, "after 99999999999", 7, msg);
	expect_error(&o, "after 10m", 10, "column 10: expected 'ago' after the "
	    "duration '10m', got end of input");
	expect_error(&o, "after xyz ago", 7, "column 7: expected a duration "
	    "like 10m or 2h30m before 'ago', got 'xyz'");
	expect_error(&o, "after 10 ago", 7, "column 7: expected a duration "
	    "like 10m or 2h30m before 'ago', got '10'");
	expect_error(&o, "last foo", 6, "column 6: expected a duration like 1h "
	    "or 30m after 'last', got 'foo'");
	expect_error(&o, "last 1y", 6, "column 6: expected a duration like 1h "
	    "or 30m after 'last', got '1y'");
	expect_error(&o, "last", 5, "column 5: expected a duration like 1h or "
	    "30m after 'last', got end of input");
}

static int known_app(const char *name, void *arg)
{
	static const char *const apps[] = { "TLS", "DNS", "Google", "HTTP" };

	(void)arg;
	for (size_t i = 0; i < TM_ARRAY_LEN(apps); i++)
		if (strcasecmp(name, apps[i]) == 0)
			return 0;
	return -1;
}

static int known_tunnel(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "etherip") == 0 ? 0 : -1;
}

static void test_name_checks(void **state)
{
	struct tm_expr_opts o = { .app_check = known_app,
		.tunnel_check = known_tunnel };

	(void)state;
	expect_form(&o, "app tls", "app tls");
	expect_form(&o, "app TLS.Google", "app TLS.Google");
	expect_error(&o, "app foo", 5, "column 5: unknown application 'foo'");
	expect_error(&o, "app tls or foo", 12,
	    "column 12: unknown application 'foo'");
	expect_error(&o, "app tls.foo", 5,
	    "column 5: unknown application 'tls.foo'");
	expect_error(&o, "app tls..dns", 5,
	    "column 5: unknown application 'tls..dns'");
	expect_form(&o, "tunnel etherip", "tunnel etherip");
	expect_form(&o, "tunnel gre", "tunnel gre");
	expect_error(&o, "tunnel foo", 8,
	    "column 8: unknown tunnel type 'foo'");
}

static void test_uses(void **state)
{
	struct tm_expr_opts o = { .flags = TM_EXPR_ALLOW_TIME };
	struct tm_expr *e;

	(void)state;
	e = tm_expr_compile("port 80 or host 10.0.0.1", NULL, NULL);
	assert_false(tm_expr_uses_app(e));
	assert_false(tm_expr_uses_class(e));
	assert_false(tm_expr_uses_community_id(e));
	assert_false(tm_expr_uses_time(e));
	tm_expr_free(e);
	e = tm_expr_compile("port 80 and not app tls", NULL, NULL);
	assert_true(tm_expr_uses_app(e));
	assert_false(tm_expr_uses_class(e));
	tm_expr_free(e);
	e = tm_expr_compile("(class bulk)", NULL, NULL);
	assert_false(tm_expr_uses_app(e));
	assert_true(tm_expr_uses_class(e));
	tm_expr_free(e);
	e = tm_expr_compile("community_id 1:wCb3OG7yAFWelaUydu0D+125CLM=", NULL,
	    NULL);
	assert_true(tm_expr_uses_community_id(e));
	tm_expr_free(e);
	e = tm_expr_compile("last 1h", &o, NULL);
	assert_true(tm_expr_uses_time(e));
	tm_expr_free(e);
}

static void test_format_truncates(void **state)
{
	struct tm_expr *e = tm_expr_compile("host 10.0.0.1 and port 80", NULL,
	    NULL);
	char buf[8];
	size_t n;

	(void)state;
	n = tm_expr_format(e, buf, sizeof(buf));
	assert_int_equal(n, strlen("(host 10.0.0.1 and port 80)"));
	assert_string_equal(buf, "(host 1");
	assert_int_equal(tm_expr_format(e, NULL, 0), n);
	tm_expr_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_ports_protos),
		cmocka_unit_test(test_context_predicates),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_time_range),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_time_errors),
		cmocka_unit_test(test_name_checks),
		cmocka_unit_test(test_uses),
		cmocka_unit_test(test_format_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
