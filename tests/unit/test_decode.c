/* The decode loop itself, driven by a scripted test dissector ("tctl",
 * bound to LINKTYPE_USER0: each layer reads one command byte) and by the
 * real modules: verdicts, the layer cap, the tunnel depth limit, DECLINE,
 * alternative values, narrowing, the gre.proto -> ethertype fallback and
 * the UDP port rule (lower port first, then the other). */
#include <string.h>
#include "tm_test.h"

#define LT_CTL		147	/* LINKTYPE_USER0 */
#define LT_UNBOUND	148	/* LINKTYPE_USER1: nothing bound */
#define LT_OTHER	149	/* LINKTYPE_USER2: "tother" */
#define PORT_LO		40000	/* udp.port: tctl */
#define PORT_HI		40001	/* udp.port: tother */

static struct tm_buf b;

static const char *const ctl_events[] = { "tctl.note", "tctl.bad" };

static enum tm_verdict ctl_decode(struct tm_cursor *c, struct tm_packet *pkt,
    struct tm_next *next)
{
	uint8_t cmd, n;
	uint16_t v;

	if (tm_get_u8(c, &cmd))
		return tm_fail(c);
	switch (cmd) {
	case 'L':			/* another tctl layer */
		return tm_next(next, TM_TABLE_LINKTYPE, LT_CTL);
	case 'A':			/* tctl, else tother */
		return tm_next2(next, TM_TABLE_LINKTYPE, LT_CTL, LT_OTHER);
	case 'B':			/* nobody, else tother */
		return tm_next2(next, TM_TABLE_LINKTYPE, LT_UNBOUND, LT_OTHER);
	case 'T':			/* a table that does not exist */
		next->table = TM_TABLE_COUNT;
		return TM_NEXT;
	case 'V':			/* a verdict that does not exist */
		return (enum tm_verdict)42;
	case 'P':			/* a tunnel, then another tctl */
		if (!tm_push_tunnel(pkt, TM_TUN_OTHER))
			return TM_DONE;
		return tm_next(next, TM_TABLE_LINKTYPE, LT_CTL);
	case 'D':
		return TM_DECLINE;
	case 'G':			/* gre.proto <16 bits> */
	case 'E':			/* ethertype <16 bits> */
		if (tm_get_be16(c, &v))
			return tm_fail(c);
		return tm_next(next, cmd == 'G' ? TM_TABLE_GRE_PROTO :
		    TM_TABLE_ETHERTYPE, v);
	case 'N':			/* narrow the next layer to <8 bits> */
		if (tm_get_u8(c, &n))
			return tm_fail(c);
		/* tm_narrow sets no c->err: the dissector says why */
		if (tm_narrow(c, next, n))
			return tm_malformed(pkt, 1);
		return tm_next(next, TM_TABLE_LINKTYPE, LT_CTL);
	case 'Z':			/* report the window in scratch */
		pkt->scratch = (uint32_t)tm_avail(c) << 16 |
		    tm_wire_remaining(c);
		return TM_DONE;
	case 'S':			/* a header longer than anything */
		if (tm_skip(c, 100000))
			return tm_fail(c);
		return TM_DONE;
	case 'I':			/* a note, then go on */
		tm_event(pkt, 0);
		return tm_next(next, TM_TABLE_LINKTYPE, LT_CTL);
	case 'M':
		return tm_malformed(pkt, 1);
	default:
		return TM_DONE;
	}
}

static enum tm_verdict other_decode(struct tm_cursor *c,
    struct tm_packet *pkt, struct tm_next *next)
{
	(void)c;
	(void)pkt;
	(void)next;
	return TM_DONE;
}

static const struct tm_binding ctl_bindings[] = {
	{ TM_TABLE_LINKTYPE, LT_CTL },
	{ TM_TABLE_UDP_PORT, PORT_LO },
};
static const struct tm_binding other_bindings[] = {
	{ TM_TABLE_LINKTYPE, LT_OTHER },
	{ TM_TABLE_UDP_PORT, PORT_HI },
};
static const struct tm_dissector ctl = {
	.abi = TM_DISSECTOR_ABI, .name = "tctl", .description = "test",
	.bindings = ctl_bindings, .n_bindings = TM_ARRAY_LEN(ctl_bindings),
	.events = ctl_events, .n_events = TM_ARRAY_LEN(ctl_events),
	.decode = ctl_decode,
};
static const struct tm_dissector other = {
	.abi = TM_DISSECTOR_ABI, .name = "tother", .description = "test",
	.bindings = other_bindings,
	.n_bindings = TM_ARRAY_LEN(other_bindings),
	.decode = other_decode,
};

static int setup(void **state)
{
	static const struct tm_dissector *const list[] = { &ctl, &other };
	static const struct tm_plugin pl =
	    TM_PLUGIN_INIT("testdecode", "1", list);

	(void)state;
	return tm_registry_add_plugin(tm_test_registry(), &pl, "test_decode",
	    NULL, 0);
}

static const struct tm_packet *run(const char *script)
{
	return tm_test_decode(script, strlen(script), LT_CTL);
}

static void test_nothing_bound(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = tm_test_decode("xyz", 3, LT_UNBOUND);
	assert_int_equal(p->n_layers, 0);
	assert_no_events(p);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->l3, TM_L3_NONE);
}

static void test_layers_and_offsets(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = run("LLx");
	assert_layers(p, "tctl/tctl/tctl");
	assert_int_equal(p->layers[1].offset, 1);
	assert_int_equal(p->layers[2].offset, 2);
	assert_no_events(p);
	assert_int_equal(p->flags, 0);
}

static void test_too_many_layers(void **state)
{
	const struct tm_packet *p;
	char s[64];

	(void)state;
	memset(s, 'L', 40);
	s[40] = '\0';
	p = run(s);
	assert_int_equal(p->n_layers, TM_MAX_LAYERS);
	assert_event(p, "decode.too_many_layers");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* exactly the cap is fine */
	memset(s, 'L', TM_MAX_LAYERS - 1);
	s[TM_MAX_LAYERS - 1] = 'x';
	s[TM_MAX_LAYERS] = '\0';
	p = run(s);
	assert_int_equal(p->n_layers, TM_MAX_LAYERS);
	assert_no_events(p);
}

static void test_bad_verdicts(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = run("LT");
	assert_event(p, "decode.bad_verdict");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_layers(p, "tctl/tctl");
	p = run("V");
	assert_event(p, "decode.bad_verdict");
	assert_true(p->flags & TM_PF_MALFORMED);
}

static void test_short_and_truncated(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = run("LS");
	assert_event(p, "tctl.too_short");
	assert_true(p->flags & TM_PF_MALFORMED);
	assert_false(p->flags & TM_PF_TRUNCATED);
	/* the same bytes, cut from a longer frame */
	p = tm_test_decode_cut("LS", 2, 200000, LT_CTL);
	assert_event(p, "tctl.truncated");
	assert_true(p->flags & TM_PF_TRUNCATED);
	assert_false(p->flags & TM_PF_MALFORMED);
	/* nothing of the layer captured */
	p = tm_test_decode_cut("LL", 1, 2, LT_CTL);
	assert_event(p, "tctl.truncated");
	assert_layers(p, "tctl/tctl");
}

static void test_malformed_and_events(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = run("LMx");
	assert_layers(p, "tctl/tctl");
	assert_event(p, "tctl.bad");
	assert_true(p->flags & TM_PF_MALFORMED);
	/* more events than the view keeps are counted */
	p = run("IIIIIIIIIIx");
	assert_int_equal(p->n_events, TM_MAX_EVENTS);
	assert_int_equal(p->n_events_lost, 10 - TM_MAX_EVENTS);
	assert_event(p, "tctl.note");
	assert_false(p->flags & TM_PF_MALFORMED);
}

static void test_depth_limit(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;

	(void)state;
	p = run("PPPx");
	assert_int_equal(p->n_tunnels, 3);
	assert_no_events(p);
	assert_false(p->flags & TM_PF_DEPTH);

	/* the default limit (8, and TM_MAX_TUNNELS entries) */
	p = run("PPPPPPPPPPPPx");
	assert_int_equal(p->n_tunnels, 8);
	assert_event(p, "decode.depth_exceeded");
	assert_true(p->flags & TM_PF_DEPTH);
	assert_false(p->flags & TM_PF_MALFORMED);

	/* --max-depth */
	r->max_depth = 2;
	p = run("PPPPx");
	assert_int_equal(p->n_tunnels, 2);
	assert_int_equal(p->depth, 2);
	assert_event(p, "decode.depth_exceeded");
	assert_layers(p, "tctl/tctl/tctl");
	r->max_depth = 0;
	p = run("Px");
	assert_int_equal(p->n_tunnels, 0);
	assert_event(p, "decode.depth_exceeded");
	/* beyond TM_MAX_TUNNELS the view has no room: still stopped */
	r->max_depth = 100;
	p = run("PPPPPPPPPPPPx");
	assert_int_equal(p->n_tunnels, TM_MAX_TUNNELS);
	assert_event(p, "decode.depth_exceeded");
	r->max_depth = saved;
}

static void test_depth_limit_ipip(void **state)
{
	struct tm_registry *r = tm_test_registry();
	unsigned saved = r->max_depth;
	const struct tm_packet *p;
	int i;

	(void)state;
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	for (i = 0; i < 4; i++)
		tb_ipv4(&b, "203.0.113.1", "203.0.113.2", 4,
		    (size_t)(3 - i) * 20 + 20 + 8);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->n_tunnels, 4);
	assert_no_events(p);
	r->max_depth = 2;
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_int_equal(p->n_tunnels, 2);
	assert_event(p, "decode.depth_exceeded");
	/* the layer that hit the limit is kept; the endpoints are those of
	 * the innermost IP layer that was entered */
	assert_layers(p, "eth/ipv4/ipv4/ipv4/ipv4");
	assert_addr(&p->src, "203.0.113.1");
	r->max_depth = saved;
}

static void test_decline(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* a declined layer is undone; nothing else to try: decoding ends */
	p = run("LD");
	assert_layers(p, "tctl");
	assert_no_events(p);
	assert_int_equal(p->flags, 0);
	/* declined first value: the alternative gets the same bytes */
	p = run("AD");
	assert_layers(p, "tctl/tother");
	assert_int_equal(p->layers[1].offset, 1);
	/* first value accepted: the alternative is not tried */
	p = run("Ax");
	assert_layers(p, "tctl/tctl");
	/* first value unbound: the alternative */
	p = run("B");
	assert_layers(p, "tctl/tother");
}

static void test_narrow(void **state)
{
	const struct tm_packet *p;

	(void)state;
	p = run("N\003Zabcdefgh");
	assert_layers(p, "tctl/tctl");
	/* 3 bytes left for the second layer, 1 consumed by its command */
	assert_int_equal(p->scratch, (2u << 16) | 2u);
	/* a narrowing beyond the wire is refused by tm_narrow */
	p = run("N\077Z");
	assert_event(p, "tctl.bad");
	assert_layers(p, "tctl");
	/* cut by the snap length inside the narrowed window */
	p = tm_test_decode_cut("N\005Zabcdefgh", 4, 11, LT_CTL);
	assert_int_equal(p->scratch, (1u << 16) | 4u);
}

static void test_ethertype_recorded(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* an unbound ethertype still names the payload */
	p = run("E\x88\xb5" "data");
	assert_layers(p, "tctl");
	assert_int_equal(p->ethertype, 0x88b5);
	assert_no_events(p);
}

static void test_gre_proto_fallback(void **state)
{
	struct tm_registry *r = tm_test_registry();
	const struct tm_packet *p;
	char err[256];

	(void)state;
	/* nothing holds gre.proto 0x0800: the ethertype table answers */
	assert_true(tm_registry_lookup(r, TM_TABLE_GRE_PROTO, 0x0800) < 0);
	tb_reset(&b);
	tb_bytes(&b, "G\x08\x00", 3);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_CTL);
	assert_layers(p, "tctl/ipv4/udp");
	assert_int_equal(p->ethertype, 0x0800);
	assert_no_events(p);

	/* a gre.proto binding wins over the ethertype one, and is no
	 * ethertype of the packet */
	assert_int_equal(tm_registry_bind(r, "tother", "gre.proto", "0x0800",
	    err, sizeof(err)), 0);
	p = tm_test_decode(b.b, b.n, LT_CTL);
	assert_layers(p, "tctl/tother");
	assert_int_equal(p->ethertype, 0);
	r->tables[TM_TABLE_GRE_PROTO][0x0800] = 0;

	/* neither table: the payload is terminal */
	p = run("G\x88\xb5" "data");
	assert_layers(p, "tctl");
	assert_no_events(p);
}

static void test_gre_real(void **state)
{
	const struct tm_packet *p;

	(void)state;
	if (tm_dissector_by_name(tm_test_registry(), "gre") < 0)
		skip();
	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 47, 4 + 20 + 8);
	tb_be16(&b, 0);
	tb_be16(&b, 0x0800);
	tb_ipv4(&b, "10.0.0.1", "10.0.0.2", 17, 8);
	tb_udp(&b, 1, 2, 0);
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/gre/ipv4/udp");
	assert_int_equal(p->ethertype, 0x0800);
	assert_int_equal(p->n_tunnels, 1);
	assert_addr(&p->src, "10.0.0.1");
}

static void udp_to(uint16_t sport, uint16_t dport, const char *payload)
{
	size_t n = strlen(payload);

	tb_reset(&b);
	tb_eth(&b, 0x0800);
	tb_ipv4(&b, "192.0.2.1", "192.0.2.2", 17, 8 + n);
	tb_udp(&b, sport, dport, n);
	tb_bytes(&b, payload, n);
}

static void test_udp_port_rule(void **state)
{
	const struct tm_packet *p;

	(void)state;
	/* the lower port first, whichever side holds it */
	udp_to(PORT_HI, PORT_LO, "x");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/tctl");
	udp_to(PORT_LO, PORT_HI, "x");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/tctl");
	/* the lower port's dissector declines: the other port's */
	udp_to(PORT_HI, PORT_LO, "D");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/tother");
	assert_int_equal(p->layers[3].offset, 42);
	/* nothing on the lower port: the other one */
	udp_to(PORT_HI, 1000, "x");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp/tother");
	/* declined with nothing else bound: plain UDP, view untouched */
	udp_to(PORT_LO, 50000, "D");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->sport, PORT_LO);
	assert_int_equal(p->dport, 50000);
	assert_false(p->flags & (TM_PF_MALFORMED | TM_PF_TRUNCATED));
}

static void test_decline_teredo(void **state)
{
	const struct tm_packet *p;

	(void)state;
	if (tm_dissector_by_name(tm_test_registry(), "teredo") < 0)
		skip();
	/* port 3544 carrying something that is not IPv6 */
	udp_to(3544, 50000, "not an IPv6 packet at all, just text");
	p = tm_test_decode(b.b, b.n, LT_ETHERNET);
	assert_layers(p, "eth/ipv4/udp");
	assert_no_events(p);
	assert_int_equal(p->n_tunnels, 0);
	assert_int_equal(p->l3, TM_L3_IPV4);
	assert_addr(&p->src, "192.0.2.1");
	assert_int_equal(p->dport, 50000);
	assert_int_equal(p->proto, 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_bound),
		cmocka_unit_test(test_layers_and_offsets),
		cmocka_unit_test(test_too_many_layers),
		cmocka_unit_test(test_bad_verdicts),
		cmocka_unit_test(test_short_and_truncated),
		cmocka_unit_test(test_malformed_and_events),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_depth_limit_ipip),
		cmocka_unit_test(test_decline),
		cmocka_unit_test(test_narrow),
		cmocka_unit_test(test_ethertype_recorded),
		cmocka_unit_test(test_gre_proto_fallback),
		cmocka_unit_test(test_gre_real),
		cmocka_unit_test(test_udp_port_rule),
		cmocka_unit_test(test_decline_teredo),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
