/*
 * `tm flows`: the whole pipeline up to the storage decision over a capture
 * file (decode, connections, classes, nDPI, cutoff), one flow record per
 * connection.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "decode.h"
#include "flow.h"
#include "ipfix.h"
#include "ndpi_glue.h"
#include "pcapfile.h"
#include "pcapread.h"
#include "tracker.h"
#include "flowstore.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm flows -r FILE [-c CONF] [--cutoff SIZE|none] [--json]\n"
	    "                [--ipfix HOST:PORT [--ipfix-tcp]]\n"
	    "       tm flows -s STORE [--json] [--nano] [EXPR]\n"
	    "Prints one flow record per connection of FILE (pcap or pcapng;\n"
	    "'-' reads standard input), through the connection table, the\n"
	    "classes and their cutoffs, and nDPI.\n"
	    "  -r FILE             the capture to read\n"
	    "  -s STORE            the flow records kept in a store (tm capture),\n"
	    "                      those EXPR selects (the query language)\n"
	    "  -c CONF             the configuration (YAML); without it one\n"
	    "                      class, 'default', cutoff 20k\n"
	    "  --cutoff SIZE|none  every class's cutoff (20k = 20480 bytes)\n"
	    "  --json              one JSON object per line\n"
	    "  --nano              times with 9 decimals (default 6)\n"
	    "  --no-ndpi           no application classification\n"
	    "  --max-conns N       connections.max\n"
	    "  --stats             counters on standard error at the end\n"
	    "  --check             check the configuration, print the classes,\n"
	    "                      and exit\n"
	    "  --ipfix HOST:PORT   also export the records over IPFIX (UDP) to\n"
	    "                      this collector (default: the configuration's\n"
	    "                      export.ipfix, if any; docs/ipfix.md)\n"
	    "  --ipfix-tcp         ... over TCP\n"
	    TM_CLI_PLUGIN_HELP);
}

struct out_ctx {
	FILE *out;
	int json, nano;
	struct tm_ipfix *ipfix;		/* NULL: no export */
};

static void write_flow(const struct tm_flow_rec *f, void *arg)
{
	struct out_ctx *o = arg;

	if (o->json)
		tm_flow_print_json(o->out, f, o->nano);
	else
		tm_flow_print_text(o->out, f, o->nano);
	if (o->ipfix)
		tm_ipfix_add(o->ipfix, f);
}

/* Ends the export; 0, or -1 (said on stderr) when records did not go. */
static int ipfix_end(struct tm_ipfix *x, int stats)
{
	struct tm_ipfix_stats st;
	int rc;

	if (!x)
		return 0;
	rc = tm_ipfix_flush(x);
	tm_ipfix_get_stats(x, &st);
	tm_ipfix_close(x);
	if (stats)
		fprintf(stderr, "ipfix_flows %llu\nipfix_skipped %llu\n"
		    "ipfix_records %llu\nipfix_lost %llu\nipfix_dropped %llu\n"
		    "ipfix_messages %llu\nipfix_bytes %llu\nipfix_errors %llu\n"
		    "ipfix_templates %llu\n",
		    (unsigned long long)st.flows, (unsigned long long)st.skipped,
		    (unsigned long long)st.records, (unsigned long long)st.lost,
		    (unsigned long long)st.dropped,
		    (unsigned long long)st.messages,
		    (unsigned long long)st.bytes, (unsigned long long)st.errors,
		    (unsigned long long)st.templates);
	if (rc || st.lost || st.dropped) {
		fprintf(stderr, "tm: ipfix: %llu of %llu records not sent%s%s\n",
		    (unsigned long long)(st.lost + st.dropped),
		    (unsigned long long)(st.records + st.lost + st.dropped),
		    st.last_error[0] ? ": " : "", st.last_error);
		return -1;
	}
	if (st.errors)
		fprintf(stderr, "tm: ipfix: warning: %s\n", st.last_error);
	return 0;
}

struct lazy_ndpi {
	struct tm_ndpi **ndpi;
	unsigned flows;
	int failed;
};

/* `app NAME` names are checked against nDPI's, even when nDPI will not
 * run (--no-ndpi, tm plan): the module is created on the first name. */
static int app_check(const char *name, void *arg)
{
	struct lazy_ndpi *l = arg;
	char err[256];

	if (!*l->ndpi && !l->failed) {
		*l->ndpi = tm_ndpi_new(l->flows, 0, err, sizeof(err));
		if (!*l->ndpi) {
			fprintf(stderr, "tm: %s\n", err);
			l->failed = 1;
		}
	}
	if (!*l->ndpi)
		return 0;	/* cannot check: accept */
	return tm_ndpi_known(*l->ndpi, name);
}

static void print_classes(const struct tm_config *cfg)
{
	const struct tm_classes *cs = &cfg->classes;

	printf("configuration: %s\n", cfg->file ? cfg->file : "(built-in)");
	for (size_t i = 0; i <= cs->n_order; i++) {
		const struct tm_class *c = &cs->v[i < cs->n_order ?
		    cs->order[i] : cs->dflt];
		char buf[1024];

		printf("class %s precedence %lld cutoff ", c->name,
		    (long long)c->precedence);
		if (c->cutoff == TM_CUTOFF_NONE)
			printf("none");
		else
			printf("%llu", (unsigned long long)c->cutoff);
		if (c->expr) {
			tm_expr_format(c->expr, buf, sizeof(buf));
			printf(" filter %s%s", buf, c->uses_app ?
			    " (waits for nDPI)" : "");
		} else {
			printf(" (what no other class matches)");
		}
		putchar('\n');
	}
}

int tm_flows_setup(const char *conf, const char *cutoff, int ndpi_mode,
    unsigned max_conns, struct tm_config *cfg, struct tm_ndpi **ndpi)
{
	struct lazy_ndpi lazy = { ndpi, 1, 0 };
	char err[1024];
	int run_ndpi;

	tm_config_defaults(cfg);
	*ndpi = NULL;
	if (conf && tm_config_load(cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		goto fail;
	}
	if (max_conns)
		cfg->conn.max = max_conns;
	run_ndpi = cfg->ndpi_enabled && ndpi_mode == TM_NDPI_CONFIG;
	lazy.flows = run_ndpi ? cfg->ndpi_max_flows : 1;
	if (run_ndpi) {
		*ndpi = tm_ndpi_new(cfg->ndpi_max_flows,
		    tm_config_ndpi_threads(cfg), err, sizeof(err));
		if (!*ndpi) {
			fprintf(stderr, "tm: %s\n", err);
			goto fail;
		}
	}
	if (tm_config_compile(cfg, app_check, &lazy, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		goto fail;
	}
	if (ndpi_mode == TM_NDPI_OFF && cfg->ndpi_enabled &&
	    cfg->classes.any_app)
		fprintf(stderr, "tm: warning: --no-ndpi: the classes that test "
		    "'app' will match nothing\n");
	if (!run_ndpi) {
		cfg->ndpi_enabled = 0;
		tm_ndpi_free(*ndpi);	/* only used to check names */
		*ndpi = NULL;
	}
	if (cutoff && tm_config_set_cutoff(cfg, cutoff, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		goto fail;
	}
	return 0;
fail:
	tm_ndpi_free(*ndpi);
	*ndpi = NULL;
	tm_config_free(cfg);
	return -1;
}

static void print_stats(struct tm_tracker *t)
{
	const struct tm_tracker_stats *s = tm_tracker_stats(t);
	const struct tm_conn_stats *c = tm_conntab_stats(tm_tracker_conns(t));
	struct rusage ru;

	memset(&ru, 0, sizeof(ru));
	getrusage(RUSAGE_SELF, &ru);

	fprintf(stderr,
	    "packets %llu\nbytes %llu\nstored_packets %llu\nstored_bytes %llu\n"
	    "connections %llu\nconnections_peak %llu\n"
	    "ended_fin %llu\nended_rst %llu\nended_timeout %llu\n"
	    "evicted %llu\nended_eof %llu\nport_reuse %llu\n"
	    "contexts_peak %llu\n"
	    "ndpi_flows %llu\nndpi_packets %llu\nndpi_detected %llu\n"
	    "ndpi_undetected %llu\nndpi_pool_full %llu\nndpi_reclaimed %llu\n"
	    "ndpi_busy_peak %llu\n"
	    "class_pending %llu\nclass_changed %llu\n"
	    "conn_entry_bytes %zu\nconn_table_bytes %zu\nmax_rss_kb %ld\n",
	    (unsigned long long)s->packets, (unsigned long long)s->bytes,
	    (unsigned long long)s->stored_pkts,
	    (unsigned long long)s->stored_bytes,
	    (unsigned long long)c->created, (unsigned long long)c->peak,
	    (unsigned long long)c->ended[TM_END_FIN],
	    (unsigned long long)c->ended[TM_END_RST],
	    (unsigned long long)c->ended[TM_END_TIMEOUT],
	    (unsigned long long)c->ended[TM_END_EVICTED],
	    (unsigned long long)c->ended[TM_END_EOF],
	    (unsigned long long)s->port_reuse,
	    (unsigned long long)c->contexts_peak,
	    (unsigned long long)s->ndpi_flows,
	    (unsigned long long)s->ndpi_packets,
	    (unsigned long long)s->ndpi_detected,
	    (unsigned long long)s->ndpi_undetected,
	    (unsigned long long)s->ndpi_pool_full,
	    (unsigned long long)s->ndpi_reclaimed,
	    (unsigned long long)s->ndpi_busy_peak,
	    (unsigned long long)s->pending,
	    (unsigned long long)s->reclassified,
	    sizeof(struct tm_conn), tm_conntab_memory(tm_tracker_conns(t)),
	    ru.ru_maxrss);
}

int tm_cmd_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "nano", no_argument, NULL, 'n' },
		{ "cutoff", required_argument, NULL, 'C' },
		{ "no-ndpi", no_argument, NULL, 'N' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "stats", no_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'K' },
		{ "ipfix", required_argument, NULL, 'I' },
		{ "ipfix-tcp", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static char outbuf[1 << 20];
	struct tm_cli_plugins plug = { 0 };
	struct tm_config cfg;
	struct tm_ndpi *ndpi = NULL;
	struct tm_registry *reg = NULL;
	struct tm_packet *pkt = NULL;
	struct tm_tracker *trk = NULL;
	struct tm_tracker_opts to;
	struct out_ctx oc = { stdout, 0, 0, NULL };
	const char *file = NULL, *conf = NULL, *cutoff = NULL, *store = NULL;
	const char *ipfix = NULL;
	int opt, rc = 0, no_ndpi = 0, stats = 0, check = 0, ipfix_tcp = 0;
	unsigned long max_conns = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frame = 0;
	char err[512];
	pcap_t *p = NULL;
	struct tm_pcapread *rd = NULL;
	uint16_t linktype;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:s:c:h", longopts, NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);
		char *end;

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 'r': file = optarg; break;
		case 's': store = optarg; break;
		case 'c': conf = optarg; break;
		case 'C': cutoff = optarg; break;
		case 'j': oc.json = 1; break;
		case 'n': oc.nano = 1; break;
		case 'N': no_ndpi = 1; break;
		case 'S': stats = 1; break;
		case 'K': check = 1; break;
		case 'I': ipfix = optarg; break;
		case 'T': ipfix_tcp = 1; break;
		case 'M':
			max_conns = strtoul(optarg, &end, 10);
			if (*end || max_conns < 1 || max_conns > 100000000) {
				fprintf(stderr, "tm: --max-conns: '%s' is not a "
				    "number from 1 to 100000000\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (ipfix_tcp && !ipfix && !conf) {
		fprintf(stderr, "tm: --ipfix-tcp needs --ipfix HOST:PORT\n");
		return 2;
	}
	if (store && !file && !check)
		return tm_flows_from_store(store, argc - optind, argv + optind,
		    oc.json, oc.nano);
	if ((!file && !check) || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (tm_flows_setup(conf, cutoff, no_ndpi ? TM_NDPI_OFF :
	    TM_NDPI_CONFIG, (unsigned)max_conns, &cfg, &ndpi))
		return 2;
	if (check) {
		print_classes(&cfg);
		goto out;
	}
	if (ipfix_tcp && !ipfix && !cfg.ipfix.collector) {
		fprintf(stderr, "tm: --ipfix-tcp: the configuration names no "
		    "collector (export.ipfix): give --ipfix HOST:PORT\n");
		rc = 2;
		goto out;
	}
	if (ipfix || cfg.ipfix.collector) {
		struct tm_ipfix_conf xc = cfg.ipfix;

		if (ipfix)
			xc.collector = (char *)ipfix;
		if (ipfix_tcp)
			xc.tcp = 1;
		oc.ipfix = tm_ipfix_open(&xc, err, sizeof(err));
		if (!oc.ipfix) {
			fprintf(stderr, "tm: --ipfix: %s\n", err);
			rc = 2;
			goto out;
		}
	}
	reg = malloc(sizeof(*reg));
	pkt = malloc(sizeof(*pkt));
	if (!reg || !pkt) {
		fprintf(stderr, "tm: out of memory\n");
		rc = 1;
		goto out;
	}
	if (tm_cli_setup(reg, &plug, 0)) {
		free(reg);
		reg = NULL;
		rc = 2;
		goto out;
	}
	memset(&to, 0, sizeof(to));
	to.conn = cfg.conn;
	to.ctx_mask = cfg.ctx_mask;
	to.classes = &cfg.classes;
	to.ndpi = ndpi;
	to.ndpi_max_packets = cfg.ndpi_max_packets;
	to.keep_control = cfg.keep_control;
	to.cid_seed = cfg.cid_seed;
	trk = tm_tracker_new(&to, write_flow, &oc, err, sizeof(err));
	if (!trk) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
		goto out;
	}
	p = tm_pcap_open_file(file);
	if (!p) {
		rc = 1;
		goto out;
	}
	linktype = tm_linktype_of(p);
	rd = tm_pcapread_open(file, p);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	for (;;) {
		struct tm_decision d;
		int r = tm_pcap_next(p, rd, &h, &data);

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			fflush(stdout);
			fprintf(stderr, "tm: %s: after frame %llu: %s\n", file,
			    (unsigned long long)frame, tm_pcap_geterr(p, rd));
			rc = 1;
			break;
		}
		frame++;
		tm_decode(reg, pkt, data, h->caplen, h->len, linktype);
		/* opened with nanosecond precision: tv_usec holds ns */
		tm_tracker_packet(trk, pkt, (int64_t)h->ts.tv_sec * 1000000000 +
		    (int64_t)h->ts.tv_usec, frame, &d);
	}
	tm_tracker_finish(trk);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("tm: standard output");
		rc = 1;
	}
	if (stats)
		print_stats(trk);
	if (ipfix_end(oc.ipfix, stats))
		rc = 1;
	oc.ipfix = NULL;
out:
	tm_ipfix_close(oc.ipfix);
	if (p)
		pcap_close(p);
	tm_pcapread_close(rd);
	tm_tracker_free(trk);
	if (reg) {
		tm_cli_teardown(reg);
		free(reg);
	}
	free(pkt);
	tm_ndpi_free(ndpi);
	tm_config_free(&cfg);
	return rc;
}
