/* `tm decode`: the layer stack and key of every packet of a capture. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "decode.h"
#include "pcapfile.h"
#include "pktfmt.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm decode -r FILE [--json] [--nano] [--plugin-dir DIR]...\n"
	    "Prints the layers, normalized key fields, tunnels and events of\n"
	    "each packet of FILE (pcap or pcapng; '-' reads standard input).\n"
	    "  -r FILE             the capture to read\n"
	    "  --json              one JSON object per line\n"
	    "  --nano              timestamps in nanoseconds (default: micro)\n"
	    "  -c COUNT            stop after COUNT packets\n"
	    TM_CLI_PLUGIN_HELP);
}

int tm_cmd_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "nano", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct tm_registry *reg;
	struct tm_packet *pkt;
	const char *file = NULL;
	int json = 0, nano = 0, opt, rc = 0;
	unsigned long long limit = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct tm_frame_meta m = { 0 };
	pcap_t *p;
	uint16_t linktype;
	static char outbuf[1 << 20];

	while ((opt = getopt_long(argc, argv, "r:c:h", longopts, NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 'r': file = optarg; break;
		case 'j': json = 1; break;
		case 'n': nano = 1; break;
		case 'c': limit = strtoull(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}
	reg = malloc(sizeof(*reg));
	pkt = malloc(sizeof(*pkt));
	if (!reg || !pkt) {
		fprintf(stderr, "tm: out of memory\n");
		free(reg);
		free(pkt);
		return 1;
	}
	if (tm_cli_setup(reg, &plug, 0)) {
		free(reg);
		free(pkt);
		return 2;
	}
	p = tm_pcap_open_file(file);
	if (!p) {
		rc = 1;
		goto out;
	}
	linktype = tm_linktype_of(p);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	m.nanos = nano;
	for (;;) {
		int r = pcap_next_ex(p, &h, &data);

		if (r == PCAP_ERROR_BREAK)
			break;
		if (r != 1) {
			fflush(stdout);
			fprintf(stderr, "tm: %s: after frame %llu: %s\n", file,
			    (unsigned long long)m.frame, pcap_geterr(p));
			rc = 1;
			break;
		}
		m.frame++;
		m.ts_sec = (int64_t)h->ts.tv_sec;
		m.ts_frac = nano ? (uint32_t)h->ts.tv_usec :
		    (uint32_t)h->ts.tv_usec / 1000u;
		tm_decode(reg, pkt, data, h->caplen, h->len, linktype);
		if (json)
			tm_print_json(stdout, reg, &m, pkt);
		else
			tm_print_text(stdout, reg, &m, pkt);
		if (limit && m.frame >= limit)
			break;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("tm: standard output");
		rc = 1;
	}
	pcap_close(p);
out:
	tm_cli_teardown(reg);
	free(reg);
	free(pkt);
	return rc;
}
