/* The configuration file: values, defaults, and every error with its
 * FILE:LINE:COLUMN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tm_test.h"
#include "config.h"

static char path[64];
static char err[1024];
static struct tm_config cfg;

/* Writes text to a fresh file, loads and compiles it: 0 or -1 (err). */
static int load(const char *text)
{
	FILE *f;
	int fd, rc;

	snprintf(path, sizeof(path), "/tmp/tm-test-config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	tm_config_free(&cfg);
	tm_config_defaults(&cfg);
	err[0] = '\0';
	rc = tm_config_load(&cfg, path, err, sizeof(err));
	if (rc == 0)
		rc = tm_config_compile(&cfg, NULL, NULL, err, sizeof(err));
	unlink(path);
	return rc;
}

/* The error must start with "<file>:<where>: " and contain what. */
static void assert_error(const char *text, const char *where,
    const char *what)
{
	char prefix[128];

	assert_int_equal(load(text), -1);
	snprintf(prefix, sizeof(prefix), "%s:%s: ", path, where);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
		fail_msg("expected '%s...%s', got '%s'", prefix, what, err);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(tm_parse_size("20k", 0, &v), 0);
	assert_int_equal(v, 20480);
	assert_int_equal(tm_parse_size("1m", 0, &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(tm_parse_size("2G", 0, &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(tm_parse_size("1t", 0, &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(tm_parse_size("1500", 0, &v), 0);
	assert_int_equal(v, 1500);
	assert_int_equal(tm_parse_size("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tm_parse_size("none", 1, &v), 0);
	assert_true(v == TM_CUTOFF_NONE);
	assert_int_equal(tm_parse_size("none", 0, &v), -1);
	assert_int_equal(tm_parse_size("20kb", 0, &v), -1);
	assert_int_equal(tm_parse_size("k", 0, &v), -1);
	assert_int_equal(tm_parse_size("-1", 0, &v), -1);
	assert_int_equal(tm_parse_size("1.5m", 0, &v), -1);
	assert_int_equal(tm_parse_size("", 0, &v), -1);
	assert_int_equal(tm_parse_size("99999999999999999999", 0, &v), -1);
	assert_int_equal(tm_parse_size("99999999999t", 0, &v), -1);
}

static void test_durations(void **state)
{
	int64_t ns;

	(void)state;
	assert_int_equal(tm_parse_duration("30s", &ns), 0);
	assert_int_equal(ns, 30000000000LL);
	assert_int_equal(tm_parse_duration("5m", &ns), 0);
	assert_int_equal(ns, 300000000000LL);
	assert_int_equal(tm_parse_duration("2h", &ns), 0);
	assert_int_equal(ns, 7200000000000LL);
	assert_int_equal(tm_parse_duration("1d", &ns), 0);
	assert_int_equal(tm_parse_duration("500ms", &ns), 0);
	assert_int_equal(ns, 500000000LL);
	assert_int_equal(tm_parse_duration("45", &ns), 0);
	assert_int_equal(ns, 45000000000LL);
	assert_int_equal(tm_parse_duration("5 m", &ns), -1);
	assert_int_equal(tm_parse_duration("5min", &ns), -1);
	assert_int_equal(tm_parse_duration("m", &ns), -1);
	assert_int_equal(tm_parse_duration("-5s", &ns), -1);
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	assert_int_equal(cfg.conn.max, TM_CONFIG_DEFAULT_MAX);
	assert_int_equal(cfg.ctx_mask, TM_CTX_VLAN | TM_CTX_TUNNEL);
	assert_int_equal(cfg.ndpi_enabled, 1);
	assert_int_equal(cfg.ndpi_thread, 1);
	assert_int_equal(cfg.keep_control, 1);
	assert_int_equal(cfg.classes.n, 1);
	assert_string_equal(cfg.classes.v[0].name, "default");
	assert_int_equal(cfg.classes.v[0].cutoff, 20480);
	assert_null(cfg.classes.v[0].expr);
}

static const char full[] =
    "# every key\n"
    "connections:\n"
    "  max: 5000\n"
    "  context: vlan\n"
    "  timeouts:\n"
    "    tcp: 10m\n"
    "    tcp_closing: 2s\n"
    "    udp: 90s\n"
    "    icmp: 20s\n"
    "    other: 1h\n"
    "ndpi:\n"
    "  enabled: true\n"
    "  max_packets: 12\n"
    "  max_flows: 300\n"
    "  thread: false\n"
    "keep_control_packets: false\n"
    "community_id_seed: 7\n"
    "classes:\n"
    "  - name: web\n"
    "    filter: \"port 80 or port 443\"\n"
    "    precedence: 5\n"
    "    cutoff: 100k\n"
    "    snaplen: 1500\n"
    "    memory: 64m\n"
    "    disk: 2g\n"
    "  - name: bulk\n"
    "    filter: port 873\n"
    "    precedence: 5\n"
    "    cutoff: none\n"
    "  - name: dns\n"
    "    filter: app DNS\n"
    "    precedence: 10\n"
    "    cutoff: 0\n"
    "  - name: default\n"
    "    cutoff: 4k\n";

static void test_full(void **state)
{
	const struct tm_classes *cs = &cfg.classes;

	(void)state;
	assert_int_equal(load(full), 0);
	assert_int_equal(cfg.conn.max, 5000);
	assert_int_equal(cfg.ctx_mask, TM_CTX_VLAN);
	assert_int_equal(cfg.conn.timeout_ns[TM_TC_TCP], 600000000000LL);
	assert_int_equal(cfg.conn.timeout_ns[TM_TC_TCP_CLOSING], 2000000000LL);
	assert_int_equal(cfg.conn.timeout_ns[TM_TC_UDP], 90000000000LL);
	assert_int_equal(cfg.conn.timeout_ns[TM_TC_ICMP], 20000000000LL);
	assert_int_equal(cfg.conn.timeout_ns[TM_TC_OTHER], 3600000000000LL);
	assert_int_equal(cfg.ndpi_max_packets, 12);
	assert_int_equal(cfg.ndpi_max_flows, 300);
	assert_int_equal(cfg.ndpi_thread, 0);
	assert_int_equal(cfg.keep_control, 0);
	assert_int_equal(cfg.cid_seed, 7);
	assert_int_equal(cs->n, 4);
	assert_string_equal(cs->v[0].name, "web");
	assert_int_equal(cs->v[0].cutoff, 102400);
	assert_int_equal(cs->v[0].snaplen, 1500);
	assert_int_equal(cs->v[0].memory, 64ull << 20);
	assert_int_equal(cs->v[0].disk, 2ull << 30);
	assert_true(cs->v[1].cutoff == TM_CUTOFF_NONE);
	assert_int_equal(cs->v[2].cutoff, 0);
	assert_int_equal(cs->v[2].uses_app, 1);
	assert_int_equal(cs->any_app, 1);
	assert_int_equal(cs->dflt, 3);
	assert_int_equal(cs->v[3].cutoff, 4096);
	/* evaluation order: precedence, then file order */
	assert_int_equal(cs->n_order, 3);
	assert_int_equal(cs->order[0], 2);
	assert_int_equal(cs->order[1], 0);
	assert_int_equal(cs->order[2], 1);
}

static void test_context_values(void **state)
{
	(void)state;
	assert_int_equal(load("connections:\n  context: none\n"), 0);
	assert_int_equal(cfg.ctx_mask, 0);
	assert_int_equal(load("connections:\n  context: tunnel\n"), 0);
	assert_int_equal(cfg.ctx_mask, TM_CTX_TUNNEL);
	assert_int_equal(load("connections:\n  context: both\n"), 0);
	assert_int_equal(cfg.ctx_mask, TM_CTX_VLAN | TM_CTX_TUNNEL);
	assert_error("connections:\n  context: vlans\n", "2:12",
	    "'vlans' is not one of vlan, tunnel, both, none");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	assert_error("conections:\n  max: 5\n", "1:1",
	    "unknown key 'conections' in the configuration");
	assert_error("connections:\n  max: 5\n  maximum: 6\n", "3:3",
	    "unknown key 'maximum' in connections");
	assert_error("connections:\n  timeouts:\n    tcp_fin: 5s\n", "3:5",
	    "unknown key 'tcp_fin' in connections.timeouts");
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    cutof: 5k\n", "4:5", "unknown key 'cutof' in a class");
	assert_error("ndpi:\n  packets: 5\n", "2:3",
	    "unknown key 'packets' in ndpi");
}

static void test_repeated_key(void **state)
{
	(void)state;
	assert_error("connections:\n  max: 5\n  max: 6\n", "3:3",
	    "'max' given twice in connections (first at line 2)");
}

static void test_bad_sizes(void **state)
{
	(void)state;
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    cutoff: 20kb\n", "4:13", "cutoff: '20kb' is not a size");
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    disk: lots\n", "4:11", "disk: 'lots' is not a size");
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    memory: -5m\n", "4:13", "memory: '-5m' is not a size");
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    snaplen: 1m\n", "4:14", "snaplen: '1m' is not a size");
	assert_error("connections:\n  max: 0\n", "2:8",
	    "connections.max: '0' is not a number");
	assert_error("ndpi:\n  max_packets: 300\n", "2:16",
	    "ndpi.max_packets: '300'");
}

static void test_bad_durations(void **state)
{
	(void)state;
	assert_error("connections:\n  timeouts:\n    udp: 1 minute\n", "3:10",
	    "timeouts.udp: '1 minute' is not a duration");
	assert_error("connections:\n  timeouts:\n    tcp: 0s\n", "3:10",
	    "timeouts.tcp: '0s' is not a duration");
}

static void test_bad_values(void **state)
{
	(void)state;
	assert_error("ndpi:\n  enabled: maybe\n", "2:12",
	    "ndpi.enabled: 'maybe' is not true or false");
	assert_error("keep_control_packets: 2\n", "1:23",
	    "keep_control_packets: '2' is not true or false");
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "    precedence: high\n", "4:17", "precedence: 'high'");
	assert_error("classes:\n  name: a\n", "2:3",
	    "classes: expected a list of classes, found a mapping");
	assert_error("connections: 5\n", "1:14",
	    "connections: expected a mapping, found a scalar");
	assert_error("classes:\n  - name: [a, b]\n", "2:11",
	    "name: expected a value, found a list");
	assert_error("classes:\n  - name: \"a b\"\n    filter: port 1\n", "2:11",
	    "class name 'a b'");
	assert_error("community_id_seed: 70000\n", "1:20",
	    "community_id_seed: '70000'");
}

static void test_classes_errors(void **state)
{
	(void)state;
	assert_error("classes:\n  - name: a\n    filter: port 1\n"
	    "  - name: b\n    filter: port 2\n  - name: a\n    filter: port 3\n",
	    "6:11", "duplicate class 'a' (first defined at line 2)");
	assert_error("classes:\n  - filter: port 1\n", "2:5",
	    "class without a name");
	assert_error("classes:\n  - name: web\n    cutoff: 1k\n", "2:5",
	    "class 'web' has no filter");
	assert_error("classes:\n  - name: default\n    filter: port 1\n", "2:5",
	    "the class 'default' takes what no other class matches");
}

static void test_bad_filters(void **state)
{
	(void)state;
	/* a plain scalar: the file column is the filter's column */
	assert_error("classes:\n  - name: web\n    filter: port abc\n",
	    "3:18", "class 'web': bad filter: column 6");
	/* quoted: one more for the quote */
	assert_error("classes:\n  - name: web\n    filter: \"host 10.0.0.1 and\"\n",
	    "3:31", "class 'web': bad filter: column 18");
	assert_error("classes:\n  - name: web\n    filter: 'tcp and (port 80'\n",
	    "3:30", "class 'web': bad filter: column 17");
	/* a block scalar: the position of its first line */
	assert_error("classes:\n  - name: web\n    filter: >\n      tcp and\n"
	    "      bogus 5\n", "4:13", "class 'web': bad filter: column");
	assert_error("classes:\n  - name: c\n    filter: class web\n",
	    "3:13", "a class filter cannot test 'class'");
	assert_error("ndpi:\n  enabled: false\nclasses:\n  - name: c\n"
	    "    filter: app TLS\n", "5:13",
	    "the filter tests 'app' but ndpi.enabled is false");
}

static void test_yaml_syntax(void **state)
{
	(void)state;
	assert_int_equal(load("classes:\n  - name: a\n   filter: [\n"), -1);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ":3:"));
	assert_error("connections:\n  max: 5\n---\nndpi:\n  enabled: true\n",
	    "4:1", "a second YAML document");
}

static void test_cutoff_override(void **state)
{
	(void)state;
	assert_int_equal(load(full), 0);
	assert_int_equal(tm_config_set_cutoff(&cfg, "1m", err, sizeof(err)), 0);
	for (size_t i = 0; i < cfg.classes.n; i++)
		assert_int_equal(cfg.classes.v[i].cutoff, 1048576);
	assert_int_equal(tm_config_set_cutoff(&cfg, "none", err, sizeof(err)),
	    0);
	assert_true(cfg.classes.v[0].cutoff == TM_CUTOFF_NONE);
	assert_int_equal(tm_config_set_cutoff(&cfg, "lots", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--cutoff: 'lots' is not a size"));
	/* without a file: the built-in default class */
	tm_config_free(&cfg);
	tm_config_defaults(&cfg);
	assert_int_equal(tm_config_compile(&cfg, NULL, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(tm_config_set_cutoff(&cfg, "5k", err, sizeof(err)), 0);
	assert_int_equal(cfg.classes.n, 1);
	assert_int_equal(cfg.classes.v[0].cutoff, 5120);
}

static void test_missing_file(void **state)
{
	(void)state;
	tm_config_free(&cfg);
	tm_config_defaults(&cfg);
	assert_int_equal(tm_config_load(&cfg, "/nonexistent/tm.yaml", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/tm.yaml: cannot open"));
}

static int teardown(void **state)
{
	(void)state;
	tm_config_free(&cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_context_values),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_repeated_key),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_classes_errors),
		cmocka_unit_test(test_bad_filters),
		cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_cutoff_override),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
