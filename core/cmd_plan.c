/*
 * `tm plan`: which cutoff? From a sample of traffic, for each candidate
 * cutoff, the share of connections kept whole, the share of bytes stored,
 * and how long a disk budget lasts at the sample's rate: the analysis the
 * Time Machine papers did by hand.
 *
 * One pass: for every packet the connection's byte count (this packet
 * included) says under which candidates it is stored (count <= cutoff, or
 * a control packet); a connection is whole under a candidate when its last
 * non-control packet was stored.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "decode.h"
#include "flow.h"
#include "ndpi_glue.h"
#include "pcapfile.h"
#include "tracker.h"

static const struct {
	const char *name;
	uint64_t bytes;
} cand[] = {
	{ "1k", 1024 }, { "2k", 2048 }, { "5k", 5120 }, { "10k", 10240 },
	{ "20k", 20480 }, { "50k", 51200 }, { "100k", 102400 },
	{ "1m", 1048576 }, { "none", UINT64_MAX },
};
#define N_CAND (sizeof(cand) / sizeof(cand[0]))

struct plan {
	struct tm_tracker *trk;
	uint64_t *last_data;	/* per pool entry: byte count at the last
				 * non-control packet */
	uint64_t conns;
	uint64_t whole[N_CAND];
	uint64_t stored[N_CAND];
	uint64_t bytes, packets;
	int64_t first_ts, last_ts;
};

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm plan -r FILE [--disk SIZE] [-c CONF] [--json]\n"
	    "For candidate cutoffs from 1k to 1m and none, how many of the\n"
	    "sample's connections are kept whole, what share of its bytes is\n"
	    "stored, and how long a disk of SIZE lasts at the sample's rate.\n"
	    "  -r FILE             a sample of the traffic (pcap or pcapng)\n"
	    "  --disk SIZE         disk budget, e.g. 500g or 2t\n"
	    "  -c CONF             connection settings (timeouts, context)\n"
	    "  --max-conns N       connections.max\n"
	    "  --json              one JSON object per candidate\n"
	    TM_CLI_PLUGIN_HELP);
}

static void on_flow(const struct tm_flow_rec *f, void *arg)
{
	struct plan *pl = arg;
	uint64_t last = pl->last_data[f->index];

	pl->conns++;
	for (size_t i = 0; i < N_CAND; i++)
		if (last <= cand[i].bytes)
			pl->whole[i]++;
}

static void human_bytes(char *buf, size_t len, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
		"PiB" };
	int u = 0;

	while (b >= 1024 && u < 5) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void human_secs(char *buf, size_t len, double s)
{
	if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.1f min", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.1f h", s / 3600);
	else if (s < 3 * 365.25 * 86400)
		snprintf(buf, len, "%.1f days", s / 86400);
	else
		snprintf(buf, len, "%.1f years", s / (365.25 * 86400));
}

static void report(const struct plan *pl, const char *file, uint64_t disk,
    int json)
{
	double dur = (double)(pl->last_ts - pl->first_ts) / 1e9;
	char a[64], b[64], c[64];

	if (dur <= 0)
		dur = 0;
	if (json) {
		for (size_t i = 0; i < N_CAND; i++) {
			double rate = dur > 0 ? (double)pl->stored[i] / dur : 0;

			printf("{\"cutoff\":\"%s\",\"cutoff_bytes\":", cand[i].name);
			if (cand[i].bytes == UINT64_MAX)
				printf("null");
			else
				printf("%" PRIu64, cand[i].bytes);
			printf(",\"connections\":%" PRIu64 ",\"whole\":%" PRIu64
			    ",\"whole_share\":%.6f,\"bytes\":%" PRIu64
			    ",\"stored_bytes\":%" PRIu64 ",\"stored_share\":%.6f"
			    ",\"sample_seconds\":%.6f,\"stored_bytes_per_s\":%.3f"
			    ",\"disk_lasts_s\":", pl->conns, pl->whole[i],
			    pl->conns ? (double)pl->whole[i] / (double)pl->conns
			    : 1.0, pl->bytes, pl->stored[i], pl->bytes ?
			    (double)pl->stored[i] / (double)pl->bytes : 1.0, dur,
			    rate);
			if (disk && rate > 0)
				printf("%.1f}\n", (double)disk / rate);
			else
				printf("null}\n");
		}
		return;
	}
	human_bytes(a, sizeof(a), (double)pl->bytes);
	human_secs(b, sizeof(b), dur);
	printf("sample %s: %" PRIu64 " packets, %s, %" PRIu64
	    " connections over %s", file, pl->packets, a, pl->conns, b);
	if (dur > 0)
		printf(" (%.1f Mbit/s)", (double)pl->bytes * 8 / dur / 1e6);
	printf("\n");
	if (disk) {
		human_bytes(a, sizeof(a), (double)disk);
		printf("disk budget %s\n", a);
	}
	printf("\n%-7s %12s %13s %14s%s\n", "cutoff", "conns whole",
	    "bytes stored", "stored per day", disk ? "   disk lasts" : "");
	for (size_t i = 0; i < N_CAND; i++) {
		double rate = dur > 0 ? (double)pl->stored[i] / dur : 0;

		human_bytes(a, sizeof(a), rate * 86400);
		printf("%-7s %11.1f%% %12.1f%% %14s", cand[i].name,
		    pl->conns ? 100.0 * (double)pl->whole[i] /
		    (double)pl->conns : 100.0, pl->bytes ? 100.0 *
		    (double)pl->stored[i] / (double)pl->bytes : 100.0,
		    dur > 0 ? a : "-");
		if (disk) {
			if (rate > 0)
				human_secs(c, sizeof(c), (double)disk / rate);
			else
				snprintf(c, sizeof(c), "-");
			printf("   %10s", c);
		}
		printf("\n");
	}
}

int tm_cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "disk", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct tm_config cfg;
	struct tm_ndpi *ndpi = NULL;
	struct tm_registry *reg = NULL;
	struct tm_packet *pkt = NULL;
	struct tm_tracker_opts to;
	struct plan pl;
	const char *file = NULL, *conf = NULL;
	uint64_t disk = 0;
	unsigned long max_conns = 0;
	int opt, rc = 0, json = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frame = 0;
	char err[512];
	pcap_t *p = NULL;
	uint16_t linktype;

	memset(&pl, 0, sizeof(pl));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:c:h", longopts, NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);
		char *end;

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 'r': file = optarg; break;
		case 'c': conf = optarg; break;
		case 'j': json = 1; break;
		case 'D':
			if (tm_parse_size(optarg, 0, &disk) || disk == 0) {
				fprintf(stderr, "tm: --disk: '%s' is not a size "
				    "(e.g. 500g, 2t)\n", optarg);
				return 2;
			}
			break;
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
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* connection settings only: no nDPI, every packet counted */
	if (tm_flows_setup(conf, "none", TM_NDPI_UNUSED, (unsigned)max_conns,
	    &cfg, &ndpi))
		return 2;
	reg = malloc(sizeof(*reg));
	pkt = malloc(sizeof(*pkt));
	pl.last_data = calloc(cfg.conn.max, sizeof(*pl.last_data));
	if (!reg || !pkt || !pl.last_data) {
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
	memset(&to, 0, sizeof(to));
	to.conn = cfg.conn;
	to.ctx_mask = cfg.ctx_mask;
	to.classes = &cfg.classes;
	to.keep_control = cfg.keep_control;
	pl.trk = tm_tracker_new(&to, on_flow, &pl, err, sizeof(err));
	if (!pl.trk) {
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
	for (;;) {
		struct tm_decision d;
		int64_t ts;
		uint32_t idx;
		int control, r = pcap_next_ex(p, &h, &data);

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			fprintf(stderr, "tm: %s: after frame %llu: %s\n", file,
			    (unsigned long long)frame, pcap_geterr(p));
			rc = 1;
			break;
		}
		frame++;
		ts = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
		if (frame == 1 || ts < pl.first_ts)
			pl.first_ts = ts;
		if (ts > pl.last_ts)
			pl.last_ts = ts;
		tm_decode(reg, pkt, data, h->caplen, h->len, linktype);
		tm_tracker_packet(pl.trk, pkt, ts, frame, &d);
		idx = tm_conntab_index(tm_tracker_conns(pl.trk), d.conn);
		control = (pkt->flags & TM_PF_CONN_CONTROL) && cfg.keep_control;
		if (d.conn->pkts[0] + d.conn->pkts[1] == 1)
			pl.last_data[idx] = 0;
		if (!control)
			pl.last_data[idx] = d.total;
		pl.packets++;
		pl.bytes += pkt->len;
		for (size_t i = 0; i < N_CAND; i++)
			if (d.total <= cand[i].bytes || control)
				pl.stored[i] += pkt->len;
	}
	tm_tracker_finish(pl.trk);
	report(&pl, file, disk, json);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("tm: standard output");
		rc = 1;
	}
out:
	if (p)
		pcap_close(p);
	tm_tracker_free(pl.trk);
	free(pl.last_data);
	if (reg) {
		tm_cli_teardown(reg);
		free(reg);
	}
	free(pkt);
	tm_ndpi_free(ndpi);
	tm_config_free(&cfg);
	return rc;
}
