/* tm: the timemachine command. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifndef TM_VERSION
#define TM_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "decode", tm_cmd_decode, "layers, key and events of each packet" },
	{ "plugins", tm_cmd_plugins, "dissector modules loaded and refused" },
	{ "flows", tm_cmd_flows, "one flow record per connection of a capture" },
	{ "plan", tm_cmd_plan, "which cutoff: bytes kept and disk time per cutoff" },
	{ "capture", tm_cmd_capture, "store a capture: pcap segments, indexes, flows" },
	{ "store", tm_cmd_store, "a store's contents (info) and integrity (check)" },
	{ "query", tm_cmd_query, "packets of a store an expression selects, as pcap" },
	{ "serve", tm_cmd_serve, "answer the control socket for a store (no capture)" },
	{ "stats", tm_cmd_stats, "what a running tm has seen (--connect ADDR)" },
	{ "ctl", tm_cmd_ctl, "ping, flush, set-cutoff: ask a running tm to act" },
	{ "frontend", tm_cmd_frontend, "one query front-end for several tm services" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: tm COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "\n'tm COMMAND --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tm %s\n", TM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
