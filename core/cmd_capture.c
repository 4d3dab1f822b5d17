/*
 * `tm capture -r FILE -s STORE`: reads a capture at full speed through
 * decode, connections, classes and cutoffs into a store (pcap segments,
 * sidecar indexes, flow records), and exits once everything is durable.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "pcapfile.h"
#include "tracker.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm capture -r FILE -s STORE [-c CONF]\n"
	    "                  [--cutoff SIZE|none]\n"
	    "Stores the packets of FILE (pcap or pcapng) that the classes and\n"
	    "their cutoffs keep into STORE: pcap segments per class with a\n"
	    "sidecar index each, and the flow records. Starting on an\n"
	    "existing store continues it (a segment left open by a crash\n"
	    "is repaired). Exits once everything is synced and published.\n"
	    "  -r FILE             the capture to read ('-': standard input)\n"
	    "  -s STORE            the store directory (created if needed)\n"
	    "  -c CONF             the configuration (YAML); without it one\n"
	    "                      class, 'default', cutoff 20k\n"
	    "  --cutoff SIZE|none  every class's cutoff (20k = 20480 bytes)\n"
	    "  --no-ndpi           no application classification\n"
	    "  --max-conns N       connections.max\n"
	    "  -q, --quiet         no progress line and no summary\n"
	    TM_CLI_PLUGIN_HELP);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(char *buf, size_t len, uint64_t v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", d, u[i]);
}

struct progress {
	int on;
	double t0, last;
	uint64_t size;
	FILE *f;
};

static void show_progress(struct progress *pg, pcap_t *p, uint64_t frames,
    uint64_t stored, int final)
{
	double t = now_s();
	long long pos;

	if (!pg->on || (!final && t - pg->last < 0.25))
		return;
	pg->last = t;
	pos = pg->f ? (long long)ftello(pg->f) : -1;
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

/* Times of the phases: start, input read, last flow records, durable. */
struct phases {
	double t0, read, flows, end;
};

static void summary(const struct tm_capture *cap, uint64_t frames,
    uint64_t in_bytes, uint64_t cut, const struct phases *ph)
{
	double secs = ph->end - ph->t0;
	struct tm_capture_stats st;
	char a[32], b[32], c[32];

	tm_capture_get_stats(cap, &st);
	human(a, sizeof(a), in_bytes);
	printf("packets read      %" PRIu64 " (%s)\n", frames, a);
	printf("packets stored    %" PRIu64 "\n", st.packets);
	printf("packets cut off   %" PRIu64 "\n", cut);
	if (st.dropped)
		printf("packets dropped   %" PRIu64 "\n", st.dropped);
	human(a, sizeof(a), st.pcap_bytes);
	human(b, sizeof(b), st.idx_bytes);
	printf("segments          %" PRIu64 " published: %s, sidecars %s "
	    "(index/data %.2f%%)\n", st.segments, a, b, st.pcap_bytes ?
	    100.0 * (double)st.idx_bytes / (double)st.pcap_bytes : 0.0);
	if (st.deleted) {
		human(a, sizeof(a), st.deleted_bytes);
		printf("budgets           %" PRIu64 " old segments deleted "
		    "(%s)\n", st.deleted, a);
	}
	human(a, sizeof(a), st.flow_bytes);
	printf("flows             %" PRIu64 " records (%s)\n", st.flows, a);
	if (st.flows_dropped)
		printf("flows dropped     %" PRIu64 "\n", st.flows_dropped);
	for (size_t i = 0; i < tm_capture_n_classes(cap); i++) {
		struct tm_capture_class_stats cs;

		tm_capture_class_stats(cap, i, &cs);
		if (!cs.packets && !cs.segments && !cs.deleted)
			continue;
		human(a, sizeof(a), cs.pcap_bytes);
		human(b, sizeof(b), cs.idx_bytes);
		printf("class %-11s %" PRIu64 " packets, %" PRIu64
		    " segments, %s + %s index", cs.name, cs.packets,
		    cs.segments, a, b);
		if (cs.dropped)
			printf(", %" PRIu64 " dropped", cs.dropped);
		putchar('\n');
	}
	human(a, sizeof(a), st.store_bytes);
	human(c, sizeof(c), st.recovery.bytes);
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
}

int tm_cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cutoff", required_argument, NULL, 'C' },
		{ "no-ndpi", no_argument, NULL, 'N' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
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
	struct tm_capture_opts co;
	struct tm_tracker_opts to;
	struct progress pg;
	const char *file = NULL, *conf = NULL, *cutoff = NULL, *store = NULL;
	int opt, rc = 0, no_ndpi = 0, quiet = 0;
	unsigned long max_conns = 0;
	uint64_t frame = 0, cut = 0, in_bytes = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	char err[1024];
	pcap_t *p = NULL;
	uint16_t linktype;
	struct phases ph;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:s:c:qh", longopts,
	    NULL)) != -1) {
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
		case 'N': no_ndpi = 1; break;
		case 'q': quiet = 1; break;
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
	if (!file || !store || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (tm_flows_setup(conf, cutoff, no_ndpi ? TM_NDPI_OFF :
	    TM_NDPI_CONFIG, (unsigned)max_conns, &cfg, &ndpi))
		return 2;
	ph.t0 = now_s();
	reg = malloc(sizeof(*reg));
	pkt = malloc(sizeof(*pkt));
	if (!reg || !pkt) {
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
	p = tm_pcap_open_file(file);
	if (!p) {
		rc = 1;
		goto out;
	}
	linktype = tm_linktype_of(p);

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
	co.ring_flags = TM_RING_WAIT;	/* a file: wait, lose nothing */
	co.reg = reg;
	co.ctx_mask = cfg.ctx_mask;
	co.progress = !quiet && isatty(STDERR_FILENO);
	co.log = stderr;
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
	trk = tm_tracker_new(&to, tm_capture_flow, cap, err, sizeof(err));
	if (!trk || tm_capture_bind(cap, trk)) {
		fprintf(stderr, "tm: %s\n", trk ? "out of memory" : err);
		rc = 1;
		goto out;
	}

	memset(&pg, 0, sizeof(pg));
	pg.on = !quiet && isatty(STDERR_FILENO);
	pg.t0 = pg.last = now_s();
	pg.f = pcap_file(p);
	if (pg.f) {
		struct stat sb;

		if (fstat(fileno(pg.f), &sb) == 0 && S_ISREG(sb.st_mode))
			pg.size = (uint64_t)sb.st_size;
	}
	for (;;) {
		struct tm_decision d;
		int64_t ts;
		int r = pcap_next_ex(p, &h, &data);

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			fprintf(stderr, "\ntm: %s: after frame %" PRIu64
			    ": %s\n", file, frame, pcap_geterr(p));
			rc = 1;
			break;
		}
		frame++;
		in_bytes += h->caplen;
		/* opened with nanosecond precision: tv_usec holds ns */
		ts = (int64_t)h->ts.tv_sec * 1000000000 +
		    (int64_t)h->ts.tv_usec;
		tm_decode(reg, pkt, data, h->caplen, h->len, linktype);
		tm_tracker_packet(trk, pkt, ts, frame, &d);
		if (!d.stored)
			cut++;
		else if (tm_capture_packet(cap, ts, data, h->caplen, h->len,
		    linktype, &d))
			break;		/* the writer failed: said below */
		if ((frame & 4095) == 0) {
			tm_capture_tick(cap, ts);
			if (pg.on && (frame & 65535) == 0)
				show_progress(&pg, p, frame,
				    frame - cut, 0);
		}
	}
	ph.read = now_s();
	if (!tm_capture_failed(cap))
		tm_tracker_finish(trk);		/* the last flow records */
	ph.flows = now_s();
	show_progress(&pg, p, frame, frame - cut, 1);
	if (tm_capture_finish(cap, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		fprintf(stderr, "tm: stopped after %" PRIu64 " packets; what "
		    "was published in %s is intact\n", frame, store);
		rc = 1;
	}
	ph.end = now_s();
	if (!quiet)
		summary(cap, frame, in_bytes, cut, &ph);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("tm: standard output");
		rc = 1;
	}
out:
	tm_capture_free(cap);	/* before the tracker: it may still call */
	cap = NULL;
	if (p)
		pcap_close(p);
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
