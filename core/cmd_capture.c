/*
 * `tm capture -r FILE -s STORE`: reads a capture at full speed through
 * decode, connections, classes and cutoffs into a store (pcap segments,
 * sidecar indexes, flow records), and exits once everything is durable.
 *
 * `tm capture -i IFACE -s STORE`: the same from a live interface, around
 * the clock, answering the control socket (service.h) until SIGINT or
 * SIGTERM; SIGHUP reloads the classes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "decode.h"
#include "flow.h"
#include "ndpi_glue.h"
#include "ipfix.h"
#include "pcap_live.h"
#include "pcapfile.h"
#include "pcapread.h"
#include "service.h"
#include "textfmt.h"
#include "tracker.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm capture -r FILE -s STORE [-c CONF] [--cutoff SIZE|none]\n"
	    "                  [--serve]\n"
	    "       tm capture -i IFACE -s STORE [-c CONF] [-u USER]\n"
	    "                  [--cutoff SIZE|none] [BPF FILTER]\n"
	    "Stores the packets that the classes and their cutoffs keep into\n"
	    "STORE: pcap segments per class with a sidecar index each, and\n"
	    "the flow records. Starting on an existing store continues it (a\n"
	    "segment left open by a crash is repaired). With -r, exits once\n"
	    "everything is synced and published; with -i, captures until\n"
	    "SIGINT or SIGTERM (then flushes everything), reloads the classes\n"
	    "on SIGHUP, and answers the control socket (STORE/tm.sock unless\n"
	    "configured: tm query --connect, tm stats, tm ctl).\n"
	    "  -r FILE             the capture to read ('-': standard input)\n"
	    "  -i IFACE            the interface to capture from\n"
	    "  -s STORE            the store directory (created if needed)\n"
	    "  -c CONF             the configuration (YAML); without it one\n"
	    "                      class, 'default', cutoff 20k\n"
	    "  -u USER             -i: become USER once the interface, store\n"
	    "                      and socket are open (capture.user)\n"
	    "  BPF FILTER          -i: a libpcap filter (capture.filter)\n"
	    "  --cutoff SIZE|none  every class's cutoff (20k = 20480 bytes)\n"
	    "  --no-ndpi           no application classification\n"
	    "  --max-conns N       connections.max\n"
	    "  --serve             -r: answer the control socket while reading\n"
	    "  --no-control        -i: no control socket\n"
	    "  -q, --quiet         no progress line and no summary\n"
	    TM_CLI_PLUGIN_HELP);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct progress {
	int on;
	double t0, last;
	uint64_t size;
	FILE *f;
	const struct tm_pcapread *rd;	/* reads the file instead of f */
};

static void show_progress(struct progress *pg, pcap_t *p, uint64_t frames,
    uint64_t stored, int final)
{
	double t = now_s();
	long long pos;

	if (!pg->on || (!final && t - pg->last < 0.25))
		return;
	pg->last = t;
	pos = pg->rd ? (long long)tm_pcapread_pos(pg->rd) :
	    pg->f ? (long long)ftello(pg->f) : -1;
	(void)p;
	fprintf(stderr, "\rtm capture: ");
	if (pg->size && pos >= 0)
		fprintf(stderr, "%5.1f%% ", 100.0 * (double)pos /
		    (double)pg->size);
	fprintf(stderr, "%" PRIu64 " packets, %.2f M/s, %" PRIu64 " stored  ",
	    frames, (double)frames / (t - pg->t0 > 0 ? t - pg->t0 : 1) / 1e6,
	    stored);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Times of the phases: start, input read, last flow records, durable;
 * the reading thread's CPU time at the end. */
struct phases {
	double t0, read, flows, end;
	double reader_cpu;
};

/* Connections (the table's limit holds: peak <= max) and decode events. */
static void summary_conns(struct tm_tracker *trk,
    const struct tm_svc_counters *cnt, const struct tm_registry *reg)
{
	const struct tm_conntab *ct = tm_tracker_conns(trk);
	const struct tm_conn_stats *cs = tm_conntab_stats(ct);
	int any = 0;

	printf("connections       %" PRIu64 " created, peak %" PRIu64
	    " (max %" PRIu32 "), %" PRIu64 " evicted\n", cs->created,
	    cs->peak, tm_conntab_max(ct), cs->ended[TM_END_EVICTED]);
	for (unsigned i = 0; i < TM_MAX_EVENT_IDS; i++) {
		const char *n;

		if (!cnt->events[i])
			continue;
		n = tm_event_name(reg, i);
		printf("%s%s %" PRIu64, any ? ", " : "events            ",
		    n ? n : "?", cnt->events[i]);
		any = 1;
	}
	if (any)
		putchar('\n');
}

static void summary(const struct tm_capture *cap, uint64_t frames,
    uint64_t in_bytes, uint64_t cut, const struct phases *ph,
    struct tm_tracker *trk, const struct tm_svc_counters *cnt,
    const struct tm_registry *reg, const struct tm_ndpi *ndpi)
{
	double secs = ph->end - ph->t0;
	struct tm_capture_stats st;
	char a[32], b[32], c[32];

	tm_capture_get_stats(cap, &st);
	tm_fmt_size(a, sizeof(a), in_bytes);
	printf("packets read      %" PRIu64 " (%s)\n", frames, a);
	printf("packets stored    %" PRIu64 "\n", st.packets);
	printf("packets cut off   %" PRIu64 "\n", cut);
	if (st.dropped)
		printf("packets dropped   %" PRIu64 "\n", st.dropped);
	tm_fmt_size(a, sizeof(a), st.pcap_bytes);
	tm_fmt_size(b, sizeof(b), st.idx_bytes);
	printf("segments          %" PRIu64 " published: %s, sidecars %s "
	    "(index/data %.2f%%)\n", st.segments, a, b, st.pcap_bytes ?
	    100.0 * (double)st.idx_bytes / (double)st.pcap_bytes : 0.0);
	if (st.deleted) {
		tm_fmt_size(a, sizeof(a), st.deleted_bytes);
		printf("budgets           %" PRIu64 " old segments deleted "
		    "(%s)\n", st.deleted, a);
	}
	tm_fmt_size(a, sizeof(a), st.flow_bytes);
	printf("flows             %" PRIu64 " records (%s)\n", st.flows, a);
	if (st.flows_dropped)
		printf("flows dropped     %" PRIu64 "\n", st.flows_dropped);
	summary_conns(trk, cnt, reg);
	for (size_t i = 0; i < tm_capture_n_classes(cap); i++) {
		struct tm_capture_class_stats cs;

		tm_capture_class_stats(cap, i, &cs);
		if (!cs.packets && !cs.segments && !cs.deleted)
			continue;
		tm_fmt_size(a, sizeof(a), cs.pcap_bytes);
		tm_fmt_size(b, sizeof(b), cs.idx_bytes);
		printf("class %-11s %" PRIu64 " packets, %" PRIu64
		    " segments, %s + %s index", cs.name, cs.packets,
		    cs.segments, a, b);
		if (cs.dropped)
			printf(", %" PRIu64 " dropped", cs.dropped);
		putchar('\n');
	}
	tm_fmt_size(a, sizeof(a), st.store_bytes);
	tm_fmt_size(c, sizeof(c), st.recovery.bytes);
	printf("store             %" PRIu64 " segments, %s\n",
	    st.store_segments, a);
	printf("restart           %" PRIu64 " segments (%s) found in %.3f s, "
	    "%" PRIu64 " repaired, %" PRIu64 " files removed\n",
	    st.recovery.segments, c, st.recovery.seconds, st.recovery.repaired,
	    st.recovery.removed);
	printf("time              %.2f s (%.0f packets/s): input read in "
	    "%.2f s, then the last flow records %.2f s, the last segments "
	    "synced and published %.2f s\n", secs, secs > 0 ?
	    (double)frames / secs : 0.0, ph->read - ph->t0,
	    ph->flows - ph->read, ph->end - ph->flows);
	/* where the time went: the stage whose CPU time is near the wall
	 * time is the one that sets it */
	printf("cpu               reading thread %.2f s, ", ph->reader_cpu);
	if (ndpi && tm_ndpi_threads(ndpi))
		printf("nDPI %.2f s on %u thread%s, ",
		    (double)tm_ndpi_cpu_ns(ndpi) / 1e9, tm_ndpi_threads(ndpi),
		    tm_ndpi_threads(ndpi) > 1 ? "s" : "");
	else if (ndpi)
		printf("nDPI in the reading thread, ");
	printf("writer %.2f s\n", (double)st.writer_cpu_ns / 1e9);
}

/* ---- the packets ---------------------------------------------------------- */

struct ingest {
	struct tm_registry *reg;
	struct tm_packet *pkt;
	struct tm_tracker *trk;
	struct tm_capture *cap;
	struct tm_svc_counters *cnt;
	uint16_t linktype;
	int nano;		/* tv_usec holds nanoseconds */
	uint64_t cut;
	int failed;		/* the writer failed */
	int64_t last_ts;
	/* frames a pcap segment cannot hold as they are (said at the end) */
	uint64_t empty;		/* caplen and len 0: not ingested */
	uint64_t bad_time;	/* before 1970 or from 2106 on: not ingested */
	uint64_t long_cap;	/* caplen > len: len raised to caplen */
	uint64_t first_odd;	/* the first not ingested (1-based) */
};

/* One frame: decode, connection, class, cutoff, store. No system call,
 * no allocation. */
static void ingest_one(struct ingest *g, const struct pcap_pkthdr *h,
    const u_char *data)
{
	struct tm_decision d;
	uint32_t len = h->len;
	int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 +
	    (int64_t)h->ts.tv_usec * (g->nano ? 1 : 1000);

	/* what a segment's record cannot hold (docs/storage.md): a frame
	 * with neither bytes nor length, a time outside 32-bit seconds; a
	 * captured length above the wire length means a frame at least
	 * that long */
	if ((h->caplen == 0 && len == 0) || ts < 0 ||
	    ts / 1000000000 > (int64_t)UINT32_MAX || h->caplen > len) {
		int empty = h->caplen == 0 && len == 0;

		if (empty || ts < 0 || ts / 1000000000 > (int64_t)UINT32_MAX) {
			if (!g->first_odd)
				g->first_odd = g->cnt->frames + g->empty +
				    g->bad_time + 1;
			if (empty)
				g->empty++;
			else
				g->bad_time++;
			return;
		}
		g->long_cap++;
		len = h->caplen;
	}
	tm_decode(g->reg, g->pkt, data, h->caplen, len, g->linktype);
	tm_svc_count(g->cnt, g->pkt, h->caplen);
	tm_tracker_packet(g->trk, g->pkt, ts, g->cnt->frames, &d);
	if (!d.stored)
		g->cut++;
	else if (tm_capture_packet(g->cap, ts, data, h->caplen, len,
	    g->linktype, &d))
		g->failed = 1;
	g->last_ts = ts;
}

/* Says what ingest_one did not take as it was (stderr, even with -q:
 * nothing is left out silently). */
static void odd_frames(const struct ingest *g, const char *src)
{
	if (g->empty || g->bad_time)
		fprintf(stderr, "tm: %s: %" PRIu64 " frames not stored (the "
		    "first is frame %" PRIu64 "): %" PRIu64 " with no bytes "
		    "and no length, %" PRIu64 " with a time a pcap cannot "
		    "hold (before 1970, from 2106 on)\n", src,
		    g->empty + g->bad_time, g->first_odd, g->empty,
		    g->bad_time);
	if (g->long_cap)
		fprintf(stderr, "tm: %s: %" PRIu64 " frames captured beyond "
		    "their wire length: stored with the wire length raised "
		    "to the captured length\n", src, g->long_cap);
}

static void live_cb(u_char *arg, const struct pcap_pkthdr *h,
    const u_char *data)
{
	struct ingest *g = (struct ingest *)arg;

	if (!g->failed)
		ingest_one(g, h, data);
}

/* ---- signals ----------------------------------------------------------------- */

static volatile sig_atomic_t g_stop, g_hup;
static pcap_t *volatile g_pcap;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		g_hup = 1;
	else
		g_stop = 1;
	if (g_pcap)
		pcap_breakloop(g_pcap);
}

static void signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- SIGHUP: the classes again ----------------------------------------------- */

struct reload {
	const char *conf, *cutoff;
	struct tm_config *old[64];	/* kept: rare, and still referenced
					 * by nothing once replaced */
	size_t n_old;
	struct tm_config *cur;		/* NULL: the first (cfg) */
};

static void do_reload(struct reload *rl, const struct tm_config *first,
    struct tm_tracker *trk, struct tm_service *svc)
{
	const struct tm_classes *was = rl->cur ? &rl->cur->classes :
	    &first->classes;
	struct tm_config *n;
	char err[1024];
	int same = 1;

	if (!rl->conf) {
		fprintf(stderr, "tm: SIGHUP: no configuration file (-c) to "
		    "reload\n");
		return;
	}
	if (rl->n_old == sizeof(rl->old) / sizeof(rl->old[0])) {
		fprintf(stderr, "tm: SIGHUP: too many reloads; restart\n");
		return;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	tm_config_defaults(n);
	if (tm_config_load(n, rl->conf, err, sizeof(err)) ||
	    tm_config_compile(n, NULL, NULL, err, sizeof(err)) ||
	    (rl->cutoff && tm_config_set_cutoff(n, rl->cutoff, err,
	    sizeof(err)))) {
		fprintf(stderr, "tm: SIGHUP: %s; the classes stay as they "
		    "were\n", err);
		tm_config_free(n);
		free(n);
		return;
	}
	if (n->classes.n != was->n)
		same = 0;
	for (size_t i = 0; same && i < was->n; i++)
		if (strcmp(n->classes.v[i].name, was->v[i].name) != 0)
			same = 0;
	if (!same) {
		fprintf(stderr, "tm: SIGHUP: %s: the class names differ "
		    "(a class added, removed, renamed or moved): that needs "
		    "a restart; the classes stay as they were\n", rl->conf);
		tm_config_free(n);
		free(n);
		return;
	}
	tm_tracker_set_classes(trk, &n->classes);
	tm_service_classes(svc, &n->classes);
	if (rl->cur)
		rl->old[rl->n_old++] = rl->cur;
	rl->cur = n;
	fprintf(stderr, "tm: SIGHUP: %s reloaded (%zu classes: filters, "
	    "precedence, cutoffs and snap lengths; the other sections take "
	    "a restart)\n", rl->conf, n->classes.n);
}

static void reload_free(struct reload *rl)
{
	for (size_t i = 0; i < rl->n_old; i++) {
		tm_config_free(rl->old[i]);
		free(rl->old[i]);
	}
	if (rl->cur) {
		tm_config_free(rl->cur);
		free(rl->cur);
	}
}

static int64_t wall_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- the command ---------------------------------------------------------------- */

int tm_cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cutoff", required_argument, NULL, 'C' },
		{ "no-ndpi", no_argument, NULL, 'N' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "serve", no_argument, NULL, 'S' },
		{ "no-control", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct tm_config cfg;
	struct tm_ndpi *ndpi = NULL;
	struct tm_registry *reg = NULL;
	struct tm_packet *pkt = NULL;
	struct tm_tracker *trk = NULL;
	struct tm_capture *cap = NULL;
	struct tm_ipfix *ipfix = NULL;
	struct tm_service *svc = NULL;
	struct tm_svc_counters *cnt = NULL;
	struct tm_capture_opts co;
	struct tm_tracker_opts to;
	struct tm_service_opts sopt;
	struct progress pg;
	struct ingest g;
	struct reload rl;
	const char *file = NULL, *conf = NULL, *cutoff = NULL, *store = NULL;
	const char *iface = NULL, *user = NULL;
	char *filter = NULL;
	int opt, rc = 0, no_ndpi = 0, quiet = 0, serve = 0, no_control = 0;
	int wake_fd = -1;
	unsigned long max_conns = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	char err[1024];
	pcap_t *p = NULL;
	struct tm_pcapread *rd = NULL;
	struct phases ph;

	optind = 1;
	memset(&rl, 0, sizeof(rl));
	memset(&g, 0, sizeof(g));
	g_stop = g_hup = 0;
	g_pcap = NULL;
	signals();	/* first: a SIGHUP while the store opens is kept */
	while ((opt = getopt_long(argc, argv, "r:i:s:c:u:qh", longopts,
	    NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);
		char *end;

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 'r': file = optarg; break;
		case 'i': iface = optarg; break;
		case 's': store = optarg; break;
		case 'c': conf = optarg; break;
		case 'u': user = optarg; break;
		case 'C': cutoff = optarg; break;
		case 'N': no_ndpi = 1; break;
		case 'q': quiet = 1; break;
		case 'S': serve = 1; break;
		case 'X': no_control = 1; break;
		case 'M':
			max_conns = strtoul(optarg, &end, 10);
			if (*end || max_conns < 1 || max_conns > 100000000) {
				fprintf(stderr, "tm: --max-conns: '%s' is not "
				    "a number from 1 to 100000000\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!store || (file && iface) || (file && optind != argc) ||
	    (file && user)) {
		usage(stderr);
		return 2;
	}
	if (tm_flows_setup(conf, cutoff, no_ndpi ? TM_NDPI_OFF :
	    TM_NDPI_CONFIG, (unsigned)max_conns, &cfg, &ndpi))
		return 2;
	if (!file && !iface)
		iface = cfg.capture.interface;
	if (!file && !iface) {
		fprintf(stderr, "tm: capture: -r FILE or -i IFACE (or "
		    "capture.interface in the configuration) is needed\n");
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (iface && optind < argc) {
		filter = tm_cli_join(argc - optind, argv + optind);
		if (!filter) {
			rc = 1;
			goto out;
		}
		free(cfg.capture.filter);
		cfg.capture.filter = filter;	/* the config frees it */
		filter = NULL;
		cfg.capture.filter_line = 0;
	}
	if (!user)
		user = cfg.capture.user;
	rl.conf = conf;
	rl.cutoff = cutoff;
	ph.t0 = now_s();
	reg = malloc(sizeof(*reg));
	pkt = malloc(sizeof(*pkt));
	cnt = calloc(1, sizeof(*cnt));
	if (!reg || !pkt || !cnt) {
		fprintf(stderr, "tm: out of memory\n");
		free(reg);
		reg = NULL;
		rc = 1;
		goto out;
	}
	if (tm_cli_setup(reg, &plug, 0)) {
		free(reg);
		reg = NULL;
		rc = 2;
		goto out;
	}
	if (iface) {
		int bad_filter = 0;

		p = tm_live_open(iface, &cfg.capture, cfg.capture.filter_line ?
		    conf : NULL, &g.nano, &bad_filter, stderr, err,
		    sizeof(err));
		if (!p) {
			fprintf(stderr, "tm: %s\n", err);
			rc = bad_filter ? 2 : 1;	/* 2: the user's mistake */
			goto out;
		}
	} else {
		p = tm_pcap_open_file(file);
		if (!p) {
			rc = 1;
			goto out;
		}
		g.nano = 1;	/* opened with nanosecond precision */
		rd = tm_pcapread_open(file, p);	/* NULL: libpcap reads */
	}

	memset(&co, 0, sizeof(co));
	co.root = store;
	co.classes = &cfg.classes;
	co.store.segment_size = cfg.storage.segment_size;
	co.store.segment_age_ns = cfg.storage.segment_age_ns;
	co.store.disk = cfg.storage.disk;
	co.store.dir_interval = cfg.storage.dir_interval;
	co.store.memory = cfg.storage.memory;
	co.store.flows_disk = cfg.storage.flows_disk;
	co.store.flows_segment_size = cfg.storage.flows_segment_size;
	/* a file waits and loses nothing; an interface cannot be paused */
	co.ring_flags = iface ? TM_RING_DROP : TM_RING_WAIT;
	co.reg = reg;
	co.ctx_mask = cfg.ctx_mask;
	co.progress = !quiet && isatty(STDERR_FILENO);
	co.log = stderr;
	co.cid_seed = cfg.cid_seed;
	if (cfg.ipfix.collector) {
		struct tm_ipfix_conf xc = cfg.ipfix;

		/* an interface cannot wait for a slow collector */
		xc.drop_when_full = iface != NULL;
		ipfix = tm_ipfix_open(&xc, err, sizeof(err));
		if (!ipfix) {
			fprintf(stderr, "tm: export.ipfix: %s\n", err);
			rc = 2;
			goto out;
		}
		co.ipfix = ipfix;
	}
	cap = tm_capture_open(&co, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "tm: %s\n", err);
		rc = 1;
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
	to.app_fn = tm_capture_app;
	to.ref_fn = tm_capture_ref;
	to.app_arg = cap;
	to.defer_cid = 1;	/* the writer thread hashes */
	trk = tm_tracker_new(&to, tm_capture_flow, cap, err, sizeof(err));
	if (!trk || tm_capture_bind(cap, trk)) {
		fprintf(stderr, "tm: %s\n", trk ? "out of memory" : err);
		rc = 1;
		goto out;
	}
	if (iface) {
		/* non-blocking reads and poll(2): the loop wakes for packets,
		 * for a client's request (the eventfd) and every buffer
		 * timeout, even when no packet comes */
		char eb[PCAP_ERRBUF_SIZE];

		wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (wake_fd < 0 || pcap_setnonblock(p, 1, eb) != 0 ||
		    pcap_get_selectable_fd(p) < 0) {
			fprintf(stderr, "tm: %s: cannot poll the interface\n",
			    iface);
			rc = 1;
			goto out;
		}
		tm_capture_set_wake(cap, wake_fd);
	}
	g.reg = reg;
	g.pkt = pkt;
	g.trk = trk;
	g.cap = cap;
	g.cnt = cnt;
	g.linktype = tm_linktype_of(p);

	if ((iface && !no_control) || serve) {
		memset(&sopt, 0, sizeof(sopt));
		sopt.store = store;
		sopt.cfg = &cfg;
		sopt.conf_file = conf;
		sopt.cap = cap;
		sopt.trk = trk;
		sopt.reg = reg;
		sopt.cnt = cnt;
		sopt.pcap = iface ? p : NULL;
		sopt.source = iface ? iface : file;
		sopt.wake_fd = wake_fd;
		sopt.plug = &plug;
		sopt.log = stderr;
		svc = tm_service_start(&sopt, err, sizeof(err));
		if (!svc) {
			fprintf(stderr, "tm: control socket: %s\n", err);
			rc = 1;
			goto out;
		}
	}
	if (iface && user) {
		if (tm_drop_privileges(user, store, svc ?
		    tm_service_socket(svc) : NULL, err, sizeof(err))) {
			fprintf(stderr, "tm: %s\n", err);
			rc = 1;
			goto out;
		}
	}
	g_pcap = p;

	memset(&pg, 0, sizeof(pg));
	pg.on = !quiet && isatty(STDERR_FILENO);
	pg.t0 = pg.last = now_s();
	pg.f = iface ? NULL : pcap_file(p);
	pg.rd = rd;
	if (pg.f) {
		struct stat sb;

		if (fstat(fileno(pg.f), &sb) == 0 && S_ISREG(sb.st_mode))
			pg.size = (uint64_t)sb.st_size;
	}
	if (iface) {
		if (!quiet)
			fprintf(stderr, "tm: capturing on %s into %s\n", iface,
			    store);
		struct pollfd pf[2];
		int tmo = (int)(cfg.capture.timeout_ns / 1000000);

		pf[0].fd = pcap_get_selectable_fd(p);
		pf[0].events = POLLIN;
		pf[1].fd = wake_fd;
		pf[1].events = POLLIN;
		while (!g_stop && !g.failed) {
			int n = pcap_dispatch(p, -1, live_cb, (u_char *)&g);
			int64_t now = wall_now();

			if (n < 0 && n != PCAP_ERROR_BREAK) {
				fprintf(stderr, "\ntm: %s: %s\n", iface,
				    pcap_geterr(p));
				rc = 1;
				break;
			}
			if (n == 0 && poll(pf, 2, tmo > 0 ? tmo : 100) > 0 &&
			    (pf[1].revents & POLLIN)) {
				uint64_t v;
				ssize_t k = read(wake_fd, &v, sizeof(v));

				(void)k;	/* cleared: the requests follow */
			}
			tm_tracker_tick(trk, now);
			tm_capture_tick(cap, now > g.last_ts ? now : g.last_ts);
			tm_service_poll(svc);
			if (g_hup) {
				g_hup = 0;
				do_reload(&rl, &cfg, trk, svc);
			}
			if (pg.on)
				show_progress(&pg, p, cnt->frames,
				    cnt->frames - g.cut, 0);
		}
	} else {
		for (;;) {
			int r = tm_pcap_next(p, rd, &h, &data);

			if (r == PCAP_ERROR_BREAK)
				break;
			if (r != 1) {
				fprintf(stderr, "\ntm: %s: after frame %" PRIu64
				    ": %s\n", file, cnt->frames,
				    tm_pcap_geterr(p, rd));
				rc = 1;
				break;
			}
			ingest_one(&g, h, data);
			if (g.failed)
				break;		/* the writer failed: said below */
			if ((cnt->frames & 4095) == 0) {
				tm_capture_tick(cap, g.last_ts);
				tm_service_poll(svc);
				if (g_hup) {
					g_hup = 0;
					do_reload(&rl, &cfg, trk, svc);
				}
				if (g_stop)
					break;
				if (pg.on && (cnt->frames & 65535) == 0)
					show_progress(&pg, p, cnt->frames,
					    cnt->frames - g.cut, 0);
			}
		}
	}
	g_pcap = NULL;
	odd_frames(&g, iface ? iface : file);
	ph.read = now_s();
	tm_service_close(svc);		/* calls fail; queries go on */
	if (!tm_capture_failed(cap))
		tm_tracker_finish(trk);		/* the last flow records */
	ph.flows = now_s();
	show_progress(&pg, p, cnt->frames, cnt->frames - g.cut, 1);
	if (tm_capture_finish(cap, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		fprintf(stderr, "tm: stopped after %" PRIu64 " packets; what "
		    "was published in %s is intact\n", cnt->frames, store);
		rc = 1;
	}
	ph.end = now_s();
	{
		struct timespec ts;

		ph.reader_cpu = clock_gettime(CLOCK_THREAD_CPUTIME_ID,
		    &ts) == 0 ? (double)ts.tv_sec + ts.tv_nsec / 1e9 : 0;
	}
	tm_service_stop(svc);		/* waits for its clients */
	svc = NULL;
	if (!quiet) {
		summary(cap, cnt->frames, cnt->bytes, g.cut, &ph, trk, cnt,
		    reg, ndpi);
		if (iface) {
			struct pcap_stat ps;

			if (pcap_stats(p, &ps) == 0)
				printf("kernel            %u received, %u "
				    "dropped, %u dropped by the interface\n",
				    ps.ps_recv, ps.ps_drop, ps.ps_ifdrop);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("tm: standard output");
		rc = 1;
	}
out:
	tm_service_stop(svc);
	tm_capture_free(cap);	/* before the tracker: it may still call */
	cap = NULL;
	if (ipfix) {	/* after the writer, which hands it the records */
		struct tm_ipfix_stats xs;

		tm_ipfix_flush(ipfix);
		tm_ipfix_get_stats(ipfix, &xs);
		if (xs.lost || xs.dropped)
			fprintf(stderr, "tm: ipfix: %llu of %llu records not "
			    "sent: %s\n", (unsigned long long)(xs.lost +
			    xs.dropped), (unsigned long long)(xs.records +
			    xs.lost + xs.dropped), xs.last_error);
		tm_ipfix_close(ipfix);
	}
	tm_pcapread_close(rd);
	if (p)
		pcap_close(p);
	tm_tracker_free(trk);
	if (reg) {
		tm_cli_teardown(reg);
		free(reg);
	}
	free(pkt);
	free(cnt);
	free(filter);
	reload_free(&rl);
	tm_ndpi_free(ndpi);
	tm_config_free(&cfg);
	if (wake_fd >= 0)
		close(wake_fd);
	return rc;
}
